package ui_test

import (
	"fmt"
	"testing"
	"time"

	"onedesk/ui"
)

// The macro, snooze and scheduled-reply routes: who may manage which
// macros, what bad input is refused with, and what they answer.
func TestMacrosSnoozeScheduleAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	var macro struct {
		ID       int64
		Editable bool
	}
	admin.must(201, "POST", "/api/macros", map[string]any{"name": "Spam", "shared": true, "status": "closed", "add_tags": []string{"spam"}}).json(t, &macro)
	if msg, field := ann.must(400, "POST", "/api/macros", map[string]any{"name": "Mine", "shared": true, "status": "open"}).err(t); field != "shared" {
		t.Fatalf("an agent's shared macro: %s %s", field, msg)
	}
	if _, field := ann.must(400, "POST", "/api/macros", map[string]any{"name": "Empty"}).err(t); field != "reply" {
		t.Fatalf("a macro without steps: %s", field)
	}
	if _, field := ann.must(400, "POST", "/api/macros", map[string]any{"name": "x", "status": "asleep"}).err(t); field != "status" {
		t.Fatalf("a bad status: %s", field)
	}
	if _, field := ann.must(400, "POST", "/api/macros", map[string]any{"name": "x", "reply": "hi", "order_action": map[string]any{"name": "update_address"}}).err(t); field != "order_action" { // an address is the order panel's alone
		t.Fatalf("an order action the desk does not have: %s", field)
	}
	if _, field := ann.must(400, "POST", "/api/macros", map[string]any{"name": "x", "colour": "red"}).err(t); field != "colour" {
		t.Fatalf("an unknown field: %s", field)
	}
	ann.must(400, "PATCH", fmt.Sprintf("/api/macros/%d", macro.ID), map[string]any{"name": "Spam!", "status": "closed"})
	ann.must(400, "DELETE", fmt.Sprintf("/api/macros/%d", macro.ID), nil)
	var list struct {
		Macros []struct {
			ID       int64
			Editable bool
		}
		OrderActions []any `json:"order_actions"`
		CanShare     bool  `json:"can_share"`
	}
	ann.must(200, "GET", "/api/macros", nil).json(t, &list)
	if len(list.Macros) != 1 || list.Macros[0].Editable || list.CanShare || len(list.OrderActions) != 0 {
		t.Fatalf("ann's list: %+v", list)
	}

	a, b := admin.newTicket("WIN A PRIZE", "x1@spam.test"), admin.newTicket("Cheap watches", "x2@spam.test")
	var res struct {
		Updated []int64
		Failed  []struct{ ID int64 }
	}
	ann.must(200, "POST", fmt.Sprintf("/api/macros/%d/bulk", macro.ID), map[string]any{"ids": []int64{a.ID, b.ID}}).json(t, &res)
	if len(res.Updated) != 2 || len(res.Failed) != 0 {
		t.Fatalf("bulk: %+v", res)
	}
	ann.must(400, "POST", fmt.Sprintf("/api/macros/%d/bulk", macro.ID), map[string]any{"ids": []int64{}})
	ann.must(404, "POST", "/api/macros/999/apply", map[string]any{"ticket_id": a.ID})

	// Snooze: presets, a time, refusals; wake.
	c := admin.newTicket("Parcel late", "carla@shop.test")
	path := fmt.Sprintf("/api/tickets/%d/snooze", c.ID)
	if _, field := ann.must(400, "POST", path, map[string]any{"preset": "someday"}).err(t); field != "preset" {
		t.Fatalf("bad preset: %s", field)
	}
	if _, field := ann.must(400, "POST", path, map[string]any{"until": "tomorrow"}).err(t); field != "until" {
		t.Fatalf("bad time: %s", field)
	}
	if _, field := ann.must(400, "POST", path, map[string]any{"until": time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}).err(t); field != "until" {
		t.Fatalf("a past time: %s", field)
	}
	var tk ticketJSON
	ann.must(200, "POST", path, map[string]any{"preset": "tomorrow"}).json(t, &tk)
	if tk.Status != "pending" {
		t.Fatalf("snoozed: %s", tk.Status)
	}
	var page struct{ Tickets []ticketJSON }
	ann.must(200, "GET", "/api/tickets?status=pending&snoozed=true", nil).json(t, &page)
	if len(page.Tickets) != 1 || page.Tickets[0].ID != c.ID {
		t.Fatalf("snoozed view: %+v", page.Tickets)
	}
	ann.must(200, "DELETE", path, nil).json(t, &tk)
	if tk.Status != "open" {
		t.Fatalf("woken: %s", tk.Status)
	}

	// Scheduled replies: a time is needed in the future; a sent one cannot change.
	msgs := fmt.Sprintf("/api/tickets/%d/messages", c.ID)
	if _, field := ann.must(400, "POST", msgs, map[string]any{"body": "hi", "send_at": time.Now().Add(-time.Minute).UTC().Format(time.RFC3339)}).err(t); field != "send_at" {
		t.Fatalf("a past send_at: %s", field)
	}
	if _, field := ann.must(400, "POST", msgs, map[string]any{"body": "hi", "internal": true, "send_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}).err(t); field != "send_at" {
		t.Fatalf("a scheduled note: %s", field)
	}
	var m struct {
		ID          int64
		Delivery    string
		ScheduledAt *string `json:"scheduled_at"`
	}
	ann.must(201, "POST", msgs, map[string]any{"body": "Later", "send_at": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}).json(t, &m)
	if m.Delivery != "scheduled" || m.ScheduledAt == nil {
		t.Fatalf("scheduled: %+v", m)
	}
	if _, field := ann.must(400, "PATCH", fmt.Sprintf("/api/messages/%d", m.ID), map[string]any{"body": "Later", "send_at": ""}).err(t); field != "send_at" {
		t.Fatalf("an edit without a time: %s", field)
	}
	var now struct{ ID int64 }
	ann.must(201, "POST", msgs, map[string]any{"body": "Now"}).json(t, &now)
	if _, field := ann.must(400, "DELETE", fmt.Sprintf("/api/messages/%d", now.ID), nil).err(t); field != "message" {
		t.Fatalf("cancelling a reply not scheduled: %s", field)
	}
	ann.must(204, "DELETE", fmt.Sprintf("/api/messages/%d", m.ID), nil)
	ann.must(404, "DELETE", fmt.Sprintf("/api/messages/%d", m.ID), nil)
}
