package ui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
	"onedesk/ui"
)

// TestMailboxCardInBrowser: Settings → Mailboxes shows a stuck mailbox
// with its reason, the last message imported and the partly read ones
// (each a link to its ticket), and the ticket shows the message's note
// with a link to its source; at three sizes and in two languages.
func TestMailboxCardInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	api := e.admin()
	bg := context.Background()
	str := func(s string) *string { return &s }
	mb, err := e.desk.SaveMailbox(bg, 0, desk.MailboxInput{Address: str("help@shop.test"), Name: str("Shop help"), IMAPHost: str("imap.shop.test"),
		IMAPUsername: str("help"), IMAPPassword: "pw", SMTPHost: str("smtp.shop.test")})
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range []struct {
		subject, from string
		partial       i18n.Sentences
	}{
		{"You have won", "unknown-sender.1@onedesk.invalid", i18n.Sentences{i18n.S("The sender's address %s is not an email address; the message is filed under the mailbox's unknown sender, and replies cannot be sent.",
			`"Millions Lottery Spain transfer"@example.com>`)}},
		{"Deeply nested", "deep@example.com", i18n.Sentences{i18n.S("Parts nested more than %d levels deep were left out.", 100)}},
		{"Where is my parcel?", "carla@example.com", nil},
	} {
		_, err := e.desk.Ingest(bg, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: m.from},
			Subject: m.subject, Text: "Hello", ExternalID: fmt.Sprintf("m%d@example.com", i), Partial: m.partial,
			Mail: desk.MailSource{MailboxID: mb.ID, Cursor: &desk.Cursor{UIDValidity: 1, UID: uint32(i + 1)}, Raw: []byte("Subject: " + m.subject + "\r\n\r\nHello")}})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		e.desk.RecordPoll(bg, mb.ID, errors.New("import uid 4: database is locked"), 4)
	}

	loginOwner(t, ctx, e)
	sizes := []struct {
		name string
		w, h int64
	}{{"1366", 1366, 768}, {"1920", 1920, 1080}, {"390", 390, 844}}
	for _, lang := range []string{"en", "ru"} {
		api.must(200, "PATCH", "/api/me", map[string]string{"language": lang})
		stuck := map[string]string{"en": "Stuck", "ru": "Застрял"}[lang]
		run(t, ctx, "mailboxes "+lang,
			chromedp.Navigate(e.srv.URL+"/?lang="+lang+"#/admin/mailboxes"), // a new URL: the app reloads in the language
			chromedp.WaitVisible(fmt.Sprintf(`//p[contains(@class, "mailbox-stuck") and contains(., %q) and contains(., "UID 4") and contains(., "database is locked")]`, stuck), chromedp.BySearch),
			chromedp.WaitVisible(`//p[contains(@class, "mailbox-last")]/a[.="Where is my parcel?"]`, chromedp.BySearch),
			chromedp.Click(`.mailbox-partial summary`, chromedp.ByQuery),
			chromedp.WaitVisible(`//details[contains(@class, "mailbox-partial")]//a[.="Deeply nested"]`, chromedp.BySearch))
		// Each partly read message's note, in the agent's language.
		nested := map[string]string{"en": "Parts nested more than 100 levels deep", "ru": "Пропущены части с глубиной вложенности больше 100"}[lang]
		run(t, ctx, "partial note "+lang, chromedp.WaitVisible(fmt.Sprintf(`//details[contains(@class, "mailbox-partial")]//li[contains(., %q)]`, nested), chromedp.BySearch))
		var summary string
		run(t, ctx, "partial count "+lang, chromedp.Text(`.mailbox-partial summary`, &summary, chromedp.ByQuery))
		if !strings.Contains(summary, "2") {
			t.Fatalf("partial summary %q", summary)
		}
		for _, s := range sizes {
			run(t, ctx, "resize", chromedp.EmulateViewport(s.w, s.h))
			shot(t, ctx, fmt.Sprintf("mailbox-%s-%s", lang, s.name))
		}
		run(t, ctx, "resize back", chromedp.EmulateViewport(1366, 768))
	}
	// The partly read message's ticket shows why, with its source.
	run(t, ctx, "open the partly read ticket",
		chromedp.Click(`//details[contains(@class, "mailbox-partial")]//a[.="You have won"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class, "partial-note") and contains(., "Millions Lottery") and contains(., "не является адресом электронной почты")]/a[contains(@href, "/source")]`, chromedp.BySearch))
	shot(t, ctx, "mailbox-partial-message")
}
