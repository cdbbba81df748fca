package ui_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// A server built without rules or an SLA clock (as a caller wiring only
// the chat does) plugs its own into the desk: /api/rules and
// /api/sla-policies answer, and what they save acts on new tickets.
func TestServerPlugsInRulesAndSLAWhenLeftOut(t *testing.T) {
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "onedesk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	srv := httptest.NewServer(ui.New(d, slog.New(slog.NewTextHandler(io.Discard, nil)), ui.Options{}).Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, srv: srv, desk: d, db: db}
	admin := e.admin()

	admin.must(200, "GET", "/api/rules", nil)
	admin.must(200, "GET", "/api/sla-policies", nil)
	admin.must(201, "POST", "/api/rules", map[string]any{"name": "Parcels first", "trigger": "created", "enabled": true,
		"conditions": []map[string]any{{"field": "subject", "op": "contains", "value": "parcel"}},
		"actions":    []map[string]any{{"type": "set_priority", "value": "urgent"}}})
	admin.must(201, "POST", "/api/sla-policies", map[string]any{"name": "Urgent", "business_hours": false,
		"targets": map[string]any{"urgent": map[string]any{"first_response": 3600}}})

	tk := admin.newTicket("Where is my parcel", "carla@shop.test")
	var got struct {
		Priority string
		SLA      *struct {
			FirstResponseDue string `json:"first_response_due"`
		} `json:"sla"`
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.Priority != "urgent" || got.SLA == nil || got.SLA.FirstResponseDue == "" {
		t.Fatalf("ticket priority %q, SLA %+v: the rule or the clock did not act", got.Priority, got.SLA)
	}
}
