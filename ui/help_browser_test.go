package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// helpReport polls the help centre report until ok says it is as wanted.
func helpReport(t *testing.T, admin *client, storeID int64, what string, ok func(widget, form [3]int) bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var rep struct {
			Deflection []struct {
				Source                       string
				Opened, Contacted, Deflected int
			}
		}
		admin.must(200, "GET", fmt.Sprintf("/api/help/report?store_id=%d", storeID), nil).json(t, &rep)
		var widget, form [3]int
		for _, d := range rep.Deflection {
			v := [3]int{d.Opened, d.Contacted, d.Deflected}
			if d.Source == "widget" {
				widget = v
			} else {
				form = v
			}
		}
		if ok(widget, form) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: deflection widget %v form %v", what, widget, form)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// The public help centre works with JavaScript off: browse a category to
// an article, vote, search in Portuguese and Russian (inflected words
// find their articles), and drafts are nowhere.
func TestHelpCentreWithoutJavaScriptInBrowser(t *testing.T) {
	ctx := browser(t)
	e, admin, storeID := helpDesk(t)
	var cat struct{ ID int64 }
	admin.must(201, "POST", "/api/help/categories", map[string]any{"store_id": storeID, "slug": "devolucoes",
		"names": map[string]any{"pt": map[string]string{"name": "Devoluções e reembolsos", "description": "Devolver artigos e receber o dinheiro"},
			"ru": map[string]string{"name": "Возвраты", "description": "Как вернуть товар и деньги"}}}).json(t, &cat)
	art := admin.article(storeID, "pt", cat.ID, "Como devolver uma encomenda", "Tem **30 dias** para devolver as encomendas.\n\n- Imprima a etiqueta.\n- Entregue nos correios.", true)
	admin.article(storeID, "pt", cat.ID, "Reembolsos no cartão", "Os reembolsos chegam ao cartão em 5 dias úteis.", true)
	admin.article(storeID, "ru", cat.ID, "Доставка заказов", "Мы доставляем заказы курьером за три дня.", true)
	admin.article(storeID, "pt", cat.ID, "Cartões de oferta secretos", "Rascunho: cartões de oferta.", false)

	run(t, ctx, "scripts off", emulation.SetScriptExecutionDisabled(true))
	run(t, ctx, "home", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/help/shoe-shop"),
		chromedp.WaitVisible(`//h2[contains(., "Devoluções e reembolsos")]`, chromedp.BySearch))
	var home string
	run(t, ctx, "home text", chromedp.Text("main", &home, chromedp.ByQuery))
	if !strings.Contains(home, "Como devolver uma encomenda") || strings.Contains(home, "Cartões de oferta") {
		t.Fatalf("home: %s", home)
	}
	shot(t, ctx, "help-pt-home-1366")
	run(t, ctx, "category", chromedp.Click(`//h2/a[contains(., "Devoluções")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ol[@class="results"]//a[contains(., "Reembolsos no cartão")]`, chromedp.BySearch))
	run(t, ctx, "article", chromedp.Click(`//ol[@class="results"]//a[contains(., "Como devolver")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//article//strong[. = "30 dias"]`, chromedp.BySearch))
	shot(t, ctx, "help-pt-article-1366")
	run(t, ctx, "vote", chromedp.Click(`//aside[@class="vote"]//button[@value="yes"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//aside[@class="vote"]//p[contains(., "Obrigado")]`, chromedp.BySearch))
	var got helpArticleJSON
	admin.must(200, "GET", fmt.Sprintf("/api/help/articles/%d", art.ID), nil).json(t, &got)
	if got.HelpfulYes != 1 {
		t.Fatalf("helpful %d", got.HelpfulYes)
	}

	// Search: "devolvido" stems as "devolver" does.
	run(t, ctx, "search pt", chromedp.SetValue("#q", "devolvido", chromedp.ByID), chromedp.Submit("#q", chromedp.ByID),
		chromedp.WaitVisible(`//ol[@class="results"]//a[contains(., "Como devolver uma encomenda")]`, chromedp.BySearch))
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844))
	shot(t, ctx, "help-pt-search-390")
	run(t, ctx, "search finds no draft", chromedp.SetValue("#q", "oferta", chromedp.ByID), chromedp.Submit("#q", chromedp.ByID),
		chromedp.WaitVisible(`//p[@class="empty" and contains(., "oferta")]`, chromedp.BySearch))
	code, _, _ := e.get("/help/shoe-shop/pt/a/cartoes-de-oferta-secretos")
	if code != 404 {
		t.Fatalf("the draft answered %d", code)
	}

	// Russian: another language, its own stems ("курьеры" → "курьером").
	run(t, ctx, "russian", chromedp.Click(`//nav[@class="langs"]/a[@hreflang="ru"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h2[contains(., "Возвраты")]`, chromedp.BySearch))
	shot(t, ctx, "help-ru-home-390")
	run(t, ctx, "search ru", chromedp.SetValue("#q", "курьеры", chromedp.ByID), chromedp.Submit("#q", chromedp.ByID),
		chromedp.WaitVisible(`//ol[@class="results"]//a[contains(., "Доставка заказов")]`, chromedp.BySearch))
	run(t, ctx, "ru article", chromedp.Click(`//ol[@class="results"]//a`, chromedp.BySearch),
		chromedp.WaitVisible(`//article//h1[contains(., "Доставка")]`, chromedp.BySearch))
	shot(t, ctx, "help-ru-article-390")
	run(t, ctx, "desktop", chromedp.EmulateViewport(1366, 768))
	shot(t, ctx, "help-ru-article-1366")
}

