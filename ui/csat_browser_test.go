package ui_test

import (
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/emersion/go-message/mail"

	"onedesk/channels/email/emailtest"
	"onedesk/ui"
)

// csatStore makes a store asking for ratings at once (1-5) and returns
// its id.
func csatStore(t *testing.T, admin *client, slug string) int64 {
	t.Helper()
	var list struct {
		Stores []struct {
			ID   int64
			Slug string
		}
	}
	admin.must(200, "GET", "/api/stores", nil).json(t, &list)
	var id int64
	for _, s := range list.Stores {
		if s.Slug == slug {
			id = s.ID
		}
	}
	if id == 0 {
		var st struct{ ID int64 }
		admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": slug, "language": "en"}).json(t, &st)
		id = st.ID
	}
	path := fmt.Sprintf("/api/stores/%d/csat", id)
	if msg, field := admin.do("PUT", path, map[string]any{"scale": "ten"}).err(t); field != "scale" {
		t.Errorf("a scale of ten: %q %q", msg, field)
	}
	var got struct {
		Enabled          bool
		DefaultQuestions map[string]string `json:"default_questions"`
	}
	admin.must(200, "PUT", path, map[string]any{"enabled": true, "delay_minutes": 0, "scale": "five"}).json(t, &got)
	if !got.Enabled || got.DefaultQuestions["pt"] != "Como avalia a ajuda que recebeu?" {
		t.Fatalf("settings %+v", got)
	}
	return id
}

// mailText is the text part of a raw mail.
func mailText(t *testing.T, raw string) string {
	t.Helper()
	r, err := mail.CreateReader(strings.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	for {
		p, err := r.NextPart()
		if err != nil {
			return ""
		}
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			if ct, _, _ := h.ContentType(); ct == "text/plain" {
				b, _ := io.ReadAll(p.Body)
				return string(b)
			}
		}
	}
}

// viewports are the sizes the rating is looked at in.
var viewports = []struct {
	name string
	w, h int64
}{{"1366", 1366, 768}, {"390", 390, 844}}

