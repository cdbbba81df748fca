package desk_test

import (
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/netguard"
	"onedesk/store"
)

// A mailbox's OAuth2 app is checked when saved: the fields at fault are
// named, a custom provider's token URL inside the desk's network is
// refused, Google's servers are filled in, another app forgets the old
// tokens, and going back to a password forgets the sign-in.
func TestMailboxOAuthSettings(t *testing.T) {
	d, db := newDesk(t)
	was := netguard.AllowPrivateNetworks(false)
	defer netguard.AllowPrivateNetworks(was)
	oauth2 := text("oauth2")
	custom := func(authURL, tokenURL string) *desk.OAuthInput {
		return &desk.OAuthInput{Provider: text("custom"), ClientID: text("app"), AuthURL: text(authURL), TokenURL: text(tokenURL)}
	}
	for _, c := range []struct {
		in    desk.MailboxInput
		field string
	}{
		{desk.MailboxInput{Auth: text("kerberos")}, "auth"},
		{desk.MailboxInput{Auth: oauth2, OAuth: &desk.OAuthInput{Provider: text("google")}}, "oauth_client_id"},
		{desk.MailboxInput{Auth: oauth2, OAuth: &desk.OAuthInput{Provider: text("yahoo"), ClientID: text("app")}}, "oauth_provider"},
		{desk.MailboxInput{Auth: oauth2, OAuth: &desk.OAuthInput{Provider: text("microsoft"), ClientID: text("app"), Tenant: text("../common")}}, "oauth_tenant"},
		{desk.MailboxInput{Auth: oauth2, OAuth: custom("not a url", "https://idp.example.com/token")}, "oauth_auth_url"},
		{desk.MailboxInput{Auth: oauth2, OAuth: custom("https://idp.example.com/auth", "ftp://idp.example.com/token")}, "oauth_token_url"},
		{desk.MailboxInput{Auth: oauth2, OAuth: custom("https://idp.example.com/auth", "http://169.254.169.254/token")}, "oauth_token_url"},
		{desk.MailboxInput{Auth: oauth2, OAuth: custom("https://idp.example.com/auth", "http://10.0.0.5/token")}, "oauth_token_url"},
	} {
		c.in.Address = text("help@shop.test")
		c.in.IMAPHost, c.in.SMTPHost = text("imap.shop.test"), text("smtp.shop.test")
		if _, err := d.SaveMailbox(ctx, 0, c.in); fieldOf(err) != c.field {
			t.Errorf("%+v: %v, want refused in %s", c.in.OAuth, err, c.field)
		}
	}

	mb, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: text("help@shop.test"), Auth: oauth2,
		OAuth: &desk.OAuthInput{Provider: text("google"), ClientID: text("one.apps.googleusercontent.com"), ClientSecret: "s1"}})
	if err != nil {
		t.Fatal(err)
	}
	if mb.IMAPHost != "imap.gmail.com" || mb.SMTPHost != "smtp.gmail.com" || mb.SMTPPort != 587 {
		t.Fatalf("Google's servers not filled in: %+v", mb)
	}
	hour := store.Now().Add(time.Hour)
	if err := db.ConnectMailboxOAuth(ctx, mb.ID, "access", "refresh", &hour); err != nil {
		t.Fatal(err)
	}
	// Saving other settings keeps the grant; the secret stays when not given.
	if _, err := d.SaveMailbox(ctx, mb.ID, desk.MailboxInput{PollSeconds: new(30)}); err != nil {
		t.Fatal(err)
	}
	if o, _ := db.MailboxOAuth(ctx, mb.ID); !o.Connected() || o.ClientSecret != "s1" {
		t.Fatalf("after saving other settings: %+v", o)
	}
	// Another app: the old tokens were not granted to it.
	if _, err := d.SaveMailbox(ctx, mb.ID, desk.MailboxInput{OAuth: &desk.OAuthInput{ClientID: text("two.apps.googleusercontent.com")}}); err != nil {
		t.Fatal(err)
	}
	if o, _ := db.MailboxOAuth(ctx, mb.ID); o.Connected() || o.RefreshToken != "" || o.ClientID != "two.apps.googleusercontent.com" {
		t.Fatalf("after another client id: %+v", o)
	}
	if _, err := d.SaveMailbox(ctx, mb.ID, desk.MailboxInput{Auth: text("password")}); err != nil {
		t.Fatal(err)
	}
	if o, err := db.MailboxOAuth(ctx, mb.ID); err == nil {
		t.Fatalf("back to a password, the sign-in stayed: %+v", o)
	}
}
