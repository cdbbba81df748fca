package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/ui"
)

// greetingStats reads what the store's greetings counted, by name.
func greetingStats(t *testing.T, admin *client, storeID int64) map[string][3]int64 {
	var body struct {
		Greetings []struct {
			ID   int64
			Name string
		}
		Stats []struct {
			GreetingID int64 `json:"greeting_id"`
			Shown      int64
			Opened     int64
			Chats      int64
		}
	}
	admin.must(200, "GET", fmt.Sprintf("/api/stores/%d/greetings", storeID), nil).json(t, &body)
	out := map[string][3]int64{}
	for _, s := range body.Stats {
		for _, g := range body.Greetings {
			if g.ID == s.GreetingID {
				out[g.Name] = [3]int64{s.Shown, s.Opened, s.Chats}
			}
		}
	}
	return out
}

// waitStats polls the counts until one greeting's are want.
func waitStats(t *testing.T, admin *client, storeID int64, name string, want [3]int64) {
	t.Helper()
	var got [3]int64
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = greetingStats(t, admin, storeID)[name]; got == want {
			return
		}
	}
	t.Fatalf("greeting %q counted %v (shown, opened, chats), want %v", name, got, want)
}

// settled waits until the page has loaded the greeting code and been open
// for longer than secs: a greeting due by then would be showing.
func settled(t *testing.T, ctx context.Context, secs float64) {
	t.Helper()
	var ok bool
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`!!(window.__onedeskParts && window.__onedeskParts.greet) && performance.now() > %f`, secs*1000), &ok))
		if ok {
			return
		}
	}
	t.Fatal("the greeting code did not load")
}

// bubble is the text of the greeting bubble in the widget ("" when none).
func bubble(ctx context.Context, in chromedp.QueryOption) string {
	sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var text string
	chromedp.Run(sctx, chromedp.Text(".greet .txt", &text, chromedp.ByQuery, in, chromedp.AtLeast(0)))
	return text
}

// still waits until the page's animations (the bubble's fade-in) end, so
// that a screenshot shows the page at rest.
func still(t *testing.T, ctx context.Context) {
	t.Helper()
	run(t, ctx, "animations end", chromedp.Poll(`document.getAnimations().length === 0`, nil, chromedp.WithPollingTimeout(10*time.Second)))
}

// waitWidgetText polls an element of the widget until its text is want.
func waitWidgetText(t *testing.T, ctx context.Context, in chromedp.QueryOption, sel, want string) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		chromedp.Run(sctx, chromedp.Text(sel, &got, chromedp.ByQuery, in, chromedp.AtLeast(0)))
		cancel()
		if got == want {
			return
		}
	}
	t.Fatalf("widget %s says %q, want %q", sel, got, want)
}

