package meta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/url"
	"path"
	"strings"
	"time"

	"onedesk/channels/graph"
	"onedesk/channels/social"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// channelOf is the ticket channel of an entry's object: a page's
// messages are Messenger's, an Instagram account's Instagram's. The
// customer's identity has the same kind (a page-scoped id, an
// Instagram-scoped id).
func channelOf(object string) string {
	if object == "instagram" {
		return "instagram"
	}
	return "messenger"
}

// handleQueued commits one queued messaging event of a page.
func (c *Channel) handleQueued(ctx context.Context, a *store.SocialAccount, payload []byte) error {
	var q queued
	var e event
	if json.Unmarshal(payload, &q) != nil || json.Unmarshal(q.Event, &e) != nil {
		return nil // not an event: dropped
	}
	p := c.page(a)
	channel := channelOf(q.Object)
	thread := &desk.SocialThread{AccountID: a.ID, ChatID: e.Sender.ID}
	switch {
	case e.Message != nil && e.Message.IsEcho:
		// The page's own message (onedesk's replies, and answers written
		// in Meta's inbox): not the customer's.
		return nil
	case e.Message != nil && e.Message.QuickReply != nil && c.desk.IsChoice(e.Message.QuickReply.Payload):
		// A quick reply of one of the desk's messages (a survey's rating):
		// the desk records it; it is not the customer's words on the ticket.
		_, _, err := c.desk.Choose(ctx, channel, e.Message.QuickReply.Payload)
		var ie *desk.InputError
		if errors.As(err, &ie) {
			c.log.Info("meta: a quick reply was refused", "channel", channel, "err", err)
			return nil
		}
		return err
	case e.Message != nil:
		return c.receive(ctx, p, channel, &e)
	case e.Edit != nil:
		err := c.desk.NoteEdit(ctx, channel, e.Edit.MID, fmt.Sprintf("%s:%d", e.Edit.MID, e.Edit.NumEdit), e.Edit.Text)
		if errors.Is(err, store.ErrNotFound) { // an edit of a message never received is taken as the message
			e.Message = &message{MID: e.Edit.MID, Text: e.Edit.Text}
			return c.receive(ctx, p, channel, &e)
		}
		return err
	case e.Postback != nil:
		text := e.Postback.Title
		if text == "" {
			text = e.Postback.Payload
		}
		mid := e.Postback.MID
		if mid == "" {
			mid = fmt.Sprintf("postback:%s:%d", e.Sender.ID, e.Timestamp)
		}
		e.Message = &message{MID: mid, Text: text}
		return c.receive(ctx, p, channel, &e)
	case e.Delivery != nil:
		r := desk.Receipt{Channel: channel, ExternalIDs: e.Delivery.MIDs}
		if e.Delivery.Watermark > 0 {
			r.Thread, r.UpTo = thread, time.UnixMilli(e.Delivery.Watermark)
		}
		return c.desk.NoteReceipt(ctx, r)
	case e.Read != nil:
		r := desk.Receipt{Channel: channel, Read: true, At: time.UnixMilli(e.Timestamp), Thread: thread}
		if e.Timestamp == 0 {
			r.At = store.Now()
		}
		if e.Read.Watermark > 0 {
			r.UpTo = time.UnixMilli(e.Read.Watermark)
		} else if e.Read.MID != "" {
			r.ExternalIDs = []string{e.Read.MID}
		} else {
			return nil
		}
		return c.desk.NoteReceipt(ctx, r)
	}
	return nil
}

// receive turns a customer's message into a ticket's message: its text,
// its files downloaded as attachments, and a story it answers or
// mentions noted on it.
func (c *Channel) receive(ctx context.Context, p *page, channel string, e *event) error {
	m := e.Message
	if m.MID == "" || e.Sender.ID == "" {
		return nil
	}
	story, storyURL := "", ""
	if m.ReplyTo != nil && m.ReplyTo.Story != nil {
		story, storyURL = "reply", m.ReplyTo.Story.URL
	}
	for _, att := range m.Attachments {
		if att.Type == "story_mention" {
			story, storyURL = "mention", att.Payload.URL
		}
	}
	seen, err := c.desk.Received(ctx, channel, m.MID)
	if err != nil {
		return err
	}
	if !seen {
		if err := c.receiveNew(ctx, p, channel, e, story, storyURL); err != nil {
			return err
		}
	}
	if story != "" {
		return c.desk.NoteStory(ctx, channel, m.MID, story, storyURL)
	}
	return nil
}

