package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"onedesk/ui"
)

// The owner works a ticket in the app while Ana works it over the API and
// her agent socket: the presence line shows her, a reply she sent
// meanwhile asks before the owner's goes, and a note's "@" picker
// mentions a colleague, who is notified.
func TestCollisionInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ana, anaID := e.teammate(admin, "ana@shop.test", "Ana Silva")
	zoe, _ := e.teammate(admin, "zoe@shop.test", "Zoë Kovář")
	tk := admin.newTicket("Zipper broke on day two", "carla@shop.test")
	anaSocket, zoeSocket := ana.socket(t.Context()), zoe.socket(t.Context())
	loginOwner(t, app, e)

	anaSocket.send(map[string]any{"type": "viewing", "ticket_id": tk.ID})
	run(t, app, "Ana is on the ticket",
		chromedp.Navigate(fmt.Sprintf("%s/#/open/t/%d", e.srv.URL, tk.ID)),
		chromedp.WaitVisible(`//div[@id="viewers"]//span[contains(., "Ana Silva is viewing")]`, chromedp.BySearch))
	// Ana keeps typing as the app does, a frame every 3 s: the server
	// forgets typing 6 s after the last one, less than a busy machine's
	// browser may take to show it.
	typing, stop := context.WithCancel(t.Context())
	stopped := make(chan struct{})
	stopTyping := func() { stop(); <-stopped }
	go func() {
		defer close(stopped)
		for {
			anaSocket.conn.Write(t.Context(), websocket.MessageText, []byte(fmt.Sprintf(`{"type":"typing","ticket_id":%d}`, tk.ID)))
			select {
			case <-typing.Done():
				return
			case <-time.After(3 * time.Second):
			}
		}
	}()
	run(t, app, "Ana types a reply",
		chromedp.WaitVisible(`//div[@id="viewers" and contains(@class, "replying")]//span[contains(., "Ana Silva is typing a reply")]`, chromedp.BySearch))
	// The owner's own socket said "viewing" too: Ana hears of it.
	anaSocket.viewers(tk.ID, "1", fmt.Sprint(anaID)+":typing")

	// The owner writes; Ana's reply goes first.
	run(t, app, "the owner writes",
		chromedp.SendKeys(`#reply`, "Hello Carla, we will send a new one today.", chromedp.ByID))
	shot(t, app, "60-presence-typing")
	stopTyping() // she sends
	ana.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "Hi Carla, a refund is on its way."})
	run(t, app, "sending asks first",
		chromedp.Click(`#send`, chromedp.ByID),
		chromedp.WaitVisible(`//div[contains(@class,"dialog conflict")]//h2[contains(., "Ana Silva replied since you started writing")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"conflict-replies")]//div[contains(., "a refund is on its way")]`, chromedp.BySearch))
	shot(t, app, "61-reply-conflict")
	var draft string
	run(t, app, "keep editing keeps the draft",
		chromedp.Click(`#conflict-cancel`, chromedp.ByID),
		chromedp.WaitNotPresent(`.dialog.conflict`, chromedp.ByQuery),
		chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[contains(., "a refund is on its way")]`, chromedp.BySearch),
		// Her reply made the unassigned ticket hers.
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "Ana Silva took the ticket by replying")]`, chromedp.BySearch),
		chromedp.Value(`#reply`, &draft, chromedp.ByID))
	if draft != "Hello Carla, we will send a new one today." {
		t.Fatalf("draft after cancel: %q", draft)
	}
	// Ana answers again; this time the owner sends anyway.
	ana.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "Also, here is a voucher."})
	run(t, app, "send anyway",
		chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[contains(., "here is a voucher")]`, chromedp.BySearch),
		chromedp.Click(`#send`, chromedp.ByID),
		chromedp.WaitVisible(`//div[contains(@class,"conflict-replies")]//div[contains(., "here is a voucher")]`, chromedp.BySearch),
		chromedp.Click(`#conflict-send`, chromedp.ByID),
		chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[contains(., "we will send a new one today")]`, chromedp.BySearch),
		chromedp.Poll(`document.querySelector('#reply').value === ''`, nil, chromedp.WithPollingTimeout(10*time.Second)))

	// A note mentions Zoë through the "@" picker.
	var note string
	run(t, app, "@ opens the agent picker in a note",
		chromedp.Click(`.composer .modes button[data-mode="note"]`, chromedp.ByQuery),
		chromedp.SendKeys(`#reply`, "Stock check please @zo", chromedp.ByID),
		chromedp.WaitVisible(`//div[contains(@class,"reply-picker")]//strong[contains(., "Zoë Kovář")]`, chromedp.BySearch))
	shot(t, app, "62-mention-picker")
	run(t, app, "the picked name is written",
		// One keyDown carrying its text, as a keyboard sends it (the page
		// cancels it to pick the name).
		chromedp.ActionFunc(func(ctx context.Context) error {
			return input.DispatchKeyEvent(input.KeyDown).WithKey("Enter").WithCode("Enter").
				WithWindowsVirtualKeyCode(13).WithText("\r").Do(ctx)
		}),
		chromedp.Poll(`document.querySelector('#reply').value === 'Stock check please @Zoë Kovář '`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.SendKeys(`#reply`, "— size M?", chromedp.ByID),
		chromedp.Value(`#reply`, &note, chromedp.ByID),
		chromedp.Click(`#send`, chromedp.ByID),
		chromedp.WaitVisible(`//article[contains(@class,"note")]//span[contains(@class,"mention") and .="@Zoë Kovář"]`, chromedp.BySearch))
	shot(t, app, "63-mention-note")
	for {
		v := zoeSocket.next()
		if v["type"] == "notification" {
			n := v["notification"].(map[string]any)
			if n["kind"] != "mention" || n["by"] != "Olga Owner" || !strings.Contains(n["text"].(string), "size M") {
				t.Fatalf("Zoë's notification %v", n)
			}
			break
		}
	}

	// Zoë mentions the owner back: a toast says so.
	zoe.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "@olga M is in stock", "internal": true})
	run(t, app, "the owner is told",
		chromedp.WaitVisible(`//div[contains(@class,"toast") and contains(., "Zoë Kovář mentioned you on #`+fmt.Sprint(tk.ID)+`")]`, chromedp.BySearch))
	shot(t, app, "64-mention-toast")

	// Ana leaves: her socket closes and the line empties.
	anaSocket.conn.CloseNow()
	run(t, app, "Ana left",
		chromedp.WaitNotVisible(`#viewers`, chromedp.ByID))

	// The desk setting.
	run(t, app, "assign on reply is a setting",
		chromedp.Navigate(e.srv.URL+"/#/admin/settings"),
		chromedp.WaitVisible(`input[name="assign_on_reply"]:checked`, chromedp.ByQuery),
		chromedp.Click(`input[name="assign_on_reply"]`, chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		// Its own toast: the mention's may still be on screen.
		chromedp.WaitVisible(`//div[contains(@class,"toast") and contains(., "Saved")]`, chromedp.BySearch))
	shot(t, app, "65-settings")
	var st map[string]any
	admin.must(200, "GET", "/api/settings", nil).json(t, &st)
	if st["assign_on_reply"] != false {
		t.Fatalf("settings after the app saved them: %v", st)
	}
}
