package store

import (
	"context"
	"database/sql"
	"testing"
)

// Migration 0015 makes identities again (for the messenger kind): the
// identities of a desk at version 14 keep their ids, customers stay
// findable by them, and the search index follows changes after it.
func TestIdentitiesSurviveTheMessengerMigration(t *testing.T) {
	ctx := context.Background()
	path, raw := databaseAt(t, 14)
	db := migrated(t, path, raw,
		"INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'Ana Lima', 1, 1)",
		"INSERT INTO identities (id, customer_id, kind, value, base, created_at) VALUES (5, 1, 'email', 'ana+shop@x.com', 'ana@x.com', 1)",
		"INSERT INTO identities (id, customer_id, kind, value, created_at) VALUES (6, 1, 'phone', '+351912345678', 1)",
	)
	var id int64
	if err := db.r.QueryRowContext(ctx, "SELECT id FROM identities WHERE kind = 'phone' AND value = '+351912345678'").Scan(&id); err != nil || id != 6 {
		t.Fatalf("identity after the migration: %d, %v", id, err)
	}
	found, err := db.SearchCustomers(ctx, CustomerSearch{Identities: []Identity{{Kind: "email", Value: "ana@x.com"}}})
	if err != nil || len(found) != 1 || found[0].ID != 1 {
		t.Fatalf("customer by the email's base: %+v, %v", found, err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		if err := tx.AddIdentity(ctx, 1, Identity{Kind: "messenger", Value: "6120034455"}); err != nil {
			return err
		}
		_, err := tx.tx.ExecContext(ctx, "UPDATE customers SET name = 'Ana Souza' WHERE id = 1")
		return err
	})
	if err != nil {
		t.Fatalf("a messenger identity after the migration: %v", err)
	}
	for _, words := range []string{"6120034455", "souza", "351912345678"} {
		found, err = db.SearchCustomers(ctx, CustomerSearch{Words: words})
		if err != nil || len(found) != 1 || found[0].ID != 1 {
			t.Fatalf("search %q after the migration: %+v, %v", words, found, err)
		}
	}
	var read sql.NullInt64
	if err := db.r.QueryRowContext(ctx, "SELECT read_at FROM messages LIMIT 1").Scan(&read); err != nil && err != sql.ErrNoRows {
		t.Fatalf("messages.read_at: %v", err)
	}
}
