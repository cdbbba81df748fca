// Package email is the email channel: it turns raw messages into desk
// inbound messages (and, in later steps, polls IMAP and sends over SMTP).
package email

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
	htmlcharset "golang.org/x/net/html/charset"
	"golang.org/x/text/encoding"

	"onedesk/desk"
	"onedesk/i18n"
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

// maxRefs and maxRecipients bound what one header can make the desk look
// up: far more than real mail carries.
const (
	maxRefs       = 100
	maxRecipients = 500
)

// maxText is how much of one text part is read: what the desk keeps of a
// body, with room for the quoted history that is cut from it.
const maxText = 4 * desk.MaxBody

// parseNested reads a message attached to another: one level only.
func parseNested(raw []byte) (desk.Inbound, []string, error) {
	p := &parser{open: func() (io.Reader, error) { return bytes.NewReader(raw), nil }, in: desk.Inbound{Channel: "email"}, nested: true}
	recipients, err := p.run()
	return p.in, recipients, err
}

// parseSource parses the message open returns (afresh on each call). With
// spool set, large attachments are written to files in that directory, so
// that a message of any size is parsed in bounded memory.
//
// It never fails because of what the message holds: whatever the bytes,
// it returns all that could be read within the limits, with in.Partial
// saying what was left out (in.From is empty when no sender could be
// found at all). It fails only when the source or the spool directory
// cannot be read or written; then no spooled file is left behind.
func parseSource(open func() (io.Reader, error), spool string) (desk.Inbound, []string, error) {
	p := &parser{spool: spool, open: open, in: desk.Inbound{Channel: "email"}}
	recipients, err := p.run()
	if err != nil {
		p.removeSpooled()
		return desk.Inbound{Channel: "email"}, nil, err
	}
	return p.in, recipients, nil
}

// parser holds one parse: what has been read so far and what was left out.
type parser struct {
	spool     string
	open      func() (io.Reader, error)
	src       *budgetReader
	repair    *headerRepair
	in        desk.Inbound
	notes     i18n.Sentences
	plain     []string
	html      []string
	charset   string // the first charset a text part declares: a hint for raw 8-bit header bytes
	parts     int
	spooled   []string // files written, each either in in.Attachments or removed
	report    bool     // a delivery-status part was read
	returned  [][]byte // the start of attached messages and headers: a bounce's returned mail
	rawNames  []rawName
	nested    bool  // reading a message attached to another
	textBytes int   // bytes of text parts read
	diskErr   error // the spool directory failed
}

// errStop ends the walk over the parts early (a limit was reached).
var errStop = errors.New("parse stopped")

// note adds what of the message could not be read, said in each agent's
// language when the message is shown.
func (p *parser) note(s i18n.Sentence) {
	p.notes = p.notes.Add(s)
}

func (p *parser) run() ([]string, error) {
	src, err := p.open()
	if err != nil {
		return nil, fmt.Errorf("open message: %w", err)
	}
	p.src = newBudgetReader(src)
	p.repair = newHeaderRepair(p.src)
	defer p.repair.release()
	br := bufio.NewReader(p.repair)
	hdr, _ := textproto.ReadHeader(br) // read errors show in p.src
	if p.src.err != nil {
		return nil, fmt.Errorf("read message: %w", p.src.err)
	}
	if err := p.walk(hdr, br, 0, "", ""); err != nil && !errors.Is(err, errStop) && !errors.Is(err, errTooComplex) {
		return nil, err
	}
	if p.src.err != nil {
		return nil, fmt.Errorf("read message: %w", p.src.err)
	}
	if p.diskErr != nil {
		return nil, p.diskErr
	}
	if p.src.timedOut {
		p.note(i18n.S("The message was too complex to read in time; only its header and the parts read before were kept (its source is kept)."))
	}
	if p.repair.deepSkipped {
		p.note(i18n.S("Parts nested more than %d levels deep were left out.", MaxDepth))
	}
	if p.repair.headerCut {
		p.note(i18n.S("A header field longer than %d KB or a header longer than %d KB was cut.", maxFieldBytes>>10, maxHeaderBytes>>10))
	}

	h := &header{h: hdr}
	h.enc = headerCharset(hdr, p.charset)
	p.fixNames(h.enc)
	recipients := p.readHeader(h)
	if p.in.ExternalID == "" {
		// Derived from the bytes, so that the same message fetched twice
		// is recognised: a source that cannot be read again is an error.
		src, err := p.open()
		if err != nil {
			return nil, fmt.Errorf("reopen message: %w", err)
		}
		sum := sha256.New()
		if _, err := io.Copy(sum, src); err != nil {
			return nil, fmt.Errorf("read message: %w", err)
		}
		p.in.ExternalID = "sha256-" + hex.EncodeToString(sum.Sum(nil)[:16]) + "@onedesk.invalid"
	}
	p.readBody(h)
	p.in.Language = mailLanguage(hdr.Get("Content-Language"), p.in.Text)
	p.in.Partial = p.notes
	return recipients, nil
}

