package desk_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/store"
)

// An Outbound carries all an email sender needs: the mailbox, the
// Message-ID it leaves with, the ticket's reply-to address, the thread's
// ids and the files with their bytes; with no mailbox, it says where to
// add one.
func TestOutboundCarriesTheMailRoute(t *testing.T) {
	d, _ := newDesk(t)
	a := agent(t, d, "ann@shop.test", "agent")
	first := ingest(t, d, desk.Inbound{From: email("carla@mail.test"), Subject: "Order", Text: "Where is it?", ExternalID: "c1@mail.test"})
	reply := func() *store.Message {
		t.Helper()
		m, err := d.Reply(ctx, desk.AgentActor(a.ID), first.Ticket.ID, desk.ReplyInput{Body: "On its way",
			Attachments: []store.Attachment{{Filename: "label.txt", ContentType: "text/plain", Data: []byte("track 42")}}})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	m := reply()
	out, err := d.Outbound(ctx, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := out.Mail(); err == nil || !strings.Contains(err.Error(), "Settings → Mailboxes") {
		t.Fatalf("no mailbox: %v", err)
	}
	if len(out.Files) != 1 || string(out.Files[0].Data) != "track 42" || out.ByEmail() != nil {
		t.Fatalf("files %+v", out.Files)
	}

	text := func(s string) *string { return &s }
	plus := true
	if _, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), Name: text("Shop"), IMAPHost: text("imap.shop.test"),
		SMTPHost: text("smtp.shop.test"), PlusAddressing: &plus}); err != nil {
		t.Fatal(err)
	}
	ingest(t, d, desk.Inbound{From: email("carla@mail.test"), Subject: "Re: Order", Text: "Thanks", ExternalID: "c2@mail.test", ThreadRefs: []string{"c1@mail.test"}})
	m = reply()
	if out, err = d.Outbound(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	route, err := out.Mail()
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := d.OutboundExternalID(ctx, first.Ticket.ID, m.ID, "shop.test")
	wantReplyTo, _ := d.ReplyAddress(ctx, "help@shop.test", first.Ticket.ID)
	if route.Mailbox.Address != "help@shop.test" || route.MessageID != wantID || route.ReplyTo != wantReplyTo ||
		!slices.Equal(route.References, []string{"c1@mail.test", "c2@mail.test"}) || route.InReplyTo != "c2@mail.test" {
		t.Fatalf("route %+v, want id %s, reply-to %s", route, wantID, wantReplyTo)
	}
	if route.To != "carla@mail.test" {
		t.Fatalf("reply goes to %q, want the address the customer wrote from", route.To)
	}

	// The customer writes from a second address of theirs: the answer
	// goes there, not to the first one on their record.
	again := ingest(t, d, desk.Inbound{From: email("carla@work.test"), Identities: []store.Identity{email("carla@mail.test")},
		Subject: "Re: Order", Text: "Please write here", ExternalID: "c3@work.test", ThreadRefs: []string{"c2@mail.test"}})
	if again.Ticket.ID != first.Ticket.ID {
		t.Fatalf("second address's mail went to ticket %d, want %d", again.Ticket.ID, first.Ticket.ID)
	}
	m = reply()
	if out, err = d.Outbound(ctx, m.ID); err != nil {
		t.Fatal(err)
	}
	if route, err = out.Mail(); err != nil || route.To != "carla@work.test" {
		t.Fatalf("route to %q (%v), want carla@work.test", route.To, err)
	}
	if _, _, err := out.ReplyAccount("a Telegram chat", "Telegram bot"); err == nil {
		t.Fatal("an email ticket has a social account to reply through")
	}
}

// BenchmarkOutbound reads what a sender gets for a reply on an email
// ticket of 50 messages with a file, as the outbox does before each send.
func BenchmarkOutbound(b *testing.B) {
	db, err := store.Open(context.Background(), filepath.Join(b.TempDir(), "d.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	text := func(s string) *string { return &s }
	if _, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), IMAPHost: text("imap.shop.test"), SMTPHost: text("smtp.shop.test")}); err != nil {
		b.Fatal(err)
	}
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123", Role: "agent"})
	if err != nil {
		b.Fatal(err)
	}
	var ticket int64
	for i := range 49 {
		res, err := d.Ingest(ctx, desk.Inbound{Channel: "email", From: email("carla@mail.test"), Subject: "Order", TicketID: ticket,
			Text: strings.Repeat("Where is my order? ", 40), ExternalID: fmt.Sprintf("c%d@mail.test", i)})
		if err != nil {
			b.Fatal(err)
		}
		ticket = res.Ticket.ID
	}
	m, err := d.Reply(ctx, desk.AgentActor(a.ID), ticket, desk.ReplyInput{Body: "On its way",
		Attachments: []store.Attachment{{Filename: "label.pdf", ContentType: "application/pdf", Data: make([]byte, 200<<10)}}})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		if _, err := d.Outbound(ctx, m.ID); err != nil {
			b.Fatal(err)
		}
	}
}
