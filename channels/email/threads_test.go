package email

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"onedesk/desk"
	"onedesk/store"
)

// sql runs a statement on the rig's database from outside the desk,
// to set up what only time would (an old resolution).
func (r *rig) sql(query string, args ...any) {
	r.t.Helper()
	db, err := store.OpenRaw(r.dbPath)
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(query, args...); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) sqlRow(query string, dst ...any) {
	r.t.Helper()
	db, err := store.OpenRaw(r.dbPath)
	if err != nil {
		r.t.Fatal(err)
	}
	defer db.Close()
	if err := db.QueryRow(query).Scan(dst...); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) settings(in desk.MailboxInput) {
	r.t.Helper()
	if _, err := r.desk.SaveMailbox(context.Background(), r.mailbox.ID, in); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) agent() *store.Agent {
	r.t.Helper()
	a, err := r.desk.CreateAgent(context.Background(), desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123"})
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

func (r *rig) ticketBySubject(subject string) store.Ticket {
	r.t.Helper()
	for _, tk := range r.tickets() {
		if tk.Subject == subject {
			return tk
		}
	}
	r.t.Fatalf("no ticket %q", subject)
	return store.Ticket{}
}

func readMail(t *testing.T, raw []byte) (*mail.Reader, string) {
	t.Helper()
	mr, err := mail.CreateReader(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	return mr, string(raw)
}

// A colleague in Cc answers; the customer's client then drops every
// thread header and only the plus-address carries the ticket.
func TestPlusAddressesAndParticipants(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	on := true
	r.settings(desk.MailboxInput{PlusAddressing: &on})
	a := r.agent()

	appendMail(t, r.imapAddr, "INBOX", "From: Gil <gil@example.com>\nTo: support@shop.test, sales@shop.test\nCc: Hana <hana@example.com>\n"+
		"Subject: Wrong colour\nMessage-ID: <g1@example.com>\n\nI got red, ordered blue.\n")
	r.waitFor("ticket", func() bool { return len(r.tickets()) == 1 })
	tk := r.ticketBySubject("Wrong colour")
	others, _ := r.db.Participants(ctx, tk.ID)
	if len(others) != 2 {
		// hana from Cc, and sales@shop.test is not ours here: it is a person too
		t.Fatalf("participants %+v", others)
	}

	reply, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "Sending blue today."})
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("reply sent", func() bool { m, _ := r.db.Message(ctx, reply.ID); return m.Delivery == "sent" })
	mr, _ := readMail(t, r.sink.messages()[0])
	replyTo, _ := mr.Header.AddressList("Reply-To")
	cc, _ := mr.Header.AddressList("Cc")
	want, _ := r.desk.ReplyAddress(ctx, "support@shop.test", tk.ID)
	if len(replyTo) != 1 || replyTo[0].Address != want || !strings.HasPrefix(want, fmt.Sprintf("support+t%d.k", tk.ID)) {
		t.Fatalf("reply-to %v, want %s", replyTo, want)
	}
	if len(cc) != 2 || cc[0].Address != "sales@shop.test" || cc[1].Address != "hana@example.com" {
		t.Fatalf("cc %v", cc)
	}

	// Hana answers with a client that rewrote the Message-IDs away.
	appendMail(t, r.imapAddr, "INBOX", fmt.Sprintf("From: hana@example.com\nTo: %s\nSubject: blue?\nMessage-ID: <h1@example.com>\n\nMake it navy please.\n", want))
	r.waitFor("hana's answer on the ticket", func() bool { return len(r.messages(tk.ID)) == 3 })
	if got, _ := r.db.Ticket(ctx, tk.ID); got.CustomerID != tk.CustomerID {
		t.Fatalf("the participant replaced the customer")
	}

	// A forged token (wrong key) and a stranger's subject token do not thread.
	forged := fmt.Sprintf("support+t%d.k00000000@shop.test", tk.ID)
	appendMail(t, r.imapAddr, "INBOX", fmt.Sprintf("From: eve@example.net\nTo: %s\nSubject: hello [#%d]\nMessage-ID: <x1@example.net>\n\nlet me in\n", forged, tk.ID))
	r.waitFor("the stranger's own ticket", func() bool { return len(r.tickets()) == 2 })
	// A participant's subject token does.
	appendMail(t, r.imapAddr, "INBOX", fmt.Sprintf("From: hana@example.com\nTo: support@shop.test\nSubject: again [#%d]\nMessage-ID: <h2@example.com>\n\nstill navy\n", tk.ID))
	r.waitFor("participant's token threads", func() bool { return len(r.messages(tk.ID)) == 4 })
	if n := len(r.tickets()); n != 2 {
		t.Fatalf("%d tickets", n)
	}
}

func TestResolvedTicketsReopenUntilTheyAreOld(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.agent()
	appendMail(t, r.imapAddr, "INBOX", "From: ivo@example.com\nSubject: Invoice\nMessage-ID: <i1@example.com>\n\nplease send it\n")
	r.waitFor("ticket", func() bool { return len(r.tickets()) == 1 })
	tk := r.ticketBySubject("Invoice")
	if _, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "attached", Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	appendMail(t, r.imapAddr, "INBOX", "From: ivo@example.com\nSubject: Re: Invoice\nMessage-ID: <i2@example.com>\nIn-Reply-To: <i1@example.com>\n\nwrong year\n")
	r.waitFor("reopened", func() bool { got, _ := r.db.Ticket(ctx, tk.ID); return got.Status == "open" })

	// Resolved longer ago than the setting: a new ticket, linked.
	if _, err := r.desk.SetStatus(ctx, desk.AgentActor(a.ID), tk.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.SaveSettings(ctx, desk.Settings{ReopenDays: 1}); err != nil {
		t.Fatal(err)
	}
	r.sql("UPDATE tickets SET resolved_at = ? WHERE id = ?", time.Now().Add(-48*time.Hour).UnixMilli(), tk.ID)
	appendMail(t, r.imapAddr, "INBOX", "From: ivo@example.com\nSubject: Re: Invoice\nMessage-ID: <i3@example.com>\nIn-Reply-To: <i2@example.com>\n\nanother one\n")
	r.waitFor("follow-up ticket", func() bool { return len(r.tickets()) == 2 })
	if got, _ := r.db.Ticket(ctx, tk.ID); got.Status != "resolved" {
		t.Fatalf("the old ticket is %s", got.Status)
	}
	var follow store.Ticket
	for _, x := range r.tickets() {
		if x.ID != tk.ID {
			follow = x
		}
	}
	evs, _ := r.db.Events(ctx, follow.ID)
	if len(evs) == 0 || !strings.Contains(string(evs[0].Data), fmt.Sprintf(`"follow_up_of":%d`, tk.ID)) {
		t.Fatalf("created event %+v", evs)
	}
	if _, err := r.desk.SaveSettings(ctx, desk.Settings{ReopenDays: 0}); err == nil {
		t.Fatal("reopen_days 0 accepted")
	}
}

func TestAcknowledgementsAndAttachmentsOut(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	on := true
	text := "Hi {{name}}, we got your message. Your ticket is #{{ticket}}."
	r.settings(desk.MailboxInput{AutoAck: &on, AutoAckText: &text})

	appendMail(t, r.imapAddr, "INBOX", "From: Jan Novak <jan@example.cz>\nSubject: Hello\nMessage-ID: <j1@example.cz>\n\nfirst\n")
	r.waitFor("ticket", func() bool { return len(r.tickets()) == 1 })
	tk := r.ticketBySubject("Hello")
	r.waitFor("acknowledgement sent", func() bool { return len(r.sink.messages()) == 1 })
	mr, raw := readMail(t, r.sink.messages()[0])
	if mr.Header.Get("Auto-Submitted") != "auto-replied" || !strings.Contains(raw, fmt.Sprintf("Hi Jan Novak, we got your message. Your ticket is #%d.", tk.ID)) {
		t.Fatalf("acknowledgement:\n%s", raw)
	}
	if got, _ := r.db.Ticket(ctx, tk.ID); got.FirstResponseAt != nil {
		t.Fatal("an acknowledgement counted as the first response")
	}

	// Machine mail and replies on a ticket get none; one person gets at
	// most three an hour, however many tickets they open.
	appendMail(t, r.imapAddr, "INBOX", "From: robot@example.cz\nAuto-Submitted: auto-replied\nSubject: Out of office\nMessage-ID: <o1@example.cz>\n\naway\n")
	appendMail(t, r.imapAddr, "INBOX", "From: jan@example.cz\nSubject: Re: Hello\nIn-Reply-To: <j1@example.cz>\nMessage-ID: <j2@example.cz>\n\nsecond\n")
	for i := 3; i <= 6; i++ {
		appendMail(t, r.imapAddr, "INBOX", fmt.Sprintf("From: jan@example.cz\nSubject: Topic %d\nMessage-ID: <j%d@example.cz>\n\nnew topic\n", i, i))
	}
	r.waitFor("all imported", func() bool { return len(r.tickets()) == 6 })
	time.Sleep(300 * time.Millisecond)
	if n := len(r.sink.messages()); n != 3 {
		t.Fatalf("%d acknowledgements, want 3", n)
	}

	// An agent's reply carries its files.
	a := r.agent()
	pdf := bytes.Repeat([]byte("%PDF-1.4 "), 1000)
	reply, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "Label attached.",
		Attachments: []store.Attachment{{Filename: "label ž.pdf", ContentType: "application/pdf", Data: pdf}}})
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("reply sent", func() bool { m, _ := r.db.Message(ctx, reply.ID); return m.Delivery == "sent" })
	got := r.sink.messages()
	mr, _ = readMail(t, got[len(got)-1])
	var names []string
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		if h, ok := p.Header.(*mail.AttachmentHeader); ok {
			name, _ := h.Filename()
			data, _ := io.ReadAll(p.Body)
			if !bytes.Equal(data, pdf) {
				t.Fatalf("attachment %s: %d bytes", name, len(data))
			}
			names = append(names, name)
		}
	}
	if len(names) != 1 || names[0] != "label ž.pdf" {
		t.Fatalf("attachments %v", names)
	}
}

