package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// TestReplyPartLookupsUseIndexes guards the reads a receipt or a failed
// status makes to find its reply by any part's id: a scan of the messages
// or of the parts would slow each receipt down with every reply sent.
func TestReplyPartLookupsUseIndexes(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	explain := func(q string, args ...any) string {
		t.Helper()
		rows, err := db.r.Query("EXPLAIN QUERY PLAN "+q, args...)
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
		return plan
	}
	receipt := explain("SELECT m.id FROM messages m WHERE m.channel = ? AND m.id IN "+namedReply+" AND m.kind = 'agent'",
		"whatsapp", "whatsapp", "wamid.x", "wamid.x")
	if !strings.Contains(receipt, "messages_external") || !strings.Contains(receipt, "reply_parts_external") || strings.Contains(receipt, "SCAN") {
		t.Fatalf("a receipt's reply is not read off messages_external and reply_parts_external:\n%s", receipt)
	}
	if plan := explain(replyByPart, "whatsapp", "wamid.x"); !strings.Contains(plan, "reply_parts_external") || strings.Contains(plan, "SCAN") {
		t.Fatalf("a part's reply is not read off reply_parts_external:\n%s", plan)
	}
}
