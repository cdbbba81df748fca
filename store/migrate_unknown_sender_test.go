package store

import (
	"context"
	"testing"
)

// Migration 0026 takes the English name off the customers that mail
// without a readable sender was filed under (the app names them in each
// agent's language), and leaves every other customer's name alone.
func TestUnknownSenderLosesItsEnglishName(t *testing.T) {
	ctx := context.Background()
	path, raw := databaseAt(t, 25)
	db := migrated(t, path, raw,
		"INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'Unknown sender', 1, 1)",
		"INSERT INTO identities (customer_id, kind, value, created_at) VALUES (1, 'email', 'unknown-sender.3@onedesk.invalid', 1)",
		"INSERT INTO customers (id, name, created_at, updated_at) VALUES (2, 'Unknown sender', 1, 1)", // a person so named
		"INSERT INTO identities (customer_id, kind, value, created_at) VALUES (2, 'email', 'someone@example.com', 1)",
	)
	for id, want := range map[int64]string{1: "", 2: "Unknown sender"} {
		if c, err := db.Customer(ctx, id); err != nil || c.Name != want {
			t.Errorf("customer %d after the migration: %+v, %v; want name %q", id, c, err, want)
		}
	}
}
