package telegram

import (
	"context"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"onedesk/channels/social"
	"onedesk/desk"
	"onedesk/store"
)

// externalID is a Telegram message's id in the desk: message ids count
// per chat, and a customer's chat with each bot is its own.
func externalID(a *store.SocialAccount, chatID string, messageID int64) string {
	return "tg:" + a.ExternalID + ":" + chatID + ":" + strconv.FormatInt(messageID, 10)
}

// handleUpdate commits one update: a message, or an edit of one.
func (c *Channel) handleUpdate(ctx context.Context, b *bot, u Update) error {
	switch {
	case u.Message != nil:
		return c.receive(ctx, b, u.Message)
	case u.EditedMessage != nil:
		return c.edited(ctx, b, u.EditedMessage)
	case u.CallbackQuery != nil:
		return c.pressed(ctx, b, u.CallbackQuery)
	}
	return nil
}

// pressed takes an inline button pressed under one of the desk's messages
// (a survey's rating): the desk records it, and Telegram shows the thanks
// (or why it was refused) as a notice. A button of no choice the desk
// knows is only acknowledged, so the customer's app stops waiting.
func (c *Channel) pressed(ctx context.Context, b *bot, q *CallbackQuery) error {
	text := ""
	if c.desk.IsChoice(q.Data) {
		reply, _, err := c.desk.Choose(ctx, "telegram", q.Data)
		var ie *desk.InputError
		switch {
		case errors.As(err, &ie):
			// Refused (used already, too old): said to the customer in their
			// app's language, not retried.
			lang := ""
			if q.From != nil {
				lang = q.From.LanguageCode
			}
			text = ie.In(desk.PickLanguage("", lang))
		case err != nil:
			return err
		default:
			text = reply
		}
	}
	params := map[string]any{"callback_query_id": q.ID}
	if text != "" {
		params["text"] = text
	}
	if err := b.cl.call(ctx, "answerCallbackQuery", params, nil); err != nil {
		// The rating is recorded; a notice that could not be shown is not
		// worth holding up the updates behind it.
		c.log.Warn("telegram: answer a button", "err", err)
	}
	return nil
}

// keyboard is a message's choices as one row of inline buttons.
func keyboard(choices []desk.Choice) map[string]any {
	row := make([]map[string]any, 0, len(choices))
	for _, ch := range choices {
		row = append(row, map[string]any{"text": ch.Label, "callback_data": ch.Data})
	}
	return map[string]any{"inline_keyboard": [][]map[string]any{row}}
}

// private tells whether m is a person writing to the bot in private:
// onedesk answers those, not groups or channels.
func private(m *Message) bool {
	return m.Chat.Type == "private" && m.From != nil && !m.From.IsBot
}

// receive turns a customer's message into a ticket's message: its text
// or caption, and its files (photos at their largest size, documents,
// voice notes, videos, stickers) downloaded as attachments.
func (c *Channel) receive(ctx context.Context, b *bot, m *Message) error {
	if !private(m) {
		return nil
	}
	chat := strconv.FormatInt(m.Chat.ID, 10)
	ext := externalID(b.acct, chat, m.MessageID)
	if len(wanted(m)) > 0 {
		if seen, err := c.desk.Received(ctx, "telegram", ext); err != nil || seen {
			return err // a repeat's files are not downloaded again (Ingest keeps it once anyway)
		}
	}
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	if text == "" && m.Sticker != nil {
		text = m.Sticker.Emoji
	}
	if m.Contact != nil {
		text = strings.TrimSpace(strings.TrimSpace(m.Contact.FirstName+" "+m.Contact.LastName) + " " + m.Contact.PhoneNumber)
	}
	if m.Location != nil {
		text = fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.6f&mlon=%.6f", m.Location.Latitude, m.Location.Longitude)
	}
	files, skipped, err := c.files(ctx, b, m)
	if err != nil {
		return err
	}
	for _, s := range skipped {
		text = strings.TrimSpace(text + "\n" + s)
	}
	if strings.TrimSpace(text) == "" && len(files) == 0 {
		return nil // a poll, a game, a dice: nothing for an agent to read
	}
	in := desk.Inbound{
		Channel: "telegram", StoreID: b.acct.StoreID,
		From: store.Identity{Kind: "telegram", Value: strconv.FormatInt(m.From.ID, 10)}, Name: displayName(m.From),
		Text: text, Attachments: files, ExternalID: ext,
		Social: &desk.SocialThread{AccountID: b.acct.ID, ChatID: chat},
	}
	_, err = c.desk.Ingest(ctx, in)
	return err
}

// displayName is how a Telegram user is named on their customer record:
// first and last name, with the @username they can be found by (their id
// is the identity: a username can change).
func displayName(u *User) string {
	name := strings.TrimSpace(u.FirstName + " " + u.LastName)
	if u.Username != "" {
		name = strings.TrimSpace(name + " (@" + u.Username + ")")
	}
	return name
}

// edited notes a customer's edit on the message's ticket; an edit of a
// message never received is taken as the message.
func (c *Channel) edited(ctx context.Context, b *bot, m *Message) error {
	if !private(m) {
		return nil
	}
	ext := externalID(b.acct, strconv.FormatInt(m.Chat.ID, 10), m.MessageID)
	text := m.Text
	if text == "" {
		text = m.Caption
	}
	err := c.desk.NoteEdit(ctx, "telegram", ext, strconv.FormatInt(m.EditDate, 10), text)
	if errors.Is(err, store.ErrNotFound) {
		return c.receive(ctx, b, m)
	}
	return err
}

