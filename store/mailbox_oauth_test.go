package store

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestMailboxOAuth: a mailbox's OAuth2 sign-in is kept with its secret
// and tokens sealed; a sign-in under way is taken once; of two refreshes
// the longer-lasting token stays; going back to a password forgets it.
func TestMailboxOAuth(t *testing.T) { ForEachEngine(t, testMailboxOAuth) }

func testMailboxOAuth(t *testing.T) {
	db := OpenTest(t)
	ctx := context.Background()
	mb := &Mailbox{Address: "help@shop.test", IMAPHost: "imap.gmail.com", IMAPPort: 993, IMAPSecurity: "tls", IMAPFolder: "INBOX",
		SMTPHost: "smtp.gmail.com", SMTPPort: 587, SMTPSecurity: "starttls", PollSeconds: 60, AfterImport: "leave", Active: true, CreatedAt: Now()}
	err := db.Write(ctx, func(tx *Tx) error {
		if err := tx.SaveMailbox(ctx, mb); err != nil {
			return err
		}
		return tx.SaveMailboxOAuth(ctx, &MailboxOAuth{MailboxID: mb.ID, Provider: "google", ClientID: "app.apps.googleusercontent.com",
			ClientSecret: "GOCSPX-secret-of-the-app"})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.MailboxOAuth(ctx, mb.ID+1); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a password mailbox: %v", err)
	}

	// A sign-in under way: found by its state's hash, once, with its verifier.
	if err := db.StartMailboxOAuth(ctx, mb.ID, "state-hash", "the-pkce-verifier", "session-hash"); err != nil {
		t.Fatal(err)
	}
	p, err := db.TakeMailboxOAuth(ctx, "state-hash")
	if err != nil || p.MailboxID != mb.ID || p.Verifier != "the-pkce-verifier" || p.Session != "session-hash" || time.Since(p.StartedAt) > time.Minute {
		t.Fatalf("pending sign-in %+v, %v", p, err)
	}
	if _, err := db.TakeMailboxOAuth(ctx, "state-hash"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a state taken twice: %v", err)
	}
	if _, err := db.TakeMailboxOAuth(ctx, ""); !errors.Is(err, ErrNotFound) {
		t.Fatalf("an empty state: %v", err)
	}

	hour := Now().Add(time.Hour)
	if err := db.ConnectMailboxOAuth(ctx, mb.ID, "ya29.access-one", "1//refresh-one", &hour); err != nil {
		t.Fatal(err)
	}
	// Two nodes refresh at once: the token that lasts longer stays, and a
	// rotated refresh token is kept.
	later, sooner := Now().Add(2*time.Hour), Now().Add(90*time.Minute)
	if err := db.RefreshMailboxOAuth(ctx, mb.ID, "ya29.access-two", "1//refresh-two", &later); err != nil {
		t.Fatal(err)
	}
	if err := db.RefreshMailboxOAuth(ctx, mb.ID, "ya29.access-stale", "", &sooner); err != nil {
		t.Fatal(err)
	}
	o, err := db.MailboxOAuth(ctx, mb.ID)
	if err != nil || o.AccessToken != "ya29.access-two" || o.RefreshToken != "1//refresh-two" || !o.TokenExpiry.Equal(later) ||
		o.ClientSecret != "GOCSPX-secret-of-the-app" || !o.Connected() || o.ConnectedAt == nil {
		t.Fatalf("after refreshes: %+v, %v", o, err)
	}
	// A refresh whose access token lasts less still keeps its rotated
	// refresh token: the provider may take no other now.
	if err := db.RefreshMailboxOAuth(ctx, mb.ID, "ya29.access-three", "1//refresh-three", &sooner); err != nil {
		t.Fatal(err)
	}
	if o, err = db.MailboxOAuth(ctx, mb.ID); err != nil || o.AccessToken != "ya29.access-two" || o.RefreshToken != "1//refresh-three" {
		t.Fatalf("a rotated refresh token dropped: %+v, %v", o, err)
	}

	// Sealed at rest: no secret is in the row as it is.
	var raw string
	if err := db.rq.QueryRowContext(ctx, `SELECT client_secret || access_token || refresh_token || pending_verifier FROM mailbox_oauth`).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"GOCSPX", "ya29", "1//refresh", "pkce"} {
		if strings.Contains(raw, secret) {
			t.Fatalf("%q is stored readable", secret)
		}
	}

	if err := db.SetMailboxOAuthGrantError(ctx, mb.ID, "revoked", ""); err != nil {
		t.Fatal(err)
	}
	if o, _ = db.MailboxOAuth(ctx, mb.ID); o.Connected() || o.GrantError != "revoked" {
		t.Fatalf("a revoked grant: %+v", o)
	}
	if all, err := db.MailboxOAuths(ctx); err != nil || len(all) != 1 || all[mb.ID] == nil {
		t.Fatalf("all: %v, %v", all, err)
	}
	if err := db.Write(ctx, func(tx *Tx) error { return tx.DeleteMailboxOAuth(ctx, mb.ID) }); err != nil {
		t.Fatal(err)
	}
	if _, err := db.MailboxOAuth(ctx, mb.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("back to a password: %v", err)
	}
}

// A key rotation seals a mailbox's OAuth2 secret and tokens again: the
// desk reads them with the new key alone.
func TestRotateKeyMailboxOAuth(t *testing.T) {
	ctx := context.Background()
	path := keyFileDesk(t)
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	mbs, err := db.Mailboxes(ctx)
	if err != nil || len(mbs) == 0 {
		t.Fatalf("mailboxes %v, %v", mbs, err)
	}
	id := mbs[0].ID
	hour := Now().Add(time.Hour)
	err = db.Write(ctx, func(tx *Tx) error {
		return tx.SaveMailboxOAuth(ctx, &MailboxOAuth{MailboxID: id, Provider: "microsoft", ClientID: "app", ClientSecret: "entra-secret"})
	})
	if err == nil {
		err = db.ConnectMailboxOAuth(ctx, id, "eyJ.access", "M.refresh", &hour)
	}
	if err == nil {
		err = db.StartMailboxOAuth(ctx, id, "state", "verifier-of-pkce", "session")
	}
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	rot, err := RotateSecretKey(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if rot.Sealed != len(testSecrets)+4 { // every kind of secret, and these four
		t.Fatalf("rotation sealed %d values", rot.Sealed)
	}
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	o, err := db.MailboxOAuth(ctx, id)
	if err != nil || o.ClientSecret != "entra-secret" || o.AccessToken != "eyJ.access" || o.RefreshToken != "M.refresh" {
		t.Fatalf("after the rotation: %+v, %v", o, err)
	}
	if p, err := db.TakeMailboxOAuth(ctx, "state"); err != nil || p.Verifier != "verifier-of-pkce" {
		t.Fatalf("the sign-in under way after the rotation: %+v, %v", p, err)
	}
}
