package ui_test

import (
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"onedesk/ui"
)

// loginFrom tries a wrong login with the given forwarding headers and
// returns the status.
func loginFrom(t *testing.T, e *env, headers map[string]string) int {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/auth/login", strings.NewReader(`{"email":"x@shop.test","password":"wrong password"}`))
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// exhaust makes wrong logins as one client until refused.
func exhaust(t *testing.T, e *env, headers map[string]string) {
	t.Helper()
	for range 20 {
		if loginFrom(t, e, headers) == http.StatusTooManyRequests {
			return
		}
	}
	t.Fatalf("20 wrong logins with %v were not limited", headers)
}

func TestForwardedHeadersFromTrustedProxyOnly(t *testing.T) {
	// The test's client is 127.0.0.1: here a trusted proxy.
	e := newEnv(t, ui.Options{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	setup := func(headers map[string]string) resp {
		c := e.client()
		req, _ := http.NewRequest("GET", e.srv.URL+"/api/setup", nil)
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := c.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return resp{status: res.StatusCode, header: res.Header}
	}
	if r := setup(map[string]string{"X-Forwarded-Proto": "https"}); r.header.Get("Strict-Transport-Security") == "" {
		t.Fatal("no HSTS on a request the proxy says came over HTTPS")
	}
	if r := setup(map[string]string{"X-Forwarded-Proto": "http"}); r.header.Get("Strict-Transport-Security") != "" {
		t.Fatal("HSTS on plain HTTP")
	}
	// The session cookie is Secure when the client's request was HTTPS.
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/setup", strings.NewReader(`{"email":"owner@shop.test","name":"Olga","password":"correct horse"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Proto", "https")
	req.Header.Set("X-Forwarded-For", "203.0.113.5")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 201 || !strings.Contains(strings.ToLower(res.Header.Get("Set-Cookie")), "secure") {
		t.Fatalf("setup behind an HTTPS proxy: %d, cookie %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}

	// The rate limits count the client the proxy names, not the proxy:
	// one client refused, another through the same proxy still heard.
	exhaust(t, e, map[string]string{"X-Forwarded-For": "203.0.113.7"})
	if s := loginFrom(t, e, map[string]string{"X-Forwarded-For": "203.0.113.8"}); s != http.StatusUnauthorized {
		t.Fatalf("another client behind the proxy got %d", s)
	}
	// What the client wrote itself (left of the address the proxy added)
	// does not make it someone else.
	exhaust(t, e, map[string]string{"X-Forwarded-For": "198.51.100.1, 203.0.113.9"})
	if s := loginFrom(t, e, map[string]string{"X-Forwarded-For": "198.51.100.2, 203.0.113.9"}); s != http.StatusTooManyRequests {
		t.Fatalf("a client that changed its own X-Forwarded-For part got %d", s)
	}
}

func TestForwardedHeadersIgnoredFromOthers(t *testing.T) {
	e := newEnv(t, ui.Options{}) // no trusted proxy
	req, _ := http.NewRequest("POST", e.srv.URL+"/api/setup", strings.NewReader(`{"email":"owner@shop.test","name":"Olga","password":"correct horse"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-Proto", "https")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if strings.Contains(strings.ToLower(res.Header.Get("Set-Cookie")), "secure") || res.Header.Get("Strict-Transport-Security") != "" {
		t.Fatalf("a client's own X-Forwarded-Proto was believed: cookie %q, HSTS %q",
			res.Header.Get("Set-Cookie"), res.Header.Get("Strict-Transport-Security"))
	}
	// A made-up X-Forwarded-For does not get a client past the limit.
	exhaust(t, e, map[string]string{"X-Forwarded-For": "203.0.113.7"})
	if s := loginFrom(t, e, map[string]string{"X-Forwarded-For": "203.0.113.8"}); s != http.StatusTooManyRequests {
		t.Fatalf("a made-up X-Forwarded-For got %d", s)
	}
}

func TestRedirectToHTTPS(t *testing.T) {
	h := ui.RedirectToHTTPS("8443")
	for _, tc := range []struct{ method, host, target, want string }{
		{"GET", "desk.example.com", "/app/?x=1", "https://desk.example.com:8443/app/?x=1"},
		{"HEAD", "desk.example.com:80", "/", "https://desk.example.com:8443/"},
		{"POST", "desk.example.com", "/f/contact", "https://desk.example.com:8443/f/contact"},
		{"GET", "[::1]:8080", "/x", "https://[::1]:8443/x"},
	} {
		req, _ := http.NewRequest(tc.method, "http://"+tc.host+tc.target, nil)
		req.Host = tc.host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		want := http.StatusMovedPermanently
		if tc.method == "POST" {
			want = http.StatusPermanentRedirect // keeps the method and body
		}
		if rec.Code != want || rec.Header().Get("Location") != tc.want {
			t.Fatalf("%s %s%s: %d %q, want %d %q", tc.method, tc.host, tc.target, rec.Code, rec.Header().Get("Location"), want, tc.want)
		}
	}
	rec := httptest.NewRecorder()
	ui.RedirectToHTTPS("443").ServeHTTP(rec, httptest.NewRequest("GET", "http://desk.example.com/a", nil))
	if rec.Header().Get("Location") != "https://desk.example.com/a" {
		t.Fatalf("port 443 written out: %q", rec.Header().Get("Location"))
	}
}
