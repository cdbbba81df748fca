//go:build !windows

package email

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/mailauth"
	"onedesk/mailauth/oauthtest"
	"onedesk/store"
)

// dovecotOAuth2 is the configuration that makes Dovecot take XOAUTH2 and
// OAUTHBEARER, checking each token at the provider's introspection
// endpoint (its oauth2 passdb, beside the password one).
func dovecotOAuth2(t testing.TB, prov *oauthtest.Server) []string {
	t.Helper()
	// Not t.TempDir: Dovecot runs as nobody and reads this file.
	dir, err := os.MkdirTemp("", "onedesk-dovecot-oauth2-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	conf := filepath.Join(dir, "oauth2.conf.ext")
	os.WriteFile(conf, []byte("introspection_mode = post\nintrospection_url = "+prov.URL+"/introspect\n"+
		"force_introspection = yes\nusername_attribute = username\nactive_attribute = active\nactive_value = true\n"), 0o644)
	return []string{
		"auth_mechanisms = plain login xoauth2 oauthbearer",
		"passdb {\n  driver = oauth2\n  mechanisms = xoauth2 oauthbearer\n  args = " + conf + "\n}\n",
	}
}

// connectOAuth signs mailbox mb in at prov as an admin's browser would:
// the consent page answers with a code for the callback, which Finish
// exchanges.
func connectOAuth(t *testing.T, r *rig, prov *oauthtest.Server, mb *store.Mailbox) {
	t.Helper()
	ctx := context.Background()
	const redirect, session = "https://desk.shop.test/oauth/callback", "the admin's session"
	consent, err := mailauth.Begin(ctx, r.db, mb, session, redirect)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(consent)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, err := url.Parse(res.Header.Get("Location"))
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("consent answered %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	if _, err := mailauth.Finish(ctx, r.db, back.Query().Get("state"), back.Query().Get("code"), session, redirect); err != nil {
		t.Fatal(err)
	}
	r.desk.MailboxConnected(ctx)
}

// TestDovecotOAuth2: against Dovecot's oauth2 passdb, a mailbox signs in
// with AUTHENTICATE XOAUTH2 and its token, refreshed when it expires;
// mail is fetched, a reply leaves by SMTP with XOAUTH2. A token Dovecot
// refuses (wrong user) and a revoked grant become the mailbox's error,
// asking for Reconnect, and Reconnect mends it.
func TestDovecotOAuth2(t *testing.T) {
	prov := oauthtest.New(t)
	prov.User = "support"           // Dovecot's account
	prov.SetExpiry(9 * time.Second) // each use refreshes (oauth2 counts < 10 s left as expired); Dovecot takes it for 9 s, on a busy machine too
	addr := dovecot(t, dovecotOAuth2(t, prov)...)
	smtpSrv := prov.SMTP(t)
	sh, sp, _ := net.SplitHostPort(smtpSrv.Addr)
	smtpPort, _ := strconv.Atoi(sp)
	r := newRigAt(t, addr, "support", "not the password")
	ctx := context.Background()
	str := func(s string) *string { return &s }
	mb, err := r.desk.SaveMailbox(ctx, r.mailbox.ID, desk.MailboxInput{Auth: str("oauth2"), IMAPUsername: str("support"),
		SMTPHost: str(sh), SMTPPort: &smtpPort, SMTPUsername: str("support"),
		OAuth: &desk.OAuthInput{Provider: str("custom"), ClientID: &prov.ClientID, ClientSecret: prov.ClientSecret,
			AuthURL: str(prov.URL + "/authorize"), TokenURL: str(prov.URL + "/token")}})
	if err != nil {
		t.Fatal(err)
	}
	lastError := func() string { m, _ := r.db.Mailbox(ctx, mb.ID); return m.LastError }
	r.waitFor("not connected yet", func() bool { return strings.Contains(lastError(), "Connect") })

	connectOAuth(t, r, prov, mb)
	appendMail(t, addr, "INBOX", "From: Petr <petr@example.cz>\nSubject: Reklamace\nMessage-ID: <p1@example.cz>\n\nDobry den.\n")
	r.waitFor("mail fetched over XOAUTH2", func() bool { return len(r.tickets()) == 1 })
	r.waitFor("the poll's success", func() bool { return lastError() == "" })
	a, err := r.desk.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), r.tickets()[0].ID, desk.ReplyInput{Body: "Posíláme novou."})
	if err != nil {
		t.Fatal(err)
	}
	r.waitFor("reply sent with XOAUTH2", func() bool { m, _ := r.db.Message(ctx, reply.ID); return m.Delivery == "sent" })
	if got := smtpSrv.Messages(); len(got) != 1 {
		t.Fatalf("SMTP got %d messages", len(got))
	}
	if _, refreshes := prov.Counts(); refreshes < 2 {
		t.Fatalf("%d refreshes of a token oauth2 counts as expired at each use", refreshes)
	}

	// Dovecot refuses a live token for another account: after a fresh
	// token is refused too, the mailbox asks for Reconnect.
	if _, err := r.desk.SaveMailbox(ctx, mb.ID, desk.MailboxInput{IMAPUsername: str("someone-else")}); err != nil {
		t.Fatal(err)
	}
	r.waitFor("the refusal asks for Reconnect", func() bool {
		return strings.Contains(lastError(), "refused the token") && strings.Contains(lastError(), "Reconnect")
	})
	o, _ := r.db.MailboxOAuth(ctx, mb.ID)
	if o.GrantError == "" {
		t.Fatal("the refused token is not marked on the sign-in")
	}

	// Reconnect with the right user; then the account owner revokes.
	if _, err := r.desk.SaveMailbox(ctx, mb.ID, desk.MailboxInput{IMAPUsername: str("support")}); err != nil {
		t.Fatal(err)
	}
	connectOAuth(t, r, prov, mb)
	r.waitFor("working after Reconnect", func() bool { return lastError() == "" })
	prov.Revoke()
	r.restart()
	r.waitFor("the revoked grant asks for Reconnect", func() bool {
		return strings.Contains(lastError(), "invalid_grant") && strings.Contains(lastError(), "Reconnect")
	})
	tok, err := mailauth.NewTokens(r.db).Token(ctx, mb.ID, "")
	var gone *mailauth.GrantError
	if tok != "" || !errors.As(err, &gone) {
		t.Fatalf("a revoked grant gave %q, %v", tok, err)
	}
}
