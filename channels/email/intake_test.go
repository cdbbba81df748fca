//go:build !windows

package email

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/metrics"
	"onedesk/store"
	"onedesk/store/storetest"
)

// nested is a message whose multipart structure is depth levels deep
// (LF line ends, as appendMail takes them).
func nested(depth int) []byte {
	var b bytes.Buffer
	b.WriteString("From: Deep <deep@example.com>\nTo: support@shop.test\nSubject: Deeply nested\nMessage-ID: <deep@example.com>\nMIME-Version: 1.0\n")
	b.WriteString("Content-Type: multipart/mixed; boundary=\"b0\"\n\n")
	for i := range depth {
		fmt.Fprintf(&b, "--b%d\nContent-Type: multipart/mixed; boundary=\"b%d\"\n\n", i, i+1)
	}
	fmt.Fprintf(&b, "--b%d\nContent-Type: text/plain\n\nAt the bottom.\n", depth)
	for i := depth; i >= 0; i-- {
		fmt.Fprintf(&b, "--b%d--\n", i)
	}
	return b.Bytes()
}

// poison is one kind of message that once stopped a mailbox for good.
type poison struct {
	name, subject string
	raw           []byte
}

func poisons() []poison {
	return []poison{
		{"broken From", "You have won", []byte("From: \"Millions Lottery Spain transfer\"@example.com>\nTo: support@shop.test\nSubject: You have won\nMessage-ID: <lottery@example.com>\n\nClaim your prize of 1,000,000 EUR.\n")},
		{"no sender at all", "Nobody wrote this", []byte("To: support@shop.test\nSubject: Nobody wrote this\nMessage-ID: <nobody@example.com>\n\nWho am I?\n")},
		{"60,000-level nesting", "Deeply nested", nested(60000)},
		// A subject over the desk's limit: Ingest refuses it (an InputError).
		{"refused by the desk", "Long " + strings.Repeat("x", 600), []byte("From: long@example.com\nSubject: Long " + strings.Repeat("x", 600) + "\nMessage-ID: <long@example.com>\n\nMy subject is long.\n")},
	}
}

// pollErrors is the desk's count of failed polls of the mailbox, as
// /metrics shows it.
func (r *rig) pollErrors() float64 {
	var buf bytes.Buffer
	w := metrics.NewWriter(&buf)
	if err := r.desk.Collect(context.Background(), w); err != nil {
		r.t.Fatal(err)
	}
	w.Flush()
	prefix := fmt.Sprintf(`onedesk_mail_poll_errors_total{mailbox="%d"} `, r.mailbox.ID)
	for _, line := range strings.Split(buf.String(), "\n") {
		if v, ok := strings.CutPrefix(line, prefix); ok {
			n, _ := strconv.ParseFloat(v, 64)
			return n
		}
	}
	return 0
}

// messageBySubject finds the stored message of the ticket with that
// subject (cut as the desk cuts it).
func (r *rig) messageBySubject(prefix string) (store.Ticket, store.Message, bool) {
	for _, tk := range r.tickets() {
		if strings.HasPrefix(tk.Subject, prefix) {
			msgs := r.messages(tk.ID)
			return tk, msgs[0], true
		}
	}
	return store.Ticket{}, store.Message{}, false
}

