package ui_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"onedesk/orders/orderstest"
	"onedesk/store"
	"onedesk/ui"
)

// Order actions move money: an admin may grant them to an agent, never
// to a light agent (who never writes to customers). Giving it to a light
// agent is refused with the field; an agent made light loses it; and a
// grant a light agent holds from before (written in the database by an
// older version) counts for nothing when they act.
func TestGrantOrderActionsOnlyToRolesThatMayHold(t *testing.T) {
	shop := orderstest.NewShopify(t, "shpat_x", shopOrder())
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	_, tk := shopTicket(t, admin, shop)

	if _, field := admin.must(400, "POST", "/api/agents", map[string]any{"email": "lee@shop.test", "name": "Lee", "role": "light",
		"password": "12345678", "grants": []string{"order_actions"}}).err(t); field != "grants" {
		t.Fatalf("a light agent created with the grant: field %q", field)
	}
	light := e.member(admin, "lee@shop.test", "light", nil)
	var lee struct{ Agent store.Agent }
	light.must(200, "GET", "/api/me", nil).json(t, &lee)
	if _, field := admin.must(400, "PATCH", fmt.Sprintf("/api/agents/%d", lee.Agent.ID), map[string]any{"grants": []string{"order_actions"}}).err(t); field != "grants" {
		t.Fatalf("granted to a light agent: field %q", field)
	}

	// An agent with the grant, made light: the grant goes.
	ann := e.agent(admin, "ann@shop.test")
	var me struct {
		Agent       store.Agent
		Permissions []string
	}
	ann.must(200, "GET", "/api/me", nil).json(t, &me)
	admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", me.Agent.ID), map[string]any{"grants": []string{"order_actions"}})
	refund := map[string]any{"order": "#1001", "action": "refund", "params": map[string]any{"shipping": true}}
	ann.must(200, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), refund)
	var changed store.Agent
	admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", me.Agent.ID), map[string]any{"role": "light"}).json(t, &changed)
	if len(changed.Grants) != 0 {
		t.Fatalf("made light, the agent keeps %v", changed.Grants)
	}
	ann = e.login("ann@shop.test", "12345678")
	ann.must(200, "GET", "/api/me", nil).json(t, &me)
	if slices.Contains(me.Permissions, "order_actions") {
		t.Fatalf("a light agent's permissions: %v", me.Permissions)
	}
	ann.must(403, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), refund)

	// A light agent holding the grant from before may not act either.
	err := e.db.Write(context.Background(), func(tx *store.Tx) error {
		return tx.SetAgentGrants(context.Background(), lee.Agent.ID, []string{"order_actions"})
	})
	if err != nil {
		t.Fatal(err)
	}
	light = e.login("lee@shop.test", "12345678")
	light.must(200, "GET", "/api/me", nil).json(t, &me)
	if slices.Contains(me.Permissions, "order_actions") {
		t.Fatalf("a light agent with an old grant: %v", me.Permissions)
	}
	light.must(403, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), refund)
	refund["key"] = "old-grant-key-0001"
	light.must(403, "POST", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID), refund)
	if shop.Count("Refund") != 0 {
		t.Fatal("a refund reached the shop")
	}
}
