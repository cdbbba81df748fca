package ui

import (
	"errors"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/valyala/fasthttp"
)

// fiberHandler serves the Fiber app on the net/http listener (which the
// websockets and the channels' handlers need). Unlike Fiber's adaptor it
// hands the request body over as a stream: each route reads what its
// limit allows (readBody), and a multipart upload goes to temporary files
// rather than into memory whole.
func (s *Server) fiberHandler() http.Handler {
	serve := s.app.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var fctx fasthttp.RequestCtx
		fctx.Init(&emptyRequest, remoteAddr(r.RemoteAddr), nil)
		req := &fctx.Request
		req.Header.SetMethod(r.Method)
		req.SetRequestURI(r.RequestURI)
		req.Header.SetHost(r.Host)
		for k, vs := range r.Header {
			if k == "Content-Length" {
				continue // SetBodyStream says it
			}
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		if r.Body != nil && r.Body != http.NoBody {
			req.SetBodyStream(&cappedBody{r: r.Body, left: maxUploadBody}, int(r.ContentLength))
		}
		defer req.RemoveMultipartFormFiles()
		serve(&fctx)
		h := w.Header()
		stream := fctx.Response.IsBodyStream()
		fctx.Response.Header.VisitAll(func(k, v []byte) {
			if stream && string(k) == fiber.HeaderTransferEncoding {
				return // net/http chunks a body of unknown length itself
			}
			h.Add(string(k), string(v))
		})
		w.WriteHeader(fctx.Response.StatusCode())
		if stream {
			// A streamed answer (a customer's export) goes out as it is
			// made, never held whole; closing the stream stops its writer
			// when the client has gone.
			io.Copy(w, fctx.Response.BodyStream())
			fctx.Response.CloseBodyStream()
			return
		}
		w.Write(fctx.Response.Body())
	})
}

var emptyRequest fasthttp.Request

// remoteAddr is the peer as Fiber's c.IP() reads it.
func remoteAddr(hostport string) net.Addr {
	ap, err := netip.ParseAddrPort(hostport)
	if err != nil {
		return nil
	}
	return net.TCPAddrFromAddrPort(ap)
}

// errBodyTooLarge ends the read of a body past its route's limit.
var errBodyTooLarge = errors.New("the request body is too large")

// cappedBody reads at most left bytes, then fails with errBodyTooLarge:
// no route takes more than the largest limit, whatever it reads.
type cappedBody struct {
	r    io.Reader
	left int64
	over bool // the body went past the limit
}

func (b *cappedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more than allowed tells a body at the limit from a longer one.
		var one [1]byte
		if n, _ := b.r.Read(one[:]); n > 0 {
			b.over = true
			return 0, errBodyTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

// bodyLimit is how large a route's request body may be: a login's is
// small, a reply's with its files large, the rest hold a JSON object.
func bodyLimit(r route, contentType string) int64 {
	switch {
	case strings.HasPrefix(r.path, "/api/auth/") || r.path == "/api/setup":
		return maxLoginBody
	case uploadRoutes[r.method+" "+r.path] && strings.HasPrefix(contentType, fiber.MIMEMultipartForm):
		return maxUploadBody
	case r.path == "/api/import":
		return maxImportBody
	case strings.HasPrefix(r.path, "/api/customers/import"):
		return maxCSVBody
	}
	return maxJSONBody
}

// readBody applies the route's body limit. A multipart upload stays a
// stream, read into temporary files by c.MultipartForm; any other body is
// read here, so that c.Body() is the whole of it.
func readBody(c *fiber.Ctx, r route) error {
	req := c.Request()
	stream := req.BodyStream()
	if stream == nil {
		return nil
	}
	limit := bodyLimit(r, c.Get(fiber.HeaderContentType))
	if n := req.Header.ContentLength(); n > 0 && int64(n) > limit {
		return bodyTooLarge(limit)
	}
	if limit == maxUploadBody {
		// The stream is capped at this already (fiberHandler).
		c.Locals(uploadBodyKey, stream)
		return nil
	}
	capped := &cappedBody{r: stream, left: limit}
	body, err := io.ReadAll(capped)
	if errors.Is(err, errBodyTooLarge) {
		return bodyTooLarge(limit)
	}
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "", "the body could not be read: %v", err)
	}
	req.SetBodyRaw(body)
	return nil
}

func bodyTooLarge(limit int64) error {
	return apiErr(fiber.StatusRequestEntityTooLarge, "", "the request body is larger than %d KB", limit>>10)
}

type uploadBodyKeyType struct{}

var uploadBodyKey uploadBodyKeyType

// multipartForm reads an upload route's multipart body, its files into
// temporary files (removed when the request is answered).
func multipartForm(c *fiber.Ctx) (*multipart.Form, error) {
	form, err := c.MultipartForm()
	if err == nil {
		return form, nil
	}
	// mime/multipart reports a cut body as an unexpected end.
	if b, ok := c.Locals(uploadBodyKey).(*cappedBody); ok && b.over {
		return nil, bodyTooLarge(maxUploadBody)
	}
	return nil, fieldErr("", "the form could not be read: %v", err)
}
