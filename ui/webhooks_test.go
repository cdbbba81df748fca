package ui_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"onedesk/ui"
	"onedesk/webhooks/webhookstest"
)

// Webhooks over the API: admins only, refused with the field at fault,
// the secret shown once, a test ping delivered and listed.
func TestWebhooksAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	agent := e.agent(admin, "ann@shop.test")

	recv := webhookstest.New(t)

	agent.must(403, "GET", "/api/webhooks", nil)
	agent.must(403, "POST", "/api/webhooks", map[string]any{"name": "x", "url": recv.URL})
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"url": recv.URL}, "name"},
		{map[string]any{"name": "Slack", "url": "javascript:alert(1)"}, "url"},
		{map[string]any{"name": "Slack", "url": recv.URL, "events": []string{"ticket.exploded"}}, "events"},
		{map[string]any{"name": "Slack", "url": recv.URL, "secret": "short"}, "secret"},
		{map[string]any{"name": "Slack", "url": recv.URL, "events": "ticket.created"}, "events"},
		{map[string]any{"name": "Slack", "url": recv.URL, "colour": "red"}, "colour"},
	} {
		if _, field := admin.must(400, "POST", "/api/webhooks", c.body).err(t); field != c.field {
			t.Errorf("%v: field %q, want %q", c.body, field, c.field)
		}
	}

	var w struct {
		ID         int64
		Name       string
		URL        string
		Events     []string
		Enabled    bool
		Secret     string
		LastStatus string `json:"last_status"`
	}
	r := admin.must(201, "POST", "/api/webhooks", map[string]any{"name": "Shop sync", "url": recv.URL + "/in",
		"events": []string{"ticket.created", "message.created"}})
	r.json(t, &w)
	if !w.Enabled || !strings.HasPrefix(w.Secret, "whsec_") || strings.Join(w.Events, ",") != "ticket.created,message.created" {
		t.Fatalf("created %s", r.body)
	}
	secret := w.Secret
	// Write-only from then on.
	for _, path := range []string{"/api/webhooks", fmt.Sprintf("/api/webhooks/%d", w.ID)} {
		if b := admin.must(200, "GET", path, nil).body; strings.Contains(string(b), secret) || strings.Contains(string(b), `"secret"`) {
			t.Errorf("%s shows the secret: %s", path, b)
		}
	}
	if b := admin.must(200, "PATCH", fmt.Sprintf("/api/webhooks/%d", w.ID), map[string]any{"name": "Shop", "secret": "another-secret-0123456789"}).body; strings.Contains(string(b), "secret") {
		t.Errorf("PATCH answers the secret it was given: %s", b)
	}
	r = admin.must(200, "PATCH", fmt.Sprintf("/api/webhooks/%d", w.ID), map[string]any{"rotate_secret": true})
	r.json(t, &w)
	if w.Secret == "" || w.Secret == secret || w.Name != "Shop" {
		t.Errorf("rotated: %s", r.body)
	}
	admin.must(404, "PATCH", "/api/webhooks/999", map[string]any{"name": "x"})

	// A test ping goes out with the dispatcher.
	var ping struct {
		ID     int64
		Event  string
		Status string
	}
	admin.must(202, "POST", fmt.Sprintf("/api/webhooks/%d/test", w.ID), nil).json(t, &ping)
	if ping.Event != "ping" || ping.Status != "queued" {
		t.Fatalf("ping %+v", ping)
	}
	if err := e.hooks.Deliver(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := recv.Lines(); len(got) != 1 || !strings.HasPrefix(got[0], fmt.Sprintf(`ping {"id":%d,"event":"ping"`, ping.ID)) {
		t.Errorf("receiver got %q", got)
	}
	var list struct {
		Deliveries []struct {
			ID           int64
			Event        string
			Status       string
			Attempts     int
			ResponseCode int `json:"response_code"`
			Error        string
		}
	}
	admin.must(200, "GET", fmt.Sprintf("/api/webhooks/%d/deliveries", w.ID), nil).json(t, &list)
	if len(list.Deliveries) != 1 || list.Deliveries[0].ID != ping.ID || list.Deliveries[0].Status != "delivered" ||
		list.Deliveries[0].Attempts != 1 || list.Deliveries[0].ResponseCode != 200 {
		t.Errorf("deliveries %+v", list)
	}
	admin.must(200, "GET", fmt.Sprintf("/api/webhooks/%d", w.ID), nil).json(t, &w)
	if w.LastStatus != "ok" {
		t.Errorf("last status %q", w.LastStatus)
	}

	// A rule names it; a rule naming none is refused.
	_, field := admin.must(400, "POST", "/api/rules", map[string]any{"name": "x", "trigger": "created",
		"actions": []any{map[string]any{"type": "webhook", "value": 999}}}).err(t)
	if field != "actions.0.value" {
		t.Errorf("rule with a missing webhook: field %q", field)
	}
	admin.must(201, "POST", "/api/rules", map[string]any{"name": "Tell the shop", "trigger": "created",
		"actions": []any{map[string]any{"type": "webhook", "value": w.ID}}})

	admin.must(204, "DELETE", fmt.Sprintf("/api/webhooks/%d", w.ID), nil)
	admin.must(404, "GET", fmt.Sprintf("/api/webhooks/%d", w.ID), nil)
	var all struct{ Webhooks []json.RawMessage }
	admin.must(200, "GET", "/api/webhooks", nil).json(t, &all)
	if len(all.Webhooks) != 0 {
		t.Errorf("after delete: %d webhooks", len(all.Webhooks))
	}
}
