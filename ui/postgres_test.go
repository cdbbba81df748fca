package ui_test

import (
	"fmt"
	"os"
	"testing"

	"onedesk/store/storetest"
	"onedesk/ui"
)

// TestMain stops the package's private PostgreSQL cluster, if a test
// started one.
func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestAPIOnPostgres runs the heart of the API on PostgreSQL: a ticket
// made, listed, answered and resolved. Search, which PostgreSQL does not
// have yet, says so plainly (501 on the q field) instead of failing.
func TestAPIOnPostgres(t *testing.T) {
	e := newEnvAt(t, storetest.PostgresURL(t), ui.Options{})
	admin := e.admin()
	tk := admin.newTicket("Where is my parcel?", "carla@shop.test")
	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?status=new,open", nil).json(t, &list)
	if len(list.Tickets) != 1 || list.Tickets[0].ID != tk.ID {
		t.Fatalf("inbox on PostgreSQL: %+v, want ticket %d", list.Tickets, tk.ID)
	}
	path := fmt.Sprintf("/api/tickets/%d", tk.ID)
	admin.must(201, "POST", path+"/messages", map[string]any{"body": "Checked with the courier.", "internal": true})
	admin.must(200, "PATCH", path, map[string]any{"status": "resolved"})
	var got ticketJSON
	admin.must(200, "GET", path, nil).json(t, &got)
	if got.Status != "resolved" {
		t.Fatalf("status on PostgreSQL: %q, want resolved", got.Status)
	}
	r := admin.must(501, "GET", "/api/tickets?q=parcel", nil)
	var body struct{ Error, Field string }
	r.json(t, &body)
	if body.Field != "q" || body.Error == "" {
		t.Fatalf("search on PostgreSQL answered %+v", body)
	}
}
