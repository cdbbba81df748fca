package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// Kinds of thing an import from another helpdesk keys by its own id.
const (
	ImportCustomer = "customer"
	ImportTicket   = "ticket"
	ImportMessage  = "message"
)

// ImportedID is our id of what an earlier import made from the other
// helpdesk's externalID, or 0 when none did.
func (tx *Tx) ImportedID(ctx context.Context, kind, externalID string) (int64, error) {
	return importedID(ctx, tx.q, kind, externalID)
}

// ImportedID, read outside a write, is Tx.ImportedID.
func (db *DB) ImportedID(ctx context.Context, kind, externalID string) (int64, error) {
	return importedID(ctx, db.rq, kind, externalID)
}

func importedID(ctx context.Context, q querier, kind, externalID string) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, "SELECT local_id FROM import_keys WHERE kind = ? AND external_id = ?", kind, externalID).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("imported %s %q: %w", kind, externalID, err)
	}
	return id, nil
}

// SetImportedID records that externalID of the other helpdesk became our
// localID (again, when what an earlier import made was deleted since).
func (tx *Tx) SetImportedID(ctx context.Context, kind, externalID string, localID int64) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO import_keys (kind, external_id, local_id) VALUES (?, ?, ?)
		ON CONFLICT (kind, external_id) DO UPDATE SET local_id = excluded.local_id`, kind, externalID, localID)
	if err != nil {
		return fmt.Errorf("record imported %s %q: %w", kind, externalID, err)
	}
	return nil
}
