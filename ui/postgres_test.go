package ui_test

import (
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"

	"onedesk/desk/desktest"
	"onedesk/store/storetest"
	"onedesk/ui"
)

// TestMain runs the package's tests on SQLite, then again on PostgreSQL
// (the browser tests run on SQLite only: see browser).
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

// TestAPIOnPostgres runs the heart of the API on PostgreSQL: a ticket
// made, listed, answered and resolved, and found by search (a word, a
// prefix while typing, the customer's address) with its passage marked.
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
	for _, q := range []string{"parcel", "parc", "courier", "carla@shop.test", "carla@sho"} {
		var found struct{ Tickets []ticketJSON }
		admin.must(200, "GET", "/api/tickets?q="+url.QueryEscape(q), nil).json(t, &found)
		if len(found.Tickets) != 1 || found.Tickets[0].ID != tk.ID {
			t.Fatalf("search %q on PostgreSQL: %+v, want ticket %d", q, found.Tickets, tk.ID)
		}
	}
	type part struct {
		Text string
		Hit  bool
	}
	var passage struct{ Tickets []struct{ Match []part } }
	admin.must(200, "GET", "/api/tickets?q=courier", nil).json(t, &passage)
	if len(passage.Tickets) != 1 || !slices.Contains(passage.Tickets[0].Match, part{"courier", true}) {
		t.Fatalf("passage on PostgreSQL: %+v", passage.Tickets)
	}
	for _, q := range []string{"carla", "carla@shop.test", "sho"} {
		var customers struct{ Customers []struct{ ID int64 } }
		admin.must(200, "GET", "/api/customers?q="+url.QueryEscape(q), nil).json(t, &customers)
		if len(customers.Customers) != 1 || customers.Customers[0].ID != got.CustomerID {
			t.Fatalf("customers %q on PostgreSQL: %+v, want %d", q, customers.Customers, got.CustomerID)
		}
	}
	var none struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?q=zeppelin", nil).json(t, &none)
	if len(none.Tickets) != 0 {
		t.Fatalf("search for a word nowhere: %+v", none.Tickets)
	}
}
