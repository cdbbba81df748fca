package email

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/store"
	"onedesk/store/storetest"
)

// imapServer is go-imap's in-memory server on a loopback port.
func imapServer(t testing.TB) string {
	t.Helper()
	return imapServerWith(t, "INBOX", "Imported")
}

// imapServerWith is imapServer with these folders for support/secret.
func imapServerWith(t testing.TB, folders ...string) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "secret")
	for _, f := range folders {
		u.Create(f, nil)
	}
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       discardLogger{},
	})
	return onLoopback(t, srv.Serve, srv.Close)
}

// onLoopback serves on a free 127.0.0.1 port until the test ends.
func onLoopback(t testing.TB, serve func(net.Listener) error, stop func() error) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go serve(ln)
	t.Cleanup(func() { stop() })
	return ln.Addr().String()
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...any) {}

// smtpSink is an SMTP server that keeps what it receives and can be told
// to refuse mail for a while.
type smtpSink struct {
	mu       sync.Mutex
	received [][]byte
	failNext int  // refuse this many deliveries with 451
	reject   bool // refuse every delivery with 550
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct{ s *smtpSink }

func (x *sinkSession) Reset()        {}
func (x *sinkSession) Logout() error { return nil }
func (x *sinkSession) Mail(string, *smtp.MailOptions) error {
	x.s.mu.Lock()
	defer x.s.mu.Unlock()
	if x.s.reject {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "relay denied"}
	}
	if x.s.failNext > 0 {
		x.s.failNext--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	return nil
}
func (x *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	x.s.mu.Lock()
	x.s.received = append(x.s.received, b)
	x.s.mu.Unlock()
	return err
}

func (s *smtpSink) messages() [][]byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]byte(nil), s.received...)
}

func smtpServer(t testing.TB, sink *smtpSink) (*smtp.Server, string) {
	t.Helper()
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 10 * time.Second
	return srv, onLoopback(t, srv.Serve, srv.Close)
}

