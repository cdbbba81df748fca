package webhooks_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/store"
	"onedesk/webhooks"
	"onedesk/webhooks/webhookstest"
)

var ctx = context.Background()

// newHooks is a desk over a new database and the webhooks of it.
func newHooks(t *testing.T) (*desk.Desk, *store.DB, *webhooks.Hooks) {
	t.Helper()
	d, db := desktest.New(t)
	return d, db, webhooks.New(db, desktest.Log())
}

// hookPost is one request a receiver got, checked against the secret.
type hookPost struct {
	webhookstest.Post
	SignatureOK bool
	Payload     struct {
		ID        int64           `json:"id"`
		Event     string          `json:"event"`
		CreatedAt time.Time       `json:"created_at"`
		Ticket    *store.Ticket   `json:"ticket"`
		Customer  *store.Customer `json:"customer"`
		Message   *store.Message  `json:"message"`
		Change    *store.Event    `json:"change"`
		Rule      *struct {
			ID   int64  `json:"id"`
			Name string `json:"name"`
		} `json:"rule"`
	}
}

// receiver is an integration's endpoint: it verifies each post with the
// secret (set once the webhook exists) and answers what status says.
type receiver struct {
	*webhookstest.Receiver
	t      *testing.T
	mu     sync.Mutex
	secret string
}

// newReceiver answers the n-th post (1-based) status(n); nil: 200.
func newReceiver(t *testing.T, status func(n int) int) *receiver {
	r := &receiver{Receiver: webhookstest.New(t), t: t}
	if status != nil {
		r.Answer(func(n int) (int, string) {
			code := status(n)
			return code, "answer " + strconv.Itoa(code)
		})
	}
	return r
}

func (r *receiver) got() []hookPost {
	r.mu.Lock()
	secret := r.secret
	r.mu.Unlock()
	var out []hookPost
	for _, p := range r.Posts() {
		hp := hookPost{Post: p, SignatureOK: p.SignedWith(secret)}
		if err := json.Unmarshal(p.Body, &hp.Payload); err != nil {
			r.t.Errorf("body %s: %v", p.Body, err)
		}
		out = append(out, hp)
	}
	return out
}