func TestMailOverTheSizeLimit(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	one := 1
	r.settings(desk.MailboxInput{MaxMessageMB: &one})
	big := strings.Repeat("QUJDREVGR0hJSktMTU5PUA==\n", 60000) // ~1.5 MB of base64
	appendMail(t, r.imapAddr, "INBOX", "From: kim@example.com\nSubject: Photos\nMessage-ID: <k1@example.com>\nContent-Type: multipart/mixed; boundary=b\n\n"+
		"--b\nContent-Type: text/plain\n\nSee the photos.\n--b\nContent-Type: image/jpeg\nContent-Transfer-Encoding: base64\n\n"+big+"--b--\n")
	appendMail(t, r.imapAddr, "INBOX", "From: lee@example.com\nSubject: Small\nMessage-ID: <l1@example.com>\n\nsmall one\n")
	r.waitFor("both tickets", func() bool { return len(r.tickets()) == 2 })
	msgs := r.messages(r.ticketBySubject("Photos").ID)
	if len(msgs) != 1 || len(msgs[0].Attachments) != 0 || msgs[0].Body != "" || !strings.Contains(msgs[0].Partial, "over this mailbox's limit of 1 MB") ||
		msgs[0].ExternalID != "k1@example.com" || msgs[0].From != "kim@example.com" {
		t.Fatalf("big message %+v", msgs)
	}
	if mb, _ := r.db.Mailbox(ctx, r.mailbox.ID); mb.LastUID != 2 {
		t.Fatalf("cursor at %d", mb.LastUID)
	}
}

