package store

import (
	"context"
	"slices"
	"testing"
)

// Migration 0036 drops agents.role's CHECK by copying the column: the
// admins and agents of a desk at version 35 keep their roles, teams,
// sessions and tokens, and the new roles and per-store access can be
// written afterwards.
func TestRolesMigrationKeepsAgents(t *testing.T) {
	ctx := context.Background()
	path, raw := databaseAt(t, 35)
	db := migrated(t, path, raw,
		`INSERT INTO agents (id, email, name, password_hash, role, active, created_at, updated_at)
			VALUES (1, 'olga@shop.test', 'Olga', 'x', 'admin', 1, 1, 1), (2, 'ann@shop.test', 'Ann', 'y', 'agent', 0, 1, 1)`,
		"INSERT INTO teams (id, name, created_at) VALUES (5, 'Support', 1)",
		"INSERT INTO team_members (team_id, agent_id) VALUES (5, 1), (5, 2)",
		"INSERT INTO sessions (token_hash, agent_id, csrf_token, created_at, expires_at) VALUES ('h', 2, 'c', 1, 99999999999999)",
		"INSERT INTO stores (id, name, slug, created_at) VALUES (3, 'Shop', 'shop', 1)",
	)
	list, err := db.Agents(ctx)
	if err != nil || len(list) != 2 {
		t.Fatalf("agents after the migration: %v, %v", list, err)
	}
	olga, ann := list[1], list[0] // by name
	if olga.Role != "admin" || !olga.Active || ann.Role != "agent" || ann.Active || ann.Email != "ann@shop.test" {
		t.Fatalf("roles after the migration: %+v %+v", olga, ann)
	}
	if !slices.Equal(olga.TeamIDs, []int64{5}) || !slices.Equal(ann.TeamIDs, []int64{5}) || len(ann.StoreIDs) != 0 {
		t.Fatalf("teams and stores after the migration: %+v %+v", olga, ann)
	}
	if s, err := db.SessionByHash(ctx, "h"); err != nil || s.AgentID != 2 {
		t.Fatalf("session after the migration: %+v, %v", s, err)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		ann.Role = "light" // a role the old CHECK refused
		if err := tx.UpdateAgent(ctx, ann); err != nil {
			return err
		}
		return tx.SetAgentStores(ctx, ann.ID, []int64{3})
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, err := db.Agent(ctx, 2); err != nil || a.Role != "light" || !slices.Equal(a.StoreIDs, []int64{3}) {
		t.Fatalf("agent with a new role and a store: %+v, %v", a, err)
	}
	var admins int
	err = db.Write(ctx, func(tx *Tx) (err error) { admins, err = tx.CountAdmins(ctx); return err })
	if err != nil || admins != 1 {
		t.Fatalf("admins: %d, %v", admins, err)
	}
}
