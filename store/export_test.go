package store

import (
	"context"
	"time"
)

// SetBackupStep makes backups copy n pages a step (small steps make a
// test's backup span many writes); the returned func restores it.
func SetBackupStep(n int32) (restore func()) {
	old := backupStep
	backupStep = n
	return func() { backupStep = old }
}

// SetAfterBackupStep runs f after each step of a backup; the returned func
// restores the default.
func SetAfterBackupStep(f func()) (restore func()) {
	old := afterBackupStep
	afterBackupStep = f
	return func() { afterBackupStep = old }
}

// SetPGFilterWalk makes a filtered search on PostgreSQL check n of the
// filter's tickets before it asks the words' index; the returned func
// restores the default.
func SetPGFilterWalk(n int) (restore func()) {
	old := pgFilterWalk
	pgFilterWalk = n
	return func() { pgFilterWalk = old }
}

// AnalyzeSearch has PostgreSQL count ticket_search's words now, as its
// autovacuum does in time, and read the common ones again; it returns how
// many there are (0 on SQLite).
func (db *DB) AnalyzeSearch(ctx context.Context) (int, error) {
	if !db.postgres {
		return 0, nil
	}
	if _, err := db.r.ExecContext(ctx, "ANALYZE ticket_search"); err != nil {
		return 0, err
	}
	db.pgSearch.mu.Lock()
	db.pgSearch.commonRead = time.Time{}
	db.pgSearch.mu.Unlock()
	common, err := db.pgCommonWords(ctx)
	return len(common), err
}
