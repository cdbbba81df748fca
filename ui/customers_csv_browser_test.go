package ui_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"onedesk/store"
)

// Customers → Import CSV on a seeded desk, in a real browser: a file
// with a byte order mark and ; separators whose rows are customers the
// desk has (and one new, one without an address), previewed with its
// columns mapped, imported, summed up; no customer made twice. At
// 1366×768 in English, then on a phone in Portuguese.
func TestCustomersCSVImportInBrowser(t *testing.T) {
	ctx := browser(t)
	e := seededDesk(t)
	known, err := e.desk.SearchCustomers(t.Context(), "", 0, 3)
	if err != nil || len(known) != 3 {
		t.Fatalf("seeded customers: %v %v", known, err)
	}
	emailOf := func(c store.Customer) string {
		for _, id := range c.Identities {
			if id.Kind == "email" {
				return id.Value
			}
		}
		t.Fatalf("customer %d has no email", c.ID)
		return ""
	}
	var b strings.Builder
	b.WriteString("\ufeffNome;Email;Telefone;Cidade\r\n")
	for i, c := range known {
		fmt.Fprintf(&b, "Cliente %d;%s;;Lisboa\r\n", i, strings.ToUpper(emailOf(c)))
	}
	b.WriteString("Nova Cliente;nova@example.pt;+351 912 345 678;Porto\r\nSem Endereço;;;Faro\r\n")
	path := filepath.Join(t.TempDir(), "clientes.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	count := func() int {
		n := 0
		for _, c := range append(known, store.Customer{Identities: []store.Identity{{Kind: "email", Value: "nova@example.pt"}}}) {
			list, err := e.desk.SearchCustomers(t.Context(), emailOf(c), 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			n += len(list)
		}
		return n
	}

	importOnce := func(lang, size string, want string) {
		t.Helper()
		run(t, ctx, "open Import CSV "+lang,
			chromedp.Navigate(e.srv.URL+"/#/customers"),
			chromedp.Reload(), // the language the agent chose, and no dialog left open
			chromedp.WaitVisible("#customers-csv", chromedp.ByID),
			chromedp.Click("#customers-csv", chromedp.ByID),
			chromedp.WaitVisible("#csv-file", chromedp.ByID),
			chromedp.SetUploadFiles("#csv-file", []string{path}, chromedp.ByID),
			chromedp.WaitVisible(`.csv-preview table`, chromedp.ByQuery),
			evalTrue(`document.querySelector('select[data-col="1"]').value === 'email' && document.querySelector('select[data-col="3"]').value === 'notes'`))
		shot(t, ctx, "csv-preview-"+lang+"-"+size)
		run(t, ctx, "import "+lang,
			chromedp.Click("#csv-go", chromedp.ByID),
			chromedp.WaitVisible("#csv-summary", chromedp.ByID))
		var text string
		run(t, ctx, "summary "+lang, chromedp.Text("#csv-summary", &text, chromedp.ByID))
		if !strings.Contains(text, want) || !strings.Contains(text, "6") {
			t.Errorf("%s summary %q, want %q and row 6 skipped", lang, text, want)
		}
		shot(t, ctx, "csv-summary-"+lang+"-"+size)
	}

	loginSeeded(t, ctx, e)
	run(t, ctx, "1366x768", chromedp.EmulateViewport(1366, 768))
	importOnce("en", "1366x768", "1 created, 3 updated")
	if n := count(); n != 4 {
		t.Fatalf("%d customers with the CSV's addresses, want 4", n)
	}

	// Again, in Portuguese on a phone: all there already.
	c := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(200, "POST", "/api/auth/login", map[string]any{"email": "agent1@seed.test", "password": "password123"}).json(t, &me)
	c.csrf = me.CSRFToken
	c.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, ctx, "phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile, chromedp.EmulateScale(2)))
	importOnce("pt", "390x844", "0 criados, 0 atualizados, 4 já em dia")
	if n := count(); n != 4 {
		t.Fatalf("%d customers with the CSV's addresses after a second import, want 4", n)
	}
}
