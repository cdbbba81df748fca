package store

import (
	"context"
	"fmt"
)

// Checkpoint copies the write-ahead log into the database file and
// truncates the log, so that a stopped desk is one file again. Readers
// still in a transaction keep part of the log: that is reported.
func (db *DB) Checkpoint(ctx context.Context) error {
	if db.postgres {
		return nil // PostgreSQL checkpoints on its own
	}
	var busy, frames, copied int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("checkpoint %s: %w", db.path, err)
	}
	if busy != 0 {
		return fmt.Errorf("checkpoint %s: readers still open kept %d of %d log pages", db.path, frames-copied, frames)
	}
	return nil
}
