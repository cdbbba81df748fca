package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Copy moves a whole desk from one database to another, in either
// direction between SQLite and PostgreSQL (`onedesk copy`). Both are open
// already, so the target's tables are its own migrations' (Open made
// them). What it does:
//
//   - every table of the source is copied with its ids, times and blobs
//     as they are, in one transaction of the target: an interrupted copy
//     leaves the target as it found it (empty), and running it again is
//     all there is to do;
//   - the target must be empty: it refuses, with a sentence, a database
//     that holds any row the copy would write;
//   - foreign keys are checked once at the end (PostgreSQL: dropped and
//     added again, which checks every row; SQLite: deferred to commit);
//   - PostgreSQL's id sequences are set past the largest id copied;
//   - derived data is not copied but made by the target: the search index
//     (SQLite's FTS tables are filled by their triggers as rows arrive;
//     PostgreSQL's search is whatever its migrations keep up), and unread
//     counts are read from the copied ticket_reads. Report roll-ups are
//     copied as rows, so reports answer at once without a recount;
//   - before commit, each table's row count and sums of its id, times and
//     sizes are compared on both sides, and a difference rolls it back;
//   - when the target has a file store (Open with WithFiles), every file
//     is put there first (before the rows that name it commit: at worst an
//     orphan object), and its row keeps no bytes.
//
// Nothing must write to the source meanwhile (the CLI holds its lock).
func Copy(ctx context.Context, src, dst *DB, progress func(CopyProgress)) (*CopyResult, error) {
	if progress == nil {
		progress = func(CopyProgress) {}
	}
	if src.path == dst.path && src.postgres == dst.postgres {
		return nil, errors.New("the source and the target are the same database")
	}
	sv, err := src.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: read the source's schema version: %w", err)
	}
	dv, err := dst.Version(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: read the target's schema version: %w", err)
	}
	if sv != dv {
		return nil, fmt.Errorf("copy: the source has schema version %d and the target %d: open both with the same onedesk", sv, dv)
	}
	// Secrets are copied sealed: both desks must hold one key.
	if !src.secrets.sameKey(dst.secrets) {
		return nil, fmt.Errorf("copy: %w: the source's secrets are sealed with the key from %s, the target's with another (%s): "+
			"set %s to the source's key (a key file holds it as text) for the copy, and start the new desk with it",
			ErrSecretKey, src.secrets.source, dst.secrets.source, SecretKeyEnv)
	}
	srcTables, err := src.copyTables(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: list the source's tables: %w", err)
	}
	dstTables, err := dst.copyTables(ctx)
	if err != nil {
		return nil, fmt.Errorf("copy: list the target's tables: %w", err)
	}
	plan, err := copyPlan(srcTables, dstTables, dst.files != nil)
	if err != nil {
		return nil, fmt.Errorf("copy: %w", err)
	}
	// A first look before any file is put anywhere; the transaction looks
	// again under the write lock.
	if err := dst.refuseNonEmpty(plan, func(q string) rowScanner { return dst.r.QueryRowContext(ctx, q) }); err != nil {
		return nil, err
	}

	// The source is read in one transaction: one consistent snapshot.
	opts := &sql.TxOptions{}
	if src.postgres {
		opts = &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	from, err := src.r.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("copy: read the source: %w", err)
	}
	defer from.Rollback()

	res := &CopyResult{}
	start := time.Now()
	if dst.files != nil {
		if res.Files, res.FileBytes, err = copyFiles(ctx, src, from, dst.files, progress); err != nil {
			return nil, interrupted(ctx, dst, err)
		}
	}
	for i := range plan {
		plan[i].fixText = dst.postgres && !src.postgres
		if err := from.QueryRowContext(ctx, `SELECT count(*) FROM "`+plan[i].table+`"`).Scan(&plan[i].total); err != nil {
			return nil, interrupted(ctx, dst, fmt.Errorf("count %s: %w", plan[i].table, err))
		}
	}
	if dst.postgres {
		err = dst.copyIntoPostgres(ctx, from, plan, progress)
	} else {
		err = dst.copyIntoSQLite(ctx, from, plan, progress)
	}
	if err != nil {
		return nil, interrupted(ctx, dst, err)
	}
	for _, s := range plan {
		if !s.skip {
			res.Tables = append(res.Tables, CopiedTable{Name: s.table, Rows: s.total})
		}
		res.FixedTexts += s.fixed
	}
	res.Elapsed = time.Since(start)
	if dst.files == nil {
		// Rows of files kept in a file store came as they were: the new
		// desk needs that store too.
		if err := dst.r.QueryRowContext(ctx, `SELECT count(*) FROM blobs WHERE in_files = 1`).Scan(&res.FilesOutside); err != nil {
			return nil, fmt.Errorf("copy: count files kept in a file store: %w", err)
		}
	}
	return res, nil
}

