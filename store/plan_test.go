package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestExternalIDLookupUsesIndex guards the dedupe lookup every inbound
// message makes: were it a scan of all messages, imports would slow down
// with every message stored.
func TestExternalIDLookupUsesIndex(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+messageByExternalID, "email", "x@y")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	if !strings.Contains(plan, "messages_external") {
		t.Fatalf("the lookup does not use messages_external:\n%s", plan)
	}
}