// want is a file of a message to fetch.
type want struct {
	f          *File
	name, kind string // kind: the content type Telegram's own formats have
}

func wanted(m *Message) []want {
	var list []want
	if len(m.Photo) > 0 {
		best := m.Photo[0]
		for _, p := range m.Photo[1:] {
			if p.Width*p.Height > best.Width*best.Height || p.FileSize > best.FileSize {
				best = p
			}
		}
		list = append(list, want{&best, "photo.jpg", "image/jpeg"})
	}
	add := func(f *File, name, kind string) {
		if f != nil {
			if f.FileName != "" {
				name = f.FileName
			}
			if f.MimeType != "" {
				kind = f.MimeType
			}
			list = append(list, want{f, name, kind})
		}
	}
	add(m.Document, "file", "")
	add(m.Voice, "voice.ogg", "audio/ogg")
	add(m.Audio, "audio.mp3", "audio/mpeg")
	add(m.Video, "video.mp4", "video/mp4")
	add(m.VideoNote, "video-note.mp4", "video/mp4")
	add(m.Animation, "animation.mp4", "video/mp4")
	if s := m.Sticker; s != nil {
		switch {
		case s.IsVideo:
			add(s, "sticker.webm", "video/webm")
		case s.IsAnimated:
			add(s, "sticker.tgs", "application/x-tgsticker")
		default:
			add(s, "sticker.webp", "image/webp")
		}
	}
	return list
}

// files downloads a message's files (getFile, then the file). A file over
// MaxFile is left at Telegram, with a line saying so.
func (c *Channel) files(ctx context.Context, b *bot, m *Message) ([]store.Attachment, []string, error) {
	var out []store.Attachment
	var skipped []string
	for _, w := range wanted(m) {
		tooBig := fmt.Sprintf("[%s (%.1f MB) was not downloaded: bots may fetch files up to %d MB]",
			w.name, float64(w.f.FileSize)/(1<<20), c.MaxFile>>20)
		if w.f.FileSize > c.MaxFile {
			skipped = append(skipped, tooBig)
			continue
		}
		var got File
		if err := b.cl.call(ctx, "getFile", map[string]any{"file_id": w.f.FileID}, &got); err != nil {
			var ae *APIError
			if errors.As(err, &ae) && ae.Code == 400 && strings.Contains(ae.Description, "too big") {
				skipped = append(skipped, tooBig)
				continue
			}
			return nil, nil, err
		}
		data, err := b.cl.download(ctx, got.FilePath, c.MaxFile)
		if errors.Is(err, social.ErrTooLarge) {
			skipped = append(skipped, tooBig)
			continue
		}
		if err != nil {
			return nil, nil, err
		}
		kind := w.kind
		if kind == "" {
			kind = http.DetectContentType(data)
		}
		if mt, _, err := mime.ParseMediaType(kind); err == nil {
			kind = mt
		}
		out = append(out, store.Attachment{Filename: social.FileName(w.name), ContentType: kind, Size: int64(len(data)), Data: data})
	}
	return out, skipped, nil
}

// maxText is the longest text of one Telegram message, in UTF-16 units.
const maxText = 4096

// Send delivers an agent's reply to the ticket's chat: its text with
// sendMessage (in parts when longer than Telegram takes), then its files
// with sendPhoto (pictures) or sendDocument. A reply that fails part-way
// goes on from the part that failed (Outbound.SendParts). The first message's
// id is recorded as the reply's external id. A refusal retrying cannot change
// (the customer blocked the bot, a revoked token) fails the reply with
// the reason in plain words.
func (c *Channel) Send(ctx context.Context, out desk.Outbound) error {
	if out.Message.Kind != "agent" {
		return nil
	}
	th, a, err := out.ReplyAccount("a Telegram chat", "Telegram bot")
	if err != nil {
		return err
	}
	b := c.bot(a)
	var chatID any = th.ChatID
	if n, err := strconv.ParseInt(th.ChatID, 10, 64); err == nil {
		chatID = n
	}
	texts := social.SplitText(out.Message.Body, maxText)
	first, err := out.SendParts(ctx, len(texts)+len(out.Files), func(ctx context.Context, part int) (string, error) {
		var sent sentMessage
		if part < len(texts) {
			params := map[string]any{"chat_id": chatID, "text": texts[part]}
			if part == len(texts)-1 && len(out.Choices) > 0 {
				params["reply_markup"] = keyboard(out.Choices)
			}
			if err := b.cl.call(ctx, "sendMessage", params, &sent); err != nil {
				return "", sendError(err)
			}
			return externalID(a, th.ChatID, sent.MessageID), nil
		}
		full := out.Files[part-len(texts)]
		method, field := "sendDocument", "document"
		if photo(full.ContentType) && full.Size <= 10<<20 {
			method, field = "sendPhoto", "photo"
		}
		if err := b.cl.upload(ctx, method, map[string]string{"chat_id": th.ChatID}, field, full.Filename, full.Data, &sent); err != nil {
			return "", sendError(err)
		}
		return externalID(a, th.ChatID, sent.MessageID), nil
	})
	if err != nil {
		return err
	}
	out.SentAs(first)
	return nil
}

// sentMessage is the part of a sent message onedesk keeps.
type sentMessage struct {
	MessageID int64 `json:"message_id"`
}

func photo(contentType string) bool {
	switch contentType {
	case "image/jpeg", "image/png", "image/webp":
		return true
	}
	return false
}

func sendError(err error) error {
	var ae *APIError
	if errors.As(err, &ae) && ae.Permanent() {
		return desk.Permanent(err)
	}
	return err
}
