package desk_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"onedesk/desk"
)

func TestRoundRobinTakesTurnsWithinCaps(t *testing.T) {
	d, db := newDesk(t)
	var ids []int64
	for _, m := range []string{"a@shop.test", "b@shop.test", "c@shop.test"} {
		ids = append(ids, agent(t, d, m, "agent").ID)
	}
	online := map[int64]bool{ids[0]: true, ids[2]: true} // b is off shift
	d.Online = func(id int64) bool { return online[id] }
	two := 2
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Support", AgentIDs: ids, Assignment: "round_robin", MaxOpen: &two})
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]int{}
	var order []int64
	for i := range 6 {
		res := ingest(t, d, desk.Inbound{From: email("c" + string(rune('a'+i)) + "@example.com"), Subject: "Hi", Text: "Hi", TeamID: &team.ID})
		a := res.Ticket.AssigneeID
		if a == nil {
			order = append(order, 0)
			continue
		}
		got[*a]++
		order = append(order, *a)
	}
	// a, c, a, c; then both have two open tickets and the rest wait.
	want := []int64{ids[0], ids[2], ids[0], ids[2], 0, 0}
	if !slices.Equal(order, want) {
		t.Fatalf("assignments %v, want %v", order, want)
	}
	if !strings.Contains(events(t, db, 1), "assigned/system") {
		t.Fatalf("no assigned event: %s", events(t, db, 1))
	}
	// b comes on shift and takes the two that waited; a resolves one and
	// is free again.
	online[ids[1]] = true
	if n, err := d.AssignWaiting(ctx); err != nil || n != 2 {
		t.Fatalf("assign waiting: %d, %v", n, err)
	}
	for _, id := range []int64{5, 6} {
		if tk := ticket(t, db, id); tk.AssigneeID == nil || *tk.AssigneeID != ids[1] {
			t.Fatalf("waiting ticket %d went to %v, want b", id, tk.AssigneeID)
		}
	}
	if n, _ := d.AssignWaiting(ctx); n != 0 {
		t.Fatalf("assigned %d more with nothing waiting", n)
	}
	if _, err := d.UpdateTicket(ctx, desk.Actor{Kind: "agent", AgentID: ids[0]}, 1, desk.Update{Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	res := ingest(t, d, desk.Inbound{From: email("more@example.com"), Subject: "Hi", Text: "Hi", TeamID: &team.ID})
	if res.Ticket.AssigneeID == nil || *res.Ticket.AssigneeID != ids[0] {
		t.Fatalf("c is full and a has room: got %v", res.Ticket.AssigneeID)
	}
	// Transferring a waiting ticket to the team assigns it too; a manual
	// team does not.
	manual, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Billing"})
	if err != nil {
		t.Fatal(err)
	}
	waiting := ingest(t, d, desk.Inbound{From: email("w@example.com"), Subject: "Hi", Text: "Hi", TeamID: &manual.ID})
	if waiting.Ticket.AssigneeID != nil {
		t.Fatal("a manual team assigned a ticket")
	}
	if _, err := d.UpdateTicket(ctx, desk.Actor{Kind: "agent", AgentID: ids[0]}, 2, desk.Update{Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	tk, err := d.UpdateTicket(ctx, desk.Actor{Kind: "agent", AgentID: ids[0]}, waiting.Ticket.ID, desk.Update{TeamID: desk.Optional[int64]{Set: true, Value: &team.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if tk.AssigneeID == nil {
		t.Fatal("a ticket transferred to a round-robin team stayed unassigned")
	}
	if _, err := d.SaveTeam(ctx, team.ID, desk.TeamInput{Assignment: "everyone"}); err == nil {
		t.Fatal("an unknown assignment was accepted")
	}
	_ = got
}

// Handing tickets over to a round-robin team never gives them back to the
// agent who hands them over, though they are online and under the cap.
func TestHandoverToRoundRobinTeamSkipsTheGiver(t *testing.T) {
	d, _ := newDesk(t)
	x, y := agent(t, d, "x@shop.test", "agent"), agent(t, d, "y@shop.test", "agent")
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Care", AgentIDs: []int64{x.ID, y.ID}, Assignment: "round_robin"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		ingest(t, d, desk.Inbound{From: email(fmt.Sprintf("h%d@example.com", i)), Text: "Hi", AssigneeID: &x.ID})
	}
	res, err := d.HandOver(ctx, desk.AgentActor(x.ID), x.ID, desk.Handover{TeamID: &team.ID, Note: "end of shift"})
	if err != nil || len(res.Updated) != 4 {
		t.Fatalf("handover: %+v, %v", res, err)
	}
	for _, id := range res.Updated {
		if tk, _ := d.DB().Ticket(ctx, id); tk.AssigneeID == nil || *tk.AssigneeID != y.ID {
			t.Fatalf("ticket %d went to %v, want y (%d)", id, tk.AssigneeID, y.ID)
		}
	}
}
