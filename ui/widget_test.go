package ui_test

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/coder/websocket"

	"onedesk/ui"
)

// TestChatWidgetInBrowser: a storefront on another origin pastes the
// snippet; a visitor chats with an agent who answers through the API; with
// no agent online the widget takes an offline message.
func TestChatWidgetInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shop := shoeShop(t, e, admin)

	// An agent has the app open (its websocket), so the widget offers live chat.
	agentWS := agentOnline(t, e, admin)

	in := widgetRoot(t, ctx, "storefront", chromedp.Navigate(shop))
	shot(t, ctx, "20-storefront")
	run(t, ctx, "open and send",
		chromedp.WaitVisible(".launch", chromedp.ByQuery, in),
		chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible("textarea", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", "Do you have size 42 in blue?", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", kb.Enter, chromedp.ByQuery, in),
		chromedp.WaitVisible(".m.visitor .st", chromedp.ByQuery, in))
	// The status line is redrawn when the ack comes: read it until it
	// says Sent, a node gone meanwhile being one more try.
	var status string
	for deadline := time.Now().Add(15 * time.Second); status != "Sent" && time.Now().Before(deadline); {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		chromedp.Run(sctx, chromedp.Text(".m.visitor .st", &status, chromedp.ByQuery, in, chromedp.AtLeast(0)))
		cancel()
		if status != "Sent" {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if status != "Sent" {
		t.Fatalf("visitor message status %q", status)
	}

	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	if len(list.Tickets) != 1 || list.Tickets[0].Subject != "Do you have size 42 in blue?" {
		t.Fatalf("chat tickets %+v", list.Tickets)
	}
	// Typing shows both ways.
	admin.must(204, "POST", fmt.Sprintf("/api/tickets/%d/typing", list.Tickets[0].ID), nil)
	run(t, ctx, "agent typing", chromedp.WaitVisible(`.note:not([hidden])`, chromedp.ByQuery, in))
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", list.Tickets[0].ID), map[string]any{"body": "Yes, 3 pairs left!"})
	run(t, ctx, "answer arrives live", chromedp.WaitVisible(`.m.agent[data-id]`, chromedp.ByQuery, in))
	var answer string
	run(t, ctx, "answer text", chromedp.Text(`.m.agent[data-id] > span`, &answer, chromedp.ByQuery, in))
	if answer != "Yes, 3 pairs left!" {
		t.Fatalf("answer %q", answer)
	}
	shot(t, ctx, "21-chat")
	// The widget's receipt makes the reply delivered.
	chatTicket := list.Tickets[0].ID
	replyState := func(body string) string {
		var got ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", chatTicket), nil).json(t, &got)
		for _, m := range got.Messages {
			if m.Body == body {
				return m.Delivery
			}
		}
		return ""
	}
	waitState := func(body, want string) {
		t.Helper()
		state := ""
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if state = replyState(body); state == want {
				return
			}
		}
		t.Fatalf("reply %q is %q, want %q", body, state, want)
	}
	waitState("Yes, 3 pairs left!", "delivered")

	// A reload keeps the conversation.
	in = widgetRoot(t, ctx, "reload", chromedp.Reload())
	run(t, ctx, "history after reload", chromedp.WaitVisible(".launch", chromedp.ByQuery, in), chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible(`.m.agent[data-id]`, chromedp.ByQuery, in), chromedp.WaitVisible(`.m.visitor[data-id]`, chromedp.ByQuery, in))

	// The agent sets themself away: with the app still open, nobody is
	// there to chat; closing the app is the same.
	online := func() any {
		var cfg map[string]any
		admin.must(200, "GET", "/chat/config?store=shoe-shop", nil).json(t, &cfg)
		return cfg["online"]
	}
	admin.must(200, "PUT", "/api/me/presence", map[string]string{"presence": "away"})
	if online() != false {
		t.Fatal("an away agent counts as online")
	}
	r := admin.must(400, "PUT", "/api/me/presence", map[string]string{"presence": "busy"})
	if _, f := r.err(t); f != "presence" {
		t.Fatalf("field %q", f)
	}
	admin.must(200, "PUT", "/api/me/presence", map[string]string{"presence": "online"})
	if online() != true {
		t.Fatal("back online, not counted")
	}
	agentWS.CloseNow()
	for i := 0; i < 50 && online() != false; i++ {
		chromedp.Run(ctx, chromedp.Sleep(50e6))
	}

	// The visitor leaves, having given no email: a reply waits for them in
	// the conversation, and says so rather than "sent".
	run(t, ctx, "visitor leaves", chromedp.Navigate("about:blank"))
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", chatTicket), map[string]any{"body": "Blue is back on Friday."})
	waitState("Blue is back on Friday.", "waiting")

	// Nobody online, the same visitor comes back: their conversation, with
	// a notice that we are away and their details open to leave an email;
	// the reply left for them is shown, and so delivered.
	in = widgetRoot(t, ctx, "returning visitor", chromedp.Navigate(shop))
	run(t, ctx, "away notice",
		chromedp.WaitVisible(".launch", chromedp.ByQuery, in), chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible(`.m.agent[data-id]`, chromedp.ByQuery, in),
		chromedp.WaitVisible(`.note.away`, chromedp.ByQuery, in),
		chromedp.WaitVisible(`details[open] input[name="email"]`, chromedp.ByQuery, in))
	shot(t, ctx, "21b-returning-away")
	waitState("Blue is back on Friday.", "delivered")

	// Nobody online, a new visitor: the offline form, with errors beside it.
	in = widgetRoot(t, ctx, "new visitor", chromedp.Evaluate(`localStorage.clear()`, nil), chromedp.Reload())
	run(t, ctx, "offline form",
		chromedp.WaitVisible(".launch", chromedp.ByQuery, in), chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible(`input[name="email"]`, chromedp.ByQuery, in),
		chromedp.SendKeys(`input[name="name"]`, "Zoe", chromedp.ByQuery, in),
		chromedp.SendKeys(`textarea[name="message"]`, "Do you ship to Brno?", chromedp.ByQuery, in),
		chromedp.Click(`form.off button`, chromedp.ByQuery, in),
		chromedp.WaitVisible(`.err:not(:empty)`, chromedp.ByQuery, in))
	shot(t, ctx, "22-offline-error")
	// An address no answer could reach is refused, saying what to check.
	run(t, ctx, "offline bad domain",
		chromedp.SendKeys(`input[name="email"]`, "zoe@gmail", chromedp.ByQuery, in),
		chromedp.Click(`form.off button`, chromedp.ByQuery, in))
	var sentence string
	for deadline := time.Now().Add(15 * time.Second); !strings.Contains(sentence, "part after @") && time.Now().Before(deadline); {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		chromedp.Run(sctx, chromedp.Text("form.off .err", &sentence, chromedp.ByQuery, in, chromedp.AtLeast(0)))
		cancel()
		if !strings.Contains(sentence, "part after @") {
			time.Sleep(50 * time.Millisecond)
		}
	}
	if !strings.Contains(sentence, "part after @") {
		t.Fatalf("zoe@gmail: the offline form says %q", sentence)
	}
	run(t, ctx, "offline sent",
		chromedp.SendKeys(`input[name="email"]`, kb.End+strings.Repeat(kb.Backspace, len("zoe@gmail"))+"zoe@example.com", chromedp.ByQuery, in),
		chromedp.Click(`form.off button`, chromedp.ByQuery, in),
		chromedp.WaitVisible(`p[role="status"]`, chromedp.ByQuery, in))
	shot(t, ctx, "23-offline-thanks")
	admin.must(200, "GET", "/api/tickets?channel=chat&q=Brno", nil).json(t, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("offline tickets %+v", list.Tickets)
	}
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", list.Tickets[0].ID), nil).json(t, &got)
	if got.Customer.Name != "Zoe" || got.Customer.Identities[0].Value != "zoe@example.com" {
		t.Fatalf("offline customer %+v", got.Customer)
	}

	// The agent app says a reply to the first visitor, gone again, waits.
	run(t, ctx, "the first visitor gone again", chromedp.Navigate("about:blank"))
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", chatTicket), map[string]any{"body": "We restock on Monday."})
	waitState("We restock on Monday.", "waiting")
	loginOwner(t, ctx, e)
	run(t, ctx, "the app shows the reply waiting",
		chromedp.Navigate(e.srv.URL+fmt.Sprintf("/#/all/t/%d", chatTicket)),
		chromedp.WaitVisible(`//article[contains(@class,"agent") and contains(., "We restock on Monday.")]//div[contains(@class,"delivery") and contains(., "Waiting for the visitor")]`, chromedp.BySearch))
	shot(t, ctx, "24-app-reply-waiting")
	run(t, ctx, "phone width", chromedp.EmulateViewport(390, 844),
		chromedp.ScrollIntoView(`//div[contains(@class,"delivery") and contains(., "Waiting for the visitor")]`, chromedp.BySearch))
	shot(t, ctx, "24-app-reply-waiting-phone")
}

