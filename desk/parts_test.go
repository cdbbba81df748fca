package desk_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// partsPlatform is a platform a reply leaves in three messages for: it
// keeps what reached it and fails the parts it is told to, once each.
type partsPlatform struct {
	mu    sync.Mutex
	tries []string          // "message/part" of every call
	got   []string          // "message/part" of the calls that went through
	fail  map[string]error  // "message/part" -> the error of its next call
	hold  map[string]func() // "message/part" -> called before sending it
	sent  int
}

func (p *partsPlatform) failNext(key string, err error) {
	p.mu.Lock()
	p.fail[key] = err
	p.mu.Unlock()
}

func (p *partsPlatform) calls() (tries, got []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.tries), slices.Clone(p.got)
}

// sender sends a reply in three parts through out.SendParts, as the social
// channels do, and records the first part's id as the reply's.
func (p *partsPlatform) sender(d *desk.Desk) desk.Sender {
	return desk.SenderFunc(func(ctx context.Context, out desk.Outbound) error {
		first, err := out.SendParts(ctx, 3, func(ctx context.Context, part int) (string, error) {
			key := fmt.Sprintf("%d/%d", out.Message.ID, part)
			p.mu.Lock()
			hold := p.hold[key]
			delete(p.hold, key)
			p.mu.Unlock()
			if hold != nil {
				hold()
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			p.tries = append(p.tries, key)
			if err := p.fail[key]; err != nil {
				delete(p.fail, key)
				return "", err
			}
			p.got = append(p.got, key)
			p.sent++
			return fmt.Sprintf("wamid.out%d", p.sent), nil
		})
		if err != nil {
			return err
		}
		out.SentAs(first)
		return nil
	})
}

func keys(id int64, parts ...int) []string {
	var out []string
	for _, n := range parts {
		out = append(out, fmt.Sprintf("%d/%d", id, n))
	}
	return out
}

// A reply in parts that fails part-way goes on from the part that failed,
// whether the outbox retries it (a 5xx) or an agent does (it failed for
// good); a receipt naming any part counts for the reply, but not before
// the reply is recorded as sent; a part the platform reports failed is
// sent again on retry.
func TestReplyPartsResumeWhereTheyStopped(t *testing.T) {
	d, db := newDesk(t)
	d.RetryBase, d.RetryMax, d.MaxAttempts = 5*time.Millisecond, 20*time.Millisecond, 5
	p := &partsPlatform{fail: map[string]error{}, hold: map[string]func(){}}
	d.SetSender("whatsapp", p.sender(d))
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go d.RunOutbox(runCtx)
	a := agent(t, d, "ann@shop.test", "agent")
	tk := ingest(t, d, desk.Inbound{Channel: "whatsapp", ExternalID: "wamid.in1", Name: "Ana",
		From: store.Identity{Kind: "whatsapp", Value: "+15551234567"}, Text: "Hi"}).Ticket
	reply := func(body string) *store.Message {
		t.Helper()
		m, err := d.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	parts := func(id int64) map[int]string {
		t.Helper()
		got, err := db.ReplyParts(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}

	// Part 2 of 3 fails with an error worth retrying: the outbox tries
	// again, and part 1 is not sent twice.
	m1 := reply("one")
	p.failNext(keys(m1.ID, 1)[0], errors.New("Graph API: HTTP 502"))
	sent := waitDelivery(t, db, m1.ID, "sent")
	tries, got := p.calls()
	if !slices.Equal(tries, keys(m1.ID, 0, 1, 1, 2)) || !slices.Equal(got, keys(m1.ID, 0, 1, 2)) {
		t.Fatalf("calls %v, went through %v", tries, got)
	}
	ids := parts(m1.ID)
	if len(ids) != 3 || sent.ExternalID != ids[0] || sent.ExternalID != "wamid.out1" {
		t.Fatalf("external id %q, parts %v", sent.ExternalID, ids)
	}

	// WhatsApp's status for part 2 marks the reply delivered, and the read
	// of part 3 marks it read.
	if err := d.NoteReceipt(ctx, desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{ids[1]}, At: store.Now()}); err != nil {
		t.Fatal(err)
	}
	if m := waitDelivery(t, db, m1.ID, "delivered"); m.ReadAt != nil {
		t.Fatalf("read already: %+v", m)
	}
	readAt := store.Now()
	if err := d.NoteReceipt(ctx, desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{ids[2]}, Read: true, At: readAt}); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.Message(ctx, m1.ID); m.ReadAt == nil || !m.ReadAt.Equal(readAt) {
		t.Fatalf("read receipt for part 3: %+v", m)
	}

	// A receipt for the first part of a reply still sending its others
	// overtook it: it is an error, to be tried again, until the reply is
	// recorded as sent.
	m2 := reply("two")
	release, holding := make(chan struct{}), make(chan struct{})
	p.mu.Lock()
	p.hold[keys(m2.ID, 2)[0]] = func() { close(holding); <-release }
	p.mu.Unlock()
	<-holding
	early := desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{parts(m2.ID)[0]}, At: store.Now()}
	if err := d.NoteReceipt(ctx, early); err == nil {
		t.Fatal("a receipt for a reply still sending was let go")
	}
	close(release)
	waitDelivery(t, db, m2.ID, "sent")
	if err := d.NoteReceipt(ctx, early); err != nil {
		t.Fatal(err)
	}
	waitDelivery(t, db, m2.ID, "delivered")

	// Part 3 is refused for good: the reply fails; the agent retries once
	// the cause is fixed and only part 3 goes out.
	m3 := reply("three")
	p.failNext(keys(m3.ID, 2)[0], desk.Permanent(errors.New("the customer blocked the number")))
	if m := waitDelivery(t, db, m3.ID, "failed"); m.DeliveryError != "the customer blocked the number" || m.ExternalID != "" {
		t.Fatalf("failed reply %+v", m)
	}
	if got := parts(m3.ID); len(got) != 2 {
		t.Fatalf("parts sent before the failure: %v", got)
	}
	if _, err := d.Retry(ctx, desk.AgentActor(a.ID), m3.ID); err != nil {
		t.Fatal(err)
	}
	sent = waitDelivery(t, db, m3.ID, "sent")
	if _, got := p.calls(); !slices.Equal(got[len(got)-3:], keys(m3.ID, 0, 1, 2)) || sent.ExternalID != parts(m3.ID)[0] {
		t.Fatalf("went through %v; external id %q", got, sent.ExternalID)
	}

	// WhatsApp takes part 2 of the first reply, then reports it failed:
	// the reply fails, and retrying sends that part again, alone.
	before := len(ids)
	if err := d.NoteFailedDelivery(ctx, "whatsapp", ids[1], "WhatsApp could not deliver the message"); err != nil {
		t.Fatal(err)
	}
	if m := waitDelivery(t, db, m1.ID, "failed"); m.DeliveryError != "WhatsApp could not deliver the message" {
		t.Fatalf("failed status %+v", m)
	}
	if got := parts(m1.ID); len(got) != before-1 {
		t.Fatalf("the failed part is still recorded: %v", got)
	}
	if _, err := d.Retry(ctx, desk.AgentActor(a.ID), m1.ID); err != nil {
		t.Fatal(err)
	}
	waitDelivery(t, db, m1.ID, "sent")
	_, got = p.calls()
	part2 := keys(m1.ID, 1)[0]
	if got[len(got)-1] != part2 || len(slices.DeleteFunc(slices.Clone(got), func(k string) bool { return k != part2 })) != 2 {
		t.Fatalf("went through %v", got)
	}
	if m, _ := db.Message(ctx, m1.ID); m.ExternalID != "wamid.out1" {
		t.Fatalf("the reply's external id changed: %q", m.ExternalID)
	}
}

