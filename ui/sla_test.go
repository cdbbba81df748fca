package ui_test

import (
	"fmt"
	"testing"

	"onedesk/ui"
)

// SLA policies over the API: admins write them, agents read them, a
// ticket shows its due times and the list filters by them; teams take
// round robin with a cap.
func TestSLAPoliciesAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ana := e.agent(admin, "ana@shop.test")

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x"}, "targets"},
		{map[string]any{"name": "x", "targets": map[string]any{"urgent": map[string]any{"first_response": 30}}}, "targets.urgent.first_response"},
		{map[string]any{"name": "x", "targets": map[string]any{"asap": map[string]any{"first_response": 3600}}}, "targets"},
		{map[string]any{"name": "x", "channel": "pigeon", "targets": map[string]any{"urgent": map[string]any{"first_response": 3600}}}, "channel"},
		{map[string]any{"name": "x", "store_id": 42, "targets": map[string]any{"urgent": map[string]any{"first_response": 3600}}}, "store_id"},
	} {
		if _, field := admin.must(400, "POST", "/api/sla-policies", c.body).err(t); field != c.field {
			t.Errorf("%v: field %q, want %q", c.body, field, c.field)
		}
	}
	body := map[string]any{"name": "Standard", "business_hours": false,
		"targets": map[string]any{"urgent": map[string]any{"first_response": 3600, "resolution": 4 * 3600}}}
	ana.must(403, "POST", "/api/sla-policies", body)
	var policy struct {
		ID            int64
		Name          string
		Enabled       bool
		BusinessHours bool `json:"business_hours"`
	}
	admin.must(201, "POST", "/api/sla-policies", body).json(t, &policy)
	if !policy.Enabled || policy.BusinessHours {
		t.Fatalf("policy: %+v", policy)
	}
	admin.must(200, "PATCH", fmt.Sprintf("/api/sla-policies/%d", policy.ID), map[string]any{"name": "Urgent first"}).json(t, &policy)
	var list struct {
		Policies []struct{ ID int64 } `json:"sla_policies"`
	}
	ana.must(200, "GET", "/api/sla-policies", nil).json(t, &list)
	if len(list.Policies) != 1 || policy.Name != "Urgent first" {
		t.Fatalf("list %+v, policy %+v", list, policy)
	}

	// A normal ticket has no target; made urgent, it has its due times.
	tk := admin.newTicket("Where is my parcel", "carla@shop.test")
	var got struct {
		SLA *struct {
			PolicyID         int64    `json:"policy_id"`
			FirstResponseDue string   `json:"first_response_due"`
			Due              string   `json:"due"`
			Breached         []string `json:"breached"`
		} `json:"sla"`
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.SLA != nil {
		t.Fatalf("a normal ticket has SLA %+v", got.SLA)
	}
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"priority": "urgent"})
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.SLA == nil || got.SLA.PolicyID != policy.ID || got.SLA.Due == "" || got.SLA.Due != got.SLA.FirstResponseDue || len(got.SLA.Breached) != 0 {
		t.Fatalf("urgent ticket SLA: %+v", got.SLA)
	}
	var page struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?sla=breached", nil).json(t, &page)
	if len(page.Tickets) != 0 {
		t.Fatalf("breached already: %+v", page.Tickets)
	}
	if _, field := admin.must(400, "GET", "/api/tickets?sla=late", nil).err(t); field != "sla" {
		t.Fatalf("bad sla filter: field %q", field)
	}

	// Teams: round robin with a cap, checked.
	var team struct {
		ID         int64
		Assignment string
		MaxOpen    int `json:"max_open"`
	}
	admin.must(201, "POST", "/api/teams", map[string]any{"name": "Support", "assignment": "round_robin", "max_open": 3}).json(t, &team)
	if team.Assignment != "round_robin" || team.MaxOpen != 3 {
		t.Fatalf("team: %+v", team)
	}
	if _, field := admin.must(400, "PATCH", fmt.Sprintf("/api/teams/%d", team.ID), map[string]any{"assignment": "lottery"}).err(t); field != "assignment" {
		t.Fatalf("bad assignment: field %q", field)
	}
	if _, field := admin.must(400, "PATCH", fmt.Sprintf("/api/teams/%d", team.ID), map[string]any{"max_open": -1}).err(t); field != "max_open" {
		t.Fatalf("bad cap: field %q", field)
	}
	admin.must(200, "PATCH", fmt.Sprintf("/api/teams/%d", team.ID), map[string]any{"name": "Care"}).json(t, &team)
	if team.Assignment != "round_robin" || team.MaxOpen != 3 {
		t.Fatalf("a rename lost the assignment: %+v", team)
	}

	admin.must(204, "DELETE", fmt.Sprintf("/api/sla-policies/%d", policy.ID), nil)
	admin.must(404, "DELETE", fmt.Sprintf("/api/sla-policies/%d", policy.ID), nil)
}
