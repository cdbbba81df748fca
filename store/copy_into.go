package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The target's side of Copy, one function per engine.

// copyIntoPostgres copies on the writer's connection with COPY (pgx's
// CopyFrom), the fast path: one transaction, under the write lock every
// onedesk node takes, so no node writes meanwhile.
func (db *DB) copyIntoPostgres(ctx context.Context, from *sql.Tx, plan []copyStep, progress func(CopyProgress)) error {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		pc, ok := dc.(pgConn)
		if !ok {
			return errors.New("the target's connection is not pgx's")
		}
		sc, ok := pc.pgxConn.(*stdlib.Conn)
		if !ok {
			return errors.New("the target's connection is not pgx's")
		}
		return pgCopy(ctx, db, sc.Conn(), from, plan, progress)
	})
}

func pgCopy(ctx context.Context, db *DB, c *pgx.Conn, from *sql.Tx, plan []copyStep, progress func(CopyProgress)) error {
	tx, err := c.Begin(ctx)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback(context.Background())
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock("+strconv.Itoa(writeLockKey)+")"); err != nil {
		return fmt.Errorf("write lock: %w", err)
	}
	if err := db.refuseNonEmpty(plan, func(q string) rowScanner { return tx.QueryRow(ctx, q) }); err != nil {
		return err
	}
	search, err := pgSearchOff(ctx, tx)
	if err != nil {
		return err
	}
	// Foreign keys go while rows arrive (a table may name rows of a later
	// one, or of itself further on) and come back at the end, which
	// checks every row against them.
	type fk struct{ table, name, def string }
	var fks []fk
	rows, err := tx.Query(ctx, `SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE contype = 'f' AND connamespace = current_schema()::regnamespace ORDER BY conrelid::regclass::text, conname`)
	if err != nil {
		return fmt.Errorf("list foreign keys: %w", err)
	}
	for rows.Next() {
		var f fk
		if err := rows.Scan(&f.table, &f.name, &f.def); err != nil {
			rows.Close()
			return err
		}
		fks = append(fks, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list foreign keys: %w", err)
	}
	for _, f := range fks {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+f.table+` DROP CONSTRAINT "`+f.name+`"`); err != nil {
			return fmt.Errorf("drop foreign key %s: %w", f.name, err)
		}
	}
	for i := range plan {
		s := &plan[i]
		if s.skip {
			continue
		}
		if seededTables[s.table] {
			if _, err := tx.Exec(ctx, `DELETE FROM "`+s.table+`"`); err != nil {
				return fmt.Errorf("empty %s: %w", s.table, err)
			}
		}
		r, err := newRowReader(ctx, from, s, progress)
		if err != nil {
			return err
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{s.table}, s.cols, r)
		r.Close()
		if err != nil {
			return fmt.Errorf("copy %s: %w", s.table, err)
		}
		progress(CopyProgress{Table: s.table, Rows: n, Total: s.total, Done: true})
	}
	if err := search.fill(ctx, tx, progress); err != nil {
		return err
	}
	progress(CopyProgress{Table: "foreign keys", Total: int64(len(fks))})
	for i, f := range fks {
		if _, err := tx.Exec(ctx, `ALTER TABLE `+f.table+` ADD CONSTRAINT "`+f.name+`" `+f.def); err != nil {
			return fmt.Errorf("check foreign key %s of %s: %w", f.name, f.table, err)
		}
		progress(CopyProgress{Table: "foreign keys", Rows: int64(i + 1), Total: int64(len(fks))})
	}
	progress(CopyProgress{Table: "foreign keys", Rows: int64(len(fks)), Total: int64(len(fks)), Done: true})
	// Ids: each sequence continues past the largest id copied.
	var seqs [][2]string
	rows, err = tx.Query(ctx, `SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')`)
	if err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		seqs = append(seqs, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list sequences: %w", err)
	}
	for _, sc := range seqs {
		q := `SELECT setval(pg_get_serial_sequence($1, $2), coalesce((SELECT max("` + sc[1] + `") FROM "` + sc[0] + `"), 0) + 1, false)`
		if _, err := tx.Exec(ctx, q, `"`+sc[0]+`"`, sc[1]); err != nil {
			return fmt.Errorf("set the sequence of %s.%s: %w", sc[0], sc[1], err)
		}
	}
	if err := checkAll(ctx, from, plan, func(q string) rowScanner { return tx.QueryRow(ctx, q) }, progress); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	if err := tx.Commit(ctx); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// pgSearchTables are the tables whose triggers keep PostgreSQL's search
// (migration postgres/0028), and the search's own tables.
var (
	pgSearchTables = []string{"customers", "identities", "tickets", "messages", "stores"}
	pgSearchIndex  = []string{"ticket_search", "customer_search"}
)

// pgSearchCopy is the search index's part in a copy into PostgreSQL:
// its triggers, which read and write a search row per row copied
// (at 1,000,000 tickets, hours), are off while the rows arrive, and the
// index is made at the end in one statement a table, as the migration
// makes it for a desk's rows; its GIN indexes, dropped meanwhile, are
// built once from the filled tables.
type pgSearchCopy struct {
	indexes []string // the GIN indexes' definitions, to make again
}

