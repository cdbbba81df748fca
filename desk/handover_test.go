package desk_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/store"
)

// handoffs lists a ticket's assigned and transferred events as
// "type:actor:to:note".
func handoffs(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	var out []string
	for _, e := range ticketEvents(t, db, id, "assigned", "transferred") {
		var data struct {
			To   *int64 `json:"to"`
			Note string `json:"note"`
		}
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		to := "none"
		if data.To != nil {
			to = fmt.Sprint(*data.To)
		}
		out = append(out, fmt.Sprintf("%s:%s:%s:%s", e.Type, e.Actor, to, data.Note))
	}
	return out
}

func inputField(err error) string {
	if ie, ok := desk.IsInput(err); ok {
		return ie.Field
	}
	return fmt.Sprintf("not an input error: %v", err)
}

func TestHandOverMovesOpenTicketsWithTheNote(t *testing.T) {
	d, db := newDesk(t)
	alice := agent(t, d, "alice@desk.test", "agent")
	bob := agent(t, d, "bob@desk.test", "agent")
	carol := agent(t, d, "carol@desk.test", "agent")
	boss := agent(t, d, "boss@desk.test", "admin")
	off := false
	if _, err := d.UpdateAgent(ctx, carol.ID, desk.AgentInput{Active: &off}); err != nil {
		t.Fatal(err)
	}
	night, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Night", AgentIDs: []int64{bob.ID}})
	if err != nil {
		t.Fatal(err)
	}
	// A rule on "updated" sees a handover like any other change.
	saveRule(t, d, store.Rule{Name: "night", Trigger: "updated", Conditions: []store.Condition{cond("team_id", "is", float64(night.ID))},
		Actions: []store.Action{action("add_tags", []any{"night-shift"})}})

	// Alice has more open tickets than one transaction takes (200), some
	// pending, and two she resolved; Bob has one of his own.
	const open = 230
	var aliceOpen, aliceDone []int64
	for i := range open + 2 {
		res := ingest(t, d, desk.Inbound{From: email(fmt.Sprintf("c%d@shop.test", i)), Text: "where is my parcel?", AssigneeID: &alice.ID})
		switch {
		case i >= open:
			if _, err := d.SetStatus(ctx, desk.AgentActor(alice.ID), res.Ticket.ID, "resolved"); err != nil {
				t.Fatal(err)
			}
			aliceDone = append(aliceDone, res.Ticket.ID)
			continue
		case i%3 == 1:
			if _, err := d.SetStatus(ctx, desk.AgentActor(alice.ID), res.Ticket.ID, "pending"); err != nil {
				t.Fatal(err)
			}
		case i%3 == 2:
			if _, err := d.SetStatus(ctx, desk.AgentActor(alice.ID), res.Ticket.ID, "open"); err != nil {
				t.Fatal(err)
			}
		}
		aliceOpen = append(aliceOpen, res.Ticket.ID)
	}
	bobs := ingest(t, d, desk.Inbound{From: email("b@shop.test"), Text: "refund?", AssigneeID: &bob.ID}).Ticket.ID

	if n, err := d.ToHandOver(ctx, alice.ID); err != nil || n != open {
		t.Fatalf("to hand over: %d, %v", n, err)
	}

	// Refused, and nothing moves.
	for _, c := range []struct {
		h     desk.Handover
		field string
	}{
		{desk.Handover{Note: "bye"}, "assignee_id"},
		{desk.Handover{AssigneeID: &alice.ID}, "assignee_id"},
		{desk.Handover{AssigneeID: &carol.ID}, "assignee_id"},
		{desk.Handover{AssigneeID: ptr(9999)}, "assignee_id"},
		{desk.Handover{TeamID: ptr(9999)}, "team_id"},
		{desk.Handover{TeamID: &night.ID, AssigneeID: &carol.ID}, "assignee_id"},
	} {
		if _, err := d.HandOver(ctx, desk.AgentActor(alice.ID), alice.ID, c.h); inputField(err) != c.field {
			t.Errorf("%+v: %v, want a refusal of %s", c.h, err, c.field)
		}
	}
	if _, err := d.HandOver(ctx, desk.AgentActor(boss.ID), 9999, desk.Handover{TeamID: &night.ID}); !errors.Is(err, desk.ErrNotFound) {
		t.Errorf("an unknown agent's handover: %v", err)
	}
	if n, _ := d.ToHandOver(ctx, alice.ID); n != open {
		t.Fatalf("a refused handover moved tickets: %d left", n)
	}

	changes, stop := d.Bus().Subscribe(10000)
	defer stop()
	res, err := d.HandOver(ctx, desk.AgentActor(alice.ID), alice.ID, desk.Handover{TeamID: &night.ID, Note: "  Waiting on the courier for all of these.  "})
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if !slices.Equal(res.Updated, aliceOpen) || len(res.Failed) != 0 {
		t.Fatalf("moved %d (%v...), failed %v; want the %d open ones", len(res.Updated), res.Updated[:3], res.Failed, open)
	}
	published := map[int64]bool{}
	for c := range changes {
		if c.Type == "ticket" && c.Ticket.TeamID != nil && *c.Ticket.TeamID == night.ID {
			published[c.TicketID] = true
		}
	}
	if len(published) != open {
		t.Errorf("the bus carried %d moved tickets, want %d", len(published), open)
	}
	me := fmt.Sprint(alice.ID)
	want := []string{
		"assigned:" + me + ":" + me + ":", // by ingest
		"assigned:" + me + ":none:Waiting on the courier for all of these.",
		fmt.Sprintf("transferred:%s:%d:Waiting on the courier for all of these.", me, night.ID),
	}
	for _, id := range aliceOpen {
		tk := ticket(t, db, id)
		if tk.AssigneeID != nil || tk.TeamID == nil || *tk.TeamID != night.ID || !slices.Contains(tk.Tags, "night-shift") {
			t.Fatalf("ticket %d after the handover: %+v", id, tk)
		}
		got := handoffs(t, db, id)
		if !slices.Equal(got[len(got)-2:], want[1:]) {
			t.Fatalf("ticket %d's handoff events: %v", id, got)
		}
	}
	for _, id := range append(aliceDone, bobs) {
		tk := ticket(t, db, id)
		if tk.AssigneeID == nil || tk.TeamID != nil || len(tk.Tags) > 0 || strings.Contains(events(t, db, id), "transferred") {
			t.Fatalf("ticket %d should not have moved: %+v, %s", id, tk, events(t, db, id))
		}
	}
	if n, _ := d.ToHandOver(ctx, alice.ID); n != 0 {
		t.Fatalf("%d tickets left with Alice", n)
	}
	// Nothing left: a second handover moves nothing.
	if res, err := d.HandOver(ctx, desk.AgentActor(alice.ID), alice.ID, desk.Handover{TeamID: &night.ID}); err != nil || len(res.Updated) != 0 {
		t.Fatalf("again: %+v, %v", res, err)
	}

	// To an agent: assigned to them, the team kept.
	back := ingest(t, d, desk.Inbound{From: email("late@shop.test"), Text: "one more", AssigneeID: &alice.ID}).Ticket.ID
	res, err = d.HandOver(ctx, desk.AgentActor(alice.ID), alice.ID, desk.Handover{AssigneeID: &bob.ID, Note: "He is waiting for a call."})
	if err != nil || !slices.Equal(res.Updated, []int64{back}) {
		t.Fatalf("to Bob: %+v, %v", res, err)
	}
	if tk := ticket(t, db, back); tk.AssigneeID == nil || *tk.AssigneeID != bob.ID {
		t.Fatalf("to Bob: %+v", tk)
	}
	if got := handoffs(t, db, back); got[len(got)-1] != fmt.Sprintf("assigned:%s:%d:He is waiting for a call.", me, bob.ID) {
		t.Fatalf("to Bob: %v", got)
	}

	// An admin hands over Bob's tickets while he is off sick.
	res, err = d.HandOver(ctx, desk.AgentActor(boss.ID), bob.ID, desk.Handover{AssigneeID: &alice.ID, Note: "Bob is ill."})
	if err != nil || !slices.Equal(res.Updated, []int64{bobs, back}) {
		t.Fatalf("Bob's: %+v, %v", res, err)
	}
	for _, id := range res.Updated {
		got := handoffs(t, db, id)
		if tk := ticket(t, db, id); *tk.AssigneeID != alice.ID || got[len(got)-1] != fmt.Sprintf("assigned:%d:%d:Bob is ill.", boss.ID, alice.ID) {
			t.Fatalf("ticket %d: %+v, %v", id, tk, got)
		}
	}
}

