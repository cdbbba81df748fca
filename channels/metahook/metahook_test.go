package metahook_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"onedesk/channels/metahook"
)

func TestSignature(t *testing.T) {
	body := []byte(`{"object":"whatsapp_business_account"}`)
	sig := metahook.Sign(body, "s3cret")
	if !metahook.Valid(body, sig, "s3cret") {
		t.Fatal("own signature refused")
	}
	for name, c := range map[string]struct {
		body   string
		header string
		secret string
	}{
		"other secret": {string(body), sig, "other"},
		"changed body": {string(body) + " ", sig, "s3cret"},
		"no prefix":    {string(body), sig[len("sha256="):], "s3cret"},
		"not hex":      {string(body), "sha256=zz", "s3cret"},
		"empty secret": {string(body), metahook.Sign(body, ""), ""},
		"missing":      {string(body), "", "s3cret"},
	} {
		if metahook.Valid([]byte(c.body), c.header, c.secret) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestHandshake(t *testing.T) {
	known := func(tok string) bool { return tok == "vt-1" }
	for _, c := range []struct {
		query string
		code  int
		body  string
	}{
		{"hub.mode=subscribe&hub.verify_token=vt-1&hub.challenge=1158201444", 200, "1158201444"},
		{"hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1", 403, ""},
		{"hub.mode=unsubscribe&hub.verify_token=vt-1&hub.challenge=1", 403, ""},
		{"hub.mode=subscribe&hub.challenge=1", 403, ""},
	} {
		w := httptest.NewRecorder()
		metahook.Handshake(w, httptest.NewRequest(http.MethodGet, "/hooks/x?"+c.query, nil), known)
		if w.Code != c.code || c.code == 200 && (w.Body.String() != c.body || w.Header().Get("Content-Type") != "text/plain; charset=utf-8") {
			t.Errorf("%s: %d %q", c.query, w.Code, w.Body.String())
		}
	}
}
