package oauthtest

import (
	"bytes"
	"errors"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// bearer reads an XOAUTH2 initial response: user and token.
func bearer(resp []byte) (user, token string, ok bool) {
	for _, part := range strings.Split(string(resp), "\x01") {
		switch {
		case strings.HasPrefix(part, "user="):
			user = part[len("user="):]
		case strings.HasPrefix(part, "auth=Bearer "):
			token = part[len("auth=Bearer "):]
		}
	}
	return user, token, user != "" && token != ""
}

// tokenServer is a SASL server of XOAUTH2 or OAUTHBEARER that lets in
// the account of a live token and calls ok with it.
func (s *Server) tokenServer(mech string, refused error, ok func(user string) error) (sasl.Server, error) {
	check := func(user, token string) error {
		owner, live := s.Valid(token)
		if !live || !strings.EqualFold(owner, user) {
			return refused
		}
		return ok(owner)
	}
	switch mech {
	case "XOAUTH2":
		return &xoauth2Server{check: check}, nil
	case "OAUTHBEARER":
		return sasl.NewOAuthBearerServer(func(o sasl.OAuthBearerOptions) *sasl.OAuthBearerError {
			if check(o.Username, o.Token) != nil {
				return &sasl.OAuthBearerError{Status: "invalid_token", Schemes: "bearer"}
			}
			return nil
		}), nil
	}
	return nil, refused
}

type xoauth2Server struct {
	check func(user, token string) error
	asked bool
}

func (x *xoauth2Server) Next(resp []byte) ([]byte, bool, error) {
	if resp == nil && !x.asked {
		x.asked = true
		return []byte{}, false, nil // no initial response: ask for it
	}
	user, token, ok := bearer(resp)
	if !ok {
		return nil, false, errors.New("malformed XOAUTH2 response")
	}
	if err := x.check(user, token); err != nil {
		return nil, false, err
	}
	return nil, true, nil
}

// IMAP is an IMAP server (go-imap's in-memory one) whose only way in is
// AUTHENTICATE XOAUTH2 or OAUTHBEARER with a live token of the Server's
// account; passwords are refused.
type IMAP struct {
	Addr string
	user *imapmemserver.User
}

const memPassword = "not-used-by-clients"

// IMAP starts the server until t ends, with the account's INBOX empty.
func (s *Server) IMAP(t testing.TB) *IMAP {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser(s.User, memPassword)
	u.Create("INBOX", nil)
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &imapSession{Session: mem.NewSession(), s: s}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}, imap.Cap("AUTH=XOAUTH2"): {}, imap.Cap("AUTH=OAUTHBEARER"): {}},
		InsecureAuth: true,
		Logger:       log.New(io.Discard, "", 0),
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return &IMAP{Addr: ln.Addr().String(), user: u}
}

// Deliver puts a message in the account's INBOX, as a mail server would.
func (m *IMAP) Deliver(t testing.TB, raw string) {
	t.Helper()
	raw = strings.ReplaceAll(strings.ReplaceAll(raw, "\r\n", "\n"), "\n", "\r\n")
	sess := imapmemserver.NewUserSession(m.user)
	defer sess.Close()
	if _, err := sess.Append("INBOX", literal{bytes.NewReader([]byte(raw)), int64(len(raw))}, &imap.AppendOptions{}); err != nil {
		t.Fatal(err)
	}
}

type literal struct {
	io.Reader
	size int64
}

func (l literal) Size() int64 { return l.size }

type imapSession struct {
	imapserver.Session
	s *Server
}

var refusedIMAP = &imap.Error{Type: imap.StatusResponseTypeNo, Code: imap.ResponseCodeAuthenticationFailed, Text: "invalid token"}

func (x *imapSession) Login(string, string) error { return imapserver.ErrAuthFailed }

func (x *imapSession) AuthenticateMechanisms() []string { return []string{"XOAUTH2", "OAUTHBEARER"} }

func (x *imapSession) Authenticate(mech string) (sasl.Server, error) {
	return x.s.tokenServer(mech, refusedIMAP, func(user string) error { return x.Session.Login(user, memPassword) })
}

// Namespace keeps the memory server's NAMESPACE (IMAP4rev2 has it).
func (x *imapSession) Namespace() (*imap.NamespaceData, error) {
	return x.Session.(imapserver.SessionNamespace).Namespace()
}

// Move keeps the memory server's MOVE.
func (x *imapSession) Move(w *imapserver.MoveWriter, numSet imap.NumSet, dest string) error {
	return x.Session.(imapserver.SessionMove).Move(w, numSet, dest)
}

// SMTP is an SMTP server that takes mail only after AUTH XOAUTH2 (or
// OAUTHBEARER) with a live token, and keeps what it takes.
type SMTP struct {
	Addr string
	mu   sync.Mutex
	got  []string
}

// Messages are the raw messages received so far.
func (m *SMTP) Messages() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.got...)
}

// SMTP starts the server until t ends.
func (s *Server) SMTP(t testing.TB) *SMTP {
	t.Helper()
	m := &SMTP{}
	srv := smtp.NewServer(smtpBackend{s, m})
	srv.Domain, srv.AllowInsecureAuth = "localhost", true
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	m.Addr = ln.Addr().String()
	return m
}

type smtpBackend struct {
	s *Server
	m *SMTP
}

func (b smtpBackend) NewSession(*smtp.Conn) (smtp.Session, error) { return &smtpSession{b: b}, nil }

type smtpSession struct {
	b    smtpBackend
	user string
}

func (x *smtpSession) AuthMechanisms() []string { return []string{"XOAUTH2", "OAUTHBEARER"} }

func (x *smtpSession) Auth(mech string) (sasl.Server, error) {
	return x.b.s.tokenServer(mech, smtp.ErrAuthFailed, func(user string) error { x.user = user; return nil })
}

func (x *smtpSession) Mail(string, *smtp.MailOptions) error {
	if x.user == "" {
		return smtp.ErrAuthRequired
	}
	return nil
}
func (x *smtpSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	x.b.m.mu.Lock()
	x.b.m.got = append(x.b.m.got, string(b))
	x.b.m.mu.Unlock()
	return err
}
func (x *smtpSession) Reset()        {}
func (x *smtpSession) Logout() error { return nil }
