package email

import (
	"mime"
	netmail "net/mail"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/textproto"
	"golang.org/x/text/encoding"
)

// contentType reads a Content-Type (or Content-Disposition) value: the
// type in lower case and its parameters. A broken parameter list still
// gives the type and the parameters that matter.
func contentType(v string) (string, map[string]string) {
	ctype, params, err := mime.ParseMediaType(v)
	if err == nil {
		// RFC 2231 values in a charset Go does not decode are left out.
		for _, m := range extParam.FindAllStringSubmatch(v, 8) {
			if key := strings.ToLower(m[1]); params[key] == "" {
				if val, err := url.PathUnescape(m[2]); err == nil {
					params[key] = val
				}
			}
		}
		return strings.ToLower(ctype), params
	}
	t, _, _ := strings.Cut(v, ";")
	if ctype != "" {
		t = ctype
	}
	params = map[string]string{}
	for key, re := range map[string]*regexp.Regexp{"boundary": boundaryParam, "charset": charsetParam, "name": nameParam, "filename": filenameParam} {
		if m := re.FindStringSubmatch(v); m != nil {
			params[key] = m[1] + m[2]
		}
	}
	return strings.ToLower(strings.TrimSpace(t)), params
}

// extParam finds an RFC 2231 parameter value: key*=charset'lang'value.
var extParam = regexp.MustCompile(`(?i)\b(boundary|charset|name|filename)\*(?:0\*)?=\s*"?[^'";\s]*'[^'";\s]*'([^";\s]*)"?`)

var filenameParam = regexp.MustCompile(`(?i)\bfilename\s*=\s*(?:"([^"]*)"|([^\s;"]+))`)

// header is a message's header, each field read on its own: a field that
// does not parse loses that field alone.
type header struct {
	h   textproto.Header
	enc encoding.Encoding // what raw 8-bit bytes in field values are read as
}

// text is a field's value as UTF-8 text, RFC 2047 words decoded.
func (h *header) text(key string) string {
	return decodeWords(h.utf8(h.h.Get(key)))
}

// utf8 reads a raw value's 8-bit bytes in the header's charset.
func (h *header) utf8(v string) string {
	if utf8.ValidString(v) {
		return v
	}
	if h.enc != nil {
		if s, ok := decodeStrict(h.enc, []byte(v)); ok {
			return s
		}
	}
	return decodeText([]byte(v), "")
}

// headerCharset is what raw 8-bit bytes in a header are: the charset the
// message's text declares when it reads them cleanly, else what the
// detector makes of all such bytes together (one field alone is often too
// short to tell).
func headerCharset(h textproto.Header, hint string) encoding.Encoding {
	var values []string
	for f := h.Fields(); f.Next(); {
		values = append(values, f.Value())
	}
	return rawCharset(values, hint)
}

// rawCharset is headerCharset for any set of raw values; nil when all are
// UTF-8 already.
func rawCharset(values []string, hint string) encoding.Encoding {
	var sample []byte
	for _, v := range values {
		if !utf8.ValidString(v) && len(sample) < detectSample {
			sample = append(append(sample, v...), '\n')
		}
	}
	if sample == nil {
		return nil
	}
	if enc := lookupCharset(hint); enc != nil {
		if _, ok := decodeStrict(enc, sample); ok {
			return enc
		}
	}
	return detectCharset(sample)
}

// decodeWords decodes RFC 2047 words, which senders also put in
// parameters and addresses; legacy labels read as their supersets.
func decodeWords(s string) string {
	d, err := (&mime.WordDecoder{CharsetReader: charsetReader}).DecodeHeader(s)
	if err != nil {
		return toUTF8(s)
	}
	// Go decodes ISO-8859-1 words itself, so Windows-1252 bytes in them
	// come out as C1 controls.
	return fixC1(toUTF8(d))
}

var addressParser = &netmail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: charsetReader}}

// qWord is an RFC 2047 word in Q encoding.
var qWord = regexp.MustCompile(`=\?[^?\s]+\?[qQ]\?[^?\s]*\?=`)

// angleAddr is a display name and an address in angle brackets.
var angleAddr = regexp.MustCompile(`^\s*([^<>]*?)\s*<([^<>@\s"]+@[^<>@\s"]+)>`)

