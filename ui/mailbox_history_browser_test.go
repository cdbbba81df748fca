package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/store"
	"onedesk/ui"
)

// TestMailboxHistoryAPI: where a mailbox starts is asked on create and
// edit, checked, and its history import is shown and cancelled.
func TestMailboxHistoryAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	api := e.admin()
	base := map[string]any{"address": "help@shop.test", "imap_host": "imap.shop.test", "smtp_host": "smtp.shop.test"}
	with := func(extra map[string]any) map[string]any {
		m := map[string]any{}
		for k, v := range base {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{with(map[string]any{"start_from": "history"}), "history_since"},
		{with(map[string]any{"start_from": "history", "history_since": "31.01.2025"}), "history_since"},
		{with(map[string]any{"start_from": "history", "history_since": time.Now().AddDate(0, 0, 3).Format(time.DateOnly)}), "history_since"},
		{with(map[string]any{"start_from": "yesterday"}), "start_from"},
	} {
		r := api.must(400, "POST", "/api/mailboxes", c.body)
		if !strings.Contains(string(r.body), `"field":"`+c.field+`"`) {
			t.Fatalf("%v: %s, want a refusal of %s", c.body, r.body, c.field)
		}
	}
	var mb struct {
		ID           int64  `json:"id"`
		StartFrom    string `json:"start_from"`
		HistorySince string `json:"history_since"`
		HistoryState string `json:"history_state"`
	}
	api.must(201, "POST", "/api/mailboxes", base).json(t, &mb)
	if mb.StartFrom != "new" || mb.HistoryState != "" {
		t.Fatalf("default start %+v", mb)
	}
	api.must(200, "PATCH", fmt.Sprintf("/api/mailboxes/%d", mb.ID), map[string]any{"start_from": "history", "history_since": "2025-01-31", "sent_folder": "Sent Items"}).json(t, &mb)
	if mb.HistoryState != "pending" || !strings.HasPrefix(mb.HistorySince, "2025-01-31T00:00:00") {
		t.Fatalf("history asked for: %+v", mb)
	}
	var list struct {
		Mailboxes []struct {
			SentFolder string                 `json:"sent_folder"`
			History    *store.HistoryProgress `json:"history"`
		} `json:"mailboxes"`
	}
	api.must(200, "GET", "/api/mailboxes", nil).json(t, &list)
	if h := list.Mailboxes[0].History; h == nil || h.State != "pending" || list.Mailboxes[0].SentFolder != "Sent Items" {
		t.Fatalf("listed %+v", list.Mailboxes[0])
	}
	api.must(200, "POST", fmt.Sprintf("/api/mailboxes/%d/history/cancel", mb.ID), nil).json(t, &mb)
	if mb.HistoryState != "cancelled" {
		t.Fatalf("after cancel %+v", mb)
	}
	if r := api.must(400, "POST", fmt.Sprintf("/api/mailboxes/%d/history/cancel", mb.ID), nil); !strings.Contains(string(r.body), `"field":"history_state"`) {
		t.Fatalf("second cancel: %s", r.body)
	}
	// Another day starts a new import.
	api.must(200, "PATCH", fmt.Sprintf("/api/mailboxes/%d", mb.ID), map[string]any{"history_since": "2024-06-01"}).json(t, &mb)
	if mb.HistoryState != "pending" {
		t.Fatalf("a new day: %+v", mb)
	}
}

