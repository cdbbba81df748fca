package orderact_test

import (
	"strings"
	"testing"

	"onedesk/desk/desktest"
	"onedesk/macros"
	"onedesk/orderact"
	"onedesk/orders"
	"onedesk/store"
)

// A macro naming an order action does it on the customer's order when
// applied (the refund reaches the shop once), and a refusal is the shop's
// sentence on the macro's result, with the ticket's other changes made.
func TestMacroRunsOrderAction(t *testing.T) {
	d, _, shop, ticket := setup(t)
	svc := macros.New(d, desktest.Log())
	svc.SetOrderActions(orderact.Macros{S: orderact.New(d, desktest.Log())})
	super := desktest.Agent(t, d, "super@shop.test", "supervisor")

	var offered []string
	for _, a := range svc.Available() {
		offered = append(offered, a.Name)
	}
	if len(offered) != 5 || offered[0] != orders.ActRefund {
		t.Fatalf("actions offered to macros: %v", offered)
	}
	refund, err := svc.Save(ctx, super, 0, store.Macro{Name: "Refund shipping", Status: "resolved",
		OrderAction: &store.MacroOrderAction{Name: orders.ActRefund, Params: map[string]any{"amount": "4.90", "restock": "no", "note": "macro"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err := svc.Apply(ctx, super, refund.ID, ticket)
	if err != nil || got.OrderError != "" || !strings.HasPrefix(got.OrderResult, "#1001 4.90 EUR") {
		t.Fatalf("applied: %+v %v", got, err)
	}
	if shop.Order("#1001").Refunded != 4.90 || got.Ticket.Status != "resolved" {
		t.Fatalf("refunded %v, status %s", shop.Order("#1001").Refunded, got.Ticket.Status)
	}

	over, err := svc.Save(ctx, super, 0, store.Macro{Name: "Refund too much",
		OrderAction: &store.MacroOrderAction{Name: orders.ActRefund, Params: map[string]any{"amount": "90.00"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	got, err = svc.Apply(ctx, super, over.ID, ticket)
	if err != nil || !strings.Contains(got.OrderError, "greater than net payment") || got.OrderResult != "" {
		t.Fatalf("a refused refund: %+v %v", got, err)
	}
	if shop.Order("#1001").Refunded != 4.90 {
		t.Fatalf("refunded %v after a refusal", shop.Order("#1001").Refunded)
	}
}
