package notify_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/netguard"
	"onedesk/notify"
	"onedesk/notify/notifytest"
	"onedesk/store"
)

var ctx = context.Background()

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

// The push service of these tests listens on 127.0.0.1, which outbound
// connections may reach only with private networks allowed.
func init() { netguard.AllowPrivateNetworks(true) }

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
	svc      *notifytest.PushService
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
	s.svc = notifytest.New(t, key)
	s.ana = desktest.Agent(t, d, "ana@shop.test", "agent")
	s.bob = desktest.Agent(t, d, "bob@shop.test", "agent")
	return s
}

func (s *setup) subscribe(t *testing.T, a *store.Agent, path string) {
	t.Helper()
	_, sub := s.svc.Device(path)
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
func kinds(list []notifytest.Received) string {
	var out []string
	for _, r := range list {
		out = append(out, r.Payload.Kind)
	}
	return strings.Join(out, " ")
}

// sortedKinds lists them sorted (what happened in one millisecond has
// no order).
func sortedKinds(list []notifytest.Received) string {
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
		got := s.svc.Received(path)
		// Both tickets are about to miss their first response.
		if k := sortedKinds(got); k != "assigned customer_reply mention new_chat sla_risk sla_risk" {
			t.Fatalf("%s got %q", path, k)
		}
		byKind := map[string]notifytest.Received{}
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
	if k := sortedKinds(s.svc.Received("/push/bob-phone")); k != "new_chat sla_risk" {
		t.Fatalf("Bob got %q", k)
	}
	// Nothing is sent twice.
	s.step(t, store.Now())
	if n := len(s.svc.Received("/push/ana-phone")); n != 6 {
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
	s.svc.Answer("/push/gone", http.StatusGone)
	s.svc.Answer("/push/notfound", http.StatusNotFound)
	s.svc.Answer("/push/busy", http.StatusServiceUnavailable)
	s.svc.Answer("/push/bad", http.StatusBadRequest)
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
		left = append(left, strings.TrimPrefix(d.Endpoint, s.svc.URL))
	}
	if strings.Join(left, " ") != "/push/busy /push/bad" {
		t.Fatalf("devices left: %v", left)
	}
	if devs[0].LastError == "" || !strings.Contains(devs[1].LastError, "400") {
		t.Fatalf("errors kept: %q, %q", devs[0].LastError, devs[1].LastError)
	}
	// The busy one: again after 10 s, 20 s, 40 s, 80 s, then dropped.
	s.step(t, now.Add(5*time.Second))
	if n := s.svc.Tries("/push/busy"); n != 1 {
		t.Fatalf("tried %d times before the backoff passed", n)
	}
	at := now
	for i, wait := range []time.Duration{10, 20, 40, 80} {
		at = at.Add(wait * time.Second)
		s.step(t, at)
		if n := s.svc.Tries("/push/busy"); n != i+2 {
			t.Fatalf("after %v: %d tries", at.Sub(now), n)
		}
	}
	s.step(t, at.Add(time.Hour))
	if n := s.svc.Tries("/push/busy"); n != 5 {
		t.Fatalf("tried %d times, want 5 then dropped", n)
	}
	if next, err := s.db.NextPushAt(ctx); err != nil || !next.IsZero() {
		t.Fatalf("still queued: %v %v", next, err)
	}
	if s.svc.Tries("/push/bad") != 1 {
		t.Fatalf("a refused push (400) was tried again")
	}
	// The service takes pushes again: the device still works.
	s.svc.Answer("/push/busy", 0)
	s.note(t, s.bob, tk.ID, "@ana ping")
	s.step(t, store.Now())
	if k := kinds(s.svc.Received("/push/busy")); k != "mention" {
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