// TestMailboxHistoryInBrowser: the mailbox form asks where to start (the
// day only for history), and a running import shows its bar, done of
// total and time left on the mailbox's card and as a notice in the menu,
// until it is cancelled; at two sizes and in two languages.
func TestMailboxHistoryInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	api := e.admin()
	bg := context.Background()
	var mb struct{ ID int64 }
	api.must(201, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "name": "Shop help", "imap_host": "imap.shop.test",
		"smtp_host": "smtp.shop.test", "start_from": "history", "history_since": "2024-01-01"}).json(t, &mb)
	// The import as it stands a while into a large mailbox (no IMAP server
	// runs here: its state is written as the import writes it).
	err := e.db.Write(bg, func(tx *store.Tx) error {
		for _, f := range []store.HistoryFolder{
			{MailboxID: mb.ID, Folder: "INBOX", Role: "inbox", UIDValidity: 1, StopUID: 20000, Total: 12000, Done: 4200},
			{MailboxID: mb.ID, Folder: "Sent", Role: "sent", UIDValidity: 2, StopUID: 5000, Total: 3000},
		} {
			if err := tx.SaveHistoryFolder(bg, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.SetHistoryState(bg, mb.ID, store.HistoryPending, store.HistoryRunning, "", ""); err != nil {
		t.Fatal(err)
	}
	// A pace to tell the time left from: 300 more done, 3 seconds on (the
	// owner signs in meanwhile).
	paceFrom := time.Now()
	loginOwner(t, ctx, e)
	time.Sleep(3*time.Second - time.Since(paceFrom))
	err = e.db.Write(bg, func(tx *store.Tx) error {
		return tx.SaveHistoryFolder(bg, store.HistoryFolder{MailboxID: mb.ID, Folder: "INBOX", Role: "inbox", UIDValidity: 1, StopUID: 20000, Total: 12000, Done: 4500})
	})
	if err != nil {
		t.Fatal(err)
	}

	for _, lang := range []string{"en", "pt"} {
		api.must(200, "PATCH", "/api/me", map[string]string{"language": lang})
		of := map[string]string{"en": "messages", "pt": "mensagens"}[lang]
		left := map[string]string{"en": "left", "pt": "faltam"}[lang]
		run(t, ctx, "mailboxes "+lang,
			chromedp.EmulateViewport(1366, 768),
			chromedp.Navigate(e.srv.URL+"/?lang="+lang+"#/admin/mailboxes"),
			chromedp.WaitVisible(fmt.Sprintf(`//div[contains(@class, "history-status")]/progress/following-sibling::p[contains(., "500") and contains(., "15") and contains(., %q) and contains(., %q)]`, of, left), chromedp.BySearch),
			chromedp.WaitVisible(`//a[@id="history-notice" and contains(., "30")]`, chromedp.BySearch))
		shot(t, ctx, "history-card-"+lang+"-1366")
		// The add form: the day is asked for only with history.
		var hidden bool
		run(t, ctx, "start choice "+lang,
			chromedp.ScrollIntoView(`(//form)[last()]//select[@name="start_from"]`, chromedp.BySearch),
			chromedp.Evaluate(`document.querySelectorAll('form')[document.querySelectorAll('form').length-1].querySelector('[name=history_since]').closest('label').hidden`, &hidden))
		if !hidden {
			t.Fatal("the history's day is asked for with new mail only")
		}
		run(t, ctx, "choose history "+lang,
			chromedp.SetValue(`(//form)[last()]//select[@name="start_from"]`, "history", chromedp.BySearch),
			chromedp.Evaluate(`(() => { const s = [...document.querySelectorAll('select[name=start_from]')].pop(); s.dispatchEvent(new Event('change')); })()`, nil),
			chromedp.WaitVisible(`(//form)[last()]//input[@name="history_since"]`, chromedp.BySearch),
			chromedp.ScrollIntoView(`(//form)[last()]//input[@name="sent_folder"]`, chromedp.BySearch))
		shot(t, ctx, "history-form-"+lang+"-1366")
		run(t, ctx, "phone "+lang, chromedp.EmulateViewport(390, 844),
			chromedp.ScrollIntoView(`.history-status`, chromedp.ByQuery))
		shot(t, ctx, "history-card-"+lang+"-390")
		run(t, ctx, "phone form "+lang, chromedp.ScrollIntoView(`(//form)[last()]//input[@name="history_since"]`, chromedp.BySearch))
		shot(t, ctx, "history-form-"+lang+"-390")
		run(t, ctx, "phone menu "+lang, chromedp.Navigate(e.srv.URL+"/#/menu"), chromedp.WaitVisible(`#history-notice`, chromedp.ByID))
		shot(t, ctx, "history-notice-"+lang+"-390")
	}
	// Cancelled: the bar and the notice go, the card says how far it came.
	run(t, ctx, "cancel",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(e.srv.URL+"/#/admin/mailboxes"),
		chromedp.Click(`//div[contains(@class, "history-status")]/button`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class, "history-status")]/p[contains(., "cancelada") or contains(., "cancelled")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`.history-status progress`, chromedp.ByQuery),
		chromedp.WaitNotVisible(`#history-notice`, chromedp.ByID))
	shot(t, ctx, "history-cancelled")
}