// An SMTP server that is down for a long stretch: replies queue, are
// retried with capped backoff, and each leaves exactly once afterwards,
// with the Message-ID it was given before the first try.
func TestSMTPOutage(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	a := r.agent()
	r.desk.RetryBase, r.desk.RetryMax = 10*time.Millisecond, 40*time.Millisecond
	appendMail(t, r.imapAddr, "INBOX", "From: mo@example.com\nSubject: Outage\nMessage-ID: <m1@example.com>\n\nhello\n")
	r.waitFor("ticket", func() bool { return len(r.tickets()) == 1 })
	tk := r.ticketBySubject("Outage")

	// The mailbox's SMTP server goes away: nothing listens on its port.
	r.smtp.Close()
	var ids []int64
	for i := range 20 {
		m, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: fmt.Sprintf("reply %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, m.ID)
	}
	// Every reply is tried again and again at the capped backoff (which
	// stands for ten minutes in production, the outage for an hour).
	r.waitFor("six tries of every reply", func() bool {
		var attempts, queued int
		r.sqlRow("SELECT coalesce(min(attempts), 0), count(*) FROM outbox", &attempts, &queued)
		return queued == len(ids) && attempts >= 6
	})
	for _, id := range ids {
		if m, _ := r.db.Message(ctx, id); m.Delivery != "queued" {
			t.Fatalf("reply %d is %s during the outage", id, m.Delivery)
		}
	}
	// It comes back on the same port.
	srv := smtp.NewServer(r.sink)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", r.smtpAddr)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	r.waitFor("all sent", func() bool {
		for _, id := range ids {
			if m, _ := r.db.Message(ctx, id); m.Delivery != "sent" {
				return false
			}
		}
		return true
	})
	seen := map[string]int{}
	for _, raw := range r.sink.messages() {
		mr, _ := readMail(t, raw)
		id, _ := mr.Header.MessageID()
		seen[id]++
	}
	for _, id := range ids {
		want, _ := r.desk.OutboundExternalID(ctx, tk.ID, id, "shop.test")
		if seen[want] != 1 {
			t.Fatalf("reply %d delivered %d times", id, seen[want])
		}
	}
}