// RedactURL is a PostgreSQL URL without its password, fit to print.
func RedactURL(dsn string) string { return redact(dsn) }

// CopyProgress is reported as a copy goes: rows of one table so far.
type CopyProgress struct {
	Table string // a table, or "files" while files go to the file store
	Rows  int64  // rows (or files) done
	Total int64  // rows (or files) in all
	Done  bool   // the table is finished
}

// CopyResult is what a finished copy moved.
type CopyResult struct {
	Tables    []CopiedTable
	Files     int64 // files put into the target's file store
	FileBytes int64
	// FixedTexts counts texts PostgreSQL could not keep as they were (a
	// NUL byte, bytes that are not UTF-8), copied with U+FFFD in their place.
	FixedTexts int64
	// FilesOutside counts files whose bytes stay in the source's file
	// store (the copy had none of its own): the target reads them there.
	FilesOutside int64
	Elapsed      time.Duration
}

// CopiedTable is one table's row count, equal on both sides.
type CopiedTable struct {
	Name string
	Rows int64
}

// Rows is the number of rows copied in all.
func (r *CopyResult) Rows() int64 {
	var n int64
	for _, t := range r.Tables {
		n += t.Rows
	}
	return n
}

// TargetNotEmptyError: the copy goes only into an empty database.
type TargetNotEmptyError struct {
	Target string
	Table  string
	Rows   int64
}

func (e *TargetNotEmptyError) Error() string {
	return fmt.Sprintf("%s is not empty (its table %s has %d rows): onedesk copies a desk only into an empty database, so nothing there is overwritten; "+
		"name a new database or file, or empty this one first", e.Target, e.Table, e.Rows)
}

// ErrCopyInterrupted: the copy stopped before its commit; the target is
// as it was.
var ErrCopyInterrupted = errors.New("the copy was interrupted")

func interrupted(ctx context.Context, dst *DB, err error) error {
	if ctx.Err() == nil {
		return fmt.Errorf("copy: %w (nothing was written to %s: its transaction was rolled back)", err, dst.path)
	}
	return fmt.Errorf("%w before it finished, and nothing was written to %s (its transaction was rolled back): run the same command again to copy the desk",
		ErrCopyInterrupted, dst.path)
}

// Tables that hold what the target makes for itself, never copied:
// SQLite's search build marker, PostgreSQL's schema version and its
// search tables (search_postgres.go), and the rate limits' counters
// (ratelimit.go: a copy starts with full buckets). (SQLite's FTS tables are virtual
// and their shadows are not listed at all.)
var derivedTables = map[string]bool{"search_build": true, "schema_version": true, "ticket_search": true, "customer_search": true,
	"rate_buckets": true, "help_search": true}

// seededTables hold a row that the migrations put in: the copy replaces
// it with the source's.
var seededTables = map[string]bool{"webhook_cursor": true, "notify_cursor": true, "settings": true}

type colKind int

const (
	kindAny   colKind = iota // SQLite's typeless columns (report roll-up values)
	kindInt                  // INTEGER, BIGINT
	kindText                 // TEXT
	kindBytes                // BLOB, BYTEA
	kindFloat                // REAL
	kindOther                // anything else: not copied
)

type copyColumn struct {
	name string
	kind colKind
}

type copyTable struct {
	name string
	cols []copyColumn
	refs []string // the tables its foreign keys name
}