func addWebhook(t *testing.T, h *webhooks.Hooks, r *receiver, events ...string) *store.Webhook {
	t.Helper()
	name, url := "Hook", r.URL+"/hook"
	w, secret, err := h.Save(ctx, 0, webhooks.Input{Name: &name, URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	if len(secret) < 32 {
		t.Fatalf("secret %q", secret)
	}
	r.mu.Lock()
	r.secret = secret
	r.mu.Unlock()
	return w
}

func deliver(t *testing.T, h *webhooks.Hooks, now time.Time) {
	t.Helper()
	if err := h.Deliver(ctx, now); err != nil {
		t.Fatal(err)
	}
}

func deliveries(t *testing.T, h *webhooks.Hooks, webhookID int64) []*store.Delivery {
	t.Helper()
	list, err := h.Deliveries(ctx, webhookID, 100)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// Ticket created, updated and message events reach the webhook signed
// with its secret, in the order they happened, with the ticket.
func TestWebhookEvents(t *testing.T) {
	d, db, h := newHooks(t)
	r := newReceiver(t, nil)
	w := addWebhook(t, h, r, "ticket.created", "ticket.updated", "message.created")
	a := desktest.Agent(t, d, "ann@shop.test", "agent")

	res := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("carla@example.com"), Name: "Carla", Subject: "Order 1001", Text: "Where is it?"})
	if _, err := d.SetStatus(ctx, desk.AgentActor(a.ID), res.Ticket.ID, "pending"); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reply(ctx, desk.AgentActor(a.ID), res.Ticket.ID, desk.ReplyInput{Body: "Checking with the courier", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reply(ctx, desk.AgentActor(a.ID), res.Ticket.ID, desk.ReplyInput{Body: "It ships today"}); err != nil {
		t.Fatal(err)
	}
	deliver(t, h, time.Now())

	// Each message and each change once, in order (a reply may assign the
	// ticket too: changes after the status are not listed here).
	posts := r.got()
	var changes, messages []string
	ids := map[string]bool{}
	for _, p := range posts {
		if !p.SignatureOK {
			t.Errorf("%s: signature or headers wrong", p.Event)
		}
		if p.Payload.Event != p.Event || strconv.FormatInt(p.Payload.ID, 10) != p.Delivery || ids[p.Delivery] {
			t.Errorf("%s: header delivery %s, body %+v", p.Event, p.Delivery, p.Payload)
		}
		ids[p.Delivery] = true
		if p.Payload.Ticket == nil || p.Payload.Ticket.ID != res.Ticket.ID || p.Payload.Customer.Name != "Carla" {
			t.Errorf("%s: ticket %+v customer %+v", p.Event, p.Payload.Ticket, p.Payload.Customer)
		}
		switch {
		case p.Event == "message.created" && p.Payload.Message != nil:
			messages = append(messages, p.Payload.Message.Kind+":"+p.Payload.Message.Body)
		case p.Event == "ticket.created" && p.Payload.Change != nil && p.Payload.Change.Type == "created":
			changes = append(changes, "created")
		case p.Event == "ticket.updated" && p.Payload.Change != nil:
			changes = append(changes, string(p.Payload.Change.Type)+string(p.Payload.Change.Data))
			if p.Payload.Change.Type == "status_changed" && p.Payload.Ticket.Status != "pending" {
				t.Errorf("status change: ticket %+v", p.Payload.Ticket)
			}
		default:
			t.Errorf("post %s", p.Body)
		}
	}
	if posts[0].Event != "ticket.created" || posts[1].Event != "message.created" {
		t.Errorf("first posts %q", r.Events())
	}
	if got := strings.Join(messages, " | "); got != "customer:Where is it? | note:Checking with the courier | agent:It ships today" {
		t.Errorf("messages %q", got)
	}
	if len(changes) < 2 || changes[0] != "created" || changes[1] != `status_changed{"from":"new","to":"pending"}` {
		t.Errorf("changes %q", changes)
	}

	for _, dl := range deliveries(t, h, w.ID) {
		if dl.Status != "delivered" || dl.Attempts != 1 || dl.ResponseCode != 200 || dl.TicketID == nil || *dl.TicketID != res.Ticket.ID {
			t.Errorf("delivery %+v", dl)
		}
	}
	w, _ = db.Webhook(ctx, w.ID)
	if w.LastStatus != "ok" || w.LastDeliveryAt == nil || w.Queued != 0 {
		t.Errorf("webhook %+v", w)
	}
	// Nothing twice.
	deliver(t, h, time.Now().Add(time.Hour))
	if n := len(r.got()); n != len(posts) {
		t.Errorf("%d posts after another round", n)
	}
}

// A receiver that fails twice gets the same delivery three times, on the
// backoff's schedule, and what came after it waits its turn.
func TestWebhookRetries(t *testing.T) {
	d, _, h := newHooks(t)
	r := newReceiver(t, func(n int) int {
		if n <= 2 {
			return 500
		}
		return 204
	})
	w := addWebhook(t, h, r, "ticket.created")
	first := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "First", Text: "one"})
	now := time.Now()
	deliver(t, h, now)
	dl := deliveries(t, h, w.ID)
	if len(r.got()) != 1 || len(dl) != 1 || dl[0].Status != "queued" || dl[0].Attempts != 1 || dl[0].ResponseCode != 500 ||
		!strings.Contains(dl[0].LastError, "500") || dl[0].NextAttemptAt.Sub(now).Round(time.Second) != 10*time.Second {
		t.Fatalf("after a 500: %d posts, %+v", len(r.got()), dl[0])
	}
	second := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("b@example.com"), Subject: "Second", Text: "two"})
	deliver(t, h, now.Add(5*time.Second)) // not due: the second waits behind the first
	if n := len(r.got()); n != 1 {
		t.Fatalf("%d posts before the retry is due", n)
	}
	deliver(t, h, now.Add(11*time.Second)) // second 500; next in 20 s
	deliver(t, h, now.Add(25*time.Second))
	if n := len(r.got()); n != 2 {
		t.Fatalf("%d posts before the second retry is due", n)
	}
	deliver(t, h, now.Add(32*time.Second))
	posts := r.got()
	if len(posts) != 4 {
		t.Fatalf("%d posts: %q", len(posts), r.Events())
	}
	for i, p := range posts[:3] {
		if p.Delivery != posts[0].Delivery || string(p.Body) != string(posts[0].Body) || p.Payload.Ticket.ID != first.Ticket.ID || !p.SignatureOK {
			t.Errorf("attempt %d: delivery %s ticket %d", i+1, p.Delivery, p.Payload.Ticket.ID)
		}
	}
	if posts[3].Payload.Ticket.ID != second.Ticket.ID || posts[3].Delivery == posts[0].Delivery {
		t.Errorf("then the second ticket: %+v", posts[3].Payload)
	}
	dl = deliveries(t, h, w.ID)
	if dl[1].Status != "delivered" || dl[1].Attempts != 3 || dl[1].ResponseCode != 204 || dl[1].LastError != "" || dl[0].Status != "delivered" {
		t.Errorf("deliveries %+v %+v", dl[0], dl[1])
	}
}

