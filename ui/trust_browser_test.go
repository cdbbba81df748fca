package ui_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// TestPasswordAndSessionEndInBrowser: My settings asks for the current
// password before a new one; and when an admin deactivates the agent,
// the app open on their screen goes to the login page at once (the
// server closes its live socket), without the agent doing anything.
func TestPasswordAndSessionEndInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	_, annID := e.teammate(admin, "ann@shop.test", "Ann")
	loginAs(t, ctx, e, "ann@shop.test", "12345678")

	run(t, ctx, "my settings",
		chromedp.Navigate(e.srv.URL+"/#/admin/me"),
		chromedp.WaitVisible(`#admin input[name="current_password"]`, chromedp.ByQuery))
	shot(t, ctx, "60-change-password")
	run(t, ctx, "a wrong current password is refused",
		chromedp.SendKeys(`#admin input[name="current_password"]`, "not my password", chromedp.ByQuery),
		chromedp.SendKeys(`#admin input[name="password"]`, "a brand new password", chromedp.ByQuery),
		chromedp.Click(`//input[@name="current_password"]/ancestor::form//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "current password is wrong")]`, chromedp.BySearch))
	shot(t, ctx, "61-change-password-wrong")
	run(t, ctx, "the right one changes it",
		chromedp.SetValue(`#admin input[name="current_password"]`, "12345678", chromedp.ByQuery),
		chromedp.SetValue(`#admin input[name="password"]`, "a brand new password", chromedp.ByQuery),
		chromedp.Click(`//input[@name="current_password"]/ancestor::form//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Saved")]`, chromedp.BySearch))
	e.client().must(200, "POST", "/api/auth/login", map[string]string{"email": "ann@shop.test", "password": "a brand new password"})

	// The app stays live on its new session, then loses it to the admin.
	run(t, ctx, "still live on the new session",
		chromedp.Navigate(e.srv.URL+"/#/open"),
		chromedp.WaitVisible(`#live.live`, chromedp.ByQuery))
	admin.must(200, "PATCH", fmt.Sprint("/api/agents/", annID), map[string]any{"active": false})
	run(t, ctx, "deactivated: the login page",
		chromedp.WaitVisible("#f-email", chromedp.ByID),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Your session ended")]`, chromedp.BySearch))
	shot(t, ctx, "62-session-ended")
}