// copyStep is one table's copy: the columns both sides have, in the
// target's kinds.
type copyStep struct {
	table string
	cols  []string
	kinds []colKind
	total int64
	skip  bool        // its rows are not copied (blob parts, when files move out)
	edit  func([]any) // changes a row on its way (blobs, when files move out)
	// fixText: the target (PostgreSQL) refuses text with NUL bytes or
	// bytes that are not UTF-8, which SQLite keeps; fixed counts the
	// values that had them replaced by U+FFFD.
	fixText bool
	fixed   int64
}

// copyTables lists the tables a copy reads or writes, with their columns
// and the tables their foreign keys name: two queries of each engine's
// catalog, one row per column and one per reference.
func (db *DB) copyTables(ctx context.Context) (map[string]copyTable, error) {
	cols := `SELECT t.name, c.name, c.type FROM pragma_table_list t, pragma_table_info(t.name) c
		WHERE t.schema = 'main' AND t.type = 'table' AND t.name NOT LIKE 'sqlite\_%' ESCAPE '\'
		ORDER BY t.name, c.cid`
	refs := `SELECT DISTINCT t.name, f."table" FROM pragma_table_list t, pragma_foreign_key_list(t.name) f
		WHERE t.schema = 'main' AND t.type = 'table'`
	if db.postgres {
		// Generated columns (a search vector) are the target's to make.
		cols = `SELECT c.table_name, c.column_name, c.data_type
		FROM information_schema.columns c JOIN information_schema.tables t
		  ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND c.is_generated = 'NEVER'
		ORDER BY c.table_name, c.ordinal_position`
		refs = `SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint
		WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`
	}
	tables := map[string]copyTable{}
	err := db.eachPair(ctx, cols, func(table, col, typ string) {
		t := tables[table]
		t.name = table
		t.cols = append(t.cols, copyColumn{name: col, kind: kindOf(typ)})
		tables[table] = t
	})
	if err != nil {
		return nil, err
	}
	err = db.eachPair(ctx, refs, func(from, to, _ string) {
		if t, ok := tables[from]; ok {
			t.refs = append(t.refs, to)
			tables[from] = t
		}
	})
	return tables, err
}

// eachPair runs a catalog query of two or three text columns.
func (db *DB) eachPair(ctx context.Context, q string, fn func(a, b, c string)) error {
	rows, err := db.r.QueryContext(ctx, q)
	if err != nil {
		return err
	}
	defer rows.Close()
	names, err := rows.Columns()
	if err != nil {
		return err
	}
	n := len(names)
	for rows.Next() {
		var v [3]string
		dest := []any{&v[0], &v[1], &v[2]}[:n]
		if err := rows.Scan(dest...); err != nil {
			return err
		}
		fn(v[0], v[1], v[2])
	}
	return rows.Err()
}

// kindOf reads a declared column type (SQLite's) or a data type
// (PostgreSQL's information_schema).
func kindOf(typ string) colKind {
	t := strings.ToUpper(typ)
	switch {
	case t == "":
		return kindAny
	case strings.Contains(t, "INT"):
		return kindInt
	case strings.Contains(t, "CHAR") || strings.Contains(t, "TEXT") || strings.Contains(t, "CLOB"):
		return kindText
	case strings.Contains(t, "BLOB") || t == "BYTEA":
		return kindBytes
	case strings.Contains(t, "REAL") || strings.Contains(t, "FLOA") || strings.Contains(t, "DOUB") || t == "NUMERIC":
		return kindFloat
	}
	return kindOther
}

// copyPlan matches the source's tables to the target's, in an order
// where a table comes after those it refers to (what triggers that read
// other tables, such as SQLite's search index, expect).
func copyPlan(src, dst map[string]copyTable, filesOut bool) ([]copyStep, error) {
	var names []string
	for name := range src {
		if derivedTables[name] {
			continue
		}
		if _, ok := dst[name]; !ok {
			return nil, fmt.Errorf("the source's table %s has no place in the target (does this onedesk know both engines' schema?)", name)
		}
		names = append(names, name)
	}
	sort.Strings(names)
	var steps []copyStep
	for _, name := range topoOrder(names, dst) {
		s := copyStep{table: name}
		target := map[string]colKind{}
		for _, c := range dst[name].cols {
			target[c.name] = c.kind
		}
		for _, c := range src[name].cols {
			kind, ok := target[c.name]
			if !ok {
				return nil, fmt.Errorf("the source's column %s.%s has no place in the target", name, c.name)
			}
			if kind == kindOther {
				continue
			}
			s.cols = append(s.cols, c.name)
			s.kinds = append(s.kinds, kind)
		}
		if filesOut {
			switch name {
			case "blob_parts":
				s.skip = true // the parts are joined in the file store's objects
			case "blobs":
				data, inFiles := slices.Index(s.cols, "data"), slices.Index(s.cols, "in_files")
				if data < 0 || inFiles < 0 {
					return nil, errors.New("the blobs table lacks its data or in_files column")
				}
				s.edit = func(row []any) { row[data], row[inFiles] = []byte{}, int64(1) }
			}
		}
		steps = append(steps, s)
	}
	return steps, nil
}

// topoOrder orders names so that each comes after the tables it refers
// to; a cycle (mailboxes and messages name each other) is broken in
// name order.
func topoOrder(names []string, tables map[string]copyTable) []string {
	placed := map[string]bool{}
	in := map[string]bool{}
	for _, n := range names {
		in[n] = true
	}
	var out []string
	for len(out) < len(names) {
		progressed := false
		for _, n := range names {
			if placed[n] {
				continue
			}
			ready := true
			for _, r := range tables[n].refs {
				if r != n && in[r] && !placed[r] {
					ready = false
					break
				}
			}
			if ready {
				placed[n] = true
				out = append(out, n)
				progressed = true
			}
		}
		if !progressed {
			for _, n := range names {
				if !placed[n] {
					placed[n] = true
					out = append(out, n)
					break
				}
			}
		}
	}
	return out
}

// refuseNonEmpty fails with TargetNotEmptyError when any table the copy
// writes has rows (the migrations' own rows aside).
func (db *DB) refuseNonEmpty(plan []copyStep, query func(q string) rowScanner) error {
	// tickets first: the most telling table to name.
	order := slices.Clone(plan)
	sort.SliceStable(order, func(i, j int) bool { return order[i].table == "tickets" && order[j].table != "tickets" })
	for _, s := range order {
		if seededTables[s.table] {
			continue
		}
		var n int64
		if err := query(`SELECT count(*) FROM "` + s.table + `"`).Scan(&n); err != nil {
			return fmt.Errorf("copy: count the target's %s: %w", s.table, err)
		}
		if n > 0 {
			return &TargetNotEmptyError{Target: db.path, Table: s.table, Rows: n}
		}
	}
	return nil
}

// selectSQL reads a table's copied columns.
func (s *copyStep) selectSQL() string {
	return "SELECT " + quoteNames(s.cols) + ` FROM "` + s.table + `"`
}

func quoteNames(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = `"` + c + `"`
	}
	return strings.Join(q, ", ")
}

// rowReader reads a table of the source row by row, each value made what
// the target's column takes.
type rowReader struct {
	step     *copyStep
	rows     *sql.Rows
	vals     []any
	ptrs     []any
	n        int64
	err      error
	progress func(CopyProgress)
}

func newRowReader(ctx context.Context, from *sql.Tx, s *copyStep, progress func(CopyProgress)) (*rowReader, error) {
	rows, err := from.QueryContext(ctx, s.selectSQL())
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", s.table, err)
	}
	r := &rowReader{step: s, rows: rows, vals: make([]any, len(s.cols)), ptrs: make([]any, len(s.cols)), progress: progress}
	for i := range r.vals {
		r.ptrs[i] = &r.vals[i]
	}
	return r, nil
}

// copyProgressEvery is how many rows pass between progress reports.
const copyProgressEvery = 5000

func (r *rowReader) Next() bool {
	if r.err != nil || !r.rows.Next() {
		return false
	}
	if r.err = r.rows.Scan(r.ptrs...); r.err != nil {
		r.err = fmt.Errorf("read %s: %w", r.step.table, r.err)
		return false
	}
	for i, v := range r.vals {
		if r.vals[i], r.err = convertValue(v, r.step.kinds[i]); r.err != nil {
			r.err = fmt.Errorf("%s.%s: %w", r.step.table, r.step.cols[i], r.err)
			return false
		}
	}
	if r.step.fixText {
		for i, v := range r.vals {
			if str, ok := v.(string); ok && r.step.kinds[i] == kindText {
				if fixed := pgText(str); fixed != str {
					r.vals[i] = fixed
					r.step.fixed++
				}
			}
		}
	}
	if r.step.edit != nil {
		r.step.edit(r.vals)
	}
	r.n++
	if r.n%copyProgressEvery == 0 {
		r.progress(CopyProgress{Table: r.step.table, Rows: r.n, Total: r.step.total})
	}
	return true
}

