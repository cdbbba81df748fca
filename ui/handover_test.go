package ui_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"onedesk/ui"
)

type meJSON struct {
	Agent struct{ ID int64 } `json:"agent"`
}

// The routes of bulk changes and handovers: who may call them, what they
// refuse and what they answer.
func TestBulkAndHandoverAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	var owner, annMe meJSON
	admin.must(200, "GET", "/api/me", nil).json(t, &owner)
	ann.must(200, "GET", "/api/me", nil).json(t, &annMe)
	var team struct{ ID int64 }
	admin.must(201, "POST", "/api/teams", map[string]any{"name": "Night"}).json(t, &team)

	var ids []int64
	for i := range 3 {
		tk := ann.newTicket(fmt.Sprintf("Order %d", i), fmt.Sprintf("c%d@shop.test", i))
		ann.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"assignee_id": annMe.Agent.ID, "tags": []string{"old"}})
		ids = append(ids, tk.ID)
	}

	// Bulk: one request, per-ticket results.
	var res struct {
		Updated []int64
		Failed  []struct {
			ID           int64
			Error, Field string
		}
	}
	ann.must(200, "POST", "/api/tickets/bulk", map[string]any{"ids": append(ids, 9999), "priority": "high", "add_tags": []string{"VIP"}, "remove_tags": []string{"old"}}).json(t, &res)
	if !slices.Equal(res.Updated, ids) || len(res.Failed) != 1 || res.Failed[0].ID != 9999 || res.Failed[0].Field != "ids" || res.Failed[0].Error != "ticket 9999 does not exist" {
		t.Fatalf("bulk: %+v", res)
	}
	var tk ticketJSON
	ann.must(200, "GET", fmt.Sprintf("/api/tickets/%d", ids[1]), nil).json(t, &tk)
	if tk.Priority != "high" || strings.Join(tk.Tags, ",") != "vip" {
		t.Fatalf("after bulk: %+v", tk)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"priority": "high"}, "ids"},
		{map[string]any{"ids": "all", "priority": "high"}, "ids"},
		{map[string]any{"ids": ids}, ""},
		{map[string]any{"ids": ids, "colour": "red"}, "colour"},
		{map[string]any{"ids": ids, "add_tags": "vip"}, "add_tags"},
		{map[string]any{"ids": make([]int64, 501), "status": "open"}, "ids"},
	} {
		if _, field := ann.must(400, "POST", "/api/tickets/bulk", c.body).err(t); field != c.field {
			t.Errorf("%v: field %q, want %q", c.body, field, c.field)
		}
	}

	// Handover: the count, refusals with their field, the move.
	var count struct{ Tickets int }
	ann.must(200, "GET", "/api/me/handover", nil).json(t, &count)
	if count.Tickets != 3 {
		t.Fatalf("count %d", count.Tickets)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"note": "bye"}, "assignee_id"},
		{map[string]any{"assignee_id": annMe.Agent.ID}, "assignee_id"},
		{map[string]any{"team_id": 9999}, "team_id"},
		{map[string]any{"team_id": "night"}, "team_id"},
	} {
		if _, field := ann.must(400, "POST", "/api/me/handover", c.body).err(t); field != c.field {
			t.Errorf("%v: field %q, want %q", c.body, field, c.field)
		}
	}
	ann.must(403, "POST", fmt.Sprintf("/api/agents/%d/handover", owner.Agent.ID), map[string]any{"team_id": team.ID})
	ann.must(403, "GET", fmt.Sprintf("/api/agents/%d/handover", owner.Agent.ID), nil)
	admin.must(404, "POST", "/api/agents/9999/handover", map[string]any{"team_id": team.ID})

	// An admin hands over one of Ann's tickets' worth: first she resolves one.
	ann.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", ids[2]), map[string]any{"status": "resolved"})
	admin.must(200, "GET", fmt.Sprintf("/api/agents/%d/handover", annMe.Agent.ID), nil).json(t, &count)
	if count.Tickets != 2 {
		t.Fatalf("admin's count %d", count.Tickets)
	}
	var moved struct {
		Moved     int
		TicketIDs []int64 `json:"ticket_ids"`
	}
	admin.must(200, "POST", fmt.Sprintf("/api/agents/%d/handover", annMe.Agent.ID), map[string]any{"team_id": team.ID, "note": "Ann is off sick."}).json(t, &moved)
	if moved.Moved != 2 || !slices.Equal(moved.TicketIDs, ids[:2]) {
		t.Fatalf("moved %+v", moved)
	}
	ann.must(200, "GET", fmt.Sprintf("/api/tickets/%d", ids[0]), nil).json(t, &tk)
	last := tk.Events[len(tk.Events)-1]
	if tk.AssigneeID != nil || tk.TeamID == nil || *tk.TeamID != team.ID || last.Type != "transferred" ||
		last.Data["note"] != "Ann is off sick." || last.Actor != fmt.Sprint(owner.Agent.ID) {
		t.Fatalf("after the handover: %+v", tk)
	}
}
