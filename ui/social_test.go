package ui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/channels/telegram"
	"onedesk/channels/telegram/telegramtest"
	"onedesk/ui"
)

// withTelegram installs the Telegram channel in e's desk, pointed at a
// local Bot API server, and runs it.
func withTelegram(t *testing.T, e *env) *telegramtest.Server {
	t.Helper()
	api, err := telegramtest.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Stop)
	ch := telegram.New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)), telegram.Options{APIURL: api.URL})
	ch.PollTimeout, ch.Backoff = 1, 50*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { ch.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return api
}

type socialJSON struct {
	ID       int64
	Platform string
	Name     string
	Handle   string
	StoreID  *int64 `json:"store_id"`
	Enabled  bool
	State    struct {
		Mode      string
		LastError string `json:"last_error"`
	}
}

func TestSocialAccountsAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	api := withTelegram(t, e)
	admin := e.admin()
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]string{"name": "Shop", "slug": "shop"}).json(t, &st)

	// A wrong token is refused in plain words, naming the field.
	for _, token := range []string{"", "not a token", "987654321:AAEhBP0av28wrongTokenForTests_no"} {
		msg, field := admin.must(400, "POST", "/api/social-accounts", map[string]any{"platform": "telegram", "token": token}).err(t)
		if field != "token" {
			t.Fatalf("token %q: field %q (%s)", token, field, msg)
		}
	}
	if _, field := admin.must(400, "POST", "/api/social-accounts", map[string]any{"platform": "fax", "token": "x"}).err(t); field != "platform" {
		t.Fatalf("platform fax: field %q", field)
	}
	var a socialJSON
	r := admin.must(201, "POST", "/api/social-accounts", map[string]any{"platform": "telegram", "token": telegramtest.Token, "store_id": st.ID})
	r.json(t, &a)
	if a.Handle != "@shop_bot" || a.Name != "Shop Support" || !a.Enabled || a.StoreID == nil || *a.StoreID != st.ID {
		t.Fatalf("account %s", r.body)
	}
	// Secrets never leave the server.
	for _, body := range [][]byte{r.body, admin.must(200, "GET", "/api/social-accounts", nil).body,
		admin.must(200, "GET", fmt.Sprintf("/api/social-accounts/%d", a.ID), nil).body} {
		if strings.Contains(string(body), "AAEhBP0av28") || strings.Contains(string(body), "secret") {
			t.Fatalf("a secret in %s", body)
		}
	}
	var list struct {
		SocialAccounts []socialJSON `json:"social_accounts"`
		Modes          map[string]string
	}
	admin.must(200, "GET", "/api/social-accounts", nil).json(t, &list)
	if len(list.SocialAccounts) != 1 || list.Modes["telegram"] != "polling" {
		t.Fatalf("list %+v", list)
	}
	// The bot polls: its state says so.
	deadline := time.Now().Add(10 * time.Second)
	for a.State.Mode != "polling" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		admin.must(200, "GET", fmt.Sprintf("/api/social-accounts/%d", a.ID), nil).json(t, &a)
	}
	if a.State.Mode != "polling" || len(api.Calls("getUpdates")) == 0 {
		t.Fatalf("state %+v after %d polls", a.State, len(api.Calls("getUpdates")))
	}
	// Switched off, moved to no store; an agent may not see or change bots.
	admin.must(200, "PATCH", fmt.Sprintf("/api/social-accounts/%d", a.ID), map[string]any{"enabled": false, "store_id": nil}).json(t, &a)
	if a.Enabled || a.StoreID != nil {
		t.Fatalf("after patch %+v", a)
	}
	if _, field := admin.must(400, "PATCH", fmt.Sprintf("/api/social-accounts/%d", a.ID), map[string]any{"token": "1:short"}).err(t); field != "token" {
		t.Fatalf("a bad new token: field %q", field)
	}
	agent := e.agent(admin, "ann@shop.test")
	agent.must(403, "GET", "/api/social-accounts", nil)
	agent.must(403, "DELETE", fmt.Sprintf("/api/social-accounts/%d", a.ID), nil)
	admin.must(204, "DELETE", fmt.Sprintf("/api/social-accounts/%d", a.ID), nil)
	admin.must(404, "GET", fmt.Sprintf("/api/social-accounts/%d", a.ID), nil)
}

