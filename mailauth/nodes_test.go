package mailauth_test

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/mailauth"
	"onedesk/mailauth/oauthtest"
	"onedesk/netguard"
	"onedesk/store"
)

// TestTwoNodesRefreshARotatingToken: two nodes (two Tokens on one
// store) refresh a mailbox's token at once at a provider that rotates
// refresh tokens and ends the old one. The node that loses the race is
// refused the token it read; it finds its successor in the store and
// refreshes with that, rather than declaring the grant gone.
func TestTwoNodesRefreshARotatingToken(t *testing.T) {
	was := netguard.AllowPrivateNetworks(true) // the provider is on loopback
	t.Cleanup(func() { netguard.AllowPrivateNetworks(was) })
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	d := desk.New(db, nil)
	prov := oauthtest.New(t)
	prov.SetExpiry(5 * time.Second) // expired to oauth2 at every use: each Token refreshes
	prov.SetRotate(true)
	str := func(s string) *string { return &s }
	port := 993
	mb, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str(prov.User), Auth: str("oauth2"), IMAPHost: str("imap.shop.test"), IMAPPort: &port,
		SMTPHost: str("smtp.shop.test"), SMTPPort: &port,
		OAuth: &desk.OAuthInput{Provider: str("custom"), ClientID: &prov.ClientID, ClientSecret: prov.ClientSecret,
			AuthURL: str(prov.URL + "/authorize"), TokenURL: str(prov.URL + "/token")}})
	if err != nil {
		t.Fatal(err)
	}
	const redirect, session = "https://desk.shop.test/oauth/callback", "the admin's session"
	consent, err := mailauth.Begin(ctx, db, mb, session, redirect)
	if err != nil {
		t.Fatal(err)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(consent)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	back, _ := url.Parse(res.Header.Get("Location"))
	if _, err := mailauth.Finish(ctx, db, back.Query().Get("state"), back.Query().Get("code"), session, redirect); err != nil {
		t.Fatal(err)
	}

	nodeA, nodeB := mailauth.NewTokens(db), mailauth.NewTokens(db)
	var aTok string
	var aErr error
	// B has read the refresh token and asks the provider; before its
	// request is answered, A refreshes with the same token and wins.
	prov.BeforeNextRefresh(func() { aTok, aErr = nodeA.Token(ctx, mb.ID, "") })
	bTok, err := nodeB.Token(ctx, mb.ID, "")
	if aErr != nil || aTok == "" {
		t.Fatalf("node A: %q, %v", aTok, aErr)
	}
	if err != nil || bTok == "" || bTok == aTok {
		t.Fatalf("node B, which lost the race: %q, %v", bTok, err)
	}
	o, err := db.MailboxOAuth(ctx, mb.ID)
	// The access token kept is the one that lasts longest (on loopback
	// they may all end in the same millisecond): all are live.
	if err != nil || o.GrantError != "" || o.AccessToken == "" {
		t.Fatalf("after the race: grant error %q, access %q, %v", o.GrantError, o.AccessToken, err)
	}
	if _, refreshes := prov.Counts(); refreshes != 2 {
		t.Fatalf("%d refreshes granted: A's and B's retry with the successor", refreshes)
	}
	// And the kept refresh token is the live one.
	if tok, err := nodeA.Token(ctx, mb.ID, ""); err != nil || tok == "" {
		t.Fatalf("a later refresh: %q, %v", tok, err)
	}
}
