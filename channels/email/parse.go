// Package email is the email channel: it turns raw messages into desk
// inbound messages (and, in later steps, polls IMAP and sends over SMTP).
package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"io"
	"mime"
	"os"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/charset" // decode non-UTF-8 mail
	"github.com/emersion/go-message/mail"
	"golang.org/x/text/encoding/charmap"

	"onedesk/desk"
	"onedesk/store"
)

// Limits on what one message may carry into the desk.
const (
	MaxAttachments    = 50
	MaxAttachmentSize = 25 << 20
)

// ticketToken finds "[#123]" in a subject: the token replies carry so that
// a mail client that drops In-Reply-To still reaches its ticket.
var ticketToken = regexp.MustCompile(`\[#(\d{1,18})\]`)

// Parse turns a raw RFC 5322 message into an inbound message for the desk.
// A message without a Message-ID gets one derived from its bytes, so the
// same message fetched twice is still recognised.
func Parse(raw []byte) (desk.Inbound, error) {
	in, _, err := parse(raw)
	return in, err
}

// parse is Parse that also returns every address the message was
// delivered to (To, Cc and the delivery headers), where reply tokens live.
func parse(raw []byte) (desk.Inbound, []string, error) {
	return parseSource(func() (io.Reader, error) { return bytes.NewReader(raw), nil }, "")
}

// memPart is how much of a part is read into memory; with a spool
// directory, larger attachments go to files there instead.
const memPart = 1 << 20

// parseSource parses the message open returns (afresh on each call). With
// spool set, large attachments are written to files in that directory, so
// that a message of any size is parsed in bounded memory.
func parseSource(open func() (io.Reader, error), spool string) (desk.Inbound, []string, error) {
	in := desk.Inbound{Channel: "email"}
	src, err := open()
	if err != nil {
		return in, nil, err
	}
	r, err := mail.CreateReader(src)
	if err != nil && r == nil {
		return in, nil, fmt.Errorf("parse message: %w", err)
	}
	h := r.Header

	from, err := h.AddressList("From")
	if err != nil || len(from) == 0 {
		if from, err = h.AddressList("Sender"); err != nil || len(from) == 0 {
			return in, nil, fmt.Errorf("parse message: no usable From address")
		}
	}
	in.From = store.Identity{Kind: "email", Value: from[0].Address}
	in.Name = from[0].Name
	if in.Subject, err = h.Subject(); err != nil {
		in.Subject = h.Get("Subject")
	}
	if m := ticketToken.FindStringSubmatch(in.Subject); m != nil {
		in.TicketHint, _ = strconv.ParseInt(m[1], 10, 64)
	}
	if id, err := h.MessageID(); err == nil && id != "" {
		in.ExternalID = id
	} else if src, err := open(); err == nil {
		h := sha256.New()
		io.Copy(h, src)
		in.ExternalID = "sha256-" + hex.EncodeToString(h.Sum(nil)[:16]) + "@onedesk.invalid"
	}
	for _, key := range []string{"References", "In-Reply-To"} {
		ids, _ := h.MsgIDList(key)
		in.ThreadRefs = append(in.ThreadRefs, ids...)
	}
	in.Auto = autoKind(h, in.From.Value)

	var recipients []string
	for _, key := range []string{"To", "Cc"} {
		list, _ := h.AddressList(key)
		for _, a := range list {
			recipients = append(recipients, a.Address)
			if !strings.EqualFold(a.Address, in.From.Value) {
				in.CC = append(in.CC, desk.Contact{Identity: store.Identity{Kind: "email", Value: a.Address}, Name: toUTF8(a.Name)})
			}
		}
	}
	for _, key := range []string{"Delivered-To", "X-Original-To", "Envelope-To"} {
		for _, v := range h.Values(key) {
			recipients = append(recipients, strings.Trim(strings.TrimSpace(v), "<>"))
		}
	}

	var plain, htmlBody []string
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		unknownCharset := err != nil && p != nil && message.IsUnknownCharset(err)
		if err != nil && !unknownCharset {
			// A broken part loses that part, not the customer's message.
			break
		}
		ctype, cid, filename, isAttachment := partInfo(p)
		// A body that fails to decode half-way keeps what was read.
		limit := int64(MaxAttachmentSize + 1)
		if spool != "" && isAttachment {
			limit = memPart + 1
		}
		body, _ := io.ReadAll(io.LimitReader(p.Body, limit))
		path := ""
		if spool != "" && isAttachment && len(body) > memPart {
			if path, err = spoolPart(spool, body, p.Body); err != nil {
				return in, nil, err
			}
			if path == "" {
				continue // over MaxAttachmentSize
			}
		}
		if unknownCharset && strings.HasPrefix(ctype, "text/") {
			body = []byte(legacyText(body))
		}
		switch {
		case !isAttachment && ctype == "text/plain":
			plain = append(plain, string(body))
		case !isAttachment && ctype == "text/html":
			htmlBody = append(htmlBody, string(body))
		case ctype == "message/delivery-status" || ctype == "message/global-delivery-status":
			in.Auto = "bounce"
			in.BounceReason = bounceReason(body)
			fallthrough
		case ctype == "message/rfc822" || ctype == "message/global" || ctype == "text/rfc822-headers" || ctype == "message/rfc822-headers":
			if in.Auto == "bounce" && in.BounceOf == "" {
				in.BounceOf = originalMessageID(body)
			}
			if filename == "" && (ctype == "message/rfc822" || ctype == "message/global") {
				filename = forwardedName(body)
			}
			fallthrough
		default:
			if len(in.Attachments) >= MaxAttachments || len(body) > MaxAttachmentSize {
				continue
			}
			if filename == "" {
				filename = defaultName(ctype, cid)
			}
			a := store.Attachment{Filename: toUTF8(filename), ContentType: ctype, ContentID: cid, Data: body}
			if path != "" {
				a.Data, a.Path = nil, path
			}
			in.Attachments = append(in.Attachments, a)
		}
	}
	in.Subject, in.Name = toUTF8(in.Subject), toUTF8(in.Name)
	// Some clients split the text around inline images into several parts.
	in.Text = strings.TrimSpace(toUTF8(strings.Join(plain, "\n")))
	in.HTML = toUTF8(strings.Join(htmlBody, "\n"))
	if in.Text == "" && in.HTML != "" {
		in.Text = TextFromHTML(in.HTML)
	}
	if in.Text == "" && in.HTML == "" && len(in.Attachments) == 0 {
		// The structure was beyond repair (a boundary that never comes):
		// the readable part of the raw body is better than nothing.
		if src, err := open(); err == nil {
			head, _ := io.ReadAll(io.LimitReader(src, desk.MaxBody))
			in.Text = rawBodyText(head)
		}
	}
	return in, recipients, nil
}