// TestPoisonMessagesNeverStopAMailbox puts each kind of message that
// once stopped a mailbox in the middle of a real Dovecot mailbox: every
// message after it is imported in the same poll, and the poison one is
// stored with its note and source.
func TestPoisonMessagesNeverStopAMailbox(t *testing.T) {
	addr := dovecot(t)
	var good []string
	for i, p := range poisons() {
		subject := fmt.Sprintf("Before %d", i)
		appendMail(t, addr, "INBOX", fmt.Sprintf("From: c%d@example.com\nSubject: %s\nMessage-ID: <before%d@example.com>\n\nHello.\n", i, subject, i))
		good = append(good, subject)
		appendMail(t, addr, "INBOX", string(p.raw))
	}
	appendMail(t, addr, "INBOX", "From: last@example.com\nSubject: After all\nMessage-ID: <after@example.com>\n\nStill here.\n")
	good = append(good, "After all")
	total := uint32(2*len(poisons()) + 1)

	start := time.Now()
	r := newRigAt(t, addr, "support", "secret")
	ctx := context.Background()
	deadline := time.Now().Add(60 * time.Second)
	for {
		mb, _ := r.db.Mailbox(ctx, r.mailbox.ID)
		if mb.LastUID == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor at %d of %d; last error %q", mb.LastUID, total, mb.LastError)
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("%d messages, %d of them poison, imported in %v", total, len(poisons()), time.Since(start).Round(time.Millisecond))
	if n := r.pollErrors(); n != 0 {
		mb, _ := r.db.Mailbox(ctx, r.mailbox.ID)
		t.Fatalf("%v polls failed on the way (last error %q): the poison was not taken in one poll", n, mb.LastError)
	}
	for _, s := range good {
		r.ticketBySubject(s)
	}
	for _, p := range poisons() {
		tk, m, ok := r.messageBySubject(p.subject[:min(len(p.subject), 40)])
		if !ok {
			t.Fatalf("%s: not stored", p.name)
		}
		if m.Partial == "" {
			t.Errorf("%s: stored without a note (%q)", p.name, m.Body)
		}
		if src, err := r.db.MessageSource(ctx, m.ID); err != nil || len(src) < len(p.raw)-10 {
			t.Errorf("%s: source not kept (%d bytes, %v)", p.name, len(src), err)
		}
		t.Logf("%s: ticket %d from %s, note %q", p.name, tk.ID, m.From, m.Partial)
		// The notes are kept as sentences each agent reads in their own
		// language, and stay out of the customer's text.
		notes := i18n.DecodeSentences(m.PartialI18n)
		if len(notes) == 0 || notes.String() != m.Partial {
			t.Errorf("%s: notes %q stored as %q", p.name, m.Partial, m.PartialI18n)
		}
		for _, lang := range []string{"pt", "ru"} {
			if said := notes.In(lang); said == m.Partial {
				t.Errorf("%s: the note is not translated to %s: %q", p.name, lang, said)
			}
		}
		if strings.Contains(m.Body, "[onedesk:") {
			t.Errorf("%s: a note in the customer's text: %q", p.name, m.Body)
		}
	}
	// Mail with no answerable sender is filed under the mailbox's unknown
	// sender, and a reply to it fails at once, saying why.
	lotteryTicket, lottery, _ := r.messageBySubject("You have won")
	if lottery.From != unknownSender(r.mailbox).Value {
		t.Errorf("the lottery message is from %q", lottery.From)
	}
	// Nameless: the app names it in each agent's language.
	if cu, err := r.db.Customer(ctx, lotteryTicket.CustomerID); err != nil || cu.Name != "" {
		t.Errorf("the unknown sender's customer: %+v, %v; want no name", cu, err)
	}
	reply, err := r.desk.Reply(ctx, desk.AgentActor(r.agent().ID), lotteryTicket.ID, desk.ReplyInput{Body: "Which prize?"})
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("the reply refused", func() bool { m, _ := r.db.Message(ctx, reply.ID); return m.Delivery == "failed" })
	if m, _ := r.db.Message(ctx, reply.ID); !strings.Contains(m.DeliveryError, "no address to reply to") || len(r.sink.messages()) != 0 {
		t.Errorf("reply to the unknown sender: %q, %d sent", m.DeliveryError, len(r.sink.messages()))
	}
	intake, err := r.db.MailboxIntake(ctx, r.mailbox.ID, 10)
	if err != nil || intake.PartialCount != len(poisons()) || intake.Last == nil || intake.Last.Subject != "After all" {
		t.Fatalf("intake %+v, %v", intake, err)
	}
}

// TestDatabaseFailureKeepsTheCursor: a failure that is not the message's
// (here a table gone for a while) leaves the cursor where it is and is
// retried; nothing is skipped and nothing stored twice.
func TestDatabaseFailureKeepsTheCursor(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	appendMail(t, r.imapAddr, "INBOX", "From: a@example.com\nSubject: First\nMessage-ID: <a1@example.com>\n\nOne.\n")
	r.waitFor("the first message", func() bool { return len(r.tickets()) == 1 })
	r.sql(`ALTER TABLE messages RENAME TO messages_away`)
	appendMail(t, r.imapAddr, "INBOX", "From: b@example.com\nSubject: Second\nMessage-ID: <b1@example.com>\n\nTwo.\n")
	appendMail(t, r.imapAddr, "INBOX", "From: c@example.com\nSubject: Third\nMessage-ID: <c1@example.com>\n\nThree.\n")
	var mb *store.Mailbox
	r.waitFor("the failure at the second message, twice", func() bool {
		mb, _ = r.db.Mailbox(ctx, r.mailbox.ID)
		return mb.FailingUID == 2 && mb.FailingCount >= 2
	})
	if mb.LastUID != 1 || mb.FailingSince == nil || !strings.Contains(mb.LastError, "messages") {
		t.Fatalf("while failing: cursor %d, since %v, error %q", mb.LastUID, mb.FailingSince, mb.LastError)
	}
	r.sql(`ALTER TABLE messages_away RENAME TO messages`)
	r.waitFor("all three", func() bool { mb, _ = r.db.Mailbox(ctx, r.mailbox.ID); return mb.LastUID == 3 && mb.LastError == "" })
	n := 0
	for _, tk := range r.tickets() {
		n += len(r.messages(tk.ID))
	}
	if n != 3 || mb.FailingSince != nil || mb.FailingCount != 0 {
		t.Fatalf("%d messages stored, want 3; failing %v/%d", n, mb.FailingSince, mb.FailingCount)
	}
}

// TestParseFailuresOfOursAreRetried: which parse failures are the
// message's (stored anyway) and which are ours (retried).
func TestParseFailuresOfOursAreRetried(t *testing.T) {
	ours := []error{
		&fs.PathError{Op: "open", Path: "/tmp/x", Err: fs.ErrPermission},
		fmt.Errorf("spool attachment: %w", &fs.PathError{Op: "write", Path: "/tmp/x", Err: errors.New("no space left on device")}),
		context.Canceled, context.DeadlineExceeded,
	}
	for _, err := range ours {
		if !notTheMessage(err) {
			t.Errorf("%v taken as the message's fault", err)
		}
	}
	theirs := []error{errors.New("parse message: no usable From address"), errors.New("multipart: NextPart: EOF"),
		fmt.Errorf("the parser failed on it: %v", "index out of range")}
	for _, err := range theirs {
		if notTheMessage(err) {
			t.Errorf("%v taken as ours", err)
		}
	}
}

// TestStuckMailbox: a mailbox failing at the same message again and
// again is stuck, with the reason; success clears it.
func TestStuckMailbox(t *testing.T) {
	now := time.Now()
	since := now.Add(-10 * time.Second)
	mb := &store.Mailbox{Active: true, PollSeconds: 60, FailingSince: &since, LastError: "database is locked"}
	if s := desk.MailboxStuck(mb, now); s != "" {
		t.Fatalf("stuck after one failure: %q", s)
	}
	mb.FailingUID, mb.FailingCount = 7, 3
	if s := desk.MailboxStuck(mb, now); !strings.Contains(s, "UID 7") || !strings.Contains(s, "database is locked") {
		t.Fatalf("same UID three times: %q", s)
	}
	mb.FailingUID, mb.FailingCount = 0, 9
	long := now.Add(-4 * time.Minute)
	mb.FailingSince = &long
	if s := desk.MailboxStuck(mb, now); !strings.Contains(s, "nothing has been imported for 4m0s") {
		t.Fatalf("failing for four intervals: %q", s)
	}
	mb.Active = false
	if s := desk.MailboxStuck(mb, now); s != "" {
		t.Fatalf("an inactive mailbox stuck: %q", s)
	}
}

// authSink is an SMTP server that wants a user name and password.
type authSink struct{ smtpSink }

func (s *authSink) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &authSession{sinkSession{&s.smtpSink}}, nil
}

