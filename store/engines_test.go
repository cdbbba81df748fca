package store

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedesk/store/storetest"
)

// Store's tests run on both engines: a test that wraps its body in
// ForEachEngine runs it as subtests sqlite and postgres, and OpenTest or
// TestData inside gives each subtest its engine's fresh database. The
// PostgreSQL subtests skip, saying why, where PostgreSQL is not installed.

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// ForEachEngine runs test once on SQLite and once on PostgreSQL.
func ForEachEngine(t *testing.T, test func(t *testing.T)) {
	t.Helper()
	t.Run("sqlite", test)
	t.Run("postgres", test)
}

// OnPostgres reports whether t runs under ForEachEngine's postgres subtest.
func OnPostgres(t testing.TB) bool {
	parts := strings.Split(t.Name(), "/")
	return len(parts) > 1 && parts[1] == "postgres"
}

// SkipOnPostgres skips the PostgreSQL run of a test that is not yet
// ready for it, saying why.
func SkipOnPostgres(t testing.TB, why string) {
	t.Helper()
	if OnPostgres(t) {
		t.Skip("not on PostgreSQL yet: " + why)
	}
}

// NewTestData is where t's new empty database lives: a SQLite file, or a
// fresh PostgreSQL database under ForEachEngine's postgres subtest.
func NewTestData(t testing.TB) string {
	t.Helper()
	if OnPostgres(t) {
		return storetest.PostgresURL(t)
	}
	return filepath.Join(t.TempDir(), "t.db")
}

// OpenTest opens t's new database, closed when t ends.
func OpenTest(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), NewTestData(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}
