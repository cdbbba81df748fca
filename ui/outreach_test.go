package ui_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// An agent starts an email conversation and logs calls through the API:
// the mail goes out signed, a call is a ticket of channel phone in the
// customer's history and the reports by channel, and a chat ticket's
// replies are not signed.
func TestStartConversationAndCallsThroughAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "signature": "{store_name} · +420 222 333 444"}).json(t, &st)
	admin.must(200, "PATCH", "/api/me", map[string]any{"signature": "{agent_first_name}"})
	sink := emailtest.Mailbox(t, e.desk, st.ID, "help@shoes.test", "Shoe Shop")

	// Bad requests name their field.
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"direction": "sideways", "subject": "x", "body": "y"}, "direction"},
		{map[string]any{"subject": "x", "body": "y", "customer": map[string]string{"email": "a@b.test"}, "status": "pending"}, "status"},
		{map[string]any{"direction": "outbound", "subject": "x", "body": "y"}, "customer.email"},
		{map[string]any{"direction": "outbound", "subject": "x", "body": "y", "customer": map[string]string{"email": "not an address"}}, "customer.email"},
		{map[string]any{"direction": "outbound", "body": "y", "customer": map[string]string{"email": "a@b.test"}}, "subject"},
		{map[string]any{"direction": "outbound", "channel": "whatsapp", "customer": map[string]string{"phone": "+420601000111"}}, "template"},
	} {
		r := admin.do("POST", "/api/tickets", c.body)
		if _, field := r.err(t); r.status/100 != 4 || field != c.field {
			t.Errorf("%v: %d, field %q, want %q", c.body, r.status, field, c.field)
		}
	}

	var started struct {
		ticketJSON
		ReplySignature string `json:"reply_signature"`
	}
	admin.must(201, "POST", "/api/tickets", map[string]any{
		"direction": "outbound", "subject": "Your parcel came back", "body": "Which address should we use?",
		"customer": map[string]string{"email": "hana@example.com", "name": "Hana"}, "store_id": st.ID,
	}).json(t, &started)
	if started.Status != "pending" || started.Channel != "email" || started.AssigneeID == nil || len(started.Messages) != 1 ||
		started.Messages[0].Kind != "agent" || started.Customer.Name != "Hana" {
		t.Fatalf("started ticket %+v", started.ticketJSON)
	}
	if started.ReplySignature != "Olga\n\nShoe Shop · +420 222 333 444" {
		t.Fatalf("reply signature %q", started.ReplySignature)
	}
	if !started.Events[0].Data["agent_started"].(bool) {
		t.Fatalf("created event %+v", started.Events[0])
	}
	waitFor(t, "the mail at the SMTP server", func() bool { return len(sink.Messages()) == 1 })
	if raw := sink.Messages()[0]; !strings.Contains(raw, "Shoe Shop =C2=B7 +420 222 333 444") && !strings.Contains(raw, "Shoe Shop · +420 222 333 444") {
		t.Fatalf("mail without the store's signature:\n%s", raw)
	}

	// A chat ticket's reply box shows no signature, and its reply has none.
	in, err := e.desk.Ingest(context.Background(), desk.Inbound{Channel: "chat", StoreID: &st.ID,
		From: store.Identity{Kind: "visitor", Value: "v-42"}, Text: "hello?"})
	if err != nil {
		t.Fatal(err)
	}
	var chat struct {
		ReplySignature string `json:"reply_signature"`
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", in.Ticket.ID), nil).json(t, &chat)
	var chatReply struct{ Signature string }
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", in.Ticket.ID), map[string]any{"body": "Hi!"}).json(t, &chatReply)
	if chat.ReplySignature != "" || chatReply.Signature != "" {
		t.Fatalf("chat signed: box %q, reply %q", chat.ReplySignature, chatReply.Signature)
	}
	// The per-reply switch sends an email reply unsigned.
	var unsigned struct{ Signature string }
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", started.ID), map[string]any{"body": "Thanks", "signature": false}).json(t, &unsigned)
	if unsigned.Signature != "" {
		t.Fatalf("signature: false still signed: %q", unsigned.Signature)
	}

	// A call opens a ticket of channel phone, resolved, in the
	// customer's history.
	var call struct {
		ticketJSON
		Messages []struct {
			Kind string
			Body string
			Call struct {
				Direction string
				Duration  int `json:"duration_s"`
				Outcome   string
			}
		}
	}
	admin.must(201, "POST", "/api/calls", map[string]any{
		"customer": map[string]string{"phone": "+420 601 111 222", "name": "Pavel"}, "direction": "in", "duration_s": 300,
		"notes": "Asked when the boots ship.\nTold him Friday.", "store_id": st.ID,
	}).json(t, &call)
	if call.Channel != "phone" || call.Status != "resolved" || call.Subject != "Asked when the boots ship." || len(call.Messages) != 1 ||
		call.Messages[0].Kind != "note" || call.Messages[0].Call.Duration != 300 || call.Messages[0].Call.Outcome != "answered" {
		t.Fatalf("call ticket %+v", call)
	}
	var timeline struct {
		Items []struct {
			Kind     string
			TicketID int64 `json:"ticket_id"`
		}
	}
	admin.must(200, "GET", fmt.Sprintf("/api/customers/%d/timeline", call.CustomerID), nil).json(t, &timeline)
	if len(timeline.Items) != 1 || timeline.Items[0].Kind != "note" || timeline.Items[0].TicketID != call.ID {
		t.Fatalf("customer timeline %+v", timeline)
	}
	var list struct{ Tickets []ticketJSON }
	admin.must(200, "GET", "/api/tickets?channel=phone", nil).json(t, &list)
	if len(list.Tickets) != 1 || list.Tickets[0].ID != call.ID {
		t.Fatalf("phone tickets %+v", list.Tickets)
	}
	if r := admin.do("POST", "/api/calls", map[string]any{"customer": map[string]string{"name": "X"}, "direction": "in", "outcome": "hung"}); r.status != 400 {
		t.Fatalf("bad outcome: %d %s", r.status, r.body)
	} else if _, field := r.err(t); field != "outcome" {
		t.Fatalf("bad outcome: field %q", field)
	}

	// A call on an existing ticket is a message of kind call.
	var logged struct {
		Kind string
		Call struct{ Direction, Outcome string }
	}
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/calls", started.ID), map[string]any{"direction": "out", "duration_s": 0, "outcome": "no_answer"}).json(t, &logged)
	if logged.Kind != "note" || logged.Call.Direction != "out" || logged.Call.Outcome != "no_answer" {
		t.Fatalf("call on a ticket %+v", logged)
	}

	// Reports by channel: the call counts under phone; the agent-started
	// conversation has no first response to measure.
	if _, err := e.reports.Refresh(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Tables []struct {
			Name    string
			Columns []string
			Rows    [][]any
		}
	}
	admin.must(200, "GET", "/api/reports/overview?range=7d&by=channel", nil).json(t, &rep)
	rows := map[string]map[string]any{}
	for _, tb := range rep.Tables {
		if tb.Name != "by_channel" {
			continue
		}
		for _, r := range tb.Rows {
			row := map[string]any{}
			for i, c := range tb.Columns {
				row[c] = r[i]
			}
			rows[fmt.Sprint(row["channel"])] = row
		}
	}
	if rows["phone"] == nil || rows["phone"]["created"] != 1.0 {
		t.Fatalf("reports by channel: %v", rows)
	}
	if rows["email"] == nil || rows["email"]["first_response_median_s"] != nil {
		t.Fatalf("the agent-started email has a first response: %v", rows["email"])
	}
}
