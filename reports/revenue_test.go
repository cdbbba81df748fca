package reports_test

import (
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/orders"
	"onedesk/reports"
	"onedesk/store"
)

// Revenue after support: orders placed within N days after a ticket was
// resolved, each counted once (for the latest ticket before it), by the
// agent who had the ticket and by channel; cancelled and too-late orders
// do not count.
func TestRevenueAfterSupport(t *testing.T) {
	d, db, _, rs := newReports(t)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoes"})
	if err != nil {
		t.Fatal(err)
	}
	ann := desktest.Agent(t, d, "ann@shop.test", "agent")
	bob := desktest.Agent(t, d, "bob@shop.test", "agent")
	resolve := func(from, channel string, agent *store.Agent) *store.Ticket {
		in := desktest.Ingest(t, d, desk.Inbound{Channel: channel, StoreID: &st.ID, From: desktest.Email(from), Subject: "Sizes?", Text: "Which size?"})
		if _, err := d.Assign(ctx, desk.AgentActor(agent.ID), in.Ticket.ID, &agent.ID); err != nil {
			t.Fatal(err)
		}
		tk, err := d.SetStatus(ctx, desk.AgentActor(agent.ID), in.Ticket.ID, "resolved")
		if err != nil {
			t.Fatal(err)
		}
		return tk
	}
	rui := resolve("rui@example.pt", "email", ann)
	resolve("ana@example.pt", "email", bob)
	lea := resolve("lea@example.pt", "chat", bob)
	order := func(tk *store.Ticket, id string, after time.Duration, total string, cancelled bool) {
		c, err := db.Customer(ctx, tk.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		email := c.Identities[0].Value
		if err := d.KeepOrders(ctx, st.ID, c, []orders.Order{{ID: id, Number: "#" + id, Email: email, CreatedAt: tk.UpdatedAt.Add(after),
			Total: total, Currency: "EUR", Cancelled: cancelled}}); err != nil {
			t.Fatal(err)
		}
	}
	order(rui, "1", -time.Hour, "99.00", false)      // before the resolution: not counted
	order(rui, "2", 2*24*time.Hour, "49.90", false)  // counted for Ann
	order(rui, "3", 3*24*time.Hour, "10.00", true)   // cancelled
	order(rui, "4", 40*24*time.Hour, "70.00", false) // after 30 days
	order(lea, "5", 24*time.Hour, "25.50", false)    // counted for Bob, chat

	r, err := rs.Report(ctx, "revenue", reports.Query{Range: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	if r.Totals["resolved"] != int64(3) || r.Totals["orders"] != int64(2) || r.Totals["tickets_with_order"] != int64(2) ||
		r.Totals["revenue"].(map[string]any)["EUR"] != 75.40 {
		t.Fatalf("totals %v", r.Totals)
	}
	byAgent := r.Table("by_agent")
	want := map[int64][]any{ann.ID: {"EUR", int64(1), int64(1), int64(1), 49.90}, bob.ID: {"EUR", int64(2), int64(1), int64(1), 25.50}}
	for _, row := range byAgent.Rows {
		w := want[row[0].(int64)]
		for i, v := range w {
			if row[2+i] != v {
				t.Fatalf("by agent row %v, want %v", row, w)
			}
		}
	}
	if len(byAgent.Rows) != 2 {
		t.Fatalf("by agent %v", byAgent.Rows)
	}
	if ch := r.Table("by_channel"); len(ch.Rows) != 2 || ch.Rows[0][0] != "chat" || ch.Rows[0][5] != 25.50 || ch.Rows[1][0] != "email" || ch.Rows[1][5] != 49.90 {
		t.Fatalf("by channel %v", ch.Rows)
	}
	// 60 days: the late order counts too.
	if r, err = rs.Report(ctx, "revenue", reports.Query{Range: "7d", Days: 60}); err != nil || r.Totals["revenue"].(map[string]any)["EUR"] != 145.40 {
		t.Fatalf("60 days: %v %v", r.Totals, err)
	}
	if _, err := rs.Report(ctx, "revenue", reports.Query{Range: "7d", Days: 400}); desktest.FieldOf(err) != "days" {
		t.Fatalf("400 days: %v", err)
	}
}
