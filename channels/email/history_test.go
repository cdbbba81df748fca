//go:build !windows

package email

import (
	"context"
	"fmt"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/store"
	"onedesk/store/storetest"
)

// historyIMAP is go-imap's in-memory server with INBOX and a Sent folder
// (it has no SPECIAL-USE flags: the Sent folder is found by its name).
func historyIMAP(t testing.TB) string {
	t.Helper()
	return imapServerWith(t, "INBOX", "Sent")
}

// login opens a connection to the test mailbox support/secret, closed
// when the test ends.
func login(t testing.TB, addr string) *imapclient.Client {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("support", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// pastThread is one conversation of the shop's past: the customer's
// question (INBOX), our answer (Sent) a day later, their thanks (INBOX).
type pastThread struct {
	n        int
	customer string
	subject  string
	at       time.Time
}

func (p pastThread) id(part string) string { return fmt.Sprintf("%s%d@past.test", part, p.n) }

// shopPast is what fillPast put in the mailbox.
type shopPast struct {
	threads []pastThread
	since   time.Time // the day the tests import from
	// What an import since that day must give besides the threads: mail
	// we wrote first, and hostile mail.
	agentStarted, hostile int
}

func (p shopPast) inRange() []pastThread {
	var out []pastThread
	for _, th := range p.threads {
		if !th.at.Before(p.since) {
			out = append(out, th)
		}
	}
	return out
}

// fillPast writes two years of a shop's mail into INBOX and Sent: 100
// threads (300 messages) a week apart, odd ones answered by Ann (an
// agent), even ones from an address no agent has; mail we wrote first;
// our own mail in the inbox; a sent note to ourselves; and hostile mail.
// Dates are in the Date header and the server's INTERNALDATE alike.
func fillPast(t testing.TB, addr string) shopPast {
	t.Helper()
	c := login(t, addr)
	defer c.Close()
	put := func(folder string, at time.Time, raw string) {
		t.Helper()
		b := crlf(raw)
		cmd := c.Append(folder, int64(len(b)), &imap.AppendOptions{Time: at})
		if _, err := cmd.Write(b); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	date := func(at time.Time) string { return at.Format(time.RFC1123Z) }
	now := time.Now().UTC().Truncate(time.Second)
	past := shopPast{}
	for i := range 100 {
		th := pastThread{n: i, customer: fmt.Sprintf("customer%d@example.com", i), subject: fmt.Sprintf("Order %d question", 1000+i),
			at: now.AddDate(0, 0, -730+7*i)}
		past.threads = append(past.threads, th)
		agent := "ann@shop.test"
		if i%2 == 0 {
			agent = "support@shop.test"
		}
		put("INBOX", th.at, fmt.Sprintf("From: Customer %d <%s>\nTo: support@shop.test\nSubject: %s\nDate: %s\nMessage-ID: <%s>\n\nWhere is order %d?\n",
			i, th.customer, th.subject, date(th.at), th.id("q"), 1000+i))
		put("Sent", th.at.Add(24*time.Hour), fmt.Sprintf("From: Shop <%s>\nTo: Customer %d <%s>\nSubject: Re: %s\nDate: %s\nMessage-ID: <%s>\nIn-Reply-To: <%s>\nReferences: <%s>\n\nIt ships tomorrow.\n",
			agent, i, th.customer, th.subject, date(th.at.Add(24*time.Hour)), th.id("a"), th.id("q"), th.id("q")))
		put("INBOX", th.at.Add(48*time.Hour), fmt.Sprintf("From: %s\nTo: support@shop.test\nSubject: Re: %s\nDate: %s\nMessage-ID: <%s>\nIn-Reply-To: <%s>\nReferences: <%s> <%s>\n\nThanks!\n",
			th.customer, th.subject, date(th.at.Add(48*time.Hour)), th.id("t"), th.id("a"), th.id("q"), th.id("a")))
	}
	// About a year back, away from any thread's three days.
	past.since = past.threads[53].at.AddDate(0, 0, -3)
	recent := now.AddDate(0, 0, -10)
	// We wrote first, twice: one in the year imported, one before it.
	put("Sent", recent, fmt.Sprintf("From: ann@shop.test\nTo: Rita <rita@example.com>\nSubject: Your parcel came back\nDate: %s\nMessage-ID: <first1@shop.test>\n\nWhich address should we use?\n", date(recent)))
	put("Sent", now.AddDate(-2, 0, 0), fmt.Sprintf("From: ann@shop.test\nTo: old@example.com\nSubject: Old note\nDate: %s\nMessage-ID: <first0@shop.test>\n\nold\n", date(now.AddDate(-2, 0, 0))))
	past.agentStarted = 1
	// Our own mail in the inbox, and a sent note to ourselves: never tickets.
	put("INBOX", recent, fmt.Sprintf("From: support@shop.test\nTo: support@shop.test\nSubject: Copy\nDate: %s\nMessage-ID: <own1@shop.test>\n\ncopy\n", date(recent)))
	put("Sent", recent, fmt.Sprintf("From: support@shop.test\nTo: ann@shop.test\nSubject: Note\nDate: %s\nMessage-ID: <own2@shop.test>\n\nnote to self\n", date(recent)))
	// Hostile mail, within the year: each is still a ticket.
	put("INBOX", recent, fmt.Sprintf("From: \"Millions Lottery Spain transfer\"@example.com>\nSubject: You won\nDate: %s\nMessage-ID: <h1@spam.test>\n\nClaim now\n", date(recent)))
	put("INBOX", recent, "From: nodate@example.com\nSubject: No date at all\nMessage-ID: <h2@example.com>\n\nWhen was this?\n")
	put("INBOX", recent, string(nested(3000))) // dated by its arrival
	put("INBOX", recent, fmt.Sprintf("From: bytes@example.com\nSubject: =?x-unknown?B?AAAA?=\nDate: %s\nMessage-ID: <h4@example.com>\nContent-Type: text/plain; charset=x-nonsense\n\n\xff\xfe\x00garbage\n", date(recent)))
	past.hostile = 4
	return past
}

// historyRig runs the desk (rules and SLA clock plugged in, an agent Ann,
// a rule that tags new tickets, an SLA policy, acknowledgements on) over
// the mailbox, started as start says.
func historyRig(t *testing.T, addr string, start string, since time.Time) *rig {
	t.Helper()
	return newRigWith(t, addr, "support", "secret", func(d *desk.Desk, in *desk.MailboxInput) {
		desktest.Agent(t, d, "ann@shop.test", "agent")
		desktest.SaveRule(t, d, store.Rule{Name: "Tag new", Trigger: "created",
			Actions: []store.Action{desktest.Action("add_tags", []any{"ruled"})}})
		desktest.SavePolicy(t, d, store.SLAPolicy{Name: "All", Targets: map[string]store.SLATarget{"normal": {FirstResponse: 3600, Resolution: 86400}}})
		yes, ack, leave := true, "Thanks, we got it ({{ticket}}).", "leave"
		in.StartFrom, in.AutoAck, in.AutoAckText, in.AfterImport = &start, &yes, &ack, &leave
		if !since.IsZero() {
			in.HistorySince = &since
		}
	})
}

func (r *rig) mailboxNow() *store.Mailbox {
	r.t.Helper()
	mb, err := r.db.Mailbox(context.Background(), r.mailbox.ID)
	if err != nil {
		r.t.Fatal(err)
	}
	return mb
}

func (r *rig) progress() *store.HistoryProgress {
	r.t.Helper()
	p, err := r.desk.HistoryProgress(context.Background(), r.mailboxNow())
	if err != nil {
		r.t.Fatal(err)
	}
	return p
}

// allTickets lists every ticket, whatever its status.
func (r *rig) allTickets() []store.Ticket {
	r.t.Helper()
	return everyTicket(r.t, r.db)
}

// everyTicket lists every ticket, whatever its status, page by page (ids
// have gaps on PostgreSQL, whose sequences skip what a rollback or a kill
// took).
func everyTicket(t testing.TB, db *store.DB) []store.Ticket {
	t.Helper()
	var all []store.Ticket
	cursor := ""
	for {
		page, next, err := db.ListTickets(context.Background(), store.TicketFilter{Limit: 200, Cursor: cursor, Sort: "newest"})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page...)
		if next == "" {
			return all
		}
		cursor = next
	}
}

// liveMail is a message that arrives while the desk runs.
func liveMail(n int) string {
	return fmt.Sprintf("From: Lena <lena%d@example.com>\nTo: support@shop.test\nSubject: Live question %d\nMessage-ID: <live%d@example.com>\n\nAre you open today?\n", n, n, n)
}

func TestNewMailboxReadsOnlyNewMail(t *testing.T) {
	addr := historyIMAP(t)
	fillPast(t, addr)
	r := historyRig(t, addr, store.StartNew, time.Time{})
	r.waitFor("the first connect", func() bool { return r.mailboxNow().UIDValidity != 0 })
	if mb := r.mailboxNow(); mb.LastUID != 205 || mb.HistoryState != "" {
		t.Fatalf("cursor at %d (want the folder's end, 205), history %q", mb.LastUID, mb.HistoryState)
	}
	appendMail(t, addr, "INBOX", liveMail(1))
	r.waitFor("the new mail", func() bool { return len(r.allTickets()) == 1 })
	tk := r.allTickets()[0]
	if tk.Subject != "Live question 1" || tk.Status != "new" || !slices.Contains(tk.Tags, "ruled") || tk.SLA.PolicyID == nil {
		t.Fatalf("live ticket %+v", tk)
	}
	r.waitFor("its acknowledgement", func() bool { return len(r.sink.messages()) == 1 })
	if p := r.progress(); p != nil {
		t.Fatalf("history progress %+v without a history", p)
	}
}

func TestHistorySinceDateIsResolvedSilentAndThreaded(t *testing.T) {
	addr := historyIMAP(t)
	past := fillPast(t, addr)
	started := time.Now()
	r := historyRig(t, addr, store.StartHistory, past.since)
	ctx := context.Background()
	// Live mail keeps flowing while history imports.
	r.waitFor("the first connect", func() bool { return r.mailboxNow().UIDValidity != 0 })
	appendMail(t, addr, "INBOX", liveMail(1))
	want := len(past.inRange()) + past.agentStarted + past.hostile
	r.waitWithin(120*time.Second, "the history done", func() bool { p := r.progress(); return p != nil && p.State == store.HistoryDone })
	took := time.Since(started)
	p := r.progress()
	if p.Done != p.Total || len(p.Folders) != 2 || p.Folders[1].Folder != "Sent" {
		t.Fatalf("progress %+v", p)
	}
	all := r.allTickets()
	if len(all) != want+1 {
		for _, tk := range all {
			t.Logf("%d %s %s %s", tk.ID, tk.Subject, tk.Status, tk.CreatedAt)
		}
		t.Errorf("%d tickets, want %d of history and 1 live", len(all), want)
	}
	var live *store.Ticket
	history := map[int64]bool{}
	bySubject := map[string]store.Ticket{}
	for i, tk := range all {
		if tk.Subject == "Live question 1" {
			live = &all[i]
			continue
		}
		history[tk.ID] = true
		bySubject[tk.Subject] = tk
		if tk.Status != "resolved" || len(tk.Tags) != 0 || tk.SLA.PolicyID != nil || tk.SLA.FirstResponseDue != nil || tk.AssigneeID != nil {
			t.Fatalf("history ticket not resolved and silent: %+v", tk)
		}
	}
	// The live mail is an open ticket as always: the rule, the SLA clock
	// and the acknowledgement ran for it, and for nothing else.
	if live == nil || live.Status != "new" || !slices.Contains(live.Tags, "ruled") || live.SLA.PolicyID == nil {
		t.Fatalf("live ticket %+v", live)
	}
	r.waitFor("the live mail's acknowledgement", func() bool { return len(r.sink.messages()) >= 1 })
	for _, th := range past.inRange() {
		tk, ok := bySubject[th.subject]
		if !ok {
			t.Errorf("thread %d missing (%s)", th.n, th.at)
			continue
		}
		if !tk.CreatedAt.Equal(th.at) || tk.ResolvedAt == nil || !tk.ResolvedAt.Equal(th.at.Add(48*time.Hour)) {
			t.Fatalf("thread %d dated %v resolved %v, want %v and two days later", th.n, tk.CreatedAt, tk.ResolvedAt, th.at)
		}
		msgs := r.messages(tk.ID)
		if len(msgs) != 3 || msgs[0].Kind != "customer" || msgs[1].Kind != "agent" || msgs[2].Kind != "customer" {
			t.Fatalf("thread %d messages %+v", th.n, msgs)
		}
		reply := msgs[1]
		if !reply.CreatedAt.Equal(th.at.Add(24*time.Hour)) || reply.Delivery != "sent" || reply.ExternalID != th.id("a") {
			t.Fatalf("thread %d reply %+v", th.n, reply)
		}
		if th.n%2 == 1 && (reply.AuthorID == nil || reply.From != "ann@shop.test") {
			t.Fatalf("thread %d: Ann's reply by %v from %q", th.n, reply.AuthorID, reply.From)
		}
		if th.n%2 == 0 && (reply.AuthorID != nil || reply.From != "support@shop.test") {
			t.Fatalf("thread %d: the mailbox's reply by %v from %q", th.n, reply.AuthorID, reply.From)
		}
	}
	if tk, ok := bySubject["Your parcel came back"]; !ok || r.messages(tk.ID)[0].Kind != "agent" {
		t.Fatalf("the conversation we started: %+v", tk)
	}
	for _, s := range []string{"Order 1000 question", "Old note", "Copy", "Note"} {
		if _, ok := bySubject[s]; ok {
			t.Fatalf("%q was imported", s)
		}
	}
	// Silent: no reply queued on history, nothing for webhooks, and the
	// only mail sent is the live ticket's acknowledgement.
	for id := range history {
		for _, m := range r.messages(id) {
			if m.Delivery == "queued" || m.Delivery == "failed" || m.Auto == "auto_reply" {
				t.Fatalf("history ticket %d has an outbound message %+v", id, m)
			}
		}
	}
	evs, err := r.db.EventsAfter(ctx, 0, 1<<40, 100000)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := r.db.MessagesAfter(ctx, 0, 1<<40, 100000)
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range append(evs, msgs...) {
		if history[o.TicketID] {
			t.Fatalf("webhooks would hear of history: %+v", o)
		}
	}
	if n := len(evs) + len(msgs); n == 0 {
		t.Fatal("webhooks hear nothing of the live ticket either")
	}
	time.Sleep(100 * time.Millisecond) // the outbox is woken at once; give a stray send its chance
	if got := r.sink.messages(); len(got) != 1 || !strings.Contains(string(got[0]), "Live question 1") {
		t.Fatalf("SMTP server got %d messages, want only the live ticket's acknowledgement", len(got))
	}
	t.Logf("history since %s: %d tickets, %d messages looked at in %s (%.0f/s)", past.since.Format(time.DateOnly), want, p.Done, took.Round(time.Millisecond),
		float64(p.Done)/took.Seconds())
}

func TestHistoryResumesAfterRestartAndCancels(t *testing.T) {
	addr := historyIMAP(t)
	past := fillPast(t, addr)
	historyPauseWas := historyPauseFactor
	historyPauseFactor = 4 // slow enough to stop halfway
	t.Cleanup(func() { historyPauseFactor = historyPauseWas })
	r := historyRig(t, addr, store.StartHistory, past.threads[0].at.AddDate(0, 0, -1))
	r.waitWithin(60*time.Second, "a third imported", func() bool { p := r.progress(); return p != nil && p.Total > 0 && p.Done*3 >= p.Total })
	// Restarted at the usual pace: the pause grows with each batch's time,
	// so four times it made the rest take minutes on a loaded machine.
	r.stop()
	<-r.done
	historyPauseFactor = historyPauseWas
	r.start()
	r.waitWithin(120*time.Second, "the rest imported", func() bool { p := r.progress(); return p.State == store.HistoryDone })
	all := r.allTickets()
	want := len(past.threads) + 2 + past.hostile // both conversations we started
	if len(all) != want {
		t.Fatalf("%d tickets after a restart, want %d", len(all), want)
	}
	n := 0
	for _, tk := range all {
		n += len(r.messages(tk.ID))
	}
	if want := 3*len(past.threads) + 2 + past.hostile; n != want {
		t.Fatalf("%d messages after a restart, want %d (none twice)", n, want)
	}

	// Another day: a new import, cancelled on its way.
	ctx := context.Background()
	since := past.threads[0].at.AddDate(0, 0, -2)
	if _, err := r.desk.SaveMailbox(ctx, r.mailbox.ID, desk.MailboxInput{HistorySince: &since}); err != nil {
		t.Fatal(err)
	}
	r.waitWithin(60*time.Second, "the new import running", func() bool { p := r.progress(); return p.State == store.HistoryRunning && p.Done > 0 })
	if _, err := r.desk.CancelHistory(ctx, r.mailbox.ID); err != nil {
		t.Fatal(err)
	}
	at := r.progress()
	if at.State != store.HistoryCancelled {
		t.Fatalf("state %q after cancel", at.State)
	}
	// It stops at its next batch: a batch at most after the cancel.
	time.Sleep(500 * time.Millisecond)
	if p := r.progress(); p.Done > at.Done+fetchBatch || p.Done >= p.Total || p.State != store.HistoryCancelled {
		t.Fatalf("after cancel at %d of %d: %+v", at.Done, at.Total, p)
	}
	if _, err := r.desk.CancelHistory(ctx, r.mailbox.ID); desktest.FieldOf(err) != "history_state" {
		t.Fatalf("cancel of a cancelled import: %v", err)
	}
	// Everything it read again was known: no new tickets.
	if n := len(r.allTickets()); n != want {
		t.Fatalf("%d tickets after the second import, want %d", n, want)
	}
}

func TestMailboxStartIsChecked(t *testing.T) {
	d, _ := desktest.New(t)
	ctx := context.Background()
	str := func(s string) *string { return &s }
	base := desk.MailboxInput{Address: str("help@shop.test"), IMAPHost: str("imap.shop.test"), SMTPHost: str("smtp.shop.test")}
	for _, c := range []struct {
		start string
		since *time.Time
		field string
	}{
		{"everything", nil, "start_from"},
		{store.StartHistory, nil, "history_since"},
		{store.StartHistory, ptrTime(time.Now().Add(48 * time.Hour)), "history_since"},
		{store.StartHistory, ptrTime(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)), "history_since"},
	} {
		in := base
		in.StartFrom, in.HistorySince = &c.start, c.since
		if _, err := d.SaveMailbox(ctx, 0, in); desktest.FieldOf(err) != c.field {
			t.Fatalf("start %q since %v: %v, want a refusal of %s", c.start, c.since, err, c.field)
		}
	}
	mb, err := d.SaveMailbox(ctx, 0, base)
	if err != nil || mb.StartFrom != store.StartNew || mb.HistoryState != "" {
		t.Fatalf("default start %+v, %v", mb, err)
	}
	since := time.Now().AddDate(-1, 0, 0)
	hist := store.StartHistory
	if mb, err = d.SaveMailbox(ctx, mb.ID, desk.MailboxInput{StartFrom: &hist, HistorySince: &since}); err != nil || mb.HistoryState != store.HistoryPending {
		t.Fatalf("history asked for: %+v, %v", mb, err)
	}
}

func ptrTime(t time.Time) *time.Time { return &t }

// TestDovecotHistoryFindsSentByFlag: against Dovecot, the Sent folder is
// found by its SPECIAL-USE flag (under a name no list knows), and the
// history imports at a measured pace.
func TestDovecotHistoryFindsSentByFlag(t *testing.T) {
	addr := dovecot(t, `
namespace inbox {
  inbox = yes
  mailbox "Answered by us" {
    special_use = \Sent
    auto = create
  }
}
`)
	// fillPast writes to "Sent": here that folder is an ordinary one, and
	// the real Sent folder (by flag) gets the same replies.
	createFolder(t, addr, "Sent")
	past := fillPast(t, addr)
	copyFolder(t, addr, "Sent", "Answered by us")
	deleteFolder(t, addr, "Sent")
	// All of it: the more messages, the truer the pace.
	r := historyRig(t, addr, store.StartHistory, past.threads[0].at.AddDate(0, 0, -1))
	var started time.Time
	r.waitWithin(120*time.Second, "the history done", func() bool {
		p := r.progress()
		if started.IsZero() && p != nil && p.State == store.HistoryRunning {
			started = time.Now()
		}
		return p != nil && p.State == store.HistoryDone
	})
	took := time.Since(started)
	p := r.progress()
	if len(p.Folders) != 2 || p.Folders[1].Folder != "Answered by us" || p.Folders[1].Role != "sent" {
		t.Fatalf("folders %+v", p.Folders)
	}
	want := len(past.threads) + 2 + past.hostile // both conversations we started
	if n := len(r.allTickets()); n != want {
		t.Fatalf("%d tickets, want %d", n, want)
	}
	for _, tk := range r.allTickets() {
		if strings.HasPrefix(tk.Subject, "Order ") {
			if msgs := r.messages(tk.ID); len(msgs) != 3 || msgs[1].Kind != "agent" {
				t.Fatalf("thread %q: %+v", tk.Subject, msgs)
			}
		}
	}
	t.Logf("Dovecot: %d messages looked at, %d tickets, in %s from the start of the import (%.0f/s)", p.Done, want, took.Round(time.Millisecond), float64(p.Done)/took.Seconds())
}

func createFolder(t testing.TB, addr, name string) {
	t.Helper()
	if err := login(t, addr).Create(name, nil).Wait(); err != nil {
		t.Fatal(err)
	}
}

func copyFolder(t testing.TB, addr, from, to string) {
	t.Helper()
	c := login(t, addr)
	if _, err := c.Select(from, nil).Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Copy(imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, to).Wait(); err != nil {
		t.Fatal(err)
	}
}

func deleteFolder(t testing.TB, addr, name string) {
	t.Helper()
	if err := login(t, addr).Delete(name).Wait(); err != nil {
		t.Fatal(err)
	}
}

// TestKillDuringHistoryImport imports a mailbox's history with the real
// onedesk binary, killed with SIGKILL twice along the way: every message
// of the history is stored exactly once.
func TestKillDuringHistoryImport(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	bin := buildOnedesk(t, dir)
	addr := historyIMAP(t)
	past := fillPast(t, addr)
	data := storetest.Data(t)
	ctx := context.Background()
	since, hist := past.threads[0].at.AddDate(0, 0, -1), store.StartHistory
	db, d, mb := mailboxDatabase(t, data, addr, desk.MailboxInput{StartFrom: &hist, HistorySince: &since})
	if _, err := d.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123"}); err != nil {
		t.Fatal(err)
	}
	progress := func() (string, int, int) {
		m, _ := db.Mailbox(ctx, mb.ID)
		folders, _ := db.HistoryFolders(ctx, mb.ID)
		p := store.Progress(m, folders, time.Now())
		if p == nil {
			return "", 0, 0
		}
		return p.State, p.Done, p.Total
	}
	waitFor := func(cmd *exec.Cmd, what string, cond func(state string, done int) bool) {
		deadline := time.Now().Add(60 * time.Second)
		for {
			state, done, _ := progress()
			if cond(state, done) {
				return
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("history stalled before %s (%s, %d done)", what, state, done)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	kills := 0
	for _, at := range []int{40, 170} {
		cmd := serveOnedesk(t, bin, data, nil)
		waitFor(cmd, fmt.Sprint(at), func(_ string, done int) bool { return done >= at })
		cmd.Process.Kill() // SIGKILL: no cleanup of any kind
		cmd.Wait()
		kills++
	}
	cmd := serveOnedesk(t, bin, data, nil)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitFor(cmd, "the end", func(state string, _ int) bool { return state == store.HistoryDone })
	tickets, messages := 0, 0
	for _, tk := range everyTicket(t, db) {
		msgs, _ := db.Messages(ctx, tk.ID)
		tickets, messages = tickets+1, messages+len(msgs)
	}
	wantTickets, wantMessages := len(past.threads)+2+past.hostile, 3*len(past.threads)+2+past.hostile
	if tickets != wantTickets || messages != wantMessages {
		t.Fatalf("%d tickets, %d messages after %d kills, want %d and %d (none twice)", tickets, messages, kills, wantTickets, wantMessages)
	}
	_, done, total := progress()
	if done != total {
		t.Fatalf("done %d of %d", done, total)
	}
	t.Logf("history of %d messages imported exactly once across %d SIGKILLs", done, kills)
}
