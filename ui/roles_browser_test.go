package ui_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// Settings → Agents shows each agent's role and stores and changes them;
// a light agent's ticket page offers internal notes only, and no reports.
func TestRolesAndStoresInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{LoginRate: 6000}) // six logins from one address
	admin := e.admin()
	shopA, shopB := admin.newStore("Lisbon Shoes"), admin.newStore("Prague Hats")
	e.member(admin, "sue@shop.test", "supervisor", nil)
	e.member(admin, "lou@shop.test", "light", []int64{shopA})
	e.member(admin, "lia@shop.test", "agent", []int64{shopA, shopB})

	loginOwner(t, ctx, e)
	row := func(email string) string { return fmt.Sprintf(`//tr[td[.=%q]]`, email) }
	run(t, ctx, "agents' roles and stores",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(e.srv.URL+"/#/admin/agents"),
		chromedp.WaitVisible(row("lou@shop.test")+`//summary[contains(., "Lisbon Shoes")]`, chromedp.BySearch),
		chromedp.WaitVisible(row("lia@shop.test")+`//summary[contains(., "Lisbon Shoes, Prague Hats")]`, chromedp.BySearch),
		chromedp.WaitVisible(row("sue@shop.test")+`//summary[contains(., "Every store")]`, chromedp.BySearch),
		chromedp.WaitVisible(row("owner@shop.test")+`//td[contains(., "Every store")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(@class,"roles-hint")]`, chromedp.BySearch))
	var role string
	run(t, ctx, "lou's role", chromedp.Value(row("lou@shop.test")+`//select`, &role, chromedp.BySearch))
	if role != "light" {
		t.Fatalf("lou's role in the table: %q", role)
	}
	// Sue is given Prague Hats.
	run(t, ctx, "limit sue to a store",
		chromedp.Click(row("sue@shop.test")+`//summary`, chromedp.BySearch),
		chromedp.Click(row("sue@shop.test")+`//label[contains(., "Prague Hats")]/input`, chromedp.BySearch),
		chromedp.WaitVisible(row("sue@shop.test")+`//summary[contains(., "Prague Hats")]`, chromedp.BySearch))
	var list struct {
		Agents []struct {
			Email    string
			StoreIDs []int64 `json:"store_ids"`
		}
	}
	admin.must(200, "GET", "/api/agents", nil).json(t, &list)
	for _, a := range list.Agents {
		if a.Email == "sue@shop.test" && !slices.Equal(a.StoreIDs, []int64{shopB}) {
			t.Fatalf("sue's stores after the click: %v", a.StoreIDs)
		}
	}
	run(t, ctx, "open lia's stores", chromedp.Click(row("lia@shop.test")+`//summary`, chromedp.BySearch),
		chromedp.WaitVisible(row("lia@shop.test")+`//label[contains(., "Prague Hats")]`, chromedp.BySearch))
	shot(t, ctx, "roles-agents-1366-en")
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(),
		chromedp.WaitVisible(row("lou@shop.test"), chromedp.BySearch))
	shot(t, ctx, "roles-agents-390-en")
	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, ctx, "portuguese", chromedp.EmulateViewport(1366, 768), chromedp.Reload(),
		chromedp.WaitReady(row("lou@shop.test")+`//option[.="Agente leve"]`, chromedp.BySearch),
		chromedp.WaitVisible(row("sue@shop.test")+`//summary[contains(., "Prague Hats")]`, chromedp.BySearch))
	shot(t, ctx, "roles-agents-1366-pt")
	run(t, ctx, "portuguese phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(),
		chromedp.WaitVisible(row("lou@shop.test"), chromedp.BySearch))
	shot(t, ctx, "roles-agents-390-pt")

	// Lou, a light agent of Lisbon Shoes, in a browser of their own.
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Heel came off", "body": "After two days!",
		"store_id": shopA, "customer": map[string]string{"email": "rita@mail.test"}}).json(t, &tk)
	lctx := browser(t)
	loginAs(t, lctx, e, "lou@shop.test", "12345678")
	run(t, lctx, "a light agent's ticket",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(fmt.Sprintf("%s/#/open/t/%d", e.srv.URL, tk.ID)),
		chromedp.WaitVisible(`.composer.note .modes button[data-mode="note"][aria-pressed="true"]`, chromedp.ByQuery))
	var replyButtons, reports int
	run(t, lctx, "no reply, no reports", chromedp.Evaluate(
		`[document.querySelectorAll('.modes button[data-mode="reply"]').length, document.querySelectorAll('#nav-reports').length]`,
		&[]*int{&replyButtons, &reports}))
	if replyButtons != 0 || reports != 0 {
		t.Fatalf("a light agent is offered %d reply buttons and %d reports links", replyButtons, reports)
	}
	run(t, lctx, "write a note",
		chromedp.SendKeys("#reply", "Asked the workshop", chromedp.ByID),
		chromedp.Click("#send", chromedp.ByID),
		chromedp.WaitVisible(`//*[contains(@class,"msg")][contains(., "Asked the workshop")]`, chromedp.BySearch))
	var statusDisabled bool
	run(t, lctx, "status not offered", chromedp.Evaluate(`document.querySelector('.t-controls select').disabled`, &statusDisabled))
	if !statusDisabled {
		t.Fatal("a light agent is offered the ticket's status")
	}
	shot(t, lctx, "roles-light-agent-ticket")
}
