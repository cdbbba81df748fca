// Package webhookstest is an integration's webhook endpoint for tests: a
// real HTTP server on loopback that keeps every post it gets and checks
// its signature the way a receiver would, with its own HMAC (not the
// sender's code), so a wrong signature cannot pass for a right one.
package webhookstest

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Post is one request the receiver got.
type Post struct {
	Event, Delivery, Timestamp, Signature string
	Method, ContentType, UserAgent, Path  string
	Body                                  []byte
}

// SignedWith tells whether the post is onedesk's with secret: a JSON POST
// from onedesk-webhooks whose signature is the HMAC-SHA256 of
// "timestamp.body".
func (p Post) SignedWith(secret string) bool {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(p.Timestamp + "." + string(p.Body)))
	return p.Signature == "sha256="+hex.EncodeToString(mac.Sum(nil)) &&
		p.Method == http.MethodPost && p.ContentType == "application/json" && p.UserAgent == "onedesk-webhooks"
}

// String is the post as "event body".
func (p Post) String() string { return p.Event + " " + string(p.Body) }

// Receiver is the endpoint; URL is where to point a webhook. It answers
// 200 unless told otherwise with Answer, and closes when the test ends.
type Receiver struct {
	URL    string
	mu     sync.Mutex
	posts  []Post
	answer func(n int) (int, string)
}

// New starts a receiver for the test.
func New(t testing.TB) *Receiver {
	r := &Receiver{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		p := Post{Event: req.Header.Get("X-Onedesk-Event"), Delivery: req.Header.Get("X-Onedesk-Delivery"),
			Timestamp: req.Header.Get("X-Onedesk-Timestamp"), Signature: req.Header.Get("X-Onedesk-Signature"),
			Method: req.Method, ContentType: req.Header.Get("Content-Type"), UserAgent: req.Header.Get("User-Agent"),
			Path: req.URL.Path, Body: body}
		r.mu.Lock()
		r.posts = append(r.posts, p)
		n, answer := len(r.posts), r.answer
		r.mu.Unlock()
		code, text := http.StatusOK, "ok"
		if answer != nil {
			code, text = answer(n)
		}
		w.WriteHeader(code)
		io.WriteString(w, text)
	}))
	t.Cleanup(srv.Close)
	r.URL = srv.URL
	return r
}

// Answer sets the status and body of the answer to the n-th post
// (1-based) from now on.
func (r *Receiver) Answer(f func(n int) (status int, body string)) *Receiver {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.answer = f
	return r
}

// Posts lists what was received, oldest first.
func (r *Receiver) Posts() []Post {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Post(nil), r.posts...)
}

// Events lists the posts' events in order, space separated.
func (r *Receiver) Events() string {
	var out []string
	for _, p := range r.Posts() {
		out = append(out, p.Event)
	}
	return strings.Join(out, " ")
}

// Lines lists the posts as "event body", oldest first.
func (r *Receiver) Lines() []string {
	var out []string
	for _, p := range r.Posts() {
		out = append(out, p.String())
	}
	return out
}
