package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/target"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/ui"
)

// The owner builds a form in the app (live preview), and customers send
// it: once from a browser without JavaScript (errors come back as a page
// with what they typed), once with it (errors beside the fields, thanks in
// place). Both become tickets.
func TestFormsInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop", "chat": map[string]any{"color": "#0e7a4f"}})

	loginOwner(t, app, e)
	run(t, app, "new form with a live preview",
		chromedp.Navigate(e.srv.URL+"/#/admin/forms"),
		chromedp.WaitVisible(`//button[contains(., "New form")]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., "New form")]`, chromedp.BySearch),
		chromedp.WaitVisible(`#admin input[name="title"]`, chromedp.ByQuery),
		chromedp.Evaluate(`document.querySelector('#admin input[name="title"]').select()`, nil),
		chromedp.KeyEvent(kb.Delete),
		chromedp.SendKeys(`#admin input[name="title"]`, "Returns and questions", chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('iframe.form-preview').srcdoc.includes('Returns and questions')`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	run(t, app, "preview drawn", chromedp.Sleep(500*time.Millisecond))
	shot(t, app, "30-form-editor")
	run(t, app, "save the form",
		chromedp.Click(`//button[contains(., "Add a field")]`, chromedp.BySearch),
		chromedp.Click(`.save-bar button`, chromedp.ByQuery),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Saved")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//code[contains(., "/f/returns-and-questions")]`, chromedp.BySearch))
	shot(t, app, "31-form-saved")
	var list struct {
		Forms []struct {
			ID     int64
			Slug   string
			Fields []struct{ Name, Type string }
		}
	}
	admin.must(200, "GET", "/api/forms", nil).json(t, &list)
	if len(list.Forms) != 1 || list.Forms[0].Slug != "returns-and-questions" || len(list.Forms[0].Fields) != 6 {
		t.Fatalf("saved forms: %+v", list)
	}
	// A person needs a moment; the test waits that moment instead of typing slowly.
	admin.must(200, "PATCH", fmt.Sprintf("/api/forms/%d", list.Forms[0].ID), map[string]any{"min_seconds": 1, "store_id": 1})
	page := e.srv.URL + "/f/returns-and-questions"

	noJS, cancel := chromedp.NewContext(app)
	defer cancel()
	if err := chromedp.Run(noJS); err != nil { // opens the tab on this context, not on one step's
		t.Fatal(err)
	}
	run(t, noJS, "hosted form without JavaScript: errors",
		emulation.SetScriptExecutionDisabled(true),
		chromedp.Navigate(page),
		chromedp.WaitVisible(`#f-email`, chromedp.ByID),
		chromedp.SendKeys(`#f-name`, "Rui Costa", chromedp.ByID),
		chromedp.SendKeys(`#f-email`, "rui@", chromedp.ByID),
		chromedp.Sleep(1100*time.Millisecond),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[@id="e-email" and contains(., "does not look right")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[@id="e-message" and contains(., "Please fill this in")]`, chromedp.BySearch),
		// What was typed comes back in the page.
		chromedp.WaitVisible(`//input[@id="f-name" and @value="Rui Costa"]`, chromedp.BySearch))
	run(t, noJS, "hosted form without JavaScript: sent",
		chromedp.SendKeys(`#f-email`, kb.End+"example.com", chromedp.ByID), // after the kept "rui@"
		chromedp.SendKeys(`#f-topic`, "Returns", chromedp.ByID),
		chromedp.SendKeys(`#f-order`, "#1001", chromedp.ByID),
		chromedp.SendKeys(`#f-message`, "The shoes are too small.", chromedp.ByID),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[@class="thanks"]//p[contains(., "its number is")]`, chromedp.BySearch))
	shot(t, noJS, "33-form-thanks")

	js, cancel2 := chromedp.NewContext(app)
	defer cancel2()
	if err := chromedp.Run(js); err != nil {
		t.Fatal(err)
	}
	var url string
	run(t, js, "hosted form with JavaScript: errors in place",
		chromedp.Navigate(page),
		chromedp.WaitVisible(`#f-email`, chromedp.ByID),
		chromedp.SendKeys(`#f-email`, "ana@example.com", chromedp.ByID),
		chromedp.SetValue(`#f-topic`, "Something else", chromedp.ByID),
		chromedp.Sleep(1100*time.Millisecond),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[@id="e-message" and contains(., "Please fill this in")]`, chromedp.BySearch),
		chromedp.Location(&url))
	if strings.Contains(url, "sent=") {
		t.Fatalf("the page was reloaded: %s", url)
	}
	// A refusal of the whole post says the server's own reason at the top,
	// not "check the fields marked below" with nothing marked.
	var top string
	run(t, js, "hosted form with JavaScript: the server's reason",
		chromedp.SendKeys(`#f-message`, "Do you have size 46?", chromedp.ByID),
		chromedp.Evaluate(`document.querySelector('[name=website_url]').value = 'http://spam.example'`, nil),
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//*[@id="form-error" and contains(., "looked automated")]`, chromedp.BySearch),
		chromedp.Text(`#form-error`, &top, chromedp.ByID),
		chromedp.Evaluate(`document.querySelector('[name=website_url]').value = ''`, nil))
	if strings.Contains(top, "marked below") {
		t.Fatalf("top of the form: %q", top)
	}
	run(t, js, "hosted form with JavaScript: sent",
		chromedp.Click(`button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[@class="thanks"]//p[contains(., "its number is")]`, chromedp.BySearch))
	shot(t, js, "34-form-thanks-js")

	var tickets struct {
		Tickets []struct {
			ID               int64
			Channel, Subject string
			Fields           map[string]any
		}
	}
	admin.must(200, "GET", "/api/tickets?channel=form", nil).json(t, &tickets)
	if len(tickets.Tickets) != 2 || tickets.Tickets[1].Fields["order"] != "1001" || tickets.Tickets[0].Fields["email"] != "ana@example.com" {
		t.Fatalf("tickets: %+v", tickets)
	}

	// In the app, a field's value narrows the inbox to the tickets that share it.
	rows := `document.querySelectorAll('#rows .row').length`
	cancel() // the customers' tabs; the app's comes to the front and paints again
	cancel2()
	run(t, app, "filter the inbox by the topic of a form ticket",
		target.ActivateTarget(chromedp.FromContext(app).Target.TargetID),
		chromedp.Navigate(fmt.Sprintf("%s/#/channel:form/t/%d", e.srv.URL, tickets.Tickets[1].ID)),
		chromedp.Poll(rows+` === 2`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.WaitVisible(`//dd[contains(., "Returns")]`, chromedp.BySearch),
		chromedp.Click(`//dd[contains(., "Returns")]/button[contains(@class, "field-filter")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[@class="filters"]//span[@class="chip" and contains(., "Returns")]`, chromedp.BySearch),
		chromedp.Poll(rows+` === 1`, nil, chromedp.WithPollingTimeout(10*time.Second)))
	shot(t, app, "35-inbox-filtered-by-field")
	run(t, app, "high priority and the filter together, then no filters",
		chromedp.SetValue(`#priority-filter`, "high", chromedp.ByID),
		chromedp.Evaluate(`document.querySelector('#priority-filter').dispatchEvent(new Event('change'))`, nil),
		chromedp.Poll(`document.querySelectorAll('.filters .chip').length === 2 && `+rows+` === 0`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Click(`//div[@class="filters"]//button[contains(., "Clear")]`, chromedp.BySearch),
		chromedp.Poll(`!document.querySelector('.filters') && `+rows+` === 2`, nil, chromedp.WithPollingTimeout(10*time.Second)))
}
