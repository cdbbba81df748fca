package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// pgBaseline is the schema version PostgreSQL starts from: its first
// migration, migrations/postgres/0024_baseline.sql, makes schema 24 at once.
const pgBaseline = 24

// migrations lists the embedded files in order; file NNNN_name.sql is
// schema version NNNN, and versions must run 1, 2, 3... without gaps.
func migrations() ([]migration, error) {
	list, err := readMigrations("migrations")
	if err != nil {
		return nil, err
	}
	for i, m := range list {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return list, nil
}

// pgMigrations is PostgreSQL's list: the baseline (version 24), then each
// later version from migrations/postgres when it has its own file there,
// else the shared one. It has as many versions as SQLite's.
func pgMigrations() ([]migration, error) {
	shared, err := migrations()
	if err != nil {
		return nil, err
	}
	own, err := readMigrations("migrations/postgres")
	if err != nil {
		return nil, err
	}
	byVersion := map[int]migration{}
	for _, m := range own {
		if m.version < pgBaseline || m.version > len(shared) {
			return nil, fmt.Errorf("migration postgres/%s: no version %d to stand for", m.name, m.version)
		}
		byVersion[m.version] = m
	}
	base, ok := byVersion[pgBaseline]
	if !ok {
		return nil, fmt.Errorf("migration postgres/%04d_*.sql (the baseline) is missing", pgBaseline)
	}
	list := []migration{base}
	for _, m := range shared[pgBaseline:] {
		if p, ok := byVersion[m.version]; ok {
			m = p
		}
		list = append(list, m)
	}
	return list, nil
}

func readMigrations(dir string) ([]migration, error) {
	names, err := fs.Glob(migrationFiles, dir+"/*.sql")
	if err != nil {
		return nil, err
	}
	var list []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, dir+"/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", base)
		}
		body, err := migrationFiles.ReadFile(name)
		if err != nil {
			return nil, err
		}
		list = append(list, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(list, func(i, j int) bool { return list[i].version < list[j].version })
	return list, nil
}

// SchemaVersion is the schema version this binary writes.
func SchemaVersion() int {
	list, _ := migrations()
	return len(list)
}

// migrate applies the pending migrations, each in its own transaction
// together with the new schema version, so a crash leaves a whole version.
// Each reads the version again inside its write transaction: on
// PostgreSQL, several nodes starting at once apply each version once.
func (db *DB) migrate(ctx context.Context) error {
	list, err := migrations()
	if db.postgres && err == nil {
		if _, err := db.w.ExecContext(ctx, "CREATE TABLE IF NOT EXISTS schema_version (version BIGINT NOT NULL)"); err != nil {
			return fmt.Errorf("schema version table: %w", err)
		}
		list, err = pgMigrations()
	}
	if err != nil {
		return err
	}
	current, err := db.schemaVersion(ctx, db.w)
	if err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if err := db.loadSecrets(ctx); err != nil {
		return err
	}
	if latest := SchemaVersion(); current > latest {
		return fmt.Errorf("the database has schema version %d but this onedesk knows only up to %d: run a newer onedesk", current, latest)
	}
	for _, m := range list {
		if m.version <= current {
			continue
		}
		err := db.Write(ctx, func(tx *Tx) error {
			v, err := db.schemaVersion(ctx, tx.tx)
			if err != nil || v >= m.version {
				return err // another node ran it meanwhile
			}
			if _, err := tx.tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			if step := migrationSteps[m.version]; step != nil {
				if err := step(ctx, tx); err != nil {
					return err
				}
			}
			return db.setSchemaVersion(ctx, tx.tx, m.version)
		})
		if err != nil {
			return fmt.Errorf("migration %s: %w", m.name, err)
		}
		if m.version == 30 && !db.postgres {
			// The rows sealed are new pages in the WAL; until copied over, the
			// file keeps the plain ones, and the WAL may hold older frames
			// with them (a desk that stopped without closing): copy and
			// empty it now. No reader is open yet.
			if _, err := db.w.ExecContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
				return fmt.Errorf("migration %s: checkpoint: %w", m.name, err)
			}
		}
	}
	return nil
}

// migrationSteps are the Go parts of migrations, run in the same
// transaction after the version's SQL: what SQL alone cannot do.
var migrationSteps = map[int]func(context.Context, *Tx) error{
	30: sealPlainSecrets, // 0030_secrets_at_rest.sql
}

type rowQuerier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// schemaVersion is SQLite's user_version, or PostgreSQL's schema_version
// row (none before the baseline: 0).
func (db *DB) schemaVersion(ctx context.Context, q rowQuerier) (int, error) {
	var v int
	if !db.postgres {
		err := q.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v)
		return v, err
	}
	err := q.QueryRowContext(ctx, "SELECT version FROM schema_version").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	return v, err
}

func (db *DB) setSchemaVersion(ctx context.Context, tx *sql.Tx, v int) error {
	if !db.postgres {
		_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v))
		return err
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM schema_version"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "INSERT INTO schema_version (version) VALUES (?)", v)
	return err
}

// Version reports the database's schema version.
func (db *DB) Version(ctx context.Context) (int, error) {
	return db.schemaVersion(ctx, db.r)
}
