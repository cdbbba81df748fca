package email

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// nestedMail is a message whose multiparts nest levels deep, each level
// with a text part: the shape that made parse time grow with the square
// of the depth.
func nestedMail(levels int) []byte {
	var b bytes.Buffer
	b.WriteString("From: deep@example.com\r\nSubject: nested\r\nMessage-ID: <nested@example.com>\r\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b0\"\r\n\r\n")
	for i := 0; i < levels; i++ {
		fmt.Fprintf(&b, "--b%d\r\nContent-Type: multipart/mixed; boundary=\"b%d\"\r\n\r\n", i, i+1)
	}
	fmt.Fprintf(&b, "--b%d\r\nContent-Type: text/plain\r\n\r\nthe bottom\r\n--b%d--\r\n", levels, levels)
	for i := levels - 1; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\r\n", i)
	}
	return b.Bytes()
}

// manyParts is a flat multipart of n small parts.
func manyParts(n int) []byte {
	var b bytes.Buffer
	b.WriteString("From: parts@example.com\r\nSubject: parts\r\nContent-Type: multipart/mixed; boundary=\"p\"\r\n\r\n")
	b.WriteString("--p\r\nContent-Type: text/plain\r\n\r\nfirst part\r\n")
	for i := 1; i < n; i++ {
		fmt.Fprintf(&b, "--p\r\nContent-Type: application/octet-stream; name=\"f%d.bin\"\r\n\r\nxx\r\n", i)
	}
	b.WriteString("--p--\r\n")
	return b.Bytes()
}

// hugeHeader is a message whose header holds size bytes of fields.
func hugeHeader(size int) []byte {
	var b bytes.Buffer
	b.WriteString("From: big@example.com\r\nSubject: big header\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "X-Filler-%d: %s\r\n", i, strings.Repeat("a", 70))
	}
	b.WriteString("\r\nbody after a big header\r\n")
	return b.Bytes()
}

// hugeField is a message with one header field of size bytes (no line
// break) before its From.
func hugeField(size int) []byte {
	return []byte("Subject: " + strings.Repeat("x", size) + "\r\nFrom: field@example.com\r\nTo: " + strings.Repeat("a@b.c, ", size/7) +
		"\r\nMessage-ID: <field@example.com>\r\n\r\nbody\r\n")
}

// manyReferences fills a header to its bound with References and To
// fields of many ids and addresses each.
func manyReferences() []byte {
	var b bytes.Buffer
	b.WriteString("From: refs@example.com\r\nSubject: refs\r\n")
	for i := 0; b.Len() < maxHeaderBytes; i++ {
		fmt.Fprintf(&b, "References: <a%d@x.test> <b%d@x.test> <c%d@x.test>\r\nTo: a%d@x.test, b%d@x.test\r\n", i, i, i, i, i)
	}
	b.WriteString("\r\nbody\r\n")
	return b.Bytes()
}

// longLines is a message of size bytes without a line break.
func longLines(size int) []byte {
	return []byte("From: long@example.com\r\nSubject: long\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n" +
		"Content-Type: text/plain\r\n\r\n" + strings.Repeat("-", size) + "\r\n--x--\r\n")
}

// hostileMail are the shapes BenchmarkParseHostile and TestParseHostile
// run.
var hostileMail = []struct {
	name string
	make func() []byte
}{
	{"nested-1k", func() []byte { return nestedMail(1000) }},
	{"nested-8k", func() []byte { return nestedMail(8000) }},
	{"nested-60k", func() []byte { return nestedMail(60000) }},
	{"parts-10k", func() []byte { return manyParts(10000) }},
	{"header-4MB", func() []byte { return hugeHeader(4 << 20) }},
	{"field-8MB", func() []byte { return hugeField(8 << 20) }},
	{"refs-and-addresses", manyReferences},
	{"line-8MB", func() []byte { return longLines(8 << 20) }},
}

