package desk_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

var ctx = context.Background()

func TestIngestThreadsDedupesAndReopens(t *testing.T) {
	d, db := newDesk(t)
	first := ingest(t, d, desk.Inbound{From: email("Carla@Example.com"), Name: "Carla", Subject: "Where is\n my order?", Text: "Order 1001", ExternalID: "m1@shop"})
	if !first.Created || first.Ticket.Subject != "Where is my order?" || first.Ticket.Status != "new" {
		t.Fatalf("first: %+v", first.Ticket)
	}
	c, _ := db.Customer(ctx, first.Ticket.CustomerID)
	if c.Name != "Carla" || c.Identities[0].Value != "carla@example.com" {
		t.Fatalf("customer %+v", c)
	}
	// The same message again: nothing new.
	dup := ingest(t, d, desk.Inbound{From: email("carla@example.com"), Text: "Order 1001", ExternalID: "m1@shop"})
	if !dup.Duplicate || dup.Ticket.ID != first.Ticket.ID || dup.Message.ID != first.Message.ID {
		t.Fatalf("duplicate: %+v", dup)
	}
	// A reply that references the first message joins its ticket.
	second := ingest(t, d, desk.Inbound{From: email("carla@example.com"), Subject: "Re: Where", Text: "Any news?", ExternalID: "m2@shop", ThreadRefs: []string{"unknown@x", "m1@shop"}})
	if second.Created || second.Ticket.ID != first.Ticket.ID {
		t.Fatalf("reply opened ticket %d", second.Ticket.ID)
	}
	msgs, _ := db.Messages(ctx, first.Ticket.ID)
	if len(msgs) != 2 {
		t.Fatalf("%d messages", len(msgs))
	}

	id := first.Ticket.ID
	for _, st := range []string{"pending", "resolved"} {
		if _, err := d.SetStatus(ctx, desk.System, id, st); err != nil {
			t.Fatal(err)
		}
		// An auto-reply never reopens.
		ingest(t, d, desk.Inbound{From: email("carla@example.com"), Text: "I am on holiday", Auto: "auto_reply", TicketID: id})
		tk, _ := db.Ticket(ctx, id)
		if tk.Status != st {
			t.Fatalf("auto-reply changed %s to %s", st, tk.Status)
		}
		res := ingest(t, d, desk.Inbound{From: email("carla@example.com"), Text: "Still waiting", TicketID: id})
		if res.Ticket.Status != "open" || res.Ticket.ResolvedAt != nil {
			t.Fatalf("customer reply left %s ticket %s", st, res.Ticket.Status)
		}
	}
	if got := events(t, db, id); got != "created/customer status_changed/system status_changed/customer status_changed/system status_changed/customer" {
		t.Fatalf("events %s", got)
	}

	// A message to a closed ticket opens a follow-up.
	if _, err := d.SetStatus(ctx, desk.System, id, "closed"); err != nil {
		t.Fatal(err)
	}
	follow := ingest(t, d, desk.Inbound{From: email("carla@example.com"), Text: "One more thing", ThreadRefs: []string{"m2@shop"}})
	if !follow.Created || follow.Ticket.ID == id || follow.Ticket.CustomerID != first.Ticket.CustomerID {
		t.Fatalf("follow-up %+v", follow.Ticket)
	}
	evs, _ := db.Events(ctx, follow.Ticket.ID)
	if !strings.Contains(string(evs[0].Data), `"follow_up_of":1`) {
		t.Fatalf("follow-up event %s", evs[0].Data)
	}
}

func TestIngestRefusesBadInput(t *testing.T) {
	d, db := newDesk(t)
	cases := []struct {
		in    desk.Inbound
		field string
	}{
		{desk.Inbound{Channel: "email", From: email("not an address"), Text: "x"}, "email"},
		{desk.Inbound{Channel: "email", From: store.Identity{Kind: "phone", Value: "912 345 678"}, Text: "x"}, "phone"},
		{desk.Inbound{Channel: "pigeon", From: email("a@b.test"), Text: "x"}, "channel"},
		{desk.Inbound{Channel: "email", From: email("a@b.test"), Text: "  "}, "body"},
		{desk.Inbound{Channel: "email", From: email("a@b.test"), Text: "x", Priority: "asap"}, "priority"},
		{desk.Inbound{Channel: "email", From: email("a@b.test"), Text: "x", Fields: []byte(`[1]`)}, "fields"},
		{desk.Inbound{Channel: "email", From: email("a@b.test"), Text: "x", StoreID: ptr(9)}, "store_id"},
	}
	for _, c := range cases {
		_, err := d.Ingest(ctx, c.in)
		ie, ok := desk.IsInput(err)
		if !ok || ie.Field != c.field {
			t.Errorf("%+v: error %v, want field %s", c.in, err, c.field)
		}
	}
	if n, _, _ := db.ListTickets(ctx, store.TicketFilter{}); len(n) != 0 {
		t.Fatalf("refused input left %d tickets", len(n))
	}
}