// rawName is an attachment name in raw 8-bit bytes.
type rawName struct {
	index int
	raw   string
}

// fixNames reads raw 8-bit attachment names in the charset of the
// message's header, or of its text, or as detected over all of them.
func (p *parser) fixNames(enc encoding.Encoding) {
	if len(p.rawNames) == 0 {
		return
	}
	if enc == nil {
		var raws []string
		for _, n := range p.rawNames {
			raws = append(raws, n.raw)
		}
		enc = rawCharset(raws, p.charset)
	}
	h := &header{enc: enc}
	for _, n := range p.rawNames {
		if n.index < len(p.in.Attachments) {
			p.in.Attachments[n.index].Filename = decodeWords(h.utf8(n.raw))
		}
	}
}

// readHeader reads the message's own header fields, each on its own.
func (p *parser) readHeader(h *header) []string {
	in := &p.in
	in.Subject = h.text("Subject")
	if m := ticketToken.FindStringSubmatch(in.Subject); m != nil {
		in.TicketHint, _ = strconv.ParseInt(m[1], 10, 64)
	}
	fromText := h.utf8(h.h.Get("From"))
	p.sender(h)
	if ids := msgIDs(h.h.Get("Message-Id")); len(ids) > 0 {
		in.ExternalID = ids[0]
	}
	if date, err := netmail.ParseDate(strings.TrimSpace(h.h.Get("Date"))); err == nil {
		in.Date = date // what a history import dates the message by
	}
	for _, key := range []string{"References", "In-Reply-To"} {
		for _, v := range h.h.Values(key) {
			in.ThreadRefs = append(in.ThreadRefs, msgIDs(v)...)
		}
	}
	if len(in.ThreadRefs) > maxRefs {
		// The newest references (and In-Reply-To, last) are the ones
		// that find the ticket.
		in.ThreadRefs = in.ThreadRefs[len(in.ThreadRefs)-maxRefs:]
	}
	in.Auto = autoKind(h, in.From.Value, fromText, in.Subject)
	if p.report {
		in.Auto = "bounce"
	}

	var recipients []string
	for _, key := range []string{"To", "Cc"} {
		for _, v := range h.h.Values(key) {
			for _, a := range addresses(h.utf8(v)) {
				if len(recipients) >= maxRecipients {
					break
				}
				recipients = append(recipients, a.Address)
				if !strings.EqualFold(a.Address, in.From.Value) {
					in.CC = append(in.CC, desk.Contact{Identity: store.Identity{Kind: "email", Value: a.Address}, Name: toUTF8(a.Name)})
				}
			}
		}
	}
	for _, key := range []string{"Delivered-To", "X-Original-To", "Envelope-To"} {
		for _, v := range h.h.Values(key) {
			recipients = append(recipients, toUTF8(strings.Trim(strings.TrimSpace(v), "<>")))
		}
	}
	return recipients
}

// senderFields are where the sender is looked for, in order.
var senderFields = []string{"From", "Sender", "Reply-To", "Return-Path"}

// sender finds who sent the message: the first usable address of From,
// else of Sender, Reply-To or Return-Path. With none, From stays empty
// (the poller has the envelope) and the note says so.
func (p *parser) sender(h *header) {
	from := h.h.Values("From")
	for _, key := range senderFields {
		for _, v := range h.h.Values(key) {
			list := addresses(h.utf8(v))
			if len(list) == 0 {
				continue
			}
			p.in.From = store.Identity{Kind: "email", Value: list[0].Address}
			p.in.Name = toUTF8(list[0].Name)
			if key != "From" {
				if p.in.Name == "" && len(from) > 0 {
					p.in.Name = displayName(h.utf8(from[0]))
				}
				if len(from) == 0 || strings.TrimSpace(strings.Join(from, "")) == "" {
					p.note(i18n.S("The message has no From address; the sender was taken from %s.", key))
				} else {
					p.note(i18n.S("The From field (%s) holds no usable address; the sender was taken from %s.", shorten(h.utf8(from[0])), key))
				}
			}
			return
		}
	}
	if len(from) > 0 {
		p.in.Name = displayName(h.utf8(from[0]))
		p.note(i18n.S("No sender address could be read (From: %s).", shorten(h.utf8(from[0]))))
	} else {
		p.note(i18n.S("The message names no sender."))
	}
}

