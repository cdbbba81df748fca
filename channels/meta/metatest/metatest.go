// Package metatest is a local Graph API server for the Messenger
// Platform, for tests and load runs: it speaks the documented shapes of
// GET /{page-id}?fields=name,instagram_business_account{id,username},
// GET /{user-id}?fields=name[,username] (profiles), POST and DELETE
// /{page-id}/subscribed_apps, POST /{page-id}/messages (JSON text, or
// multipart with a filedata file) and media downloads, answers Graph
// errors queued for the Send API, records every call, and builds the
// webhook deliveries Meta posts, signed like Meta signs them.
package metatest

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

// The page the server knows, its Instagram account and its app.
const (
	PageID     = "104857600123456"
	PageName   = "Shop Support"
	IGID       = "17841400000000001"
	IGUsername = "shop.support"
	Token      = "EAAGpageTokenForTheLocalGraphServer"
	AppSecret  = "fedcba9876543210fedcba9876543210"
)

// Call is one request the server got.
type Call struct {
	Method, Path string
	Body         map[string]any // JSON body, or the form fields of a multipart one (JSON fields decoded)
	File         []byte         // an uploaded filedata
	FileName     string
	At           time.Time
}

// Failure is a Graph error answered instead of sending.
type Failure struct {
	Status  int
	Code    int
	Subcode int
	Message string
	After   int // Send API calls answered as usual before this one fails
}

// Server is the fake Graph API.
type Server struct {
	*httptest.Server
	mu       sync.Mutex
	calls    []Call
	media    map[string][]byte
	profiles map[string]map[string]string
	fail     []Failure
	next     int
}

// New starts a server on 127.0.0.1.
func New() *Server {
	s := &Server{media: map[string][]byte{}, profiles: map[string]map[string]string{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// AddMedia serves data at a CDN-like URL and returns the URL.
func (s *Server) AddMedia(name string, data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.media[name] = data
	return s.URL + "/cdn/" + name
}

// AddProfile makes a person's profile (name, and username on Instagram).
func (s *Server) AddProfile(id, name, username string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profiles[id] = map[string]string{"id": id, "name": name, "username": username}
}

// Fail answers the next Send API calls with these errors, in order.
func (s *Server) Fail(f ...Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, f...)
}

// Calls lists the calls made to a path ("" for all), oldest first.
func (s *Server) Calls(method, path string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if (method == "" || c.Method == method) && (path == "" || c.Path == path) {
			out = append(out, c)
		}
	}
	return out
}

func graphError(w http.ResponseWriter, f Failure) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(f.Status)
	json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"message": f.Message, "type": "OAuthException",
		"code": f.Code, "error_subcode": f.Subcode, "fbtrace_id": "AbCdEf"}})
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	path := strings.TrimPrefix(r.URL.Path, "/")
	if name, ok := strings.CutPrefix(path, "cdn/"); ok {
		s.mu.Lock()
		data, found := s.media[name]
		s.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		s.calls = append(s.calls, Call{Method: r.Method, Path: path, At: time.Now()})
		s.mu.Unlock()
		w.Write(data)
		return
	}
	call := Call{Method: r.Method, Path: path, Body: map[string]any{}, At: time.Now()}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(32 << 20); err == nil {
			for k, v := range r.MultipartForm.Value {
				var j any
				if json.Unmarshal([]byte(v[0]), &j) == nil {
					call.Body[k] = j
				} else {
					call.Body[k] = v[0]
				}
			}
			if f, h, err := r.FormFile("filedata"); err == nil {
				call.File, _ = io.ReadAll(f)
				call.FileName = h.Filename
				f.Close()
			}
		}
	} else if r.Body != nil {
		json.NewDecoder(r.Body).Decode(&call.Body)
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	s.mu.Unlock()
	if r.Header.Get("Authorization") != "Bearer "+Token {
		graphError(w, Failure{Status: 400, Code: 190, Subcode: 463, Message: "Error validating access token: Session has expired on Monday, 23-Nov-26 10:00:00 PST."})
		return
	}
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodGet && path == PageID:
		json.NewEncoder(w).Encode(map[string]any{"id": PageID, "name": PageName,
			"instagram_business_account": map[string]string{"id": IGID, "username": IGUsername}})
	case path == PageID+"/subscribed_apps":
		w.Write([]byte(`{"success":true}`))
	case r.Method == http.MethodPost && path == PageID+"/messages":
		s.mu.Lock()
		var f *Failure
		if len(s.fail) > 0 && s.fail[0].After > 0 {
			s.fail[0].After--
		} else if len(s.fail) > 0 {
			f = &s.fail[0]
			s.fail = s.fail[1:]
		}
		s.next++
		n := s.next
		s.mu.Unlock()
		if f != nil {
			graphError(w, *f)
			return
		}
		to, _ := call.Body["recipient"].(map[string]any)
		json.NewEncoder(w).Encode(map[string]any{"recipient_id": to["id"], "message_id": fmt.Sprintf("m_sent%d", n)})
	case r.Method == http.MethodGet:
		s.mu.Lock()
		p, ok := s.profiles[path]
		s.mu.Unlock()
		if !ok {
			graphError(w, Failure{Status: 400, Code: 100, Subcode: 33, Message: "Unsupported get request."})
			return
		}
		json.NewEncoder(w).Encode(p)
	default:
		graphError(w, Failure{Status: 400, Code: 100, Message: "Unknown path components: /" + path})
	}
}

// Delivery is a webhook body Meta posts: one entry (a page's or an
// Instagram account's) with messaging events.
func Delivery(object, entryID string, events ...map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"object": object, "entry": []map[string]any{{"id": entryID, "time": time.Now().UnixMilli(), "messaging": events}}})
	return b
}

// Message is a customer's messaging event to the page (or IG account).
func Message(from, to, mid string, msg map[string]any) map[string]any {
	msg["mid"] = mid
	return map[string]any{"sender": map[string]string{"id": from}, "recipient": map[string]string{"id": to},
		"timestamp": time.Now().UnixMilli(), "message": msg}
}

// Sign is the X-Hub-Signature-256 Meta sends with body.
func Sign(body []byte) string { return metahook.Sign(body, AppSecret) }
