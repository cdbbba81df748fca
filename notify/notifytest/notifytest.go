// Package notifytest is a Web Push service for tests, on 127.0.0.1: it
// checks each push's VAPID signature (RFC 8292, ES256 against the desk's
// public key) and decrypts its payload (RFC 8291) with the device's
// private key, as a browser's push service and the browser would, with
// code of its own rather than the sending library's.
package notifytest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/hkdf"

	"onedesk/notify"
)

var b64 = base64.RawURLEncoding

// pushService is a push service (RFC 8030) on 127.0.0.1: it checks each
// request's VAPID signature against the desk's public key and decrypts
// its payload (RFC 8291) with the device's private key, as a browser
// would, answering what status says for a device.
type PushService struct {
	t testing.TB
	// URL is the service's address; devices are paths under it.
	URL      string
	srv      *httptest.Server
	vapidKey string // the desk's public key, base64url

	mu      sync.Mutex
	devices map[string]*Device // by path
	got     []Received
	tries   map[string]int // requests per path
	status  map[string]int // answer per path (0: 201)
}

// Device is a browser's side of a push subscription.
type Device struct {
	path string
	key  *ecdh.PrivateKey
	auth []byte
}

// Received is one push the service decrypted.
type Received struct {
	Raw     []byte // the decrypted payload
	Path    string
	Topic   string
	Urgency string
	Payload struct {
		Kind     string `json:"kind"`
		TicketID int64  `json:"ticket_id"`
		Title    string `json:"title"`
		Body     string `json:"body"`
		URL      string `json:"url"`
		Tag      string `json:"tag"`
	}
}

func New(t testing.TB, vapidKey string) *PushService {
	p := &PushService{t: t, vapidKey: vapidKey, devices: map[string]*Device{}, tries: map[string]int{}, status: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	p.URL = p.srv.URL
	t.Cleanup(p.srv.Close)
	return p
}

// Device makes a new device (a subscription's keys) at path.
func (p *PushService) Device(path string) (*Device, notify.Subscription) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	d := &Device{path: path, key: key, auth: make([]byte, 16)}
	rand.Read(d.auth)
	p.mu.Lock()
	p.devices[path] = d
	p.mu.Unlock()
	var s notify.Subscription
	s.Endpoint = p.URL + path
	s.Keys.P256dh = b64.EncodeToString(key.PublicKey().Bytes())
	s.Keys.Auth = b64.EncodeToString(d.auth)
	s.Device = "Test " + path
	return d, s
}

// Answer makes the service answer status to pushes to path (0: take them).
func (p *PushService) Answer(path string, status int) {
	p.mu.Lock()
	p.status[path] = status
	p.mu.Unlock()
}

