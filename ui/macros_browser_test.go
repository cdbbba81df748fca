package ui_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// An agent presses m on a ticket and applies a shared macro: the status,
// tags and assignee change (the thread says by which macro) and the
// reply box holds the reply with the customer's name, to edit and send.
// Then the bulk bar applies a macro to two tickets, one is snoozed from
// its header and shows in the Snoozed view, and a reply is scheduled for
// later, shown scheduled, and cancelled. Screens at 1366×768 and 390×844,
// in English and Portuguese.
func TestMacrosSnoozeAndScheduleInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var me meJSON
	admin.must(200, "GET", "/api/me", nil).json(t, &me)
	var macro, bulk struct{ ID int64 }
	admin.must(201, "POST", "/api/macros", map[string]any{"name": "Shipping delay", "shared": true,
		"reply": "Hi {{customer.first_name}}, your parcel is delayed a day.", "status": "pending",
		"add_tags": []string{"shipping"}, "assign_to": "me", "priority": "high"}).json(t, &macro)
	admin.must(201, "POST", "/api/macros", map[string]any{"name": "Close as spam", "shared": true,
		"status": "closed", "add_tags": []string{"spam"}}).json(t, &bulk)
	first := admin.newTicket("Parcel late", "carla@shop.test")
	spam1, spam2 := admin.newTicket("WIN A PRIZE", "x1@spam.test"), admin.newTicket("Cheap watches", "x2@spam.test")
	ticket := func(id int64) ticketJSON {
		var tk ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &tk)
		return tk
	}
	loginOwner(t, app, e)

	run(t, app, "open the ticket and press m",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(fmt.Sprintf("%s/#/open/t/%d", e.srv.URL, first.ID)),
		chromedp.WaitVisible(`#reply`, chromedp.ByID),
		chromedp.Click(`#thread`, chromedp.ByID), // away from the reply box: keys go to the app
		press('m'),
		chromedp.WaitVisible(`#macro-search`, chromedp.ByID),
		chromedp.SendKeys(`#macro-search`, "ship", chromedp.ByID),
		chromedp.WaitVisible(`//li[@role="option" and contains(., "Shipping delay")]`, chromedp.BySearch))
	shot(t, app, "80-macro-palette-1366")
	var reply string
	run(t, app, "apply it",
		chromedp.Focus(`#macro-search`, chromedp.ByID), enter(),
		chromedp.WaitNotPresent(`#macro-search`, chromedp.ByID),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "Shipping delay")]`, chromedp.BySearch),
		chromedp.Poll(`document.querySelector('#reply').value.includes('Hi Carla')`, nil),
		chromedp.Value(`#reply`, &reply, chromedp.ByID))
	if reply != "Hi Carla, your parcel is delayed a day." {
		t.Fatalf("reply box: %q", reply)
	}
	tk := ticket(first.ID)
	if tk.Status != "pending" || tk.Priority != "high" || !slices.Contains(tk.Tags, "shipping") || tk.AssigneeID == nil || *tk.AssigneeID != me.Agent.ID {
		t.Fatalf("after the macro: %+v", tk)
	}
	shot(t, app, "81-macro-applied-1366")

	// Send it later: scheduled, shown so, then cancelled.
	run(t, app, "schedule the reply",
		chromedp.Click(`#send-later`, chromedp.ByID),
		chromedp.WaitVisible(`#pick-time`, chromedp.ByID),
		chromedp.Click(`#pick-ok`, chromedp.ByID),
		chromedp.WaitVisible(`//div[contains(@class,"delivery scheduled")]`, chromedp.BySearch))
	shot(t, app, "82-scheduled-reply-1366")
	if tk := ticket(first.ID); tk.Messages[len(tk.Messages)-1].Delivery != "scheduled" {
		t.Fatalf("the reply is %q", tk.Messages[len(tk.Messages)-1].Delivery)
	}
	run(t, app, "cancel it",
		chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.Click(`//div[contains(@class,"delivery scheduled")]//button[2]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`.delivery.scheduled`, chromedp.ByQuery),
		chromedp.WaitVisible(`.event.ev-reply_cancelled`, chromedp.ByQuery))

	// Snooze it until tomorrow morning: the Snoozed view has it.
	run(t, app, "snooze",
		choose(`#snooze`, "tomorrow"),
		chromedp.WaitVisible(`#wake`, chromedp.ByID),
		chromedp.WaitVisible(`.snoozed-pill`, chromedp.ByQuery),
		chromedp.Navigate(e.srv.URL+"/#/snoozed"),
		chromedp.WaitVisible(`//a[contains(., "Parcel late")]`, chromedp.BySearch))
	shot(t, app, "83-snoozed-view-1366")

	// The bulk bar applies a macro to the two spam tickets.
	run(t, app, "bulk macro",
		chromedp.Navigate(e.srv.URL+"/#/open"),
		chromedp.WaitVisible(`//a[contains(., "Cheap watches")]`, chromedp.BySearch),
		press('j'), press('x'), press('j'), press('x'),
		chromedp.WaitVisible(`#bulk-macro`, chromedp.ByID),
		chromedp.WaitReady(fmt.Sprintf(`#bulk-macro option[value="%d"]`, bulk.ID), chromedp.ByQuery),
		choose(`#bulk-macro`, fmt.Sprint(bulk.ID)),
		chromedp.WaitNotPresent(`//a[contains(., "Cheap watches")]`, chromedp.BySearch))
	for _, id := range []int64{spam1.ID, spam2.ID} {
		if tk := ticket(id); tk.Status != "closed" || !slices.Contains(tk.Tags, "spam") {
			t.Fatalf("ticket %d after the bulk macro: %s %v", id, tk.Status, tk.Tags)
		}
	}

	// A phone, then Portuguese.
	run(t, app, "phone", chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(fmt.Sprintf("%s/#/snoozed/t/%d", e.srv.URL, first.ID)),
		chromedp.WaitVisible(`.snoozed-pill`, chromedp.ByQuery),
		chromedp.WaitNotPresent(`.toast`, chromedp.ByQuery), // the bulk bar's, over the reply box's buttons
		chromedp.WaitVisible(`#macros-btn`, chromedp.ByID), chromedp.Click(`#macros-btn`, chromedp.ByID),
		chromedp.WaitVisible(`#macro-search`, chromedp.ByID))
	shot(t, app, "84-macro-palette-390")
	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, app, "portuguese", chromedp.EmulateViewport(1366, 768), chromedp.Reload(),
		chromedp.WaitVisible(`//span[contains(@class,"snoozed-pill") and contains(., "Adiado até")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "pela macro “Shipping delay”")]`, chromedp.BySearch),
		chromedp.Click(`#macros-btn`, chromedp.ByID),
		chromedp.WaitVisible(`//button[contains(., "Gerenciar macros")]`, chromedp.BySearch))
	shot(t, app, "85-macro-palette-pt-1366")
	run(t, app, "manager in portuguese", chromedp.Click(`//button[contains(., "Gerenciar macros")]`, chromedp.BySearch),
		chromedp.WaitVisible(`#macro-new`, chromedp.ByID), chromedp.Click(`#macro-new`, chromedp.ByID),
		chromedp.WaitVisible(`#macro-name`, chromedp.ByID))
	shot(t, app, "86-macro-editor-pt-1366")
	run(t, app, "phone editor", chromedp.EmulateViewport(390, 844), chromedp.WaitVisible(`#macro-name`, chromedp.ByID))
	shot(t, app, "87-macro-editor-pt-390")
	if strings.Contains(reply, "{{") {
		t.Fatal("placeholders left in the reply")
	}
}
