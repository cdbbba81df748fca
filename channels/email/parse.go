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
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	_ "github.com/emersion/go-message/charset" // decode non-UTF-8 mail
	"github.com/emersion/go-message/mail"

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
	in := desk.Inbound{Channel: "email"}
	r, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil && r == nil {
		return in, fmt.Errorf("parse message: %w", err)
	}
	h := r.Header

	from, err := h.AddressList("From")
	if err != nil || len(from) == 0 {
		return in, fmt.Errorf("parse message: no usable From address")
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
	} else {
		sum := sha256.Sum256(raw)
		in.ExternalID = "sha256-" + hex.EncodeToString(sum[:16]) + "@onedesk.invalid"
	}
	for _, key := range []string{"References", "In-Reply-To"} {
		ids, _ := h.MsgIDList(key)
		in.ThreadRefs = append(in.ThreadRefs, ids...)
	}
	in.Auto = autoKind(h, in.From.Value)

	var plain, htmlBody strings.Builder
	for {
		p, err := r.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			// A broken part loses that part, not the customer's message.
			break
		}
		ctype, cid, filename, isAttachment := partInfo(p)
		body, err := io.ReadAll(io.LimitReader(p.Body, MaxAttachmentSize+1))
		if err != nil {
			continue
		}
		switch {
		case !isAttachment && ctype == "text/plain" && plain.Len() == 0:
			plain.Write(body)
		case !isAttachment && ctype == "text/html" && htmlBody.Len() == 0:
			htmlBody.Write(body)
		case ctype == "message/delivery-status":
			in.Auto = "bounce"
			in.BounceReason = bounceReason(body)
			fallthrough
		case ctype == "message/rfc822" || ctype == "text/rfc822-headers" || ctype == "message/rfc822-headers":
			if in.BounceOf == "" {
				in.BounceOf = originalMessageID(body)
			}
			fallthrough
		default:
			if len(in.Attachments) >= MaxAttachments || len(body) > MaxAttachmentSize {
				continue
			}
			if filename == "" {
				filename = defaultName(ctype, cid)
			}
			in.Attachments = append(in.Attachments, store.Attachment{Filename: filename, ContentType: ctype, Data: body})
		}
	}
	in.Subject, in.Name = toUTF8(in.Subject), toUTF8(in.Name)
	in.Text = strings.TrimSpace(toUTF8(plain.String()))
	in.HTML = toUTF8(htmlBody.String())
	if in.Text == "" && in.HTML != "" {
		in.Text = TextFromHTML(in.HTML)
	}
	return in, nil
}

func partInfo(p *mail.Part) (ctype, cid, filename string, attachment bool) {
	switch h := p.Header.(type) {
	case *mail.InlineHeader:
		ctype, _, _ = h.ContentType()
		cid = strings.Trim(h.Get("Content-Id"), "<> ")
		// Inline images and other non-text inline parts are files too.
		if ctype != "text/plain" && ctype != "text/html" {
			attachment = true
			if _, params, err := mime.ParseMediaType(h.Get("Content-Type")); err == nil {
				filename = params["name"]
			}
		}
	case *mail.AttachmentHeader:
		ctype, _, _ = h.ContentType()
		cid = strings.Trim(h.Get("Content-Id"), "<> ")
		filename, _ = h.Filename()
		attachment = true
	}
	if ctype == "" {
		ctype = "application/octet-stream"
	}
	return strings.ToLower(ctype), cid, filename, attachment
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