func TestNormalizeIdentity(t *testing.T) {
	for in, want := range map[string]string{
		"phone:+351 912-345 678":    "+351912345678",
		"phone:0044 (20) 7946.0958": "+442079460958",
		"email:Ann <ANN@Shop.Test>": "ann@shop.test",
		"email:bob+orders@x.test":   "bob+orders@x.test",
		"instagram:@Shop.Fan":       "shop.fan",
	} {
		kind, v, _ := strings.Cut(in, ":")
		got, err := desk.NormalizeIdentity(kind, v)
		if err != nil || got.Value != want {
			t.Errorf("%s: %q %v, want %q", in, got.Value, err, want)
		}
	}
	for _, in := range []string{"phone:12", "phone:+0123456789", "phone:+351 9x2", "email:@", "fax:1"} {
		kind, v, _ := strings.Cut(in, ":")
		if _, err := desk.NormalizeIdentity(kind, v); err == nil {
			t.Errorf("%s accepted", in)
		}
	}
}

func TestReplyNoteAndUpdate(t *testing.T) {
	d, db := newDesk(t)
	a := agent(t, d, "ann@shop.test", "admin")
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Returns", AgentIDs: []int64{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	tk := ingest(t, d, desk.Inbound{From: email("c@x.test"), Subject: "Broken", Text: "It arrived broken"}).Ticket
	me := desk.AgentActor(a.ID)

	note, err := d.Reply(ctx, me, tk.ID, desk.ReplyInput{Body: "Check stock first", Internal: true})
	if err != nil || note.Kind != "note" || note.Delivery != "" {
		t.Fatalf("note %+v %v", note, err)
	}
	got, _ := db.Ticket(ctx, tk.ID)
	if got.FirstResponseAt != nil || got.Status != "new" {
		t.Fatalf("a note counted as a response: %+v", got)
	}
	reply, err := d.Reply(ctx, me, tk.ID, desk.ReplyInput{Body: "Sorry! A new one is on its way."})
	if err != nil || reply.Kind != "agent" || reply.Delivery != "queued" || *reply.AuthorID != a.ID {
		t.Fatalf("reply %+v %v", reply, err)
	}
	got, _ = db.Ticket(ctx, tk.ID)
	if got.Status != "open" || got.FirstResponseAt == nil || got.LastAgentAt == nil || got.Snippet != "Sorry! A new one is on its way." {
		t.Fatalf("after reply %+v", got)
	}
	firstResponse := *got.FirstResponseAt
	due, _ := db.DueOutbox(ctx, store.Now(), 10)
	if len(due) != 1 || due[0].MessageID != reply.ID {
		t.Fatalf("outbox %+v", due)
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := d.Reply(ctx, me, tk.ID, desk.ReplyInput{Body: "Tracking: 123", Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	got, _ = db.Ticket(ctx, tk.ID)
	if got.Status != "resolved" || got.ResolvedAt == nil || !got.FirstResponseAt.Equal(firstResponse) {
		t.Fatalf("send and resolve %+v", got)
	}

	// One update, several changes, each an event.
	tags := []string{"Damaged", " damaged ", "vip customer"}
	_, err = d.UpdateTicket(ctx, me, tk.ID, desk.Update{
		Status: "open", Priority: "high", Tags: &tags, Note: "Customer is upset, call back",
		AssigneeID: desk.Optional[int64]{Set: true, Value: &a.ID}, TeamID: desk.Optional[int64]{Set: true, Value: &team.ID},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ = db.Ticket(ctx, tk.ID)
	if got.Priority != "high" || strings.Join(got.Tags, ",") != "damaged,vip-customer" || *got.AssigneeID != a.ID || *got.TeamID != team.ID || got.Status != "open" {
		t.Fatalf("after update %+v", got)
	}
	actor := "1" // the agent id
	// The first reply made the unassigned ticket Ann's (assign_on_reply),
	// so the update's assignment changed nothing.
	want := "created/customer noted/" + actor + " replied/" + actor + " assigned/" + actor + " status_changed/" + actor + " replied/" + actor + " status_changed/" + actor +
		" transferred/" + actor + " priority_changed/" + actor + " tags_changed/" + actor + " status_changed/" + actor
	if got := events(t, db, tk.ID); got != want {
		t.Fatalf("events\n got %s\nwant %s", got, want)
	}
	evs, _ := db.Events(ctx, tk.ID)
	for _, e := range evs {
		if e.Type == "transferred" && !strings.Contains(string(e.Data), "call back") {
			t.Fatalf("handoff note missing: %s", e.Data)
		}
	}

	// All or nothing: a valid priority with a missing team changes nothing.
	before := events(t, db, tk.ID)
	_, err = d.UpdateTicket(ctx, me, tk.ID, desk.Update{Priority: "low", TeamID: desk.Optional[int64]{Set: true, Value: ptr(99)}})
	if ie, ok := desk.IsInput(err); !ok || ie.Field != "team_id" {
		t.Fatalf("missing team: %v", err)
	}
	got, _ = db.Ticket(ctx, tk.ID)
	if got.Priority != "high" || events(t, db, tk.ID) != before {
		t.Fatal("refused update was half written")
	}
	// Closed is final.
	if _, err := d.SetStatus(ctx, me, tk.ID, "closed"); err != nil {
		t.Fatal(err)
	}
	_, err = d.SetStatus(ctx, me, tk.ID, "open")
	if ie, ok := desk.IsInput(err); !ok || ie.Field != "status" {
		t.Fatalf("closed -> open: %v", err)
	}
	if _, err := d.Reply(ctx, me, tk.ID, desk.ReplyInput{Body: "hello?"}); err == nil {
		t.Fatal("replied to a closed ticket")
	}
	if _, err := d.Reply(ctx, me, tk.ID, desk.ReplyInput{Body: "for the record", Internal: true}); err != nil {
		t.Fatalf("a note on a closed ticket: %v", err)
	}
	if _, err := d.SetStatus(ctx, me, 4242, "open"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown ticket: %v", err)
	}
	if _, err := d.Assign(ctx, me, tk.ID, ptr(77)); err == nil {
		t.Fatal("assigned to a missing agent")
	}
}

func TestBusPublishesAfterCommit(t *testing.T) {
	d, _ := newDesk(t)
	changes, stop := d.Bus().Subscribe(16)
	defer stop()
	tk := ingest(t, d, desk.Inbound{From: email("c@x.test"), Text: "hi"}).Ticket
	var types []string
	for len(types) < 3 {
		select {
		case c := <-changes:
			types = append(types, c.Type)
			if c.TicketID != tk.ID {
				t.Fatalf("change for ticket %d", c.TicketID)
			}
		case <-time.After(60 * time.Second):
			t.Fatalf("only %v", types)
		}
	}
	if strings.Join(types, ",") != "ticket,event,message" {
		t.Fatalf("changes %v", types)
	}
}

func waitDelivery(t *testing.T, db *store.DB, id int64, want string) *store.Message {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second) // a busy machine beside PostgreSQL; a passing run returns at once
	for {
		m, err := db.Message(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Delivery == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message %d delivery %q, want %q", id, m.Delivery, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestOutboxRetriesFailsAndRetriesAgain(t *testing.T) {
	d, db := newDesk(t)
	d.RetryBase, d.RetryMax, d.MaxAttempts = 5*time.Millisecond, 20*time.Millisecond, 3
	var calls atomic.Int32
	var mode atomic.Value
	mode.Store("flaky")
	d.SetSender("email", desk.SenderFunc(func(_ context.Context, out desk.Outbound) error {
		n := calls.Add(1)
		if out.Customer.Identities[0].Value != "c@x.test" || out.Ticket.ID == 0 {
			t.Errorf("outbound %+v", out)
		}
		switch mode.Load() {
		case "flaky":
			if n <= 2 {
				return errors.New("connection refused")
			}
			return nil
		case "down":
			return errors.New("mail server down")
		}
		return desk.Permanent(errors.New("mailbox does not exist"))
	}))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go d.RunOutbox(runCtx)
	a := agent(t, d, "ann@shop.test", "agent")
	tk := ingest(t, d, desk.Inbound{From: email("c@x.test"), Text: "hi"}).Ticket

	m, _ := d.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "one"})
	waitDelivery(t, db, m.ID, "sent")
	if calls.Load() != 3 {
		t.Fatalf("%d sends, want 3", calls.Load())
	}

	mode.Store("down")
	m2, _ := d.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "two"})
	failed := waitDelivery(t, db, m2.ID, "failed")
	if failed.DeliveryError != "mail server down" {
		t.Fatalf("delivery error %q", failed.DeliveryError)
	}
	if !strings.Contains(events(t, db, tk.ID), "delivery_failed/system") {
		t.Fatal("no delivery_failed event")
	}
	mode.Store("flaky")
	calls.Store(10)
	if _, err := d.Retry(ctx, desk.AgentActor(a.ID), m2.ID); err != nil {
		t.Fatal(err)
	}
	waitDelivery(t, db, m2.ID, "sent")
	if _, err := d.Retry(ctx, desk.AgentActor(a.ID), m2.ID); err == nil {
		t.Fatal("retried a sent message")
	}

	mode.Store("permanent")
	before := calls.Load()
	m3, _ := d.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "three"})
	if got := waitDelivery(t, db, m3.ID, "failed"); got.DeliveryError != "mailbox does not exist" || calls.Load() != before+1 {
		t.Fatalf("permanent error: %q after %d sends", got.DeliveryError, calls.Load()-before)
	}
	if due, _ := db.DueOutbox(ctx, store.Now().Add(time.Hour), 10); len(due) != 0 {
		t.Fatalf("outbox not empty: %+v", due)
	}
}

