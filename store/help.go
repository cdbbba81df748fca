package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/turkish"
)

// HelpCategory groups a store's help articles; its name is per language.
type HelpCategory struct {
	ID        int64                       `json:"id"`
	StoreID   int64                       `json:"store_id"`
	Slug      string                      `json:"slug"`
	Names     map[string]HelpCategoryName `json:"names"`
	Position  int                         `json:"position"`
	CreatedAt time.Time                   `json:"created_at"`
}

// HelpCategoryName is a category's name and description in one language.
type HelpCategoryName struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// HelpArticle is one article in one language: the draft agents edit and,
// once published, the version readers see until the next publish.
type HelpArticle struct {
	ID         int64  `json:"id"`
	StoreID    int64  `json:"store_id"`
	CategoryID *int64 `json:"category_id"`
	Lang       string `json:"lang"`
	Slug       string `json:"slug"`
	Position   int    `json:"position"`
	Title      string `json:"title"` // the draft
	Body       string `json:"body,omitempty"`
	// The published version (empty when never published).
	PublishedTitle string     `json:"published_title"`
	PublishedBody  string     `json:"published_body,omitempty"`
	HTML           string     `json:"-"`
	Text           string     `json:"-"`
	PublishedAt    *time.Time `json:"published_at"`
	// Status: draft (never published, or unpublished), published, or
	// changed (published, with a draft that differs).
	Status     string    `json:"status"`
	HelpfulYes int       `json:"helpful_yes"`
	HelpfulNo  int       `json:"helpful_no"`
	UpdatedBy  *int64    `json:"updated_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

// HelpHit is a published article found by a search or listed on a page.
type HelpHit struct {
	ID         int64     `json:"id"`
	CategoryID *int64    `json:"category_id"`
	Lang       string    `json:"lang"`
	Slug       string    `json:"slug"`
	Title      string    `json:"title"`
	Text       string    `json:"-"` // the start of the article as plain text, for a snippet
	Published  time.Time `json:"-"`
}

const helpCategoryCols = "id, store_id, slug, names, position, created_at"

func scanHelpCategory(row interface{ Scan(...any) error }) (*HelpCategory, error) {
	var c HelpCategory
	var names string
	var created int64
	if err := row.Scan(&c.ID, &c.StoreID, &c.Slug, &names, &c.Position, &created); err != nil {
		return nil, err
	}
	c.Names = map[string]HelpCategoryName{}
	_ = jsonUnmarshal(names, &c.Names)
	c.CreatedAt = fromMS(created)
	return &c, nil
}

// HelpCategories lists a store's categories in their order.
func (db *DB) HelpCategories(ctx context.Context, storeID int64) ([]*HelpCategory, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+helpCategoryCols+" FROM help_categories WHERE store_id = ? ORDER BY position, id", storeID)
	if err != nil {
		return nil, fmt.Errorf("help categories: %w", err)
	}
	defer rows.Close()
	list := []*HelpCategory{}
	for rows.Next() {
		c, err := scanHelpCategory(rows)
		if err != nil {
			return nil, fmt.Errorf("help categories: %w", err)
		}
		list = append(list, c)
	}
	return list, rows.Err()
}

// HelpCategory reads one category.
func (db *DB) HelpCategory(ctx context.Context, id int64) (*HelpCategory, error) {
	c, err := scanHelpCategory(db.rq.QueryRowContext(ctx, "SELECT "+helpCategoryCols+" FROM help_categories WHERE id = ?", id))
	return c, notFoundID(err, "help category", id)
}

// InsertHelpCategory creates a category; ErrConflict when its slug is taken in the store.
func (tx *Tx) InsertHelpCategory(ctx context.Context, c *HelpCategory) error {
	res, err := tx.q.insert(ctx, `INSERT INTO help_categories (store_id, slug, names, position, created_at) VALUES (?, ?, ?, ?, ?)`,
		c.StoreID, c.Slug, jsonText(c.Names, "{}"), c.Position, ms(c.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("help category %s: %w", c.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert help category: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return tx.changedHelp(ctx, c.StoreID)
}

// UpdateHelpCategory writes a category's slug, names and position.
func (tx *Tx) UpdateHelpCategory(ctx context.Context, c *HelpCategory) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE help_categories SET slug = ?, names = ?, position = ? WHERE id = ?`,
		c.Slug, jsonText(c.Names, "{}"), c.Position, c.ID)
	if isUnique(err) {
		return fmt.Errorf("help category %s: %w", c.Slug, ErrConflict)
	}
	if err := affectedOne(res, err, "help category", c.ID); err != nil {
		return err
	}
	return tx.changedHelpOf(ctx, "help_categories", c.ID)
}

