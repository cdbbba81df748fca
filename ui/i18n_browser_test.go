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

	"onedesk/channels/email"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
	"onedesk/ui"
)

// In each of the five languages the sentences the server writes read in
// that language: a refused tag shows its toast, and a reply on an email
// ticket that no mailbox can send shows why it was not sent.
func TestServerSentencesInBrowser(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	email.New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil))) // the email sender, with no mailbox to send from
	ctx := browser(t)
	loginOwner(t, ctx, e)

	const tagErr = "tag %q has a comma; a tag is a word or words without commas"
	const noMailbox = desk.NoMailboxReason
	for _, lang := range i18n.Languages {
		t.Run(lang, func(t *testing.T) {
			wantToast := i18n.Server().Sprintf(lang, tagErr, "a,b")
			wantReason := i18n.Server().Sprintf(lang, noMailbox)
			if lang != "en" && (wantToast == fmt.Sprintf(tagErr, "a,b") || wantReason == noMailbox) {
				t.Fatalf("%s has no translation of the sentences tested", lang)
			}
			admin.must(200, "PATCH", "/api/me", map[string]string{"language": lang})
			in, err := e.desk.Ingest(context.Background(), desk.Inbound{Channel: "email",
				From:    store.Identity{Kind: "email", Value: "buyer-" + lang + "@example.com"},
				Subject: "Order " + lang, Text: "Where is my parcel?", ExternalID: "i18n-" + lang + "@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			// Another query string loads the app afresh, in the saved language.
			run(t, ctx, "open ticket",
				chromedp.Navigate(fmt.Sprintf("%s/?lang=%s#/open/t/%d", e.srv.URL, lang, in.Ticket.ID)),
				chromedp.WaitVisible("#reply", chromedp.ByID),
				chromedp.Poll(fmt.Sprintf("document.documentElement.lang === %q", lang), nil, chromedp.WithPollingTimeout(15*time.Second)))

			// The header may be drawn again as the ticket's first events
			// arrive, taking the typed tag with it: type again until the
			// server has answered.
			var toast string
			run(t, ctx, "refused tag", chromedp.ActionFunc(func(ctx context.Context) error {
				for ctx.Err() == nil {
					if err := chromedp.Run(ctx,
						chromedp.SendKeys(".tags-edit input", "a,b", chromedp.ByQuery),
						chromedp.KeyEvent(kb.Enter)); err != nil {
						if strings.Contains(err.Error(), "node with given id") {
							continue // the header was drawn anew under the typing: type again
						}
						return err
					}
					pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
					err := chromedp.Run(pctx, chromedp.Poll(`document.querySelector('.toast.error')?.textContent || ''`, &toast))
					cancel()
					if err == nil {
						return nil
					}
					chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('.tags-edit input').value = ''`, nil))
				}
				return ctx.Err()
			}))
			if toast != wantToast {
				t.Errorf("toast %q, want %q", toast, wantToast)
			}

			// Typed again if the reply box was drawn anew before Send.
			var failed string
			run(t, ctx, "reply that cannot leave", chromedp.ActionFunc(func(ctx context.Context) error {
				for ctx.Err() == nil {
					var sent bool
					if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#thread')?.textContent.includes('Your parcel left today.')`, &sent)); err != nil {
						return err
					}
					if !sent {
						if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelector('#reply').value = ''`, nil),
							chromedp.SendKeys("#reply", "Your parcel left today.", chromedp.ByID),
							chromedp.Click("#send", chromedp.ByID)); err != nil {
							return err
						}
					}
					pctx, cancel := context.WithTimeout(ctx, 3*time.Second)
					err := chromedp.Run(pctx, chromedp.Poll(`document.querySelector('.delivery.failed')?.textContent || ''`, &failed))
					cancel()
					if err == nil {
						return nil
					}
				}
				return ctx.Err()
			}))
			if !strings.Contains(failed, wantReason) {
				t.Errorf("delivery failure %q, want it to say %q", failed, wantReason)
			}
			shot(t, ctx, "i18n-"+lang)
		})
	}
}

// A new contact form starts in its store's language (its customers read
// it), whatever language the agent who makes it speaks; the hosted page's
// hidden anti-spam field is labelled in the page's language and kept from
// screen readers and the keyboard.
func TestStarterFormInStoreLanguage(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Obuv", "slug": "obuv", "language": "cs", "country": "CZ"})
	ctx := browser(t)
	loginOwner(t, ctx, e)
	var title, fields string
	run(t, ctx, "new form",
		chromedp.Navigate(e.srv.URL+"/#/admin/forms"),
		chromedp.Click(`.admin-head .btn.primary`, chromedp.ByQuery),
		chromedp.Poll(`document.querySelector('input[name="title"]')?.value || ''`, &title, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`[...document.querySelectorAll('main input, main textarea, main option')].map((e) => e.value).join(' | ')`, &fields))
	if title != "Kontaktujte nás" {
		t.Errorf("the starter form's title is %q, want the store's Czech", title)
	}
	for _, want := range []string{"Vaše jméno", "Téma", "Vrácení", "Číslo objednávky"} {
		if !strings.Contains(fields, want) {
			t.Errorf("the starter form lacks %q: %s", want, fields)
		}
	}

	// The hosted page's honeypot.
	var form struct{ ID int64 }
	admin.must(201, "POST", "/api/forms", map[string]any{"title": "Kontakt", "slug": "kontakt", "store_id": 1,
		"fields": []map[string]any{{"name": "email", "label": "E-mail", "type": "email", "required": true},
			{"name": "message", "label": "Zpráva", "type": "textarea", "required": true}}}).json(t, &form)
	page := admin.must(200, "GET", "/f/kontakt", nil)
	hp := `<div class="hp" aria-hidden="true"><label>Toto pole nechte prázdné <input type="text" name="website_url" tabindex="-1" autocomplete="off"></label></div>`
	if !strings.Contains(string(page.body), hp) {
		t.Errorf("the honeypot is not labelled in Czech and hidden:\n%s", page.body)
	}
}