func pgSearchOff(ctx context.Context, tx pgx.Tx) (*pgSearchCopy, error) {
	for _, t := range pgSearchTables {
		if _, err := tx.Exec(ctx, `ALTER TABLE "`+t+`" DISABLE TRIGGER USER`); err != nil {
			return nil, fmt.Errorf("search triggers of %s off: %w", t, err)
		}
	}
	rows, err := tx.Query(ctx, `SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index
		WHERE indrelid = ANY($1::regclass[]) AND NOT indisprimary AND NOT indisunique`, pgSearchIndex)
	if err != nil {
		return nil, fmt.Errorf("list the search indexes: %w", err)
	}
	var names []string
	s := &pgSearchCopy{}
	for rows.Next() {
		var name, def string
		if err := rows.Scan(&name, &def); err != nil {
			rows.Close()
			return nil, err
		}
		names, s.indexes = append(names, name), append(s.indexes, def)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list the search indexes: %w", err)
	}
	for _, n := range names {
		if _, err := tx.Exec(ctx, "DROP INDEX "+n); err != nil {
			return nil, fmt.Errorf("drop search index %s: %w", n, err)
		}
	}
	return s, nil
}

// fill makes the search index of the copied rows and turns its triggers
// back on (both at commit, with the rest).
func (s *pgSearchCopy) fill(ctx context.Context, tx pgx.Tx, progress func(CopyProgress)) error {
	steps := []string{
		`INSERT INTO ticket_search (ticket_id, message_id, words)
		 SELECT ticket_id, 0, onedesk_search_vector(onedesk_search_config(store_id), text) FROM ticket_search_text`,
		`INSERT INTO ticket_search (ticket_id, message_id, words)
		 SELECT ticket_id, message_id, onedesk_search_vector(onedesk_search_config(store_id), text) FROM ticket_search_messages`,
		`INSERT INTO customer_search (customer_id, words)
		 SELECT c.id, to_tsvector('simple', onedesk_search_text(c.name || ' ' ||
		        coalesce((SELECT string_agg(value, ' ' ORDER BY id) FROM identities WHERE customer_id = c.id AND kind <> 'visitor'), '')))
		   FROM customers c WHERE c.merged_into IS NULL`,
		// A GIN index is built far faster with more memory than the default 64 MB.
		"SET LOCAL maintenance_work_mem = '256MB'",
	}
	steps = append(steps, s.indexes...)
	for _, t := range pgSearchTables {
		steps = append(steps, `ALTER TABLE "`+t+`" ENABLE TRIGGER USER`)
	}
	total := int64(len(steps))
	for i, q := range steps {
		progress(CopyProgress{Table: "search index", Rows: int64(i), Total: total})
		if _, err := tx.Exec(ctx, q); err != nil {
			return fmt.Errorf("search index: %w", err)
		}
	}
	progress(CopyProgress{Table: "search index", Rows: total, Total: total, Done: true})
	return nil
}

// copyIntoSQLite inserts row by row with one prepared statement per table,
// in one transaction on the writer's connection, foreign keys checked at
// its commit.
func (db *DB) copyIntoSQLite(ctx context.Context, from *sql.Tx, plan []copyStep, progress func(CopyProgress)) error {
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, "PRAGMA defer_foreign_keys = ON"); err != nil {
		return err
	}
	if err := db.refuseNonEmpty(plan, func(q string) rowScanner { return tx.QueryRowContext(ctx, q) }); err != nil {
		return err
	}
	for i := range plan {
		s := &plan[i]
		if s.skip {
			continue
		}
		if seededTables[s.table] {
			if _, err := tx.ExecContext(ctx, `DELETE FROM "`+s.table+`"`); err != nil {
				return fmt.Errorf("empty %s: %w", s.table, err)
			}
		}
		if err := sqliteCopyTable(ctx, tx, from, s, progress); err != nil {
			return err
		}
	}
	if err := checkAll(ctx, from, plan, func(q string) rowScanner { return tx.QueryRowContext(ctx, q) }, progress); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit (foreign keys are checked here): %w", err)
	}
	return nil
}

func sqliteCopyTable(ctx context.Context, tx *sql.Tx, from *sql.Tx, s *copyStep, progress func(CopyProgress)) error {
	ins, err := tx.PrepareContext(ctx, `INSERT INTO "`+s.table+`" (`+quoteNames(s.cols)+`) VALUES (`+
		strings.TrimSuffix(strings.Repeat("?, ", len(s.cols)), ", ")+`)`)
	if err != nil {
		return fmt.Errorf("copy %s: %w", s.table, err)
	}
	defer ins.Close()
	r, err := newRowReader(ctx, from, s, progress)
	if err != nil {
		return err
	}
	defer r.Close()
	for r.Next() {
		if _, err := ins.ExecContext(ctx, r.vals...); err != nil {
			return fmt.Errorf("copy %s: %w", s.table, err)
		}
	}
	if err := r.Err(); err != nil {
		return fmt.Errorf("copy %s: %w", s.table, err)
	}
	progress(CopyProgress{Table: s.table, Rows: r.n, Total: s.total, Done: true})
	return nil
}

func checkAll(ctx context.Context, from *sql.Tx, plan []copyStep, to func(string) rowScanner, progress func(CopyProgress)) error {
	for i := range plan {
		if plan[i].skip {
			continue
		}
		if err := plan[i].check(ctx, from, to); err != nil {
			return err
		}
		progress(CopyProgress{Table: "check", Rows: int64(i + 1), Total: int64(len(plan))})
	}
	progress(CopyProgress{Table: "check", Rows: int64(len(plan)), Total: int64(len(plan)), Done: true})
	return nil
}