// DeleteHelpCategory removes a category; its articles stay, without one.
func (tx *Tx) DeleteHelpCategory(ctx context.Context, id int64) error {
	if err := tx.changedHelpOf(ctx, "help_categories", id); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM help_categories WHERE id = ?`, id)
	return affectedOne(res, err, "help category", id)
}

func affectedOne(res sql.Result, err error, thing string, id int64) error {
	if err != nil {
		return fmt.Errorf("%s %d: %w", thing, id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFoundID(sql.ErrNoRows, thing, id)
	}
	return nil
}

const helpArticleCols = `id, store_id, category_id, lang, slug, position, title, body, pub_title, pub_body, pub_html, pub_text,
	published_at, helpful_yes, helpful_no, updated_by, created_at, updated_at`

func scanHelpArticle(row interface{ Scan(...any) error }) (*HelpArticle, error) {
	var a HelpArticle
	var cat, by, pub sql.NullInt64
	var created, updated int64
	if err := row.Scan(&a.ID, &a.StoreID, &cat, &a.Lang, &a.Slug, &a.Position, &a.Title, &a.Body, &a.PublishedTitle, &a.PublishedBody,
		&a.HTML, &a.Text, &pub, &a.HelpfulYes, &a.HelpfulNo, &by, &created, &updated); err != nil {
		return nil, err
	}
	a.CategoryID, a.UpdatedBy = fromNullID(cat), fromNullID(by)
	a.CreatedAt, a.UpdatedAt = fromMS(created), fromMS(updated)
	a.Status = "draft"
	if pub.Valid {
		t := fromMS(pub.Int64)
		a.PublishedAt = &t
		a.Status = "published"
		if a.Title != a.PublishedTitle || a.Body != a.PublishedBody {
			a.Status = "changed"
		}
	}
	return &a, nil
}

// HelpArticles lists a store's articles (in one language unless lang is
// ""), drafts included, without their bodies, in their order.
func (db *DB) HelpArticles(ctx context.Context, storeID int64, lang string) ([]*HelpArticle, error) {
	q := "SELECT " + helpArticleCols + " FROM help_articles WHERE store_id = ?"
	args := []any{storeID}
	if lang != "" {
		q += " AND lang = ?"
		args = append(args, lang)
	}
	rows, err := db.rq.QueryContext(ctx, q+" ORDER BY lang, category_id, position, id", args...)
	if err != nil {
		return nil, fmt.Errorf("help articles: %w", err)
	}
	defer rows.Close()
	list := []*HelpArticle{}
	for rows.Next() {
		a, err := scanHelpArticle(rows)
		if err != nil {
			return nil, fmt.Errorf("help articles: %w", err)
		}
		a.Body, a.PublishedBody, a.HTML, a.Text = "", "", "", ""
		list = append(list, a)
	}
	return list, rows.Err()
}

// HelpArticle reads one article, draft and published version.
func (db *DB) HelpArticle(ctx context.Context, id int64) (*HelpArticle, error) {
	a, err := scanHelpArticle(db.rq.QueryRowContext(ctx, "SELECT "+helpArticleCols+" FROM help_articles WHERE id = ?", id))
	return a, notFoundID(err, "help article", id)
}

// PublishedHelpArticle reads the published article a reader asks for by
// its slug; a draft is ErrNotFound.
func (db *DB) PublishedHelpArticle(ctx context.Context, storeID int64, lang, slug string) (*HelpArticle, error) {
	// By the unique key alone: with "published" in the query, PostgreSQL
	// may walk the partial index of published articles instead.
	a, err := scanHelpArticle(db.rq.QueryRowContext(ctx, "SELECT "+helpArticleCols+
		" FROM help_articles WHERE store_id = ? AND lang = ? AND slug = ?", storeID, lang, slug))
	if err == nil && a.PublishedAt == nil {
		err = sql.ErrNoRows // a draft
	}
	return a, notFound(err, "help article "+slug)
}

// InsertHelpArticle creates an article as a draft; ErrConflict when its
// slug is taken in the store and language.
func (tx *Tx) InsertHelpArticle(ctx context.Context, a *HelpArticle) error {
	res, err := tx.q.insert(ctx, `INSERT INTO help_articles (store_id, category_id, lang, slug, position, title, body, updated_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, a.StoreID, nullID(a.CategoryID), a.Lang, a.Slug, a.Position, a.Title, a.Body,
		nullID(a.UpdatedBy), ms(a.CreatedAt), ms(a.UpdatedAt))
	if isUnique(err) {
		return fmt.Errorf("help article %s: %w", a.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert help article: %w", err)
	}
	if a.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return tx.changedHelp(ctx, a.StoreID)
}

// UpdateHelpArticle saves an article's draft and its place; the published
// version stays as it was until PublishHelpArticle. The slug and category
// are shared by both (a published article moves at once).
func (tx *Tx) UpdateHelpArticle(ctx context.Context, a *HelpArticle) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE help_articles SET category_id = ?, slug = ?, position = ?, title = ?, body = ?,
		updated_by = ?, updated_at = ? WHERE id = ?`, nullID(a.CategoryID), a.Slug, a.Position, a.Title, a.Body,
		nullID(a.UpdatedBy), ms(a.UpdatedAt), a.ID)
	if isUnique(err) {
		return fmt.Errorf("help article %s: %w", a.Slug, ErrConflict)
	}
	if err := affectedOne(res, err, "help article", a.ID); err != nil {
		return err
	}
	return tx.changedHelpOf(ctx, "help_articles", a.ID)
}

// PublishHelpArticle makes the draft the published version: html is its
// body rendered and sanitized, text the same as plain text (what search
// reads).
func (tx *Tx) PublishHelpArticle(ctx context.Context, id int64, html, text string, at time.Time) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE help_articles SET pub_title = title, pub_body = body, pub_html = ?, pub_text = ?,
		pub_snippet = ?, published_at = ? WHERE id = ?`, html, text, helpSnippet(text), ms(at), id)
	if err := affectedOne(res, err, "help article", id); err != nil {
		return err
	}
	if err := tx.changedHelpOf(ctx, "help_articles", id); err != nil {
		return err
	}
	return tx.indexHelpArticle(ctx, id)
}

