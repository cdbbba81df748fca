package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// SavedReply is a text agents insert into a reply. Without a store or a
// team it is shared by everyone.
type SavedReply struct {
	ID        int64     `json:"id"`
	Title     string    `json:"title"`
	Body      string    `json:"body"`
	StoreID   *int64    `json:"store_id"`
	TeamID    *int64    `json:"team_id"`
	Uses      int       `json:"uses"`
	CreatedBy *int64    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

const savedReplyCols = "id, title, body, store_id, team_id, uses, created_by, created_at, updated_at"

func scanSavedReply(row interface{ Scan(...any) error }) (*SavedReply, error) {
	var r SavedReply
	var storeID, teamID, by sql.NullInt64
	var created, updated int64
	if err := row.Scan(&r.ID, &r.Title, &r.Body, &storeID, &teamID, &r.Uses, &by, &created, &updated); err != nil {
		return nil, err
	}
	r.StoreID, r.TeamID, r.CreatedBy = fromNullID(storeID), fromNullID(teamID), fromNullID(by)
	r.CreatedAt, r.UpdatedAt = fromMS(created), fromMS(updated)
	return &r, nil
}

// SavedReplies lists saved replies, most used first. A store or team
// (non-nil) keeps the shared ones and those of that store or team.
func (db *DB) SavedReplies(ctx context.Context, storeID, teamID *int64) ([]*SavedReply, error) {
	q := "SELECT " + savedReplyCols + " FROM saved_replies"
	var args []any
	if storeID != nil || teamID != nil {
		q += " WHERE (store_id IS NULL OR store_id = ?) AND (team_id IS NULL OR team_id = ?)"
		args = append(args, nullID(storeID), nullID(teamID))
	}
	rows, err := db.rq.QueryContext(ctx, q+" ORDER BY uses DESC, title COLLATE NOCASE, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list saved replies: %w", err)
	}
	defer rows.Close()
	list := []*SavedReply{}
	for rows.Next() {
		r, err := scanSavedReply(rows)
		if err != nil {
			return nil, fmt.Errorf("list saved replies: %w", err)
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// SavedReply reads one saved reply.
func (db *DB) SavedReply(ctx context.Context, id int64) (*SavedReply, error) {
	r, err := scanSavedReply(db.rq.QueryRowContext(ctx, "SELECT "+savedReplyCols+" FROM saved_replies WHERE id = ?", id))
	return r, notFoundID(err, "saved reply", id)
}

// InsertSavedReply creates a saved reply.
func (tx *Tx) InsertSavedReply(ctx context.Context, r *SavedReply) error {
	res, err := tx.q.insert(ctx, `INSERT INTO saved_replies (title, body, store_id, team_id, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Title, r.Body, nullID(r.StoreID), nullID(r.TeamID), nullID(r.CreatedBy),
		ms(r.CreatedAt), ms(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert saved reply: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

// UpdateSavedReply writes a saved reply's text and scope.
func (tx *Tx) UpdateSavedReply(ctx context.Context, r *SavedReply) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE saved_replies SET title = ?, body = ?, store_id = ?, team_id = ?, updated_at = ?
		WHERE id = ?`, r.Title, r.Body, nullID(r.StoreID), nullID(r.TeamID), ms(r.UpdatedAt), r.ID)
	if err != nil {
		return fmt.Errorf("update saved reply %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "saved reply", ID: r.ID}
	}
	return nil
}

// DeleteSavedReply removes a saved reply.
func (tx *Tx) DeleteSavedReply(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM saved_replies WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete saved reply %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "saved reply", ID: id}
	}
	return nil
}

// UseSavedReply counts one insertion.
func (tx *Tx) UseSavedReply(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE saved_replies SET uses = uses + 1 WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("count saved reply %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "saved reply", ID: id}
	}
	return nil
}