// One email sent to two of our addresses is fetched by both mailboxes:
// it is one ticket with one message, and neither address is a participant.
func TestMailToTwoOfOurAddressesIsOneTicket(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	str := func(s string) *string { return &s }
	mb, _ := r.db.Mailbox(ctx, r.mailbox.ID)
	port, five := mb.IMAPPort, 5
	if _, err := r.desk.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str("sales@shop.test"), IMAPHost: str(mb.IMAPHost), IMAPPort: &port,
		IMAPSecurity: str("none"), IMAPUsername: str("support"), IMAPPassword: "secret", IMAPFolder: str("Imported"),
		SMTPHost: str(mb.SMTPHost), SMTPSecurity: str("none"), PollSeconds: &five, StartFrom: str(store.StartAll)}); err != nil {
		t.Fatal(err)
	}
	raw := "From: ola@example.com\nTo: support@shop.test, sales@shop.test\nSubject: Both\nMessage-ID: <both@example.com>\n\nhi both\n"
	appendMail(t, r.imapAddr, "INBOX", raw)
	appendMail(t, r.imapAddr, "Imported", raw)
	r.waitFor("both mailboxes read", func() bool {
		n := 0
		list, _ := r.db.Mailboxes(ctx)
		for _, m := range list {
			if m.LastUID == 1 {
				n++
			}
		}
		if os.Getenv("DEBUG_MB") != "" {
			for _, m := range list {
				t.Logf("%s uid %d err %q polled %v", m.Address, m.LastUID, m.LastError, m.LastPolledAt)
			}
		}
		return n == 2
	})
	if n := len(r.tickets()); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	tk := r.ticketBySubject("Both")
	if msgs := r.messages(tk.ID); len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	if others, _ := r.db.Participants(ctx, tk.ID); len(others) != 0 {
		t.Fatalf("participants %+v", others)
	}
}

// noIdleSession is a session of a server that claims IDLE and refuses it.
type noIdleSession struct{ imapserver.Session }

func (noIdleSession) Idle(*imapserver.UpdateWriter, <-chan struct{}) error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Text: "IDLE is not available"}
}

func TestServerRefusingIdleIsPolled(t *testing.T) {
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "secret")
	u.Create("INBOX", nil)
	mem.AddUser(u)
	var sessions atomic.Int32
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			sessions.Add(1)
			return noIdleSession{mem.NewSession()}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIdle: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	r := newRigAt(t, onLoopback(t, srv.Serve, srv.Close), "support", "secret")
	appendMail(t, r.imapAddr, "INBOX", "From: pia@example.com\nSubject: First\nMessage-ID: <p1@example.com>\n\none\n")
	r.waitFor("first", func() bool { return len(r.tickets()) == 1 })
	time.Sleep(100 * time.Millisecond) // the poller has tried IDLE and turned to polling
	appendMail(t, r.imapAddr, "INBOX", "From: pia@example.com\nSubject: Second\nMessage-ID: <p2@example.com>\n\ntwo\n")
	r.waitFor("second, by polling", func() bool { return len(r.tickets()) == 2 })
	if n := sessions.Load(); n != 3 { // the poller's and appendMail's two
		t.Fatalf("%d IMAP sessions: the poller reconnected instead of polling", n)
	}
	if mb, _ := r.db.Mailbox(context.Background(), r.mailbox.ID); mb.LastError != "" {
		t.Fatalf("last error %q", mb.LastError)
	}
}
