// Package graphtest is a local WhatsApp Cloud API (Graph API) server for
// tests and load runs. It speaks the documented shapes of GET
// /{phone-number-id} (fields display_phone_number, verified_name), POST
// /{phone-number-id}/messages (text, image/document/audio/video by media
// id, template), POST /{phone-number-id}/media (multipart), GET
// /{media-id} and the media download with the bearer token, answers Graph
// errors queued for a recipient, records every call, and builds the
// webhook deliveries WhatsApp posts (signed like Meta signs them).
package graphtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"onedesk/channels/metahook"
)

// The account the server knows.
const (
	PhoneNumberID = "106540352242922"
	WABAID        = "102290129340398"
	DisplayPhone  = "+1 555-010-0199"
	VerifiedName  = "Shop Support"
	Token         = "EAAGtestTokenForTheLocalGraphServer"
	AppSecret     = "0123456789abcdef0123456789abcdef"
)

// Call is one request the server got.
type Call struct {
	Method, Path string
	Body         map[string]any // the JSON body, or the form fields of a multipart one
	File         []byte         // an uploaded file
	FileType     string         // its part's Content-Type
	At           time.Time
}

// Failure is a Graph error answered instead of sending.
type Failure struct {
	Status  int
	Code    int
	Subcode int
	Message string
	After   int // messages sent as usual before this one fails
}

// Server is the fake Graph API.
type Server struct {
	*httptest.Server
	mu      sync.Mutex
	calls   []Call
	media   map[string]medium
	fail    map[string][]Failure // by recipient ("" for every call)
	next    int
	expired bool
}

type medium struct {
	data []byte
	mime string
}

