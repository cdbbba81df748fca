package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// The owner writes a saved reply and a rule in the app; the rule acts on
// the next ticket, and "/" in the reply box inserts the reply filled in
// for that ticket.
func TestWorkflowInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	loginOwner(t, app, e)

	run(t, app, "saved reply written in the app",
		chromedp.Navigate(e.srv.URL+"/#/admin/replies"),
		chromedp.WaitVisible(`#admin input[name="title"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#admin input[name="title"]`, "Thanks for waiting", chromedp.ByQuery),
		chromedp.SendKeys(`#admin textarea[name="body"]`, "Hi {{customer.first_name}}, sorry for the wait on #{{ticket.id}}. {{agent.first_name}}", chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//td//strong[contains(., "Thanks for waiting")]`, chromedp.BySearch))
	shot(t, app, "50-saved-replies")

	run(t, app, "rule written in the app",
		chromedp.Navigate(e.srv.URL+"/#/admin/rules"),
		chromedp.WaitVisible(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.WaitVisible(`.rule-editor input[name="name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.rule-editor input[name="name"]`, "Refunds are urgent", chromedp.ByQuery),
		chromedp.Click(`//button[contains(., "Add a condition")]`, chromedp.BySearch),
		chromedp.SendKeys(`.rule-rows .rule-row .rule-value`, "refund", chromedp.ByQuery),
		// The first action row: priority urgent.
		chromedp.SetValue(`(//div[contains(@class,"rule-rows")])[2]//select[contains(@class,"rule-value")]`, "urgent", chromedp.BySearch),
		chromedp.Click(`//button[contains(., "Add an action")]`, chromedp.BySearch),
		chromedp.SetValue(`(//div[contains(@class,"rule-rows")])[2]/div[2]/select[contains(@class,"rule-field")]`, "add_tags", chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll('.rule-rows')[1].children[1].querySelector('.rule-field').dispatchEvent(new Event('change'))`, nil),
		chromedp.SendKeys(`(//div[contains(@class,"rule-rows")])[2]/div[2]/input[contains(@class,"rule-value")]`, "refund, money", chromedp.BySearch))
	shot(t, app, "51-rule-editor")
	run(t, app, "rule saved",
		chromedp.Click(`.rule-editor .save-bar button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//td//strong[contains(., "Refunds are urgent")]`, chromedp.BySearch))
	shot(t, app, "52-rules")

	var tk ticketJSON
	admin.apiClient().must(201, "POST", "/api/tickets", map[string]any{"subject": "Refund for order 1001", "body": "Please send my money back",
		"customer": map[string]string{"email": "rita@shop.test", "name": "Rita Reis"}}).json(t, &tk)
	if tk.Priority != "urgent" || strings.Join(tk.Tags, ",") != "money,refund" {
		t.Fatalf("the rule did not act: %+v", tk)
	}

	var text string
	run(t, app, "slash inserts the saved reply",
		chromedp.Navigate(fmt.Sprintf("%s/#/open/t/%d", e.srv.URL, tk.ID)),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "Refunds are urgent")]`, chromedp.BySearch),
		chromedp.WaitVisible(`#reply`, chromedp.ByID),
		chromedp.SendKeys(`#reply`, "/wait", chromedp.ByID),
		chromedp.WaitVisible(`//div[contains(@class,"reply-picker")]//strong[contains(., "Thanks for waiting")]`, chromedp.BySearch))
	shot(t, app, "53-reply-picker")
	// A live update of the ticket lands while the agent is choosing (on a
	// busy machine the ticket's own events can arrive that late): the
	// reply box, its text and the open picker stay as they are.
	admin.apiClient().must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "Any news?", "kind": "customer"})
	run(t, app, "picker survives a live update",
		chromedp.WaitVisible(`//article[contains(@class,"customer")]//div[contains(., "Any news?")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"reply-picker")]//strong[contains(., "Thanks for waiting")]`, chromedp.BySearch),
		chromedp.Poll(`document.activeElement === document.querySelector('#reply') && document.querySelector('#reply').value === '/wait'`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	run(t, app, "the picked reply is filled in",
		// One keyDown carrying its text, as a keyboard sends it (chromedp's
		// KeyEvent adds a separate char event that no page can cancel).
		chromedp.ActionFunc(func(ctx context.Context) error {
			return input.DispatchKeyEvent(input.KeyDown).WithKey("Enter").WithCode("Enter").
				WithWindowsVirtualKeyCode(13).WithText("\r").Do(ctx)
		}),
		chromedp.Poll(`document.querySelector('#reply').value.startsWith('Hi Rita')`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Value(`#reply`, &text, chromedp.ByID))
	if want := fmt.Sprintf("Hi Rita, sorry for the wait on #%d. Olga", tk.ID); text != want {
		t.Fatalf("reply box %q, want %q", text, want)
	}
}