// receiveNew is receive's work for a message not seen before: the
// ticket's message with its files.
func (c *Channel) receiveNew(ctx context.Context, p *page, channel string, e *event, story, storyURL string) error {
	m := e.Message
	text := m.Text
	var files []store.Attachment
	var lines []string
	if story == "reply" && storyURL != "" {
		if f, line := c.fetch(ctx, p, "story", storyURL); f != nil {
			files = append(files, *f)
		} else if line != "" {
			lines = append(lines, line)
		}
	}
	for _, att := range m.Attachments {
		switch att.Type {
		case "image", "video", "audio", "file", "story_mention", "animated_image":
			if att.Payload.URL == "" {
				continue
			}
			f, line := c.fetch(ctx, p, att.Type, att.Payload.URL)
			if f != nil {
				files = append(files, *f)
			}
			if line != "" {
				lines = append(lines, line)
			}
		default: // a shared post, a reel, a link preview: its link
			if u := att.Payload.URL; u != "" {
				lines = append(lines, strings.TrimSpace(att.Payload.Title+" "+u))
			} else if att.Payload.Title != "" {
				lines = append(lines, att.Payload.Title)
			}
		}
	}
	if m.IsUnsupported && text == "" {
		lines = append(lines, "[a message Meta does not pass on to apps]")
	}
	for _, l := range lines {
		text = strings.TrimSpace(text + "\n" + l)
	}
	if strings.TrimSpace(text) == "" && len(files) == 0 && story == "" {
		return nil // a like, a reaction: nothing for an agent to read
	}
	kind := channel // the identity kind is the channel's: messenger or instagram
	from := store.Identity{Kind: kind, Value: e.Sender.ID}
	in := desk.Inbound{Channel: channel, StoreID: p.acct.StoreID, From: from, Name: c.name(ctx, p, channel, from),
		Text: text, Attachments: files, ExternalID: m.MID, Social: &desk.SocialThread{AccountID: p.acct.ID, ChatID: e.Sender.ID}}
	_, err := c.desk.Ingest(ctx, in)
	return err
}