// TestCSATByEmailInBrowser: a resolved ticket's question reaches the
// customer's mailbox; one link clicked in Chromium records the rating and
// opens the thank-you page, whose form adds a comment (no script needed);
// the rating shows on the ticket and in the report. The same link again,
// or a forged one, is refused.
func TestCSATByEmailInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	storeID := csatStore(t, admin, "shoe-shop")
	sink := emailtest.Mailbox(t, e.desk, storeID, "help@shoe.test", "Shoe Shop")
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Size exchange", "body": "We sent the new pair today.",
		"customer": map[string]string{"email": "carla@example.test", "name": "Carla"}, "store_id": storeID}).json(t, &tk)
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"status": "resolved"})

	var question string
	for deadline := time.Now().Add(30 * time.Second); question == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		for _, raw := range sink.Messages() {
			if strings.Contains(raw, "csat") {
				question = mailText(t, raw)
			}
		}
	}
	links := regexp.MustCompile(`(?m)^(\d) \S+\s+(http://\S+/csat/r/[0-9a-f.]+)\r?$`).FindAllStringSubmatch(question, -1)
	if len(links) != 5 || !strings.Contains(question, "How would you rate the help you got?") {
		var got ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
		t.Fatalf("the question mail:\n%s\nmails %d, ticket %+v", question, len(sink.Messages()), got)
	}
	four := links[3][2]

	// The pages need no script: the customer's browser runs none here.
	run(t, ctx, "scripts off", emulation.SetScriptExecutionDisabled(true))
	run(t, ctx, "click 4", chromedp.Navigate(four), chromedp.WaitVisible("#csat-title", chromedp.ByID))
	var title, rating string
	run(t, ctx, "thanks", chromedp.Text("#csat-title", &title, chromedp.ByID), chromedp.AttributeValue("#csat-rating", "data-rating", &rating, nil, chromedp.ByID))
	if title != "Thank you for your rating!" || rating != "4" {
		t.Fatalf("page %q rating %q", title, rating)
	}
	for _, v := range viewports {
		run(t, ctx, "resize", chromedp.EmulateViewport(v.w, v.h))
		shot(t, ctx, "csat-email-thanks-"+v.name)
	}
	run(t, ctx, "comment", chromedp.SendKeys("#comment", "Quick exchange, thank you!", chromedp.ByID),
		chromedp.Click("#csat-send", chromedp.ByID),
		// The comment's page has no form: once it is gone, the new page is in.
		chromedp.WaitNotPresent("#comment", chromedp.ByID),
		chromedp.Text("#csat-title", &title, chromedp.ByID))
	if title != "Thank you for your comment." {
		t.Fatalf("after the comment: %q", title)
	}

	var surveys []struct {
		Rating   int
		Comment  string
		AskedVia string `json:"asked_via"`
		Status   string
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/csat", tk.ID), nil).json(t, &surveys)
	if len(surveys) != 1 || surveys[0].Rating != 4 || surveys[0].Comment != "Quick exchange, thank you!" || surveys[0].AskedVia != "email" {
		t.Fatalf("surveys %+v", surveys)
	}
	// Replayed: refused, the rating stays. Forged: refused.
	get := func(u string) int {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := get(four); code != http.StatusConflict {
		t.Errorf("the link again: %d", code)
	}
	forged := links[4][2][:len(links[4][2])-4] + "beef"
	if code := get(forged); code != http.StatusNotFound {
		t.Errorf("a forged link: %d", code)
	}
	if code := get(strings.Replace(four, "/csat/r/", "/csat/r/9", 1)); code != http.StatusNotFound {
		t.Errorf("another survey's number: %d", code)
	}

	// The rating on the ticket and in the report, at a desk's and a phone's size.
	run(t, ctx, "scripts on", emulation.SetScriptExecutionDisabled(false))
	loginOwner(t, ctx, e)
	for _, v := range viewports {
		run(t, ctx, "ticket "+v.name, chromedp.EmulateViewport(v.w, v.h),
			chromedp.Navigate(fmt.Sprintf("%s/#/all/t/%d", e.srv.URL, tk.ID)), chromedp.WaitVisible("#csat-badge", chromedp.ByID),
			chromedp.WaitVisible(".csat-event", chromedp.ByQuery))
		var badge string
		waitFor(t, "the badge", func() bool {
			chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById('csat-badge')?.textContent || ''`, &badge))
			return badge == "★ 4/5"
		})
		shot(t, ctx, "csat-ticket-"+v.name)
		run(t, ctx, "report "+v.name, chromedp.Navigate(e.srv.URL+"/#/reports/csat?range=7d"),
			chromedp.WaitVisible(`.report-card[data-metric="csat_average"]`, chromedp.ByQuery),
			chromedp.WaitVisible(".csat-comments blockquote", chromedp.ByQuery))
		var avg string
		run(t, ctx, "average", chromedp.Text(`.report-card[data-metric="csat_average"] .value`, &avg, chromedp.ByQuery))
		if avg != "4" {
			t.Errorf("average %q", avg)
		}
		shot(t, ctx, "csat-report-"+v.name)
	}
	// The store's survey settings: the Portuguese question set in the app.
	box := fmt.Sprintf("#csat-settings-%d", storeID)
	run(t, ctx, "settings", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/#/admin/stores"),
		chromedp.WaitVisible(box+` input[name="q_pt"]`, chromedp.ByQuery),
		chromedp.ScrollIntoView(box, chromedp.ByQuery),
		chromedp.SendKeys(box+` input[name="q_pt"]`, "Gostou do nosso apoio?", chromedp.ByQuery))
	shot(t, ctx, "csat-settings-1366")
	run(t, ctx, "save settings", chromedp.Click(box+` button[type="submit"]`, chromedp.ByQuery))
	var saved struct{ Questions map[string]string }
	for deadline := time.Now().Add(20 * time.Second); saved.Questions["pt"] == "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		admin.must(200, "GET", fmt.Sprintf("/api/stores/%d/csat", storeID), nil).json(t, &saved)
	}
	if saved.Questions["pt"] != "Gostou do nosso apoio?" {
		t.Errorf("questions after saving in the app: %v", saved.Questions)
	}
	// In Russian: the badge, the events and the report's names.
	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "ru"})
	run(t, ctx, "ticket in Russian", chromedp.Navigate(fmt.Sprintf("%s/#/all/t/%d", e.srv.URL, tk.ID)), chromedp.Reload(),
		chromedp.WaitVisible(".csat-event", chromedp.ByQuery))
	// Read in one evaluation: a live update may draw the thread again
	// between finding a node and reading it.
	var line string
	waitFor(t, "the survey's line in Russian", func() bool {
		chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll('.csat-event')].map((n) => n.textContent).join(' | ')`, &line))
		return strings.Contains(line, "Опрос удовлетворённости отправлен")
	})
	shot(t, ctx, "csat-ticket-1366-ru")
	run(t, ctx, "report in Russian", chromedp.Navigate(e.srv.URL+"/#/reports/csat?range=7d"),
		chromedp.WaitVisible(`.report-card[data-metric="csat_average"]`, chromedp.ByQuery))
	shot(t, ctx, "csat-report-1366-ru")
	res := admin.must(200, "GET", "/api/reports/csat?range=7d&format=csv&table=comments", nil)
	if !strings.Contains(string(res.body), "Quick exchange, thank you!") {
		t.Errorf("comments CSV:\n%s", res.body)
	}
}

