// Package oauthtest is the far side of a mailbox's OAuth2 sign-in, for
// tests: an authorization server (RFC 6749 authorization code and
// refresh token grants, PKCE S256 required, RFC 7662 introspection for
// Dovecot), and IMAP and SMTP servers that take nothing but a valid
// access token (XOAUTH2, OAUTHBEARER). Its tokens can be made to expire
// and its grants revoked, as a provider's are.
package oauthtest

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Server is an OAuth2 authorization server with one app (ClientID,
// ClientSecret) and one account (User) that consents to whatever is
// asked, unless Deny is set.
type Server struct {
	URL                    string // base: URL+"/authorize", URL+"/token", URL+"/introspect"
	ClientID, ClientSecret string
	User                   string

	mu        sync.Mutex
	expiresIn time.Duration // lifetime of new access tokens
	deny      string        // an error code to answer /authorize with
	rotate    bool          // a new refresh token at each refresh
	codes     map[string]*grantCode
	access    map[string]time.Time // access token: expiry
	refresh   map[string]bool      // refresh token: still good
	exchanges int
	refreshes int
	onRefresh func() // run once before the next refresh is answered
	srv       *httptest.Server
}

type grantCode struct {
	redirectURI, challenge, scope string
	at                            time.Time
}

// New starts a Server until t ends.
func New(t testing.TB) *Server {
	s := &Server{ClientID: "onedesk-test-app", ClientSecret: "s3cret-of-the-app", User: "support@shop.test",
		expiresIn: time.Hour, codes: map[string]*grantCode{}, access: map[string]time.Time{}, refresh: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /authorize", s.authorize)
	mux.HandleFunc("POST /token", s.token)
	mux.HandleFunc("POST /introspect", s.introspect)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetExpiry sets the lifetime of access tokens given from now on.
func (s *Server) SetExpiry(d time.Duration) { s.mu.Lock(); s.expiresIn = d; s.mu.Unlock() }

// BeforeNextRefresh runs fn once, before the next refresh request is
// answered: another node refreshing in the meantime, say.
func (s *Server) BeforeNextRefresh(fn func()) { s.mu.Lock(); s.onRefresh = fn; s.mu.Unlock() }

// SetDeny makes the consent page answer with an error code ("" to consent).
func (s *Server) SetDeny(code string) { s.mu.Lock(); s.deny = code; s.mu.Unlock() }

// SetRotate makes each refresh give a new refresh token and end the old
// one (Microsoft rotates them).
func (s *Server) SetRotate(on bool) { s.mu.Lock(); s.rotate = on; s.mu.Unlock() }

// Revoke ends every grant: refresh tokens and access tokens stop working,
// as when the account owner removes the app's access.
func (s *Server) Revoke() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.access)
	for k := range s.refresh {
		s.refresh[k] = false
	}
}

// Counts are how many codes were exchanged and tokens refreshed.
func (s *Server) Counts() (exchanges, refreshes int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.exchanges, s.refreshes
}

// Valid tells whether token is a live access token, and whose.
func (s *Server) Valid(token string) (user string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	exp, ok := s.access[token]
	if !ok || time.Now().After(exp) {
		return "", false
	}
	return s.User, true
}

func random() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// authorize is the consent page: the account consents at once and the
// browser goes back to the redirect URI with a code (or the error).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirect, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || redirect.Scheme == "" || q.Get("client_id") != s.ClientID {
		http.Error(w, "unknown client or redirect_uri", http.StatusBadRequest)
		return
	}
	back := redirect.Query()
	back.Set("state", q.Get("state"))
	s.mu.Lock()
	deny := s.deny
	switch {
	case deny != "":
		back.Set("error", deny)
		back.Set("error_description", "The user did not consent.")
	case q.Get("response_type") != "code":
		back.Set("error", "unsupported_response_type")
	case q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "":
		back.Set("error", "invalid_request")
		back.Set("error_description", "PKCE (S256) is required")
	default:
		code := random()
		s.codes[code] = &grantCode{redirectURI: q.Get("redirect_uri"), challenge: q.Get("code_challenge"), scope: q.Get("scope"), at: time.Now()}
		back.Set("code", code)
	}
	s.mu.Unlock()
	redirect.RawQuery = back.Encode()
	http.Redirect(w, r, redirect.String(), http.StatusFound)
}

func tokenError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// token is the token endpoint: the client authenticates (Basic or in the
// form), then a code (with its PKCE verifier and redirect URI) or a
// refresh token buys an access token.
func (s *Server) token(w http.ResponseWriter, r *http.Request) {
	if r.PostFormValue("grant_type") == "refresh_token" {
		s.mu.Lock()
		hook := s.onRefresh
		s.onRefresh = nil
		s.mu.Unlock()
		if hook != nil {
			hook()
		}
	}
	if err := r.ParseForm(); err != nil {
		tokenError(w, 400, "invalid_request", err.Error())
		return
	}
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostForm.Get("client_id"), r.PostForm.Get("client_secret")
	} else {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if id != s.ClientID || subtle.ConstantTimeCompare([]byte(secret), []byte(s.ClientSecret)) != 1 {
		tokenError(w, 401, "invalid_client", "Client authentication failed.")
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	refreshToken := ""
	switch r.PostForm.Get("grant_type") {
	case "authorization_code":
		code := s.codes[r.PostForm.Get("code")]
		delete(s.codes, r.PostForm.Get("code")) // once
		if code == nil || time.Since(code.at) > 10*time.Minute {
			tokenError(w, 400, "invalid_grant", "The code is unknown, used or expired.")
			return
		}
		if code.redirectURI != r.PostForm.Get("redirect_uri") {
			tokenError(w, 400, "invalid_grant", "redirect_uri does not match the authorization request.")
			return
		}
		sum := sha256.Sum256([]byte(r.PostForm.Get("code_verifier")))
		if base64.RawURLEncoding.EncodeToString(sum[:]) != code.challenge {
			tokenError(w, 400, "invalid_grant", "PKCE verification failed.")
			return
		}
		s.exchanges++
		refreshToken = random()
		s.refresh[refreshToken] = true
	case "refresh_token":
		old := r.PostForm.Get("refresh_token")
		if !s.refresh[old] {
			tokenError(w, 400, "invalid_grant", "Token has been expired or revoked.")
			return
		}
		s.refreshes++
		if s.rotate {
			delete(s.refresh, old)
			refreshToken = random()
			s.refresh[refreshToken] = true
		}
	default:
		tokenError(w, 400, "unsupported_grant_type", "")
		return
	}
	access := random()
	s.access[access] = time.Now().Add(s.expiresIn)
	answer := map[string]any{"access_token": access, "token_type": "Bearer", "expires_in": int(s.expiresIn.Seconds())}
	if refreshToken != "" {
		answer["refresh_token"] = refreshToken
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	json.NewEncoder(w).Encode(answer)
}

// introspect answers RFC 7662 token introspection (Dovecot's oauth2
// passdb asks it with introspection_mode = post).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	token := r.PostForm.Get("token")
	if token == "" {
		// Dovecot may send the token as a bearer header instead.
		token = strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	user, ok := s.Valid(token)
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		json.NewEncoder(w).Encode(map[string]any{"active": false})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"active": true, "username": user, "email": user})
}
