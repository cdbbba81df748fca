package helpcentre_test

import (
	"context"
	"net/http/httptest"
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

// The pages keep what every reader sees alike (languages, categories, the
// home page) until the help centre changes: a change shows on the next
// page, also on another node's help centre serving the same database.
func TestPagesShowChangesAtOnce(t *testing.T) {
	d, db := desktest.New(t)
	ctx := context.Background()
	now := time.Now()
	st := &store.Store{Name: "Shop", Slug: "shop", Language: "en", Timezone: "UTC", CreatedAt: now}
	cat := &store.HelpCategory{Slug: "delivery", CreatedAt: now, Names: map[string]store.HelpCategoryName{"en": {Name: "Delivery"}}}
	publish := func(title string) *store.HelpArticle {
		a := &store.HelpArticle{StoreID: st.ID, CategoryID: &cat.ID, Lang: "en", Slug: helpcentre.Slugify(title), Title: title,
			Body: title + " body", CreatedAt: now, UpdatedAt: now}
		err := db.Write(ctx, func(tx *store.Tx) error {
			if err := tx.InsertHelpArticle(ctx, a); err != nil {
				return err
			}
			html, text := helpcentre.Render(a.Body)
			return tx.PublishHelpArticle(ctx, a.ID, html, text, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.InsertStore(ctx, st); err != nil {
			return err
		}
		cat.StoreID = st.ID
		return tx.InsertHelpCategory(ctx, cat)
	})
	if err != nil {
		t.Fatal(err)
	}
	first := publish("Where is my parcel")
	nodes := []*helpcentre.Centre{helpcentre.New(d, desktest.Log()), helpcentre.New(d, desktest.Log())}
	get := func(c *helpcentre.Centre, path string) (int, string) {
		req := httptest.NewRequest("GET", path, nil)
		rec := httptest.NewRecorder()
		c.ServeHTTP(rec, req)
		return rec.Code, rec.Body.String()
	}
	home := func(want, wantNot string) {
		t.Helper()
		for i, c := range nodes {
			code, body := get(c, "/help/shop/en/")
			if code != 200 || !strings.Contains(body, want) || (wantNot != "" && strings.Contains(body, wantNot)) {
				t.Fatalf("node %d: home %d without %q (or with %q): %s", i, code, want, wantNot, body)
			}
		}
	}
	home("Where is my parcel", "")
	publish("Returning a size")
	home("Returning a size", "")
	cat.Names = map[string]store.HelpCategoryName{"en": {Name: "Shipping"}}
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.UpdateHelpCategory(ctx, cat) }); err != nil {
		t.Fatal(err)
	}
	home("Shipping", "Delivery")
	if code, body := get(nodes[1], "/help/shop/en/c/delivery"); code != 200 || !strings.Contains(body, "Where is my parcel") {
		t.Fatalf("category %d: %s", code, body)
	}
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.UnpublishHelpArticle(ctx, first.ID) }); err != nil {
		t.Fatal(err)
	}
	home("Returning a size", "Where is my parcel")
	st.Name = "Shoe Shop"
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.UpdateStore(ctx, st) }); err != nil {
		t.Fatal(err)
	}
	home("Shoe Shop", "")
	if err := db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteHelpCategory(ctx, cat.ID) }); err != nil {
		t.Fatal(err)
	}
	home("Returning a size", "Shipping")
	if code, _ := get(nodes[0], "/help/shop/en/c/delivery"); code != 404 {
		t.Fatalf("a deleted category answered %d", code)
	}
}
