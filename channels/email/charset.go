package email

import (
	"bytes"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"github.com/saintfish/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/traditionalchinese"
)

// supersets maps legacy charset labels to the charset senders really
// use under them: mail labelled gb2312 is written in GBK or GB18030,
// latin-1 and us-ascii mail in Windows-1252, and so on. Decoding with the
// superset reads correctly labelled text the same and mislabelled text too.
var supersets = map[string]encoding.Encoding{
	"gb2312":         simplifiedchinese.GB18030,
	"gb_2312-80":     simplifiedchinese.GB18030,
	"csgb2312":       simplifiedchinese.GB18030,
	"euc-cn":         simplifiedchinese.GB18030,
	"x-euc-cn":       simplifiedchinese.GB18030,
	"gbk":            simplifiedchinese.GB18030,
	"gb-18030":       simplifiedchinese.GB18030, // the detector's name
	"cp936":          simplifiedchinese.GB18030,
	"x-gbk":          simplifiedchinese.GB18030,
	"iso-8859-1":     charmap.Windows1252,
	"iso8859-1":      charmap.Windows1252,
	"latin1":         charmap.Windows1252,
	"us-ascii":       charmap.Windows1252,
	"ascii":          charmap.Windows1252,
	"ks_c_5601-1987": korean.EUCKR, // x/text's EUC-KR is CP949 (UHC)
	"ks_c_5601":      korean.EUCKR,
	"euc-kr":         korean.EUCKR,
	"cp949":          korean.EUCKR,
	"shift_jis":      japanese.ShiftJIS, // x/text's Shift_JIS is Windows-31J
	"shift-jis":      japanese.ShiftJIS,
	"sjis":           japanese.ShiftJIS,
	"x-sjis":         japanese.ShiftJIS,
	"windows-31j":    japanese.ShiftJIS,
	"cp932":          japanese.ShiftJIS,
	"big5":           traditionalchinese.Big5, // x/text's Big5 has the HKSCS extensions
	"big5-hkscs":     traditionalchinese.Big5,
	"iso-8859-8-i":   charmap.ISO8859_8,
	"x-mac-roman":    charmap.Macintosh,
}

// lookupCharset finds the decoder for a charset label, or nil when the
// label names nothing known.
func lookupCharset(label string) encoding.Encoding {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	if label == "" {
		return nil
	}
	if enc, ok := supersets[label]; ok {
		return enc
	}
	if enc, err := htmlindex.Get(label); err == nil && enc != nil {
		return enc
	}
	// go-message's table knows IANA aliases and the UTF-7 we register.
	if _, err := charset.Reader(label, bytes.NewReader(nil)); err == nil {
		return readerEncoding{label}
	}
	return nil
}

// readerEncoding decodes through go-message's charset table, for the few
// labels the WHATWG index does not know (UTF-7, rare IANA aliases).
type readerEncoding struct{ label string }

func (e readerEncoding) NewDecoder() *encoding.Decoder { return nil }
func (e readerEncoding) NewEncoder() *encoding.Encoder { return nil }

// charsetReader is the CharsetReader for RFC 2047 words: it applies the
// same supersets and fallbacks as message bodies.
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	b, err := io.ReadAll(io.LimitReader(input, maxHeaderValue))
	if err != nil {
		return nil, err
	}
	return strings.NewReader(decodeText(b, label)), nil
}

// maxHeaderValue bounds the bytes one header value is decoded from.
const maxHeaderValue = 64 << 10

// detectSample is how much text the charset detector looks at: enough to
// tell, small enough to stay fast on any part.
const detectSample = 16 << 10

// decodeText turns text bytes in the declared charset into UTF-8. A label
// that lies, is unknown or is missing is answered by detection; the
// result is always valid UTF-8.
func decodeText(b []byte, label string) string {
	return fixC1(decodeLabelled(b, label))
}

// fixC1 reads C1 control characters (U+0080–U+009F), which no one types,
// as the Windows-1252 characters whose bytes they are: text that went
// through a Latin-1 decoder somewhere (a euro sign becoming U+0080).
func fixC1(s string) string {
	if !hasC1(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r >= 0x80 && r <= 0x9f {
			if d, err := charmap.Windows1252.NewDecoder().String(string([]byte{byte(r)})); err == nil {
				b.WriteString(d)
				continue
			}
		}
		b.WriteRune(r)
	}
	return b.String()
}

// hasC1 looks for U+0080–U+009F, which UTF-8 writes as 0xC2 0x80–0x9F.
func hasC1(s string) bool {
	for i := strings.IndexByte(s, 0xc2); i >= 0 && i+1 < len(s); {
		if s[i+1] >= 0x80 && s[i+1] <= 0x9f {
			return true
		}
		next := strings.IndexByte(s[i+1:], 0xc2)
		if next < 0 {
			break
		}
		i += 1 + next
	}
	return false
}