// A receiver that never answers 2xx: the delivery is tried for a day and
// then fails, visibly; those that waited behind it as long fail with it,
// a younger one is tried next.
func TestWebhookFailsAfterLastAttempt(t *testing.T) {
	d, db, h := newHooks(t)
	r := newReceiver(t, func(int) int { return 503 })
	w := addWebhook(t, h, r, "ticket.created")
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "First", Text: "one"})
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("b@example.com"), Subject: "Second", Text: "two"})
	start := time.Now()
	now := start
	var late *desk.Ingested
	for round := 0; ; round++ {
		deliver(t, h, now)
		dl := deliveries(t, h, w.ID)
		head := dl[len(dl)-1]
		if head.Status != "queued" {
			break
		}
		if round > 100 {
			t.Fatalf("still queued after %d rounds: %+v", round, head)
		}
		if late == nil && now.Sub(start) > 12*time.Hour {
			late = desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("c@example.com"), Subject: "Third", Text: "three"})
		}
		now = *head.NextAttemptAt
	}
	dl := deliveries(t, h, w.ID)
	if len(dl) != 3 {
		t.Fatalf("%d deliveries", len(dl))
	}
	first, second, third := dl[2], dl[1], dl[0]
	if first.Status != "failed" || first.Attempts < 20 || first.ResponseCode != 503 || !strings.Contains(first.LastError, "503") {
		t.Errorf("first: %+v", first)
	}
	if took := now.Sub(start); took < 23*time.Hour || took > 25*time.Hour {
		t.Errorf("gave up after %s", took)
	}
	if second.Status != "failed" || second.Attempts != 0 || !strings.Contains(second.LastError, "not sent") {
		t.Errorf("second: %+v", second)
	}
	if third.Status != "queued" || *third.TicketID != late.Ticket.ID {
		t.Errorf("third: %+v", third)
	}
	for _, p := range r.got() {
		if p.Delivery != strconv.FormatInt(first.ID, 10) {
			t.Fatalf("posted delivery %s while %d was failing", p.Delivery, first.ID)
		}
	}
	if got, _ := db.Webhook(ctx, w.ID); got.LastStatus != "failed" || !strings.Contains(got.LastError, "503") || got.Queued != 1 {
		t.Errorf("webhook %+v", got)
	}
}

// Deliveries are on disk: what was queued, and what happened but was not
// yet turned into deliveries, go out after a restart.
func TestWebhookSurvivesRestart(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.db")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	open := func() (*desk.Desk, *store.DB, *webhooks.Hooks) {
		db, err := store.Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		return desk.New(db, log), db, webhooks.New(db, log)
	}
	up := false
	var mu sync.Mutex
	r := newReceiver(t, func(int) int {
		mu.Lock()
		defer mu.Unlock()
		if up {
			return 200
		}
		return 502
	})
	d, db, h := open()
	w := addWebhook(t, h, r, "ticket.created")
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "Before", Text: "one"})
	now := time.Now()
	deliver(t, h, now) // tried once, queued
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("b@example.com"), Subject: "Unseen", Text: "two"})
	db.Close()

	mu.Lock()
	up = true
	mu.Unlock()
	d, db, h = open()
	defer db.Close()
	deliver(t, h, now.Add(time.Minute))
	posts := r.got()
	if len(posts) != 3 || posts[0].Delivery != posts[1].Delivery || posts[1].Payload.Ticket.Subject != "Before" ||
		posts[2].Payload.Ticket.Subject != "Unseen" {
		t.Fatalf("posts %q", r.Events())
	}
	for _, dl := range deliveries(t, h, w.ID) {
		if dl.Status != "delivered" {
			t.Errorf("delivery %+v", dl)
		}
	}
}

