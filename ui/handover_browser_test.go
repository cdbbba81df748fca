package ui_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// enter presses Enter as a keyboard does, so that the page may cancel it.
func enter() chromedp.ActionFunc {
	return func(ctx context.Context) error {
		return input.DispatchKeyEvent(input.KeyDown).WithKey("Enter").WithCode("Enter").
			WithWindowsVirtualKeyCode(13).WithText("\r").Do(ctx)
	}
}

// choose picks an option of a select and tells the page, as a user's pick does.
func choose(sel, value string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change', { bubbles: true })); })()`, sel, value), nil)
}

// The owner selects tickets with x, tags them and raises their priority
// from the bulk bar, then hands the rest of their tickets over to the
// night team at the end of the shift; an admin hands over an agent's.
func TestBulkBarAndHandoverInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	var owner, annMe meJSON
	admin.must(200, "GET", "/api/me", nil).json(t, &owner)
	ann.must(200, "GET", "/api/me", nil).json(t, &annMe)
	var team struct{ ID int64 }
	admin.must(201, "POST", "/api/teams", map[string]any{"name": "Night shift"}).json(t, &team)
	var ids []int64
	for i, subject := range []string{"Parcel stuck in customs", "Wrong size delivered", "Refund not received"} {
		tk := admin.newTicket(subject, fmt.Sprintf("c%d@shop.test", i))
		admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"assignee_id": owner.Agent.ID, "tags": []string{"shipping"}})
		ids = append(ids, tk.ID)
	}
	annsTicket := admin.newTicket("Gift wrapping", "g@shop.test")
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", annsTicket.ID), map[string]any{"assignee_id": annMe.Agent.ID})
	loginOwner(t, app, e)

	ticket := func(id int64) ticketJSON {
		var tk ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &tk)
		return tk
	}

	// Newest first: x on the first two rows selects ids[2] and ids[1].
	run(t, app, "select two with x",
		chromedp.Navigate(e.srv.URL+"/#/mine"),
		chromedp.WaitVisible(`//a[contains(., "Parcel stuck in customs")]`, chromedp.BySearch),
		press('j'), press('x'), press('j'), press('x'),
		chromedp.WaitVisible(`#bulk-tag`, chromedp.ByID),
		chromedp.SendKeys(`#bulk-tag`, "VIP", chromedp.ByID))
	shot(t, app, "60-bulk-bar")
	run(t, app, "add a tag to both",
		chromedp.Focus(`#bulk-tag`, chromedp.ByID), enter(),
		chromedp.WaitVisible(`//div[contains(@class,"toast") and contains(., "Updated 2 tickets")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"row")][.//a[contains(., "Refund not received")]]//span[@class="tag" and .="vip"]`, chromedp.BySearch))
	for _, id := range ids {
		tk := ticket(id)
		if got, want := strings.Join(tk.Tags, ","), map[bool]string{true: "shipping,vip", false: "shipping"}[id != ids[0]]; got != want {
			t.Fatalf("ticket %d tags %q, want %q", id, got, want)
		}
	}
	run(t, app, "raise their priority",
		// The selection went with the change: select both again.
		chromedp.WaitNotPresent(`#bulk-tag`, chromedp.ByID),
		press('x'), press('k'), press('x'),
		chromedp.WaitVisible(`#bulk-priority`, chromedp.ByID),
		choose(`#bulk-priority`, "urgent"),
		chromedp.WaitVisible(`//div[contains(@class,"toast") and contains(., "Updated 2 tickets")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"row")][.//a[contains(., "Refund not received")]]//span[contains(@class,"pill") and contains(@class,"urgent")]`, chromedp.BySearch))
	shot(t, app, "61-bulk-done")
	for _, id := range ids {
		tk := ticket(id)
		if want := map[bool]string{true: "urgent", false: "normal"}[id != ids[0]]; tk.Priority != want {
			t.Fatalf("ticket %d priority %q, want %q", id, tk.Priority, want)
		}
		if id != ids[0] && !slices.ContainsFunc(tk.Events, func(ev struct {
			Type  string
			Actor string
			Data  map[string]any
		}) bool {
			return ev.Type == "priority_changed"
		}) {
			t.Fatalf("ticket %d has no priority event: %+v", id, tk.Events)
		}
	}

	// End of the shift: all three go to the night team with a note.
	run(t, app, "handover dialog",
		chromedp.Click(`#handover-open`, chromedp.ByID),
		chromedp.WaitVisible(`//div[@id="handover"]//p[contains(., "3 tickets (new, open or pending) will move.")]`, chromedp.BySearch),
		choose(`#handover-to`, fmt.Sprintf("team:%d", team.ID)),
		chromedp.SendKeys(`#handover-note`, "Customs in Lisbon said Monday; the refund is waiting on the bank.", chromedp.ByID),
		chromedp.WaitVisible(`//div[@id="handover"]//button[@type="submit" and not(@disabled) and contains(., "Hand over 3 tickets")]`, chromedp.BySearch))
	shot(t, app, "62-handover-dialog")
	run(t, app, "hand over",
		chromedp.Click(`//div[@id="handover"]//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"toast") and contains(., "3 tickets handed over to Night shift")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`#handover`, chromedp.ByID),
		chromedp.WaitVisible(`.empty`, chromedp.ByQuery))
	shot(t, app, "63-handed-over")
	for _, id := range ids {
		tk := ticket(id)
		last := tk.Events[len(tk.Events)-1]
		if tk.AssigneeID != nil || tk.TeamID == nil || *tk.TeamID != team.ID || last.Type != "transferred" ||
			last.Data["note"] != "Customs in Lisbon said Monday; the refund is waiting on the bank." {
			t.Fatalf("ticket %d after the handover: %+v", id, tk)
		}
	}
	run(t, app, "the next agent sees the note on top",
		chromedp.Navigate(fmt.Sprintf("%s/#/team:%d/t/%d", e.srv.URL, team.ID, ids[2])),
		chromedp.WaitVisible(`//div[contains(@class,"handoff") and contains(., "Customs in Lisbon said Monday")]`, chromedp.BySearch))
	shot(t, app, "64-handoff-note")

	// Ann is off sick: the admin hands hers over to the owner.
	run(t, app, "admin hands over Ann's tickets",
		chromedp.Navigate(e.srv.URL+"/#/admin/agents"),
		chromedp.WaitVisible(`//tr[contains(., "ann@shop.test")]//button[contains(., "Hand over")]`, chromedp.BySearch),
		chromedp.Click(`//tr[contains(., "ann@shop.test")]//button[contains(., "Hand over")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[@id="handover"]//p[contains(., "1 ticket (new, open or pending) will move.")]`, chromedp.BySearch),
		choose(`#handover-to`, fmt.Sprintf("agent:%d", owner.Agent.ID)),
		chromedp.SendKeys(`#handover-note`, "Ann is off sick today.", chromedp.ByID))
	shot(t, app, "65-admin-handover")
	run(t, app, "admin hand over",
		chromedp.Click(`//div[@id="handover"]//button[@type="submit"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"toast") and contains(., "1 ticket handed over to Olga Owner")]`, chromedp.BySearch),
		chromedp.Poll(`!document.querySelector('#handover')`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	if tk := ticket(annsTicket.ID); tk.AssigneeID == nil || *tk.AssigneeID != owner.Agent.ID {
		t.Fatalf("Ann's ticket: %+v", tk)
	}
}
