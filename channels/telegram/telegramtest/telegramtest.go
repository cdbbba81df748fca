// Package telegramtest is a local Bot API server for tests and load runs:
// it speaks the documented shapes of getMe, getUpdates (offset, timeout),
// getFile and file downloads, sendMessage, sendPhoto and sendDocument
// (multipart), setWebhook and deleteWebhook, and records every call.
package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Token is the one bot token the server knows; BotID is its bot's id.
const (
	Token = "123456789:AAEhBP0av28fakeTokenForTests_ok"
	BotID = 123456789
)

// Call is one request the server got.
type Call struct {
	Method string
	Params map[string]any // JSON body, or the form fields of a multipart one
	File   []byte         // the uploaded file (sendPhoto, sendDocument)
	Name   string         // its file name
	At     time.Time
}

// Failure is an error answer queued for a method.
type Failure struct {
	Status      int
	Description string
	RetryAfter  int // seconds, in parameters.retry_after
	After       int // calls of the method answered as usual before this one fails
}

// Server is the fake Bot API.
type Server struct {
	*httptest.Server
	mu        sync.Mutex
	updates   []json.RawMessage // pending, by update_id
	nextID    int64
	files     map[string][]byte
	calls     []Call
	fail      map[string][]Failure
	webhook   string
	secret    string
	hookError string
	sent      int64
	news      chan struct{}
	Username  string
}

// New starts a server on 127.0.0.1 (addr "" picks a port).
func New(addr string) (*Server, error) {
	s := &Server{files: map[string][]byte{}, fail: map[string][]Failure{}, nextID: 1, sent: 1000,
		news: make(chan struct{}, 1), Username: "shop_bot"}
	if err := s.Listen(addr); err != nil {
		return nil, err
	}
	return s, nil
}

// Listen (again) on addr, keeping the state: a Bot API server coming back.
func (s *Server) Listen(addr string) error {
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for try := 0; try < 50; try++ { // the old socket may linger a moment
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		return err
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	s.mu.Lock()
	s.Server = srv
	s.mu.Unlock()
	return nil
}

// Stop closes the listener and every connection (the server going away).
func (s *Server) Stop() {
	s.mu.Lock()
	srv := s.Server
	s.mu.Unlock()
	srv.CloseClientConnections()
	srv.Close()
}

// Addr is host:port.
func (s *Server) Addr() string { return s.Listener.Addr().String() }

// Push queues an update (update_id is set) and returns its id.
func (s *Server) Push(update map[string]any) int64 {
	s.mu.Lock()
	id := s.nextID
	s.nextID++
	update["update_id"] = id
	b, _ := json.Marshal(update)
	s.updates = append(s.updates, b)
	s.mu.Unlock()
	select {
	case s.news <- struct{}{}:
	default:
	}
	return id
}

// Redeliver queues an update again with the id it had (Telegram sending
// it again after a crash before the offset moved).
func (s *Server) Redeliver(raw json.RawMessage) {
	s.mu.Lock()
	s.updates = append(s.updates, raw)
	s.mu.Unlock()
}

// Update builds the JSON of an update as Telegram sends it.
func Update(id int64, kind string, message map[string]any) json.RawMessage {
	b, _ := json.Marshal(map[string]any{"update_id": id, kind: message})
	return b
}

// AddFile makes a file the bot can fetch and returns its file_id.
func (s *Server) AddFile(data []byte) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := fmt.Sprintf("file%d", len(s.files)+1)
	s.files[id] = data
	return id
}

// Fail queues error answers for a method, given before it works again.
func (s *Server) Fail(method string, f ...Failure) {
	s.mu.Lock()
	s.fail[method] = append(s.fail[method], f...)
	s.mu.Unlock()
}

// Calls returns the calls of a method ("" for all) so far.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

// WebhookError makes getWebhookInfo report that deliveries fail ("" when they work).
func (s *Server) WebhookError(msg string) {
	s.mu.Lock()
	s.hookError = msg
	s.mu.Unlock()
}