func TestUpdateTicketsEachAllOrNothing(t *testing.T) {
	d, db := newDesk(t)
	a := agent(t, d, "a@desk.test", "agent")
	me := desk.AgentActor(a.ID)
	var ids []int64
	for i := range 4 {
		ids = append(ids, ingest(t, d, desk.Inbound{From: email(fmt.Sprintf("c%d@shop.test", i)), Text: "hi", Tags: []string{"old", "keep"}}).Ticket.ID)
	}
	// One is closed (it cannot become pending), one has all the tags it may.
	if _, err := d.SetStatus(ctx, me, ids[1], "closed"); err != nil {
		t.Fatal(err)
	}
	full := make([]string, desk.MaxTags)
	for i := range full {
		full[i] = fmt.Sprintf("t%02d", i)
	}
	if _, err := d.UpdateTicket(ctx, me, ids[2], desk.Update{Tags: &full}); err != nil {
		t.Fatal(err)
	}

	res, err := d.UpdateTickets(ctx, me, []int64{ids[0], ids[3], 99999, ids[0]},
		desk.Update{Priority: "high", AddTags: []string{"VIP"}, RemoveTags: []string{"old"}})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Updated, []int64{ids[0], ids[3]}) || len(res.Failed) != 1 || res.Failed[0].ID != 99999 || res.Failed[0].Field != "ids" {
		t.Fatalf("result %+v", res)
	}
	for _, id := range []int64{ids[0], ids[3]} {
		tk := ticket(t, db, id)
		if tk.Priority != "high" || strings.Join(tk.Tags, ",") != "keep,vip" {
			t.Fatalf("ticket %d: %+v", id, tk)
		}
		if ev := events(t, db, id); !strings.Contains(ev, "priority_changed/"+fmt.Sprint(a.ID)) || !strings.Contains(ev, "tags_changed/"+fmt.Sprint(a.ID)) {
			t.Fatalf("ticket %d's events: %s", id, ev)
		}
	}

	// A ticket refused in part keeps none of the change; the others go on.
	res, err = d.UpdateTickets(ctx, me, ids, desk.Update{Status: "pending", Priority: "urgent", AddTags: []string{"late"}})
	if err != nil {
		t.Fatal(err)
	}
	failed := map[int64]string{}
	for _, f := range res.Failed {
		failed[f.ID] = f.Field
	}
	if !slices.Equal(res.Updated, []int64{ids[0], ids[3]}) || len(failed) != 2 || failed[ids[1]] != "status" || failed[ids[2]] != "tags" {
		t.Fatalf("result %+v", res)
	}
	for _, id := range ids[1:3] {
		if tk := ticket(t, db, id); tk.Priority != "normal" || slices.Contains(tk.Tags, "late") || strings.Contains(events(t, db, id), "priority_changed") {
			t.Fatalf("refused ticket %d changed: %+v %s", id, tk, events(t, db, id))
		}
	}
	if tk := ticket(t, db, ids[3]); tk.Status != "pending" || tk.Priority != "urgent" || !slices.Contains(tk.Tags, "late") {
		t.Fatalf("ticket %d: %+v", ids[3], tk)
	}

	// Refused before any ticket is read.
	many := make([]int64, desk.MaxBulk+1)
	for _, c := range []struct {
		ids   []int64
		u     desk.Update
		field string
	}{
		{nil, desk.Update{Priority: "high"}, "ids"},
		{many, desk.Update{Priority: "high"}, "ids"},
		{ids, desk.Update{Priority: "soon"}, "priority"},
		{ids, desk.Update{AddTags: []string{"a,b"}}, "add_tags"},
		{ids, desk.Update{AddTags: []string{"x"}, RemoveTags: []string{"X"}}, "remove_tags"},
		{ids, desk.Update{Tags: &[]string{"x"}, AddTags: []string{"y"}}, "tags"},
	} {
		if _, err := d.UpdateTickets(ctx, me, c.ids, c.u); inputField(err) != c.field {
			t.Errorf("%+v: %v, want a refusal of %s", c.u, err, c.field)
		}
	}
}
