package ui_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/ui"
)

// closedFor waits until the server closes the socket and returns how it
// said so; it fails the test if the socket stays open for long.
func (s *agentSocket) closedFor(within time.Duration) (websocket.StatusCode, string) {
	s.t.Helper()
	deadline := time.After(within)
	for {
		select {
		case _, ok := <-s.frames:
			if ok {
				continue // changes sent before the close
			}
			err := <-s.closed
			var ce websocket.CloseError
			if !errors.As(err, &ce) {
				s.t.Fatalf("socket ended without a close frame: %v", err)
			}
			return ce.Code, ce.Reason
		case <-deadline:
			s.t.Fatalf("socket still open after %s", within)
		}
	}
}

// stillOpen checks that the socket receives the ticket a new change makes.
func (s *agentSocket) stillOpen(maker *client, subject string) {
	s.t.Helper()
	maker.must(201, "POST", "/api/tickets", map[string]any{"subject": subject, "body": "b", "customer": map[string]string{"email": "c@x.test"}})
	deadline := time.After(10 * time.Second)
	for {
		select {
		case f, ok := <-s.frames:
			if !ok {
				s.t.Fatalf("socket closed: %v", <-s.closed)
			}
			if tk, _ := f["ticket"].(map[string]any); tk != nil && tk["subject"] == subject {
				return
			}
		case <-deadline:
			s.t.Fatalf("no change for %q", subject)
		}
	}
}

// endedIn asserts the socket was closed as a session that ended, and
// reports how long after the change it closed.
func endedIn(t *testing.T, s *agentSocket, what string, since time.Time) {
	t.Helper()
	code, reason := s.closedFor(10 * time.Second)
	if code != ui.StatusSessionEnded || !strings.Contains(reason, ui.SessionEndedReason) {
		t.Fatalf("%s: closed with %d %q, want %d %q", what, code, reason, ui.StatusSessionEnded, ui.SessionEndedReason)
	}
	t.Logf("%s: socket closed %s after the change", what, time.Since(since).Round(time.Millisecond))
}

// login logs an agent in on a new browser.
func (e *env) login(email, password string) *client {
	e.t.Helper()
	c := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(200, "POST", "/api/auth/login", map[string]string{"email": email, "password": password}).json(e.t, &me)
	c.csrf = me.CSRFToken
	return c
}

func TestAgentSocketClosedWhenAccessEnds(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000}) // many logins from one address
	admin := e.admin()
	ctx := t.Context()

	t.Run("deactivated", func(t *testing.T) {
		ann, id := e.teammate(admin, "ann@shop.test", "Ann")
		annAPI := ann.apiClient()
		browser, token := ann.socket(ctx), annAPI.socket(ctx)
		start := time.Now()
		admin.must(200, "PATCH", fmt.Sprint("/api/agents/", id), map[string]any{"active": false})
		endedIn(t, browser, "deactivated, session", start)
		endedIn(t, token, "deactivated, token", start)
		// Reactivating revives neither the session nor the token.
		admin.must(200, "PATCH", fmt.Sprint("/api/agents/", id), map[string]any{"active": true})
		ann.must(401, "GET", "/api/me", nil)
		annAPI.must(401, "GET", "/api/me", nil)
	})

	t.Run("logout", func(t *testing.T) {
		bob, _ := e.teammate(admin, "bob@shop.test", "Bob")
		other := e.login("bob@shop.test", "12345678")
		leaving, staying := bob.socket(ctx), other.socket(ctx)
		start := time.Now()
		bob.must(204, "POST", "/api/auth/logout", nil)
		endedIn(t, leaving, "logout", start)
		staying.stillOpen(admin, "after Bob's logout elsewhere")
	})

	t.Run("new password", func(t *testing.T) {
		cat, _ := e.teammate(admin, "cat@shop.test", "Cat")
		other := e.login("cat@shop.test", "12345678")
		var me struct {
			CSRFToken string `json:"csrf_token"`
		}
		catAPI := cat.apiClient()
		mine, elsewhere, token := cat.socket(ctx), other.socket(ctx), catAPI.socket(ctx)
		start := time.Now()
		cat.must(200, "PATCH", "/api/me", map[string]string{"current_password": "12345678", "password": "a new password"}).json(t, &me)
		cat.csrf = me.CSRFToken
		endedIn(t, elsewhere, "new password, other browser", start)
		endedIn(t, token, "new password, token", start)
		// The browser that changed it goes on, on its new session.
		mine.stillOpen(admin, "after Cat's new password")
		cat.must(200, "GET", "/api/me", nil)
	})

	t.Run("token revoked", func(t *testing.T) {
		dan, _ := e.teammate(admin, "dan@shop.test", "Dan")
		var tok struct{ ID int64 }
		tokens := dan.must(201, "POST", "/api/tokens", map[string]string{"name": "shop"})
		tokens.json(t, &tok)
		var plain struct{ Token string }
		tokens.json(t, &plain)
		api := &client{e: e, http: http.DefaultClient, token: plain.Token}
		s := api.socket(ctx)
		start := time.Now()
		dan.must(204, "DELETE", fmt.Sprint("/api/tokens/", tok.ID), nil)
		endedIn(t, s, "token revoked", start)
	})
}