// spoolPart writes a large part (what was read of it, then the rest) to a
// new file in dir; "" when it is over MaxAttachmentSize.
func spoolPart(dir string, head []byte, rest io.Reader) (string, error) {
	f, err := os.CreateTemp(dir, "part-")
	if err != nil {
		return "", fmt.Errorf("spool attachment: %w", err)
	}
	defer f.Close()
	if _, err := f.Write(head); err != nil {
		return "", fmt.Errorf("spool attachment: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(rest, MaxAttachmentSize+1-int64(len(head))))
	if err != nil && n == 0 {
		return "", fmt.Errorf("spool attachment: %w", err)
	}
	if int64(len(head))+n > MaxAttachmentSize {
		os.Remove(f.Name())
		return "", nil
	}
	return f.Name(), nil
}

// legacyText decodes text in a charset nobody knows: UTF-8 if it is,
// else Windows-1252, which is what such mail nearly always turns out to be.
func legacyText(b []byte) string {
	if utf8.Valid(b) {
		return string(b)
	}
	s, err := charmap.Windows1252.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD")
	}
	return string(s)
}

// rawBodyText is the body of a message after its header, as text.
func rawBodyText(raw []byte) string {
	for _, sep := range []string{"\r\n\r\n", "\n\n"} {
		if i := bytes.Index(raw, []byte(sep)); i >= 0 {
			return strings.TrimSpace(legacyText(raw[i+len(sep):]))
		}
	}
	return ""
}

// forwardedName names an attached message after its subject.
func forwardedName(msg []byte) string {
	subject := "message"
	if r, _ := mail.CreateReader(bytes.NewReader(msg)); r != nil {
		if s, err := r.Header.Subject(); err == nil && strings.TrimSpace(s) != "" {
			subject = strings.TrimSpace(s)
		}
	}
	subject = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`/\:*?"<>|`, r) || r < ' ' {
			return '_'
		}
		return r
	}, subject)
	if utf8.RuneCountInString(subject) > 100 {
		subject = string([]rune(subject)[:100])
	}
	return subject + ".eml"
}

