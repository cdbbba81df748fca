package email

import (
	"bytes"
	"io"
	"os"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParse feeds the parser arbitrary bytes. Whatever they are, it must
// not panic, not fail (nothing in a message is a reason to stop a
// mailbox), return within its time budget, give the desk valid UTF-8 and
// leave no spooled file that the result does not hold.
func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"From: a@b.test\nSubject: hi\n\nhello\n",
		"From: =?UTF-8?B?w6k=?= <a@b.test>\nContent-Type: multipart/mixed; boundary=x\n\n--x\nContent-Type: text/plain; charset=koi8-r\n\n\xf0\xd2\xc9\xd7\xc5\xd4\n--x\nContent-Type: application/octet-stream; name*=UTF-8''%C3%A9.bin\nContent-Disposition: attachment\n\nabc\n--x--\n",
		"From: a@b.test\nContent-Type: multipart/alternative; boundary=\"unterminated\n\n--unterminated\nContent-Type: text/html\n\n<p>x\n",
		"From: a@b.test\nContent-Transfer-Encoding: base64\n\n!!!not base64!!!\n",
		"\x00\xff\xfe garbage",
		// Nested and truncated MIME.
		string(nestedMail(60)),
		string(nestedMail(5)[:200]),
		"From: a@b.test\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: multipart/mixed; boundary=a\n\n--a\n--b\n--a--\n",
		"From: a@b.test\nContent-Type: multipart/mixed; boundary=a\n\n--a\nContent-Type: text/plain\nno blank line\n--a\nContent-Type: application/pdf; name=x.pdf\nContent-Transfer-Encoding: base64\n\nJVBERi0",
		"From: a@b.test\nContent-Type: multipart/mixed; boundary=\"\"\n\n--\n\n--\n",
		// Broken headers.
		"From sender@example.com Mon Jan  1 00:00:00 2024\nFrom: \"Millions Lottery Spain transfer\"@example.com>\nReply-To: win@example.net\nSubject: =?gb2312?B?xOO6ww==?=\n\nbody\n",
		"From: \nFrom: x\nSender: <>\nSubject: \xc4\xe3\xba\xc3\nContent-Type: text/plain; charset=x-unknown\n\n\xc4\xe3\xba\xc3\n",
		"Subject: uu\nContent-Type: text/plain\n\nsee file\nbegin 644 a.txt\n#86)C\n`\nend\n",
		"From: a@b.test\nContent-Type: multipart/report; report-type=delivery-status; boundary=r\n\n--r\nContent-Type: text/rfc822-headers\n\nMessage-ID: <x@y>\n--r--\n",
		"From: MAILER-DAEMON\nSubject: failure notice\n\nHi. This is the qmail-send program at mx.example.com.\n<a@b.c>:\nSorry, no mailbox here by that name. (#5.1.1)\n\n--- Below this line is a copy of the message.\n\nMessage-ID: <ours@shop.test>\n",
	} {
		f.Add([]byte(seed))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, raw []byte) {
		start := time.Now()
		in, _, err := parseSource(func() (io.Reader, error) { return bytes.NewReader(raw), nil }, dir)
		if took := time.Since(start); took > 2*time.Second {
			t.Fatalf("parse took %v on %q", took, raw)
		}
		if err != nil {
			t.Fatalf("failed on content: %v", err)
		}
		texts := []string{in.Text, in.HTML, in.Subject, in.Name, in.Partial.String(), in.Mail.BounceReason, in.Mail.BounceOf, in.ExternalID, in.From.Value}
		spooled := 0
		for _, a := range in.Attachments {
			texts = append(texts, a.Filename, a.ContentType)
			if a.Path != "" {
				spooled++
			}
		}
		for _, c := range in.CC {
			texts = append(texts, c.Name, c.Identity.Value)
		}
		for _, s := range texts {
			if !utf8.ValidString(s) {
				t.Fatalf("invalid UTF-8 %q out of %q", s, raw)
			}
		}
		if in.ExternalID == "" {
			t.Fatalf("no id: %+v", in)
		}
		if in.From.Value == "" && in.Partial.String() == "" {
			t.Fatalf("no sender and no word about it: %+v", in)
		}
		if left, _ := os.ReadDir(dir); len(left) != spooled {
			t.Fatalf("%d files left for %d spooled attachments", len(left), spooled)
		}
		for _, a := range in.Attachments {
			os.Remove(a.Path)
		}
	})
}
