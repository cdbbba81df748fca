package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/ui"
)

// A search while typing lists the matching tickets with the passage that
// matched, its words marked, in any language and on a phone.
func TestSearchPassageInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	api := e.admin().apiClient()
	api.must(201, "POST", "/api/tickets", map[string]any{
		"subject":  "Encomenda devolvida",
		"body":     "Olá! A encomenda chegou partida e eu queria pedir o reembolso. Já devolvi a caixa aos correios na segunda-feira, com o número de seguimento que me enviaram.",
		"customer": map[string]string{"email": "joana@example.com", "name": "Joana Araújo"},
	})
	api.newTicket("Parcel never arrived", "carla@example.com")
	loginOwner(t, ctx, e)
	for _, c := range []struct {
		lang, q string
		w, h    int64
	}{{"en", "reemb", 1366, 768}, {"pt", "devolvi", 390, 844}, {"en", "seguimen", 1920, 1080}} {
		api.must(200, "PATCH", "/api/me", map[string]string{"language": c.lang})
		var marked string
		run(t, ctx, "search "+c.q,
			chromedp.EmulateViewport(c.w, c.h),
			chromedp.Navigate(e.srv.URL+"/?lang="+c.lang+"#/open"),
			chromedp.WaitVisible(".row", chromedp.ByQuery), // the first list is in: typing is not undone by it
			chromedp.Evaluate(fmt.Sprintf(`{ const s = document.querySelector('#search'); s.focus(); s.value = %q; s.dispatchEvent(new Event('input', { bubbles: true })); }`, c.q), nil),
			chromedp.WaitVisible(".row .snip mark", chromedp.ByQuery),
			chromedp.Text(".row .snip mark", &marked, chromedp.ByQuery))
		if !strings.HasPrefix(strings.ToLower(marked), c.q) {
			t.Errorf("search %q marked %q", c.q, marked)
		}
		var rows int
		run(t, ctx, "rows", chromedp.Evaluate(`document.querySelectorAll('.row').length`, &rows))
		if rows != 1 {
			t.Errorf("search %q lists %d tickets, want 1", c.q, rows)
		}
		shot(t, ctx, "search-"+c.lang+"-"+c.q)
	}
}

// While a search is on, the sort menu offers what a search does (newest
// or oldest first) and shows which; the agent's own sort comes back after.
func TestSearchSortMenuInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	api := e.admin().apiClient()
	for _, s := range []string{"First parcel", "Second parcel", "Third parcel"} {
		api.newTicket(s, "sort@example.com")
	}
	loginOwner(t, ctx, e)
	options := `[...document.querySelectorAll('#sort option')].map((o) => o.value).join(',')`
	for _, size := range []struct {
		name string
		w, h int64
	}{{"1366x768", 1366, 768}, {"phone", 390, 844}} {
		search := func(q string) chromedp.Action {
			return chromedp.Evaluate(fmt.Sprintf(`{ const s = document.querySelector('#search'); s.focus(); s.value = %q; s.dispatchEvent(new Event('input', { bubbles: true })); }`, q), nil)
		}
		run(t, ctx, size.name+" inbox sorted by activity",
			chromedp.EmulateViewport(size.w, size.h),
			chromedp.Evaluate(`localStorage.setItem('onedesk.sort', 'updated')`, nil),
			chromedp.Navigate(e.srv.URL+"/?"+size.name+"#/all"),
			chromedp.WaitVisible(".row", chromedp.ByQuery),
			evalTrue(options+` === 'updated,newest,oldest,customer' && document.querySelector('#sort').value === 'updated'`))
		run(t, ctx, size.name+" search: newest first", search("parcel"),
			evalTrue(options+` === 'newest,oldest' && document.querySelector('#sort').value === 'newest'`),
			evalTrue(`document.querySelectorAll('.row').length === 3`))
		shot(t, ctx, "search-sort-"+size.name)
		run(t, ctx, size.name+" search: oldest first",
			chromedp.SetValue("#sort", "oldest", chromedp.ByQuery),
			chromedp.Evaluate(`document.querySelector('#sort').dispatchEvent(new Event('change'))`, nil),
			evalTrue(`document.querySelector('.row')?.textContent.includes('First parcel')`),
			evalTrue(`document.querySelector('#sort').value === 'oldest'`))
		run(t, ctx, size.name+" search cleared", search(""),
			evalTrue(options+` === 'updated,newest,oldest,customer' && document.querySelector('#sort').value === 'oldest'`))
	}
}
