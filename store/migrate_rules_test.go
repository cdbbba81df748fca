package store

import (
	"context"
	"testing"
)

// Migration 0011 makes the rules table again (for the SLA triggers): the
// rules of a desk at version 10, and what they did to its tickets, stay.
func TestRulesSurviveTheSLAMigration(t *testing.T) {
	ctx := context.Background()
	path, raw := databaseAt(t, 10)
	db := migrated(t, path, raw,
		"INSERT INTO customers (id, name, created_at, updated_at) VALUES (1, 'Ana', 1, 1)",
		`INSERT INTO tickets (id, subject, status, priority, channel, customer_id, created_at, updated_at)
			VALUES (7, 'Hi', 'pending', 'normal', 'email', 1, 1, 1)`,
		`INSERT INTO rules (id, name, trigger, conditions, actions, position, swept_to, created_at, updated_at)
			VALUES (3, 'Quiet', 'time', '[]', '[{"type":"set_status","value":"resolved"}]', 1, 99, 1, 1)`,
		"INSERT INTO rule_runs (rule_id, ticket_id, at) VALUES (3, 7, 42)",
	)
	rules, err := db.Rules(ctx)
	if err != nil || len(rules) != 1 || rules[0].Name != "Quiet" || ms(rules[0].SweptTo) != 99 || len(rules[0].Actions) != 1 {
		t.Fatalf("rules after the migration: %+v, %v", rules, err)
	}
	var at int64
	if err := db.r.QueryRowContext(ctx, "SELECT at FROM rule_runs WHERE rule_id = 3 AND ticket_id = 7").Scan(&at); err != nil || at != 42 {
		t.Fatalf("rule run: %d, %v", at, err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		_, err := tx.tx.ExecContext(ctx, `INSERT INTO rules (name, trigger, position, created_at, updated_at)
			VALUES ('Escalate', 'sla_breached', 2, 1, 1)`)
		return err
	})
	if err != nil {
		t.Fatalf("an SLA trigger after the migration: %v", err)
	}
	// Deleting the rule still takes its runs with it.
	err = db.Write(ctx, func(tx *Tx) error { return tx.DeleteRule(ctx, 3) })
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := db.r.QueryRowContext(ctx, "SELECT count(*) FROM rule_runs").Scan(&n); err != nil || n != 0 {
		t.Fatalf("runs of a deleted rule: %d, %v", n, err)
	}
}
