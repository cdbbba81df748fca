package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
)

// PostgreSQL runs through pgx's database/sql driver, so that both engines
// share one *sql.DB code path (the statement cache, Write's committer,
// every query method); pgx caches its own prepared statements per
// connection beneath that.

// writeLockKey is the advisory lock every write transaction takes first:
// PostgreSQL writes are serialised like SQLite's, across every onedesk
// process on the database, so a write never races another.
const writeLockKey = 0x6f6e656465736b // "onedesk"

// PostgreSQL's error codes the store tells apart.
const (
	pgUniqueViolation = "23505"
	pgUndefinedTable  = "42P01"
)

// pgCode is PostgreSQL's SQLSTATE of err, or "".
func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// ErrPostgresBackup: a PostgreSQL desk is backed up with PostgreSQL's
// own tools, as the rest of that server is.
var ErrPostgresBackup = errors.New("a PostgreSQL database is backed up with pg_dump or the server's own backups, not onedesk backup")

// pgSize is FileSizes on PostgreSQL: the database's size, and no log of
// onedesk's own.
func (db *DB) pgSize() (main, wal int64, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = db.r.QueryRowContext(ctx, "SELECT pg_database_size(current_database())").Scan(&main)
	return main, 0, err
}

// IsPostgres tells whether a --data value names a PostgreSQL database
// (postgres:// or postgresql://) rather than a SQLite file.
func IsPostgres(data string) bool {
	scheme, _, ok := strings.Cut(data, "://")
	return ok && (strings.EqualFold(scheme, "postgres") || strings.EqualFold(scheme, "postgresql"))
}

// openPostgres opens the PostgreSQL database at dsn: one writer
// connection, which the committer owns as it owns SQLite's, and a pool of
// readers.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(dsn), err)
	}
	w := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	r := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", redact(dsn), err)
	}
	wc, rc := newStmtCache(w), newStmtCache(r)
	wc.postgres, rc.postgres = true, true
	db := &DB{w: w, wq: prepared{pool: w, cache: wc}, path: redact(dsn), postgres: true, nodes: newNodes(cfg),
		writes: make(chan *writeOp, writeBacklog), quit: make(chan struct{}), committed: make(chan struct{})}
	go db.commit()
	if err := db.migrate(ctx); err != nil {
		db.stopWrites()
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open %s: %w", redact(dsn), err)
	}
	n := max(2, runtime.NumCPU())
	r.SetMaxOpenConns(n * 2)
	r.SetMaxIdleConns(n * 2)
	db.r = r
	db.rq = prepared{pool: r, cache: rc}
	// Search on PostgreSQL (tsvector, search_postgres.go) is kept by
	// triggers from the migration on: there is no index to build.
	if folding, err := db.pgSearchFolding(ctx); err == nil && folding != "unaccent" {
		slog.Warn("search: PostgreSQL's unaccent extension could not be created; accents fold through onedesk's own table of the five languages' letters",
			"database", db.path)
	}
	db.search.ready.Store(true)
	db.search.built = make(chan struct{})
	close(db.search.built)
	return db, nil
}

// verifyPostgres is Verify on PostgreSQL: read only, without migrating.
func verifyPostgres(ctx context.Context, dsn string) (*Verdict, error) {
	pool, err := OpenRaw(dsn)
	if err != nil {
		return nil, err
	}
	defer pool.Close()
	v := &Verdict{}
	err = pool.QueryRowContext(ctx, `SELECT current_setting('server_version'), pg_database_size(current_database()),
		(SELECT count(*) FROM pg_tables WHERE schemaname = current_schema())`).Scan(&v.Server, &v.Size, &v.Tables)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", redact(dsn), err)
	}
	err = pool.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v.Version)
	if err != nil && pgCode(err) != pgUndefinedTable && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("read %s: %w", redact(dsn), err)
	}
	return v, nil
}

// OpenRaw is a plain connection to the database a --data value names,
// outside the store's writer and migrations, for tests that set up what no
// method writes (a time in the past, a row of a platform not wired in):
// on PostgreSQL it speaks the store's ? placeholders too.
func OpenRaw(data string) (*sql.DB, error) {
	if !IsPostgres(data) {
		return sql.Open("sqlite", "file:"+(&url.URL{Path: data}).EscapedPath()+"?_pragma=busy_timeout(5000)")
	}
	cfg, err := pgx.ParseConfig(data)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", redact(data), err)
	}
	return sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)}), nil
}