// New starts a server on 127.0.0.1.
func New() *Server {
	s := &Server{media: map[string]medium{}, fail: map[string][]Failure{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// Stop closes the server.
func (s *Server) Stop() { s.Close() }

// Expire makes the token expired (Graph error 190) from now on, or good again.
func (s *Server) Expire(expired bool) {
	s.mu.Lock()
	s.expired = expired
	s.mu.Unlock()
}

// Fail queues failures for the next messages sent to a recipient (a
// wa_id without +; "" for any call).
func (s *Server) Fail(to string, f ...Failure) {
	s.mu.Lock()
	s.fail[to] = append(s.fail[to], f...)
	s.mu.Unlock()
}

// AddMedia keeps a file a customer sent and returns its media id.
func (s *Server) AddMedia(data []byte, mime string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	id := fmt.Sprintf("%d", 9000000+s.next)
	s.media[id] = medium{data, mime}
	return id
}

// Calls lists the calls made to a path ending ("/messages", "/media"; "" for all).
func (s *Server) Calls(suffix string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if strings.HasSuffix(c.Path, suffix) {
			out = append(out, c)
		}
	}
	return out
}

func graphError(w http.ResponseWriter, f Failure) {
	if f.Status == 0 {
		f.Status = http.StatusBadRequest
	}
	w.Header().Set("Content-Type", "application/json")
	if f.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	w.WriteHeader(f.Status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": f.Message, "type": "OAuthException",
		"code": f.Code, "error_subcode": f.Subcode, "fbtrace_id": "AbCdEf"}})
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

var expired = Failure{Status: http.StatusUnauthorized, Code: 190, Subcode: 463,
	Message: "Error validating access token: Session has expired on Tuesday, 03-Nov-26 09:00:00 PST."}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	call := Call{Method: r.Method, Path: r.URL.Path, At: time.Now()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if err := r.ParseMultipartForm(64 << 20); err == nil {
			call.Body = map[string]any{}
			for k, v := range r.MultipartForm.Value {
				call.Body[k] = v[0]
			}
			if fh := r.MultipartForm.File["file"]; len(fh) > 0 {
				f, _ := fh[0].Open()
				call.File, _ = io.ReadAll(f)
				f.Close()
				call.FileType = fh[0].Header.Get("Content-Type")
			}
		}
	} else if r.Body != nil {
		_ = json.NewDecoder(r.Body).Decode(&call.Body)
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	bad := s.expired || r.Header.Get("Authorization") != "Bearer "+Token
	s.mu.Unlock()
	path := strings.Trim(r.URL.Path, "/")
	if strings.HasPrefix(path, "v21.0/") {
		path = strings.TrimPrefix(path, "v21.0/")
	}
	if bad {
		graphError(w, expired)
		return
	}
	switch {
	case r.Method == http.MethodGet && path == PhoneNumberID:
		answer(w, map[string]any{"display_phone_number": DisplayPhone, "verified_name": VerifiedName, "id": PhoneNumberID})
	case r.Method == http.MethodGet && strings.HasPrefix(path, "download/"):
		s.mu.Lock()
		m, ok := s.media[strings.TrimPrefix(path, "download/")]
		s.mu.Unlock()
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", m.mime)
		w.Write(m.data)
	case r.Method == http.MethodGet && !strings.Contains(path, "/"):
		s.mu.Lock()
		m, ok := s.media[path]
		s.mu.Unlock()
		if !ok {
			graphError(w, Failure{Code: 100, Subcode: 33, Message: "Unsupported get request. Object with ID '" + path + "' does not exist"})
			return
		}
		answer(w, map[string]any{"messaging_product": "whatsapp", "url": s.URL + "/download/" + path, "mime_type": m.mime,
			"sha256": "x", "file_size": len(m.data), "id": path})
	case r.Method == http.MethodPost && path == PhoneNumberID+"/media":
		if call.Body["messaging_product"] != "whatsapp" || call.File == nil {
			graphError(w, Failure{Code: 100, Message: "(#100) The parameter messaging_product is required."})
			return
		}
		id := s.AddMedia(call.File, call.FileType)
		answer(w, map[string]any{"id": id})
	case r.Method == http.MethodPost && path == PhoneNumberID+"/messages":
		to, _ := call.Body["to"].(string)
		s.mu.Lock()
		var f *Failure
		for _, key := range []string{to, ""} {
			q := s.fail[key]
			if len(q) == 0 {
				continue
			}
			if q[0].After > 0 {
				q[0].After--
			} else {
				f, s.fail[key] = &q[0], q[1:]
			}
			break
		}
		s.next++
		n := s.next
		s.mu.Unlock()
		if f != nil {
			graphError(w, *f)
			return
		}
		if call.Body["messaging_product"] != "whatsapp" || to == "" {
			graphError(w, Failure{Code: 100, Message: "(#100) Invalid parameter"})
			return
		}
		answer(w, map[string]any{"messaging_product": "whatsapp", "contacts": []any{map[string]any{"input": to, "wa_id": to}},
			"messages": []any{map[string]any{"id": fmt.Sprintf("wamid.HBgLMTU1NTAxMDAxOTkVAgARGBI%06d", n)}}})
	default:
		graphError(w, Failure{Code: 100, Subcode: 33, Message: "Unsupported " + r.Method + " request: " + path})
	}
}

// Delivery is a webhook delivery as WhatsApp posts it to /hooks/whatsapp.
type Delivery struct {
	Body      []byte
	Signature string // X-Hub-Signature-256
}

// Envelope wraps a change value (messages or statuses) of the number
// phoneNumberID in WhatsApp's webhook shape, signed with secret.
func Envelope(phoneNumberID, secret string, value map[string]any) Delivery {
	value["messaging_product"] = "whatsapp"
	value["metadata"] = map[string]any{"display_phone_number": "15550100199", "phone_number_id": phoneNumberID}
	body, _ := json.Marshal(map[string]any{"object": "whatsapp_business_account", "entry": []any{map[string]any{
		"id": WABAID, "changes": []any{map[string]any{"field": "messages", "value": value}}}}})
	return Delivery{Body: body, Signature: metahook.Sign(body, secret)}
}

// Message is a customer's message (from: a wa_id like 15551234567) in a
// delivery's value, with the sender's profile name: msg holds its type's
// fields ({"type": "text", "text": {"body": "hi"}}).
func Message(from, name, wamid string, at time.Time, msg map[string]any) map[string]any {
	msg["from"], msg["id"], msg["timestamp"] = from, wamid, fmt.Sprint(at.Unix())
	return map[string]any{"contacts": []any{map[string]any{"profile": map[string]any{"name": name}, "wa_id": from}},
		"messages": []any{msg}}
}

// Text is a text message's fields.
func Text(body string) map[string]any {
	return map[string]any{"type": "text", "text": map[string]any{"body": body}}
}

// Status is a statuses value about a message the business sent:
// sent, delivered, read or failed (with a Graph error's code and title).
func Status(wamid, to, status string, at time.Time, code int, title string) map[string]any {
	st := map[string]any{"id": wamid, "status": status, "timestamp": fmt.Sprint(at.Unix()), "recipient_id": to}
	if status == "failed" {
		st["errors"] = []any{map[string]any{"code": code, "title": title, "message": title,
			"error_data": map[string]any{"details": title}}}
	}
	return map[string]any{"statuses": []any{st}}
}
