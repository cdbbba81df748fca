package store_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"

	"onedesk/store"
)

// Events written before payloads were types (as JSON-encoded maps, keys
// sorted) still read as their types, and the types write them back byte
// for byte.
func TestOldEventRowsReadAsTypes(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()

	seven, three := int64(7), int64(3)
	// What the map-based code stored for each type, as found in desks
	// today, and what it reads as.
	old := []struct {
		typ  string
		data string
		want store.EventData
	}{
		{"created", `{"channel":"email"}`, &store.CreatedData{Channel: "email"}},
		{"created", `{"channel":"chat","follow_up_of":7}`, &store.CreatedData{Channel: "chat", FollowUpOf: &seven}},
		{"replied", `{"message_id":5}`, &store.RepliedData{MessageID: 5}},
		{"replied", `{"message_id":5,"template":{"name":"hello","language":"en","params":["Ann"]}}`,
			&store.RepliedData{MessageID: 5, Template: &store.TemplateRef{Name: "hello", Language: "en", Params: []string{"Ann"}}}},
		{"noted", `{"mentions":[2,3],"message_id":6}`, &store.NotedData{Mentions: []int64{2, 3}, MessageID: 6}},
		{"assigned", `{"from":null,"note":"over to you","to":3}`, &store.AssignedData{Note: "over to you", To: &three}},
		{"assigned", `{"from":null,"on_reply":true,"to":3}`, &store.AssignedData{OnReply: true, To: &three}},
		{"assigned", `{"from":null,"round_robin":true,"to":3}`, &store.AssignedData{RoundRobin: true, To: &three}},
		{"transferred", `{"from":3,"to":null}`, &store.TransferredData{From: &three}},
		{"priority_changed", `{"from":"normal","to":"high"}`, &store.PriorityChangedData{From: "normal", To: "high"}},
		{"tags_changed", `{"from":null,"to":["vip"]}`, &store.TagsChangedData{To: []string{"vip"}}},
		{"status_changed", `{"from":"open","to":"resolved"}`, &store.StatusChangedData{From: "open", To: "resolved"}},
		{"participant_added", `{"customer_id":4,"identity":"bo@example.com"}`,
			&store.ParticipantAddedData{CustomerID: 4, Identity: "bo@example.com"}},
		{"delivery_failed", `{"attempts":5,"error":"550 no such user","message_id":9}`,
			&store.DeliveryFailedData{Attempts: 5, Error: "550 no such user", MessageID: 9}},
		{"delivery_failed", `{"error":"expired","message_id":9}`, &store.DeliveryFailedData{Error: "expired", MessageID: 9}},
		{"delivery_retried", `{"message_id":9}`, &store.DeliveryRetriedData{MessageID: 9}},
		{"merged", `{"customer_id":1,"merged_id":2}`, &store.MergedData{CustomerID: 1, MergedID: 2}},
		{"merged", `{"ticket_id":8}`, &store.MergedData{TicketID: 8}},
		{"merged", `{"into_ticket_id":8}`, &store.MergedData{IntoTicketID: 8}},
		{"unmerged", `{"customer_id":1,"merged_id":2}`, &store.UnmergedData{CustomerID: 1, MergedID: 2}},
		{"message_edited", `{"key":"k1","message_id":9,"text":"new"}`, &store.MessageEditedData{Key: "k1", MessageID: 9, Text: "new"}},
		{"story", `{"key":"reply","kind":"reply","message_id":9,"url":"https://x.test/s"}`,
			&store.StoryData{Key: "reply", Kind: "reply", MessageID: 9, URL: "https://x.test/s"}},
		{"rule_applied", `{"action":"set_status","from":"new","rule":"Close spam","rule_id":2,"to":"closed"}`,
			&store.RuleAppliedData{Action: "set_status", From: "new", Rule: "Close spam", RuleID: 2, To: "closed"}},
		{"rule_applied", `{"action":"set_team","from":null,"rule":"Route","rule_id":2,"to":3}`,
			&store.RuleAppliedData{Action: "set_team", From: nil, Rule: "Route", RuleID: 2, To: float64(3)}},
		{"rule_applied", `{"action":"notify","agents":[1,2],"rule":"Tell","rule_id":2}`,
			&store.RuleAppliedData{Action: "notify", Agents: []int64{1, 2}, Rule: "Tell", RuleID: 2}},
		{"rule_applied", `{"action":"webhook","delivery_id":4,"rule":"Hook","rule_id":2,"webhook":"CRM","webhook_id":1}`,
			&store.RuleAppliedData{Action: "webhook", DeliveryID: 4, Rule: "Hook", RuleID: 2, Webhook: "CRM", WebhookID: 1}},
		{"sla_breached", `{"due":"2026-01-02T03:04:05Z","policy_id":7,"target":"first_response"}`,
			&store.SLABreachedData{Due: "2026-01-02T03:04:05Z", PolicyID: &seven, Target: "first_response"}},
	}
	stmts := []string{
		"INSERT INTO customers (name, created_at, updated_at) VALUES ('Old Customer', 1, 1)",
		"INSERT INTO tickets (subject, status, channel, customer_id, created_at, updated_at) VALUES ('Old', 'open', 'email', 1, 1, 1)",
	}
	for _, s := range stmts {
		if _, err := raw.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	for _, o := range old {
		if _, err := raw.Exec(`INSERT INTO ticket_events (ticket_id, type, actor, data, created_at) VALUES (1, ?, 'system', ?, 1)`,
			o.typ, o.data); err != nil {
			t.Fatal(err)
		}
	}

	events, err := db.Events(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(events) != len(old) {
		t.Fatalf("read %d events, want %d", len(events), len(old))
	}
	for i, e := range events {
		o := old[i]
		got, err := e.Payload()
		if err != nil {
			t.Errorf("%s %s: %v", o.typ, o.data, err)
			continue
		}
		if !reflect.DeepEqual(got, o.want) {
			t.Errorf("%s %s read as %#v, want %#v", o.typ, o.data, got, o.want)
		}
		if got.EventType() != e.Type || string(e.Type) != o.typ {
			t.Errorf("%s read with type %q, payload type %q", o.typ, e.Type, got.EventType())
		}
		if o.typ == "rule_applied" && got.(*store.RuleAppliedData).Action == "set_team" {
			// A null from/to reads back as none; rules write it from a
			// typed nil id, which stays null.
			got = store.RuleAppliedData{Action: "set_team", From: (*int64)(nil), Rule: "Route", RuleID: 2, To: &three}
		}
		again, err := json.Marshal(got)
		if err != nil || string(again) != o.data {
			t.Errorf("%s written again as %s (%v), stored as %s", o.typ, again, err, o.data)
		}
	}
	if _, err := store.DecodeEventData("no_such_type", []byte("{}")); err == nil {
		t.Error("an unknown event type decoded")
	}
}

// Every listed type has a payload of its own.
func TestEveryEventTypeHasPayload(t *testing.T) {
	for _, typ := range store.EventTypes {
		data, err := store.DecodeEventData(typ, []byte("{}"))
		if err != nil {
			t.Errorf("%s: %v", typ, err)
		} else if data.EventType() != typ {
			t.Errorf("%s decodes as a %s payload", typ, data.EventType())
		}
	}
}

// Events are written with their type and read back as their payload on
// both engines, and the report history's query filters by type on both.
func TestEventTypesOnBothEngines(t *testing.T) {
	store.ForEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		db := store.OpenTest(t)
		var ticket store.Ticket
		err := db.Write(ctx, func(tx *store.Tx) error {
			c := &store.Customer{Name: "Ann", CreatedAt: store.Now()}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			ticket = store.Ticket{Subject: "Hi", Status: "open", Priority: "normal", Channel: "email", CustomerID: c.ID,
				CreatedAt: store.Now(), UpdatedAt: store.Now()}
			if err := tx.InsertTicket(ctx, &ticket); err != nil {
				return err
			}
			for _, data := range []store.EventData{store.CreatedData{Channel: "email"}, store.StatusChangedData{From: "open", To: "pending"}} {
				raw, _ := json.Marshal(data)
				if err := tx.InsertEvent(ctx, &store.Event{TicketID: ticket.ID, Type: data.EventType(), Actor: "system", Data: raw, CreatedAt: store.Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		events, err := db.Events(ctx, ticket.ID)
		if err != nil || len(events) != 2 {
			t.Fatalf("events %+v, %v", events, err)
		}
		got, err := events[1].Payload()
		if want := (&store.StatusChangedData{From: "open", To: "pending"}); err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("status change read as %#v, %v", got, err)
		}
		// What the reports have left, estimated from the newest ids, is
		// the count itself while nothing was deleted.
		behind, err := db.ReportBehind(ctx)
		left, err2 := db.ReportLeft(ctx)
		if err != nil || err2 != nil || behind < 2 || left != behind {
			t.Errorf("reports behind %d (%v), left %d (%v)", behind, err, left, err2)
		}
	})
}