// TestChatSettingsInBrowser: the owner sets the store's widget in the app
// (colour, launcher text, required pre-chat form, files); the storefront's
// widget follows, asks for the details first and takes a picture.
func TestChatSettingsInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shop := shoeShop(t, e, admin)

	loginOwner(t, app, e)
	run(t, app, "store settings",
		chromedp.Navigate(e.srv.URL+"/#/admin/stores"),
		chromedp.WaitVisible(`#admin input[name="launcher"]`, chromedp.ByQuery),
		chromedp.SetValue(`#admin input[name="color"]`, "#0e7a4f", chromedp.ByQuery),
		chromedp.SendKeys(`#admin input[name="launcher"]`, "Ask a shoe expert", chromedp.ByQuery),
		chromedp.SetValue(`#admin select[name="prechat"]`, "required", chromedp.ByQuery),
		chromedp.Click(`#admin input[name="files"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//button[contains(@class,"launcher-preview") and contains(., "Ask a shoe expert")]`, chromedp.BySearch),
		chromedp.SetValue(`#admin input[name="hours_1"]`, "9-5", chromedp.ByQuery),
		chromedp.Click(`#admin input[name="hours_on"]`, chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "Monday")]`, chromedp.BySearch))
	shot(t, app, "24-store-settings-error")
	run(t, app, "store settings saved",
		chromedp.Click(`#admin input[name="hours_on"]`, chromedp.ByQuery),
		chromedp.SetValue(`#admin input[name="hours_1"]`, "09:00-17:00", chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Saved")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//code[contains(., 'data-store="shoe-shop"')]`, chromedp.BySearch))
	shot(t, app, "25-store-settings")
	var stores struct {
		Stores []struct {
			Chat struct {
				Color, Launcher, Prechat string
				Files                    bool
				Hours                    []string
			}
		}
	}
	admin.must(200, "GET", "/api/stores", nil).json(t, &stores)
	if c := stores.Stores[0].Chat; c.Color != "#0e7a4f" || c.Launcher != "Ask a shoe expert" || c.Prechat != "required" || !c.Files || len(c.Hours) != 0 {
		t.Fatalf("saved settings %+v", c)
	}

	// An agent is online (the app's websocket); the visitor comes.
	agentOnline(t, e, admin)
	ctx := app
	in := widgetRoot(t, ctx, "storefront", chromedp.Navigate(shop))
	var launcher string
	run(t, ctx, "launcher", chromedp.WaitVisible(".launch", chromedp.ByQuery, in),
		chromedp.Text(".launch", &launcher, chromedp.ByQuery, in))
	if launcher != "Ask a shoe expert" {
		t.Fatalf("launcher %q", launcher)
	}
	run(t, ctx, "pre-chat form",
		chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible(`input[name="email"]`, chromedp.ByQuery, in),
		chromedp.SendKeys(`input[name="name"]`, "Rui", chromedp.ByQuery, in),
		chromedp.Click(`form.off button.primary`, chromedp.ByQuery, in),
		chromedp.WaitVisible(`.err:not(:empty)`, chromedp.ByQuery, in))
	shot(t, ctx, "26-prechat-error")
	run(t, ctx, "details given",
		chromedp.SendKeys(`input[name="email"]`, "rui@example.pt", chromedp.ByQuery, in),
		chromedp.Click(`form.off button.primary`, chromedp.ByQuery, in),
		chromedp.WaitVisible("textarea", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", "Is this the right size?", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", kb.Enter, chromedp.ByQuery, in),
		chromedp.WaitVisible(`.m.visitor[data-id]`, chromedp.ByQuery, in),
		chromedp.SetUploadFiles(`input[type="file"]`, []string{writePNG(t)}, chromedp.ByQuery, in),
		chromedp.WaitVisible(`.m.visitor img`, chromedp.ByQuery, in))
	shot(t, ctx, "27-chat-with-picture")

	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("tickets %+v", list.Tickets)
	}
	var got struct {
		Customer struct {
			Name       string
			Identities []struct{ Kind, Value string }
		}
		Messages []struct {
			Body        string
			Attachments []struct {
				Filename    string `json:"filename"`
				ContentType string `json:"content_type"`
			}
		}
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", list.Tickets[0].ID), nil).json(t, &got)
	if got.Customer.Name != "Rui" || len(got.Messages) != 2 || len(got.Messages[1].Attachments) != 1 || got.Messages[1].Attachments[0].ContentType != "image/png" {
		t.Fatalf("ticket %+v", got)
	}
}

