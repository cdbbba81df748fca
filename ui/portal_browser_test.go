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

// waitText polls a selector's text until it holds want.
func waitText(t *testing.T, ctx context.Context, step, sel, want string, opts ...chromedp.QueryOption) {
	t.Helper()
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		chromedp.Run(sctx, chromedp.Text(sel, &got, append([]chromedp.QueryOption{chromedp.ByQuery, chromedp.AtLeast(0)}, opts...)...))
		cancel()
		if strings.Contains(got, want) {
			return
		}
	}
	shot(t, ctx, "failed-"+strings.ReplaceAll(step, " ", "-"))
	t.Fatalf("%s: %q never showed in %s (last %q)", step, want, sel, got)
}

// The portal in Chromium with JavaScript off: a link asked for, taken from
// the mail the SMTP sink received, opened; the tickets of both channels;
// a reply that lands on the ticket; the used link refused; the order
// tracker; in two languages at a laptop's and a phone's size.
func TestPortalInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	s := newPortalShop(t, e)
	shopify := ruiShop(t)
	s.admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", s.storeID), map[string]any{"orders": map[string]any{"shopify_domain": shopify.URL, "shopify_token": "shpat_secret"}})
	base := e.srv.URL + "/portal/shoe-shop"

	run(t, ctx, "no javascript", emulation.SetScriptExecutionDisabled(true), chromedp.EmulateViewport(1366, 768))
	run(t, ctx, "ask for a link", chromedp.Navigate(base+"?lang=en"), chromedp.WaitVisible("input[name=email]", chromedp.ByQuery))
	shot(t, ctx, "portal-signin-1366-en")
	run(t, ctx, "send", chromedp.SendKeys("input[name=email]", "rui@example.pt", chromedp.ByQuery), chromedp.Submit("input[name=email]", chromedp.ByQuery))
	waitText(t, ctx, "sent page", "main", "Check your inbox")
	_, link := portalMail(t, s.sink, 1)
	run(t, ctx, "open the link", chromedp.Navigate(link), chromedp.WaitVisible("#signin", chromedp.ByID), chromedp.Click("#signin", chromedp.ByID))
	waitText(t, ctx, "tickets", "ul.tickets", "Where are my shoes?")
	waitText(t, ctx, "chat ticket", "ul.tickets", s.chatQuestion)
	shot(t, ctx, "portal-tickets-1366-en")
	run(t, ctx, "phone size", chromedp.EmulateViewport(390, 844), chromedp.Reload())
	shot(t, ctx, "portal-tickets-390-en")

	run(t, ctx, "open the ticket", chromedp.Navigate(fmt.Sprintf("%s/tickets/%d", base, s.emailTicket)), chromedp.WaitVisible("textarea", chromedp.ByQuery))
	waitText(t, ctx, "thread", "#thread", s.answer)
	run(t, ctx, "reply", chromedp.SendKeys("textarea", "Thank you, it came today.", chromedp.ByQuery), chromedp.Submit("textarea", chromedp.ByQuery))
	waitText(t, ctx, "reply shown", "#thread", "Thank you, it came today.")
	shot(t, ctx, "portal-ticket-390-en")
	var got threadJSON
	s.admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", s.emailTicket), nil).json(t, &got)
	if last := got.Messages[len(got.Messages)-1]; last.Body != "Thank you, it came today." || last.Kind != "customer" {
		t.Fatalf("the reply from the portal: %+v", last)
	}

	// In Portuguese, picked on the page; the ticket at a laptop's size.
	run(t, ctx, "portuguese", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(fmt.Sprintf("%s/tickets/%d?lang=pt", base, s.emailTicket)))
	waitText(t, ctx, "portuguese ticket", "main", "A sua resposta")
	shot(t, ctx, "portal-ticket-1366-pt")
	run(t, ctx, "portuguese list", chromedp.EmulateViewport(390, 844), chromedp.Navigate(base))
	waitText(t, ctx, "portuguese list", "main", "Os seus pedidos")
	shot(t, ctx, "portal-tickets-390-pt")

	// The order tracker, both languages and sizes.
	for _, c := range []struct {
		lang, want string
		w, h       int64
	}{{"en", "Shipped", 1366, 768}, {"pt", "Enviada", 390, 844}, {"en", "Shipped", 390, 844}, {"pt", "Enviada", 1366, 768}} {
		run(t, ctx, "order "+c.lang, chromedp.EmulateViewport(c.w, c.h), chromedp.Navigate(base+"/order?lang="+c.lang),
			chromedp.WaitVisible("input[name=number]", chromedp.ByQuery),
			chromedp.SendKeys("input[name=number]", "#1001", chromedp.ByQuery))
		run(t, ctx, "contact "+c.lang, chromedp.SetValue("input[name=contact]", "rui@example.pt", chromedp.ByQuery), chromedp.Submit("input[name=number]", chromedp.ByQuery))
		waitText(t, ctx, "order "+c.lang, "main", c.want)
		shot(t, ctx, fmt.Sprintf("portal-order-%d-%s", c.w, c.lang))
	}

	// The link, used, signs in no more (another browser: no session).
	other := browser(t)
	run(t, other, "used link", emulation.SetScriptExecutionDisabled(true), chromedp.Navigate(link), chromedp.WaitVisible("#signin", chromedp.ByID), chromedp.Click("#signin", chromedp.ByID))
	waitText(t, other, "used link refused", "main", "This link does not work any more")
}

