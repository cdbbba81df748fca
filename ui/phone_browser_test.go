package ui_test

import (
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestPhoneTicketHeaderInPortuguese opens a ticket of the seeded desk on a
// phone in Portuguese (longer words than English): every control of its
// header (snooze, macros, the folded fields, then status, priority,
// assignee and team unfolded) is whole, readable and in the window, and
// the page never scrolls sideways. Back in the list, the assignee's
// picture shows on the ticket's row.
func TestPhoneTicketHeaderInPortuguese(t *testing.T) {
	ctx := browser(t)
	e := seededDesk(t)
	problems := watchPage(ctx)
	api := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
		Agent     struct{ ID int64 }
	}
	api.must(200, "POST", "/api/auth/login", map[string]string{"email": "agent1@seed.test", "password": "password123"}).json(t, &me)
	api.csrf = me.CSRFToken
	picture := uploadAvatar(t, e, api)
	api.must(200, "PATCH", "/api/me", map[string]string{"language": "pt"})
	var open struct {
		Tickets []struct {
			ID         int64
			AssigneeID *int64 `json:"assignee_id"`
		}
	}
	api.must(200, "GET", "/api/tickets?status=open", nil).json(t, &open)
	var id int64
	for _, tk := range open.Tickets {
		if tk.AssigneeID == nil || *tk.AssigneeID != me.Agent.ID {
			id = tk.ID
			break
		}
	}
	if id == 0 {
		t.Fatal("the seeded desk has no open ticket of another agent's")
	}
	// Assigned to agent1 (whose picture it is): the newest change, so the
	// first row of the open tickets.
	api.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", id), map[string]any{"assignee_id": me.Agent.ID})

	run(t, ctx, "phone", screenSizes[2].apply())
	loginSeeded(t, ctx, e)
	run(t, ctx, "ticket in Portuguese", chromedp.Navigate(fmt.Sprintf("%s/?pt#/open/t/%d", e.srv.URL, id)),
		chromedp.WaitVisible(`html[lang="pt"] .t-head h1`, chromedp.ByQuery),
		chromedp.WaitVisible("#snooze", chromedp.ByID), chromedp.WaitVisible("#t-more", chromedp.ByID))
	var words struct{ Snooze, Details string }
	run(t, ctx, "words", chromedp.Evaluate(`({snooze: document.querySelector('#snooze').options[0].text, details: document.querySelector('#t-more').innerText.trim()})`, &words))
	if words.Snooze != "Adiar" || words.Details != "Detalhes" {
		t.Errorf("header speaks %+v, want Portuguese (Adiar, Detalhes)", words)
	}
	shot(t, ctx, "phone-pt-ticket")
	headerControlsInView(t, ctx, "phone pt, fields folded")
	run(t, ctx, "unfold the fields", chromedp.Click("#t-more", chromedp.ByID),
		chromedp.WaitVisible(`//div[@id="t-fields"]//label[contains(., "Responsável")]/select`, chromedp.BySearch),
		evalTrue(`document.querySelector('#t-more').getAttribute('aria-expanded') === 'true'`))
	shot(t, ctx, "phone-pt-ticket-fields")
	headerControlsInView(t, ctx, "phone pt, fields unfolded")
	// The assignee field shows who it is with their picture.
	run(t, ctx, "assignee picture", evalTrue(fmt.Sprintf(`(() => { const i = document.querySelector('#t-fields .avatar img[src=%q]'); return !!i && i.complete && i.naturalWidth > 0; })()`, picture)))
	// Macros are one tap away in the header.
	run(t, ctx, "macros from the header", chromedp.Click(".t-macros", chromedp.ByQuery), chromedp.WaitVisible("#macro-search", chromedp.ByID),
		chromedp.Evaluate(`document.querySelector('.overlay').remove()`, nil))

	// The list: the row of the ticket shows the assignee's picture, loaded,
	// in the same box the initials had (nothing moved).
	run(t, ctx, "back to the list", chromedp.Click("#back", chromedp.ByQuery), chromedp.WaitVisible("#row-list > .row", chromedp.ByQuery))
	run(t, ctx, "avatar in the ticket list", evalTrue(fmt.Sprintf(`(() => {
		const a = document.querySelector('#row-list > .row .avatar[data-agent="%d"]');
		const i = a?.querySelector('img');
		if (!i || !i.complete || i.naturalWidth === 0) return false;
		const box = a.getBoundingClientRect(), pic = i.getBoundingClientRect();
		return a.textContent.trim() !== '' && Math.abs(box.width - pic.width) < 1 && Math.abs(box.height - pic.height) < 1 && box.width <= 24;
	})()`, me.Agent.ID)))
	shot(t, ctx, "phone-pt-list")
	if p := problems.take(); len(p) > 0 {
		t.Errorf("the page reported problems: %v", p)
	}
}
