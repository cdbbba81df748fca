// Package store keeps onedesk's state: in one SQLite file by default, or
// in a PostgreSQL database (Open with a postgres:// URL) for desks that
// outgrow one machine. It holds the schema, its migrations and every
// query; nothing outside this package writes SQL or knows the engine.
//
// SQL for both engines: write what both accept (ON CONFLICT DO NOTHING
// rather than INSERT OR IGNORE, ? placeholders, which PostgreSQL
// connections translate to $1; new ids through insert, not LastInsertId,
// which pgx lacks). Where a query must differ, keep one method or helper
// per engine side by side (store/postgres.go), chosen by db.postgres.
//
// Migrations: migrations/NNNN_name.sql is schema version NNNN. SQLite runs
// them all. PostgreSQL starts from migrations/postgres/0024_baseline.sql,
// which equals SQLite's schema 24, and runs every later version too:
// migrations/postgres/NNNN_name.sql when that version needs its own
// PostgreSQL text, else the shared file, which must then be SQL both
// engines run. So every new migration exists for both engines; the
// migration tests run each engine's list.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// Errors callers can test for with errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
)

// DB is the database: one writer connection (SQLite has one writer anyway;
// queuing in Go is cheaper than busy-waiting in SQLite) and a reader pool.
type DB struct {
	w      *sql.DB
	r      *sql.DB
	wq, rq prepared // the same, with statements prepared once
	path   string
	// postgres: a PostgreSQL database rather than a SQLite file. The few
	// methods whose SQL differs ask it; nothing outside store can.
	postgres bool

	writes    chan *writeOp // to the committer (see Write)
	quit      chan struct{}
	committed chan struct{} // closed when the committer has stopped

	faults faults // the last disk-full, I/O or corruption error of a write

	// authVersion moves after every commit that changed agents, sessions
	// or API tokens (see AuthVersion).
	authVersion atomic.Uint64
	// commits counts committed write transactions: what was read before
	// it moved may be stale (see searchState.prefixes).
	commits atomic.Uint64

	// secrets seals and opens the secrets kept in columns (secrets.go).
	secrets *secretBox

	search     searchState
	nodes      *nodes         // PostgreSQL: this node among others (follow.go, lease.go); nil on SQLite
	pgSearch   pgSearchCache  // PostgreSQL's search (search_postgres.go)
	background sync.WaitGroup // jobs Open started (the search build), waited for by Close

	// files keeps the bytes of new files outside the database when set
	// (WithFiles; store/files.go).
	files *fileBox
}

// openSQLite opens (creating if needed) the database file at path (see Open).
func openSQLite(ctx context.Context, path string) (*DB, error) {
	dsn := func(extra string) string {
		return "file:" + (&url.URL{Path: path}).EscapedPath() +
			"?_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=busy_timeout(10000)" +
			"&_pragma=foreign_keys(ON)&_pragma=cache_size(-8000)&_pragma=temp_store(MEMORY)" +
			"&_time_format=sqlite" + extra
	}
	// A new file is owner-only: it holds every customer's mail. SQLite
	// gives its -wal and -shm files the same mode.
	if f, err := createPrivate(path); err == nil {
		f.Close()
	} else if !errors.Is(err, os.ErrExist) {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	// secure_delete on the writer: what a write deletes or rewrites is
	// zeroed rather than left in free space, so that an erased customer's
	// words leave the file (store/privacy.go). Measured on a rewrite of the
	// whole search index at 100,000 tickets: 12-15 s either way.
	w, err := sql.Open("sqlite", dsn("&_txlock=immediate&_pragma=secure_delete(ON)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	db := &DB{w: w, wq: prepared{pool: w, cache: newStmtCache(w)}, path: path,
		writes: make(chan *writeOp, writeBacklog), quit: make(chan struct{}), committed: make(chan struct{})}
	go db.commit()
	if err := db.migrate(ctx); err != nil {
		db.stopWrites()
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", dsn("&_pragma=query_only(ON)"))
	if err != nil {
		db.stopWrites()
		w.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	n := max(2, runtime.NumCPU())
	r.SetMaxOpenConns(n * 2)
	r.SetMaxIdleConns(n * 2)
	db.r = r
	db.rq = prepared{pool: r, cache: newStmtCache(r)}
	// A small desk is indexed before Open returns; a large one upgraded
	// from an older version is indexed in the background meanwhile.
	if err := db.startSearchBuild(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return db, nil
}

// Path is the database file's path (a PostgreSQL URL without its password).
func (db *DB) Path() string { return db.path }

// Close closes both pools.
func (db *DB) Close() error {
	if db.nodes != nil {
		db.nodes.leases.close() // other nodes take the leases up at once
	}
	db.stopWrites()
	db.background.Wait()
	db.wq.cache.close()
	db.rq.cache.close()
	return errors.Join(db.r.Close(), db.w.Close())
}

// Tx is a write transaction. Every method of Tx runs inside it.
type Tx struct {
	tx       *sql.Tx
	q        prepared
	postgres bool     // as DB's
	files    *fileBox // as DB's
	// authChanged marks a write to agents, sessions or API tokens: its
	// commit moves AuthVersion.
	authChanged bool
	// touched is what the transaction changed, told to the other nodes
	// at commit (follow.go).
	touched touched
	secrets *secretBox // as DB's
	// sealing is what this transaction seals with (sealer), once known;
	// sealErr a reason it cannot seal, which fails the write.
	sealing *secretBox
	sealErr error
	// historicAt, when set, dates the events and messages the write
	// inserts and marks them as history (see Historic).
	historicAt time.Time
}

// Historic makes the events and messages this write inserts from here on
// history dated at: they are shown in their place on the ticket, counted
// by reports in their period, and passed over by webhooks. The zero time
// ends it. Each write of a batch starts without it.
func (tx *Tx) Historic(at time.Time) { tx.historicAt = at }

// querier is what read helpers need: the reader pool, or a write
// transaction when a write must see its own changes.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Time helpers: the database keeps UTC unix milliseconds.

func ms(t time.Time) int64 { return t.UnixMilli() }

func fromMS(v int64) time.Time { return time.UnixMilli(v).UTC() }

func fromNullMS(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMS(v.Int64)
	return &t
}

func nullMS(t *time.Time) any {
	if t == nil {
		return nil
	}
	return ms(*t)
}

func nullID(id *int64) any {
	if id == nil {
		return nil
	}
	return *id
}

func fromNullID(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	id := v.Int64
	return &id
}

// Now is the clock the store stamps rows with, truncated to what it keeps.
func Now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// notFound turns sql.ErrNoRows into ErrNotFound with context.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &NotFoundError{Thing: what}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}

// notFoundID is notFound for a thing named by its id.
func notFoundID(err error, thing string, id int64) error {
	if errors.Is(err, sql.ErrNoRows) {
		return &NotFoundError{Thing: thing, ID: id}
	}
	if err != nil {
		return fmt.Errorf("%s %d: %w", thing, id, err)
	}
	return nil
}

// NotFoundError names what is missing ("ticket 7: not found"); it is
// ErrNotFound to errors.Is. The HTTP layer words its 404 from Thing and
// ID, never from the text.
type NotFoundError struct {
	Thing string // "ticket", "saved reply", or a description ("blob 9f2c…")
	ID    int64  // the thing's id when it is named by one, else 0
}

func (e *NotFoundError) Error() string {
	if e.ID != 0 {
		return fmt.Sprintf("%s %d: %s", e.Thing, e.ID, ErrNotFound)
	}
	return e.Thing + ": " + ErrNotFound.Error()
}

func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }
