package ui_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/ui"
	"onedesk/webhooks"
	"onedesk/webhooks/webhookstest"
)

// The owner adds a webhook in the app, copies the secret shown once, sends
// a test and sees it delivered, signed with that secret; the rules editor
// offers the webhook as an action.
func TestWebhooksInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	e.admin()
	c, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.hooks.Run(c, e.desk)

	recv := webhookstest.New(t)
	loginOwner(t, app, e)

	var secret string
	run(t, app, "webhook added in the app",
		chromedp.Navigate(e.srv.URL+"/#/admin/webhooks"),
		chromedp.WaitVisible(`//button[contains(., "Add a webhook")]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., "Add a webhook")]`, chromedp.BySearch),
		chromedp.WaitVisible(`.rule-editor input[name="name"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.rule-editor input[name="name"]`, "Team chat", chromedp.ByQuery),
		chromedp.SendKeys(`.rule-editor input[name="url"]`, "ftp://nope", chromedp.ByQuery),
		chromedp.Click(`.rule-editor input[value="ticket.updated"]`, chromedp.ByQuery),
		chromedp.Click(`.rule-editor .save-bar button[type="submit"]`, chromedp.ByQuery),
		// Refused with the field at fault, focused.
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "http")]`, chromedp.BySearch),
		chromedp.Poll(`document.activeElement.name === 'url'`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	shot(t, app, "59-webhook-editor")
	run(t, app, "webhook saved",
		chromedp.SetValue(`.rule-editor input[name="url"]`, recv.URL+"/onedesk", chromedp.ByQuery),
		chromedp.Click(`.rule-editor .save-bar button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.hook-secret code`, chromedp.ByQuery),
		chromedp.Text(`.hook-secret code`, &secret, chromedp.ByQuery),
		chromedp.WaitVisible(`//td//strong[contains(., "Team chat")]`, chromedp.BySearch))
	shot(t, app, "60-webhook-secret")
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret shown %q", secret)
	}
	hooks, _ := e.db.Webhooks(context.Background())
	if len(hooks) != 1 || strings.Join(hooks[0].Events, ",") != "ticket.created,message.created,ticket.rated" {
		t.Fatalf("saved %+v", hooks)
	}

	run(t, app, "test sent and delivered",
		chromedp.Click(`//button[contains(., "Send test")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[contains(., "Deliveries")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//table[contains(@class,"deliveries")]//tr[@data-status="delivered"]//td[contains(., "Test")]`, chromedp.BySearch))
	shot(t, app, "61-webhook-deliveries")
	if posts := recv.Posts(); len(posts) != 1 || posts[0].Event != "ping" {
		t.Fatalf("receiver got %q", recv.Lines())
	} else if !posts[0].SignedWith(secret) {
		t.Errorf("the post is not signed with the secret the app showed")
	}

	// A second one whose endpoint fails: the list says so, with the answer.
	broken := webhookstest.New(t).Answer(func(int) (int, string) { return http.StatusInternalServerError, "database is down" })
	name, url, events := "CRM", broken.URL, []string{"ticket.created"}
	crm, _, err := e.hooks.Save(context.Background(), 0, webhooks.Input{Name: &name, URL: &url, Events: &events})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.hooks.Test(context.Background(), crm.ID); err != nil {
		t.Fatal(err)
	}
	run(t, app, "back to the list, status shown",
		chromedp.Click(`//button[contains(., "All webhooks")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//td[contains(@class,"hook-status")]//span[contains(., "Working")]`, chromedp.BySearch))
	for i := 0; ; i++ {
		if w, _ := e.db.Webhook(context.Background(), crm.ID); w.LastStatus == "failed" {
			break
		}
		if i > 200 {
			t.Fatal("the failing webhook was not tried")
		}
		time.Sleep(50 * time.Millisecond)
	}
	run(t, app, "the failing one shows its error",
		chromedp.Navigate(e.srv.URL+"/#/admin/rules"),
		chromedp.WaitVisible(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.Navigate(e.srv.URL+"/#/admin/webhooks"),
		chromedp.WaitVisible(`//td[contains(@class,"hook-status")]//div[contains(., "500 Internal Server Error") and not(contains(., "database is down"))]`, chromedp.BySearch),
		chromedp.Poll(`!document.querySelector('#admin').innerText.includes('null')`, nil, chromedp.WithPollingTimeout(2*time.Second)))
	shot(t, app, "62-webhooks")

	var options string
	run(t, app, "the rules editor offers the webhook",
		chromedp.Navigate(e.srv.URL+"/#/admin/rules"),
		chromedp.WaitVisible(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.Click(`//button[contains(., "New rule")]`, chromedp.BySearch),
		chromedp.WaitVisible(`.rule-editor .rule-rows .rule-field`, chromedp.ByQuery),
		chromedp.SetValue(`(//div[contains(@class,"rule-rows")])[2]//select[contains(@class,"rule-field")]`, "webhook", chromedp.BySearch),
		chromedp.Evaluate(`document.querySelectorAll('.rule-rows')[1].children[0].querySelector('.rule-field').dispatchEvent(new Event('change'))`, nil),
		chromedp.Text(`(//div[contains(@class,"rule-rows")])[2]//select[contains(@class,"rule-value")]`, &options, chromedp.BySearch))
	if !strings.Contains(options, "Team chat") {
		t.Errorf("webhook action offers %q", options)
	}
}