// snippetRunes is how much of an article's text its lists keep
// (pub_snippet): more than any snippet they show, so that a snippet of
// it is the snippet of the whole text.
const snippetRunes = 200

// helpSnippet is the start of a text that pub_snippet keeps, as SQL's
// substr(text, 1, snippetRunes) makes it (migration 0050).
func helpSnippet(text string) string {
	n := 0
	for i := range text {
		if n == snippetRunes {
			return text[:i]
		}
		n++
	}
	return text
}

// changedHelp counts a change to a store's help centre: the pages keep
// what they read until the count moves (HelpVersion).
func (tx *Tx) changedHelp(ctx context.Context, storeID int64) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO help_versions (store_id, version) VALUES (?, 1)
		ON CONFLICT (store_id) DO UPDATE SET version = help_versions.version + 1`, storeID)
	if err != nil {
		return fmt.Errorf("help version: %w", err)
	}
	return nil
}

// changedHelpOf is changedHelp for the store of an article or a
// category (table help_articles or help_categories).
func (tx *Tx) changedHelpOf(ctx context.Context, table string, id int64) error {
	var storeID int64
	if err := tx.q.QueryRowContext(ctx, `SELECT store_id FROM `+table+` WHERE id = ?`, id).Scan(&storeID); err != nil {
		return notFoundID(err, table, id)
	}
	return tx.changedHelp(ctx, storeID)
}

// HelpVersion is the count of changes to a store's help centre: what
// its pages read from the help tables stays the same while it does.
func (db *DB) HelpVersion(ctx context.Context, storeID int64) (int64, error) {
	var v int64
	err := db.rq.QueryRowContext(ctx, `SELECT version FROM help_versions WHERE store_id = ?`, storeID).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("help version: %w", err)
	}
	return v, nil
}

// indexHelpArticle puts a published article's words in the search index
// (on SQLite stemmed here, on PostgreSQL by its dictionary).
func (tx *Tx) indexHelpArticle(ctx context.Context, id int64) error {
	var title, text, lang string
	var storeID int64
	if err := tx.q.QueryRowContext(ctx, `SELECT pub_title, pub_text, lang, store_id FROM help_articles WHERE id = ?`, id).Scan(&title, &text, &lang, &storeID); err != nil {
		return fmt.Errorf("help article %d: %w", id, err)
	}
	var err error
	if tx.postgres {
		cfg := pgTextConfig(lang)
		_, err = tx.q.ExecContext(ctx, `INSERT INTO help_search (article_id, store_id, lang, title_words, words) VALUES (?, ?, ?,
			to_tsvector(?::regconfig, ?), setweight(to_tsvector(?::regconfig, ?), 'A') || setweight(to_tsvector(?::regconfig, ?), 'B'))
			ON CONFLICT (article_id) DO UPDATE SET title_words = excluded.title_words, words = excluded.words`,
			id, storeID, lang, cfg, title, cfg, title, cfg, text)
	} else if err = tx.unindexHelpArticle(ctx, id); err == nil {
		scope, stemmed := helpScope(storeID, lang), strings.Join(helpStems(lang, title), " ")
		if _, err = tx.q.ExecContext(ctx, `INSERT INTO help_search (rowid, scope, title, body) VALUES (?, ?, ?, ?)`,
			id, scope, stemmed, strings.Join(helpStems(lang, text), " ")); err == nil {
			_, err = tx.q.ExecContext(ctx, `INSERT INTO help_titles (rowid, scope, title) VALUES (?, ?, ?)`, id, scope, stemmed)
		}
	}
	if err != nil {
		return fmt.Errorf("index help article %d: %w", id, err)
	}
	return nil
}

// IndexHelp puts in the search index every published article missing
// from it (after `onedesk copy`, which leaves derived tables to the
// target), and tells how many.
func (db *DB) IndexHelp(ctx context.Context) (int, error) {
	q := `SELECT id FROM help_articles WHERE published_at IS NOT NULL AND id NOT IN (SELECT rowid FROM help_search)`
	if db.postgres {
		q = `SELECT id FROM help_articles WHERE published_at IS NOT NULL AND id NOT IN (SELECT article_id FROM help_search)`
	}
	rows, err := db.rq.QueryContext(ctx, q)
	if err != nil {
		return 0, fmt.Errorf("help index: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("help index: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	for start := 0; start < len(ids); start += 200 {
		err := db.Write(ctx, func(tx *Tx) error {
			for _, id := range ids[start:min(start+200, len(ids))] {
				if err := tx.indexHelpArticle(ctx, id); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return start, err
		}
	}
	return len(ids), nil
}

// HelpChanges counts the changes to every store's help centre: when it
// moves, OptimizeHelpSearch has work.
func (db *DB) HelpChanges(ctx context.Context) (int64, error) {
	var n int64
	if err := db.rq.QueryRowContext(ctx, `SELECT coalesce(sum(version), 0) FROM help_versions`).Scan(&n); err != nil {
		return 0, fmt.Errorf("help changes: %w", err)
	}
	return n, nil
}

// OptimizeHelpSearch merges SQLite's search indexes of the help centre
// into one segment each: every publish adds a segment, and a search seeks
// in each (a third of a search's CPU with a few dozen). PostgreSQL's
// GIN indexes need nothing of the kind.
func (db *DB) OptimizeHelpSearch(ctx context.Context) error {
	if db.postgres {
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		for _, table := range []string{"help_search", "help_titles"} {
			if _, err := tx.q.ExecContext(ctx, `INSERT INTO `+table+` (`+table+`) VALUES ('optimize')`); err != nil {
				return fmt.Errorf("optimize %s: %w", table, err)
			}
		}
		return nil
	})
}

// UnpublishHelpArticle takes an article off the help centre; its draft stays.
func (tx *Tx) UnpublishHelpArticle(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE help_articles SET published_at = NULL, pub_html = '', pub_text = '', pub_snippet = '' WHERE id = ?`, id)
	if err := affectedOne(res, err, "help article", id); err != nil {
		return err
	}
	if err := tx.changedHelpOf(ctx, "help_articles", id); err != nil {
		return err
	}
	return tx.unindexHelpArticle(ctx, id)
}

