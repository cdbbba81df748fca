package ui_test

import (
	"fmt"
	"testing"
	"time"

	"onedesk/ui"
)

// The views' unread counts: a new ticket counts in its views until the
// agent opens it, and a new customer message counts it again.
func TestUnreadCountsOnViews(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	api := admin.apiClient()
	counts := func() map[string]int {
		t.Helper()
		var r struct {
			Counts map[string]int
			Cap    int
		}
		admin.must(200, "GET", "/api/views/unread", nil).json(t, &r)
		if r.Cap != 100 {
			t.Fatalf("cap %d", r.Cap)
		}
		return r.Counts
	}
	if c := counts(); c["open"] != 0 || c["unassigned"] != 0 {
		t.Fatalf("an empty desk has unread tickets: %v", c)
	}
	tk := api.newTicket("Where is my parcel?", "ana@example.com")
	api.newTicket("Wrong size", "bo@example.com")
	c := counts()
	if c["open"] != 2 || c["unassigned"] != 2 || c["channel:api"] != 2 || c["mine"] != 0 || c["pending"] != 0 {
		t.Fatalf("after two new tickets: %v", c)
	}
	admin.must(204, "POST", fmt.Sprintf("/api/tickets/%d/read", tk.ID), nil)
	if c := counts(); c["open"] != 1 || c["channel:api"] != 1 {
		t.Fatalf("after opening one: %v", c)
	}
	// A read in the same millisecond as a message counts it as seen: let
	// the clock move on before the customer writes.
	for read := time.Now().UnixMilli(); time.Now().UnixMilli() <= read; {
		time.Sleep(100 * time.Microsecond)
	}
	api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "Any news?", "kind": "customer"})
	if c := counts(); c["open"] != 2 {
		t.Fatalf("after the customer wrote again: %v", c)
	}
	// An agent's reply does not make a ticket unread.
	admin.must(204, "POST", fmt.Sprintf("/api/tickets/%d/read", tk.ID), nil)
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "It left today."})
	if c := counts(); c["open"] != 1 {
		t.Fatalf("after a reply: %v", c)
	}
}