// A mailbox signed in again while a held reply is being tried: the try
// fails (it began with the old sign-in), and the reply goes again at once
// rather than after its backoff.
func TestOutboxRetriesAtOnceAfterAReconnectDuringATry(t *testing.T) {
	d, db := newDesk(t)
	d.RetryBase, d.RetryMax = time.Hour, time.Hour
	trying, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	d.SetSender("email", desk.SenderFunc(func(context.Context, desk.Outbound) error {
		if calls.Add(1) > 1 {
			return nil
		}
		close(trying)
		<-release
		return errors.New("the mailbox's sign-in needs Reconnect")
	}))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go d.RunOutbox(runCtx)
	a := agent(t, d, "ann@shop.test", "agent")
	tk := ingest(t, d, desk.Inbound{From: email("c@x.test"), Text: "hi"}).Ticket
	m, _ := d.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "held"})
	<-trying
	d.MailboxConnected(ctx)
	close(release)
	waitDelivery(t, db, m.ID, "sent")
	if n := calls.Load(); n != 2 {
		t.Fatalf("%d tries", n)
	}
}

func TestAgentsSetupAndLogin(t *testing.T) {
	d, _ := newDesk(t)
	owner, err := d.CreateFirstAdmin(ctx, desk.AgentInput{Email: "owner@shop.test", Name: "Owner", Password: "password123"})
	if err != nil || owner.Role != "admin" {
		t.Fatalf("first admin %+v %v", owner, err)
	}
	if _, err := d.CreateFirstAdmin(ctx, desk.AgentInput{Email: "x@shop.test", Name: "X", Password: "password123"}); !errors.Is(err, desk.ErrSetupDone) {
		t.Fatalf("second setup: %v", err)
	}
	if _, err := d.Authenticate(ctx, "OWNER@shop.test", "password123"); err != nil {
		t.Fatalf("login: %v", err)
	}
	for _, pw := range []string{"wrong-password", ""} {
		if _, err := d.Authenticate(ctx, "owner@shop.test", pw); !errors.Is(err, desk.ErrBadLogin) {
			t.Fatalf("wrong password: %v", err)
		}
	}
	if _, err := d.Authenticate(ctx, "nobody@shop.test", "password123"); !errors.Is(err, desk.ErrBadLogin) {
		t.Fatalf("unknown email: %v", err)
	}
	no := false
	_, err = d.UpdateAgent(ctx, owner.ID, desk.AgentInput{Active: &no})
	if ie, ok := desk.IsInput(err); !ok || !strings.Contains(ie.Message, "last active admin") {
		t.Fatalf("deactivating the last admin: %v", err)
	}
	bob := agent(t, d, "bob@shop.test", "agent")
	if _, err := d.UpdateAgent(ctx, bob.ID, desk.AgentInput{Active: &no}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Authenticate(ctx, "bob@shop.test", "password123"); !errors.Is(err, desk.ErrBadLogin) {
		t.Fatalf("deactivated agent logged in: %v", err)
	}
	if _, err := d.CreateAgent(ctx, desk.AgentInput{Email: "BOB@shop.test", Name: "Bob 2", Password: "password123"}); err == nil {
		t.Fatal("duplicate email accepted")
	}
}

func TestSanitizeHTML(t *testing.T) {
	out := desk.SanitizeHTML(`<p style="color:red">Hi <b>there</b><script>alert(1)</script><img src="https://tracker.test/p.gif" onerror="x()"><a href="javascript:alert(1)">x</a><img src="cid:logo@x"></p>`)
	for _, bad := range []string{"<script", "onerror", "javascript:", "tracker.test"} {
		if strings.Contains(out, bad) {
			t.Fatalf("kept %s: %s", bad, out)
		}
	}
	for _, good := range []string{"<b>there</b>", `src="cid:logo@x"`} {
		if !strings.Contains(out, good) {
			t.Fatalf("lost %s: %s", good, out)
		}
	}
}
