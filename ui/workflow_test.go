package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/ui"
)

// Rules over the API: refused with the part at fault, applied to a ticket
// created through the API, changed and removed.
func TestRulesAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var team struct{ ID int64 }
	admin.must(201, "POST", "/api/teams", map[string]any{"name": "Billing"}).json(t, &team)

	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"name": "x", "trigger": "created"}, "actions"},
		{map[string]any{"name": "x", "trigger": "created", "actions": []any{map[string]any{"type": "set_team", "value": 999}}}, "actions.0.value"},
		{map[string]any{"name": "x", "trigger": "created", "conditions": []any{map[string]any{"field": "subject", "op": "near", "value": "x"}},
			"actions": []any{map[string]any{"type": "set_priority", "value": "high"}}}, "conditions.0.op"},
		{map[string]any{"name": "x", "trigger": "created", "colour": "red"}, "colour"},
	} {
		if _, field := admin.must(400, "POST", "/api/rules", c.body).err(t); field != c.field {
			t.Errorf("%v: field %q, want %q", c.body, field, c.field)
		}
	}
	var rule struct {
		ID      int64
		Enabled bool
	}
	admin.must(201, "POST", "/api/rules", map[string]any{
		"name": "Invoices to billing", "trigger": "created",
		"conditions": []any{map[string]any{"field": "subject", "op": "contains", "value": "invoice"}},
		"actions": []any{map[string]any{"type": "set_team", "value": team.ID}, map[string]any{"type": "add_tags", "value": []string{"billing"}},
			map[string]any{"type": "add_note", "value": "Check the invoice number first."}},
	}).json(t, &rule)
	if !rule.Enabled {
		t.Fatal("a new rule is enabled")
	}
	api := admin.apiClient()
	tk := api.newTicket("Invoice missing", "carla@shop.test")
	var got ticketJSON
	api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.TeamID == nil || *got.TeamID != team.ID || strings.Join(got.Tags, ",") != "billing" || got.Messages[len(got.Messages)-1].Kind != "note" {
		t.Fatalf("ticket: %+v", got)
	}
	// Switched off, it does nothing; an agent cannot change rules.
	admin.must(200, "PATCH", fmt.Sprintf("/api/rules/%d", rule.ID), map[string]any{"enabled": false})
	tk = api.newTicket("Invoice again", "carla@shop.test")
	api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.TeamID != nil {
		t.Fatalf("a disabled rule acted: %+v", got)
	}
	agent := e.agent(admin, "agent@desk.test")
	agent.must(403, "PATCH", fmt.Sprintf("/api/rules/%d", rule.ID), map[string]any{"enabled": true})
	var list struct{ Rules []map[string]any }
	agent.must(200, "GET", "/api/rules", nil).json(t, &list)
	if len(list.Rules) != 1 || list.Rules[0]["enabled"] != false {
		t.Fatalf("rules: %+v", list)
	}
	admin.must(204, "DELETE", fmt.Sprintf("/api/rules/%d", rule.ID), nil)
	admin.must(404, "GET", fmt.Sprintf("/api/rules/%d", rule.ID), nil)
}

