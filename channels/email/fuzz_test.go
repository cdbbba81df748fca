package email

import (
	"testing"
	"unicode/utf8"
)

// FuzzParse feeds the parser arbitrary bytes: it must never panic, and
// whatever it accepts must be usable by the desk (valid UTF-8 text).
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"From: a@b.test\nSubject: hi\n\nhello\n",
		"From: =?UTF-8?B?w6k=?= <a@b.test>\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n--x\nContent-Type: application/octet-stream; name*=UTF-8''%C3%A9.bin\nContent-Disposition: attachment\n\nabc\n--x--\n",
		"From: a@b.test\nContent-Type: multipart/alternative; boundary=\"unterminated\n\n--unterminated\nContent-Type: text/html\n\n<p>x\n",
		"From: a@b.test\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n",
		"\x00\xff\xfe garbage",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		in, err := Parse(raw)
		if err != nil {
			return
		}
		if !utf8.ValidString(in.Text) || !utf8.ValidString(in.HTML) || !utf8.ValidString(in.Subject) || !utf8.ValidString(in.Name) {
			t.Fatalf("invalid UTF-8 out of %q", raw)
		}
		if in.ExternalID == "" || in.From.Value == "" {
			t.Fatalf("accepted without ids: %+v", in)
		}
	})
}