// TestParseHostile: every hostile shape parses within the time limit,
// keeps what is readable and says what it left out.
func TestParseHostile(t *testing.T) {
	for _, c := range hostileMail {
		t.Run(c.name, func(t *testing.T) {
			raw := c.make()
			start := time.Now()
			in, err := Parse(raw)
			took := time.Since(start)
			t.Logf("%s (%d KB): %v, partial %q", c.name, len(raw)>>10, took, in.Partial.String())
			if err != nil {
				t.Fatal(err)
			}
			// The budget is 0.5 s; a busy machine gets slack, a parse that
			// ignores the budget takes minutes.
			if took > 3*time.Second {
				t.Fatalf("took %v", took)
			}
			if in.From.Value == "" || in.Subject == "" {
				t.Fatalf("header lost: %+v", in)
			}
		})
	}
	t.Run("depth limit keeps the shallow parts", func(t *testing.T) {
		in, err := Parse(nestedMail(100))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(in.Partial.String(), "nested more than") || in.Text != "" {
			t.Fatalf("partial %q text %q", in.Partial.String(), in.Text)
		}
		in, err = Parse(nestedMail(MaxDepth - 2))
		if err != nil || in.Partial.String() != "" || in.Text != "the bottom" {
			t.Fatalf("within the limit: partial %q text %q err %v", in.Partial.String(), in.Text, err)
		}
	})
	t.Run("a huge field is cut, the fields after it stay", func(t *testing.T) {
		in, err := Parse(hugeField(1 << 20))
		if err != nil {
			t.Fatal(err)
		}
		if in.From.Value != "field@example.com" || in.ExternalID != "field@example.com" || in.Text != "body" ||
			len(in.Subject) > maxFieldBytes || !strings.Contains(in.Partial.String(), "header") {
			t.Fatalf("from %q id %q text %q subject %d partial %q", in.From.Value, in.ExternalID, in.Text, len(in.Subject), in.Partial.String())
		}
	})
	t.Run("part limit", func(t *testing.T) {
		in, err := Parse(manyParts(MaxParts + 100))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(in.Partial.String(), "parts") || in.Text != "first part" || len(in.Attachments) != MaxAttachments {
			t.Fatalf("partial %q text %q attachments %d", in.Partial.String(), in.Text, len(in.Attachments))
		}
	})
}

// bigAttachmentMail carries a 3 MB attachment: spooled when parsed with a
// spool directory.
func bigAttachmentMail() []byte {
	return []byte("From: a@example.com\r\nSubject: big\r\nContent-Type: multipart/mixed; boundary=m\r\n\r\n" +
		"--m\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n" +
		"--m\r\nContent-Type: application/octet-stream; name=a.bin\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 3<<20/18) +
		"--m\r\nContent-Type: application/octet-stream; name=b.bin\r\n\r\n" + strings.Repeat("0123456789abcdef\r\n", 3<<20/18) +
		"\r\n--m--\r\n")
}

// TestParseTimeoutLeavesNoFiles: a parse that runs out of time keeps
// the header, says why, and removes the files it spooled.
func TestParseTimeoutLeavesNoFiles(t *testing.T) {
	defer func(b time.Duration) { parseBudget = b }(parseBudget)
	parseBudget = time.Minute // the ordinary parse must not time out on a busy machine
	raw := bigAttachmentMail()
	dir := t.TempDir()
	in, _, err := parseSource(func() (io.Reader, error) { return bytes.NewReader(raw), nil }, dir)
	if err != nil || len(in.Attachments) != 2 || in.Attachments[0].Path == "" {
		t.Fatalf("ordinary parse: %v %+v", err, in.Attachments)
	}
	for _, a := range in.Attachments {
		os.Remove(a.Path)
	}

	parseBudget = 0
	in, _, err = parseSource(func() (io.Reader, error) { return bytes.NewReader(raw), nil }, dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(in.Partial.String(), "too complex") || in.ExternalID == "" {
		t.Fatalf("partial %q id %q", in.Partial.String(), in.ExternalID)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}

// failingReader is a source that breaks after n bytes, like a disk.
type failingReader struct {
	r io.Reader
	n int
}

var errDisk = errors.New("disk read failed")

func (f *failingReader) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errDisk
	}
	if len(p) > f.n {
		p = p[:f.n]
	}
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// TestParseSourceFailure: a source that cannot be read is an error (the
// poller retries; the message is not its fault), and no file is left.
func TestParseSourceFailure(t *testing.T) {
	defer func(b time.Duration) { parseBudget = b }(parseBudget)
	parseBudget = time.Minute // the failure, not the clock, must end the parse
	raw := bigAttachmentMail()
	dir := t.TempDir()
	// Fails in the second attachment, after the first was spooled.
	_, _, err := parseSource(func() (io.Reader, error) { return &failingReader{bytes.NewReader(raw), len(raw) - 1<<20}, nil }, dir)
	if !errors.Is(err, errDisk) {
		t.Fatalf("err %v", err)
	}
	if left, _ := os.ReadDir(dir); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
	// A spool directory that cannot be written is an error too.
	_, _, err = parseSource(func() (io.Reader, error) { return bytes.NewReader(raw), nil }, dir+"/missing")
	if err == nil {
		t.Fatal("spool failure hidden")
	}
}
