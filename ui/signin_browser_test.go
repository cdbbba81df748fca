package ui_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/channels/email/emailtest"
	"onedesk/ui"
)

// enableTwoFactorInApp turns two-factor sign-in on from My settings as
// an agent would, reading the key off the page, and returns it.
func enableTwoFactorInApp(t *testing.T, ctx context.Context, e *env, shotName string) string {
	t.Helper()
	var key string
	run(t, ctx, "two-factor setup",
		chromedp.Navigate(e.srv.URL+"/#/admin/me"),
		chromedp.WaitVisible("#twofa-start", chromedp.ByID),
		chromedp.Click("#twofa-start", chromedp.ByID),
		chromedp.WaitVisible("img.twofa-qr", chromedp.ByQuery),
		chromedp.Text("#twofa-secret", &key, chromedp.ByID))
	key = strings.ReplaceAll(key, " ", "")
	if shotName != "" {
		shot(t, ctx, shotName)
	}
	run(t, ctx, "a wrong code is refused",
		chromedp.SendKeys("#twofa-code", "000000", chromedp.ByID),
		chromedp.Click("#twofa-enable", chromedp.ByID),
		chromedp.WaitVisible(`//form[contains(@class,"twofa-confirm")]/p[contains(@class,"error") and contains(., "wrong code")]`, chromedp.BySearch))
	run(t, ctx, "the app's code turns it on",
		chromedp.SetValue("#twofa-code", totpCode(t, key, 0), chromedp.ByID),
		chromedp.Click("#twofa-enable", chromedp.ByID),
		chromedp.WaitVisible("#recovery-codes", chromedp.ByID))
	var n int
	run(t, ctx, "ten recovery codes", chromedp.Evaluate(`document.querySelectorAll('#recovery-codes li').length`, &n))
	if n != 10 {
		t.Fatalf("%d recovery codes shown", n)
	}
	return key
}

// TestTwoFactorInBrowser: an agent turns two-factor sign-in on under My
// settings (QR code and key, a code to confirm, recovery codes), then
// signs in with the password and a code made from the key.
func TestTwoFactorInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	e.teammate(admin, "ann@shop.test", "Ann")
	loginAs(t, ctx, e, "ann@shop.test", "12345678")

	key := enableTwoFactorInApp(t, ctx, e, "70-2fa-setup")
	shot(t, ctx, "71-2fa-recovery-codes")
	run(t, ctx, "on",
		chromedp.Click("#twofa-done", chromedp.ByID),
		chromedp.WaitVisible(`//p[@id="twofa-state" and starts-with(., "On.")]`, chromedp.BySearch))

	run(t, ctx, "log out",
		chromedp.Click(`button[aria-label="Log out"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#f-email", chromedp.ByID))
	run(t, ctx, "the password leads to the code step",
		typeLogin(e.srv.URL, "ann@shop.test", "12345678"),
		chromedp.WaitVisible("#f-code", chromedp.ByID))
	shot(t, ctx, "72-2fa-code-step")
	run(t, ctx, "a wrong code is refused",
		chromedp.SendKeys("#f-code", "123456", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "wrong code")]`, chromedp.BySearch))
	run(t, ctx, "the app's code signs in",
		chromedp.SetValue("#f-code", totpCode(t, key, 1), chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(".shell", chromedp.ByQuery),
		chromedp.WaitVisible(`#live.live`, chromedp.ByQuery))
}

// TestTwoFactorRequiredInBrowser: once the desk requires two-factor
// sign-in, an agent without it sees only its setup after the login, and
// the app once it is on.
func TestTwoFactorRequiredInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	admin.enableTwoFactor()
	admin.must(200, "PATCH", "/api/settings", map[string]any{"require_two_factor": true})
	e.teammate(admin, "bob@shop.test", "Bob")
	run(t, ctx, "login",
		typeLogin(e.srv.URL, "bob@shop.test", "12345678"),
		chromedp.WaitVisible("#twofa-required img.twofa-qr", chromedp.ByQuery))
	var key string
	run(t, ctx, "set up", chromedp.Text("#twofa-secret", &key, chromedp.ByID))
	run(t, ctx, "confirmed",
		chromedp.SendKeys("#twofa-code", totpCode(t, strings.ReplaceAll(key, " ", ""), 0), chromedp.ByID),
		chromedp.Click("#twofa-enable", chromedp.ByID),
		chromedp.WaitVisible("#recovery-codes", chromedp.ByID),
		chromedp.Click("#twofa-done", chromedp.ByID),
		chromedp.WaitVisible(".shell", chromedp.ByQuery))
}