func TestLoginRefusesOtherSitesAndOtherTypes(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000}) // many logins from one address
	admin := e.admin()
	body := `{"email":"owner@shop.test","password":"correct horse"}`
	login := func(header map[string]string) resp {
		t.Helper()
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/auth/login", strings.NewReader(body))
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return resp{status: res.StatusCode, body: b, header: res.Header}
	}
	host := strings.TrimPrefix(e.srv.URL, "http://")
	cases := []struct {
		name   string
		header map[string]string
		status int
	}{
		// The attack: a form on another site posting JSON-shaped text/plain.
		{"cross-site form", map[string]string{"Content-Type": "text/plain", "Origin": "https://evil.example", "Sec-Fetch-Site": "cross-site"}, 403},
		{"text/plain without browser headers", map[string]string{"Content-Type": "text/plain"}, 415},
		{"form encoded", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 415},
		{"no type", map[string]string{}, 415},
		{"JSON from another site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"}, 403},
		{"JSON from a sibling site", map[string]string{"Content-Type": "application/json", "Sec-Fetch-Site": "same-site"}, 403},
		{"JSON with a foreign Origin", map[string]string{"Content-Type": "application/json", "Origin": "https://evil.example"}, 403},
		{"JSON with a null Origin", map[string]string{"Content-Type": "application/json", "Origin": "null"}, 403},
		{"JSON from the app", map[string]string{"Content-Type": "application/json", "Origin": "http://" + host, "Sec-Fetch-Site": "same-origin"}, 200},
		{"JSON from an old browser on the page", map[string]string{"Content-Type": "application/json; charset=utf-8", "Origin": "http://" + host}, 200},
		{"JSON from a script", map[string]string{"Content-Type": "application/json"}, 200},
	}
	for _, tc := range cases {
		r := login(tc.header)
		if r.status != tc.status {
			t.Errorf("%s: status %d, want %d: %s", tc.name, r.status, tc.status, r.body)
			continue
		}
		if r.status != 200 {
			if msg, _ := r.err(t); msg == "" {
				t.Errorf("%s: no sentence", tc.name)
			}
		} else if !strings.Contains(r.header.Get("Set-Cookie"), "onedesk_session=") {
			t.Errorf("%s: no session cookie", tc.name)
		}
	}

	// Every JSON write endpoint wants the type, with a session or a token.
	api := admin.apiClient()
	for _, c := range []*client{admin, api} {
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/tickets", strings.NewReader(`{"subject":"s","body":"b","customer":{"email":"x@y.test"}}`))
		req.Header.Set("Content-Type", "text/plain")
		req.Header.Set("X-CSRF-Token", c.csrf)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("text/plain ticket: status %d, want 415", res.StatusCode)
		}
	}
}

func TestPasswordChangeNeedsCurrentAndEndsOtherCredentials(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000}) // many logins from one address
	admin := e.admin()
	ann, annID := e.teammate(admin, "ann@shop.test", "Ann")
	annAPI := ann.apiClient()
	other := e.client()
	other.must(200, "POST", "/api/auth/login", map[string]string{"email": "ann@shop.test", "password": "12345678"})

	r := ann.must(400, "PATCH", "/api/me", map[string]string{"password": "a new password"})
	if _, field := r.err(t); field != "current_password" {
		t.Fatalf("no current password: field %q", field)
	}
	r = ann.must(403, "PATCH", "/api/me", map[string]string{"current_password": "not it at all", "password": "a new password"})
	if _, field := r.err(t); field != "current_password" {
		t.Fatalf("wrong current password: field %q", field)
	}
	annAPI.must(200, "GET", "/api/me", nil) // nothing changed yet

	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	ann.must(200, "PATCH", "/api/me", map[string]string{"current_password": "12345678", "password": "a new password"}).json(t, &me)
	ann.csrf = me.CSRFToken
	ann.must(200, "GET", "/api/me", nil)    // this browser goes on
	other.must(401, "GET", "/api/me", nil)  // every other session ended
	annAPI.must(401, "GET", "/api/me", nil) // and every token
	e.client().must(200, "POST", "/api/auth/login", map[string]string{"email": "ann@shop.test", "password": "a new password"})

	// An admin's own password goes through /api/me too; another agent's
	// is the admin's to set, and ends that agent's tokens as well.
	r = admin.must(400, "PATCH", "/api/agents/1", map[string]string{"password": "something else"})
	if _, field := r.err(t); field != "password" {
		t.Fatalf("admin's own password: field %q", field)
	}
	annAPI = ann.apiClient()
	admin.must(200, "PATCH", fmt.Sprint("/api/agents/", annID), map[string]string{"password": "set by the admin"})
	annAPI.must(401, "GET", "/api/me", nil)

	// A token cannot change the password without the current one either.
	ann2 := e.client()
	ann2.must(200, "POST", "/api/auth/login", map[string]string{"email": "ann@shop.test", "password": "set by the admin"}).json(t, &me)
	ann2.csrf = me.CSRFToken
	tokenClient := ann2.apiClient()
	tokenClient.must(400, "PATCH", "/api/me", map[string]string{"password": "from a token"})
}
