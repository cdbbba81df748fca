package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"onedesk/assets"
)

// staticFiles is the embedded agent app. Each file is gzipped once, when
// first asked for: doing them all at start-up cost 30-60 ms of every cold
// start.
type staticFiles struct {
	files map[string]*staticFile
}

type staticFile struct {
	body  []byte
	ctype string
	etag  string

	zip sync.Once
	gz  []byte // nil when gzip does not make it smaller
}

// gzipped is the file gzipped, or nil when that is not smaller.
func (f *staticFile) gzipped() []byte {
	f.zip.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(f.body)
		zw.Close()
		if buf.Len() < len(f.body) {
			f.gz = buf.Bytes()
		}
	})
	return f.gz
}

func loadStatic() *staticFiles {
	s := &staticFiles{files: map[string]*staticFile{}}
	fs.WalkDir(assets.Files, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(assets.Files, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(body)
		f := &staticFile{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		f.ctype = mime.TypeByExtension(path.Ext(p))
		if f.ctype == "" {
			f.ctype = "application/octet-stream"
		}
		s.files["/"+p] = f
		return nil
	})
	return s
}

// serve answers GET for an app file; any other path that is not a file
// gets the app's page, which routes on the client.
func (s *staticFiles) serve(c *fiber.Ctx) error {
	p := c.Path()
	f := s.files[p]
	cache := "public, max-age=300"
	if f == nil {
		if path.Ext(p) != "" {
			return &apiError{Status: fiber.StatusNotFound, Message: "no such file"}
		}
		f, cache = s.files["/index.html"], "no-cache"
	}
	if f == nil {
		return &apiError{Status: fiber.StatusNotFound, Message: "no such file"}
	}
	c.Set(fiber.HeaderContentType, f.ctype)
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderCacheControl, cache)
	c.Set(fiber.HeaderVary, "Accept-Encoding")
	if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		if gz := f.gzipped(); gz != nil {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(gz)
		}
	}
	return c.Send(f.body)
}