// Saved replies: scoped by store, filled for a ticket (missing values
// become empty text), counted.
func TestSavedRepliesAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var shoes, hats struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoes"}).json(t, &shoes)
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Hats"}).json(t, &hats)
	api := admin.apiClient()
	var reply struct{ ID int64 }
	api.must(201, "POST", "/api/saved-replies", map[string]any{"title": "Thanks",
		"body": "Hi {{customer.first_name}}, thanks for ticket {{ticket.id}} at {{store.name}}. Order: {{order.number}}. {{agent.first_name}} {{unknown.thing}}"}).json(t, &reply)
	api.must(201, "POST", "/api/saved-replies", map[string]any{"title": "Shoe sizes", "body": "Our sizes run small.", "store_id": shoes.ID})
	api.must(201, "POST", "/api/saved-replies", map[string]any{"title": "Hat care", "body": "Brush gently.", "store_id": hats.ID})
	if _, field := api.must(400, "POST", "/api/saved-replies", map[string]any{"title": "", "body": "x"}).err(t); field != "title" {
		t.Fatalf("field %q", field)
	}
	if _, field := api.must(400, "POST", "/api/saved-replies", map[string]any{"title": "x", "body": "x", "store_id": 99}).err(t); field != "store_id" {
		t.Fatalf("field %q", field)
	}

	var tk ticketJSON
	api.must(201, "POST", "/api/tickets", map[string]any{"subject": "Size?", "body": "Do they run small?", "store_id": shoes.ID,
		"customer": map[string]string{"email": "ana@x.test", "name": "Ana Lima"}}).json(t, &tk)
	var list struct {
		SavedReplies []struct {
			Title string
			Uses  int
		} `json:"saved_replies"`
	}
	api.must(200, "GET", fmt.Sprintf("/api/saved-replies?ticket_id=%d", tk.ID), nil).json(t, &list)
	var titles []string
	for _, r := range list.SavedReplies {
		titles = append(titles, r.Title)
	}
	if strings.Join(titles, ",") != "Shoe sizes,Thanks" {
		t.Fatalf("for a Shoes ticket: %v", titles)
	}
	var out struct{ Body string }
	api.must(200, "POST", fmt.Sprintf("/api/saved-replies/%d/render", reply.ID), map[string]any{"ticket_id": tk.ID}).json(t, &out)
	want := fmt.Sprintf("Hi Ana, thanks for ticket %d at Shoes. Order: . Olga {{unknown.thing}}", tk.ID)
	if out.Body != want {
		t.Fatalf("rendered %q, want %q", out.Body, want)
	}
	if _, field := api.must(400, "POST", fmt.Sprintf("/api/saved-replies/%d/render", reply.ID), map[string]any{"ticket_id": 999}).err(t); field != "ticket_id" {
		t.Fatalf("field %q", field)
	}
	api.must(200, "GET", "/api/saved-replies", nil).json(t, &list)
	if len(list.SavedReplies) != 3 || list.SavedReplies[0].Title != "Thanks" || list.SavedReplies[0].Uses != 1 {
		t.Fatalf("all, most used first: %+v", list)
	}
	api.must(200, "PATCH", fmt.Sprintf("/api/saved-replies/%d", reply.ID), map[string]any{"title": "Thank you"})
	api.must(204, "DELETE", fmt.Sprintf("/api/saved-replies/%d", reply.ID), nil)
	api.must(404, "POST", fmt.Sprintf("/api/saved-replies/%d/render", reply.ID), map[string]any{"ticket_id": tk.ID})
}

// A rule's notification reaches the agent it names, and no one else.
func TestRuleNotificationsReachOnlyTheirAgents(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	var me struct{ Agent struct{ ID int64 } }
	ann.must(200, "GET", "/api/me", nil).json(t, &me)
	admin.must(201, "POST", "/api/rules", map[string]any{"name": "Tell Ann", "trigger": "created",
		"actions": []any{map[string]any{"type": "notify", "value": me.Agent.ID}}})

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/agent/ws"
	frames := func(c *client) <-chan map[string]any {
		conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: c.http})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		out := make(chan map[string]any, 100)
		go func() {
			for {
				_, b, err := conn.Read(ctx)
				if err != nil {
					close(out)
					return
				}
				var v map[string]any
				json.Unmarshal(b, &v)
				out <- v
			}
		}()
		if hello := <-out; hello["type"] != "hello" {
			t.Fatalf("first frame %v", hello)
		}
		return out
	}
	annFrames, ownerFrames := frames(ann), frames(admin)
	tk := admin.apiClient().newTicket("Where is my parcel?", "pat@shop.test")
	// Each sees the new ticket's frames; only Ann gets the notification,
	// which follows them once the rule's work is committed.
	seen := func(ch <-chan map[string]any, what string) (notified bool) {
		ruled := false
		for {
			select {
			case v := <-ch:
				switch v["type"] {
				case "notification":
					n := v["notification"].(map[string]any)
					if n["by"] != "Tell Ann" || v["ticket_id"].(float64) != float64(tk.ID) {
						t.Fatalf("%s: notification %v", what, v)
					}
					notified = true
				case "event":
					ruled = ruled || v["event"].(map[string]any)["type"] == "rule_applied"
				}
			case <-time.After(500 * time.Millisecond):
				if !ruled {
					t.Fatalf("%s: no rule event", what)
				}
				return notified
			}
		}
	}
	if !seen(annFrames, "Ann") {
		t.Fatal("Ann was not notified")
	}
	if seen(ownerFrames, "the owner") {
		t.Fatal("the owner got Ann's notification")
	}
}