// The chat widget offers help search before a first chat: the visitor
// finds an article and opens it (recorded for deflection); then chats
// anyway, which marks the visit contacted.
func TestHelpWidgetSearchInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shop := shoeShop(t, e, admin)
	admin.article(1, "en", 0, "How to return an item", "You have 30 days to return shoes in their box.", true)
	admin.article(1, "en", 0, "Delivery times", "Parcels arrive in 2 to 5 days.", true)
	agentOnline(t, e, admin)

	in := widgetRoot(t, ctx, "storefront", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(shop))
	run(t, ctx, "help search", chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible(`.help input[type="search"]`, chromedp.ByQuery, in),
		chromedp.SendKeys(`.help input[type="search"]`, "returning", chromedp.ByQuery, in),
		// Typed slowly (a busy machine), the letters so far are searched
		// too: wait for the list that answers the whole word.
		chromedp.WaitVisible(`.help ul[data-q="returning"] li a`, chromedp.ByQuery, in))
	var title, href string
	var ok bool
	run(t, ctx, "result", chromedp.Text(`.help ul[data-q="returning"] li b`, &title, chromedp.ByQuery, in),
		chromedp.AttributeValue(`.help ul[data-q="returning"] li a`, "href", &href, &ok, chromedp.ByQuery, in))
	if title != "How to return an item" || !strings.Contains(href, "/help/shoe-shop/en/a/how-to-return-an-item?ref=widget&visit=") {
		t.Fatalf("result %q %q", title, href)
	}
	shot(t, ctx, "help-widget-search")
	// Opening the article (in a new tab) counts the visit.
	run(t, ctx, "open article", chromedp.Click(`.help li a`, chromedp.ByQuery, in))
	helpReport(t, admin, 1, "article opened", func(w, _ [3]int) bool { return w == [3]int{1, 0, 1} })

	run(t, ctx, "chat anyway", chromedp.Click(`.help .ask button`, chromedp.ByQuery, in),
		chromedp.WaitVisible("form.send textarea", chromedp.ByQuery, in),
		chromedp.SendKeys("form.send textarea", "My size is not there\n", chromedp.ByQuery, in),
		chromedp.WaitVisible(`.m.visitor[data-id]`, chromedp.ByQuery, in))
	helpReport(t, admin, 1, "chatted after", func(w, _ [3]int) bool { return w == [3]int{1, 1, 0} })
}

