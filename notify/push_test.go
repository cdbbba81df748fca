package notify_test

import (
	"bytes"
	"context"
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
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/hkdf"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/netguard"
	"onedesk/notify"
	"onedesk/store"
)

var ctx = context.Background()

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

// The push service of these tests listens on 127.0.0.1, which outbound
// connections may reach only with private networks allowed.
func init() { netguard.AllowPrivateNetworks(true) }

var b64 = base64.RawURLEncoding

// pushService is a push service (RFC 8030) on 127.0.0.1: it checks each
// request's VAPID signature against the desk's public key and decrypts
// its payload (RFC 8291) with the device's private key, as a browser
// would, answering what status says for a device.
type pushService struct {
	t        *testing.T
	srv      *httptest.Server
	vapidKey string // the desk's public key, base64url

	mu      sync.Mutex
	devices map[string]*device // by path
	got     []received
	tries   map[string]int // requests per path
	status  map[string]int // answer per path (0: 201)
}

// device is a browser's side of a push subscription.
type device struct {
	path string
	key  *ecdh.PrivateKey
	auth []byte
}

// received is one push the service decrypted.
type received struct {
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

func newPushService(t *testing.T, vapidKey string) *pushService {
	p := &pushService{t: t, vapidKey: vapidKey, devices: map[string]*device{}, tries: map[string]int{}, status: map[string]int{}}
	p.srv = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.srv.Close)
	return p
}

// device makes a new device (a subscription's keys) at path.
func (p *pushService) device(path string) (*device, notify.Subscription) {
	key, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		p.t.Fatal(err)
	}
	d := &device{path: path, key: key, auth: make([]byte, 16)}
	rand.Read(d.auth)
	p.mu.Lock()
	p.devices[path] = d
	p.mu.Unlock()
	var s notify.Subscription
	s.Endpoint = p.srv.URL + path
	s.Keys.P256dh = b64.EncodeToString(key.PublicKey().Bytes())
	s.Keys.Auth = b64.EncodeToString(d.auth)
	s.Device = "Test " + path
	return d, s
}

func (p *pushService) answer(path string, status int) {
	p.mu.Lock()
	p.status[path] = status
	p.mu.Unlock()
}

