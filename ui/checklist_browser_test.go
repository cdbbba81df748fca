package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/coder/websocket"

	"onedesk/channels/email/emailtest"
	"onedesk/ui"
)

// The first-run checklist: shown to the admin where no ticket is open,
// each step ticked from the desk's real state and linking to its screen,
// gone once dismissed.
func TestFirstRunChecklistInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	steps := func() (map[string]bool, bool) {
		var c struct {
			Steps []struct {
				Key  string
				Done bool
			}
			Complete, Dismissed bool
		}
		admin.must(200, "GET", "/api/checklist", nil).json(t, &c)
		m := map[string]bool{}
		for _, s := range c.Steps {
			m[s.Key] = s.Done
		}
		return m, c.Dismissed
	}
	if s, _ := steps(); len(s) != 5 || s["store"] || s["snippet"] || s["mailbox"] || s["teammate"] || s["channel"] {
		t.Fatalf("a new desk: %v", s)
	}
	loginOwner(t, ctx, e)
	run(t, ctx, "checklist on the inbox",
		chromedp.EmulateViewport(1366, 768),
		chromedp.WaitVisible(`//section[contains(@class,"checklist")]//a[@href="#/admin/mailboxes" and contains(., "mailbox")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//section[contains(@class,"checklist")]//*[contains(., "0 of 5 done")]`, chromedp.BySearch))
	shot(t, ctx, "60-checklist-new")

	// Things get done elsewhere: the steps tick themselves off.
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"})
	emailtest.Mailbox(t, e.desk, 1, "help@shoes.test", "Shoe Shop")
	admin.must(201, "POST", "/api/agents", map[string]any{"email": "bo@shop.test", "name": "Bo", "password": "password123", "role": "agent"})
	req, _ := http.NewRequest("GET", e.srv.URL+"/chat/config?store=shoe-shop", nil)
	req.Header.Set("Origin", "https://shoes.example") // the widget on the shop's own site
	if res, err := http.DefaultClient.Do(req); err != nil {
		t.Fatal(err)
	} else {
		res.Body.Close()
	}
	if s, _ := steps(); !s["store"] || !s["snippet"] || !s["mailbox"] || !s["teammate"] || s["channel"] {
		t.Fatalf("after the work: %v", s)
	}
	run(t, ctx, "ticked off",
		chromedp.Reload(),
		chromedp.WaitVisible(`//section[contains(@class,"checklist")]//*[contains(., "4 of 5 done")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//section[contains(@class,"checklist")]//li[contains(@class,"done")]/a[@href="#/admin/stores" and contains(., "Settings → Stores")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//section[contains(@class,"checklist")]//li[not(contains(@class,"done"))]/a[@href="#/admin/channels"]`, chromedp.BySearch))
	shot(t, ctx, "61-checklist-1366")
	run(t, ctx, "phone: the checklist heads the menu", chromedp.EmulateViewport(390, 844), chromedp.Reload(),
		chromedp.WaitVisible(`#menu`, chromedp.ByQuery), chromedp.Click(`#menu`, chromedp.ByQuery),
		chromedp.WaitVisible(`.sidebar .checklist`, chromedp.ByQuery))
	shot(t, ctx, "62-checklist-390")

	// In Portuguese, then dismissed for good.
	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, ctx, "portuguese", chromedp.EmulateViewport(1366, 768), chromedp.Reload(),
		chromedp.WaitVisible(`//section[contains(@class,"checklist")]//*[contains(., "4 de 5 feitos")]`, chromedp.BySearch))
	shot(t, ctx, "63-checklist-pt")
	run(t, ctx, "dismiss",
		chromedp.Click(`//section[contains(@class,"checklist")]//button`, chromedp.BySearch),
		chromedp.WaitNotPresent(`.checklist`, chromedp.ByQuery))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if _, dismissed := steps(); dismissed {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("dismissing was not recorded")
		}
	}
	var present bool
	run(t, ctx, "stays dismissed", chromedp.Reload(), chromedp.WaitVisible(".placeholder", chromedp.ByQuery),
		chromedp.Evaluate(`!!document.querySelector('.checklist')`, &present))
	if present {
		t.Fatal("the checklist came back after it was dismissed")
	}
	// Agents never see it; its API is for admins.
	e.agent(admin, "cy@shop.test").must(403, "GET", "/api/checklist", nil)
}