func (tx *Tx) unindexHelpArticle(ctx context.Context, id int64) error {
	var err error
	if tx.postgres {
		_, err = tx.q.ExecContext(ctx, `DELETE FROM help_search WHERE article_id = ?`, id)
	} else if _, err = tx.q.ExecContext(ctx, `DELETE FROM help_search WHERE rowid = ?`, id); err == nil {
		_, err = tx.q.ExecContext(ctx, `DELETE FROM help_titles WHERE rowid = ?`, id)
	}
	if err != nil {
		return fmt.Errorf("unindex help article %d: %w", id, err)
	}
	return nil
}

// DeleteHelpArticle removes an article, draft and published version.
func (tx *Tx) DeleteHelpArticle(ctx context.Context, id int64) error {
	if err := tx.changedHelpOf(ctx, "help_articles", id); err != nil {
		return err
	}
	if err := tx.unindexHelpArticle(ctx, id); err != nil {
		return err
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM help_articles WHERE id = ?`, id)
	return affectedOne(res, err, "help article", id)
}

// VoteHelpArticle counts one "Was this helpful?" answer on a published article.
func (tx *Tx) VoteHelpArticle(ctx context.Context, id int64, helpful bool) error {
	col := "helpful_no"
	if helpful {
		col = "helpful_yes"
	}
	res, err := tx.q.ExecContext(ctx, `UPDATE help_articles SET `+col+` = `+col+` + 1 WHERE id = ? AND published_at IS NOT NULL`, id)
	return affectedOne(res, err, "help article", id)
}

// HelpLanguages are those of langs a store has published articles in, in
// langs' order: one probe of the index each (a DISTINCT walked every
// article, and on PostgreSQL visited each row).
func (db *DB) HelpLanguages(ctx context.Context, storeID int64, langs []string) ([]string, error) {
	parts := make([]string, len(langs))
	args := make([]any, 0, 2*len(langs))
	for i, l := range langs {
		parts[i] = fmt.Sprintf(`SELECT %d, (SELECT lang FROM help_articles WHERE store_id = ? AND lang = ? AND published_at IS NOT NULL LIMIT 1)`, i)
		args = append(args, storeID, l)
	}
	rows, err := db.rq.QueryContext(ctx, strings.Join(parts, " UNION ALL ")+" ORDER BY 1", args...)
	if err != nil {
		return nil, fmt.Errorf("help languages: %w", err)
	}
	defer rows.Close()
	list := []string{}
	for rows.Next() {
		var i int
		var l sql.NullString
		if err := rows.Scan(&i, &l); err != nil {
			return nil, fmt.Errorf("help languages: %w", err)
		}
		if l.Valid {
			list = append(list, l.String)
		}
	}
	return list, rows.Err()
}

func scanHits(rows *sql.Rows, err error, what string) ([]HelpHit, error) {
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	defer rows.Close()
	list := []HelpHit{}
	for rows.Next() {
		var h HelpHit
		var cat sql.NullInt64
		var pub int64
		if err := rows.Scan(&h.ID, &cat, &h.Lang, &h.Slug, &h.Title, &h.Text, &pub); err != nil {
			return nil, fmt.Errorf("%s: %w", what, err)
		}
		h.CategoryID, h.Published = fromNullID(cat), fromMS(pub)
		list = append(list, h)
	}
	return list, rows.Err()
}

// PublishedHelpHome lists the first perCategory published articles in a
// language of each of categoryIDs that has any, and of those without a
// category (key 0), in their order, with each one's count: two reads of
// the lists' index, which holds all they read (no article row is
// visited), the second one short probe per category. (A window
// function ranking every article cost 18 ms of CPU on SQLite.)
func (db *DB) PublishedHelpHome(ctx context.Context, storeID int64, lang string, categoryIDs []int64, perCategory int) ([]HelpHit, map[int64]int, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT coalesce(category_id, 0), count(*) FROM help_articles
		WHERE store_id = ? AND lang = ? AND published_at IS NOT NULL GROUP BY category_id`, storeID, lang)
	if err != nil {
		return nil, nil, fmt.Errorf("help home: %w", err)
	}
	defer rows.Close()
	counts := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, nil, fmt.Errorf("help home: %w", err)
		}
		counts[id] = n
	}
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("help home: %w", err)
	}
	rows.Close()
	var parts []string
	var args []any
	for _, id := range append(slices.Clone(categoryIDs), 0) {
		if counts[id] == 0 {
			continue
		}
		cond := "category_id = ?"
		if id == 0 {
			cond = "category_id IS NULL"
		}
		parts = append(parts, fmt.Sprintf(`SELECT * FROM (SELECT id, category_id, lang, slug, pub_title, '' AS snippet, published_at FROM help_articles
			WHERE store_id = ? AND lang = ? AND published_at IS NOT NULL AND %s ORDER BY position, id LIMIT ?) c%d`, cond, len(parts)))
		args = append(args, storeID, lang)
		if id != 0 {
			args = append(args, id)
		}
		args = append(args, perCategory)
	}
	if len(parts) == 0 {
		return []HelpHit{}, counts, nil
	}
	rows, err = db.rq.QueryContext(ctx, strings.Join(parts, " UNION ALL "), args...)
	hits, err := scanHits(rows, err, "help home")
	if err != nil {
		return nil, nil, err
	}
	return hits, counts, nil
}

