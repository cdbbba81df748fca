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