func partInfo(p *mail.Part) (ctype, cid, filename string, attachment bool) {
	var h message.Header
	switch ph := p.Header.(type) {
	case *mail.InlineHeader:
		h = ph.Header
	case *mail.AttachmentHeader:
		h = ph.Header
		attachment = true
		filename, _ = ph.Filename()
	}
	raw := h.Get("Content-Type")
	ctype, params, err := mime.ParseMediaType(raw)
	if err != nil && ctype == "" {
		// A broken parameter list still names the type.
		ctype, _, _ = strings.Cut(raw, ";")
		ctype = strings.TrimSpace(ctype)
	}
	ctype = strings.ToLower(ctype)
	if ctype == "" || !strings.Contains(ctype, "/") {
		ctype = "text/plain" // RFC 2045: no type means plain text
		if attachment {
			ctype = "application/octet-stream"
		}
	}
	cid = strings.Trim(strings.TrimSpace(h.Get("Content-Id")), "<>")
	if filename == "" && params["name"] != "" {
		filename = decodeWords(params["name"])
	}
	// Inline images and other non-text inline parts are files too.
	if ctype != "text/plain" && ctype != "text/html" {
		attachment = true
	}
	return ctype, cid, filename, attachment
}

// decodeWords decodes RFC 2047 words that senders put in parameters.
func decodeWords(s string) string {
	if d, err := (&mime.WordDecoder{CharsetReader: charset.Reader}).DecodeHeader(s); err == nil {
		return d
	}
	return s
}

func defaultName(ctype, cid string) string {
	name := "attachment"
	if cid != "" {
		name = cid
	}
	if exts, _ := mime.ExtensionsByType(ctype); len(exts) > 0 && !strings.Contains(name, ".") {
		name += exts[0]
	}
	return name
}

// autoKind tells machine-sent mail apart (RFC 3834 and common practice):
// such mail never gets an auto-response and never reopens a ticket.
func autoKind(h mail.Header, from string) string {
	local, _, _ := strings.Cut(strings.ToLower(from), "@")
	ctype, params, _ := h.ContentType()
	switch {
	case ctype == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status"),
		local == "mailer-daemon" || local == "postmaster":
		return "bounce"
	case h.Get("Auto-Submitted") != "" && !strings.EqualFold(strings.TrimSpace(h.Get("Auto-Submitted")), "no"),
		h.Get("X-Autoreply") != "", h.Get("X-Autorespond") != "", h.Get("X-Auto-Response-Suppress") == "All":
		return "auto_reply"
	}
	switch strings.ToLower(strings.TrimSpace(h.Get("Precedence"))) {
	case "bulk", "list", "junk":
		return "bulk"
	}
	if h.Get("List-Id") != "" || h.Get("List-Unsubscribe") != "" {
		return "bulk"
	}
	return ""
}

// originalMessageID reads the Message-ID of a returned message (or of
// its returned headers) inside a delivery report.
func originalMessageID(part []byte) string {
	if !bytes.Contains(part, []byte("\n\n")) && !bytes.Contains(part, []byte("\r\n\r\n")) {
		part = append(append([]byte(nil), part...), "\r\n\r\n"...)
	}
	r, err := mail.CreateReader(bytes.NewReader(part))
	if r == nil {
		return ""
	}
	_ = err
	id, _ := r.Header.MessageID()
	return id
}

// bounceReason picks the most telling line of a delivery-status report.
func bounceReason(report []byte) string {
	var status string
	for _, line := range strings.Split(string(report), "\n") {
		key, value, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok {
			continue
		}
		switch strings.ToLower(key) {
		case "diagnostic-code":
			return toUTF8(strings.TrimSpace(value))
		case "status":
			status = "status " + strings.TrimSpace(value)
		}
	}
	return status
}

// toUTF8 keeps text valid UTF-8 whatever a broken sender declared.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

var (
	blockTags = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>`)
	dropTags  = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>`)
	anyTag    = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
)

// TextFromHTML makes the plain-text body of a message that has only HTML:
// block ends become line breaks, tags go, entities are decoded.
func TextFromHTML(s string) string {
	s = dropTags.ReplaceAllString(s, "")
	s = blockTags.ReplaceAllString(s, "\n")
	s = anyTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
