package ui_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/channels/email/emailtest"
	"onedesk/ui"
)

// New ticket → email → send in Chromium: the c key opens the dialog, the
// signature shows under the message, the mail reaches the SMTP server
// signed, and the new ticket opens with the signature under its reply
// box. A call is logged on it from the reply box. With
// ONEDESK_SCREENSHOTS set, the dialog, the call form and the reply box
// are captured at 1366×768 and 390×844, in English and Czech.
func TestNewTicketByEmailInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "signature": "{store_name} · shoes.test"}).json(t, &st)
	admin.must(200, "PATCH", "/api/me", map[string]any{"signature": "Cheers,\n{agent_first_name}"})
	sink := emailtest.Mailbox(t, e.desk, st.ID, "help@shoes.test", "Shoe Shop")
	loginOwner(t, ctx, e)

	var sig string
	run(t, ctx, "open New ticket with c",
		press('c'),
		chromedp.WaitVisible("#nt-email", chromedp.ByID),
		chromedp.Text("#nt-sig .sig-text", &sig, chromedp.ByQuery))
	if sig != "Cheers,\nOlga\n\nShoe Shop · shoes.test" {
		t.Fatalf("signature preview %q", sig)
	}
	run(t, ctx, "write the first email",
		chromedp.SendKeys("#nt-email", "hana@example.com", chromedp.ByID),
		chromedp.SendKeys("#nt-name", "Hana", chromedp.ByID),
		chromedp.SendKeys("#nt-subject", "Your parcel came back", chromedp.ByID),
		chromedp.SendKeys("#nt-body", "Which address should we use?", chromedp.ByID),
		chromedp.Click("#nt-send", chromedp.ByID),
		chromedp.WaitNotPresent("#new-ticket", chromedp.ByID),
		chromedp.WaitVisible(`//h1[contains(., "Your parcel came back")]`, chromedp.BySearch),
		chromedp.WaitVisible("#reply-sig .sig-text", chromedp.ByQuery))
	waitFor(t, "the mail at the SMTP server", func() bool { return len(sink.Messages()) == 1 })
	if raw := sink.Messages()[0]; !strings.Contains(raw, "Which address should we use?") || !strings.Contains(raw, "Cheers,") {
		t.Fatalf("sent mail:\n%s", raw)
	}

	run(t, ctx, "log a call on the ticket",
		chromedp.Click("#log-call", chromedp.ByID),
		chromedp.WaitVisible("#call-minutes", chromedp.ByID),
		chromedp.SendKeys("#call-minutes", "4", chromedp.ByID),
		chromedp.SendKeys("#call-notes", "She will send the new address by mail.", chromedp.ByID),
		chromedp.Click("#call-save", chromedp.ByID),
		chromedp.WaitVisible(".msg.call", chromedp.ByQuery))
	// Read in one evaluation: the live update may draw the thread anew.
	var head string
	run(t, ctx, "the call in the thread",
		chromedp.Poll(`document.querySelector('.msg.call .m-head')?.textContent.includes('4:00')`, nil, chromedp.WithPollingTimeout(15*time.Second)),
		chromedp.Evaluate(`document.querySelector('.msg.call .m-head').textContent`, &head))
	if !strings.Contains(head, "Incoming call") || !strings.Contains(head, "4:00") {
		t.Fatalf("call line %q", head)
	}

	// A call as a ticket of its own, with the customer picked by name.
	var email string
	run(t, ctx, "log a call as a ticket",
		chromedp.Evaluate(`document.activeElement.blur()`, nil),
		press('c'),
		chromedp.WaitVisible("#nt-email", chromedp.ByID),
		chromedp.Click(`.nt-tabs [data-kind="call"]`, chromedp.ByQuery),
		chromedp.WaitVisible("#call-name", chromedp.ByID),
		chromedp.SendKeys("#call-name", "Hana", chromedp.ByID),
		chromedp.WaitReady("#call-name-found option", chromedp.ByQuery),
		// What choosing the offered customer does: the value, then an input event.
		chromedp.Evaluate(`(() => { const i = document.querySelector('#call-name');
			i.value = document.querySelector('#call-name-found option').value; i.dispatchEvent(new Event('input')); })()`, nil),
		chromedp.Value("#call-email", &email, chromedp.ByID))
	if email != "hana@example.com" {
		t.Fatalf("picking Hana filled the email with %q", email)
	}
	run(t, ctx, "save the call",
		chromedp.SendKeys("#call-notes", "Called back about the address.", chromedp.ByID),
		chromedp.Click("#nt-send", chromedp.ByID),
		chromedp.WaitNotPresent("#new-ticket", chromedp.ByID),
		chromedp.WaitVisible(`//h1[contains(., "Called back about the address.")]`, chromedp.BySearch))
	var phoneTickets struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=phone", nil).json(t, &phoneTickets)
	if len(phoneTickets.Tickets) != 1 || phoneTickets.Tickets[0].CustomerID != 1 || phoneTickets.Tickets[0].Status != "resolved" {
		t.Fatalf("phone tickets %+v", phoneTickets.Tickets)
	}
	screens(t, ctx, e, admin)
}

// screens captures the dialogs and the reply box at two sizes in two
// languages, when ONEDESK_SCREENSHOTS asks for pictures.
func screens(t *testing.T, ctx context.Context, e *env, admin *client) {
	if testing.Short() || !shotsWanted() {
		return
	}
	for _, lang := range []string{"en", "cs"} {
		admin.must(200, "PATCH", "/api/me", map[string]any{"language": lang})
		for _, size := range [][2]int64{{1366, 768}, {390, 844}} {
			name := fmt.Sprintf("%s-%dx%d", lang, size[0], size[1])
			run(t, ctx, "size "+name,
				chromedp.EmulateViewport(size[0], size[1]),
				chromedp.Navigate(e.srv.URL+"/?lang="+name+"#/mine/t/1"), // a new query loads the page anew, in the new language
				chromedp.WaitVisible("#reply", chromedp.ByID),
				chromedp.Sleep(300*time.Millisecond)) // fonts and layout settle before the picture
			shot(t, ctx, "outreach-reply-"+name)
			run(t, ctx, "dialog "+name, chromedp.Evaluate(`document.querySelector('#bar-new-ticket, #new-ticket-open').click()`, nil),
				chromedp.WaitVisible("#nt-email", chromedp.ByID),
				chromedp.SendKeys("#nt-subject", "Ваш заказ / Your order", chromedp.ByID))
			shot(t, ctx, "outreach-new-ticket-"+name)
			run(t, ctx, "call tab "+name, chromedp.Click(`.nt-tabs [data-kind="call"]`, chromedp.ByQuery), chromedp.WaitVisible("#call-phone", chromedp.ByID))
			shot(t, ctx, "outreach-call-"+name)
		}
	}
	run(t, ctx, "my signature", chromedp.EmulateViewport(1366, 768), chromedp.Navigate(e.srv.URL+"/?again#/admin/me"), chromedp.WaitVisible("#my-signature", chromedp.ByID))
	shot(t, ctx, "outreach-my-signature")
	run(t, ctx, "customer page", chromedp.Navigate(e.srv.URL+"/?again#/customers/1"), chromedp.WaitVisible("#customer-write", chromedp.ByID))
	shot(t, ctx, "outreach-customer")
}

func shotsWanted() bool { return os.Getenv("ONEDESK_SCREENSHOTS") != "" }