// The customer panel of a chat: an anonymous visitor is "Visitor #id"
// with a readable browser, and the name and address they give appear
// live. "Their tickets" keeps "Merge here" clear of the titles, and a
// profile shows no stray "null".
func TestCustomerPanelInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "my-shop"})
	wsctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(wsctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/chat/ws?store=my-shop", &websocket.DialOptions{
		HTTPHeader: http.Header{"User-Agent": {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	send := func(v map[string]any) {
		b, _ := json.Marshal(v)
		if err := conn.Write(wsctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	waitFrame := func(want string) {
		for {
			_, b, err := conn.Read(wsctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			var f map[string]any
			json.Unmarshal(b, &f)
			if f["type"] == want {
				return
			}
		}
	}
	send(map[string]any{"type": "hello", "page": "https://shop.test/shoes"})
	waitFrame("welcome")
	send(map[string]any{"type": "msg", "cid": "1", "text": "Is size 43 in stock?"})
	waitFrame("ack")
	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	chat := list.Tickets[0]

	loginOwner(t, ctx, e)
	visitor := fmt.Sprintf("Visitor #%d", chat.CustomerID)
	run(t, ctx, "anonymous visitor",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(fmt.Sprintf("%s/#/all/t/%d", e.srv.URL, chat.ID)),
		chromedp.WaitVisible(`//aside//a[contains(@class,"name") and contains(., "`+visitor+`")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//aside//dd[contains(., "Chrome 131 · Windows")]`, chromedp.BySearch))
	var shown string
	run(t, ctx, "no token hash", chromedp.Text(".shell", &shown, chromedp.ByQuery))
	if strings.Contains(shown, "Mozilla/5.0") || strings.Contains(shown, "KHTML") {
		t.Fatalf("raw user agent on screen")
	}
	for _, w := range strings.Fields(shown) {
		if len(w) == 25 && w[0] == 'v' && strings.Trim(w[1:], "0123456789abcdef") == "" {
			i := strings.Index(shown, w)
			t.Fatalf("visitor token hash %q on screen: …%s…", w, shown[max(0, i-200):min(len(shown), i+100)])
		}
	}
	shot(t, ctx, "64-visitor-panel")

	// The visitor gives name and address: the open panel shows them.
	send(map[string]any{"type": "identify", "name": "Rui Costa", "email": "rui@example.pt"})
	waitFrame("identified")
	run(t, ctx, "live identify",
		chromedp.WaitVisible(`//aside//a[contains(@class,"name") and contains(., "Rui Costa")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//aside//li[contains(., "rui@example.pt")]`, chromedp.BySearch))

	// Another ticket of Rui's: "Merge here" sits clear of its title.
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Refund for the blue runners, order 1001", "body": "Charged twice",
		"customer": map[string]string{"email": "rui@example.pt"}})
	var boxes struct {
		Overlap    bool
		TitleWidth float64
	}
	run(t, ctx, "their tickets",
		chromedp.Reload(),
		chromedp.WaitVisible(`//ul[contains(@class,"other-tickets")]//button[contains(@class,"merge-here")]`, chromedp.BySearch),
		chromedp.Evaluate(`(() => {
			const li = [...document.querySelectorAll('.other-tickets li')].find((x) => x.querySelector('.merge-here'));
			const title = li.querySelector('button span:nth-of-type(1)').getBoundingClientRect();
			const merge = li.querySelector('.merge-here').getBoundingClientRect();
			const overlap = !(merge.right <= title.left || merge.left >= title.right || merge.bottom <= title.top || merge.top >= title.bottom);
			return { Overlap: overlap, TitleWidth: title.width };
		})()`, &boxes))
	if boxes.Overlap || boxes.TitleWidth < 120 {
		t.Fatalf("their tickets: merge button over the title %v, title %.0f px wide", boxes.Overlap, boxes.TitleWidth)
	}
	shot(t, ctx, "65-their-tickets")
	var profile string
	run(t, ctx, "profile",
		chromedp.Navigate(fmt.Sprintf("%s/#/customers/%d", e.srv.URL, chat.CustomerID)),
		chromedp.WaitVisible(`.profile-head`, chromedp.ByQuery),
		chromedp.WaitVisible(`//ol[contains(@class,"timeline")]//li`, chromedp.BySearch),
		chromedp.Text("#customer-profile", &profile, chromedp.ByQuery))
	if strings.Contains(profile, "null") || strings.Contains(profile, "undefined") {
		t.Fatalf("profile shows null: %q", profile)
	}
	shot(t, ctx, "66-profile")
}