// TestProactiveGreetingInBrowser: a store greets visitors on its product
// pages after two seconds, and returning visitors on its about page. In
// Chromium, with the widget on a storefront of another origin: the
// greeting shows on the matching page only, after its time, once per
// visit; a returning visitor gets theirs; the counters move (shown,
// opened, chat started). The header says whether the team is online, live,
// and names the agent who replies, with their picture.
func TestProactiveGreetingInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shop := shoeShop(t, e, admin)
	var stores struct {
		Stores []struct{ ID int64 }
	}
	admin.must(200, "GET", "/api/stores", nil).json(t, &stores)
	storeID := stores.Stores[0].ID
	admin.must(200, "PUT", fmt.Sprintf("/api/stores/%d/greetings", storeID), map[string]any{"greetings": []map[string]any{
		{"name": "sizes", "url_pattern": "/products/*", "delay_seconds": 2, "audience": "any", "active": true,
			"messages": map[string]string{"en": "Need help choosing a size?", "pt": "Precisa de ajuda para escolher o tamanho?"}},
		{"name": "welcome back", "url_pattern": "/about", "delay_seconds": 1, "audience": "returning", "active": true,
			"messages": map[string]string{"en": "Welcome back! Anything we can help with?", "pt": "Bem-vindo de volta! Podemos ajudar?"}},
	}})
	agentWS := agentOnline(t, e, admin)

	// Visit 1, a new visitor: the about page greets returning visitors only.
	in := widgetRoot(t, ctx, "about page", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(shop+"/about"))
	settled(t, ctx, 3)
	if text := bubble(ctx, in); text != "" {
		t.Fatalf("a new visitor on /about was greeted: %q", text)
	}
	// A product page: the greeting after two seconds on it.
	in = widgetRoot(t, ctx, "product page", chromedp.Navigate(shop+"/products/trail-runner-42"))
	waitWidgetText(t, ctx, in, ".greet .txt", "Need help choosing a size?")
	var at float64
	run(t, ctx, "time on page", chromedp.Evaluate(`performance.now()`, &at))
	if at < 2000 {
		t.Fatalf("greeting shown after %.0f ms on the page, before its 2 s", at)
	}
	still(t, ctx)
	shot(t, ctx, "greet-01-bubble-1366-en")
	waitStats(t, admin, storeID, "sizes", [3]int64{1, 0, 0})
	// The header says the team is online.
	run(t, ctx, "open by the launcher", chromedp.Click(".launch", chromedp.ByQuery, in), chromedp.WaitVisible(".pr.on", chromedp.ByQuery, in))
	waitWidgetText(t, ctx, in, ".pr span", "We are online")
	// The same visit, the same page again: no second greeting.
	in = widgetRoot(t, ctx, "reload", chromedp.Reload())
	settled(t, ctx, 4) // twice the greeting's time: it would be showing by now
	if text := bubble(ctx, in); text != "" {
		t.Fatalf("greeted twice in one visit: %q", text)
	}
	waitStats(t, admin, storeID, "sizes", [3]int64{1, 0, 0})

	// Visit 2 (a new tab session): a returning visitor on the about page.
	in = widgetRoot(t, ctx, "visit 2", chromedp.Evaluate(`sessionStorage.clear()`, nil), chromedp.Navigate(shop+"/about"))
	waitWidgetText(t, ctx, in, ".greet .txt", "Welcome back! Anything we can help with?")
	waitStats(t, admin, storeID, "welcome back", [3]int64{1, 0, 0})
	// The bubble opens the chat, which begins with the greeting.
	run(t, ctx, "open from the bubble", chromedp.Click(".greet .txt", chromedp.ByQuery, in), chromedp.WaitVisible("textarea", chromedp.ByQuery, in))
	waitWidgetText(t, ctx, in, ".log .m.agent", "Welcome back! Anything we can help with?")
	waitStats(t, admin, storeID, "welcome back", [3]int64{1, 1, 0})
	run(t, ctx, "chat", chromedp.SendKeys("textarea", "Do the trail runners run small?", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", kb.Enter, chromedp.ByQuery, in), chromedp.WaitVisible(".m.visitor[data-id]", chromedp.ByQuery, in))
	waitStats(t, admin, storeID, "welcome back", [3]int64{1, 1, 1})
	waitStats(t, admin, storeID, "sizes", [3]int64{1, 0, 0})

	// Presence, live: the agent's app closes, the header says away; it
	// opens again, online — without reloading the widget.
	agentWS.CloseNow()
	run(t, ctx, "away", chromedp.WaitVisible(".pr:not(.on)", chromedp.ByQuery, in))
	waitWidgetText(t, ctx, in, ".pr span", "We are away")
	shot(t, ctx, "greet-02-header-away-1366-en")
	agentWS = agentOnline(t, e, admin)
	run(t, ctx, "online again", chromedp.WaitVisible(".pr.on", chromedp.ByQuery, in))

	// The agent, with a picture, replies: their name and picture show.
	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("chat tickets %+v", list.Tickets)
	}
	uploadAvatar(t, e, admin)
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", list.Tickets[0].ID), map[string]any{"body": "They run half a size small."})
	waitWidgetText(t, ctx, in, "header h2", "Olga Owner")
	waitWidgetText(t, ctx, in, ".m.agent .by b", "Olga Owner")
	run(t, ctx, "agent's picture", chromedp.WaitVisible(`header .av img[src*="/chat/avatar/"]`, chromedp.ByQuery, in))
	var width float64
	for deadline := time.Now().Add(10 * time.Second); width != 80 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		chromedp.Run(sctx, chromedp.JavascriptAttribute(`header .av img`, "naturalWidth", &width, chromedp.ByQuery, in))
		cancel()
	}
	if width != 80 {
		t.Fatalf("the agent's picture in the widget is %v px wide, want 80 (the 120×80 upload cut square)", width)
	}
	shot(t, ctx, "greet-03-header-agent-1366-en")
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844))
	shot(t, ctx, "greet-04-header-agent-390-en")

	// In Portuguese, on a phone: a new visitor's greeting, then the header.
	run(t, ctx, "portuguese", emulation.SetUserAgentOverride("Mozilla/5.0 (Linux; Android 14) Chrome/131 Mobile").WithAcceptLanguage("pt-PT,pt"))
	in = widgetRoot(t, ctx, "visit 3 in Portuguese", chromedp.Evaluate(`sessionStorage.clear(); localStorage.clear()`, nil),
		chromedp.Navigate(shop+"/products/trail-runner-42"))
	waitWidgetText(t, ctx, in, ".greet .txt", "Precisa de ajuda para escolher o tamanho?")
	still(t, ctx)
	shot(t, ctx, "greet-05-bubble-390-pt")
	run(t, ctx, "open in Portuguese", chromedp.Click(".greet .txt", chromedp.ByQuery, in), chromedp.WaitVisible(".pr.on", chromedp.ByQuery, in))
	waitWidgetText(t, ctx, in, ".pr span", "Estamos online")
	shot(t, ctx, "greet-06-header-390-pt")
	run(t, ctx, "desktop in Portuguese", chromedp.EmulateViewport(1366, 768))
	shot(t, ctx, "greet-07-header-1366-pt")
	waitStats(t, admin, storeID, "sizes", [3]int64{2, 1, 0})
	if strings.Contains(shop, e.srv.URL) {
		t.Fatal("the storefront must be another origin")
	}
}

