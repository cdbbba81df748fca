package desk_test

import (
	"context"
	"testing"

	"onedesk/desk"
	"onedesk/desk/desktest"
)

// A call logged as a ticket is the agent's, channel phone, resolved, with
// the call's details on its one message and a call_logged event; a call
// on an existing ticket adds a message and leaves its clocks alone.
func TestLogCall(t *testing.T) {
	d, db := desktest.New(t)
	ctx := context.Background()
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	tk, m, err := d.LogCall(ctx, desk.AgentActor(a.ID), desk.CallInput{Phone: "+420601111222", Name: "Pavel", Direction: "in",
		Duration: 300, Notes: "Asked when the boots ship."})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Channel != "phone" || tk.Status != "resolved" || tk.AssigneeID == nil || *tk.AssigneeID != a.ID ||
		m.Kind != "note" || m.Call == nil || m.Call.Duration != 300 || m.Call.Outcome != "answered" || tk.FirstResponseAt == nil {
		t.Fatalf("call ticket %+v, message %+v", tk, m)
	}
	evs, err := db.Events(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		types = append(types, string(ev.Type))
	}
	if len(types) != 3 || types[0] != "created" || types[1] != "call_logged" || types[2] != "status_changed" {
		t.Fatalf("events %v", types)
	}
	// Again, for the same phone: the same customer.
	tk2, _, err := d.LogCall(ctx, desk.AgentActor(a.ID), desk.CallInput{Phone: "+420 601 111 222", Direction: "out", Subject: "Callback", Status: "pending"})
	if err != nil {
		t.Fatal(err)
	}
	if tk2.CustomerID != tk.CustomerID || tk2.Status != "pending" {
		t.Fatalf("second call %+v", tk2)
	}
	// On an existing ticket.
	in, err := d.Ingest(ctx, desk.Inbound{Channel: "email", From: desktest.Email("x@example.com"), Subject: "Hi", Text: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	_, cm, err := d.LogCall(ctx, desk.AgentActor(a.ID), desk.CallInput{TicketID: in.Ticket.ID, Direction: "out", Outcome: "voicemail"})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := db.Ticket(ctx, in.Ticket.ID)
	if cm.TicketID != in.Ticket.ID || after.Status != "new" || after.FirstResponseAt != nil {
		t.Fatalf("call on a ticket: %+v, ticket %+v", cm, after)
	}
	if _, _, err := d.LogCall(ctx, desk.AgentActor(a.ID), desk.CallInput{Direction: "sideways", Name: "X", Subject: "x"}); err == nil {
		t.Fatal("a call of no direction was taken")
	}
}