func (p *pushService) serve(w http.ResponseWriter, r *http.Request) {
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
	if err := checkVAPID(r.Header.Get("Authorization"), p.vapidKey, "http://"+r.Host); err != nil {
		p.t.Errorf("VAPID of a push to %s: %v", r.URL.Path, err)
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Content-Encoding") != "aes128gcm" || r.Header.Get("TTL") == "" {
		p.t.Errorf("push headers: %v", r.Header)
	}
	plain, err := decrypt(d, body)
	if err != nil {
		p.t.Errorf("decrypt a push to %s: %v", r.URL.Path, err)
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	rec := received{Path: r.URL.Path, Topic: r.Header.Get("Topic"), Urgency: r.Header.Get("Urgency")}
	if err := json.Unmarshal(plain, &rec.Payload); err != nil {
		p.t.Errorf("push payload %q: %v", plain, err)
	}
	p.mu.Lock()
	p.got = append(p.got, rec)
	p.mu.Unlock()
	w.WriteHeader(http.StatusCreated)
}

// received lists what a device got, in order.
func (p *pushService) received(path string) []received {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []received
	for _, r := range p.got {
		if r.Path == path {
			out = append(out, r)
		}
	}
	return out
}

func (p *pushService) triesOf(path string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.tries[path]
}

// checkVAPID checks an Authorization header of RFC 8292: "vapid t=JWT,
// k=KEY", the key being the desk's and the JWT signed with it (ES256),
// for this push service's origin, not expired, with a subject.
func checkVAPID(header, wantKey, origin string) error {
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

// decrypt opens an aes128gcm body (RFC 8188) with a Web Push key
// (RFC 8291) as the browser holding d would.
func decrypt(d *device, body []byte) ([]byte, error) {
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

// presence is who has the app open and visible, as the server would tell.
type presence struct {
	mu sync.Mutex
	on map[int64]bool
}

func (p *presence) set(id int64, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.on == nil {
		p.on = map[int64]bool{}
	}
	p.on[id] = on
}

func (p *presence) get(id int64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.on[id]
}

// setup is a desk with two agents, its notifier and a push service.
type setup struct {
	d        *desk.Desk
	db       *store.DB
	n        *notify.Notifier
	pres     *presence
	svc      *pushService
	ana, bob *store.Agent
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	d, db := desktest.New(t)
	s := &setup{d: d, db: db, pres: &presence{}}
	s.n = notify.New(d, desktest.Log(), notify.Options{PublicURL: "https://desk.example", Present: s.pres.get})
	if err := s.n.Start(ctx); err != nil {
		t.Fatal(err)
	}
	key, err := s.n.PublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.svc = newPushService(t, key)
	s.ana = desktest.Agent(t, d, "ana@shop.test", "agent")
	s.bob = desktest.Agent(t, d, "bob@shop.test", "agent")
	return s
}

func (s *setup) subscribe(t *testing.T, a *store.Agent, path string) {
	t.Helper()
	_, sub := s.svc.device(path)
	if _, err := s.n.Subscribe(ctx, a.ID, sub); err != nil {
		t.Fatal(err)
	}
}

func (s *setup) step(t *testing.T, now time.Time) {
	t.Helper()
	if err := s.n.Step(ctx, now); err != nil {
		t.Fatal(err)
	}
}

// emailTicket opens a ticket by email from a customer.
func (s *setup) emailTicket(t *testing.T, from, msgID string) *store.Ticket {
	t.Helper()
	return desktest.Ingest(t, s.d, desk.Inbound{From: desktest.Email(from), Name: "Carla", Subject: "Where is my order?",
		Text: "Order 1001 has not arrived.", ExternalID: msgID}).Ticket
}

func (s *setup) assign(t *testing.T, by *store.Agent, ticketID int64, to *store.Agent) {
	t.Helper()
	if _, err := s.d.Assign(ctx, desk.AgentActor(by.ID), ticketID, &to.ID); err != nil {
		t.Fatal(err)
	}
}

func (s *setup) note(t *testing.T, by *store.Agent, ticketID int64, body string) {
	t.Helper()
	if _, err := s.d.Reply(ctx, desk.AgentActor(by.ID), ticketID, desk.ReplyInput{Body: body, Internal: true}); err != nil {
		t.Fatal(err)
	}
}

// kinds lists the kinds of pushes received, in the order received.
func kinds(list []received) string {
	var out []string
	for _, r := range list {
		out = append(out, r.Payload.Kind)
	}
	return strings.Join(out, " ")
}

// sortedKinds lists them sorted (what happened in one millisecond has
// no order).
func sortedKinds(list []received) string {
	k := strings.Fields(kinds(list))
	slices.Sort(k)
	return strings.Join(k, " ")
}

// Every kind reaches the agent's device: signed with the desk's VAPID
// key, encrypted for the device alone, in the agent's words, opening the
// ticket; an agent is not told of what they did themselves.
func TestPushReachesDevicesSignedAndEncrypted(t *testing.T) {
	s := newSetup(t)
	desktest.SavePolicy(t, s.d, store.SLAPolicy{Name: "Standard", Targets: map[string]store.SLATarget{"normal": {FirstResponse: 3600}}})
	s.subscribe(t, s.ana, "/push/ana-phone")
	s.subscribe(t, s.ana, "/push/ana-laptop")
	s.subscribe(t, s.bob, "/push/bob-phone")
	if _, err := s.d.UpdateAgent(ctx, s.ana.ID, desk.AgentInput{Language: "pt"}); err != nil {
		t.Fatal(err)
	}

	// A visitor starts a chat: everyone hears of it.
	chat := desktest.Ingest(t, s.d, desk.Inbound{Channel: "chat", From: store.Identity{Kind: "visitor", Value: "v-1"}, Name: "Rui",
		Text: "Hello, is my order shipped?"}).Ticket
	// Bob assigns a mail's ticket to Ana, the customer writes again, Bob
	// mentions Ana in a note, and the first response is about to be late.
	tk := s.emailTicket(t, "carla@example.com", "m1@shop")
	s.assign(t, s.bob, tk.ID, s.ana)
	desktest.Ingest(t, s.d, desk.Inbound{From: desktest.Email("carla@example.com"), Subject: "Re: Where is my order?",
		Text: "Any news about it?", ExternalID: "m2@shop", ThreadRefs: []string{"m1@shop"}})
	s.note(t, s.bob, tk.ID, "@ana could you check the courier?")
	if _, err := desktest.SLA(s.d).Sweep(ctx, tk.CreatedAt.Add(50*time.Minute)); err != nil {
		t.Fatal(err)
	}
	s.step(t, store.Now())

	for _, path := range []string{"/push/ana-phone", "/push/ana-laptop"} {
		got := s.svc.received(path)
		// Both tickets are about to miss their first response.
		if k := sortedKinds(got); k != "assigned customer_reply mention new_chat sla_risk sla_risk" {
			t.Fatalf("%s got %q", path, k)
		}
		byKind := map[string]received{}
		for _, r := range got {
			byKind[r.Payload.Kind] = r
			if r.Urgency != "high" || r.Topic == "" {
				t.Errorf("%s: urgency %q, topic %q", r.Payload.Kind, r.Urgency, r.Topic)
			}
		}
		if c := byKind["new_chat"].Payload; c.TicketID != chat.ID || c.Title != "Nova conversa de Rui" || c.Body != "Hello, is my order shipped?" ||
			c.URL != fmt.Sprintf("https://desk.example/#/open/t/%d", chat.ID) {
			t.Errorf("new chat: %+v", c)
		}
		if m := byKind["mention"].Payload; m.TicketID != tk.ID || !strings.Contains(m.Title, "Agent bob@shop.test") ||
			m.Body != "@ana could you check the courier?" {
			t.Errorf("mention: %+v", m)
		}
		if r := byKind["customer_reply"].Payload; r.Body != "Any news about it?" {
			t.Errorf("reply: %+v", r)
		}
	}
	// Bob did the rest himself: the new chat and its SLA (nobody's yet)
	// alone are news to him.
	if k := sortedKinds(s.svc.received("/push/bob-phone")); k != "new_chat sla_risk" {
		t.Fatalf("Bob got %q", k)
	}
	// Nothing is sent twice.
	s.step(t, store.Now())
	if n := len(s.svc.received("/push/ana-phone")); n != 6 {
		t.Fatalf("after another step Ana's phone has %d pushes", n)
	}
	devs, err := s.n.Devices(ctx, s.ana.ID)
	if err != nil || len(devs) != 2 || devs[0].LastUsedAt == nil {
		t.Fatalf("devices: %v %v", devs, err)
	}
}

// A device the push service says is gone (404, 410) is removed with what
// was queued for it; a service that fails for now is tried again with
// backoff, a limited number of times.
func TestGoneDevicesRemovedAndFailuresRetried(t *testing.T) {
	s := newSetup(t)
	s.subscribe(t, s.ana, "/push/gone")
	s.subscribe(t, s.ana, "/push/notfound")
	s.subscribe(t, s.ana, "/push/busy")
	s.subscribe(t, s.ana, "/push/bad")
	s.svc.answer("/push/gone", http.StatusGone)
	s.svc.answer("/push/notfound", http.StatusNotFound)
	s.svc.answer("/push/busy", http.StatusServiceUnavailable)
	s.svc.answer("/push/bad", http.StatusBadRequest)
	tk := s.emailTicket(t, "carla@example.com", "m1@shop")
	s.assign(t, s.bob, tk.ID, s.ana)
	now := store.Now()
	s.step(t, now)

	devs, err := s.n.Devices(ctx, s.ana.ID)
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, d := range devs {
		left = append(left, strings.TrimPrefix(d.Endpoint, s.svc.srv.URL))
	}
	if strings.Join(left, " ") != "/push/busy /push/bad" {
		t.Fatalf("devices left: %v", left)
	}
	if devs[0].LastError == "" || !strings.Contains(devs[1].LastError, "400") {
		t.Fatalf("errors kept: %q, %q", devs[0].LastError, devs[1].LastError)
	}
	// The busy one: again after 10 s, 20 s, 40 s, 80 s, then dropped.
	s.step(t, now.Add(5*time.Second))
	if n := s.svc.triesOf("/push/busy"); n != 1 {
		t.Fatalf("tried %d times before the backoff passed", n)
	}
	at := now
	for i, wait := range []time.Duration{10, 20, 40, 80} {
		at = at.Add(wait * time.Second)
		s.step(t, at)
		if n := s.svc.triesOf("/push/busy"); n != i+2 {
			t.Fatalf("after %v: %d tries", at.Sub(now), n)
		}
	}
	s.step(t, at.Add(time.Hour))
	if n := s.svc.triesOf("/push/busy"); n != 5 {
		t.Fatalf("tried %d times, want 5 then dropped", n)
	}
	if next, err := s.db.NextPushAt(ctx); err != nil || !next.IsZero() {
		t.Fatalf("still queued: %v %v", next, err)
	}
	if s.svc.triesOf("/push/bad") != 1 {
		t.Fatalf("a refused push (400) was tried again")
	}
	// The service takes pushes again: the device still works.
	s.svc.answer("/push/busy", 0)
	s.note(t, s.bob, tk.ID, "@ana ping")
	s.step(t, store.Now())
	if k := kinds(s.svc.received("/push/busy")); k != "mention" {
		t.Fatalf("after the outage: %q", k)
	}
}

// A device endpoint is an outbound URL: it must lead to a public host.
func TestEndpointMustBePublic(t *testing.T) {
	s := newSetup(t)
	was := netguard.AllowPrivateNetworks(false)
	defer netguard.AllowPrivateNetworks(was)
	for _, ep := range []string{"https://127.0.0.1/push/x", "https://10.1.2.3/push", "https://169.254.169.254/latest", "https://[::1]/p",
		"http://push.example.com/x", "ftp://push.example.com/x", ""} {
		var sub notify.Subscription
		sub.Endpoint = ep
		sub.Keys.P256dh, sub.Keys.Auth = "BKey", "auth"
		_, err := s.n.Subscribe(ctx, s.ana.ID, sub)
		if desktest.FieldOf(err) != "endpoint" {
			t.Errorf("endpoint %q: %v, want refused in endpoint", ep, err)
		}
	}
}