func (r *rowReader) Values() ([]any, error) { return r.vals, nil }

func (r *rowReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.rows.Err()
}

func (r *rowReader) Close() error { return r.rows.Close() }

// convertValue makes a value read from one engine what the other's
// column of kind takes: SQLite keeps a report roll-up's ids as integers in
// typeless columns where PostgreSQL keeps text (see rollValue), a SQLite
// TEXT column may hold a blob, and so on.
func convertValue(v any, kind colKind) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case kindInt:
		switch x := v.(type) {
		case int64:
			return x, nil
		case bool:
			if x {
				return int64(1), nil
			}
			return int64(0), nil
		case float64:
			if x == math.Trunc(x) {
				return int64(x), nil
			}
		case string:
			return strconv.ParseInt(x, 10, 64)
		case []byte:
			return strconv.ParseInt(string(x), 10, 64)
		}
	case kindText:
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		}
	case kindBytes:
		switch x := v.(type) {
		case []byte:
			if x == nil {
				return []byte{}, nil // an empty blob, not NULL (SQLite's driver reads x'' as nil)
			}
			return x, nil
		case string:
			return []byte(x), nil
		}
	case kindFloat:
		switch x := v.(type) {
		case float64:
			return x, nil
		case int64:
			return float64(x), nil
		case string:
			return strconv.ParseFloat(x, 64)
		}
	case kindAny:
		// Into a SQLite typeless column: an integer PostgreSQL kept as
		// text is an integer again.
		if s, ok := v.(string); ok {
			if n, err := strconv.ParseInt(s, 10, 64); err == nil && strconv.FormatInt(n, 10) == s {
				return n, nil
			}
		}
		if b, ok := v.([]byte); ok {
			return string(b), nil
		}
		return v, nil
	}
	return nil, fmt.Errorf("cannot copy a %T into this column", v)
}

// checkSQL reads what is compared on both sides after a table's copy:
// its rows and sums of its ids, times and sizes (each value mod a prime,
// so a sum never overflows).
func (s *copyStep) checkSQL() (string, []string) {
	exprs := []string{"count(*)"}
	what := []string{"rows"}
	for i, c := range s.cols {
		if s.kinds[i] == kindInt && (c == "id" || c == "created_at" || c == "updated_at" || c == "size" || c == "ticket_id") {
			exprs = append(exprs, `CAST(coalesce(sum("`+c+`" % 1000000007), 0) AS BIGINT)`)
			what = append(what, "sum of "+c)
		}
	}
	return "SELECT " + strings.Join(exprs, ", ") + ` FROM "` + s.table + `"`, what
}

type rowScanner interface{ Scan(dest ...any) error }

// checkTable compares a table on both sides.
func (s *copyStep) check(ctx context.Context, from *sql.Tx, to func(q string) rowScanner) error {
	q, what := s.checkSQL()
	a, b := make([]int64, len(what)), make([]int64, len(what))
	pa, pb := make([]any, len(what)), make([]any, len(what))
	for i := range a {
		pa[i], pb[i] = &a[i], &b[i]
	}
	if err := from.QueryRowContext(ctx, q).Scan(pa...); err != nil {
		return fmt.Errorf("check %s in the source: %w", s.table, err)
	}
	if err := to(q).Scan(pb...); err != nil {
		return fmt.Errorf("check %s in the target: %w", s.table, err)
	}
	for i := range what {
		if a[i] != b[i] {
			return fmt.Errorf("check: %s differs in %s: %d in the source, %d in the target", what[i], s.table, a[i], b[i])
		}
	}
	if a[0] != s.total {
		return fmt.Errorf("check: %s has %d rows now but had %d when the copy began: was a onedesk writing to the source?", s.table, a[0], s.total)
	}
	return nil
}
