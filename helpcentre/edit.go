package helpcentre

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/store"
)

// Limits of what agents write.
const (
	maxTitle = 200       // runes
	maxBody  = 200 << 10 // bytes of Markdown
)

// CategoryInput is a category as the app sends it; nil fields keep their value on update.
type CategoryInput struct {
	StoreID  int64                             `json:"store_id"`
	Slug     *string                           `json:"slug"`
	Names    map[string]store.HelpCategoryName `json:"names"`
	Position *int                              `json:"position"`
}

// ArticleInput is an article as the app sends it; nil fields keep their
// value on update. CategoryID 0 takes the article out of its category.
type ArticleInput struct {
	StoreID    int64   `json:"store_id"`
	Lang       string  `json:"lang"`
	CategoryID *int64  `json:"category_id"`
	Slug       *string `json:"slug"`
	Title      *string `json:"title"`
	Body       *string `json:"body"`
	Position   *int    `json:"position"`
}

func inputErr(field, format string, args ...any) error {
	return desk.InputErrorf(field, format, args...)
}

func (c *Centre) checkStore(ctx context.Context, storeID int64) error {
	if _, err := c.db.Store(ctx, storeID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return inputErr("store_id", "store %d does not exist", storeID)
		}
		return err
	}
	return nil
}

func checkSlug(slug string) error {
	if !slugRE.MatchString(slug) || utf8.RuneCountInString(slug) > 100 {
		return inputErr("slug", "the slug must be lower-case words of letters and digits joined by hyphens (at most 100)")
	}
	return nil
}

func conflict(err error, slug string) error {
	if errors.Is(err, store.ErrConflict) {
		return inputErr("slug", "the slug %s is already used here: choose another", slug)
	}
	return err
}

// CreateCategory adds a category to a store.
func (c *Centre) CreateCategory(ctx context.Context, in CategoryInput) (*store.HelpCategory, error) {
	if err := c.checkStore(ctx, in.StoreID); err != nil {
		return nil, err
	}
	cat := &store.HelpCategory{StoreID: in.StoreID, Names: map[string]store.HelpCategoryName{}, CreatedAt: c.Now()}
	if err := applyCategory(cat, in); err != nil {
		return nil, err
	}
	err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.InsertHelpCategory(ctx, cat) })
	return cat, conflict(err, cat.Slug)
}

// UpdateCategory changes a category's slug, names or place.
func (c *Centre) UpdateCategory(ctx context.Context, id int64, in CategoryInput) (*store.HelpCategory, error) {
	cat, err := c.db.HelpCategory(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := applyCategory(cat, in); err != nil {
		return nil, err
	}
	err = c.db.Write(ctx, func(tx *store.Tx) error { return tx.UpdateHelpCategory(ctx, cat) })
	return cat, conflict(err, cat.Slug)
}

func applyCategory(cat *store.HelpCategory, in CategoryInput) error {
	if in.Names != nil {
		names := map[string]store.HelpCategoryName{}
		for lang, n := range in.Names {
			if !languageOK(lang) {
				return inputErr("names", "language must be one of %v, not %q", desk.Languages, lang)
			}
			n.Name, n.Description = strings.TrimSpace(n.Name), strings.TrimSpace(n.Description)
			if utf8.RuneCountInString(n.Name) > maxTitle || utf8.RuneCountInString(n.Description) > 1000 {
				return inputErr("names", "a category's name is at most %d characters and its description 1000", maxTitle)
			}
			if n.Name != "" {
				names[lang] = n
			}
		}
		cat.Names = names
	}
	if len(cat.Names) == 0 {
		return inputErr("names", "a category needs a name in at least one language")
	}
	if in.Slug != nil {
		cat.Slug = strings.TrimSpace(*in.Slug)
	}
	if cat.Slug == "" {
		for _, lang := range append([]string{"en"}, desk.Languages...) {
			if n, ok := cat.Names[lang]; ok {
				cat.Slug = Slugify(n.Name)
				break
			}
		}
	}
	if in.Position != nil {
		cat.Position = *in.Position
	}
	return checkSlug(cat.Slug)
}

// DeleteCategory removes a category; its articles stay, without one.
func (c *Centre) DeleteCategory(ctx context.Context, id int64) error {
	return c.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteHelpCategory(ctx, id) })
}

// CreateArticle starts an article as a draft.
func (c *Centre) CreateArticle(ctx context.Context, in ArticleInput, by int64) (*store.HelpArticle, error) {
	if err := c.checkStore(ctx, in.StoreID); err != nil {
		return nil, err
	}
	if !languageOK(in.Lang) {
		return nil, inputErr("lang", "language must be one of %v, not %q", desk.Languages, in.Lang)
	}
	now := c.Now()
	a := &store.HelpArticle{StoreID: in.StoreID, Lang: in.Lang, CreatedAt: now}
	if err := c.applyArticle(ctx, a, in, by, now); err != nil {
		return nil, err
	}
	err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.InsertHelpArticle(ctx, a) })
	if err != nil {
		return nil, conflict(err, a.Slug)
	}
	return c.db.HelpArticle(ctx, a.ID)
}

