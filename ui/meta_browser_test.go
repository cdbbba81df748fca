package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/channels/meta"
	"onedesk/channels/meta/metatest"
	"onedesk/ui"
)

// An admin connects a Facebook page with its Instagram account under
// Settings → Channels and sees what to paste at Meta; an Instagram story
// reply shows as such on its ticket, and the customer reading the answer
// shows on it, live.
func TestMetaInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	api := metatest.New()
	t.Cleanup(api.Close)
	ch := meta.New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)), meta.Options{APIURL: api.URL})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ch.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	hook := httptest.NewServer(ch)
	t.Cleanup(hook.Close)
	deliver := func(body []byte) {
		t.Helper()
		req, _ := http.NewRequest("POST", hook.URL+"/hooks/meta", bytes.NewReader(body))
		req.Header.Set("X-Hub-Signature-256", metatest.Sign(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("delivery: %v %v", res, err)
		}
		res.Body.Close()
	}
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]string{"name": "Lisbon Shop", "slug": "lisbon"})
	loginOwner(t, app, e)

	run(t, app, "a wrong token refused",
		chromedp.Navigate(e.srv.URL+"/#/admin/channels"),
		chromedp.WaitVisible(`.meta-connect input[name="page_id"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.meta-connect input[name="page_id"]`, metatest.PageID, chromedp.ByQuery),
		chromedp.SendKeys(`.meta-connect input[name="access_token"]`, "EAAGwrong", chromedp.ByQuery),
		chromedp.SendKeys(`.meta-connect input[name="app_secret"]`, metatest.AppSecret, chromedp.ByQuery),
		chromedp.Click(`.meta-connect button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//form[contains(@class,"meta-connect")]//p[contains(@class,"error") and contains(., "expired")]`, chromedp.BySearch),
		chromedp.Poll(`document.activeElement.name === 'access_token'`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	run(t, app, "page connected",
		chromedp.SetValue(`.meta-connect input[name="access_token"]`, metatest.Token, chromedp.ByQuery),
		chromedp.Click(`.meta-connect button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//table[contains(@class,"social-accounts")]//strong[.="Shop Support · @shop.support"]`, chromedp.BySearch),
		chromedp.Poll(`[...document.querySelectorAll('.meta-copy input')].map((i) => i.value).join(' ').match(/\/hooks\/meta od-[0-9a-f]{32}$/)`,
			nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.ScrollIntoView(`.meta-card`, chromedp.ByQuery))
	shot(t, app, "75-meta-connected")

	story := api.AddMedia("story.jpg", []byte("\xff\xd8\xff\xe0 story picture"))
	api.AddProfile("7771", "Bea Costa", "bea.c")
	deliver(metatest.Delivery("instagram", metatest.IGID, metatest.Message("7771", metatest.IGID, "aWdStory1", map[string]any{
		"text": "Do you have this jacket in M?", "reply_to": map[string]any{"story": map[string]string{"url": story, "id": "1789"}}})))
	run(t, app, "the story reply on its ticket",
		chromedp.Navigate(e.srv.URL+"/#/all"),
		chromedp.WaitVisible(`//a[contains(., "Do you have this jacket in M?")]`, chromedp.BySearch),
		chromedp.Click(`//a[contains(., "Do you have this jacket in M?")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//article[contains(@class,"msg customer")]//div[contains(@class,"story-line") and contains(., "Replied to your story")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//article[contains(@class,"msg customer")]//*[contains(., "Bea Costa (@bea.c)")]`, chromedp.BySearch))
	var list struct{ Tickets []struct{ ID int64 } }
	admin.must(200, "GET", "/api/tickets?channel=instagram", nil).json(t, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("tickets %+v", list)
	}
	var m struct{ ID int64 }
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", list.Tickets[0].ID), map[string]any{"body": "Yes, M is in stock: shall I keep one for you?"}).json(t, &m)
	var sent struct {
		ExternalID string `json:"external_id"`
		Delivery   string
	}
	for deadline := time.Now().Add(10 * time.Second); sent.Delivery != "sent" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		var tk struct {
			Messages []struct {
				ID         int64
				ExternalID string `json:"external_id"`
				Delivery   string
			}
		}
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", list.Tickets[0].ID), nil).json(t, &tk)
		for _, x := range tk.Messages {
			if x.ID == m.ID {
				sent.ExternalID, sent.Delivery = x.ExternalID, x.Delivery
			}
		}
	}
	if sent.Delivery != "sent" || sent.ExternalID == "" {
		t.Fatalf("reply %+v", sent)
	}
	deliver(metatest.Delivery("instagram", metatest.IGID, map[string]any{"sender": map[string]string{"id": "7771"},
		"recipient": map[string]string{"id": metatest.IGID}, "timestamp": time.Now().UnixMilli(), "read": map[string]any{"mid": sent.ExternalID}}))
	run(t, app, "read, live",
		chromedp.WaitVisible(`//article[contains(@class,"msg agent")]//div[contains(@class,"delivery read") and contains(., "Read")]`, chromedp.BySearch))
	shot(t, app, "76-meta-story-read")
}