// The widget in Chromium: a chat begun on a computer continues on a phone
// (a second browser context) from the link mailed by "Continue on another
// device"; "Where is my order?" in the widget shows the order, and help,
// asked for, goes in the chat with the order; in two languages and sizes.
func TestPortalWidgetInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	s := newPortalShop(t, e)
	shopify := ruiShop(t)
	s.admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", s.storeID), map[string]any{"orders": map[string]any{"shopify_domain": shopify.URL, "shopify_token": "shpat_secret"}})
	agentOnline(t, e, s.admin)

	run(t, ctx, "laptop", chromedp.EmulateViewport(1366, 768))
	in := widgetRoot(t, ctx, "storefront", chromedp.Navigate(s.shopURL))
	run(t, ctx, "chat", chromedp.WaitVisible(".launch", chromedp.ByQuery, in), chromedp.Click(".launch", chromedp.ByQuery, in),
		chromedp.WaitVisible("textarea", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", "Can I pick the shoes up in Lisbon?", chromedp.ByQuery, in),
		chromedp.SendKeys("textarea", kb.Enter, chromedp.ByQuery, in))
	waitText(t, ctx, "sent", ".m.visitor .st", "Sent", in)

	// Continue on another device.
	run(t, ctx, "continue", chromedp.Click(".tools button:nth-of-type(2)", chromedp.ByQuery, in), chromedp.WaitVisible(".pv input[name=email]", chromedp.ByQuery, in),
		chromedp.SendKeys(".pv input[name=email]", "rui@example.pt", chromedp.ByQuery, in), chromedp.Click(".pv button.primary", chromedp.ByQuery, in))
	waitText(t, ctx, "continue sent", ".ok", "Check your inbox", in)
	shot(t, ctx, "widget-continue-1366-en")
	_, link := continueMail(t, s.sink, 1)
	run(t, ctx, "back to the chat", chromedp.Click(".pv button.attach", chromedp.ByQuery, in), chromedp.WaitVisible(".tools button", chromedp.ByQuery, in))

	// The phone opens the link: the desk's chat page of the store, its
	// widget open on the same chat, the whole thread there.
	phone := browser(t) // another browser, its own profile: the other device
	run(t, phone, "phone size", chromedp.EmulateViewport(390, 844))
	phoneIn := widgetRoot(t, phone, "phone opens the link", chromedp.Navigate(link))
	waitText(t, phone, "the chat on the phone", ".log", "Can I pick the shoes up in Lisbon?", phoneIn)
	var address string
	run(t, phone, "the code left the address", chromedp.Location(&address))
	if strings.Contains(address, "onedesk-continue") {
		t.Errorf("the code stays in the address: %s", address)
	}
	shot(t, phone, "widget-continued-390-en")
	run(t, phone, "write on the phone", chromedp.SendKeys("textarea", "I am on my phone now", chromedp.ByQuery, phoneIn),
		chromedp.SendKeys("textarea", kb.Enter, chromedp.ByQuery, phoneIn))
	waitText(t, phone, "sent from the phone", ".m.visitor:last-of-type .st", "Sent", phoneIn)
	// The agent has it on the same ticket; the computer shows it too.
	var list struct{ Tickets []ticketJSON }
	s.admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	var chatID int64
	for _, tk := range list.Tickets {
		if tk.Subject == "Can I pick the shoes up in Lisbon?" {
			chatID = tk.ID
		}
	}
	var got threadJSON
	s.admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", chatID), nil).json(t, &got)
	if last := got.Messages[len(got.Messages)-1]; last.Body != "I am on my phone now" || last.Channel != "chat" {
		t.Fatalf("the phone's message: %+v", got.Messages)
	}
	waitText(t, ctx, "the phone's message on the computer", ".log", "I am on my phone now", in)
	// The agent's answer reaches both devices.
	s.admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", chatID), map[string]any{"body": "Yes, in our Lisbon shop."})
	waitText(t, phone, "the answer on the phone", ".log", "Yes, in our Lisbon shop.", phoneIn)
	waitText(t, ctx, "the answer on the computer", ".log", "Yes, in our Lisbon shop.", in)
	shot(t, phone, "widget-continued-answer-390-en")

	// The link again (a third device): it says it was used.
	third := browser(t)
	thirdIn := widgetRoot(t, third, "the link again", chromedp.Navigate(link))
	waitText(t, third, "used link", ".pv .err", "used already", thirdIn)
	shot(t, third, "widget-continue-used-1366-en")

	// Where is my order? A wrong address first, then the right one.
	orderIn := func(ctx context.Context, in chromedp.QueryOption, lang, refusal, shipped, size string) {
		run(t, ctx, "order "+lang, chromedp.Click(".tools button:nth-of-type(1)", chromedp.ByQuery, in), chromedp.WaitVisible(".pv input[name=number]", chromedp.ByQuery, in),
			chromedp.SendKeys(".pv input[name=number]", "1001", chromedp.ByQuery, in),
			chromedp.SendKeys(".pv input[name=contact]", "ana@example.com", chromedp.ByQuery, in), chromedp.Click(".pv button.primary", chromedp.ByQuery, in))
		waitText(t, ctx, "wrong address "+lang, ".err", refusal, in)
		run(t, ctx, "right address "+lang, chromedp.SetValue(".pv input[name=contact]", "rui@example.pt", chromedp.ByQuery, in), chromedp.Click(".pv button.primary", chromedp.ByQuery, in))
		waitText(t, ctx, "order shown "+lang, "dl[data-order]", shipped, in)
		shot(t, ctx, "widget-order-"+size+"-"+lang)
		// The other size, the panel as it is.
		other := [2]int64{390, 844}
		if size == "390" {
			other = [2]int64{1366, 768}
		}
		run(t, ctx, "resize "+lang, chromedp.EmulateViewport(other[0], other[1]))
		shot(t, ctx, fmt.Sprintf("widget-order-%d-%s", other[0], lang))
		run(t, ctx, "size back "+lang, chromedp.EmulateViewport(map[string]int64{"390": 390, "1366": 1366}[size], map[string]int64{"390": 844, "1366": 768}[size]))
	}
	orderIn(ctx, in, "en", "We could not find an order", "Shipped", "1366")
	run(t, ctx, "ask for help", chromedp.SendKeys(".pv textarea[name=message]", "Can I change the size?", chromedp.ByQuery, in),
		chromedp.Click(".pv form button.primary", chromedp.ByQuery, in))
	waitText(t, ctx, "help in the chat", ".log", "Can I change the size?", in)
	s.admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", chatID), nil).json(t, &got)
	if last := got.Messages[len(got.Messages)-1]; !strings.Contains(last.Body, "#1001") || !strings.Contains(last.Body, "Can I change the size?") {
		t.Fatalf("the help in the chat: %+v", last)
	}

	// A Portuguese visitor on a phone.
	pt := browser(t)
	run(t, pt, "portuguese phone", chromedp.EmulateViewport(390, 844), emulation.SetUserAgentOverride("Mozilla/5.0 (Linux; Android 14) Mobile").WithAcceptLanguage("pt-PT"))
	ptIn := widgetRoot(t, pt, "storefront pt", chromedp.Navigate(s.shopURL))
	run(t, pt, "open pt", chromedp.WaitVisible(".launch", chromedp.ByQuery, ptIn), chromedp.Click(".launch", chromedp.ByQuery, ptIn), chromedp.WaitVisible(".tools button", chromedp.ByQuery, ptIn))
	orderIn(pt, ptIn, "pt", "Não encontrámos uma encomenda", "Enviada", "390")
}
