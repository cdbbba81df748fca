package whatsapp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"strconv"
	"strings"
	"time"

	"onedesk/channels/graph"
	"onedesk/channels/social"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// Message is a customer's WhatsApp message as the webhook carries it.
type Message struct {
	From      string `json:"from"` // the customer's wa_id: their phone number without +
	ID        string `json:"id"`   // wamid.…
	Timestamp string `json:"timestamp"`
	Type      string `json:"type"`
	Text      *struct {
		Body string `json:"body"`
	} `json:"text"`
	Image    *Media `json:"image"`
	Document *Media `json:"document"`
	Audio    *Media `json:"audio"`
	Video    *Media `json:"video"`
	Sticker  *Media `json:"sticker"`
	Location *struct {
		Latitude  float64 `json:"latitude"`
		Longitude float64 `json:"longitude"`
		Name      string  `json:"name"`
		Address   string  `json:"address"`
	} `json:"location"`
	Contacts []struct {
		Name struct {
			FormattedName string `json:"formatted_name"`
		} `json:"name"`
		Phones []struct {
			Phone string `json:"phone"`
		} `json:"phones"`
		Emails []struct {
			Email string `json:"email"`
		} `json:"emails"`
	} `json:"contacts"`
	Reaction *struct {
		MessageID string `json:"message_id"`
		Emoji     string `json:"emoji"`
	} `json:"reaction"`
	Button *struct {
		Text string `json:"text"`
	} `json:"button"`
	Interactive *struct {
		ButtonReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"button_reply"`
		ListReply *struct {
			ID    string `json:"id"`
			Title string `json:"title"`
		} `json:"list_reply"`
	} `json:"interactive"`
}

// Media is a file of a message, fetched by its id.
type Media struct {
	ID       string `json:"id"`
	MimeType string `json:"mime_type"`
	Caption  string `json:"caption"`
	Filename string `json:"filename"`
	Voice    bool   `json:"voice"`
}

// Status is what WhatsApp says about a message the business sent.
type Status struct {
	ID          string `json:"id"`
	Status      string `json:"status"` // sent, delivered, read, failed
	Timestamp   string `json:"timestamp"`
	RecipientID string `json:"recipient_id"`
	Errors      []struct {
		Code      int    `json:"code"`
		Title     string `json:"title"`
		Message   string `json:"message"`
		ErrorData struct {
			Details string `json:"details"`
		} `json:"error_data"`
	} `json:"errors"`
}

// handleQueued works off one queued item: a message or a status.
func (c *Channel) handleQueued(ctx context.Context, a *store.SocialAccount, payload []byte) error {
	var it item
	if err := json.Unmarshal(payload, &it); err != nil {
		return nil // not ours: dropped
	}
	n := &number{acct: a, cfg: parseConfig(a)}
	switch {
	case it.Message != nil:
		var m Message
		if err := json.Unmarshal(it.Message, &m); err != nil {
			return nil
		}
		return c.receive(ctx, n, it.Contact, &m)
	case it.Status != nil:
		var s Status
		if err := json.Unmarshal(it.Status, &s); err != nil {
			return nil
		}
		return c.status(ctx, &s)
	}
	return nil
}

// phone is a wa_id as onedesk writes phone numbers (E.164).
func phone(waID string) string { return "+" + strings.TrimPrefix(waID, "+") }

// receive turns a customer's message into a ticket's message: text,
// captions, files downloaded as attachments, contacts and locations as
// readable text, reactions and kinds onedesk cannot show noted in words.
// The customer is known by their WhatsApp number, which is also their
// phone: a customer with that phone on record gets the message.
func (c *Channel) receive(ctx context.Context, n *number, contact *Contact, m *Message) error {
	if m.From == "" || m.ID == "" {
		return nil
	}
	if id := m.choice(); id != "" && c.desk.IsChoice(id) {
		// A button of one of the desk's messages (a survey's rating): the
		// desk records it; it is not the customer's words on the ticket.
		_, _, err := c.desk.Choose(ctx, "whatsapp", id)
		var ie *desk.InputError
		if errors.As(err, &ie) {
			c.log.Info("whatsapp: a button answer was refused", "err", err)
			return nil
		}
		return err
	}
	media := m.media()
	if media != nil {
		if seen, err := c.desk.Received(ctx, "whatsapp", m.ID); err != nil || seen {
			return err // a repeat's file is not downloaded again (Ingest keeps it once anyway)
		}
	}
	text := m.text()
	var files []store.Attachment
	if media != nil {
		f, skipped, err := c.download(ctx, n, m, media)
		if err != nil {
			return err
		}
		if f != nil {
			files = append(files, *f)
		}
		if skipped != "" {
			text = strings.TrimSpace(text + "\n" + skipped)
		}
	}
	if strings.TrimSpace(text) == "" && len(files) == 0 {
		return nil // a reaction taken back, a message deleted
	}
	name := ""
	if contact != nil {
		name = strings.TrimSpace(contact.Profile.Name)
	}
	in := desk.Inbound{
		Channel: "whatsapp", StoreID: n.acct.StoreID,
		From: store.Identity{Kind: "whatsapp", Value: phone(m.From)}, Identities: []store.Identity{{Kind: "phone", Value: phone(m.From)}},
		Name: name, Text: text, Attachments: files, ExternalID: m.ID,
		Social: &desk.SocialThread{AccountID: n.acct.ID, ChatID: m.From},
	}
	_, err := c.desk.Ingest(ctx, in)
	return err
}

// choice is the id of the interactive button or list row a message
// answers ("" when it answers none).
func (m *Message) choice() string {
	switch {
	case m.Interactive == nil:
		return ""
	case m.Interactive.ButtonReply != nil:
		return m.Interactive.ButtonReply.ID
	case m.Interactive.ListReply != nil:
		return m.Interactive.ListReply.ID
	}
	return ""
}

// maxInteractiveBody is the longest text an interactive message takes.
const maxInteractiveBody = 1024

// interactive is a question with its choices as WhatsApp's reply buttons
// (three at most) or, with more, a list to open.
func interactive(body string, choices []desk.Choice) map[string]any {
	if len(choices) <= 3 {
		buttons := []map[string]any{}
		for _, ch := range choices {
			buttons = append(buttons, map[string]any{"type": "reply", "reply": map[string]any{"id": ch.Data, "title": ch.Label}})
		}
		return map[string]any{"type": "interactive", "interactive": map[string]any{"type": "button",
			"body": map[string]any{"text": body}, "action": map[string]any{"buttons": buttons}}}
	}
	rows := []map[string]any{}
	for _, ch := range choices {
		rows = append(rows, map[string]any{"id": ch.Data, "title": ch.Label})
	}
	return map[string]any{"type": "interactive", "interactive": map[string]any{"type": "list",
		"body": map[string]any{"text": body}, "action": map[string]any{"button": "⭐ 1–5",
			"sections": []map[string]any{{"rows": rows}}}}}
}

// media is the file a message carries, and the name it goes by.
func (m *Message) media() *Media {
	for _, f := range []*Media{m.Image, m.Document, m.Audio, m.Video, m.Sticker} {
		if f != nil && f.ID != "" {
			return f
		}
	}
	return nil
}

// text is what an agent reads of a message besides its file.
func (m *Message) text() string {
	switch {
	case m.Text != nil:
		return m.Text.Body
	case m.media() != nil:
		return m.media().Caption
	case m.Location != nil:
		l := m.Location
		where := strings.TrimSpace(strings.Join([]string{l.Name, l.Address}, "\n"))
		return strings.TrimSpace(fmt.Sprintf("📍 %s\nhttps://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f", where, l.Latitude, l.Longitude))
	case len(m.Contacts) > 0:
		var lines []string
		for _, ct := range m.Contacts {
			line := "👤 " + ct.Name.FormattedName
			for _, p := range ct.Phones {
				line += " " + p.Phone
			}
			for _, e := range ct.Emails {
				line += " " + e.Email
			}
			lines = append(lines, line)
		}
		return strings.Join(lines, "\n")
	case m.Reaction != nil:
		if m.Reaction.Emoji == "" {
			return "" // the reaction was taken back
		}
		return m.Reaction.Emoji + " (the customer reacted to a message)"
	case m.Button != nil:
		return m.Button.Text
	case m.Interactive != nil && m.Interactive.ButtonReply != nil:
		return m.Interactive.ButtonReply.Title
	case m.Interactive != nil && m.Interactive.ListReply != nil:
		return m.Interactive.ListReply.Title
	}
	kind := m.Type
	if kind == "" || kind == "unsupported" {
		kind = "unknown"
	}
	return fmt.Sprintf("[The customer sent a kind of WhatsApp message onedesk cannot show (%s): ask them to send it as text or a photo]", kind)
}

// download fetches a message's file (GET /{media-id} for its URL, then
// the URL with the token). A file over MaxFile stays at WhatsApp, with a
// line saying so.
func (c *Channel) download(ctx context.Context, n *number, m *Message, f *Media) (*store.Attachment, string, error) {
	name := f.Filename
	if name == "" {
		ext := ".bin"
		if exts, _ := mime.ExtensionsByType(f.MimeType); len(exts) > 0 {
			ext = exts[len(exts)-1]
		}
		switch {
		case m.Sticker != nil:
			name = "sticker"
		case f.Voice:
			name = "voice"
		default:
			name = m.Type
		}
		if name == "" {
			name = "file"
		}
		name += ext
	}
	var info struct {
		URL      string `json:"url"`
		MimeType string `json:"mime_type"`
		FileSize int64  `json:"file_size"`
	}
	cl := c.client(n.cfg.AccessToken)
	tooBig := func(size int64) string {
		return fmt.Sprintf("[%s (%.1f MB) was not downloaded: onedesk takes files up to %d MB]", name, float64(size)/(1<<20), c.MaxFile>>20)
	}
	if err := cl.Get(ctx, f.ID, nil, &info); err != nil {
		return nil, "", fmt.Errorf("WhatsApp media %s: %w", f.ID, err)
	}
	if info.FileSize > c.MaxFile {
		return nil, tooBig(info.FileSize), nil
	}
	data, sniffed, err := cl.Download(ctx, info.URL, c.MaxFile, true)
	if errors.Is(err, social.ErrTooLarge) {
		return nil, tooBig(c.MaxFile + 1), nil
	}
	if err != nil {
		return nil, "", err
	}
	kind := f.MimeType
	if kind == "" {
		kind = info.MimeType
	}
	if kind == "" {
		kind = sniffed
	}
	if mt, _, err := mime.ParseMediaType(kind); err == nil {
		kind = mt
	}
	return &store.Attachment{Filename: social.FileName(name), ContentType: kind, Size: int64(len(data)), Data: data}, "", nil
}

// status records what WhatsApp says about a reply: delivered, read (when)
// or failed (why). "sent" is known already.
func (c *Channel) status(ctx context.Context, s *Status) error {
	at := time.Now()
	if sec, err := strconv.ParseInt(s.Timestamp, 10, 64); err == nil {
		at = time.Unix(sec, 0)
	}
	switch s.Status {
	case "delivered", "read":
		return c.desk.NoteReceipt(ctx, desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{s.ID}, Read: s.Status == "read", At: at})
	case "failed":
		reason := i18n.S("WhatsApp could not deliver the message")
		if len(s.Errors) > 0 {
			e := s.Errors[0]
			reason = plainReason(e.Code, e.Title)
		}
		return c.desk.NoteFailedDeliveryOf(ctx, "whatsapp", s.ID, reason)
	}
	return nil
}

// plainReason says in plain words why WhatsApp refused or could not
// deliver a message, for the agent who wrote it.
func plainReason(code int, title string) i18n.Sentence {
	switch code {
	case 190:
		return i18n.S("WhatsApp refused the access token: it expired or was revoked. An admin pastes a new one under Settings → Channels, then retry")
	case 131047:
		return i18n.S("More than 24 hours have passed since the customer last wrote, so WhatsApp only carries approved templates now: send a template from the reply box")
	case 131026:
		return i18n.S("WhatsApp could not deliver this message to the number (it may not be on WhatsApp, or the customer has to accept WhatsApp's new terms): send a template, or reach the customer another way")
	case 131030:
		return i18n.S("this number is not on the test number's list of allowed recipients: add it in Meta's dashboard (WhatsApp → API Setup)")
	case 131051:
		return i18n.S("WhatsApp does not take this kind of message")
	case 131052, 131053:
		return i18n.S("WhatsApp could not take the attached file: %s", title)
	case 132000, 132001, 132005, 132007, 132012, 132015, 132016:
		return i18n.S("WhatsApp refused the template (%s): check its name, language and values in WhatsApp Manager", title)
	case 131031:
		return i18n.S("WhatsApp has locked this business account: see WhatsApp Manager")
	}
	if title == "" {
		return i18n.S("WhatsApp refused the message (error %d)", code)
	}
	return i18n.S("WhatsApp refused the message: %s (error %d)", title, code)
}

// sendError makes a Graph error the outbox's: a refusal retrying cannot
// change fails the reply with the reason in plain words; throttling and
// Meta's own trouble are retried.
func sendError(err error) error {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return err
	}
	switch {
	case ge.Expired():
		return desk.Permanent(plainReason(190, "").Err())
	case ge.Temporary(), ge.Code == 130429, ge.Code == 131056, ge.Code == 131000, ge.Code == 131016:
		return err
	}
	return desk.Permanent(plainReason(ge.Code, ge.Message).Err())
}

// maxText is the longest text of one WhatsApp message.
const maxText = 4096

// sent is the answer to POST /{phone-number-id}/messages.
type sent struct {
	Messages []struct {
		ID string `json:"id"`
	} `json:"messages"`
}

// Send delivers an agent's reply to the ticket's WhatsApp chat: a
// template when the reply was sent as one, else its text (in parts when
// longer than WhatsApp takes), then its files (uploaded, then sent as an
// image or a document). A reply that fails part-way goes on from the part
// that failed (Outbound.SendParts). The first message's wamid is recorded as
// the reply's external id; WhatsApp's statuses find the reply by any
// part's. A question with choices (a survey's ratings) goes as one
// interactive message with buttons.
func (c *Channel) Send(ctx context.Context, out desk.Outbound) error {
	if out.Message.Kind != "agent" {
		return nil
	}
	th, a, err := out.ReplyAccount("a WhatsApp chat", "WhatsApp number")
	if err != nil {
		return err
	}
	cfg := parseConfig(a)
	cl := c.client(cfg.AccessToken)
	path := cfg.PhoneNumberID + "/messages"
	post := func(ctx context.Context, msg map[string]any) (string, error) {
		msg["messaging_product"], msg["recipient_type"], msg["to"] = "whatsapp", "individual", th.ChatID
		var res sent
		if err := cl.Post(ctx, path, msg, &res); err != nil {
			return "", sendError(err)
		}
		if len(res.Messages) == 0 {
			return "", nil
		}
		return res.Messages[0].ID, nil
	}
	tpl := out.Template
	// The messages of the reply: the template or the text's parts, then
	// the files.
	var texts []map[string]any
	if tpl != nil {
		params := []map[string]any{}
		for _, p := range tpl.Params {
			params = append(params, map[string]any{"type": "text", "text": p})
		}
		t := map[string]any{"name": tpl.Name, "language": map[string]any{"code": tpl.Language}}
		if len(params) > 0 {
			t["components"] = []any{map[string]any{"type": "body", "parameters": params}}
		}
		texts = append(texts, map[string]any{"type": "template", "template": t})
	} else if len(out.Choices) > 0 && len([]rune(out.Message.Body)) <= maxInteractiveBody {
		texts = append(texts, interactive(out.Message.Body, out.Choices))
	} else {
		for _, part := range social.SplitText(out.Message.Body, maxText) {
			texts = append(texts, map[string]any{"type": "text", "text": map[string]any{"body": part, "preview_url": false}})
		}
	}
	first, err := out.SendParts(ctx, len(texts)+len(out.Files), func(ctx context.Context, part int) (string, error) {
		if part < len(texts) {
			return post(ctx, texts[part])
		}
		full := out.Files[part-len(texts)]
		var up struct {
			ID string `json:"id"`
		}
		kind := full.ContentType
		if kind == "" {
			kind = "application/octet-stream"
		}
		err = cl.Upload(ctx, cfg.PhoneNumberID+"/media", map[string]string{"messaging_product": "whatsapp", "type": kind},
			graph.File{Field: "file", Name: full.Filename, ContentType: kind, Data: full.Data}, &up)
		if err != nil {
			return "", sendError(err)
		}
		typ, obj := "document", map[string]any{"id": up.ID, "filename": full.Filename}
		if (kind == "image/jpeg" || kind == "image/png") && full.Size <= 5<<20 {
			typ, obj = "image", map[string]any{"id": up.ID}
		}
		return post(ctx, map[string]any{"type": typ, typ: obj})
	})
	if err != nil {
		return err
	}
	out.SentAs(first)
	return nil
}
