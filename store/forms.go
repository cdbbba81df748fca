package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Form is a contact form: the fields a customer fills in on /f/{slug} and
// what a submission does (routing, confirmation, where to go after).
type Form struct {
	ID      int64  `json:"id"`
	StoreID *int64 `json:"store_id"`
	Slug    string `json:"slug"`
	Title   string `json:"title"`
	Enabled bool   `json:"enabled"`
	FormDefinition
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// FormDefinition is the part of a form kept as one JSON document.
type FormDefinition struct {
	Intro  string      `json:"intro"`  // a paragraph above the fields
	Fields []FormField `json:"fields"` // in page order
	// Translations of the title and intro by language ("pt": {...});
	// the fields carry their own.
	Translations map[string]FormText `json:"translations"`
	Routing      FormRouting         `json:"routing"`
	// RedirectURL is where a browser goes after a successful post (the
	// shop's thank-you page); "" shows onedesk's own thank-you page.
	RedirectURL string `json:"redirect_url"`
	// Confirmation sends the customer an email with the ticket number.
	Confirmation bool `json:"confirmation"`
	// MinSeconds is how long a person needs at least to fill the form in;
	// a faster post is asked to send again. 0 is the default (3), -1 none.
	MinSeconds int `json:"min_seconds"`
}

// FormText is a title (or label) and intro (or help) in one language.
type FormText struct {
	Title   string   `json:"title,omitempty"`
	Intro   string   `json:"intro,omitempty"`
	Label   string   `json:"label,omitempty"`
	Help    string   `json:"help,omitempty"`
	Options []string `json:"options,omitempty"` // a select's options, in the same order
}

// FormField is one field. Name is the key of its value in the ticket's fields.
type FormField struct {
	Name         string              `json:"name"`
	Label        string              `json:"label"`
	Help         string              `json:"help"`
	Type         string              `json:"type"` // one of FieldTypes
	Required     bool                `json:"required"`
	Options      []string            `json:"options"` // select
	Translations map[string]FormText `json:"translations"`
}

// FieldTypes are the kinds of form fields.
var FieldTypes = []string{"text", "textarea", "email", "phone", "number", "select", "checkbox", "order", "file"}

// FormRouting sets a new ticket's team, priority and tags: the form's
// defaults, then the first rule whose field has the value.
type FormRouting struct {
	TeamID   *int64      `json:"team_id"`
	Priority string      `json:"priority"`
	Tags     []string    `json:"tags"`
	Rules    []RouteRule `json:"rules"`
}

// RouteRule routes submissions whose field has a value (topic = Returns).
type RouteRule struct {
	Field    string   `json:"field"`
	Value    string   `json:"value"`
	TeamID   *int64   `json:"team_id"`
	Priority string   `json:"priority"`
	Tags     []string `json:"tags"`
}

const formCols = "id, store_id, slug, title, enabled, definition, created_at, updated_at"

func scanForm(row interface{ Scan(...any) error }) (*Form, error) {
	var f Form
	var storeID sql.NullInt64
	var def string
	var created, updated int64
	if err := row.Scan(&f.ID, &storeID, &f.Slug, &f.Title, &f.Enabled, &def, &created, &updated); err != nil {
		return nil, err
	}
	f.StoreID = fromNullID(storeID)
	f.CreatedAt, f.UpdatedAt = fromMS(created), fromMS(updated)
	_ = jsonUnmarshal(def, &f.FormDefinition)
	if f.Fields == nil {
		f.Fields = []FormField{}
	}
	return &f, nil
}

// Forms lists every form by title.
func (db *DB) Forms(ctx context.Context) ([]*Form, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+formCols+" FROM forms ORDER BY title COLLATE NOCASE, id")
	if err != nil {
		return nil, fmt.Errorf("list forms: %w", err)
	}
	defer rows.Close()
	list := []*Form{}
	for rows.Next() {
		f, err := scanForm(rows)
		if err != nil {
			return nil, fmt.Errorf("list forms: %w", err)
		}
		list = append(list, f)
	}
	return list, rows.Err()
}

// FormBySlug reads the form a hosted page names.
func (db *DB) FormBySlug(ctx context.Context, slug string) (*Form, error) {
	f, err := scanForm(db.rq.QueryRowContext(ctx, "SELECT "+formCols+" FROM forms WHERE slug = ?", slug))
	return f, notFound(err, "form "+slug)
}

// Form reads one form inside the transaction.
func (tx *Tx) Form(ctx context.Context, id int64) (*Form, error) {
	f, err := scanForm(tx.q.QueryRowContext(ctx, "SELECT "+formCols+" FROM forms WHERE id = ?", id))
	return f, notFoundID(err, "form", id)
}

// InsertForm creates a form; ErrConflict when the slug is taken.
func (tx *Tx) InsertForm(ctx context.Context, f *Form) error {
	res, err := tx.q.insert(ctx, `INSERT INTO forms (store_id, slug, title, enabled, definition, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, nullID(f.StoreID), f.Slug, f.Title, f.Enabled, jsonText(f.FormDefinition, "{}"),
		ms(f.CreatedAt), ms(f.UpdatedAt))
	if isUnique(err) {
		return fmt.Errorf("form %s: %w", f.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert form: %w", err)
	}
	f.ID, err = res.LastInsertId()
	return err
}

// UpdateForm writes a form.
func (tx *Tx) UpdateForm(ctx context.Context, f *Form) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE forms SET store_id = ?, slug = ?, title = ?, enabled = ?, definition = ?,
		updated_at = ? WHERE id = ?`, nullID(f.StoreID), f.Slug, f.Title, f.Enabled, jsonText(f.FormDefinition, "{}"),
		ms(f.UpdatedAt), f.ID)
	if isUnique(err) {
		return fmt.Errorf("form %s: %w", f.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update form %d: %w", f.ID, err)
	}
	return nil
}

// DeleteForm removes a form; its tickets stay.
func (tx *Tx) DeleteForm(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM forms WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete form %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "form", ID: id}
	}
	return nil
}

// Form reads one form.
func (db *DB) Form(ctx context.Context, id int64) (*Form, error) {
	f, err := scanForm(db.rq.QueryRowContext(ctx, "SELECT "+formCols+" FROM forms WHERE id = ?", id))
	return f, notFoundID(err, "form", id)
}