// A rule's webhook action posts rule.webhook with the ticket and the rule
// to its webhook, which subscribes to nothing else.
func TestWebhookRuleAction(t *testing.T) {
	d, db, h := newHooks(t)
	r := newReceiver(t, nil)
	w := addWebhook(t, h, r)
	if _, err := desktest.Rules(d).Save(ctx, 0, store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{desktest.Action("webhook", float64(w.ID+1))}}); err == nil {
		t.Fatal("a rule naming no webhook was saved")
	} else if ie, ok := desk.IsInput(err); !ok || ie.Field != "actions.0.value" {
		t.Fatalf("error %v", err)
	}
	rule := desktest.SaveRule(t, d, store.Rule{Name: "Refunds to the shop", Trigger: "created",
		Conditions: []store.Condition{desktest.Cond("subject", "contains", "refund")},
		Actions:    []store.Action{desktest.Action("set_priority", "high"), desktest.Action("webhook", float64(w.ID))}})
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "Hello", Text: "no rule"})
	res := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("b@example.com"), Subject: "Refund please", Text: "order 7"})
	if got := desktest.RuleEvents(t, db, res.Ticket.ID); got != "Refunds to the shop:set_priority Refunds to the shop:webhook" {
		t.Fatalf("rule events %q", got)
	}
	deliver(t, h, time.Now())
	posts := r.got()
	if len(posts) != 1 || posts[0].Event != "rule.webhook" || !posts[0].SignatureOK {
		t.Fatalf("posts %q", r.Events())
	}
	p := posts[0].Payload
	if p.Rule == nil || p.Rule.ID != rule.ID || p.Rule.Name != rule.Name || p.Ticket.ID != res.Ticket.ID ||
		p.Ticket.Priority != "high" || p.Message == nil || p.Message.Body != "order 7" {
		t.Errorf("payload %s", posts[0].Body)
	}
}

// A webhook that is off gets nothing (not even from a rule, and not what
// happened while it was off), and events nobody subscribes to are not
// posted.
func TestWebhookDisabledAndUnsubscribed(t *testing.T) {
	d, db, h := newHooks(t)
	on, off := newReceiver(t, nil), newReceiver(t, nil)
	addWebhook(t, h, on, "message.created")
	wOff := addWebhook(t, h, off, "ticket.created", "ticket.updated", "message.created")
	no := false
	if _, _, err := h.Save(ctx, wOff.ID, webhooks.Input{Enabled: &no}); err != nil {
		t.Fatal(err)
	}
	desktest.SaveRule(t, d, store.Rule{Name: "Tell the off one", Trigger: "created", Actions: []store.Action{desktest.Action("webhook", float64(wOff.ID))}})
	res := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "Hi", Text: "one"})
	if _, err := d.SetStatus(ctx, desk.System, res.Ticket.ID, "open"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.Test(ctx, wOff.ID); err == nil {
		t.Error("a webhook that is off was sent a test")
	}
	deliver(t, h, time.Now())
	if got := on.Events(); got != "message.created" {
		t.Errorf("subscriber got %q", got)
	}
	if got := off.Events(); got != "" {
		t.Errorf("the webhook that is off got %q", got)
	}
	if got := desktest.RuleEvents(t, db, res.Ticket.ID); got != "" {
		t.Errorf("rule events %q", got)
	}
	// Back on: a test goes out, the past does not.
	yes := true
	if _, _, err := h.Save(ctx, wOff.ID, webhooks.Input{Enabled: &yes}); err != nil {
		t.Fatal(err)
	}
	ping, err := h.Test(ctx, wOff.ID)
	if err != nil {
		t.Fatal(err)
	}
	deliver(t, h, time.Now())
	if got := off.got(); len(got) != 1 || got[0].Event != "ping" || got[0].Delivery != strconv.FormatInt(ping.ID, 10) || !got[0].SignatureOK {
		t.Errorf("after turning on: %q", off.Events())
	}
}

