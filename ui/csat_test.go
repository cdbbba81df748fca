package ui_test

import (
	"fmt"
	"testing"

	"onedesk/ui"
)

// The survey API on both engines: settings checked and kept, a ticket's
// surveys, the report, and who may change the settings.
func TestCSATAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	id := csatStore(t, admin, "shoe-shop")
	path := fmt.Sprintf("/api/stores/%d/csat", id)
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"delay_minutes": -1}, "delay_minutes"},
		{map[string]any{"questions": map[string]string{"xx": "?"}}, "questions"},
		{map[string]any{"questions": map[string]string{"pt": string(make([]byte, 301))}}, "questions.pt"},
	} {
		if _, field := admin.do("PUT", path, c.body).err(t); field != c.field {
			t.Errorf("%v: field %q, want %q", c.body, field, c.field)
		}
	}
	var got struct {
		Enabled   bool
		Delay     int `json:"delay_minutes"`
		Scale     string
		Questions map[string]string
	}
	admin.must(200, "PUT", path, map[string]any{"delay_minutes": 90, "questions": map[string]string{"pt": " Gostou? "}}).json(t, &got)
	if !got.Enabled || got.Delay != 90 || got.Scale != "five" || got.Questions["pt"] != "Gostou?" {
		t.Errorf("absent keys kept, the rest saved: %+v", got)
	}
	admin.must(404, "GET", "/api/stores/999/csat", nil)
	agent := e.agent(admin, "ann@shop.test")
	agent.must(403, "PUT", path, map[string]any{"enabled": false})

	tk := admin.newTicket("Hello", "carla@example.test")
	var list []any
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/csat", tk.ID), nil).json(t, &list)
	if len(list) != 0 {
		t.Errorf("surveys of a new ticket: %v", list)
	}
	var rep struct {
		Report string
		Totals map[string]any
		Tables []struct{ Name string }
	}
	admin.must(200, "GET", "/api/reports/csat?range=30d", nil).json(t, &rep)
	if rep.Report != "csat" || rep.Totals["surveys_sent"] != float64(0) || len(rep.Tables) != 6 {
		t.Errorf("report %+v", rep)
	}
}
