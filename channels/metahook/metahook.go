// Package metahook is what Meta's webhooks (WhatsApp Cloud API,
// Messenger, Instagram) share: the verification handshake Meta makes when
// a callback URL is saved in an app's dashboard, and the
// X-Hub-Signature-256 every delivery carries (an HMAC-SHA256 of the raw
// body with the app's secret).
package metahook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"
)

// SignatureHeader is the header that carries a delivery's signature.
const SignatureHeader = "X-Hub-Signature-256"

// Handshake answers Meta's verification request (GET with hub.mode=subscribe,
// hub.verify_token and hub.challenge): the challenge echoed as text/plain
// when known says the token is one the desk gave out, 403 otherwise. It
// reports whether the handshake succeeded.
func Handshake(w http.ResponseWriter, r *http.Request, known func(verifyToken string) bool) bool {
	q := r.URL.Query()
	token := q.Get("hub.verify_token")
	if q.Get("hub.mode") != "subscribe" || token == "" || !known(token) {
		http.Error(w, "the verify token is not one this desk gave out", http.StatusForbidden)
		return false
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Write([]byte(q.Get("hub.challenge")))
	return true
}

// Sign is the X-Hub-Signature-256 value Meta sends with body for an app
// with that secret: "sha256=" and the hex HMAC-SHA256.
func Sign(body []byte, appSecret string) string {
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// Valid tells, in constant time, whether header (the X-Hub-Signature-256
// value) signs body with appSecret. An empty secret validates nothing.
func Valid(body []byte, header, appSecret string) bool {
	hexSum, ok := strings.CutPrefix(header, "sha256=")
	if !ok || appSecret == "" {
		return false
	}
	got, err := hex.DecodeString(hexSum)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(appSecret))
	m.Write(body)
	return hmac.Equal(got, m.Sum(nil))
}

// Present tells whether the request carries a signature at all in the
// form Meta writes it (a delivery without one is refused before its body
// is read).
func Present(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get(SignatureHeader), "sha256=")
}
