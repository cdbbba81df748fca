package orderact_test

import (
	"errors"
	"strings"
	"testing"

	"onedesk/desk/desktest"
	"onedesk/macros"
	"onedesk/orderact"
	"onedesk/orders"
	"onedesk/store"
)

// A macro naming an order action first shows what it does in money on
// the customer's order and sends nothing; confirmed with the preview's
// token, the refund reaches the shop once (a second confirmation does
// nothing more) and the macro's status follows. A confirmation whose
// money no longer holds is asked again; a refusal is the shop's sentence
// and stops the macro's other steps.
func TestMacroRunsOrderAction(t *testing.T) {
	d, db, shop, ticket := setup(t)
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
	_, err = svc.Apply(ctx, super, refund.ID, ticket, "")
	var c *macros.Confirmation
	if !errors.As(err, &c) {
		t.Fatalf("unconfirmed: %v", err)
	}
	pv := c.Preview.(*orders.Preview)
	if pv.Amount != "4.90" || pv.Currency != "EUR" || pv.Order != "#1001" || pv.Maximum != "49.90" || shop.Count("Refund") != 0 {
		t.Fatalf("preview %+v, %d refunds", pv, shop.Count("Refund"))
	}
	if desktest.Ticket(t, db, ticket).Status == "resolved" {
		t.Fatal("the status changed before the confirmation")
	}
	// A forged or stale token is asked again, never run.
	if _, err := svc.Apply(ctx, super, refund.ID, ticket, pv.Key+".0000000000000000"); !errors.As(err, &c) || !c.Changed {
		t.Fatalf("a bad signature: %v", err)
	}
	got, err := svc.Apply(ctx, super, refund.ID, ticket, c.Token)
	if err != nil || got.OrderError != "" || !strings.HasPrefix(got.OrderResult, "#1001 4.90 EUR") {
		t.Fatalf("applied: %+v %v", got, err)
	}
	if shop.Order("#1001").Refunded != 4.90 || got.Ticket.Status != "resolved" || shop.Count("Refund") != 1 {
		t.Fatalf("refunded %v, status %s", shop.Order("#1001").Refunded, got.Ticket.Status)
	}
	again, err := svc.Apply(ctx, super, refund.ID, ticket, c.Token)
	if err != nil || !again.Repeat || shop.Count("Refund") != 1 {
		t.Fatalf("confirmed twice: %+v %v", again, err)
	}

	// The whole order: previewed at 45.00; a refund in between changes
	// it, so the first confirmation is asked again with the new money.
	whole, err := svc.Save(ctx, super, 0, store.Macro{Name: "Refund all", Reply: "Your refund is on its way.", SendReply: true,
		OrderAction: &store.MacroOrderAction{Name: orders.ActRefund}}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Apply(ctx, super, whole.ID, ticket, "")
	if !errors.As(err, &c) || c.Preview.(*orders.Preview).Amount != "45.00" {
		t.Fatalf("whole order preview: %v", err)
	}
	first := c.Token
	if _, err := orderact.New(d, desktest.Log()).Do(ctx, ticket, super.ID, orders.ActRefund, map[string]any{"amount": "10.00"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(ctx, super, whole.ID, ticket, first); !errors.As(err, &c) || !c.Changed || c.Preview.(*orders.Preview).Amount != "35.00" {
		t.Fatalf("money changed: %v", err)
	}

	// Refused by Shopify: its sentence, and no reply.
	over, err := svc.Save(ctx, super, 0, store.Macro{Name: "Refund too much", Reply: "Your refund is on its way.", SendReply: true, Status: "resolved",
		OrderAction: &store.MacroOrderAction{Name: orders.ActRefund, Params: map[string]any{"amount": "90.00"}}}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Apply(ctx, super, over.ID, ticket, "")
	if !errors.As(err, &c) {
		t.Fatalf("unconfirmed: %v", err)
	}
	got, err = svc.Apply(ctx, super, over.ID, ticket, c.Token)
	if err != nil || !got.Stopped || !strings.Contains(got.OrderError, "greater than net payment") || got.Sent != nil {
		t.Fatalf("a refused refund: %+v %v", got, err)
	}
	if shop.Order("#1001").Refunded != 14.90 {
		t.Fatalf("refunded %v after a refusal", shop.Order("#1001").Refunded)
	}
	msgs, err := db.Messages(ctx, ticket)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		if strings.Contains(m.Body, "on its way") {
			t.Fatal("the reply went out after a refusal")
		}
	}

	// An agent without the permission: refused before the preview.
	agent := desktest.Agent(t, d, "agent@shop.test", "agent")
	mine, err := svc.Save(ctx, agent, 0, store.Macro{Name: "Mine", OrderAction: &store.MacroOrderAction{Name: orders.ActResend}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(ctx, agent, mine.ID, ticket, ""); !errors.Is(err, macros.ErrOrderActionsNotAllowed) {
		t.Fatalf("without the permission: %v", err)
	}
}