// readBody puts the text parts together and finishes the bounce.
func (p *parser) readBody(h *header) {
	in := &p.in
	// Some clients split the text around inline images into several parts.
	in.Text = strings.TrimSpace(strings.Join(p.plain, "\n"))
	in.HTML = strings.Join(p.html, "\n")
	if len(in.HTML) > 4*desk.MaxBody {
		in.HTML = cut(in.HTML, 4*desk.MaxBody)
		p.note(i18n.S("The HTML version was cut at %d KB.", 4*desk.MaxBody>>10))
	}
	if in.Text == "" && in.HTML != "" {
		in.Text = TextFromHTML(in.HTML)
	}
	if in.Text == "" && in.HTML == "" && !p.nested {
		// A message that only carries messages (a top-level message/rfc822,
		// a digest): the first one's text is what a reader sees.
		for _, a := range in.Attachments {
			if (a.ContentType == "message/rfc822" || a.ContentType == "message/global") && a.Data != nil && !p.src.timedOut {
				if inner, _, err := parseNested(a.Data); err == nil {
					in.Text, in.HTML = inner.Text, inner.HTML
				}
				break
			}
		}
	}
	if in.Text == "" && in.HTML == "" && len(in.Attachments) == 0 && !p.src.timedOut && !p.repair.deepSkipped {
		// The structure was beyond repair (a boundary that never comes):
		// the readable part of the raw body is better than nothing.
		if src, err := p.open(); err == nil {
			head, _ := io.ReadAll(io.LimitReader(src, desk.MaxBody))
			in.Text = rawBodyText(head)
		}
	}
	if len(in.Text) > desk.MaxBody {
		in.Text = cut(in.Text, desk.MaxBody)
		p.note(i18n.S("The text was cut at %d KB.", desk.MaxBody>>10))
	}
	if in.Auto != "bounce" && !p.report && plainBounce(in.Text, in.Subject, h.h.Get("Return-Path"), h.utf8(h.h.Get("From"))) {
		in.Auto = "bounce"
	}
	if in.Auto == "bounce" {
		for _, part := range p.returned {
			if in.Mail.BounceOf == "" {
				in.Mail.BounceOf = originalMessageID(part)
			}
		}
		if in.Mail.BounceOf == "" {
			in.Mail.BounceOf = quotedMessageID(in.Text)
		}
		if in.Mail.BounceReason == "" {
			in.Mail.BounceReason = textBounceReason(in.Text)
		}
	}
}

// walk reads one entity (the message or a part) and, for a multipart,
// the parts in it.
//
// A text part without a charset takes the one its multipart declares
// (inherited): signed mail often labels the multipart, not the text.
func (p *parser) walk(hdr textproto.Header, body io.Reader, depth int, parent, inherited string) error {
	if err := p.stopped(); err != nil {
		return err
	}
	ctype, params := contentType(hdr.Get("Content-Type"))
	if ctype == "" || !strings.Contains(ctype, "/") {
		ctype, params = "text/plain", map[string]string{"charset": params["charset"]} // RFC 2045
		if parent == "multipart/digest" {
			ctype = "message/rfc822"
		}
	}
	if strings.HasPrefix(ctype, "multipart/") && params["boundary"] == "" {
		ctype = "text/plain" // a multipart that names no boundary is read as text
	}
	if params["charset"] == "" && inherited != "" {
		params["charset"] = inherited
	}
	if !strings.HasPrefix(ctype, "multipart/") {
		return p.leaf(hdr, ctype, params, body)
	}
	if depth >= MaxDepth {
		return nil // the repair reader left this branch out and says so
	}
	mr := textproto.NewMultipartReader(body, params["boundary"])
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			// The rest of this multipart does not parse (a boundary that
			// never comes, a truncated message): what was read stays.
			return p.stopped()
		}
		p.parts++
		if p.parts > MaxParts {
			p.note(i18n.S("Only the first %d parts of the message were read.", MaxParts))
			return errStop
		}
		if err := p.walk(part.Header, part, depth+1, ctype, params["charset"]); err != nil {
			return err
		}
	}
}

// stopped says why reading must end: the time budget is spent or the
// source failed.
func (p *parser) stopped() error {
	switch {
	case p.src.err != nil:
		return p.src.err
	case p.src.timedOut:
		return errTooComplex
	case p.diskErr != nil:
		return p.diskErr
	}
	return nil
}

