package ui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedesk/channels/email"
	"onedesk/mailauth/oauthtest"
	"onedesk/ui"
)

// mailboxJSON is a mailbox as GET /api/mailboxes lists it, the OAuth2
// part of it.
type mailboxJSON struct {
	ID        int64
	Address   string
	LastError string `json:"last_error"`
	Auth      string
	OAuth     *struct {
		Provider  string
		ClientID  string `json:"client_id"`
		HasSecret bool   `json:"has_client_secret"`
		Connected bool
		Reconnect bool
		Error     string `json:"grant_error"`
	}
}

func (c *client) mailbox(t *testing.T, id int64) (mailboxJSON, string) {
	t.Helper()
	var list struct {
		Mailboxes   []mailboxJSON
		RedirectURL string `json:"oauth_redirect_url"`
	}
	c.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
	for _, m := range list.Mailboxes {
		if m.ID == id {
			return m, list.RedirectURL
		}
	}
	t.Fatalf("mailbox %d not listed", id)
	return mailboxJSON{}, ""
}

// follow opens url in c's browser, following redirects, and answers the
// last status and where it ended.
func (c *client) follow(t *testing.T, url string) (int, string) {
	t.Helper()
	res, err := c.http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	io.Copy(io.Discard, res.Body)
	return res.StatusCode, res.Request.URL.String()
}