// appendMail puts a message in the test mailbox as a mail server would.
func appendMail(t testing.TB, addr, folder, raw string) {
	t.Helper()
	c, err := imapclient.DialInsecure(addr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Login("support", "secret").Wait(); err != nil {
		t.Fatal(err)
	}
	if err := appendRaw(c, folder, crlf(raw)); err != nil {
		t.Fatal(err)
	}
}

// appendRaw appends one message to a folder over an open connection.
func appendRaw(c *imapclient.Client, folder string, raw []byte) error {
	cmd := c.Append(folder, int64(len(raw)), nil)
	if _, err := cmd.Write(raw); err != nil {
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

type rig struct {
	t        testing.TB
	desk     *desk.Desk
	db       *store.DB
	ch       *Channel
	imapAddr string
	sink     *smtpSink
	smtp     *smtp.Server
	smtpAddr string
	dbPath   string
	mailbox  *store.Mailbox
	stop     context.CancelFunc
	done     chan struct{}
}

func newRig(t *testing.T) *rig {
	t.Helper()
	return newRigAt(t, imapServer(t), "support", "secret")
}

// newRigAt runs the desk and the email channel against the IMAP server at
// imapAddr and a test SMTP server.
func newRigAt(t testing.TB, imapAddr, user, password string) *rig {
	t.Helper()
	return newRigWith(t, imapAddr, user, password, nil)
}

// newRigWith is newRigAt on a desk with rules and the SLA clock plugged
// in (when tweak is not nil), where tweak may prepare the desk and change
// the mailbox's settings before the mailbox is saved and read.
func newRigWith(t testing.TB, imapAddr, user, password string, tweak func(*desk.Desk, *desk.MailboxInput)) *rig {
	t.Helper()
	ctx := context.Background()
	dbPath := storetest.Data(t)
	db, err := store.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	if tweak != nil {
		d = desktest.Wire(t, db)
	}
	d.RetryBase, d.RetryMax = 20*time.Millisecond, 100*time.Millisecond
	r := &rig{t: t, desk: d, db: db, imapAddr: imapAddr, sink: &smtpSink{}, dbPath: dbPath}
	r.smtp, r.smtpAddr = smtpServer(t, r.sink)
	smtpAddr := r.smtpAddr
	ih, ip, _ := net.SplitHostPort(r.imapAddr)
	sh, sp, _ := net.SplitHostPort(smtpAddr)
	str := func(s string) *string { return &s }
	num := func(s string) *int { var n int; fmt.Sscan(s, &n); return &n }
	in := desk.MailboxInput{
		Address: str("support@shop.test"), Name: str("Shop"),
		IMAPHost: str(ih), IMAPPort: num(ip), IMAPSecurity: str("none"), IMAPUsername: str(user), IMAPPassword: password,
		SMTPHost: str(sh), SMTPPort: num(sp), SMTPSecurity: str("none"),
		PollSeconds: num("5"), AfterImport: str("seen"),
		// The tests put mail in the folder as the poller starts: all of it
		// is new mail to them (history_test.go tests the other starts).
		StartFrom: str(store.StartAll),
	}
	if tweak != nil {
		tweak(d, &in)
	}
	r.mailbox, err = d.SaveMailbox(ctx, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	r.ch = New(d, log)
	r.ch.Backoff = 50 * time.Millisecond
	octx, cancel := context.WithCancel(ctx)
	t.Cleanup(cancel)
	go d.RunOutbox(octx)
	r.start()
	return r
}

func (r *rig) start() {
	ctx, cancel := context.WithCancel(context.Background())
	r.stop, r.done = cancel, make(chan struct{})
	go func() { r.ch.Run(ctx); close(r.done) }()
	r.t.Cleanup(cancel)
}

func (r *rig) restart() {
	r.stop()
	<-r.done
	r.start()
}

// patience is how long a test waits for what should happen: a poll, a
// send, a restart on a loaded 2-core machine beside PostgreSQL can take
// many seconds; a passing run returns as soon as it happened.
const patience = 60 * time.Second

func (r *rig) waitFor(what string, cond func() bool) {
	r.t.Helper()
	r.waitWithin(patience, what, cond)
}

// waitWithin is waitFor with a deadline of its own, for imports of
// hundreds of messages on a busy machine.
func (r *rig) waitWithin(d time.Duration, what string, cond func() bool) {
	r.t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > d {
			r.t.Fatalf("timed out waiting for %s (%v)", what, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if took := time.Since(start); took > d/6 {
		r.t.Logf("slow wait %q: %v", what, took.Round(time.Millisecond)) // near its deadline on a busy machine?
	}
}

func (r *rig) tickets() []store.Ticket {
	list, _, err := r.db.ListTickets(context.Background(), store.TicketFilter{Limit: 200})
	if err != nil {
		r.t.Fatal(err)
	}
	return list
}

func (r *rig) messages(ticketID int64) []store.Message {
	list, err := r.db.Messages(context.Background(), ticketID)
	if err != nil {
		r.t.Fatal(err)
	}
	return list
}

func TestMailInRepliesOutThreadedAndOnce(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	appendMail(t, r.imapAddr, "INBOX", "From: Carla <carla@example.com>\nTo: support@shop.test\nSubject: Where is my parcel?\nMessage-ID: <c1@example.com>\n\nOrder 1001 has not arrived.\n")
	appendMail(t, r.imapAddr, "INBOX", "From: Dan <dan@example.com>\nSubject: Refund\nMessage-ID: <d1@example.com>\n\nI want my money back.\n")
	// Mail from our own address never becomes a ticket.
	appendMail(t, r.imapAddr, "INBOX", "From: support@shop.test\nSubject: Copy of a reply\nMessage-ID: <own@shop.test>\n\nloop?\n")
	r.waitFor("two tickets", func() bool { return len(r.tickets()) == 2 })
	mb, _ := r.db.Mailbox(ctx, r.mailbox.ID)
	// The cursor moves with each message; the poll's success is written
	// when the poll ends, a moment later.
	r.waitFor("cursor past the third message, the poll done", func() bool {
		mb, _ = r.db.Mailbox(ctx, r.mailbox.ID)
		return mb.LastUID == 3 && mb.LastSuccessAt != nil
	})
	if mb.LastError != "" || mb.LastSuccessAt == nil {
		t.Fatalf("mailbox status %q %v", mb.LastError, mb.LastSuccessAt)
	}

	var carla store.Ticket
	for _, tk := range r.tickets() {
		if tk.Subject == "Where is my parcel?" {
			carla = tk
		}
	}
	msgs := r.messages(carla.ID)
	if len(msgs) != 1 || msgs[0].ExternalID != "c1@example.com" || msgs[0].From != "carla@example.com" || msgs[0].Channel != "email" {
		t.Fatalf("imported message %+v", msgs)
	}
	if src, err := r.db.MessageSource(ctx, msgs[0].ID); err != nil || !bytes.Contains(src, []byte("Order 1001")) {
		t.Fatalf("raw source kept: %v", err)
	}

	// A restart reads nothing twice.
	r.restart()
	appendMail(t, r.imapAddr, "INBOX", "From: Erin <erin@example.com>\nSubject: Size exchange\nMessage-ID: <e1@example.com>\n\nCan I swap for a 42?\n")
	r.waitFor("third ticket", func() bool { return len(r.tickets()) == 3 })
	time.Sleep(200 * time.Millisecond)
	if n := len(r.tickets()); n != 3 {
		t.Fatalf("%d tickets after a restart, want 3", n)
	}

	// The agent replies; the SMTP server gets a threaded message, once,
	// even though it refuses the first two attempts.
	a, err := r.desk.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	r.sink.mu.Lock()
	r.sink.failNext = 2
	r.sink.mu.Unlock()
	reply, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), carla.ID, desk.ReplyInput{Body: "It ships today."})
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("reply sent", func() bool { m, _ := r.db.Message(ctx, reply.ID); return m.Delivery == "sent" })
	got := r.sink.messages()
	if len(got) != 1 {
		t.Fatalf("SMTP server got %d messages, want 1", len(got))
	}
	mr, err := mail.CreateReader(bytes.NewReader(got[0]))
	if err != nil {
		t.Fatal(err)
	}
	wantID, _ := r.desk.OutboundExternalID(ctx, carla.ID, reply.ID, "shop.test")
	from, _ := mr.Header.AddressList("From")
	subject, _ := mr.Header.Subject()
	msgID, _ := mr.Header.MessageID()
	irt, _ := mr.Header.MsgIDList("In-Reply-To")
	if from[0].Address != "support@shop.test" || from[0].Name != "Ann via Shop" || msgID != wantID ||
		len(irt) != 1 || irt[0] != "c1@example.com" || subject != fmt.Sprintf("Re: Where is my parcel? [#%d]", carla.ID) {
		t.Fatalf("reply headers: from %v, subject %q, id %q, in-reply-to %v", from[0], subject, msgID, irt)
	}
	if m, _ := r.db.Message(ctx, reply.ID); m.ExternalID != wantID {
		t.Fatalf("reply's Message-ID not recorded: %q", m.ExternalID)
	}

	// Carla answers our reply; her client keeps only In-Reply-To.
	appendMail(t, r.imapAddr, "INBOX", fmt.Sprintf("From: carla@example.com\nSubject: Re: Where is my parcel?\nMessage-ID: <c2@example.com>\nIn-Reply-To: <%s>\n\nThanks!\n", wantID))
	r.waitFor("answer threaded", func() bool { return len(r.messages(carla.ID)) == 3 })
	if n := len(r.tickets()); n != 3 {
		t.Fatalf("the answer opened a new ticket: %d tickets", n)
	}

	// A permanent refusal shows on the message.
	r.sink.mu.Lock()
	r.sink.reject = true
	r.sink.mu.Unlock()
	bad, _ := r.desk.Reply(ctx, desk.AgentActor(a.ID), carla.ID, desk.ReplyInput{Body: "One more thing"})
	r.waitFor("reply failed", func() bool { m, _ := r.db.Message(ctx, bad.ID); return m.Delivery == "failed" })
	if m, _ := r.db.Message(ctx, bad.ID); !strings.Contains(m.DeliveryError, "relay denied") {
		t.Fatalf("delivery error %q", m.DeliveryError)
	}

	// Imported mail is marked read, as the mailbox says.
	c, _ := imapclient.DialInsecure(r.imapAddr, nil)
	defer c.Close()
	c.Login("support", "secret").Wait()
	c.Select("INBOX", nil).Wait()
	res, _ := c.Search(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen}}, nil).Wait()
	if n := len(res.AllSeqNums()); n != 0 {
		t.Fatalf("%d imported messages left unread", n)
	}
}

func TestMailboxFailureIsShownAndOthersGoOn(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	str := func(s string) *string { return &s }
	port := 1 // nothing listens there
	broken, err := r.desk.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str("orders@shop.test"), IMAPHost: str("127.0.0.1"),
		IMAPPort: &port, IMAPSecurity: str("none"), SMTPHost: str("127.0.0.1")})
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("the error shown", func() bool { mb, _ := r.db.Mailbox(ctx, broken.ID); return mb.LastError != "" })
	mb, _ := r.db.Mailbox(ctx, broken.ID)
	if !strings.Contains(mb.LastError, "refused the connection") {
		t.Fatalf("last error %q", mb.LastError)
	}
	appendMail(t, r.imapAddr, "INBOX", "From: f@example.com\nSubject: Still works\nMessage-ID: <f1@example.com>\n\nhello\n")
	r.waitFor("the good mailbox imports", func() bool { return len(r.tickets()) == 1 })

	// Test connection answers in plain words.
	good, _ := r.db.Mailbox(ctx, r.mailbox.ID)
	if err := Test(ctx, good); err != nil {
		t.Fatalf("test of a good mailbox: %v", err)
	}
	wrong := *good
	wrong.IMAPPassword = "nope"
	if err := Test(ctx, &wrong); err == nil || !strings.Contains(err.Error(), "user name or password") {
		t.Fatalf("wrong password: %v", err)
	}
	wrong = *good
	wrong.IMAPFolder = "Nope"
	if err := Test(ctx, &wrong); err == nil || !strings.Contains(err.Error(), `folder "Nope" is missing`) {
		t.Fatalf("missing folder: %v", err)
	}
	wrong = *good
	wrong.IMAPHost = "no-such-host.invalid"
	if err := Test(ctx, &wrong); err == nil || !strings.Contains(err.Error(), "was not found") {
		t.Fatalf("unknown host: %v", err)
	}
}