// leaf reads a part that holds content.
func (p *parser) leaf(hdr textproto.Header, ctype string, params map[string]string, raw io.Reader) error {
	h := &header{h: hdr}
	disposition, dparams := contentType(hdr.Get("Content-Disposition"))
	attachment := disposition == "attachment"
	// RFC 2183: the disposition's filename is the file's name; the type's
	// name parameter is the older way, used when there is no filename.
	filename := dparams["filename"]
	if filename == "" {
		filename = params["name"]
	}
	if !utf8.ValidString(filename) {
		// Raw 8-bit bytes: read once the header's charset is known.
		defer func(raw string, index int) {
			if index < len(p.in.Attachments) {
				p.rawNames = append(p.rawNames, rawName{index, raw})
			}
		}(filename, len(p.in.Attachments))
	}
	filename = decodeWords(h.utf8(filename))
	cid := strings.Trim(strings.TrimSpace(hdr.Get("Content-Id")), "<>")
	if hdr.Get("Content-Type") == "" && attachment {
		ctype = "application/octet-stream"
		if t, _, _ := strings.Cut(mime.TypeByExtension(filepath.Ext(filename)), ";"); t != "" {
			ctype = t
		}
	}
	if ctype != "text/plain" && ctype != "text/html" {
		attachment = true // inline images and other non-text parts are files too
	}

	cte := strings.ToLower(strings.TrimSpace(hdr.Get("Content-Transfer-Encoding")))
	var body io.Reader = raw
	uuencoded := false
	switch cte {
	case "x-uuencode", "uuencode", "x-uue", "uue":
		uuencoded = true
	default:
		encOnly := textproto.Header{}
		encOnly.Set("Content-Transfer-Encoding", cte)
		if e, _ := message.New(message.Header{Header: encOnly}, raw); e != nil {
			body = e.Body // an unknown encoding is read as it is
		}
	}

	if uuencoded {
		data, _ := io.ReadAll(io.LimitReader(body, MaxAttachmentSize*2))
		if err := p.stopped(); err != nil {
			return err
		}
		rest, files := uuExtract(data)
		if len(files) == 0 {
			if decoded, _, ok := uudecode(data); ok {
				files = []uuFile{{name: filename, data: decoded}}
			}
		}
		for _, f := range files {
			name := f.name
			if filename != "" && len(files) == 1 {
				name = filename
			}
			p.addFile(uuType(ctype, name), cid, name, f.data, "")
		}
		if len(files) == 0 && !attachment && ctype == "text/plain" {
			p.addText(ctype, params["charset"], rest)
		}
		return nil
	}

	if !attachment {
		text, err := io.ReadAll(io.LimitReader(body, maxText+1))
		if e := p.stopped(); e != nil {
			return e
		}
		_ = err // a body that fails to decode half-way keeps what was read
		if len(text) > maxText {
			text = text[:maxText]
			p.note(i18n.S("A text part longer than %d KB was cut.", maxText>>10))
		}
		if ctype == "text/plain" && bytes.Contains(text, []byte("begin ")) && uuBegin.Match(text) {
			var files []uuFile
			text, files = uuExtract(text)
			for _, f := range files {
				p.addFile(uuType("", f.name), "", f.name, f.data, "")
			}
		}
		label := params["charset"]
		if label == "" && ctype == "text/html" && !utf8.Valid(text) {
			// An HTML part may name its charset in a <meta> tag.
			if _, name, _ := htmlcharset.DetermineEncoding(text, "text/html"); name != "windows-1252" && name != "utf-8" {
				label = name
			}
		}
		p.addText(ctype, label, text)
		return nil
	}

	limit := int64(MaxAttachmentSize + 1)
	if p.spool != "" {
		limit = memPart + 1
	}
	data, _ := io.ReadAll(io.LimitReader(body, limit))
	if err := p.stopped(); err != nil {
		return err
	}
	path := ""
	if p.spool != "" && len(data) > memPart {
		var err error
		if path, err = p.spoolPart(data, body); err != nil {
			return err
		}
		if path == "" {
			p.note(i18n.S("An attachment larger than %d MB was left out.", MaxAttachmentSize>>20))
			return nil
		}
		data = nil
	}
	if len(data) > MaxAttachmentSize {
		p.note(i18n.S("An attachment larger than %d MB was left out.", MaxAttachmentSize>>20))
		return nil
	}
	switch ctype {
	case "message/delivery-status", "message/global-delivery-status":
		p.report = true
		p.in.Auto = "bounce"
		p.in.Mail.BounceReason = bounceReason(data)
		fallthrough
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers":
		if len(p.returned) < 4 && data != nil {
			p.returned = append(p.returned, data[:min(len(data), 64<<10)])
		}
		if filename == "" && (ctype == "message/rfc822" || ctype == "message/global") {
			filename = forwardedName(data)
		}
	}
	p.addFile(ctype, cid, filename, data, path)
	return nil
}

