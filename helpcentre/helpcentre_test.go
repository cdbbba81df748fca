package helpcentre_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"onedesk/desk/desktest"
	"onedesk/helpcentre"
	"onedesk/store"
)

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Where is my order?":          "where-is-my-order",
		"Como devolver uma encomenda": "como-devolver-uma-encomenda",
		"Доставка заказов":            "доставка-заказов",
		"Şişli'ye kargo":              "şişli-ye-kargo",
		"!!!":                         "",
	} {
		if got := helpcentre.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderSanitizes(t *testing.T) {
	html, text := helpcentre.Render("# Title\n\nHello <img src=x onerror=alert(1)> **world** [x](javascript:alert(1))\n\n<script>alert(2)</script>\n\n![pic](/help/s/img/abc)")
	for _, bad := range []string{"onerror", "<script", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("rendered HTML keeps %q: %s", bad, html)
		}
	}
	if !strings.Contains(html, "<strong>world</strong>") || !strings.Contains(html, `<img src="/help/s/img/abc" alt="pic"`) {
		t.Errorf("rendered %s", html)
	}
	if text != "Title Hello world x pic" && !strings.HasPrefix(text, "Title Hello") {
		t.Errorf("text %q", text)
	}
}

// vocabulary makes article text: a few words every article shares and
// many that only some do, so searches match many or few articles.
var common = strings.Fields("order orders delivery return refund payment card shipping parcel address invoice size exchange")

func word(r *rand.Rand) string {
	if r.IntN(4) == 0 {
		return common[r.IntN(len(common))]
	}
	return fmt.Sprintf("w%03dx", r.IntN(3000))
}

// seed fills a store with n published articles in English in 25
// categories, written straight through store in batches.
func seed(b *testing.B, db *store.DB, n int) int64 {
	ctx := context.Background()
	var storeID int64
	now := time.Now()
	err := db.Write(ctx, func(tx *store.Tx) error {
		st := &store.Store{Name: "Bench Shop", Slug: "bench", Language: "en", Timezone: "UTC", CreatedAt: now}
		if err := tx.InsertStore(ctx, st); err != nil {
			return err
		}
		storeID = st.ID
		for i := range 25 {
			c := &store.HelpCategory{StoreID: st.ID, Slug: fmt.Sprintf("cat-%d", i), Position: i, CreatedAt: now,
				Names: map[string]store.HelpCategoryName{"en": {Name: fmt.Sprintf("Category %d", i), Description: "Things about " + common[i%len(common)]}}}
			if err := tx.InsertHelpCategory(ctx, c); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	cats, _ := db.HelpCategories(ctx, storeID)
	r := rand.New(rand.NewPCG(1, 2))
	for start := 0; start < n; start += 500 {
		err := db.Write(ctx, func(tx *store.Tx) error {
			for i := start; i < min(start+500, n); i++ {
				words := make([]string, 150)
				for j := range words {
					words[j] = word(r)
				}
				title := fmt.Sprintf("Article %d about %s %s", i, word(r), word(r))
				body := strings.Join(words[:75], " ") + ".\n\n" + strings.Join(words[75:], " ") + "."
				a := &store.HelpArticle{StoreID: storeID, CategoryID: &cats[i%len(cats)].ID, Lang: "en", Slug: helpcentre.Slugify(title),
					Title: title, Body: body, Position: i, CreatedAt: now, UpdatedAt: now}
				if err := tx.InsertHelpArticle(ctx, a); err != nil {
					return err
				}
				html, text := helpcentre.Render(body)
				if err := tx.PublishHelpArticle(ctx, a.ID, html, text, now); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	return storeID
}

// BenchmarkHelpCentre answers the public pages and searches of a store
// with 5,000 published articles (issue #27: a page and a search answer in
// under 20 ms at p99), through the handler as the port serves it.
func BenchmarkHelpCentre(b *testing.B) {
	d, db := desktest.New(b)
	start := time.Now()
	seed(b, db, 5000)
	b.Logf("seeded 5,000 articles in %s", time.Since(start).Round(time.Millisecond))
	c := helpcentre.New(d, desktest.Log())
	ctx := context.Background()
	arts, _ := db.HelpArticles(ctx, 1, "en")
	n := 0
	for _, bc := range []struct {
		name string
		path func(i int) string
	}{
		{"home", func(int) string { return "/help/bench/en/" }},
		{"category", func(i int) string { return fmt.Sprintf("/help/bench/en/c/cat-%d", i%25) }},
		{"category-page-5", func(i int) string { return fmt.Sprintf("/help/bench/en/c/cat-%d?page=5", i%25) }},
		{"article", func(i int) string { return "/help/bench/en/a/" + arts[(i*7919)%len(arts)].Slug }},
		{"search-common-word", func(i int) string { return "/help/bench/en/search?q=" + common[i%len(common)] }},
		{"search-two-words", func(i int) string {
			return "/help/bench/en/search?q=" + url.QueryEscape(common[i%len(common)]+" "+fmt.Sprintf("w%03dx", i%3000))
		}},
		{"search-none", func(i int) string { return fmt.Sprintf("/help/bench/en/search?q=nothing%d", i) }},
		{"json-typing", func(i int) string {
			w := fmt.Sprintf("w%03dx", i%3000)
			return "/help/bench/api/search?lang=en&q=" + url.QueryEscape("order "+w[:1+i%4])
		}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			lat := make([]time.Duration, 0, b.N)
			for i := 0; b.Loop(); i++ {
				n++
				req := httptest.NewRequest("GET", bc.path(i), nil)
				req.RemoteAddr = fmt.Sprintf("10.%d.%d.%d:1234", n>>16&255, n>>8&255, n&255) // past the per-address limits
				rec := httptest.NewRecorder()
				t0 := time.Now()
				c.ServeHTTP(rec, req)
				lat = append(lat, time.Since(t0))
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %s", req.URL, rec.Code, rec.Body.String())
				}
			}
			desktest.Latency(b, lat)
		})
	}
}