// TestCSATInChatWidgetInBrowser: the question reaches an open widget as a
// card (its code loaded only then); a button pressed records the rating.
func TestCSATInChatWidgetInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shop := shoeShop(t, e, admin)
	csatStore(t, admin, "shoe-shop")
	agentOnline(t, e, admin)

	in := widgetRoot(t, ctx, "storefront", chromedp.Navigate(shop))
	run(t, ctx, "open and send",
		chromedp.WaitVisible(".launch", chromedp.ByQuery, in),
		chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible("textarea", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", "Are these waterproof?", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", kb.Enter, chromedp.ByQuery, in))
	var list struct{ Tickets []ticketJSON }
	for deadline := time.Now().Add(30 * time.Second); len(list.Tickets) == 0 && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	}
	if len(list.Tickets) != 1 {
		t.Fatalf("chat tickets %+v", list.Tickets)
	}
	id := list.Tickets[0].ID
	var loaded bool
	run(t, ctx, "card code not loaded yet", chromedp.Evaluate(`!!window.__onedeskParts`, &loaded))
	if loaded {
		t.Error("the rating card's code was loaded before any card")
	}
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", id), map[string]any{"body": "Yes, fully waterproof."})
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", id), map[string]any{"status": "resolved"})
	run(t, ctx, "the card", chromedp.WaitVisible(".choices button", chromedp.ByQuery, in))
	shot(t, ctx, "csat-widget-card")
	run(t, ctx, "rate 5", chromedp.Click(".choices button:last-of-type", chromedp.ByQuery, in),
		chromedp.WaitVisible(".choices .done", chromedp.ByQuery, in))
	var done string
	run(t, ctx, "thanks", chromedp.Text(".choices .done", &done, chromedp.ByQuery, in))
	if done != "Thank you for your rating!" {
		t.Errorf("after the press: %q", done)
	}
	shot(t, ctx, "csat-widget-rated")
	// An optional comment under the rating, stored with it.
	run(t, ctx, "comment", chromedp.WaitVisible(".choices textarea", chromedp.ByQuery, in),
		chromedp.SendKeys(".choices textarea", "Quick and clear, thanks!", chromedp.ByQuery, in),
		chromedp.Click(".choices form button", chromedp.ByQuery, in))
	var thanks string
	waitFor(t, "the comment's thanks", func() bool {
		chromedp.Run(ctx, chromedp.Text(".choices .done:last-child", &thanks, chromedp.ByQuery, in))
		return thanks == "Thank you for your comment."
	})
	shot(t, ctx, "csat-widget-commented")
	var surveys []struct {
		ID       int64
		Rating   int
		Comment  string
		AskedVia string `json:"asked_via"`
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/csat", id), nil).json(t, &surveys)
	if len(surveys) != 1 || surveys[0].Rating != 5 || surveys[0].AskedVia != "chat" || surveys[0].Comment != "Quick and clear, thanks!" {
		t.Fatalf("surveys %+v", surveys)
	}
	// The comment endpoint: a token proves it, a body has a limit.
	post := func(body string) int {
		res, err := http.Post(e.srv.URL+"/csat/comment", "text/plain", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	if code := post(`{"token": "1.5.forged", "comment": "hi"}`); code != http.StatusNotFound {
		t.Errorf("a forged token: %d", code)
	}
	if code := post(`{"comment": "` + strings.Repeat("x", 20<<10) + `"}`); code != http.StatusRequestEntityTooLarge {
		t.Errorf("a 20 KB body: %d", code)
	}
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &got)
	if got.Status != "resolved" {
		t.Errorf("status %s after the rating", got.Status)
	}
}
