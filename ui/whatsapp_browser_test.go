package ui_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/channels/whatsapp"
	"onedesk/channels/whatsapp/graphtest"
	"onedesk/store"
	"onedesk/ui"
)

// An admin connects a WhatsApp number under Settings → Channels, copies
// what to paste at Meta and lists a template; on a ticket whose 24-hour
// window has closed, the reply box says so and sends the template.
func TestWhatsAppInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	api := graphtest.New()
	t.Cleanup(api.Stop)
	ch := whatsapp.New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)), whatsapp.Options{APIURL: api.URL, PublicURL: "https://desk.example.com"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ch.Run(ctx); close(done) }()
	go e.desk.RunOutbox(ctx)
	t.Cleanup(func() { cancel(); <-done })
	hook := httptest.NewServer(ch)
	t.Cleanup(hook.Close)
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]string{"name": "Lisbon Shop", "slug": "lisbon"})
	loginOwner(t, app, e)

	run(t, app, "a wrong token refused",
		chromedp.Navigate(e.srv.URL+"/#/admin/channels"),
		chromedp.WaitVisible(`.wa-connect input[name="phone_number_id"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.wa-connect input[name="phone_number_id"]`, graphtest.PhoneNumberID, chromedp.ByQuery),
		chromedp.SendKeys(`.wa-connect input[name="access_token"]`, "EAAGwrong", chromedp.ByQuery),
		chromedp.SendKeys(`.wa-connect input[name="app_secret"]`, graphtest.AppSecret, chromedp.ByQuery),
		chromedp.Click(`.wa-connect button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//form[contains(@class,"wa-connect")]//p[contains(@class,"error") and contains(., "expired")]`, chromedp.BySearch),
		chromedp.Poll(`document.activeElement.name === 'access_token'`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	run(t, app, "number connected",
		chromedp.SetValue(`.wa-connect input[name="access_token"]`, graphtest.Token, chromedp.ByQuery),
		chromedp.Click(`.wa-connect button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[contains(@class,"wa-card")]//table//strong[.="`+graphtest.DisplayPhone+`"]`, chromedp.BySearch),
		chromedp.Poll(`[...document.querySelectorAll('.wa-card .meta-copy input')].map((el) => el.value).join(' ').match(/^https:\/\/desk\.example\.com\/hooks\/whatsapp onedesk-[0-9a-f]{36}$/) !== null`,
			nil, chromedp.WithPollingTimeout(5*time.Second)))
	run(t, app, "a template listed",
		chromedp.SendKeys(`.wa-templates textarea`, "order_update | en_US | Hello {{1}}, your order {{2}} has news: reply to talk to us.", chromedp.ByQuery),
		chromedp.Click(`.wa-templates button[type="submit"]`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('.wa-templates textarea')?.value.startsWith('order_update | en_US')`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	shot(t, app, "77-whatsapp-connected")

	// Ana wrote yesterday: her window closed an hour ago.
	dl := graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret,
		graphtest.Message("351912345678", "Ana Silva", "wamid.old1", time.Now(), graphtest.Text("Is my order 1001 on its way?")))
	var tid int64
	for deadline := time.Now().Add(10 * time.Second); tid == 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no WhatsApp ticket")
		}
		req, _ := http.NewRequest("POST", hook.URL+"/hooks/whatsapp", bytes.NewReader(dl.Body))
		req.Header.Set("X-Hub-Signature-256", dl.Signature)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
		var list struct{ Tickets []struct{ ID int64 } }
		admin.must(200, "GET", "/api/tickets?channel=whatsapp", nil).json(t, &list)
		if len(list.Tickets) == 1 {
			tid = list.Tickets[0].ID
		}
	}
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		tk, err := tx.Ticket(context.Background(), tid)
		if err != nil {
			return err
		}
		yesterday := time.Now().Add(-25 * time.Hour)
		tk.LastCustomerAt = &yesterday
		return tx.UpdateTicket(context.Background(), tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	run(t, app, "the closed window in the reply box",
		chromedp.Navigate(e.srv.URL+"/#/all"),
		chromedp.WaitVisible(`//a[contains(., "Is my order 1001 on its way?")]`, chromedp.BySearch),
		chromedp.Click(`//a[contains(., "Is my order 1001 on its way?")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//span[contains(@class,"wa-window") and contains(@class,"closed")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//form[contains(@class,"wa-notice")]//*[contains(., "24-hour WhatsApp window closed")]`, chromedp.BySearch),
		chromedp.SendKeys(`.wa-notice input[data-param="1"]`, "Ana", chromedp.ByQuery),
		chromedp.SendKeys(`.wa-notice input[data-param="2"]`, "1001", chromedp.ByQuery),
		chromedp.WaitVisible(`//p[contains(@class,"wa-preview") and .="Hello Ana, your order 1001 has news: reply to talk to us."]`, chromedp.BySearch))
	shot(t, app, "78-whatsapp-window-closed")
	// A plain reply now is refused as it is sent, and stays in the box.
	var kept string
	run(t, app, "a plain reply refused",
		chromedp.SendKeys(`#reply`, "Are you there?", chromedp.ByQuery),
		chromedp.Click(`#send`, chromedp.ByQuery),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "only an approved template can be sent")]`, chromedp.BySearch),
		chromedp.Value(`#reply`, &kept, chromedp.ByQuery))
	shot(t, app, "78b-whatsapp-plain-reply-refused")
	if kept != "Are you there?" {
		t.Fatalf("the reply box after the refusal: %q", kept)
	}
	run(t, app, "the template sent",
		chromedp.Click(`.wa-notice button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//article[contains(@class,"msg agent")][contains(., "Hello Ana, your order 1001 has news")]//div[contains(@class,"delivery") and contains(., "Sent")]`, chromedp.BySearch))
	shot(t, app, "79-whatsapp-template-sent")
	sends := api.Calls("/messages")
	if len(sends) != 1 || sends[0].Body["type"] != "template" || sends[0].Body["to"] != "351912345678" {
		t.Fatalf("sends %+v", sends)
	}
}