// TestMailboxOAuth: an admin connects a mailbox to its provider through
// the consent page and the callback; mail is fetched and a reply sent
// with the token; the token expires and refreshes itself (rotated, and
// kept); a revoked grant is a clear error in the app and /healthz with
// Reconnect, and Reconnect mends it. A callback whose state is not the
// session's is refused. The provider, the IMAP and the SMTP server are
// real ones on loopback that take nothing but a live token.
func TestMailboxOAuth(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := email.New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ch.Backoff, ch.MaxBackoff = 50*time.Millisecond, 200*time.Millisecond
	go ch.Run(ctx)

	prov := oauthtest.New(t)
	prov.SetExpiry(9 * time.Second) // every use finds the token expired (oauth2 allows 10 s of slack); the servers take it for 9 s, on a busy machine too
	prov.SetRotate(true)            // and each refresh gives a new refresh token, the old one dead
	imapSrv, smtpSrv := prov.IMAP(t), prov.SMTP(t)
	hostPort := func(addr string) (string, int) {
		h, p, _ := net.SplitHostPort(addr)
		n, _ := strconv.Atoi(p)
		return h, n
	}
	ih, ip := hostPort(imapSrv.Addr)
	sh, sp := hostPort(smtpSrv.Addr)

	admin := e.admin()
	var created struct{ ID int64 }
	admin.must(201, "POST", "/api/mailboxes", map[string]any{
		"address": prov.User, "name": "Shop", "imap_host": ih, "imap_port": ip, "imap_security": "none",
		"smtp_host": sh, "smtp_port": sp, "smtp_security": "none", "poll_seconds": 5,
		"auth": "oauth2", "oauth_provider": "custom", "oauth_client_id": prov.ClientID, "oauth_client_secret": prov.ClientSecret,
		"oauth_auth_url": prov.URL + "/authorize", "oauth_token_url": prov.URL + "/token", "oauth_scopes": "mail offline_access",
	}).json(t, &created)
	m, redirect := admin.mailbox(t, created.ID)
	if m.Auth != "oauth2" || m.OAuth == nil || m.OAuth.Connected || !m.OAuth.HasSecret || m.OAuth.ClientID != prov.ClientID {
		t.Fatalf("a new OAuth2 mailbox: %+v %+v", m, m.OAuth)
	}
	if redirect != e.srv.URL+"/oauth/callback" {
		t.Fatalf("redirect URL %q", redirect)
	}
	if raw := admin.must(200, "GET", "/api/mailboxes", nil).body; strings.Contains(string(raw), prov.ClientSecret) {
		t.Fatal("the client secret left the server")
	}
	waitFor(t, "the mailbox says it is not connected", func() bool {
		m, _ := admin.mailbox(t, created.ID)
		return strings.Contains(m.LastError, "Connect")
	})

	connect := func(c *client) string {
		var start struct{ URL string }
		c.must(200, "POST", fmt.Sprintf("/api/mailboxes/%d/connect", created.ID), nil).json(t, &start)
		if !strings.HasPrefix(start.URL, prov.URL+"/authorize?") || !strings.Contains(start.URL, "code_challenge_method=S256") ||
			!strings.Contains(start.URL, "prompt=consent") {
			t.Fatalf("consent page %q", start.URL)
		}
		return start.URL
	}

	// A callback with a state this session never started, and a sign-in
	// started by one browser and finished in another, are refused.
	r := admin.do("GET", "/oauth/callback?state=forged&code=whatever", nil)
	if msg, field := r.err(t); r.status != 400 || field != "state" {
		t.Fatalf("forged state: %d %s %s", r.status, msg, field)
	}
	other := e.login("owner@shop.test", "correct horse")
	if status, _ := other.follow(t, connect(admin)); status != 400 {
		t.Fatalf("a sign-in finished in another session: status %d", status)
	}
	if n, _ := prov.Counts(); n != 0 {
		t.Fatalf("%d codes exchanged for refused callbacks", n)
	}

	// The admin declines on the consent page: the card says so.
	prov.SetDeny("access_denied")
	if status, _ := admin.follow(t, connect(admin)); status != 200 {
		t.Fatalf("declined: status %d", status)
	}
	if m, _ = admin.mailbox(t, created.ID); !m.OAuth.Reconnect || !strings.Contains(m.OAuth.Error, "access_denied") {
		t.Fatalf("declined: %+v", m.OAuth)
	}
	prov.SetDeny("")

	// The admin consents: back on the mailboxes page, connected.
	status, landed := admin.follow(t, connect(admin))
	if status != 200 || !strings.HasSuffix(landed, "/#/admin/mailboxes") {
		t.Fatalf("after consent: %d at %s", status, landed)
	}
	if n, _ := prov.Counts(); n != 1 {
		t.Fatalf("%d codes exchanged", n)
	}
	if m, _ = admin.mailbox(t, created.ID); !m.OAuth.Connected || m.OAuth.Reconnect {
		t.Fatalf("after consent: %+v", m.OAuth)
	}
	var tested struct {
		OK    bool
		Error string
	}
	admin.must(200, "POST", fmt.Sprintf("/api/mailboxes/%d/test", created.ID), nil).json(t, &tested)
	if !tested.OK {
		t.Fatalf("Test connection with the token: %s", tested.Error)
	}
	// A Reconnect abandoned half way leaves the working grant alone.
	prov.SetDeny("access_denied")
	admin.follow(t, connect(admin))
	prov.SetDeny("")
	if m, _ = admin.mailbox(t, created.ID); !m.OAuth.Connected || m.OAuth.Reconnect {
		t.Fatalf("after an abandoned Reconnect: %+v", m.OAuth)
	}

	// Mail comes in with the token, and a reply leaves with it. A new
	// mailbox reads as new only what arrives after its first connect sets
	// the cursor at the folder's end: on a busy machine that connect may
	// come after the consent, so mail delivered before it would be the
	// past (not imported) and never arrive.
	waitFor(t, "the poller's first connect", func() bool {
		mb, err := e.db.Mailbox(ctx, created.ID)
		return err == nil && mb.UIDValidity != 0
	})
	imapSrv.Deliver(t, "From: Carla <carla@example.com>\nTo: support@shop.test\nSubject: Where is my parcel?\nMessage-ID: <c1@example.com>\n\nIt has not come.\n")
	var ticket int64
	waitFor(t, "the mail fetched with the token", func() bool {
		var list struct{ Tickets []ticketJSON }
		admin.must(200, "GET", "/api/tickets", nil).json(t, &list)
		for _, tk := range list.Tickets {
			if tk.Subject == "Where is my parcel?" {
				ticket = tk.ID
			}
		}
		return ticket != 0
	})
	reply := func(body string) int64 {
		var msg struct{ ID int64 }
		admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", ticket), map[string]any{"body": body}).json(t, &msg)
		return msg.ID
	}
	reply("It left our warehouse today.")
	waitFor(t, "the reply sent with the token", func() bool {
		got := smtpSrv.Messages()
		return len(got) == 1 && strings.Contains(got[0], "It left our warehouse today.")
	})
	if _, refreshes := prov.Counts(); refreshes < 2 {
		t.Fatalf("%d refreshes: the IMAP and SMTP logins should each have refreshed the expired token", refreshes)
	}

	// The account owner revokes the app's access: the next use of the
	// grant fails, and the app and /healthz say so, with Reconnect.
	prov.Revoke()
	reply("A second answer.")
	waitFor(t, "the revoked grant shown on the mailbox", func() bool {
		m, _ = admin.mailbox(t, created.ID)
		return m.OAuth.Reconnect && !m.OAuth.Connected
	})
	if !strings.Contains(m.OAuth.Error, "Reconnect") || !strings.Contains(m.OAuth.Error, "invalid_grant") {
		t.Fatalf("grant error %q", m.OAuth.Error)
	}
	admin.lang = "pt"
	if pt, _ := admin.mailbox(t, created.ID); pt.OAuth.Error == m.OAuth.Error {
		t.Fatalf("the grant error is not said in Portuguese: %q", pt.OAuth.Error)
	}
	admin.lang = ""
	var health struct {
		Mailboxes []struct {
			ID        int64
			Status    string
			Error     string
			Reconnect bool
		}
	}
	e.client().must(200, "GET", "/healthz", nil).json(t, &health)
	if len(health.Mailboxes) != 1 || !health.Mailboxes[0].Reconnect || health.Mailboxes[0].Status == "ok" ||
		!strings.Contains(health.Mailboxes[0].Error, "Reconnect") {
		t.Fatalf("/healthz: %+v", health.Mailboxes)
	}
	// The poller, started again, says the same rather than trying.
	admin.must(200, "PATCH", fmt.Sprintf("/api/mailboxes/%d", created.ID), map[string]any{"poll_seconds": 6})
	waitFor(t, "the poll error asks for Reconnect", func() bool {
		m, _ := admin.mailbox(t, created.ID)
		return strings.Contains(m.LastError, "Reconnect")
	})
	if got := smtpSrv.Messages(); len(got) != 1 {
		t.Fatalf("%d messages sent with a revoked grant", len(got))
	}

	// Reconnect mends it: the held reply leaves at once, new mail comes in.
	prov.Revoke() // nothing left from before
	if status, _ := admin.follow(t, connect(admin)); status != 200 {
		t.Fatalf("reconnect: status %d", status)
	}
	if m, _ = admin.mailbox(t, created.ID); !m.OAuth.Connected || m.OAuth.Reconnect {
		t.Fatalf("after Reconnect: %+v", m.OAuth)
	}
	waitFor(t, "the held reply sent after Reconnect", func() bool { return len(smtpSrv.Messages()) == 2 })
	imapSrv.Deliver(t, "From: Carla <carla@example.com>\nTo: support@shop.test\nSubject: Re: Where is my parcel?\nMessage-ID: <c2@example.com>\nIn-Reply-To: <c1@example.com>\nReferences: <c1@example.com>\n\nThanks!\n")
	waitFor(t, "mail fetched again after Reconnect", func() bool {
		var tk ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", ticket), nil).json(t, &tk)
		return len(tk.Messages) >= 4
	})
	waitFor(t, "the mailbox works again", func() bool {
		m, _ := admin.mailbox(t, created.ID)
		return m.LastError == ""
	})
}