// A social reply that has nothing to go through says why, in plain words:
// the ticket came another way, its account is switched off or was
// disconnected.
func TestReplyAccountSaysWhyNot(t *testing.T) {
	d, _, raw := newDeskRaw(t)
	res := ingest(t, d, desk.Inbound{From: email("a@mail.test"), Subject: "Hi", Text: "Hello"})
	outbound := func() *desk.Outbound {
		t.Helper()
		out, err := d.Outbound(ctx, res.Message.ID)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	why := func(want string) {
		t.Helper()
		if _, _, err := outbound().ReplyAccount("a Telegram chat", "Telegram bot"); err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("got %v, want %q", err, want)
		}
	}
	why("this ticket did not come from a Telegram chat")
	exec(t, raw, `INSERT INTO social_accounts (id, platform, handle, external_id, enabled, created_at, updated_at)
		VALUES (3, 'telegram', '@shop_bot', '42', 0, 0, 0)`)
	exec(t, raw, `INSERT INTO social_threads (ticket_id, account_id, chat_id) VALUES (?, 3, '777')`, res.Ticket.ID)
	why("the Telegram bot @shop_bot is switched off")
	exec(t, raw, `UPDATE social_accounts SET enabled = 1`)
	if th, a, err := outbound().ReplyAccount("a Telegram chat", "Telegram bot"); err != nil || th.ChatID != "777" || a.ID != 3 {
		t.Fatalf("thread %+v, account %+v, %v", th, a, err)
	}
	exec(t, raw, `DELETE FROM social_accounts`)
	why("the Telegram bot of this conversation was disconnected")
}
