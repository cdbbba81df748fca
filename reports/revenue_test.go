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

// Who is credited and which orders count: the agent who resolved the
// ticket (not its assignee; the assignee then when the system resolved
// it); orders the desk kept before it knew the customer (a WhatsApp
// customer's phone written the shop's way, an email) count by the
// customer's identities; an order after two resolved tickets of one
// customer counts once, for the later, even in a report that leaves the
// later one out; filtered by agent, the tickets that agent resolved.
func TestRevenueCreditsResolverAndMatchesIdentities(t *testing.T) {
	d, _, _, rs := newReports(t)
	pt := "PT"
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoes", Country: &pt})
	if err != nil {
		t.Fatal(err)
	}
	ann := desktest.Agent(t, d, "ann@shop.test", "agent")
	bob := desktest.Agent(t, d, "bob@shop.test", "agent")
	soon := store.Now().Add(24 * time.Hour)
	// Orders that came (by webhook) before their customers wrote: kept
	// without a customer.
	keep := func(id, email, phone string, after time.Duration, total string) {
		if err := d.KeepOrders(ctx, st.ID, nil, []orders.Order{{ID: id, Number: "#" + id, Email: email, Phone: phone, Country: "PT",
			CreatedAt: soon.Add(after), Total: total, Currency: "EUR"}}); err != nil {
			t.Fatal(err)
		}
	}
	keep("101", "", "912 345 678", 0, "40.00")            // Rui's, by his phone
	keep("102", "LEA@example.pt", "", time.Hour, "15.00") // Lea's, by her email
	keep("103", "mia@example.pt", "", 2*time.Hour, "7.00")

	var last time.Time
	resolve := func(from store.Identity, channel string, assignee *store.Agent, by desk.Actor) *store.Ticket {
		in := desktest.Ingest(t, d, desk.Inbound{Channel: channel, StoreID: &st.ID, From: from, Subject: "Sizes?", Text: "Which size?"})
		if _, err := d.Assign(ctx, desk.AgentActor(assignee.ID), in.Ticket.ID, &assignee.ID); err != nil {
			t.Fatal(err)
		}
		for !store.Now().After(last) { // each resolution in its own millisecond
		}
		tk, err := d.SetStatus(ctx, by, in.Ticket.ID, "resolved")
		if err != nil {
			t.Fatal(err)
		}
		last = *tk.ResolvedAt
		return tk
	}
	resolve(store.Identity{Kind: "whatsapp", Value: "+351912345678"}, "whatsapp", ann, desk.AgentActor(bob.ID)) // Bob resolved Ann's
	resolve(desktest.Email("lea@example.pt"), "email", ann, desk.Actor{})                                       // the system: Ann's
	resolve(desktest.Email("mia@example.pt"), "email", ann, desk.AgentActor(ann.ID))
	resolve(desktest.Email("mia@example.pt"), "chat", bob, desk.AgentActor(bob.ID)) // Mia again: her order is this one's

	revenue := func(q reports.Query) (map[int64]float64, float64) {
		t.Helper()
		q.Range = "7d"
		r, err := rs.Report(ctx, "revenue", q)
		if err != nil {
			t.Fatal(err)
		}
		by := map[int64]float64{}
		for _, row := range r.Table("by_agent").Rows {
			by[row[0].(int64)] = row[6].(float64)
		}
		eur, _ := r.Totals["revenue"].(map[string]any)["EUR"].(float64)
		return by, eur
	}
	by, total := revenue(reports.Query{})
	if total != 62 || by[bob.ID] != 47 || by[ann.ID] != 15 {
		t.Fatalf("by agent %v, total %v; want Bob 40+7, Ann 15", by, total)
	}
	// Without the chat ticket, Mia's order is still not her email
	// ticket's: it came after the later resolution.
	if by, total := revenue(reports.Query{Filter: store.ReportFilter{Channel: "email"}}); total != 15 || by[ann.ID] != 15 {
		t.Fatalf("email only: %v %v", by, total)
	}
	if by, total := revenue(reports.Query{Filter: store.ReportFilter{AgentID: &bob.ID}}); total != 47 || len(by) != 1 {
		t.Fatalf("Bob's: %v %v", by, total)
	}
	if by, total := revenue(reports.Query{Filter: store.ReportFilter{AgentID: &ann.ID}}); total != 15 || len(by) != 1 {
		t.Fatalf("Ann's: %v %v", by, total)
	}
}
