package rules_test

import (
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/orders"
	"onedesk/store"
)

// A rule on the customer's latest order (kept in the shop_orders table,
// read inside the ingest transaction): "unfulfilled for 5 days and the
// customer asks → priority high, team Shipping".
func TestRuleOnLatestOrder(t *testing.T) {
	d, db := newDesk(t)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoes"})
	if err != nil {
		t.Fatal(err)
	}
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Shipping"})
	if err != nil {
		t.Fatal(err)
	}
	saveRule(t, d, store.Rule{Name: "Late order", Trigger: "created", Conditions: []store.Condition{
		cond("order.fulfillment_status", "is", "Unfulfilled"), cond("order.days_since", "gt", 5.0),
		cond("order.total", "gt", 20.0), cond("order.tags", "not_contains", "wholesale"), cond("order.country", "is", "pt"),
	}, Actions: []store.Action{action("set_priority", "high"), action("set_team", float64(team.ID))}})
	if _, err := rulesOf(d).Save(ctx, 0, store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("set_priority", "high")},
		Conditions: []store.Condition{cond("order.total", "gt", "a lot")}}); fieldOf(err) != "conditions.0.value" {
		t.Fatalf("a total that is not a number: %v", err)
	}

	// Rui's order is a week old and unshipped; Ana's came yesterday.
	first := ingest(t, d, desk.Inbound{StoreID: &st.ID, From: email("rui@example.pt"), Subject: "Hello", Text: "Hi"})
	cust, err := db.Customer(ctx, first.Ticket.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.KeepOrders(ctx, st.ID, cust, []orders.Order{{ID: "gid://shopify/Order/1", Number: "#1001", Email: "rui@example.pt",
		CreatedAt: time.Now().Add(-7 * 24 * time.Hour), Total: "49.90", Currency: "EUR", Payment: "paid", Fulfillment: "unfulfilled", Country: "PT"}}); err != nil {
		t.Fatal(err)
	}
	if err := d.KeepOrders(ctx, st.ID, nil, []orders.Order{{ID: "gid://shopify/Order/2", Number: "#1002", Email: "ana@example.pt",
		CreatedAt: time.Now().Add(-24 * time.Hour), Total: "80.00", Currency: "EUR", Payment: "paid", Fulfillment: "unfulfilled", Country: "PT"}}); err != nil {
		t.Fatal(err)
	}
	late := ingest(t, d, desk.Inbound{StoreID: &st.ID, From: email("rui@example.pt"), Subject: "Where is my order?", Text: "Still nothing"})
	fresh := ingest(t, d, desk.Inbound{StoreID: &st.ID, From: email("ana@example.pt"), Subject: "Where is my order?", Text: "Hi"})
	if tk := ticket(t, db, late.Ticket.ID); tk.Priority != "high" || tk.TeamID == nil || *tk.TeamID != team.ID {
		t.Fatalf("the late order's ticket: priority %s team %v", tk.Priority, tk.TeamID)
	}
	if tk := ticket(t, db, fresh.Ticket.ID); tk.Priority == "high" || tk.TeamID != nil {
		t.Fatalf("a fresh order's ticket matched: %+v", tk)
	}
	if tk := ticket(t, db, first.Ticket.ID); tk.Priority == "high" {
		t.Fatal("a ticket from before the order was known matched")
	}
}