// addrSpec finds a plausible address inside text that does not parse.
var addrSpec = regexp.MustCompile(`[A-Za-z0-9!#$%&'*+/=?^_{|}~.-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+`)

// addresses reads an address list leniently: the list as the standard
// says, else each comma-separated piece on its own, else whatever looks
// like an address in a piece. Only usable addresses (local@domain) come
// back.
func addresses(v string) []*netmail.Address {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil
	}
	// A comma inside a Q-encoded word is text, not a list separator.
	v = qWord.ReplaceAllStringFunc(v, func(w string) string { return strings.ReplaceAll(w, ",", "=2C") })
	if list, err := addressParser.ParseList(v); err == nil {
		return usable(list)
	}
	var out []*netmail.Address
	for _, piece := range splitAddresses(v) {
		if a, err := addressParser.Parse(piece); err == nil {
			out = append(out, usable([]*netmail.Address{a})...)
			continue
		}
		if m := angleAddr.FindStringSubmatch(piece); m != nil {
			// Addresses without commas between them: the first.
			name := strings.TrimSpace(strings.Trim(strings.TrimSpace(m[1]), `"`))
			out = append(out, usable([]*netmail.Address{{Name: decodeWords(name), Address: m[2]}})...)
			continue
		}
		if m := addrSpec.FindStringIndex(piece); m != nil && (m[0] == 0 || piece[m[0]-1] != '"') {
			name := strings.TrimSpace(piece[:m[0]])
			name = strings.TrimSpace(strings.Trim(strings.TrimSuffix(name, "<"), `" `))
			out = append(out, &netmail.Address{Name: decodeWords(name), Address: piece[m[0]:m[1]]})
		}
	}
	return out
}

// usable keeps the addresses a reply can go to: local part and domain,
// no spaces.
func usable(list []*netmail.Address) []*netmail.Address {
	out := list[:0]
	for _, a := range list {
		local, domain, ok := strings.Cut(a.Address, "@")
		if ok && local != "" && domain != "" && !strings.ContainsAny(a.Address, " \t\"<>(),;:\\") {
			out = append(out, a)
		}
	}
	return out
}

// displayName is the name a From without a usable address still gives:
// its comment ("x at example.com (Name)", as list archives write it) or
// its text without anything address-like.
func displayName(v string) string {
	v = decodeWords(v)
	if m := commentName.FindStringSubmatch(v); m != nil && strings.TrimSpace(m[1]) != "" {
		return strings.TrimSpace(m[1])
	}
	v = angled.ReplaceAllString(v, " ")
	v = addressLike.ReplaceAllString(v, " ")
	return strings.Join(strings.Fields(strings.Trim(strings.TrimSpace(v), `"' `)), " ")
}

var (
	commentName = regexp.MustCompile(`\(([^()]*)\)`)
	angled      = regexp.MustCompile(`<[^<>]*>?`)
	addressLike = regexp.MustCompile(`\S*@\S*`)
)

// splitAddresses splits an address list at the commas outside quotes,
// angle brackets and comments.
func splitAddresses(v string) []string {
	var out []string
	quoted, angle, comment, start := false, 0, 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\':
			i++
		case c == '"':
			quoted = !quoted
		case quoted:
		case c == '<':
			angle++
		case c == '>' && angle > 0:
			angle--
		case c == '(':
			comment++
		case c == ')' && comment > 0:
			comment--
		case c == ',' && angle == 0 && comment == 0:
			out = append(out, v[start:i])
			start = i + 1
		}
	}
	return append(out, v[start:])
}

// msgIDs reads Message-ID style values leniently: every <id> in the
// value, or the bare value when it has no brackets and no spaces.
func msgIDs(v string) []string {
	v = toUTF8(v)
	var ids []string
	for _, m := range msgIDPattern.FindAllStringSubmatch(v, 50) {
		ids = append(ids, m[1])
	}
	if ids == nil {
		if bare := strings.TrimSpace(v); bare != "" && !strings.ContainsAny(bare, " \t<>") && strings.Contains(bare, "@") {
			ids = []string{bare}
		}
	}
	return ids
}

var msgIDPattern = regexp.MustCompile(`<([^<>\s]{1,500})>`)

// toUTF8 keeps text valid UTF-8 whatever a broken sender declared.
func toUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// shorten quotes a raw value in a note, cut to a readable length.
func shorten(s string) string {
	s = toUTF8(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	return s
}