// PublishedHelpInCategory is a page of a category's published articles in
// a language (categoryID 0: those without one), with their text.
func (db *DB) PublishedHelpInCategory(ctx context.Context, storeID int64, lang string, categoryID int64, offset, limit int) ([]HelpHit, error) {
	q := `SELECT id, category_id, lang, slug, pub_title, pub_snippet, published_at FROM help_articles
		WHERE store_id = ? AND lang = ? AND published_at IS NOT NULL AND `
	args := []any{storeID, lang}
	if categoryID == 0 {
		q += "category_id IS NULL"
	} else {
		q += "category_id = ?"
		args = append(args, categoryID)
	}
	rows, err := db.rq.QueryContext(ctx, q+" ORDER BY position, id LIMIT ? OFFSET ?", append(args, limit, offset)...)
	return scanHits(rows, err, "help category articles")
}

// PublishedHelpAll lists every published article of a store (the sitemap).
func (db *DB) PublishedHelpAll(ctx context.Context, storeID int64) ([]HelpHit, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT id, category_id, lang, slug, pub_title, '', published_at FROM help_articles
		WHERE store_id = ? AND published_at IS NOT NULL ORDER BY lang, id`, storeID)
	return scanHits(rows, err, "help sitemap")
}

// SearchHelp finds a store's published articles in a language by their
// words, best first: the query's words as the language stems them (on
// SQLite by Snowball here, on PostgreSQL by its dictionary), the last one
// also as a prefix when it has three letters or more (the reader may
// still be typing it). Articles with all
// the words come first; when none has them all, those with any (a
// subject line typed as a sentence still finds its article).
func (db *DB) SearchHelp(ctx context.Context, storeID int64, lang, query string, limit int) ([]HelpHit, error) {
	words := helpWords(query)
	if len(words) == 0 {
		return []HelpHit{}, nil
	}
	if len(words) > 12 {
		words = words[:12]
	}
	hits, err := db.searchHelp(ctx, storeID, lang, words, true, limit)
	if err != nil || len(hits) > 0 || len(words) == 1 {
		return hits, err
	}
	return db.searchHelp(ctx, storeID, lang, words, false, limit)
}

// searchHelp reads a page of matches. Ranking every match costs as much
// as there are matches (a common word is in most of 5,000 articles): the
// articles with the words in their title are ranked, off the titles' own
// index, at most the newest rankWindow of them (a word in thousands of
// titles ranked them all: 14 ms a search), then the rest follow newest
// first, read off the front of the match list.
func (db *DB) searchHelp(ctx context.Context, storeID int64, lang string, words []string, all bool, limit int) ([]HelpHit, error) {
	var titled, rest func(n int) ([]int64, error)
	if db.postgres {
		terms := make([]string, len(words))
		for i, w := range words {
			terms[i] = "'" + w + "'"
		}
		if last := words[len(words)-1]; utf8.RuneCountInString(last) >= minPrefix {
			terms[len(terms)-1] += ":*"
		}
		join := " & "
		if !all {
			join = " | "
		}
		query := strings.Join(terms, join)
		// "::tsquery" has each search planned for its own words, never
		// prepared (cacheable, oneOff): the newest first off the primary
		// key for a common word, off the GIN index for a rare one (a
		// generic plan walked every row for a rare word: 12-30 ms).
		titled = func(n int) ([]int64, error) {
			return db.helpIDs(ctx, `SELECT article_id FROM (SELECT article_id, title_words, q FROM help_search, (SELECT to_tsquery(?::regconfig, ?)::tsquery AS q) tsq
				WHERE title_words @@ q AND store_id = ? AND lang = ? ORDER BY article_id DESC LIMIT ?) newest
				ORDER BY ts_rank(title_words, q) DESC, article_id DESC LIMIT ?`,
				pgTextConfig(lang), query, storeID, lang, rankWindow, n)
		}
		rest = func(n int) ([]int64, error) {
			return db.helpIDs(ctx, `SELECT article_id FROM help_search, (SELECT to_tsquery(?::regconfig, ?)::tsquery AS q) tsq
				WHERE words @@ q AND store_id = ? AND lang = ? ORDER BY article_id DESC LIMIT ?`, pgTextConfig(lang), query, storeID, lang, n)
		}
	} else {
		var match []string
		for i, w := range words {
			stem := helpStem(lang, w)
			switch {
			case i == len(words)-1 && utf8.RuneCountInString(w) >= minPrefix && stem == w:
				match = append(match, `"`+w+`"*`) // the word is among its prefix's terms
			case i == len(words)-1 && utf8.RuneCountInString(w) >= minPrefix:
				match = append(match, `("`+stem+`" OR "`+w+`"*)`)
			default:
				match = append(match, `"`+stem+`"`)
			}
		}
		join := " AND "
		if !all {
			join = " OR "
		}
		scope, terms := `scope:"`+helpScope(storeID, lang)+`"`, `(`+strings.Join(match, join)+`)`
		titled = func(n int) ([]int64, error) {
			// FTS5 works out rank only for the rows it returns: those
			// of the newest rankWindow, ranked here.
			rows, err := db.rq.QueryContext(ctx, `SELECT rowid, rank FROM help_titles WHERE help_titles MATCH ? ORDER BY rowid DESC LIMIT ?`,
				scope+` AND title:`+terms, rankWindow)
			if err != nil {
				return nil, fmt.Errorf("search help: %w", err)
			}
			defer rows.Close()
			type ranked struct {
				id   int64
				rank float64
			}
			var list []ranked
			for rows.Next() {
				var r ranked
				if err := rows.Scan(&r.id, &r.rank); err != nil {
					return nil, fmt.Errorf("search help: %w", err)
				}
				list = append(list, r)
			}
			if err := rows.Err(); err != nil {
				return nil, fmt.Errorf("search help: %w", err)
			}
			// bm25 is lower for better; ties newest first, as read.
			slices.SortStableFunc(list, func(a, b ranked) int { return cmp.Compare(a.rank, b.rank) })
			ids := make([]int64, 0, min(n, len(list)))
			for _, r := range list[:min(n, len(list))] {
				ids = append(ids, r.id)
			}
			return ids, nil
		}
		// The rest are read oldest first at first: FTS5 then seeks
		// through the scope's long list, where newest first walks all of
		// it (half of a rare word's search). Only past restWindow are
		// they dense enough to read newest first.
		rest = func(n int) ([]int64, error) {
			match := scope + ` AND ` + terms
			ids, err := db.helpIDs(ctx, `SELECT rowid FROM help_search WHERE help_search MATCH ? LIMIT ?`, match, restWindow+1)
			if err != nil || len(ids) > restWindow {
				ids, err = db.helpIDs(ctx, `SELECT rowid FROM help_search WHERE help_search MATCH ? ORDER BY rowid DESC LIMIT ?`, match, n)
				return ids, err
			}
			slices.Reverse(ids) // newest first
			return ids[:min(n, len(ids))], nil
		}
	}
	ids, err := titled(limit)
	if err != nil {
		return nil, err
	}
	if len(ids) < limit {
		more, err := rest(limit + len(ids))
		if err != nil {
			return nil, err
		}
		seen := map[int64]bool{}
		for _, id := range ids {
			seen[id] = true
		}
		for _, id := range more {
			if !seen[id] && len(ids) < limit {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) == 0 {
		return []HelpHit{}, nil
	}
	args := make([]any, len(ids))
	marks := make([]string, len(ids))
	for i, id := range ids {
		args[i], marks[i] = id, "?"
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT id, category_id, lang, slug, pub_title, pub_snippet, published_at
		FROM help_articles WHERE id IN (`+strings.Join(marks, ", ")+`) AND published_at IS NOT NULL`, args...)
	hits, err := scanHits(rows, err, "search help")
	if err != nil {
		return nil, err
	}
	order := map[int64]int{}
	for i, id := range ids {
		order[id] = i
	}
	slices.SortFunc(hits, func(a, b HelpHit) int { return order[a.ID] - order[b.ID] })
	return hits, nil
}

