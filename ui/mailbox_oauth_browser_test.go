package ui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/mailauth"
	"onedesk/mailauth/oauthtest"
	"onedesk/ui"
)

// TestMailboxOAuthInBrowser: in Settings → Mailboxes an admin picks
// OAuth2 (the password fields give way to the app's, the redirect URL
// to register is shown), adds the mailbox and is sent through the
// provider's consent page and back, connected. A revoked grant shows as
// the mailbox's error with a Reconnect button that mends it; at two
// sizes and in two languages.
func TestMailboxOAuthInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	api := e.admin()
	prov := oauthtest.New(t)
	prov.SetExpiry(9 * time.Second) // each use refreshes it (oauth2 counts < 10 s left as expired); the servers take it for 9 s, on a busy machine too
	loginOwner(t, ctx, e)
	visible := func(name string) string {
		return fmt.Sprintf(`(//form)[last()]//*[@name=%q]`, name)
	}
	set := func(name, value string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`(() => { const f = [...document.querySelectorAll('form')].pop();
			const el = f.elements[%q]; el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); })()`, name, value), nil)
	}
	run(t, ctx, "the add form",
		chromedp.Navigate(e.srv.URL+"/?lang=en#/admin/mailboxes"),
		chromedp.WaitVisible(visible("imap_password"), chromedp.BySearch))
	var hidden bool
	run(t, ctx, "choose OAuth2",
		set("auth", "oauth2"), set("oauth_provider", "microsoft"),
		chromedp.WaitVisible(visible("oauth_tenant"), chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class, "oauth-redirect")]//code[contains(., "/oauth/callback")]`, chromedp.BySearch),
		chromedp.Evaluate(`[...document.querySelectorAll('form')].pop().elements.imap_password.closest('label').hidden`, &hidden))
	if !hidden {
		t.Fatal("the IMAP password is still asked for with OAuth2")
	}
	for _, s := range []struct {
		name string
		w, h int64
	}{{"1366", 1366, 768}, {"390", 390, 844}} {
		run(t, ctx, "resize", chromedp.EmulateViewport(s.w, s.h), chromedp.ScrollIntoView(visible("oauth_client_id"), chromedp.BySearch))
		shot(t, ctx, "mailbox-oauth-form-en-"+s.name)
	}
	run(t, ctx, "resize back", chromedp.EmulateViewport(1366, 768))

	// A custom provider (the test's), added: on to its consent page and back.
	run(t, ctx, "add and connect",
		set("address", prov.User), set("imap_host", "127.0.0.1"), set("smtp_host", "127.0.0.1"),
		set("oauth_provider", "custom"), set("oauth_client_id", prov.ClientID), set("oauth_client_secret", prov.ClientSecret),
		set("oauth_auth_url", prov.URL+"/authorize"), set("oauth_token_url", prov.URL+"/token"), set("oauth_scopes", "mail"),
		chromedp.Click(`(//form)[last()]//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class, "oauth-status")]/p[contains(., "Connected to")]`, chromedp.BySearch))
	if n, _ := prov.Counts(); n != 1 {
		t.Fatalf("%d codes exchanged", n)
	}

	// The owner revokes; the next refresh finds it out.
	var list struct{ Mailboxes []mailboxJSON }
	api.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
	id := list.Mailboxes[0].ID
	prov.Revoke()
	if _, err := mailauth.NewTokens(e.db).Token(context.Background(), id, ""); err == nil {
		t.Fatal("a revoked grant refreshed")
	}
	for _, lang := range []string{"en", "pt"} {
		api.must(200, "PATCH", "/api/me", map[string]string{"language": lang})
		button := map[string]string{"en": "Reconnect", "pt": "Voltar a ligar"}[lang]
		run(t, ctx, "reconnect shown "+lang,
			chromedp.Navigate(e.srv.URL+"/?lang="+lang+"#/admin/mailboxes"),
			chromedp.WaitVisible(fmt.Sprintf(`//div[contains(@class, "mailbox-reconnect")][contains(., "invalid_grant")]/button[.=%q]`, button), chromedp.BySearch))
		for _, s := range []struct {
			name string
			w, h int64
		}{{"1366", 1366, 768}, {"390", 390, 844}} {
			run(t, ctx, "resize", chromedp.EmulateViewport(s.w, s.h), chromedp.ScrollIntoView(`.mailbox-reconnect`, chromedp.ByQuery))
			shot(t, ctx, fmt.Sprintf("mailbox-oauth-reconnect-%s-%s", lang, s.name))
			run(t, ctx, "OAuth part of the form", chromedp.ScrollIntoView(`(//form)[1]//*[@name="oauth_client_id"]`, chromedp.BySearch))
			shot(t, ctx, fmt.Sprintf("mailbox-oauth-card-form-%s-%s", lang, s.name))
		}
		run(t, ctx, "resize back", chromedp.EmulateViewport(1366, 768))
	}
	api.must(200, "PATCH", "/api/me", map[string]string{"language": "en"})
	run(t, ctx, "reconnect",
		chromedp.Navigate(e.srv.URL+"/?lang=en#/admin/mailboxes"),
		chromedp.Click(`//div[contains(@class, "mailbox-reconnect")]/button`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class, "oauth-status")]/p[contains(., "Connected to")]`, chromedp.BySearch))
	var alerts int
	deadline := time.Now().Add(10 * time.Second)
	for {
		run(t, ctx, "no reconnect left", chromedp.Evaluate(`document.querySelectorAll('.mailbox-reconnect').length`, &alerts))
		if alerts == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if alerts != 0 {
		t.Fatal("Reconnect is still asked for after reconnecting")
	}
}
