package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestSocialTicketUsesIndex guards the read every social message makes to
// find its chat's ticket: a scan would slow each message down with every
// ticket stored.
func TestSocialTicketUsesIndex(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var plan string
	rows, err := db.r.Query("EXPLAIN QUERY PLAN "+socialTicket, 1, "42")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan += detail + "\n"
	}
	if !strings.Contains(plan, "social_threads_chat") || strings.Contains(plan, "TEMP B-TREE") {
		t.Fatalf("the chat's ticket is not read off social_threads_chat:\n%s", plan)
	}
}