// Webhook is the URL and secret of the webhook set ("" when none).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook, s.secret
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	if rest, ok := strings.CutPrefix(r.URL.Path, "/file/bot"+Token+"/"); ok {
		s.mu.Lock()
		data, found := s.files[strings.TrimPrefix(rest, "files/")]
		s.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return
		}
		w.Write(data)
		return
	}
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	token, method, _ := strings.Cut(rest, "/")
	if !ok || token != Token {
		if strings.Count(token, ":") == 1 {
			answer(w, 401, map[string]any{"ok": false, "error_code": 401, "description": "Unauthorized"})
		} else {
			answer(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found"})
		}
		return
	}
	call := Call{Method: method, Params: map[string]any{}, At: time.Now()}
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if ct == "multipart/form-data" {
		if err := r.ParseMultipartForm(64 << 20); err != nil {
			answer(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: " + err.Error()})
			return
		}
		for k, v := range r.MultipartForm.Value {
			call.Params[k] = v[0]
		}
		for _, fhs := range r.MultipartForm.File {
			f, _ := fhs[0].Open()
			call.File, _ = io.ReadAll(f)
			call.Name = fhs[0].Filename
			f.Close()
		}
	} else {
		_ = json.NewDecoder(r.Body).Decode(&call.Params)
	}
	s.mu.Lock()
	s.calls = append(s.calls, call)
	if q := s.fail[method]; len(q) > 0 && q[0].After > 0 {
		q[0].After--
	} else if len(q) > 0 {
		f := q[0]
		s.fail[method] = q[1:]
		s.mu.Unlock()
		body := map[string]any{"ok": false, "error_code": f.Status, "description": f.Description}
		if f.RetryAfter > 0 {
			body["parameters"] = map[string]any{"retry_after": f.RetryAfter}
		}
		answer(w, f.Status, body)
		return
	}
	s.mu.Unlock()
	switch method {
	case "getMe":
		answerOK(w, map[string]any{"id": BotID, "is_bot": true, "first_name": "Shop Support", "username": s.Username})
	case "getUpdates":
		s.getUpdates(w, r, call.Params)
	case "getFile":
		id, _ := call.Params["file_id"].(string)
		s.mu.Lock()
		data, found := s.files[id]
		s.mu.Unlock()
		if !found {
			answer(w, 400, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})
			return
		}
		answerOK(w, map[string]any{"file_id": id, "file_size": len(data), "file_path": "files/" + id})
	case "sendMessage", "sendPhoto", "sendDocument":
		s.mu.Lock()
		s.sent++
		id := s.sent
		s.mu.Unlock()
		answerOK(w, map[string]any{"message_id": id, "date": time.Now().Unix(), "chat": map[string]any{"id": int64(num(call.Params["chat_id"])), "type": "private"}})
	case "setWebhook":
		s.mu.Lock()
		s.webhook, _ = call.Params["url"].(string)
		s.secret, _ = call.Params["secret_token"].(string)
		s.mu.Unlock()
		answerOK(w, true)
	case "getWebhookInfo":
		s.mu.Lock()
		info := map[string]any{"url": s.webhook, "has_custom_certificate": false, "pending_update_count": len(s.updates)}
		if s.hookError != "" {
			info["last_error_date"] = time.Now().Unix()
			info["last_error_message"] = s.hookError
		}
		s.mu.Unlock()
		answerOK(w, info)
	case "answerCallbackQuery":
		answerOK(w, true)
	case "deleteWebhook":
		s.mu.Lock()
		s.webhook, s.secret = "", ""
		s.mu.Unlock()
		answerOK(w, true)
	default:
		answer(w, 404, map[string]any{"ok": false, "error_code": 404, "description": "Not Found: method not found"})
	}
}

// getUpdates answers the pending updates from offset on (those before it
// are confirmed and dropped), waiting up to timeout seconds for one.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, p map[string]any) {
	offset := int64(num(p["offset"]))
	deadline := time.Now().Add(time.Duration(num(p["timeout"])) * time.Second)
	for {
		s.mu.Lock()
		if s.webhook != "" {
			s.mu.Unlock()
			answer(w, 409, map[string]any{"ok": false, "error_code": 409, "description": "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first"})
			return
		}
		var out, keep []json.RawMessage
		for _, u := range s.updates {
			var head struct {
				UpdateID int64 `json:"update_id"`
			}
			_ = json.Unmarshal(u, &head)
			if head.UpdateID >= offset {
				out = append(out, u)
				keep = append(keep, u)
			}
		}
		s.updates = keep
		s.mu.Unlock()
		if len(out) > 0 || !time.Now().Before(deadline) {
			if out == nil {
				out = []json.RawMessage{}
			}
			answerOK(w, out)
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-s.news:
		case <-time.After(time.Until(deadline)):
		}
	}
}

func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		f, _ := strconv.ParseFloat(n, 64)
		return f
	}
	return 0
}

func answerOK(w http.ResponseWriter, result any) {
	answer(w, 200, map[string]any{"ok": true, "result": result})
}

func answer(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
