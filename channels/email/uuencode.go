package email

import (
	"bytes"
	"regexp"
	"strings"
)

// No maintained Go library decodes uuencode (Go's standard library has
// none), and the format is a few lines: each line starts with its length
// as a character, then groups of four characters carry three bytes.

// uuBegin finds the line that opens a uuencoded file: "begin 644 name".
var uuBegin = regexp.MustCompile(`(?m)^begin +[0-7]{3,4} +([^\r\n]+?)[ \t]*\r?$`)

// uuFile is one uuencoded file found in a body.
type uuFile struct {
	name string
	data []byte
}

// uuExtract takes the uuencoded files out of text: what is left of the
// text and the files, in order. A begin line whose block does not decode
// is left in the text.
func uuExtract(text []byte) ([]byte, []uuFile) {
	var files []uuFile
	var rest []byte
	for {
		m := uuBegin.FindSubmatchIndex(text)
		if m == nil {
			return append(rest, text...), files
		}
		data, n, ok := uudecode(text[m[1]:])
		if !ok {
			rest = append(rest, text[:m[1]]...)
			text = text[m[1]:]
			continue
		}
		rest = append(rest, text[:m[0]]...)
		files = append(files, uuFile{name: strings.TrimSpace(string(text[m[2]:m[3]])), data: data})
		text = text[m[1]+n:]
	}
}

// uudecode decodes the lines after a begin line up to its "end" line: the
// data, how many bytes of b it used, and whether an end line was found.
func uudecode(b []byte) ([]byte, int, bool) {
	var out []byte
	pos := 0
	for pos < len(b) {
		end := bytes.IndexByte(b[pos:], '\n')
		next := len(b)
		if end >= 0 {
			next = pos + end + 1
		}
		line := bytes.TrimRight(b[pos:next], "\r\n")
		pos = next
		if len(line) == 0 {
			continue
		}
		if string(bytes.TrimSpace(line)) == "end" {
			return out, pos, true
		}
		n := int((line[0] - ' ') & 63)
		if n == 0 {
			continue // the "`" line before end
		}
		if len(out)+n > MaxAttachmentSize {
			return nil, pos, false
		}
		chunk := make([]byte, 0, n+2)
		for i := 1; len(chunk) < n; i += 4 {
			var c [4]byte
			for j := range 4 {
				if i+j < len(line) {
					c[j] = (line[i+j] - ' ') & 63
				}
			}
			chunk = append(chunk, c[0]<<2|c[1]>>4, c[1]<<4|c[2]>>2, c[2]<<6|c[3])
		}
		out = append(out, chunk[:n]...)
	}
	return nil, pos, false
}
