package store

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"onedesk/store/storetest"
)

func TestRebindPlaceholders(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"SELECT 1", "SELECT 1"},
		{"SELECT * FROM t WHERE a = ? AND b IN (?, ?)", "SELECT * FROM t WHERE a = $1 AND b IN ($2, $3)"},
		{"UPDATE t SET a = ?1 WHERE b = ?2 OR c = ?1", "UPDATE t SET a = $1 WHERE b = $2 OR c = $1"},
		{"SELECT '?', 'it''s ?', \"odd?name\" FROM t WHERE x = ?", "SELECT '?', 'it''s ?', \"odd?name\" FROM t WHERE x = $1"},
		{"SELECT ? -- why? because\n, ? /* what? */ , ?", "SELECT $1 -- why? because\n, $2 /* what? */ , $3"},
		{"SELECT 'unterminated ?", "SELECT 'unterminated ?"},
		{"SELECT id FROM tickets t INDEXED BY tickets_status_id WHERE status = ?", "SELECT id FROM tickets t WHERE status = $1"},
	} {
		if got := pgSQL(c.in); got != c.want {
			t.Errorf("pgSQL(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

// Every schema version exists for both engines: PostgreSQL's list is the
// baseline and then one migration per later SQLite version.
func TestMigrationsForBothEngines(t *testing.T) {
	sqlite, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	pg, err := pgMigrations()
	if err != nil {
		t.Fatal(err)
	}
	if pg[0].version != pgBaseline || len(pg) != len(sqlite)-pgBaseline+1 {
		t.Fatalf("PostgreSQL runs %d migrations from version %d; SQLite has %d", len(pg), pg[0].version, len(sqlite))
	}
	for i, m := range pg {
		if m.version != pgBaseline+i {
			t.Fatalf("PostgreSQL migration %s out of order", m.name)
		}
	}
}

func TestPostgresRefusesNewerDatabase(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	db, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := db.Version(ctx); err != nil || v != SchemaVersion() {
		t.Fatalf("version %d (%v), want %d", v, err, SchemaVersion())
	}
	if _, err := db.w.ExecContext(ctx, "UPDATE schema_version SET version = version + 1"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(ctx, url); err == nil || !strings.Contains(err.Error(), "run a newer onedesk") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

// Two onedesk processes on one database (two DBs here) write one at a
// time, as the code assumes: each write reads a counter and writes it
// back plus one, and none is lost. Reopening runs no migration twice.
func TestPostgresWritesSerialiseAcrossNodes(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	var nodes []*DB
	for range 2 {
		db, err := Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		nodes = append(nodes, db)
	}
	if _, err := nodes[0].exec(ctx, "INSERT INTO settings (key, value) VALUES ('counter', '0')"); err != nil {
		t.Fatal(err)
	}
	const perNode = 100
	var wg sync.WaitGroup
	errs := make(chan error, 2*perNode)
	for _, db := range nodes {
		for range perNode {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- db.Write(ctx, func(tx *Tx) error {
					var v int
					if err := tx.q.QueryRowContext(ctx, "SELECT CAST(value AS BIGINT) FROM settings WHERE key = 'counter'").Scan(&v); err != nil {
						return err
					}
					_, err := tx.q.ExecContext(ctx, "UPDATE settings SET value = ? WHERE key = 'counter'", fmt.Sprint(v+1))
					return err
				})
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	var got string
	if err := nodes[1].r.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = 'counter'").Scan(&got); err != nil {
		t.Fatal(err)
	}
	if got != fmt.Sprint(2*perNode) {
		t.Fatalf("counter %s after %d writes: writes overlapped", got, 2*perNode)
	}
}

// PostgreSQL's baseline has SQLite's tables and columns, name for name
// (a copy from one engine to the other maps them one to one), but for
// SQLite's FTS5 search tables and each engine's version bookkeeping.
func TestPostgresSchemaMatchesSQLite(t *testing.T) {
	ctx := context.Background()
	columns := func(db *DB, q string) map[string]bool {
		rows, err := db.r.QueryContext(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		set := map[string]bool{}
		for rows.Next() {
			var table, col string
			if err := rows.Scan(&table, &col); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(table, "search") && table != "schema_version" {
				set[table+"."+col] = true
			}
		}
		return set
	}
	lite := OpenTest(t)
	pg, err := Open(ctx, storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	// SQLite's FTS5 tables and their shadow tables (name_data, name_idx...)
	// are its search; PostgreSQL's is tsvector columns.
	want := columns(lite, `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND NOT EXISTS (SELECT 1 FROM sqlite_master v
			WHERE v.sql LIKE 'CREATE VIRTUAL TABLE%' AND (m.name = v.name OR m.name LIKE v.name || '\_%' ESCAPE '\'))`)
	got := columns(pg, `SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()`)
	for c := range want {
		if !got[c] {
			t.Errorf("PostgreSQL lacks %s", c)
		}
	}
	for c := range got {
		if !want[c] {
			t.Errorf("PostgreSQL has %s, which SQLite lacks", c)
		}
	}
}

// A NUL byte or bytes that are not UTF-8 in a customer's text are kept by
// SQLite and refused by PostgreSQL's text: the write must not fail (one
// hostile message may not stop a queue), so PostgreSQL stores U+FFFD.
func TestTextPostgresRefusesIsStored(t *testing.T) {
	ForEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := OpenTest(t)
		hostile := "before\x00after \xff\xfe end"
		var tk Ticket
		err := db.Write(ctx, func(tx *Tx) error {
			c := &Customer{Name: "Nul\x00Name", CreatedAt: Now(),
				Identities: []Identity{{Kind: "email", Value: "nul@x.test"}}}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			tk = Ticket{Subject: hostile, Status: "new", Priority: "normal", Channel: "email",
				CustomerID: c.ID, CreatedAt: Now(), UpdatedAt: Now()}
			if err := tx.InsertTicket(ctx, &tk); err != nil {
				return err
			}
			return tx.InsertMessage(ctx, &Message{TicketID: tk.ID, Kind: "customer", Channel: "email",
				Body: hostile, CreatedAt: Now()})
		})
		if err != nil {
			t.Fatalf("a hostile text failed its write: %v", err)
		}
		msgs, err := db.Messages(ctx, tk.ID)
		if err != nil || len(msgs) != 1 {
			t.Fatalf("messages %v, %v", msgs, err)
		}
		want := hostile
		if OnPostgres(t) {
			want = "before\uFFFDafter \uFFFD end" // a run of bad bytes is one U+FFFD
		}
		if msgs[0].Body != want {
			t.Fatalf("body %q, want %q", msgs[0].Body, want)
		}
	})
}