// addText adds a text part to the body, decoded from its charset.
func (p *parser) addText(ctype, charset string, b []byte) {
	if p.charset == "" && charset != "" {
		p.charset = charset
	}
	if p.textBytes+len(b) > 2*maxText {
		// Many text parts: more than the desk keeps of a body.
		p.note(i18n.S("Text parts past %d KB in all were left out.", 2*maxText>>10))
		return
	}
	p.textBytes += len(b)
	s := decodeText(b, charset)
	if ctype == "text/html" {
		p.html = append(p.html, s)
	} else {
		p.plain = append(p.plain, s)
	}
}

// addFile adds an attachment, held in data or in the spooled file path.
func (p *parser) addFile(ctype, cid, filename string, data []byte, path string) {
	if len(p.in.Attachments) >= MaxAttachments {
		p.note(i18n.S("Only the first %d attachments were kept.", MaxAttachments))
		if path != "" {
			os.Remove(path)
			p.spooled = slices.DeleteFunc(p.spooled, func(s string) bool { return s == path })
		}
		return
	}
	if filename == "" {
		filename = defaultName(ctype, cid)
	}
	a := store.Attachment{Filename: toUTF8(filename), ContentType: ctype, ContentID: cid, Data: data, Path: path}
	p.in.Attachments = append(p.in.Attachments, a)
}

// uuType is the content type of a uuencoded file, from its name when the
// part does not say.
func uuType(ctype, name string) string {
	if ctype != "" && ctype != "text/plain" && ctype != "application/octet-stream" {
		return ctype
	}
	if t, _, _ := strings.Cut(mime.TypeByExtension(filepath.Ext(name)), ";"); t != "" {
		return t
	}
	return "application/octet-stream"
}

// spoolPart writes a large part (what was read of it, then the rest) to a
// new file in the spool directory; "" when it is over MaxAttachmentSize.
func (p *parser) spoolPart(head []byte, rest io.Reader) (string, error) {
	f, err := os.CreateTemp(p.spool, "part-")
	if err != nil {
		p.diskErr = fmt.Errorf("spool attachment: %w", err)
		return "", p.diskErr
	}
	p.spooled = append(p.spooled, f.Name())
	drop := func() {
		f.Close()
		os.Remove(f.Name())
		p.spooled = p.spooled[:len(p.spooled)-1]
	}
	if _, err := f.Write(head); err != nil {
		drop()
		p.diskErr = fmt.Errorf("spool attachment: %w", err)
		return "", p.diskErr
	}
	n, err := io.Copy(f, io.LimitReader(rest, MaxAttachmentSize+1-int64(len(head))))
	if stop := p.stopped(); stop != nil {
		drop()
		return "", stop
	}
	var pathErr *os.PathError
	if errors.As(err, &pathErr) {
		drop()
		p.diskErr = fmt.Errorf("spool attachment: %w", err)
		return "", p.diskErr
	}
	// Any other error is the part's own (bad base64 half-way): what was
	// decoded is kept.
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		p.spooled = p.spooled[:len(p.spooled)-1]
		p.diskErr = fmt.Errorf("spool attachment: %w", err)
		return "", p.diskErr
	}
	if int64(len(head))+n > MaxAttachmentSize {
		os.Remove(f.Name())
		p.spooled = p.spooled[:len(p.spooled)-1]
		return "", nil
	}
	return f.Name(), nil
}

// removeSpooled removes every file this parse wrote.
func (p *parser) removeSpooled() {
	for _, path := range p.spooled {
		os.Remove(path)
	}
	p.spooled = nil
	for i := range p.in.Attachments {
		p.in.Attachments[i].Path = ""
	}
}

// readHeaderOnly reads the header of an embedded message leniently.
func readHeaderOnly(msg []byte) *header {
	r := newHeaderRepair(bytes.NewReader(msg))
	defer r.release()
	hdr, _ := textproto.ReadHeader(bufio.NewReader(r))
	return &header{h: hdr, enc: headerCharset(hdr, "")}
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
	if s := strings.TrimSpace(readHeaderOnly(msg).text("Subject")); s != "" {
		subject = s
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

// TextFromHTML makes the plain-text body of a message that has only HTML
// (desk.TextFromHTML: an import from another helpdesk needs it too).
func TextFromHTML(s string) string { return desk.TextFromHTML(s) }