// RunWebhooks posts as things happen and stops with its context.
func TestRunWebhooks(t *testing.T) {
	d, _, h := newHooks(t)
	r := newReceiver(t, nil)
	addWebhook(t, h, r, "ticket.created")
	c, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { h.Run(c, d); close(done) }()
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "Live", Text: "one"})
	for i := 0; len(r.got()) == 0; i++ {
		if i > 500 {
			t.Fatal("nothing posted in 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if got := r.got(); got[0].Payload.Ticket.Subject != "Live" {
		t.Errorf("posted %s", got[0].Body)
	}
}

func TestWebhookValidation(t *testing.T) {
	_, _, h := newHooks(t)
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		in    webhooks.Input
		field string
	}{
		{webhooks.Input{URL: str("https://x.test/")}, "name"},
		{webhooks.Input{Name: str("n"), URL: str("ftp://x.test/")}, "url"},
		{webhooks.Input{Name: str("n"), URL: str("https:///path")}, "url"},
		{webhooks.Input{Name: str("n"), URL: str("x.test/hook")}, "url"},
		{webhooks.Input{Name: str("n"), URL: str("https://x.test/"), Events: &[]string{"ticket.deleted"}}, "events"},
		{webhooks.Input{Name: str("n"), URL: str("https://x.test/"), Secret: str("short")}, "secret"},
		{webhooks.Input{Name: str(strings.Repeat("n", 101)), URL: str("https://x.test/")}, "name"},
	} {
		_, _, err := h.Save(ctx, 0, c.in)
		if ie, ok := desk.IsInput(err); !ok || ie.Field != c.field {
			t.Errorf("%+v: %v, want a %s error", c.in, err, c.field)
		}
	}
	w, secret, err := h.Save(ctx, 0, webhooks.Input{Name: str("n"), URL: str("https://x.test/"), Secret: str("my-own-secret-0123456789")})
	if err != nil || secret != "my-own-secret-0123456789" || w.Secret != secret {
		t.Fatalf("given secret: %q %v", secret, err)
	}
	if _, secret, _ = h.Save(ctx, w.ID, webhooks.Input{Name: str("m")}); secret != "" {
		t.Errorf("an edit showed the secret %q", secret)
	}
	w2, secret, _ := h.Save(ctx, w.ID, webhooks.Input{RotateSecret: true})
	if secret == "" || secret == "my-own-secret-0123456789" || w2.Secret != secret {
		t.Errorf("rotated secret %q", secret)
	}
}

// BenchmarkIngestWebhooks ingests new email tickets with no webhook, and
// with two webhooks subscribed to every event while the dispatcher runs
// beside the ingest and posts to a local receiver. Ingest does no webhook
// work itself; the difference is the dispatcher's share of the writer and
// the CPU:
//
//	go test ./webhooks -run '^$' -bench IngestWebhooks -benchtime 3000x
func BenchmarkIngestWebhooks(b *testing.B) {
	for _, hooks := range []int{0, 2} {
		b.Run(fmt.Sprintf("webhooks=%d", hooks), func(b *testing.B) {
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			d := desk.New(db, desktest.Log())
			h := webhooks.New(db, desktest.Log())
			var posts atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				posts.Add(1)
			}))
			defer srv.Close()
			for i := range hooks {
				name, url := fmt.Sprintf("hook %d", i), srv.URL
				if _, _, err := h.Save(ctx, 0, webhooks.Input{Name: &name, URL: &url, Events: &webhooks.Events}); err != nil {
					b.Fatal(err)
				}
			}
			c, cancel := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { h.Run(c, d); close(done) }()
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				in := desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: fmt.Sprintf("c%d@d%d.test", i, i%300)},
					Subject: fmt.Sprintf("Question %d about an order", i), Text: "Hello, where is my order? It was due on Monday.",
					ExternalID: fmt.Sprintf("m%d@bench", i)}
				start := time.Now()
				if _, err := d.Ingest(ctx, in); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			desktest.Latency(b, lat)
			cancel()
			<-done
			b.ReportMetric(float64(posts.Load())/float64(b.N), "posts/op")
		})
	}
}