// shoeShop makes the store "shoe-shop" and serves a storefront on another
// origin that pastes its snippet, with CSS hostile to anything it can reach.
func shoeShop(t *testing.T, e *env, admin *client) string {
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"})
	shop := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html lang="en"><head><title>Shoes</title>
<style>* { color: red !important; font-size: 40px !important } button { display: none !important }</style></head>
<body><h1>Shoe Shop</h1><p>Size 42 in blue.</p>
<script src="%s/widget.js" data-store="shoe-shop" async></script></body></html>`, e.srv.URL)
	}))
	t.Cleanup(shop.Close)
	return shop.URL
}

// agentOnline opens the agent websocket the app keeps, so the widget
// offers live chat; closing it makes the agent go.
func agentOnline(t *testing.T, e *env, admin *client) *websocket.Conn {
	u := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/agent/ws"
	conn, _, err := websocket.Dial(context.Background(), u, &websocket.DialOptions{HTTPClient: admin.http, HTTPHeader: http.Header{"Origin": {e.srv.URL}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	// The server counts the socket before it says hello: once the hello is
	// read the agent is online (on a busy machine the dial's return came
	// before it, and a check of the widget's "online" failed).
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	if _, hello, err := conn.Read(ctx); err != nil || !strings.Contains(string(hello), `"hello"`) {
		t.Fatalf("agent socket's first frame %s: %v", hello, err)
	}
	return conn
}

// widgetRoot runs actions that (re)load a page with the widget and returns
// the option that queries inside the widget's closed shadow root.
func widgetRoot(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) chromedp.QueryOption {
	t.Helper()
	var hosts []*cdp.Node
	run(t, ctx, step, append(actions, chromedp.WaitReady("div[data-onedesk]", chromedp.ByQuery),
		chromedp.Nodes("div[data-onedesk]", &hosts, chromedp.ByQuery, chromedp.Populate(-1, true)))...)
	if len(hosts) != 1 || len(hosts[0].ShadowRoots) != 1 {
		t.Fatalf("%s: widget host %+v", step, hosts)
	}
	return chromedp.FromNode(hosts[0].ShadowRoots[0])
}

func writePNG(t *testing.T) string {
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 120, 80))
	for x := range 120 {
		for y := range 80 {
			img.Set(x, y, color.RGBA{uint8(x * 2), 120, uint8(y * 3), 255})
		}
	}
	png.Encode(&buf, img)
	path := filepath.Join(t.TempDir(), "shoe.png")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// A visitor who goes to another site closes the widget's socket, so a
// reply meanwhile waits in the conversation at once; back on the page
// (from the browser's back/forward cache) the widget connects again and
// is handed the reply.
func TestWidgetLeavesAndComesBackInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shop := shoeShop(t, e, admin)
	agentOnline(t, e, admin)
	in := widgetRoot(t, ctx, "storefront", chromedp.Navigate(shop))
	run(t, ctx, "chat", chromedp.WaitVisible(".launch", chromedp.ByQuery, in), chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible("textarea", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", "Are the red ones waterproof?\n", chromedp.ByQuery, in),
		chromedp.WaitVisible(`.m.visitor[data-id]`, chromedp.ByQuery, in))
	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	if len(list.Tickets) != 1 {
		t.Fatalf("chat tickets %+v", list.Tickets)
	}
	delivery := func() string {
		var got ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", list.Tickets[0].ID), nil).json(t, &got)
		for _, m := range got.Messages {
			if m.Body == "Yes, fully." {
				return m.Delivery
			}
		}
		return ""
	}
	// Elsewhere (not a page of the shop, whose widget would connect).
	run(t, ctx, "another site", chromedp.Navigate("about:blank"))
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", list.Tickets[0].ID), map[string]any{"body": "Yes, fully."})
	waitFor(t, "the reply waiting for the visitor", func() bool { return delivery() == "waiting" })
	// Back, without waiting for a load event: a page restored from the
	// back/forward cache does not load again. Its widget connects again
	// and is handed the reply, which its receipt makes delivered.
	run(t, ctx, "back", chromedp.ActionFunc(func(ctx context.Context) error {
		cur, entries, err := page.GetNavigationHistory().Do(ctx)
		if err != nil || cur < 1 {
			return fmt.Errorf("history %d: %v", cur, err)
		}
		return page.NavigateToHistoryEntry(entries[cur-1].ID).Do(ctx)
	}))
	waitFor(t, "the reply shown", func() bool { return delivery() == "delivered" })
}