func decodeLabelled(b []byte, label string) string {
	label = strings.ToLower(strings.Trim(strings.TrimSpace(label), `"'`))
	ascii := isASCII(b)
	if ascii && !strings.Contains(label, "utf-7") && !strings.HasPrefix(label, "iso-2022") && !strings.HasPrefix(label, "hz") {
		return string(b)
	}
	if strings.HasPrefix(label, "utf-8") || label == "utf8" {
		if utf8.Valid(b) || mostlyUTF8(b) {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		label = "" // says UTF-8 but is not: find out what it is
	}
	enc := lookupCharset(label)
	// Text that is valid UTF-8 under a single-byte label is UTF-8: legacy
	// text almost never forms valid multi-byte sequences by chance.
	if _, single := enc.(*charmap.Charmap); single && utf8.Valid(b) {
		return string(b)
	}
	if enc != nil && multiByte(enc) && loneHighBytes(b) {
		// Every 8-bit byte stands alone between ASCII: no double-byte
		// text looks like that, Windows-1252 punctuation (’ “ –) does.
		enc = charmap.Windows1252
	}
	if enc == nil {
		if utf8.Valid(b) || mostlyUTF8(b) {
			return strings.ToValidUTF8(string(b), "\uFFFD")
		}
		enc = detectCharset(b)
	}
	if s, ok := decodeWith(enc, b); ok {
		if strings.Count(s, "\uFFFD") > bytes.Count(b, []byte("\uFFFD")) {
			// Some bytes do not fit the label: if the detector names a
			// charset they all fit, the label lied (gb2312 on
			// Windows-1252 text).
			if alt := detectCharset(b); alt != enc {
				if d, ok := decodeStrict(alt, b); ok {
					return d
				}
			}
		}
		return s
	}
	// The label is wrong after all (bytes it cannot hold): detect.
	if utf8.Valid(b) {
		return string(b)
	}
	if s, ok := decodeWith(detectCharset(b), b); ok {
		return s
	}
	s, _ := decodeWith(charmap.Windows1252, b)
	return s
}

// multiByte tells the East Asian double-byte charsets.
func multiByte(enc encoding.Encoding) bool {
	switch enc {
	case simplifiedchinese.GB18030, simplifiedchinese.GBK, traditionalchinese.Big5, korean.EUCKR, japanese.ShiftJIS, japanese.EUCJP:
		return true
	}
	return false
}

// loneHighBytes tells text whose every byte above 0x7F sits between two
// ASCII bytes.
func loneHighBytes(b []byte) bool {
	seen := false
	for i, c := range b {
		if c < 0x80 {
			continue
		}
		if i == 0 || i == len(b)-1 || b[i-1] >= 0x80 || b[i+1] >= 0x80 {
			return false
		}
		seen = true
	}
	return seen
}

// mostlyUTF8 tells UTF-8 text with a few broken bytes (a character cut
// at the end, a stray byte) from text in another charset: legacy text
// makes valid multi-byte sequences only by rare chance.
func mostlyUTF8(b []byte) bool {
	multi, bad := 0, 0
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			bad++
		case size > 1:
			multi++
		}
		i += size
	}
	return multi >= 4 && (bad*20 < multi || bad <= 3 && bad*4 < multi)
}

// decodeWith decodes b; ok is false when the bytes do not fit enc.
func decodeWith(enc encoding.Encoding, b []byte) (string, bool) {
	if re, isReader := enc.(readerEncoding); isReader {
		r, err := charset.Reader(re.label, bytes.NewReader(b))
		if err != nil {
			return "", false
		}
		out, err := io.ReadAll(r)
		s := strings.ToValidUTF8(string(out), "\uFFFD")
		return s, err == nil
	}
	if enc == nil {
		return "", false
	}
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return strings.ToValidUTF8(string(b), "\uFFFD"), false
	}
	s := strings.ToValidUTF8(string(out), "\uFFFD")
	// Decoders answer bytes they cannot map with U+FFFD: too many of
	// them means the bytes are not in this charset.
	if bad := strings.Count(s, "\uFFFD") - bytes.Count(b, []byte("\uFFFD")); bad > 0 && bad*20 > utf8.RuneCountInString(s) {
		return s, false
	}
	return s, true
}

// decodeStrict decodes b only when every byte fits enc: for short values
// (header fields), where one misread byte is a wrong charset.
func decodeStrict(enc encoding.Encoding, b []byte) (string, bool) {
	s, ok := decodeWith(enc, b)
	return s, ok && strings.Count(s, "\uFFFD") == bytes.Count(b, []byte("\uFFFD"))
}

// detectCharset names the charset of text that carries no usable label,
// by the statistics ICU uses (github.com/saintfish/chardet, a Go port of
// ICU's detector). Short samples are unreliable, so Latin answers are
// read as Windows-1252, which holds every Latin-1 text.
func detectCharset(b []byte) encoding.Encoding {
	if len(b) > detectSample {
		b = b[:detectSample]
	}
	all, err := chardet.NewTextDetector().DetectAll(b)
	if err != nil {
		return charmap.Windows1252
	}
	for _, res := range all {
		// Mail text is never UTF-16 or UTF-32 without saying so, and
		// UTF-8 has been ruled out by the caller.
		if strings.HasPrefix(res.Charset, "UTF-") {
			continue
		}
		if enc := lookupCharset(res.Charset); enc != nil {
			return enc
		}
	}
	return charmap.Windows1252
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// legacyText decodes text in a charset nobody named.
func legacyText(b []byte) string { return decodeText(b, "") }
