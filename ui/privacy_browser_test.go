package ui_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// Settings → Audit log and a customer's erasure in a real browser, on a
// laptop and a phone, in English and Portuguese: the log lists sign-ins
// and changes and filters them; erasing asks for the customer's address
// typed out before the button wakes, then empties their tickets.
func TestAuditPageAndErasureInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{LoginRate: 600})
	admin := e.admin()
	e.client().must(401, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "not it"})
	admin.must(201, "POST", "/api/teams", map[string]any{"name": "Returns"})
	admin.must(200, "PATCH", "/api/settings", map[string]any{"reopen_days": 14})
	e.agent(admin, "ann@shop.test")
	tk := admin.newTicket("Refund for order 1001", "carla@example.com")
	loginOwner(t, ctx, e)

	run(t, ctx, "audit page",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(e.srv.URL+"/#/admin/audit"),
		chromedp.WaitVisible(`//table[contains(@class,"audit-table")]//td[contains(., "Sign-in failed")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//td[contains(., "wrong password")]`, chromedp.BySearch),
		// A changed field is named by its label in the app (reopen_days here).
		chromedp.WaitVisible(`//td[contains(., "Desk settings changed")]/following-sibling::td[contains(., "Reopen resolved tickets for (days)")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//td[contains(., "Team created")]`, chromedp.BySearch))
	shot(t, ctx, "90-audit-1366-en")
	run(t, ctx, "filter by kind",
		chromedp.SetValue(`#audit-kind`, "login_failed", chromedp.ByID),
		chromedp.Evaluate(`document.querySelector('#audit-kind').dispatchEvent(new Event('change'))`, nil),
		chromedp.WaitNotPresent(`//td[contains(., "Team created")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//td[contains(., "Sign-in failed")]`, chromedp.BySearch))
	run(t, ctx, "audit on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+"/#/admin/audit"), chromedp.Reload(),
		chromedp.WaitVisible(`//table[contains(@class,"audit-table")]//td[contains(., "Team created")]`, chromedp.BySearch))
	shot(t, ctx, "91-audit-390-en")

	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, ctx, "audit in Portuguese",
		chromedp.EmulateViewport(1366, 768), chromedp.Reload(),
		chromedp.WaitVisible(`//h1[contains(., "Registro de auditoria")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//td[contains(., "Falha ao entrar")]`, chromedp.BySearch))
	shot(t, ctx, "92-audit-1366-pt")

	run(t, ctx, "erase dialog",
		chromedp.Navigate(fmt.Sprintf("%s/#/customers/%d", e.srv.URL, tk.CustomerID)),
		chromedp.WaitVisible(`#erase-customer`, chromedp.ByID),
		chromedp.Click(`#erase-customer`, chromedp.ByID),
		chromedp.WaitVisible(`#erase-confirm`, chromedp.ByID),
		chromedp.WaitVisible(`//form[contains(@class,"erase")]//button[@type="submit" and @disabled]`, chromedp.BySearch),
		chromedp.SendKeys(`#erase-confirm`, "Carla Customer", chromedp.ByID),
		chromedp.WaitVisible(`//form[contains(@class,"erase")]//button[@type="submit" and not(@disabled)]`, chromedp.BySearch))
	shot(t, ctx, "93-erase-1366-pt")
	run(t, ctx, "erase dialog on a phone",
		chromedp.EmulateViewport(390, 844),
		chromedp.WaitVisible(`#erase-confirm`, chromedp.ByID))
	shot(t, ctx, "94-erase-390-pt")
	run(t, ctx, "erase",
		chromedp.Click(`//form[contains(@class,"erase")]//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`#erase`, chromedp.ByID),
		chromedp.WaitVisible(`//*[contains(., "Cliente apagado")]`, chromedp.BySearch))
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.Subject != "" || got.Messages[0].Body != "" || len(got.Customer.Identities) != 0 {
		t.Errorf("after erasure: %+v", got)
	}

	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "en"})
	tk2 := admin.newTicket("Where is my parcel?", "dora@example.com")
	run(t, ctx, "erase dialog in English",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(fmt.Sprintf("%s/#/customers/%d", e.srv.URL, tk2.CustomerID)), chromedp.Reload(),
		chromedp.WaitVisible(`#erase-customer`, chromedp.ByID),
		chromedp.Click(`#erase-customer`, chromedp.ByID),
		chromedp.WaitVisible(`//form[contains(@class,"erase")]//*[contains(., "cannot be undone")]`, chromedp.BySearch))
	shot(t, ctx, "95-erase-390-en")
	run(t, ctx, "erase dialog in English, laptop",
		chromedp.EmulateViewport(1366, 768),
		chromedp.WaitVisible(`#erase-confirm`, chromedp.ByID))
	shot(t, ctx, "96-erase-1366-en")
}