// Redacted is a --data value fit to print: a file's path as it is, a
// PostgreSQL URL without its password.
func Redacted(data string) string {
	if !IsPostgres(data) {
		return data
	}
	return redact(data)
}

// redact is the URL without its password, for messages and Path.
func redact(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "postgres://?"
	}
	return u.Redacted()
}

// lockWritesSQL starts a write transaction on PostgreSQL: it waits for
// the write lock (SQLite's BEGIN IMMEDIATE already did).
var lockWritesSQL = "SELECT pg_advisory_xact_lock(" + strconv.Itoa(writeLockKey) + ")"

// sqliteNulls makes PostgreSQL order a nullable sort column as SQLite
// does (NULL below every value), which the cursors of ListTickets assume;
// its indexes on such columns are made in the same order.
func (db *DB) sqliteNulls(spec sortSpec) string {
	if !db.postgres || spec.col != "last_customer_at" {
		return ""
	}
	if spec.desc {
		return " NULLS LAST"
	}
	return " NULLS FIRST"
}

// JSON kept as TEXT, read in SQL: SQLite's json_each and json_extract,
// PostgreSQL's json functions on the text cast to json.

// jsonEach is a table of the elements of a JSON array, one column value:
// strings as text, numbers as SQLite keeps them (see jsonInt).
func jsonEach(postgres bool, array string) string {
	if postgres {
		return "json_array_elements_text(" + array + "::json)"
	}
	return "json_each(" + array + ")"
}

// jsonObjects is a table of the objects of a JSON array, one column value
// to read with jsonGet.
func jsonObjects(postgres bool, array string) string {
	if postgres {
		return "json_array_elements(" + array + "::json)"
	}
	return "json_each(" + array + ")"
}

// jsonInt is a jsonEach value that is a number, as an integer.
func jsonInt(postgres bool, value string) string {
	if postgres {
		return "CAST(" + value + " AS BIGINT)"
	}
	return value
}

// jsonGet is the text of a JSON object's member (key: a plain name).
func jsonGet(postgres bool, object, key string) string {
	if postgres {
		return "(" + object + "::json ->> '" + key + "')"
	}
	return "json_extract(" + object + ", '$." + key + "')"
}

// pgFieldIs is ListTickets' test of a form field on PostgreSQL (the
// field's name three times, then the value): numbers compare as written
// and true and false as 1 and 0, as SQLite's CAST(json_extract) does.
const pgFieldIs = `(CASE json_typeof(t.fields::json -> ?) WHEN 'boolean' THEN CAST(CAST(CAST(t.fields::json ->> ? AS BOOLEAN) AS INT) AS TEXT)
	ELSE t.fields::json ->> ? END) = ?`

// rollValue is a report roll-up's key value as the engine keeps it:
// SQLite's typeless value columns hold ids as integers and channels as
// text; PostgreSQL's TEXT columns hold both as text.
func rollValue(postgres bool, v any) any {
	if id, ok := v.(int64); ok && postgres {
		return strconv.FormatInt(id, 10)
	}
	return v
}

// numbered readies a statement with numbered placeholders (?1, ?2, at
// most ?9) and its arguments by number: as they are for SQLite, which
// ignores arguments a statement does not use; for PostgreSQL, which
// refuses them, only those it uses, renumbered from ?1.
func numbered(postgres bool, q string, args ...any) (string, []any) {
	if !postgres {
		return q, args
	}
	var used []any
	for n := 1; n <= len(args) && n <= 9; n++ {
		if strings.Contains(q, "?"+strconv.Itoa(n)) {
			used = append(used, args[n-1])
			q = strings.ReplaceAll(q, "?"+strconv.Itoa(n), "?#"+strconv.Itoa(len(used)))
		}
	}
	return strings.ReplaceAll(q, "?#", "?"), used
}

// greatest is the larger-of-its-arguments function: SQLite's
// many-argument max, PostgreSQL's GREATEST.
func greatest(postgres bool) string {
	if postgres {
		return "GREATEST"
	}
	return "max"
}

// optimizeSQL refreshes the planner's statistics after a bulk load.
func (db *DB) optimizeSQL() string {
	if db.postgres {
		return "ANALYZE"
	}
	return "PRAGMA optimize"
}

// pgConnector hands out connections that speak the store's one spelling
// of placeholders (?), translated to PostgreSQL's ($1) as statements pass.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	pc, ok := conn.(pgxConn)
	if !ok {
		conn.Close()
		return nil, errors.New("pgx connection lacks a method the store needs")
	}
	return pgConn{pc}, nil
}