// UpdateArticle saves a draft (and the article's slug, category and
// place); a published version stays live until Publish.
func (c *Centre) UpdateArticle(ctx context.Context, id int64, in ArticleInput, by int64) (*store.HelpArticle, error) {
	a, err := c.db.HelpArticle(ctx, id)
	if err != nil {
		return nil, err
	}
	if err := c.applyArticle(ctx, a, in, by, c.Now()); err != nil {
		return nil, err
	}
	if err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.UpdateHelpArticle(ctx, a) }); err != nil {
		return nil, conflict(err, a.Slug)
	}
	return c.db.HelpArticle(ctx, id)
}

func (c *Centre) applyArticle(ctx context.Context, a *store.HelpArticle, in ArticleInput, by int64, now time.Time) error {
	if in.Title != nil {
		a.Title = strings.TrimSpace(*in.Title)
	}
	if a.Title == "" {
		return inputErr("title", "an article needs a title")
	}
	if utf8.RuneCountInString(a.Title) > maxTitle {
		return inputErr("title", "the title is longer than %d characters", maxTitle)
	}
	if in.Body != nil {
		a.Body = *in.Body
	}
	if len(a.Body) > maxBody || !utf8.ValidString(a.Body) {
		return inputErr("body", "the article is longer than %d KB", maxBody>>10)
	}
	if in.Slug != nil {
		a.Slug = strings.TrimSpace(*in.Slug)
	}
	if a.Slug == "" {
		a.Slug = Slugify(a.Title)
	}
	if err := checkSlug(a.Slug); err != nil {
		return err
	}
	if in.CategoryID != nil {
		a.CategoryID = nil
		if *in.CategoryID != 0 {
			cat, err := c.db.HelpCategory(ctx, *in.CategoryID)
			if err != nil || cat.StoreID != a.StoreID {
				return inputErr("category_id", "category %d is not one of this store's", *in.CategoryID)
			}
			a.CategoryID = &cat.ID
		}
	}
	if in.Position != nil {
		a.Position = *in.Position
	}
	if by != 0 {
		a.UpdatedBy = &by
	}
	a.UpdatedAt = now
	return nil
}

// Publish makes an article's draft what readers see.
func (c *Centre) Publish(ctx context.Context, id int64) (*store.HelpArticle, error) {
	a, err := c.db.HelpArticle(ctx, id)
	if err != nil {
		return nil, err
	}
	if strings.TrimSpace(a.Body) == "" {
		return nil, inputErr("body", "write the article before publishing it")
	}
	html, text := Render(a.Body)
	if err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.PublishHelpArticle(ctx, id, html, text, c.Now()) }); err != nil {
		return nil, err
	}
	return c.db.HelpArticle(ctx, id)
}

// Unpublish takes an article off the help centre; its draft stays.
func (c *Centre) Unpublish(ctx context.Context, id int64) (*store.HelpArticle, error) {
	if err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.UnpublishHelpArticle(ctx, id) }); err != nil {
		return nil, err
	}
	return c.db.HelpArticle(ctx, id)
}

// DeleteArticle removes an article.
func (c *Centre) DeleteArticle(ctx context.Context, id int64) error {
	return c.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteHelpArticle(ctx, id) })
}

// imageTypes are the pictures an article may hold, by their sniffed type.
var imageTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

// AddImage stores a picture for a store's articles and tells the URL to
// write in Markdown (![alt](url)).
func (c *Centre) AddImage(ctx context.Context, storeID int64, filename string, data []byte) (*store.HelpImage, string, error) {
	if err := c.checkStore(ctx, storeID); err != nil {
		return nil, "", err
	}
	if len(data) > maxImageSize {
		return nil, "", inputErr("file", "the picture is larger than %d MB", maxImageSize>>20)
	}
	ctype := http.DetectContentType(data)
	if !imageTypes[ctype] {
		return nil, "", inputErr("file", "a picture must be PNG, JPEG, GIF or WebP")
	}
	st, err := c.db.Store(ctx, storeID)
	if err != nil {
		return nil, "", err
	}
	img := &store.HelpImage{StoreID: storeID, Filename: filename, ContentType: ctype}
	if err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.InsertHelpImage(ctx, img, data, c.Now()) }); err != nil {
		return nil, "", err
	}
	return img, "/help/" + st.Slug + "/img/" + img.SHA256, nil
}

// Report is a store's help centre over [from, to).
func (c *Centre) Report(ctx context.Context, storeID int64, from, to time.Time) (*store.HelpReport, error) {
	return c.db.HelpReport(ctx, storeID, from, to)
}