type authSession struct{ sinkSession }

func (*authSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (*authSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "support" || pass != "smtp-secret" {
			// What Postfix and most servers answer.
			return &smtp.SMTPError{Code: 535, EnhancedCode: smtp.EnhancedCode{5, 7, 8}, Message: "Authentication credentials invalid"}
		}
		return nil
	}), nil
}

// TestConnectionChecksBothServers: Test logs in to IMAP and SMTP and
// says which failed and why, a web server on either port included.
func TestConnectionChecksBothServers(t *testing.T) {
	greetTimeout = time.Second
	t.Cleanup(func() { greetTimeout = 15 * time.Second })
	imapAddr := imapServer(t)
	srv := smtp.NewServer(&authSink{})
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	smtpAddr := onLoopback(t, srv.Serve, srv.Close)
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello") }))
	t.Cleanup(web.Close)
	webAddr := strings.TrimPrefix(web.URL, "http://")

	mailbox := func(imapAt, smtpAt, smtpPassword string) *store.Mailbox {
		ih, ip, _ := net.SplitHostPort(imapAt)
		sh, sp, _ := net.SplitHostPort(smtpAt)
		ipn, _ := strconv.Atoi(ip)
		spn, _ := strconv.Atoi(sp)
		return &store.Mailbox{IMAPHost: ih, IMAPPort: ipn, IMAPSecurity: "none", IMAPUsername: "support", IMAPPassword: "secret",
			IMAPFolder: "INBOX", SMTPHost: sh, SMTPPort: spn, SMTPSecurity: "none", SMTPUsername: "support", SMTPPassword: smtpPassword}
	}
	ctx := context.Background()
	if err := Test(ctx, mailbox(imapAddr, smtpAddr, "smtp-secret")); err != nil {
		t.Fatalf("good settings: %v", err)
	}
	check := func(what string, mb *store.Mailbox, field string, says ...string) {
		t.Helper()
		err := Test(ctx, mb)
		var te *TestError
		if !errors.As(err, &te) || te.Field != field {
			t.Fatalf("%s: %v (field %v)", what, err, te)
		}
		for _, s := range says {
			if !strings.Contains(err.Error(), s) {
				t.Fatalf("%s: %q does not say %q", what, err, s)
			}
		}
		t.Logf("%s: %s", what, err)
	}
	check("SMTP wrong password", mailbox(imapAddr, smtpAddr, "nope"), "smtp_host", "sending (SMTP", "refused the user name or password")
	check("IMAP on a web server", mailbox(webAddr, smtpAddr, "smtp-secret"), "imap_host", "receiving (IMAP", "did not answer as an IMAP server")
	check("SMTP on a web server", mailbox(imapAddr, webAddr, "smtp-secret"), "smtp_host", "sending (SMTP", "did not answer as an SMTP server")
	for _, s := range []string{"user name or password"} {
		if err := Test(ctx, mailbox(webAddr, webAddr, "x")); err == nil || strings.Contains(err.Error(), s) {
			t.Fatalf("both on a web server: %v", err)
		}
	}
}

