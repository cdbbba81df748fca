package ui_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// TestUnknownSenderInAgentsLanguage: mail whose sender could not be read
// is filed under a nameless customer with the mailbox's unknown-sender
// address, and mail without text carries the desk's marker; the app says
// both in the agent's language, in the inbox and on the ticket.
func TestUnknownSenderInAgentsLanguage(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	api := e.admin()
	bg := context.Background()
	in, err := e.desk.Ingest(bg, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "unknown-sender.1@onedesk.invalid"},
		Subject: "You have won", Text: desk.NoTextBody, ExternalID: "won@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	loginOwner(t, ctx, e)
	for _, c := range []struct{ lang, sender, noText string }{
		{"en", "Unknown sender", "The message has no text."},
		{"ru", "Неизвестный отправитель", "В сообщении нет текста."},
		{"cs", "Neznámý odesílatel", "Zpráva nemá žádný text."},
	} {
		api.must(200, "PATCH", "/api/me", map[string]string{"language": c.lang})
		run(t, ctx, "inbox "+c.lang,
			chromedp.Navigate(e.srv.URL+"/?lang="+c.lang+"#/all"),
			chromedp.WaitVisible(fmt.Sprintf(`//span[contains(@class, "who") and .=%q]`, c.sender), chromedp.BySearch),
			chromedp.WaitVisible(fmt.Sprintf(`//span[contains(@class, "snip") and .=%q]`, c.noText), chromedp.BySearch))
		shot(t, ctx, "unknown-sender-inbox-"+c.lang)
		run(t, ctx, "ticket "+c.lang,
			chromedp.Navigate(fmt.Sprintf("%s/?lang=%s#/all/t/%d", e.srv.URL, c.lang, in.Ticket.ID)),
			chromedp.WaitVisible(fmt.Sprintf(`//div[contains(@class, "body") and .=%q]`, c.noText), chromedp.BySearch),
			chromedp.WaitVisible(fmt.Sprintf(`//*[contains(., %q)]`, c.sender), chromedp.BySearch))
		shot(t, ctx, "unknown-sender-ticket-"+c.lang)
	}
}
