package orderact_test

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/netguard"
	"onedesk/orderact"
	"onedesk/orders"
	"onedesk/orders/orderstest"
	"onedesk/store"
)

func TestMain(m *testing.M) {
	netguard.AllowPrivateNetworks(true) // the stand-in shops listen on 127.0.0.1
	os.Exit(desktest.Main(m))
}

var ctx = context.Background()

func ptr[T any](v T) *T { return &v }

// setup is a desk with a Shopify store, a ticket of its customer, and
// agents of each kind.
func setup(t *testing.T) (*desk.Desk, *store.DB, *orderstest.Shopify, int64) {
	t.Helper()
	d, db := desktest.New(t)
	shop := orderstest.NewShopify(t, "shpat_x", &orderstest.ShopifyOrder{ID: 5501, Name: "#1001", Email: "rui@example.pt",
		Currency: "EUR", Shipping: 4.90, CreatedAt: time.Now().Add(-48 * time.Hour), Country: "PT", Tags: []string{"vip"},
		Lines: []orderstest.ShopifyLine{{ID: 1, Variant: 11, Title: "Runner 42", Quantity: 1, Price: 45}}})
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoes", Orders: &desk.OrderInput{ShopifyDomain: shop.URL, ShopifyToken: ptr("shpat_x")}})
	if err != nil {
		t.Fatal(err)
	}
	in := desktest.Ingest(t, d, desk.Inbound{StoreID: &st.ID, From: desktest.Email("rui@example.pt"), Subject: "Wrong size", Text: "Order #1001 is too small"})
	return d, db, shop, in.Ticket.ID
}

// An order action needs the permission (a supervisor's, or granted to an
// agent), is done once per key however often it is sent (a double
// click, at once), is written on the ticket with who and what, and a
// refusal keeps Shopify's sentence.
func TestOrderActionOnceWithPermission(t *testing.T) {
	d, db, shop, ticket := setup(t)
	acts := orderact.New(d, desktest.Log())
	agent := desktest.Agent(t, d, "agent@shop.test", "agent")
	super := desktest.Agent(t, d, "super@shop.test", "supervisor")

	if _, err := acts.Do(ctx, ticket, agent.ID, orders.ActRefund, nil); !errors.Is(err, orderact.ErrNotAllowed) {
		t.Fatalf("an agent without the permission: %v", err)
	}
	list, err := acts.Available(ctx, ticket)
	if err != nil || len(list) != 6 {
		t.Fatalf("available %v %v", list, err)
	}

	pv, err := acts.Preview(ctx, orderact.Request{TicketID: ticket, AgentID: super.ID, Action: orders.ActRefund, Params: orders.Params{Shipping: true}})
	if err != nil || pv.Amount != "4.90" || pv.Order != "#1001" || pv.Key == "" {
		t.Fatalf("preview %+v %v", pv, err)
	}
	// A double click: two requests with the confirmation's key at once.
	var wg sync.WaitGroup
	results := make([]orders.Result, 2)
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i], errs[i] = acts.Do(ctx, ticket, super.ID, orders.ActRefund, map[string]any{"order": "#1001", "key": pv.Key, "shipping": true})
		}()
	}
	wg.Wait()
	refunds := 0
	for _, c := range shop.Calls() {
		if c.Operation == "Refund" {
			refunds++
		}
	}
	if errs[0] != nil || errs[1] != nil || refunds != 1 || shop.Order("#1001").Refunded != 4.90 || results[0].ID != results[1].ID ||
		results[0].Repeat == results[1].Repeat {
		t.Fatalf("double click: %d refunds, %+v %+v %v %v", refunds, results[0], results[1], errs[0], errs[1])
	}
	done := results[0]
	if done.Repeat {
		done = results[1]
	}
	if done.Status != "done" || done.Outcome == nil || done.Outcome.Amount != "4.90" || done.Outcome.Currency != "EUR" {
		t.Fatalf("result %+v", done)
	}

	// Granted to the agent: now they may, and Shopify says no.
	if _, err := d.UpdateAgent(ctx, agent.ID, desk.AgentInput{Grants: &[]string{desk.PermOrderActions}}); err != nil {
		t.Fatal(err)
	}
	res, err := acts.Do(ctx, ticket, agent.ID, orders.ActRefund, map[string]any{"amount": "60.00"})
	if err != nil || res.Status != "refused" || res.Message != "Refund amount 60.00 EUR is greater than net payment received 45.00 EUR" {
		t.Fatalf("refused refund: %+v %v", res, err)
	}

	evs := desktest.TicketEvents(t, db, ticket, store.EventOrderAction)
	if len(evs) != 2 {
		t.Fatalf("%d order_action events", len(evs))
	}
	var first, second store.OrderActionData
	_ = json.Unmarshal(evs[0].Data, &first)
	_ = json.Unmarshal(evs[1].Data, &second)
	if evs[0].Actor != desk.AgentActor(super.ID).String() || first.Status != "done" || first.Amount != "4.90" || first.Order != "#1001" ||
		evs[1].Actor != desk.AgentActor(agent.ID).String() || second.Status != "refused" || second.Message != res.Message {
		t.Fatalf("events %+v %+v / %+v %+v", evs[0], first, evs[1], second)
	}
	hist, err := acts.History(ctx, ticket)
	if err != nil || len(hist) != 2 || hist[0].Status != "refused" || hist[1].Status != "done" {
		t.Fatalf("history %+v %v", hist, err)
	}
	// A choice the platform cannot take never reaches it.
	if _, err := acts.Do(ctx, ticket, super.ID, orders.ActCancel, map[string]any{"reason": "boredom"}); desktest.FieldOf(err) != "reason" {
		t.Fatalf("bad reason: %v", err)
	}
}

// Looked-up orders are kept in shop_orders for rules and reports, with
// the customer whose address they carry.
func TestLookupKeepsOrders(t *testing.T) {
	d, db, _, ticket := setup(t)
	if _, err := d.TicketOrders(ctx, ticket); err != nil {
		t.Fatal(err)
	}
	tk := desktest.Ticket(t, db, ticket)
	var o *store.ShopOrder
	err := db.Write(ctx, func(tx *store.Tx) error {
		var err error
		o, err = tx.LatestShopOrder(ctx, tk.CustomerID, tk.StoreID)
		return err
	})
	if err != nil || o.Number != "#1001" || o.Total != 49.90 || o.Financial != "paid" || o.Fulfillment != "unfulfilled" ||
		o.Country != "PT" || len(o.Tags) != 1 || o.Tags[0] != "vip" {
		t.Fatalf("kept order %+v %v", o, err)
	}
}
