package ui_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/ui"
)

// resetMail is a password reset mail as its reader sees it.
type resetMail struct {
	From, To, Subject, Text, Link, Token string
}

var resetLinkRE = regexp.MustCompile(`(http://[^\s]+/#/reset/)([A-Za-z0-9_-]+)`)

// waitResetMail waits for the sink's n-th mail (from 1) and reads it.
func waitResetMail(t *testing.T, sink *emailtest.Sink, n int) resetMail {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for len(sink.Messages()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("no mail %d after 30 s (%d so far)", n, len(sink.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	raw := sink.Messages()[n-1]
	m, err := mail.ReadMessage(strings.NewReader(raw))
	if err != nil {
		t.Fatalf("read mail: %v\n%s", err, raw)
	}
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(m.Body)
	}
	text, _ := io.ReadAll(body)
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	got := resetMail{From: m.Header.Get("From"), To: m.Header.Get("To"), Subject: subject, Text: string(text)}
	if l := resetLinkRE.FindStringSubmatch(got.Text); l != nil {
		got.Link, got.Token = l[0], l[2]
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted: %q", m.Header.Get("Auto-Submitted"))
	}
	return got
}

func TestPasswordResetByEmail(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"})
	anon := e.client()
	// No mail server yet: said plainly, whoever asks.
	if msg, _ := anon.must(503, "POST", "/api/auth/password-reset", map[string]string{"email": "nobody@shop.test"}).err(t); !strings.Contains(msg, "cannot send mail") {
		t.Fatalf("no mail server: %s", msg)
	}
	sink := emailtest.Mailbox(t, e.desk, 1, "help@shoes.test", "Shoe Shop")
	ann, annID := e.teammate(admin, "ann@shop.test", "Ann")
	admin.must(200, "PATCH", fmt.Sprint("/api/agents/", annID), map[string]string{"language": "pt"})
	annAPI := ann.apiClient()
	sock := ann.socket(t.Context())

	// The same answer for an address with no agent; only Ann gets mail.
	stranger := anon.must(202, "POST", "/api/auth/password-reset", map[string]string{"email": "nobody@shop.test"})
	first := anon.must(202, "POST", "/api/auth/password-reset", map[string]string{"email": "Ann@shop.test"})
	if string(stranger.body) != string(first.body) {
		t.Fatalf("answers differ: %s / %s", stranger.body, first.body)
	}
	m1 := waitResetMail(t, sink, 1)
	if m1.Token == "" || !strings.HasPrefix(m1.Link, e.srv.URL+"/#/reset/") {
		t.Fatalf("no link in the mail:\n%s", m1.Text)
	}
	// In Ann's language, from the catalogs.
	if want := i18n.Server().Sprintf("pt", "Reset your onedesk password"); m1.Subject != want || want == "Reset your onedesk password" {
		t.Fatalf("subject %q, want %q", m1.Subject, want)
	}
	if !strings.Contains(m1.To, "ann@shop.test") || !strings.Contains(m1.From, "help@shoes.test") {
		t.Fatalf("from %q to %q", m1.From, m1.To)
	}

	// Asking again: a new link, and the first stops working.
	anon.must(202, "POST", "/api/auth/password-reset", map[string]string{"email": "ann@shop.test"})
	m2 := waitResetMail(t, sink, 2)
	if m2.Token == m1.Token {
		t.Fatal("the same link twice")
	}
	if msg, field := anon.must(410, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": m1.Token, "password": "a new password"}).err(t); field != "token" || !strings.Contains(msg, "newer one") {
		t.Fatalf("replaced link: %s %s", msg, field)
	}
	// The password rules hold, and a refused password keeps the link.
	if _, field := anon.must(400, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": m2.Token, "password": "short"}).err(t); field != "password" {
		t.Fatalf("short password: field %q", field)
	}
	start := time.Now()
	anon.must(204, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": m2.Token, "password": "a new password"})
	// Every session, socket and token of Ann ended; the new password works.
	endedIn(t, sock, "password reset", start)
	ann.must(401, "GET", "/api/me", nil)
	annAPI.must(401, "GET", "/api/me", nil)
	ann = e.login("ann@shop.test", "a new password")
	anon.must(401, "POST", "/api/auth/login", map[string]string{"email": "ann@shop.test", "password": "12345678"})
	// A link works once.
	if msg, _ := anon.must(410, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": m2.Token, "password": "another password"}).err(t); !strings.Contains(msg, "used already") {
		t.Fatalf("reused link: %s", msg)
	}
	// An hour later a link has expired.
	if err := e.db.InsertPasswordReset(context.Background(), desk.HashToken("an-old-link"), annID, time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if msg, _ := anon.must(410, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": "an-old-link", "password": "another password"}).err(t); !strings.Contains(msg, "expired") {
		t.Fatalf("expired link: %s", msg)
	}
	if msg, _ := anon.must(410, "POST", "/api/auth/password-reset/confirm", map[string]string{"token": "made-up", "password": "another password"}).err(t); !strings.Contains(msg, "not valid") {
		t.Fatalf("unknown link: %s", msg)
	}
	// Three mails an hour to one address.
	anon.must(202, "POST", "/api/auth/password-reset", map[string]string{"email": "ann@shop.test"})
	waitResetMail(t, sink, 3)
	anon.must(429, "POST", "/api/auth/password-reset", map[string]string{"email": "ann@shop.test"})

	// The system mail settings, when given, send instead of the mailbox;
	// the password is write-only and sealed at rest.
	sys, addr := emailtest.SMTP(t)
	host, portText, _ := net.SplitHostPort(addr)
	port, _ := strconv.Atoi(portText)
	var sm struct {
		Host        string
		From        string
		Password    string
		PasswordSet bool `json:"password_set"`
	}
	admin.must(200, "PUT", "/api/settings/system-mail", map[string]any{"host": host, "port": port, "security": "none",
		"from": "desk@shop.test", "from_name": "Shop desk", "password": "smtp-secret-1"}).json(t, &sm)
	if sm.Host != host || sm.Password != "" || !sm.PasswordSet {
		t.Fatalf("system mail: %+v", sm)
	}
	if raw, _ := e.db.Setting(context.Background(), "system_mail"); strings.Contains(raw, "smtp-secret-1") || raw == "" {
		t.Fatalf("system mail password kept readable: %s", raw)
	}
	if _, field := admin.must(400, "PUT", "/api/settings/system-mail", map[string]any{"host": host, "from": "not an address"}).err(t); field != "from" {
		t.Fatalf("bad from: field %q", field)
	}
	ann.must(403, "GET", "/api/settings/system-mail", nil)
	admin.must(202, "POST", "/api/auth/password-reset", map[string]string{"email": "owner@shop.test"})
	m := waitResetMail(t, sys, 1)
	if !strings.Contains(m.From, "desk@shop.test") || m.Token == "" || m.Subject != "Reset your onedesk password" {
		t.Fatalf("system mail: from %q subject %q\n%s", m.From, m.Subject, m.Text)
	}
	if n := len(sink.Messages()); n != 3 {
		t.Fatalf("the mailbox sent %d mails, want 3", n)
	}
}