// TestKillWhileParsingPoison kills the real binary (SIGKILL) while it is
// reading a 60,000-level message, then starts it again: the temporary
// folder the dead process left is removed, every message is stored
// exactly once, the mailbox moves on, and a normal stop leaves no folder.
func TestKillWhileParsingPoison(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	bin := buildOnedesk(t, dir)
	tmp := filepath.Join(dir, "tmp")
	os.MkdirAll(tmp, 0o755)
	env := []string{"TMPDIR=" + tmp}
	imapAddr := imapServer(t)
	appendMail(t, imapAddr, "INBOX", "From: a@example.com\nSubject: Before\nMessage-ID: <before@example.com>\n\nHi.\n")
	appendMail(t, imapAddr, "INBOX", string(nested(60000)))
	for i := range 5 {
		appendMail(t, imapAddr, "INBOX", fmt.Sprintf("From: b%d@example.com\nSubject: After %d\nMessage-ID: <after%d@example.com>\n\nHi.\n", i, i, i))
	}
	const total = 7
	data := storetest.Data(t)
	db := crashDatabase(t, data, imapAddr)
	ctx := context.Background()
	spools := func() []string {
		list, _ := filepath.Glob(filepath.Join(tmp, spoolPrefix+"*"))
		return list
	}

	cmd := serveOnedesk(t, bin, data, env)
	deadline := time.Now().Add(60 * time.Second)
	for len(spools()) == 0 {
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the deep message was never fetched")
		}
		time.Sleep(time.Millisecond)
	}
	cmd.Process.Kill() // SIGKILL while the message is being read
	cmd.Wait()
	left := spools()
	mb, _ := db.Mailbox(ctx, 1)
	t.Logf("killed at cursor %d with temporary folder(s) %v left", mb.LastUID, left)

	// Started again, it reads the deep message anew; a normal stop now
	// waits for that message or cuts it, and its folder goes either way.
	cmd = serveOnedesk(t, bin, data, env)
	deadline = time.Now().Add(60 * time.Second)
	for {
		if fresh := slices.DeleteFunc(spools(), func(s string) bool { return slices.Contains(left, s) }); len(fresh) > 0 {
			t.Logf("read again in %v", fresh)
			break
		}
		if mb, _ = db.Mailbox(ctx, 1); mb.LastUID >= 2 {
			t.Log("the deep message was stored before the kill or before it was seen again")
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatal("the deep message was not read again")
		}
		time.Sleep(time.Millisecond)
	}
	stopped := time.Now()
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	t.Logf("a normal stop while reading took %v", time.Since(stopped).Round(time.Millisecond))
	if l := spools(); len(l) != 0 {
		t.Errorf("folders left after a normal stop: %v", l)
	}

	cmd = serveOnedesk(t, bin, data, env)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline = time.Now().Add(60 * time.Second)
	for {
		mb, _ = db.Mailbox(ctx, 1)
		if mb.LastUID == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restarts the cursor is at %d of %d (%q)", mb.LastUID, total, mb.LastError)
		}
		time.Sleep(10 * time.Millisecond)
	}
	time.Sleep(300 * time.Millisecond) // anything stored twice would show now
	n, deep := 0, 0
	var stored []string
	list, _, _ := db.ListTickets(ctx, store.TicketFilter{Limit: 200})
	for _, tk := range list {
		msgs, _ := db.Messages(ctx, tk.ID)
		n += len(msgs)
		if tk.Subject == "Deeply nested" && len(msgs) == 1 && msgs[0].Partial != "" {
			deep++
		}
		for _, m := range msgs {
			stored = append(stored, fmt.Sprintf("ticket %d %q: message from %s, note %q", tk.ID, tk.Subject, m.From, m.Partial))
		}
	}
	if n != total || deep != 1 {
		t.Fatalf("%d messages stored (want exactly %d), the deep one with its note: %d\n%s", n, total, deep, strings.Join(stored, "\n"))
	}
}