// TestGreetingsSettingsInBrowser: the owner writes a greeting in the app
// (Settings → Stores → the store → Greetings): a bad page pattern is
// refused beside the field; saved, it lists its counts. Their profile
// picture is uploaded from My settings.
func TestGreetingsSettingsInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"})
	loginOwner(t, ctx, e)
	run(t, ctx, "stores", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/#/admin/stores"),
		chromedp.WaitVisible(`a[href$="/greetings"]`, chromedp.ByQuery), chromedp.Click(`a[href$="/greetings"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#greeting-add", chromedp.ByID), chromedp.Click("#greeting-add", chromedp.ByID),
		chromedp.WaitVisible(`fieldset.greeting [data-field="greetings.0.url_pattern"]`, chromedp.ByQuery),
		chromedp.SendKeys(`[data-field="greetings.0.name"]`, "Sizes", chromedp.ByQuery),
		chromedp.SendKeys(`[data-field="greetings.0.url_pattern"]`, "products", chromedp.ByQuery),
		chromedp.SendKeys(`[data-field="greetings.0.messages.en"]`, "Need help choosing a size?", chromedp.ByQuery),
		chromedp.SendKeys(`[data-field="greetings.0.messages.pt"]`, "Precisa de ajuda com o tamanho?", chromedp.ByQuery),
		chromedp.Click("#greetings-save", chromedp.ByID),
		chromedp.WaitVisible(`#greetings-error:not(:empty)`, chromedp.ByQuery))
	var focused string
	run(t, ctx, "error focus", chromedp.Evaluate(`document.activeElement.dataset.field`, &focused))
	if focused != "greetings.0.url_pattern" {
		t.Fatalf("focus on %q after a bad pattern", focused)
	}
	shot(t, ctx, "greet-10-settings-error-1366-en")
	run(t, ctx, "fix and save",
		chromedp.Evaluate(`{ const e = document.querySelector('[data-field="greetings.0.url_pattern"]'); e.value = ''; e.dispatchEvent(new Event('input')); }`, nil),
		chromedp.SendKeys(`[data-field="greetings.0.url_pattern"]`, "/products/*", chromedp.ByQuery),
		chromedp.Click("#greetings-save", chromedp.ByID),
		chromedp.WaitVisible(`//span[contains(@class,"greeting-stats") and contains(., "Last 30 days")]`, chromedp.BySearch))
	var body struct {
		Greetings []struct {
			Name       string
			URLPattern string `json:"url_pattern"`
			Messages   map[string]string
		}
	}
	admin.must(200, "GET", "/api/stores/1/greetings", nil).json(t, &body)
	if len(body.Greetings) != 1 || body.Greetings[0].URLPattern != "/products/*" || body.Greetings[0].Messages["pt"] != "Precisa de ajuda com o tamanho?" {
		t.Fatalf("saved %+v", body.Greetings)
	}
	shot(t, ctx, "greet-11-settings-1366-en")
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844))
	shot(t, ctx, "greet-12-settings-390-en")

	// My settings: the profile picture.
	run(t, ctx, "my picture", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/#/admin/me"),
		chromedp.WaitReady("#avatar-file", chromedp.ByID),
		chromedp.SetUploadFiles("#avatar-file", []string{writePNG(t)}, chromedp.ByID),
		chromedp.WaitVisible(`#my-avatar img[src^="/chat/avatar/"]`, chromedp.ByQuery))
	shot(t, ctx, "greet-13-avatar-1366-en")

	// In Portuguese, on a phone and a desktop.
	admin.must(200, "PATCH", "/api/me", map[string]string{"language": "pt"})
	run(t, ctx, "greetings in Portuguese", chromedp.EmulateViewport(390, 844), chromedp.Navigate(e.srv.URL+"/#/admin/stores/1/greetings"),
		chromedp.Reload(), chromedp.WaitVisible(`//h1[contains(., "Saudações")]`, chromedp.BySearch))
	shot(t, ctx, "greet-14-settings-390-pt")
	run(t, ctx, "desktop in Portuguese", chromedp.EmulateViewport(1920, 1080))
	shot(t, ctx, "greet-15-settings-1920-pt")
	run(t, ctx, "report in Portuguese", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/#/reports/greetings"),
		chromedp.WaitVisible(`section[data-table="greetings"]`, chromedp.ByQuery))
	shot(t, ctx, "greet-16-report-1366-pt")
}
