package desk

import (
	"mime"
	"net/http"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"onedesk/store"
)

// customerFileTypes are the kinds of files customers may send (in chat, on
// forms), judged by content: the name and the type a browser claims are
// not trusted. Pictures, PDFs and plain text.
var customerFileTypes = map[string]bool{
	"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true,
	"application/pdf": true, "text/plain; charset=utf-8": true,
}

// CustomerFile checks a file a customer sent and makes it an attachment:
// ErrFileType when its content is not of a kind customers may send.
func CustomerFile(name string, data []byte) (*store.Attachment, error) {
	typ := http.DetectContentType(data)
	if !customerFileTypes[typ] {
		return nil, ErrFileType
	}
	typ, _, _ = mime.ParseMediaType(typ)
	return &store.Attachment{Filename: fileName(name, typ), ContentType: typ, Size: int64(len(data)), Data: data}, nil
}

// ErrFileType is a file of a kind customers may not send.
var ErrFileType = &InputError{Field: "file", Message: "send a picture, a PDF or a text file"}

// fileName keeps the base of what the browser called the file, or makes
// one from its type.
func fileName(name, typ string) string {
	name = filepath.Base(strings.ReplaceAll(name, "\\", "/"))
	if utf8.RuneCountInString(name) > 200 {
		name = string([]rune(name)[:200])
	}
	if name == "" || name == "." || name == "/" {
		exts, _ := mime.ExtensionsByType(typ)
		name = "file"
		if len(exts) > 0 {
			name += exts[0]
		}
	}
	return name
}
