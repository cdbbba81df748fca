package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"testing"
)

// databaseAt makes a file as a desk at schema version left it (the
// migrations up to it, and its user_version), for a migration test to
// fill and then open: its path and a raw connection to it.
func databaseAt(t *testing.T, version int) (string, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=foreign_keys(ON)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range list[:version] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	if _, err := raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		t.Fatal(err)
	}
	return path, raw
}

// migrated fills a database databaseAt made with rows (SQL statements),
// then opens it, which runs the migrations after its version.
func migrated(t *testing.T, path string, raw *sql.DB, rows ...string) *DB {
	t.Helper()
	for _, q := range rows {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
