package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io/fs"
	"maps"
	"mime"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"onedesk/assets"
)

// staticFiles is the embedded agent app. Each file is gzipped once, when
// first asked for: doing them all at start-up cost 30-60 ms of every cold
// start.
type staticFiles struct {
	files   map[string]*staticFile
	version string // a hash of every embedded file: the service worker's cache name
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
		s.files["/"+p] = newStaticFile(p, body)
		return nil
	})
	s.addShellWorker()
	return s
}

func newStaticFile(name string, body []byte) *staticFile {
	sum := sha256.Sum256(body)
	f := &staticFile{body: body, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
	f.ctype = mime.TypeByExtension(path.Ext(name))
	switch {
	case strings.HasSuffix(name, ".webmanifest"):
		f.ctype = "application/manifest+json"
	case f.ctype == "":
		f.ctype = "application/octet-stream"
	}
	return f
}

// addShellWorker serves the service worker at /sw.js (its scope is the
// whole app) with this build's version and the list of the shell's files
// written in, and the favicon where browsers look for it. A new build has
// a new version, so browsers install the new shell and drop the old.
func (s *staticFiles) addShellWorker() {
	names := slices.Sorted(maps.Keys(s.files))
	h := sha256.New()
	var shell []string
	for _, name := range names {
		h.Write([]byte(name + s.files[name].etag))
		if strings.HasPrefix(name, "/app/") && name != "/app/sw.js" {
			shell = append(shell, name)
		}
	}
	s.version = hex.EncodeToString(h.Sum(nil)[:8])
	if ico := s.files["/app/icons/favicon.ico"]; ico != nil {
		s.files["/favicon.ico"] = ico
	}
	worker := s.files["/app/sw.js"]
	if worker == nil {
		return
	}
	list, _ := json.Marshal(shell)
	body := strings.Replace(string(worker.body), "'__SHELL_VERSION__'", strconv.Quote(s.version), 1)
	body = strings.Replace(body, "__SHELL_FILES__", string(list), 1)
	s.files["/sw.js"] = newStaticFile("sw.js", []byte(body))
	delete(s.files, "/app/sw.js") // only at the root, where its scope is the app
}

// serve answers GET for an app file; any other path that is not a file
// gets the app's page, which routes on the client.
func (s *staticFiles) serve(c *fiber.Ctx) error {
	p := c.Path()
	f := s.files[p]
	cache := "public, max-age=300"
	if p == "/sw.js" {
		cache = "no-cache" // the browser checks for a new build on each visit
	}
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
