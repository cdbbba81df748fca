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
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"onedesk/channels/social"
	"onedesk/limit"
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

// MaxDelivery bounds a delivery's body (events are small; media are
// fetched from their URLs after).
const MaxDelivery = 1 << 20

// Door is the front of a Meta webhook, the same for WhatsApp and for
// Messenger/Instagram: the handshake, the method, a signature present,
// the size, and refusals logged and limited per address. What the
// delivery is about, and whose secret signs it, is the channel's.
type Door struct {
	Name    string // the channel, for the log
	Log     *slog.Logger
	Refused *limit.Limiter // handshakes and refused deliveries per address
	Known   func(verifyToken string) bool
}

// Open answers a handshake, a wrong method, a delivery without a
// signature or too large itself and returns false; else the body of the
// delivery to be checked with Valid.
func (d *Door) Open(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	switch r.Method {
	case http.MethodGet:
		ip := address(r)
		if !d.Refused.Allow(ip) {
			w.Header().Set("Retry-After", "10")
			social.WriteError(w, http.StatusTooManyRequests, "too many tries from your address")
			return nil, false
		}
		if Handshake(w, r, d.Known) {
			d.Log.Info(d.Name+": Meta verified the webhook", "from", ip)
		}
		return nil, false
	case http.MethodPost:
	default:
		w.Header().Set("Allow", "GET, POST")
		social.WriteError(w, http.StatusMethodNotAllowed, "webhook deliveries are POSTed")
		return nil, false
	}
	if !Present(r) {
		d.Refuse(w, r, "no signature")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, MaxDelivery))
	if err != nil {
		social.WriteError(w, http.StatusRequestEntityTooLarge, "a delivery may have at most 1 MB")
		return nil, false
	}
	return body, true
}

// Refuse answers a delivery whose signature is missing or wrong: 401 and
// a warning, or 429 once an address has been refused too often.
func (d *Door) Refuse(w http.ResponseWriter, r *http.Request, why string) {
	ip := address(r)
	if !d.Refused.Allow(ip) {
		w.Header().Set("Retry-After", "10")
		social.WriteError(w, http.StatusTooManyRequests, "too many refused deliveries from your address")
		return
	}
	d.Log.Warn(d.Name+": webhook delivery refused: "+why, "from", ip)
	social.WriteError(w, http.StatusUnauthorized, "the "+SignatureHeader+" is missing or does not sign this body with the app secret")
}

func address(r *http.Request) string {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return ip
}
