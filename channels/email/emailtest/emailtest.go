// Package emailtest gives other channels' tests a real SMTP server on
// 127.0.0.1 and a store mailbox that sends through it, for replies that go
// out by email (chat visitors who left, form confirmations).
package emailtest

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"onedesk/channels/email"
	"onedesk/desk"
)

// Sink is an SMTP server that keeps every message it receives.
type Sink struct {
	mu  sync.Mutex
	got []string
}

// Messages are the raw messages received so far.
func (s *Sink) Messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

// Mailbox installs the email channel in d, starts a Sink, and gives the
// store a mailbox (address, name) whose SMTP server is the sink.
func Mailbox(t testing.TB, d *desk.Desk, storeID int64, address, name string) *Sink {
	t.Helper()
	email.New(d, slog.New(slog.NewTextHandler(io.Discard, nil)))
	sink, addr := SMTP(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	str := func(s string) *string { return &s }
	if _, err := d.SaveMailbox(context.Background(), 0, desk.MailboxInput{Address: str(address), Name: str(name),
		StoreID: desk.Optional[int64]{Set: true, Value: &storeID}, IMAPHost: str("127.0.0.1"), SMTPHost: str(host),
		SMTPPort: &port, SMTPSecurity: str("none")}); err != nil {
		t.Fatal(err)
	}
	return sink
}

// SMTP starts a Sink on a free 127.0.0.1 port until t ends and returns
// it with its address.
func SMTP(t testing.TB) (*Sink, string) {
	t.Helper()
	sink := &Sink{}
	srv := smtp.NewServer(sink)
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return sink, ln.Addr().String()
}

// NewSession is go-smtp's hook.
func (s *Sink) NewSession(*smtp.Conn) (smtp.Session, error) { return session{s}, nil }

type session struct{ s *Sink }

func (session) Reset()                               {}
func (session) Logout() error                        { return nil }
func (session) Mail(string, *smtp.MailOptions) error { return nil }
func (session) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	x.s.mu.Lock()
	x.s.got = append(x.s.got, string(b))
	x.s.mu.Unlock()
	return err
}
