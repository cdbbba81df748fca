package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestAssignedToDoUsesIndex guards the reads of a handover: an agent's
// open tickets are an index range, not a scan of every ticket.
func TestAssignedToDoUsesIndex(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{assignedToDo, countAssignedToDo} {
		rows, err := db.r.Query("EXPLAIN QUERY PLAN "+q, 1, 0, 200)
		if err != nil {
			t.Fatal(err)
		}
		var plan string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan += detail + "\n"
		}
		rows.Close()
		if !strings.Contains(plan, "USING COVERING INDEX tickets_assignee_") || strings.Contains(plan, "SCAN tickets") {
			t.Errorf("%s\nis not an index range:\n%s", q, plan)
		}
	}
}