// The hosted contact form suggests articles as the customer types the
// subject; one opened and the form not sent is a deflection.
func TestHelpFormSuggestionsInBrowser(t *testing.T) {
	ctx := browser(t)
	e, admin, storeID := helpDesk(t)
	admin.article(storeID, "en", 0, "Track your order", "Use the tracking link in the shipping email.", true)
	admin.must(201, "POST", "/api/forms", map[string]any{"store_id": storeID, "slug": "contact", "title": "Contact us", "fields": []map[string]any{
		{"name": "email", "label": "Email", "type": "email", "required": true},
		{"name": "subject", "label": "Subject", "type": "text", "required": true},
		{"name": "message", "label": "Message", "type": "textarea", "required": true}}})
	run(t, ctx, "form", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/f/contact?lang=en"),
		chromedp.WaitVisible("#f-subject", chromedp.ByID),
		chromedp.SendKeys("#f-subject", "where is my order", chromedp.ByID),
		chromedp.WaitVisible(`#suggest a`, chromedp.ByQuery))
	var title, href string
	var ok bool
	run(t, ctx, "suggestion", chromedp.Text(`#suggest a`, &title, chromedp.ByQuery), chromedp.AttributeValue(`#suggest a`, "href", &href, &ok, chromedp.ByQuery))
	if title != "Track your order" || !strings.Contains(href, "ref=form&visit=") {
		t.Fatalf("suggestion %q %q", title, href)
	}
	shot(t, ctx, "help-form-suggestion")
	run(t, ctx, "open it", chromedp.Click(`#suggest a`, chromedp.ByQuery))
	helpReport(t, admin, storeID, "suggestion opened", func(_, f [3]int) bool { return f == [3]int{1, 0, 1} })
	// Nothing is suggested for a subject no article answers.
	run(t, ctx, "no match", chromedp.Navigate(e.srv.URL+"/f/contact?lang=en"), chromedp.WaitVisible("#f-subject", chromedp.ByID),
		chromedp.SendKeys("#f-subject", "tracking", chromedp.ByID), chromedp.WaitVisible(`#suggest a`, chromedp.ByQuery),
		chromedp.Evaluate(`document.getElementById("f-subject").value = ""`, nil),
		chromedp.SendKeys("#f-subject", "xylophone", chromedp.ByID), chromedp.WaitNotVisible(`#suggest`, chromedp.ByID))
}

// The editor: a new article in the app with its live preview, a picture's
// Markdown, saved as a draft and published; in two languages and on a phone.
func TestHelpEditorInBrowser(t *testing.T) {
	ctx := browser(t)
	e, admin, storeID := helpDesk(t)
	admin.must(201, "POST", "/api/help/categories", map[string]any{"store_id": storeID,
		"names": map[string]any{"pt": map[string]string{"name": "Encomendas"}, "en": map[string]string{"name": "Orders"}}})
	admin.article(storeID, "pt", 0, "Onde está a minha encomenda?", "Use o link de seguimento.", true)
	loginOwner(t, ctx, e)
	for _, c := range []struct {
		lang, title, body, publish string
		w, h                       int64
	}{
		{"pt", "Prazos de entrega", "Entregamos em **2 a 5 dias** úteis.\n\n| País | Prazo |\n|---|---|\n| Portugal | 1–2 dias |", "Publicar", 1366, 768},
		{"en", "Delivery times", "We deliver in **2 to 5** working days.\n\n- Portugal: 1–2 days\n- Spain: 2–3 days", "Publish", 390, 844},
	} {
		admin.must(200, "PATCH", "/api/me", map[string]string{"language": c.lang})
		run(t, ctx, "help screen "+c.lang, chromedp.EmulateViewport(c.w, c.h),
			chromedp.Navigate(fmt.Sprintf("%s/?lang=%s#/admin/help", e.srv.URL, c.lang)),
			chromedp.WaitVisible("#help-new", chromedp.ByID))
		if c.lang == "en" {
			run(t, ctx, "english articles", chromedp.Click(`//div[@class="lang-bar"]/button[. = "English"]`, chromedp.BySearch),
				chromedp.WaitVisible(`//div[@class="lang-bar"]/button[. = "English" and @aria-selected="true"]`, chromedp.BySearch))
		}
		shot(t, ctx, fmt.Sprintf("help-app-list-%s-%d", c.lang, c.w))
		run(t, ctx, "new article "+c.lang, chromedp.Click("#help-new", chromedp.ByID),
			chromedp.WaitVisible(`#admin input[name="title"]`, chromedp.ByQuery),
			chromedp.SendKeys(`#admin input[name="title"]`, c.title, chromedp.ByQuery),
			chromedp.SendKeys(`#admin textarea[name="body"]`, c.body, chromedp.ByQuery),
			chromedp.Poll(`(document.querySelector('iframe.help-preview')?.srcdoc || '').includes('<strong>')`, nil, chromedp.WithPollingTimeout(20*time.Second)))
		shot(t, ctx, fmt.Sprintf("help-app-editor-%s-%d", c.lang, c.w))
		run(t, ctx, "publish "+c.lang, chromedp.Click("#help-publish", chromedp.ByID),
			chromedp.WaitVisible("#help-unpublish", chromedp.ByID))
		shot(t, ctx, fmt.Sprintf("help-app-editor-%s-%d-published", c.lang, c.w))
		code, body, _ := e.get(fmt.Sprintf("/help/shoe-shop/%s/a/%s", c.lang, map[string]string{"pt": "prazos-de-entrega", "en": "delivery-times"}[c.lang]))
		if code != 200 || !strings.Contains(body, "<strong>") {
			t.Fatalf("published from the editor: %d %s", code, body)
		}
	}
}