// helpIDs reads the article ids a search query answers.
func (db *DB) helpIDs(ctx context.Context, q string, args ...any) ([]int64, error) {
	rows, err := db.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("search help: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("search help: %w", err)
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// rankWindow is how many of the newest articles with the words in their
// title a search ranks: bounded work however common the words are.
// restWindow is how many matches SQLite reads oldest first before it
// reads them newest first (searchHelp).
const (
	rankWindow = 100
	restWindow = 100
)

// minPrefix is the shortest last word also read as a prefix: one or two
// letters would match most of the words there are (every term starting
// with "w"), and find nothing a reader wants yet.
const minPrefix = 3

// helpScope is the FTS5 token of a store's articles in a language.
func helpScope(storeID int64, lang string) string {
	return "s" + strconv.FormatInt(storeID, 10) + "l" + lang
}

// pgTextConfig is PostgreSQL's text search configuration for a language:
// its Snowball stemmer, or simple (none: Czech has no dictionary there).
func pgTextConfig(lang string) string {
	switch lang {
	case "en":
		return "english"
	case "pt":
		return "portuguese"
	case "tr":
		return "turkish"
	case "ru":
		return "russian"
	}
	return "simple"
}

// helpWords are a text's words, lower case, anything but letters and
// digits splitting them (so nothing of a query's syntax survives), with
// Turkish dotless ı and Russian ё folded as the ticket search folds them.
func helpWords(s string) []string {
	s = strings.NewReplacer("ı", "i", "İ", "i", "ё", "е", "Ё", "Е").Replace(s)
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// helpStems are a text's words as the language's stemmer makes them.
func helpStems(lang, text string) []string {
	words := helpWords(text)
	for i, w := range words {
		words[i] = helpStem(lang, w)
	}
	return words
}

// helpStem is one lower-case word's stem in a language (Snowball's
// stemmers: github.com/blevesearch/snowballstem); Czech and other
// languages keep the word.
func helpStem(lang, w string) string {
	var stem func(*snowballstem.Env) bool
	switch lang {
	case "en":
		stem = english.Stem
	case "pt":
		stem = portuguese.Stem
	case "tr":
		stem = turkish.Stem
	case "ru":
		stem = russian.Stem
	default:
		return w
	}
	env := snowballstem.NewEnv(w)
	stem(env)
	if s := env.Current(); s != "" {
		return s
	}
	return w
}

// RecordMissedHelpSearch counts a search that found nothing, per day.
func (tx *Tx) RecordMissedHelpSearch(ctx context.Context, storeID int64, lang, query string, at time.Time) error {
	day := at.UTC().Truncate(24 * time.Hour)
	_, err := tx.q.ExecContext(ctx, `INSERT INTO help_missed_searches (store_id, lang, query, day, count, last_at) VALUES (?, ?, ?, ?, 1, ?)
		ON CONFLICT (store_id, day, lang, query) DO UPDATE SET count = help_missed_searches.count + 1, last_at = excluded.last_at`,
		storeID, lang, query, ms(day), ms(at))
	if err != nil {
		return fmt.Errorf("record missed help search: %w", err)
	}
	return nil
}

// OpenHelpVisit records that a visit opened an article suggested by the
// widget or a form (its first opening counts).
func (tx *Tx) OpenHelpVisit(ctx context.Context, storeID int64, visit, source string, articleID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO help_visits (store_id, visit, source, article_id, opened_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (store_id, visit) DO NOTHING`, storeID, visit, source, articleID, ms(at))
	if err != nil {
		return fmt.Errorf("help visit: %w", err)
	}
	return nil
}

// ContactHelpVisit records that a visit which had opened a suggested
// article went on to send a chat message or a form (no deflection).
func (tx *Tx) ContactHelpVisit(ctx context.Context, storeID int64, visit string, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE help_visits SET contacted_at = ? WHERE store_id = ? AND visit = ? AND contacted_at IS NULL`,
		ms(at), storeID, visit)
	if err != nil {
		return fmt.Errorf("help visit: %w", err)
	}
	return nil
}

// HelpReport is a store's help centre over a period.
type HelpReport struct {
	MissedSearches []MissedSearch     `json:"missed_searches"`
	Deflection     []HelpDeflection   `json:"deflection"`
	Articles       []HelpArticleVotes `json:"articles"`
}

// MissedSearch is a query that found nothing, with how often.
type MissedSearch struct {
	Query string    `json:"query"`
	Lang  string    `json:"lang"`
	Count int       `json:"count"`
	Last  time.Time `json:"last_at"`
}

// HelpDeflection counts, per source (widget, form), the visits that opened
// a suggested article, those that then contacted the store anyway, and
// the rest: deflected.
type HelpDeflection struct {
	Source    string `json:"source"`
	Opened    int    `json:"opened"`
	Contacted int    `json:"contacted"`
	Deflected int    `json:"deflected"`
}

// HelpArticleVotes is an article's "Was this helpful?" count.
type HelpArticleVotes struct {
	ID         int64  `json:"id"`
	Lang       string `json:"lang"`
	Title      string `json:"title"`
	HelpfulYes int    `json:"helpful_yes"`
	HelpfulNo  int    `json:"helpful_no"`
}

// HelpReport reads a store's missed searches and deflection in [from, to),
// and the articles with the most votes.
func (db *DB) HelpReport(ctx context.Context, storeID int64, from, to time.Time) (*HelpReport, error) {
	r := &HelpReport{MissedSearches: []MissedSearch{}, Deflection: []HelpDeflection{}, Articles: []HelpArticleVotes{}}
	rows, err := db.rq.QueryContext(ctx, `SELECT query, lang, sum(count), max(last_at) FROM help_missed_searches
		WHERE store_id = ? AND day >= ? AND day < ? GROUP BY query, lang ORDER BY sum(count) DESC, max(last_at) DESC LIMIT 200`,
		storeID, ms(from.UTC().Truncate(24*time.Hour)), ms(to))
	if err != nil {
		return nil, fmt.Errorf("help report: %w", err)
	}
	for rows.Next() {
		var m MissedSearch
		var last int64
		if err := rows.Scan(&m.Query, &m.Lang, &m.Count, &last); err != nil {
			rows.Close()
			return nil, fmt.Errorf("help report: %w", err)
		}
		m.Last = fromMS(last)
		r.MissedSearches = append(r.MissedSearches, m)
	}
	rows.Close()
	rows, err = db.rq.QueryContext(ctx, `SELECT source, count(*), count(contacted_at) FROM help_visits
		WHERE store_id = ? AND opened_at >= ? AND opened_at < ? GROUP BY source ORDER BY source`, storeID, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("help report: %w", err)
	}
	for rows.Next() {
		var d HelpDeflection
		if err := rows.Scan(&d.Source, &d.Opened, &d.Contacted); err != nil {
			rows.Close()
			return nil, fmt.Errorf("help report: %w", err)
		}
		d.Deflected = d.Opened - d.Contacted
		r.Deflection = append(r.Deflection, d)
	}
	rows.Close()
	rows, err = db.rq.QueryContext(ctx, `SELECT id, lang, title, helpful_yes, helpful_no FROM help_articles
		WHERE store_id = ? AND helpful_yes + helpful_no > 0 ORDER BY helpful_yes + helpful_no DESC, id LIMIT 100`, storeID)
	if err != nil {
		return nil, fmt.Errorf("help report: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a HelpArticleVotes
		if err := rows.Scan(&a.ID, &a.Lang, &a.Title, &a.HelpfulYes, &a.HelpfulNo); err != nil {
			return nil, fmt.Errorf("help report: %w", err)
		}
		r.Articles = append(r.Articles, a)
	}
	return r, rows.Err()
}

// HelpImage is a picture of a store's articles, its bytes in blobs.
type HelpImage struct {
	ID          int64  `json:"id"`
	StoreID     int64  `json:"store_id"`
	SHA256      string `json:"sha256"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

// InsertHelpImage stores a picture once per store (the same bytes again
// are the same picture).
func (tx *Tx) InsertHelpImage(ctx context.Context, img *HelpImage, data []byte, at time.Time) error {
	sha, size, err := tx.putBlob(ctx, data, "")
	if err != nil {
		return fmt.Errorf("help image: %w", err)
	}
	img.SHA256, img.Size = sha, size
	_, err = tx.q.ExecContext(ctx, `INSERT INTO help_images (store_id, sha256, filename, content_type, size, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (store_id, sha256) DO NOTHING`, img.StoreID, sha, img.Filename, img.ContentType, size, ms(at))
	if err != nil {
		return fmt.Errorf("help image: %w", err)
	}
	return tx.q.QueryRowContext(ctx, `SELECT id, filename, content_type FROM help_images WHERE store_id = ? AND sha256 = ?`, img.StoreID, sha).
		Scan(&img.ID, &img.Filename, &img.ContentType)
}

// HelpImage reads a store's picture by its SHA-256, bytes not included
// (WriteBlob writes them).
func (db *DB) HelpImage(ctx context.Context, storeID int64, sha string) (*HelpImage, error) {
	var img HelpImage
	err := db.rq.QueryRowContext(ctx, `SELECT id, store_id, sha256, filename, content_type, size FROM help_images WHERE store_id = ? AND sha256 = ?`,
		storeID, sha).Scan(&img.ID, &img.StoreID, &img.SHA256, &img.Filename, &img.ContentType, &img.Size)
	return &img, notFound(err, "help image "+sha)
}

// HasHelp tells whether a store has published articles in a language
// (the chat widget then offers help search before a chat).
func (db *DB) HasHelp(ctx context.Context, storeID int64, lang string) bool {
	var one int
	err := db.rq.QueryRowContext(ctx, `SELECT 1 FROM help_articles WHERE store_id = ? AND lang = ? AND published_at IS NOT NULL LIMIT 1`,
		storeID, lang).Scan(&one)
	return err == nil
}