// The owner connects a Telegram bot in the app (a wrong token first), a
// customer writes to the bot, and the reply typed in the app reaches the
// Bot API server for that chat.
func TestTelegramInBrowser(t *testing.T) {
	app := browser(t)
	e := newEnv(t, ui.Options{})
	api := withTelegram(t, e)
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]string{"name": "Lisbon Shop", "slug": "lisbon"})
	loginOwner(t, app, e)

	run(t, app, "channels page",
		chromedp.Navigate(e.srv.URL+"/#/admin/channels"),
		chromedp.WaitVisible(`.social-connect input[name="token"]`, chromedp.ByQuery),
		chromedp.SendKeys(`.social-connect input[name="token"]`, "12345:nope", chromedp.ByQuery),
		chromedp.Click(`.social-connect button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//form[contains(@class,"social-connect")]//p[contains(@class,"error") and contains(., "not a bot token")]`, chromedp.BySearch),
		chromedp.Poll(`document.activeElement.name === 'token'`, nil, chromedp.WithPollingTimeout(5*time.Second)))
	shot(t, app, "70-telegram-wrong-token")
	run(t, app, "bot connected",
		chromedp.SetValue(`.social-connect input[name="token"]`, telegramtest.Token, chromedp.ByQuery),
		chromedp.Click(`.social-connect button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//table[contains(@class,"social-accounts")]//strong[.="@shop_bot"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//td[contains(@class,"social-status")]//span[contains(., "Starting") or contains(., "Connected")]`, chromedp.BySearch))
	api.Push(map[string]any{"message": map[string]any{"message_id": 1, "date": time.Now().Unix(), "text": "Hi! Where is my order 1001?",
		"from": map[string]any{"id": 777, "first_name": "Rui", "last_name": "Costa", "username": "ruic"},
		"chat": map[string]any{"id": 777, "type": "private"}}})
	run(t, app, "connected after a poll, without a reload",
		chromedp.WaitVisible(`//td[contains(@class,"social-status")]//span[contains(., "Connected")]`, chromedp.BySearch))
	shot(t, app, "71-telegram-connected")

	run(t, app, "the Telegram ticket in the inbox",
		chromedp.Navigate(e.srv.URL+"/#/all"),
		chromedp.WaitVisible(`//*[contains(., "Where is my order 1001?")]`, chromedp.BySearch),
		chromedp.Click(`//a[contains(., "Where is my order 1001?")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//article[contains(@class,"msg")]//*[contains(., "Rui Costa (@ruic)")]`, chromedp.BySearch))
	run(t, app, "reply typed and sent",
		press('r'),
		chromedp.WaitReady("#reply:focus", chromedp.ByQuery),
		chromedp.SendKeys("#reply", "It ships tomorrow.", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(inputModifierCtrl)),
		chromedp.WaitVisible(`//article[contains(@class,"msg agent")]//*[contains(., "It ships tomorrow.")]`, chromedp.BySearch))
	deadline := time.Now().Add(10 * time.Second)
	for len(api.Calls("sendMessage")) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	sent := api.Calls("sendMessage")
	if len(sent) != 1 || sent[0].Params["chat_id"] != float64(777) || sent[0].Params["text"] != "It ships tomorrow." {
		t.Fatalf("sendMessage calls %+v", sent)
	}
	run(t, app, "marked sent", chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[contains(@class,"delivery") and contains(., "Sent")]`, chromedp.BySearch))
	// The customer edits the first message: the story says so, live.
	api.Push(map[string]any{"edited_message": map[string]any{"message_id": 1, "date": time.Now().Unix(), "edit_date": time.Now().Unix(),
		"text": "Hi! Where is my order 1002?", "from": map[string]any{"id": 777, "first_name": "Rui"}, "chat": map[string]any{"id": 777, "type": "private"}}})
	run(t, app, "the edit noted",
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "edited a message") and contains(., "order 1002")]`, chromedp.BySearch))
	shot(t, app, "72-telegram-ticket")
}
