package ui_test

import (
	"fmt"
	"strings"
	"testing"

	"onedesk/orders/orderstest"
	"onedesk/ui"
)

// A macro with an order action through the API: 403 without the
// permission; the first apply is a 409 with the money and a token, and
// changes nothing; with the token it refunds once (the same token again
// does nothing more); a refusal is a 422 with Shopify's sentence and no
// reply; in bulk it is refused.
func TestMacroOrderActionAPI(t *testing.T) {
	shop := orderstest.NewShopify(t, "shpat_x", shopOrder())
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	_, tk := shopTicket(t, admin, shop)
	var ship, over struct{ ID int64 }
	admin.must(201, "POST", "/api/macros", map[string]any{"name": "Refund shipping", "shared": true, "reply": "Shipping refunded.",
		"send_reply": true, "status": "pending", "order_action": map[string]any{"name": "refund", "params": map[string]any{"shipping": "yes"}}}).json(t, &ship)
	admin.must(201, "POST", "/api/macros", map[string]any{"name": "Refund too much", "shared": true, "reply": "Your refund is on its way.",
		"send_reply": true, "order_action": map[string]any{"name": "refund", "params": map[string]any{"amount": "60.00"}}}).json(t, &over)
	refunds := func() int { return shop.Count("Refund") }
	apply := func(c *client, status int, id int64, confirm string) resp {
		body := map[string]any{"ticket_id": tk.ID}
		if confirm != "" {
			body["confirm"] = confirm
		}
		return c.must(status, "POST", fmt.Sprintf("/api/macros/%d/apply", id), body)
	}

	agent := e.agent(admin, "ann@shop.test")
	apply(agent, 403, ship.ID, "")

	var ask struct {
		NeedsConfirmation bool   `json:"needs_confirmation"`
		Field             string `json:"field"`
		Token             string `json:"token"`
		Changed           bool   `json:"changed"`
		Preview           struct {
			Action, Order, Amount, Currency string
		} `json:"preview"`
	}
	apply(admin, 409, ship.ID, "").json(t, &ask)
	if !ask.NeedsConfirmation || ask.Field != "confirm" || ask.Token == "" || ask.Preview.Action != "refund" || ask.Preview.Order != "#1001" ||
		ask.Preview.Amount != "4.90" || ask.Preview.Currency != "EUR" || refunds() != 0 {
		t.Fatalf("unconfirmed: %+v, %d refunds", ask, refunds())
	}
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.Status == "pending" || len(got.Messages) != 1 {
		t.Fatalf("unconfirmed, the ticket changed: %s, %d messages", got.Status, len(got.Messages))
	}
	var done struct {
		OrderResult string `json:"order_result"`
		Repeat      bool   `json:"repeat"`
		Sent        *struct{ Body string }
		Ticket      ticketJSON
	}
	apply(admin, 200, ship.ID, ask.Token).json(t, &done)
	if done.OrderResult != "#1001 4.90 EUR" || done.Sent == nil || done.Ticket.Status != "pending" || refunds() != 1 {
		t.Fatalf("confirmed: %+v, %d refunds", done, refunds())
	}
	done.Sent = nil
	apply(admin, 200, ship.ID, ask.Token).json(t, &done)
	if !done.Repeat || done.Sent != nil || refunds() != 1 {
		t.Fatalf("the same token again: %+v, %d refunds", done, refunds())
	}
	// A token of another preview is asked again.
	apply(admin, 409, ship.ID, strings.Split(ask.Token, ".")[0][:10]+"xyzxyzxyz.00").json(t, &ask)
	if !ask.Changed {
		t.Fatalf("a forged token: %+v", ask)
	}

	apply(admin, 409, over.ID, "").json(t, &ask)
	msg, field := apply(admin, 422, over.ID, ask.Token).err(t)
	if msg != "Refund amount 60.00 EUR is greater than net payment received 45.00 EUR" || field != "order_action" {
		t.Fatalf("refused: %q %q", msg, field)
	}
	body := string(admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).body)
	if strings.Contains(body, "on its way") || !strings.Contains(body, `"order_error":"Refund amount 60.00`) {
		t.Fatalf("after the refusal: %s", body)
	}
	if _, field := admin.must(400, "POST", fmt.Sprintf("/api/macros/%d/bulk", ship.ID), map[string]any{"ids": []int64{tk.ID}}).err(t); field != "macro" {
		t.Fatalf("in bulk: field %q", field)
	}
}
