package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// The reads made for every message, receipt or handover must stay index
// lookups: a scan would slow each one down with every row stored. These
// tests read SQLite's plan of each.

// planDB is an empty database whose plans the tests read.
func planDB(t *testing.T) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "plan.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// queryPlan is SQLite's plan of q, a line per step.
func queryPlan(t *testing.T, db *DB, q string, args ...any) string {
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
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return plan
}

// The dedupe lookup every inbound message makes.
func TestExternalIDLookupUsesIndex(t *testing.T) {
	if plan := queryPlan(t, planDB(t), messageByExternalID, "email", "x@y"); !strings.Contains(plan, "messages_external") {
		t.Fatalf("the lookup does not use messages_external:\n%s", plan)
	}
}

// The reads of a handover: an agent's open tickets are an index range.
func TestAssignedToDoUsesIndex(t *testing.T) {
	db := planDB(t)
	for _, q := range []string{assignedToDo, countAssignedToDo} {
		plan := queryPlan(t, db, q, 1, 0, 200)
		if !strings.Contains(plan, "USING COVERING INDEX tickets_assignee_") || strings.Contains(plan, "SCAN tickets") {
			t.Errorf("%s\nis not an index range:\n%s", q, plan)
		}
	}
}

// The read every social message makes to find its chat's ticket.
func TestSocialTicketUsesIndex(t *testing.T) {
	if plan := queryPlan(t, planDB(t), socialTicket, 1, "42"); !strings.Contains(plan, "social_threads_chat") || strings.Contains(plan, "TEMP B-TREE") {
		t.Fatalf("the chat's ticket is not read off social_threads_chat:\n%s", plan)
	}
}

// The reads a receipt or a failed status makes to find its reply by any
// part's id.
func TestReplyPartLookupsUseIndexes(t *testing.T) {
	db := planDB(t)
	receipt := queryPlan(t, db, "SELECT m.id FROM messages m WHERE m.channel = ? AND m.id IN "+namedReply+" AND m.kind = 'agent'",
		"whatsapp", "whatsapp", "wamid.x", "wamid.x")
	if !strings.Contains(receipt, "messages_external") || !strings.Contains(receipt, "reply_parts_external") || strings.Contains(receipt, "SCAN") {
		t.Fatalf("a receipt's reply is not read off messages_external and reply_parts_external:\n%s", receipt)
	}
	if plan := queryPlan(t, db, replyByPart, "whatsapp", "wamid.x"); !strings.Contains(plan, "reply_parts_external") || strings.Contains(plan, "SCAN") {
		t.Fatalf("a part's reply is not read off reply_parts_external:\n%s", plan)
	}
}

// A search reads the match list in FTS5's own order and stops at a page;
// its other reads are lookups by ticket. A sort or a scan of tickets or
// messages here would cost every ticket stored.
func TestSearchUsesIndexes(t *testing.T) {
	db := planDB(t)
	for _, q := range []string{searchDesc, searchAsc} {
		plan := queryPlan(t, db, q, `"parcel"`, 1, 10)
		if !strings.Contains(plan, "VIRTUAL TABLE INDEX") || strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s\nis not read in the index's order:\n%s", q, plan)
		}
	}
	for _, c := range []struct{ q, index string }{
		{"SELECT t.id FROM tickets t WHERE t.id IN (1,2,3) AND t.status IN (?) AND t.store_id = ?", "SEARCH t USING"},
		{`SELECT ticket_id * 4294967296 + id % 4294967295 + 1, body FROM messages WHERE ticket_id IN (1,2)
			AND ticket_id * 4294967296 + id % 4294967295 + 1 IN (4294967297, 8589934594)`, "messages_ticket"},
		{"SELECT ticket_id * 4294967296, text FROM ticket_search_text WHERE ticket_id IN (1,2)", "INTEGER PRIMARY KEY"},
		// What the triggers read when a customer's name or identities change.
		{"SELECT ticket_id * 4294967296, text FROM ticket_search_text WHERE customer_id = 1", "tickets_customer"},
		{"SELECT id * 4294967296 FROM tickets WHERE customer_id = 1", "tickets_customer"},
		// Message rows: verify, the build, and the triggers on a message,
		// a new subject and a renamed customer.
		{"SELECT key, head, body FROM ticket_search_messages WHERE ticket_id IN (1,2) AND key IN (4294967297, 8589934594)", "messages_ticket"},
		{"SELECT key, head, text FROM ticket_search_messages WHERE ticket_id >= 1 AND ticket_id < 1000", "messages_ticket"},
		{"SELECT key, head, text FROM ticket_search_messages WHERE message_id = 1", "INTEGER PRIMARY KEY"},
		{"SELECT key, head, text FROM ticket_search_messages WHERE ticket_id = 1", "messages_ticket"},
		{"SELECT key, head, text FROM ticket_search_messages WHERE customer_id = 1", "tickets_customer"},
	} {
		var args []any
		if strings.Contains(c.q, "?") {
			args = []any{"open", 1}
		}
		plan := queryPlan(t, db, c.q, args...)
		if !strings.Contains(plan, c.index) || strings.Contains(plan, "SCAN t\n") || strings.Contains(plan, "SCAN tickets") || strings.Contains(plan, "SCAN messages") {
			t.Errorf("%s\ndoes not use %s:\n%s", c.q, c.index, plan)
		}
	}
}