// TestSigninScreens saves the two-factor setup and the code step at a
// laptop's and a phone's size in two languages, to look at; it runs only
// when ONEDESK_SCREENSHOTS names a folder.
func TestSigninScreens(t *testing.T) {
	if os.Getenv("ONEDESK_SCREENSHOTS") == "" {
		t.Skip("screenshots only: set ONEDESK_SCREENSHOTS to a folder")
	}
	ctx := browser(t)
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	ownerKey, _ := admin.enableTwoFactor()
	admin.must(200, "PATCH", "/api/settings", map[string]any{"require_two_factor": true})
	for _, size := range []screenSize{{"1366x768", 1366, 768}, {"phone", 390, 844}} {
		for _, lang := range []string{"en", "pt"} {
			email := lang + "-" + size.name + "@shop.test"
			_, id := e.teammate(admin, email, "Ana Sousa")
			admin.must(200, "PATCH", fmt.Sprint("/api/agents/", id), map[string]string{"language": lang})
			name := lang + "-" + size.name
			run(t, ctx, name+" login",
				network.ClearBrowserCookies(),
				emulation.SetUserAgentOverride("Mozilla/5.0 Chrome").WithAcceptLanguage(lang),
				size.apply(),
				chromedp.Navigate(e.srv.URL),
				chromedp.Evaluate(`localStorage.clear()`, nil),
				typeLogin(e.srv.URL+"/?"+name, email, "12345678"),
				chromedp.WaitVisible("#twofa-required img.twofa-qr", chromedp.ByQuery))
			shot(t, ctx, "2fa-required-"+name)
			var key string
			run(t, ctx, name+" set up",
				chromedp.Text("#twofa-secret", &key, chromedp.ByID),
				chromedp.ActionFunc(func(ctx context.Context) error {
					return chromedp.SendKeys("#twofa-code", totpCode(t, strings.ReplaceAll(key, " ", ""), 0), chromedp.ByID).Do(ctx)
				}),
				chromedp.Click("#twofa-enable", chromedp.ByID),
				chromedp.WaitVisible("#recovery-codes", chromedp.ByID))
			shot(t, ctx, "2fa-codes-"+name)
			run(t, ctx, name+" my settings",
				chromedp.Click("#twofa-done", chromedp.ByID),
				chromedp.WaitVisible(".shell", chromedp.ByQuery),
				chromedp.Navigate(e.srv.URL+"/#/admin/me"),
				chromedp.WaitVisible("#twofa-state", chromedp.ByID),
				chromedp.ScrollIntoView("#twofa-card", chromedp.ByID))
			shot(t, ctx, "2fa-settings-"+name)
			run(t, ctx, name+" code step",
				network.ClearBrowserCookies(),
				chromedp.Evaluate(`localStorage.clear()`, nil),
				typeLogin(e.srv.URL+"/?again", email, "12345678"),
				chromedp.WaitVisible("#f-code", chromedp.ByID))
			shot(t, ctx, "2fa-code-step-"+name)
			run(t, ctx, name+" forgot",
				chromedp.Click("#back-login", chromedp.ByID),
				chromedp.WaitVisible("#forgot", chromedp.ByID),
				chromedp.Click("#forgot", chromedp.ByID),
				chromedp.WaitVisible("#f-email", chromedp.ByID))
			shot(t, ctx, "forgot-"+name)
		}
	}
	// The admin's side: the agents' 2FA column, the requirement and system mail.
	run(t, ctx, "owner",
		network.ClearBrowserCookies(),
		emulation.SetUserAgentOverride("Mozilla/5.0 Chrome").WithAcceptLanguage("en"),
		screenSize{"1366x768", 1366, 768}.apply(),
		typeLogin(e.srv.URL+"/?owner", "owner@shop.test", "correct horse"),
		chromedp.WaitVisible("#f-code", chromedp.ByID),
		chromedp.ActionFunc(func(ctx context.Context) error {
			return chromedp.SendKeys("#f-code", totpCode(t, ownerKey, 1)+"\n", chromedp.ByID).Do(ctx)
		}),
		chromedp.WaitVisible(".shell", chromedp.ByQuery),
		chromedp.Navigate(e.srv.URL+"/?owner#/admin/agents"),
		chromedp.WaitVisible(`//td[contains(., "On")]`, chromedp.BySearch))
	shot(t, ctx, "admin-agents-2fa")
	run(t, ctx, "settings",
		chromedp.Evaluate(`location.hash = '#/admin/settings'`, nil),
		chromedp.WaitVisible("#system-mail", chromedp.ByID),
		chromedp.ScrollIntoView("#system-mail", chromedp.ByID))
	shot(t, ctx, "admin-system-mail")
}

// TestPasswordResetPageInBrowser: the link from the reset mail opens a
// page that sets the new password once; the same link again says so.
func TestPasswordResetPageInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"})
	sink := emailtest.Mailbox(t, e.desk, 1, "help@shoes.test", "Shoe Shop")
	e.teammate(admin, "ann@shop.test", "Ann")
	run(t, ctx, "forgot password",
		chromedp.Navigate(e.srv.URL),
		chromedp.WaitVisible("#forgot", chromedp.ByID),
		chromedp.Click("#forgot", chromedp.ByID),
		chromedp.WaitVisible("#f-email", chromedp.ByID),
		chromedp.SendKeys("#f-email", "ann@shop.test", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[@id="auth-message" and contains(., "on its way")]`, chromedp.BySearch))
	m := waitResetMail(t, sink, 1)
	run(t, ctx, "the link's page",
		chromedp.Navigate("about:blank"), // a new page, as from the mail
		chromedp.Navigate(m.Link),
		chromedp.WaitVisible("#f-password", chromedp.ByID))
	shot(t, ctx, "73-reset-page")
	run(t, ctx, "a new password",
		chromedp.SendKeys("#f-password", "a brand new password", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[@id="auth-message" and contains(., "new password is set")]`, chromedp.BySearch))
	e.login("ann@shop.test", "a brand new password")
	run(t, ctx, "the link again",
		chromedp.Navigate(e.srv.URL+"/?again#/reset/"+m.Token),
		chromedp.WaitVisible("#f-password", chromedp.ByID),
		chromedp.SendKeys("#f-password", "yet another password", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "used already")]`, chromedp.BySearch))
	run(t, ctx, "back to login",
		chromedp.Click("#forgot", chromedp.ByID),
		chromedp.WaitVisible(`//h1[contains(., "Reset your password")]`, chromedp.BySearch))
}
