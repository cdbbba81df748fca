package mailauth_test

import (
	"context"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/mailauth"
	"onedesk/store"
)

// The consent pages of Google and Microsoft ask for IMAP and SMTP access
// and a refresh token, each in its provider's way, with PKCE and a state.
func TestConsentURL(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := desk.New(db, nil)
	str := func(s string) *string { return &s }
	for _, c := range []struct {
		provider, tenant, path, scope string
		offline                       bool
	}{
		{"google", "", "accounts.google.com/o/oauth2/auth", "https://mail.google.com/", true},
		{"microsoft", "0b1c2d3e-aaaa-bbbb-cccc-123456789abc", "login.microsoftonline.com/0b1c2d3e-aaaa-bbbb-cccc-123456789abc/oauth2/v2.0/authorize",
			"https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send offline_access", false},
		{"microsoft", "", "login.microsoftonline.com/common/oauth2/v2.0/authorize", "", false},
	} {
		mb, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str("help+" + c.provider + c.tenant + "@shop.test"), Auth: str("oauth2"),
			OAuth: &desk.OAuthInput{Provider: &c.provider, ClientID: str("the-app"), ClientSecret: "s", Tenant: &c.tenant}})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := mailauth.Begin(ctx, db, mb, "session", "https://desk.shop.test/oauth/callback")
		if err != nil {
			t.Fatal(err)
		}
		u, _ := url.Parse(raw)
		q := u.Query()
		if u.Scheme != "https" || u.Host+u.Path != c.path {
			t.Errorf("%s: consent page %s", c.provider, raw)
		}
		if c.scope != "" && q.Get("scope") != c.scope {
			t.Errorf("%s: scope %q", c.provider, q.Get("scope"))
		}
		if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) < 43 || len(q.Get("state")) < 40 ||
			q.Get("prompt") != "consent" || q.Get("client_id") != "the-app" || q.Get("response_type") != "code" ||
			q.Get("redirect_uri") != "https://desk.shop.test/oauth/callback" || !strings.HasPrefix(q.Get("login_hint"), "help+") {
			t.Errorf("%s: %s", c.provider, raw)
		}
		if (q.Get("access_type") == "offline") != c.offline {
			t.Errorf("%s: access_type %q", c.provider, q.Get("access_type"))
		}
	}
}