// pgxConn is what pgx's stdlib connection offers; pgConn passes it all
// on, rewriting the statements.
type pgxConn interface {
	driver.Conn
	driver.ConnPrepareContext
	driver.ConnBeginTx
	driver.ExecerContext
	driver.QueryerContext
	driver.Pinger
	driver.NamedValueChecker
	driver.SessionResetter
}

type pgConn struct{ pgxConn }

func (c pgConn) Prepare(q string) (driver.Stmt, error) { return c.pgxConn.Prepare(pgSQL(q)) }

func (c pgConn) PrepareContext(ctx context.Context, q string) (driver.Stmt, error) {
	return c.pgxConn.PrepareContext(ctx, pgSQL(q))
}

func (c pgConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	return c.pgxConn.ExecContext(ctx, pgSQL(q), oneOff(q, args))
}

func (c pgConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	return c.pgxConn.QueryContext(ctx, pgSQL(q), oneOff(q, args))
}

// oneOff sends a statement whose text is made for one run (a literal
// list of ids, a search's tsquery constant) as the extended protocol's
// unnamed statement, in one round trip: pgx would otherwise prepare it
// first, a round trip more, and keep it, pushing the statements that do
// come again out of its cache. Other texts keep pgx's cache.
func oneOff(q string, args []driver.NamedValue) []driver.NamedValue {
	if cacheable(q) && !strings.Contains(q, "::tsquery") {
		return args
	}
	return append([]driver.NamedValue{{Value: pgx.QueryExecModeExec}}, args...)
}

// CheckNamedValue stores Go booleans as SQLite does, 0 and 1: flags are
// integer columns on both engines. Text PostgreSQL refuses (a NUL byte,
// bytes that are not UTF-8), which SQLite keeps, is stored with U+FFFD in
// their place, as onedesk copy does: one hostile message must not fail
// its write and stop a queue (promise 8).
func (c pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if s, ok := nv.Value.(string); ok {
		nv.Value = pgText(s)
		return nil
	}
	if p, ok := nv.Value.(*bool); ok {
		if p == nil {
			nv.Value = nil
			return nil
		}
		nv.Value = *p
	}
	if b, ok := nv.Value.(bool); ok {
		nv.Value = int64(0)
		if b {
			nv.Value = int64(1)
		}
		return nil
	}
	return c.pgxConn.CheckNamedValue(nv)
}

// pgText is s as PostgreSQL's text accepts it.
func pgText(s string) string {
	if strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
}

// pgTexts caches translations of the package's fixed query texts.
var (
	pgTexts     sync.Map
	pgTextCount atomic.Int64
)

// indexHint is SQLite's INDEXED BY, a hint PostgreSQL's planner has no
// syntax for: dropped on the way, so the inbox queries stay one text.
var indexHint = regexp.MustCompile(`\s+INDEXED BY \w+`)

// pgSQL translates a statement for PostgreSQL: ? becomes $1, $2... in
// order and ?N becomes $N, outside string literals, quoted names and
// comments; SQLite's index hints are dropped.
func pgSQL(q string) string {
	if !strings.Contains(q, "?") && !strings.Contains(q, "INDEXED BY") {
		return q
	}
	if s, ok := pgTexts.Load(q); ok {
		return s.(string)
	}
	s := rebind(indexHint.ReplaceAllString(q, ""))
	// Bounded as the statement cache is: past it, texts are translated
	// each time (a few microseconds).
	if cacheable(q) && pgTextCount.Load() < 2*maxPrepared {
		if _, loaded := pgTexts.LoadOrStore(q, s); !loaded {
			pgTextCount.Add(1)
		}
	}
	return s
}

func rebind(q string) string {
	var b strings.Builder
	b.Grow(len(q) + 16)
	n := 0
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case c == '\'' || c == '"':
			// Copy through the closing quote; a doubled quote is an
			// escaped one and is copied by the next round.
			j := strings.IndexByte(q[i+1:], c)
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(q) && q[i+1] == '-':
			j := strings.IndexByte(q[i:], '\n')
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j])
			i += j - 1
		case c == '/' && i+1 < len(q) && q[i+1] == '*':
			j := strings.Index(q[i+2:], "*/")
			if j < 0 {
				b.WriteString(q[i:])
				return b.String()
			}
			b.WriteString(q[i : i+j+4])
			i += j + 3
		case c == '?':
			j := i + 1
			for j < len(q) && q[j] >= '0' && q[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(q[i+1 : j])
				i = j - 1
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