func (p *PushService) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	p.mu.Lock()
	p.tries[r.URL.Path]++
	d, status := p.devices[r.URL.Path], p.status[r.URL.Path]
	p.mu.Unlock()
	if status != 0 {
		w.WriteHeader(status)
		return
	}
	if d == nil {
		p.t.Errorf("push to an unknown path %s", r.URL.Path)
		w.WriteHeader(http.StatusNotFound)
		return
	}
	if err := CheckVAPID(r.Header.Get("Authorization"), p.vapidKey, "http://"+r.Host); err != nil {
		p.t.Errorf("VAPID of a push to %s: %v", r.URL.Path, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		p.t.Errorf("push headers: %v", r.Header)
	}
	plain, err := Decrypt(d, body)
	if err != nil {
		p.t.Errorf("decrypt a push to %s: %v", r.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rec := Received{Raw: plain, Path: r.URL.Path, Topic: r.Header.Get("Topic"), Urgency: r.Header.Get("Urgency")}
	if err := json.Unmarshal(plain, &rec.Payload); err != nil {
		p.t.Errorf("push payload %q: %v", plain, err)
	}
	p.mu.Lock()
	p.got = append(p.got, rec)
	p.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// Received lists what a device got, in order.
func (p *PushService) Received(path string) []Received {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []Received
	for _, r := range p.got {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

// Tries counts the requests to path.
func (p *PushService) Tries(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tries[path]
}

// CheckVAPID checks an Authorization header of RFC 8292: "vapid t=JWT,
// k=KEY", the key being the desk's and the JWT signed with it (ES256),
// for this push service's origin, not expired, with a subject.
func CheckVAPID(header, wantKey, origin string) error {
	rest, ok := strings.CutPrefix(header, "vapid ")
	if !ok {
		return fmt.Errorf("not a vapid header: %q", header)
	}
	var token, key string
	for _, part := range strings.Split(rest, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			token = v
		case "k":
			key = v
		}
	}
	if key != wantKey {
		return fmt.Errorf("k=%q, not the desk's key %q", key, wantKey)
	}
	raw, err := b64.DecodeString(key)
	if err != nil {
		return err
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), raw)
	if err != nil {
		return fmt.Errorf("public key: %w", err)
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return fmt.Errorf("a JWT has three parts: %q", token)
	}
	var head struct{ Alg, Typ string }
	var claims struct {
		Aud string
		Exp int64
		Sub string
	}
	for i, v := range []any{&head, &claims} {
		b, err := b64.DecodeString(parts[i])
		if err != nil {
			return err
		}
		if err := json.Unmarshal(b, v); err != nil {
			return err
		}
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil || len(sig) != 64 {
		return fmt.Errorf("an ES256 signature is 64 bytes: %d, %v", len(sig), err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
	switch {
	case head.Alg != "ES256":
		return fmt.Errorf("alg %q", head.Alg)
	case !ecdsa.Verify(pub, digest[:], r, s):
		return fmt.Errorf("the signature does not verify with the desk's key")
	case claims.Aud != origin:
		return fmt.Errorf("aud %q, want %q", claims.Aud, origin)
	case claims.Exp <= time.Now().Unix() || claims.Exp > time.Now().Add(24*time.Hour).Unix():
		return fmt.Errorf("exp %d is not within a day", claims.Exp)
	case !strings.HasPrefix(claims.Sub, "mailto:") && !strings.HasPrefix(claims.Sub, "https:"):
		return fmt.Errorf("sub %q", claims.Sub)
	}
	return nil
}

// Decrypt opens an aes128gcm body (RFC 8188) with a Web Push key
// (RFC 8291) as the browser holding d would.
func Decrypt(d *Device, body []byte) ([]byte, error) {
	if len(body) < 21 {
		return nil, fmt.Errorf("a body of %d bytes", len(body))
	}
	salt, rs, idlen := body[:16], binary.BigEndian.Uint32(body[16:20]), int(body[20])
	if idlen != 65 || len(body) < 21+idlen {
		return nil, fmt.Errorf("key id of %d bytes, want the server's 65-byte public key", idlen)
	}
	serverPub, ciphertext := body[21:21+idlen], body[21+idlen:]
	if uint32(len(ciphertext)) > rs {
		return nil, fmt.Errorf("more than one record (%d bytes, rs %d)", len(ciphertext), rs)
	}
	peer, err := ecdh.P256().NewPublicKey(serverPub)
	if err != nil {
		return nil, err
	}
	secret, err := d.key.ECDH(peer)
	if err != nil {
		return nil, err
	}
	info := append(append([]byte("WebPush: info\x00"), d.key.PublicKey().Bytes()...), serverPub...)
	ikm := make([]byte, 32)
	if _, err := io.ReadFull(hkdf.New(sha256.New, secret, d.auth, info), ikm); err != nil {
		return nil, err
	}
	cek, nonce := make([]byte, 16), make([]byte, 12)
	io.ReadFull(hkdf.New(sha256.New, ikm, salt, []byte("Content-Encoding: aes128gcm\x00")), cek)
	io.ReadFull(hkdf.New(sha256.New, ikm, salt, []byte("Content-Encoding: nonce\x00")), nonce)
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	plain, err := gcm.Open(nil, nonce, ciphertext, nil)
	if err != nil {
		return nil, err
	}
	// The last record: the data, a 2, then zeros of padding.
	end := bytes.LastIndexFunc(plain, func(r rune) bool { return r != 0 })
	if end < 0 || plain[end] != 2 {
		return nil, fmt.Errorf("no last-record delimiter")
	}
	return plain[:end], nil
}
