package store

import (
	"context"
	"strings"
	"testing"
)

// Migration 0050 makes help_articles again with the lists' columns first:
// every article keeps its draft, published version, votes and place, and
// gets the start of its text as the snippet the lists read.
func TestMigrateHelpListing(t *testing.T) {
	ctx := context.Background()
	path, raw := databaseAt(t, 49)
	text := strings.Repeat("Пакет доставлен курьером. ", 20) // 520 runes
	db := migrated(t, path, raw,
		"INSERT INTO stores (id, name, slug, created_at) VALUES (3, 'Shop', 'shop', 1)",
		`INSERT INTO help_categories (id, store_id, slug, names, position, created_at) VALUES (5, 3, 'delivery', '{"ru": {"name": "Доставка"}}', 0, 1)`,
		`INSERT INTO help_articles (id, store_id, category_id, lang, slug, position, title, body, pub_title, pub_body, pub_html, pub_text,
			published_at, helpful_yes, helpful_no, created_at, updated_at)
			VALUES (7, 3, 5, 'ru', 'dostavka', 2, 'Доставка (черновик)', 'черновик', 'Доставка', 'Пакет', '<p>Пакет</p>', '`+text+`', 1000, 4, 1, 1, 2)`,
		`INSERT INTO help_articles (id, store_id, lang, slug, title, body, created_at, updated_at) VALUES (8, 3, 'ru', 'draft', 'Черновик', 'x', 1, 1)`)
	a, err := db.PublishedHelpArticle(ctx, 3, "ru", "dostavka")
	if err != nil {
		t.Fatal(err)
	}
	if a.Title != "Доставка (черновик)" || a.Body != "черновик" || a.PublishedTitle != "Доставка" || a.HTML != "<p>Пакет</p>" ||
		a.Text != text || a.HelpfulYes != 4 || a.HelpfulNo != 1 || a.Position != 2 || a.Status != "changed" {
		t.Fatalf("article after the migration: %+v", a)
	}
	hits, err := db.PublishedHelpInCategory(ctx, 3, "ru", 5, 0, 10)
	if err != nil || len(hits) != 1 || hits[0].Text != string([]rune(text)[:snippetRunes]) || hits[0].Text != helpSnippet(text) {
		t.Fatalf("category list %+v %v", hits, err)
	}
	if _, err := db.PublishedHelpArticle(ctx, 3, "ru", "draft"); err == nil {
		t.Fatal("a draft is published after the migration")
	}
	// The rows went in raw, past the index: Run indexes the article.
	if n, err := db.IndexHelp(ctx); err != nil || n != 1 {
		t.Fatalf("indexed %d: %v", n, err)
	}
	if hits, err := db.SearchHelp(ctx, 3, "ru", "курьеры", 5); err != nil || len(hits) != 1 || hits[0].ID != 7 {
		t.Fatalf("search after the migration %+v %v", hits, err)
	}
}