// name is how a customer is named, asked of the Graph API (the page's
// access to the person's profile) only for someone new or still without
// a name; a failure leaves the name empty, never the message.
func (c *Channel) name(ctx context.Context, p *page, channel string, id store.Identity) string {
	if name, known, err := c.desk.CustomerName(ctx, id); err != nil || (known && name != "") {
		return ""
	}
	fields := "name"
	if channel == "instagram" {
		fields = "name,username"
	}
	var prof struct {
		Name     string `json:"name"`
		Username string `json:"username"`
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := p.cl.Get(cctx, id.Value, url.Values{"fields": {fields}}, &prof); err != nil {
		c.log.Debug("meta: no profile name", "page", p.acct.Handle, "user", id.Value, "err", err)
		return ""
	}
	if prof.Username != "" {
		return strings.TrimSpace(prof.Name + " (@" + prof.Username + ")")
	}
	return prof.Name
}

// fetch downloads an attachment's media (a CDN URL in the event). A file
// over MaxFile, or one that cannot be fetched, is left at Meta with a
// line saying so and its link: the message is never lost for a file.
func (c *Channel) fetch(ctx context.Context, p *page, kind, mediaURL string) (*store.Attachment, string) {
	data, sniffed, err := p.cl.Download(ctx, mediaURL, c.MaxFile, false)
	if errors.Is(err, social.ErrTooLarge) {
		return nil, fmt.Sprintf("[%s larger than %d MB, not downloaded: %s]", kind, c.MaxFile>>20, mediaURL)
	}
	if err != nil {
		if ctx.Err() == nil {
			c.log.Warn("meta: a customer's file not downloaded", "page", p.acct.Handle, "err", err)
		}
		return nil, fmt.Sprintf("[%s not downloaded (%s): %s]", kind, err, mediaURL)
	}
	if mt, _, err := mime.ParseMediaType(sniffed); err == nil {
		sniffed = mt
	}
	return &store.Attachment{Filename: fileName(mediaURL, kind, sniffed), ContentType: sniffed, Size: int64(len(data)), Data: data}, ""
}

// fileName names a downloaded file after its URL's path, or its kind.
func fileName(mediaURL, kind, contentType string) string {
	if u, err := url.Parse(mediaURL); err == nil {
		if base := path.Base(u.Path); strings.Contains(base, ".") && len(base) <= 120 {
			return social.FileName(base)
		}
	}
	ext := ""
	if exts, _ := mime.ExtensionsByType(contentType); len(exts) > 0 {
		ext = exts[0]
	}
	return social.FileName(kind + ext)
}

// maxText is the longest text of one message, in the UTF-16 units
// social.SplitText counts: Messenger takes 2,000 characters, Instagram
// 1,000 bytes of UTF-8 (500 characters of Latin, Greek or Cyrillic
// script, 333 of any other). Longer replies go in parts.
func maxText(channel, body string) int {
	if channel != "instagram" {
		return 2000
	}
	for _, r := range body {
		if r >= 0x800 {
			return 333
		}
	}
	return 500
}

// sendResult is the Send API's answer.
type sendResult struct {
	RecipientID string `json:"recipient_id"`
	MessageID   string `json:"message_id"`
}

// metadata marks onedesk's sends: Meta echoes it back on the page's copy.
const metadata = "onedesk"

// Send delivers an agent's reply to the ticket's chat through the Send
// API of the page (POST /{page-id}/messages, for Messenger and Instagram
// alike): its text (in parts when long), then each file uploaded with the
// message (multipart filedata). A reply that fails part-way goes on from
// the part that failed (Outbound.SendParts). The first message's id is
// recorded as the reply's external id; receipts may name any part's. A refusal retrying cannot
// change (an expired token, the 24-hour window closed) fails the reply
// with the reason in plain words.
func (c *Channel) Send(ctx context.Context, out desk.Outbound) error {
	if out.Message.Kind != "agent" {
		return nil
	}
	channel := out.Message.Channel
	where := "a Messenger conversation" // each a sentence of the catalogs
	if channel == "instagram" {
		where = "an Instagram conversation"
	}
	th, a, err := out.ReplyAccount(where, "Facebook page")
	if err != nil {
		return err
	}
	p := c.page(a)
	recipient, _ := json.Marshal(map[string]string{"id": th.ChatID})
	texts := social.SplitText(out.Message.Body, maxText(channel, out.Message.Body))
	first, err := out.SendParts(ctx, len(texts)+len(out.Files), func(ctx context.Context, part int) (string, error) {
		var res sendResult
		if part < len(texts) {
			msg := map[string]any{"text": texts[part], "metadata": metadata}
			if part == len(texts)-1 && len(out.Choices) > 0 {
				msg["quick_replies"] = quickReplies(out.Choices)
			}
			err := p.cl.Post(ctx, p.cfg.PageID+"/messages", map[string]any{"recipient": json.RawMessage(recipient),
				"messaging_type": "RESPONSE", "message": msg}, &res)
			if err != nil {
				return "", sendError(channel, err)
			}
			return res.MessageID, nil
		}
		full := out.Files[part-len(texts)]
		msg, _ := json.Marshal(map[string]any{"attachment": map[string]any{"type": attachmentType(full.ContentType),
			"payload": map[string]bool{"is_reusable": false}}, "metadata": metadata})
		err = p.cl.Upload(ctx, p.cfg.PageID+"/messages", map[string]string{"recipient": string(recipient), "messaging_type": "RESPONSE",
			"message": string(msg)}, graph.File{Field: "filedata", Name: full.Filename, ContentType: full.ContentType, Data: full.Data}, &res)
		if err != nil {
			return "", sendError(channel, err)
		}
		return res.MessageID, nil
	})
	if err != nil {
		return err
	}
	out.SentAs(first)
	return nil
}

// quickReplies are a message's choices as Messenger's and Instagram's
// quick replies (buttons above the keyboard until one is tapped).
func quickReplies(choices []desk.Choice) []map[string]string {
	out := make([]map[string]string, 0, len(choices))
	for _, ch := range choices {
		out = append(out, map[string]string{"content_type": "text", "title": ch.Label, "payload": ch.Data})
	}
	return out
}

func channelTitle(channel string) string {
	if channel == "instagram" {
		return "Instagram"
	}
	return "Messenger"
}

// attachmentType is the Send API's type of a file.
func attachmentType(contentType string) string {
	for _, t := range []string{"image", "video", "audio"} {
		if strings.HasPrefix(contentType, t+"/") {
			return t
		}
	}
	return "file"
}

// sendError sorts a Send API error: throttling and Meta's own trouble are
// retried by the outbox; what retrying cannot change fails the reply with
// a plain reason.
func sendError(channel string, err error) error {
	var ge *graph.Error
	if !errors.As(err, &ge) {
		return err // Meta not reached: retried
	}
	switch {
	case ge.Expired():
		return desk.Permanent(i18n.Errorf("Meta refused the page's access token: it expired or was revoked. Paste a new page token under Settings → Channels, then retry"))
	case ge.Subcode == 2018278 || ge.Subcode == 2534022 || (ge.Code == 10 && strings.Contains(strings.ToLower(ge.Message), "window")):
		return desk.Permanent(i18n.Errorf("the customer last wrote more than 24 hours ago: %s lets a page answer only within 24 hours of the customer's last message. The reply goes once they write again (Retry)", channelTitle(channel)))
	case ge.Code == 551 || ge.Subcode == 2018001 || ge.Subcode == 2018108:
		return desk.Permanent(i18n.Errorf("%s cannot reach this person any more (they blocked the page, left, or deleted their account)", channelTitle(channel)))
	case ge.Temporary():
		return err
	}
	return desk.Permanent(err)
}
