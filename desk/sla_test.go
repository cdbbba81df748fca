package desk_test

import (
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/store"
)

// newDeskRaw is newDesk with a second, raw connection to the same file, to
// set times in the past the way a ticket would have them after waiting.
func newDeskRaw(t *testing.T) (*desk.Desk, *store.DB, *sql.DB) { return desktest.NewRaw(t) }

func exec(t *testing.T, raw *sql.DB, q string, args ...any) {
	t.Helper()
	desktest.Exec(t, raw, q, args...)
}

func savePolicy(t *testing.T, d *desk.Desk, p store.SLAPolicy) *store.SLAPolicy {
	t.Helper()
	return desktest.SavePolicy(t, d, p)
}

func sameTime(t *testing.T, what string, got *time.Time, want time.Time) {
	t.Helper()
	if got == nil || got.Sub(want).Abs() > 2*time.Millisecond {
		t.Fatalf("%s = %v, want %s", what, got, want.Format(time.RFC3339Nano))
	}
}

func slaEvents(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	var out []string
	for _, e := range ticketEvents(t, db, id, "sla_breached") {
		out = append(out, string(e.Data))
	}
	return out
}

func listSLA(t *testing.T, db *store.DB, which string, now time.Time) []int64 {
	t.Helper()
	page, _, err := db.ListTickets(ctx, store.TicketFilter{SLA: which, SLANow: now})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, tk := range page {
		ids = append(ids, tk.ID)
	}
	return ids
}

func TestSLADueTimesBreachesAndRules(t *testing.T) {
	d, db, raw := newDeskRaw(t)
	owner := agent(t, d, "owner@shop.test", "admin")
	shop, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Lisbon shop", Timezone: "Europe/Lisbon",
		Chat: &store.ChatSettings{Hours: []string{"", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00", ""}}})
	if err != nil {
		t.Fatal(err)
	}
	// The store's own policy comes first; the standard one covers the rest.
	vip := savePolicy(t, d, store.SLAPolicy{Name: "Shop hours", StoreID: &shop.ID, BusinessHours: true,
		Targets: map[string]store.SLATarget{"normal": {FirstResponse: 2 * 3600}}})
	std := savePolicy(t, d, store.SLAPolicy{Name: "Standard", Targets: map[string]store.SLATarget{
		"urgent": {FirstResponse: 3600, Resolution: 4 * 3600}, "normal": {FirstResponse: 8 * 3600}}})
	saveRule(t, d, store.Rule{Name: "Warn", Trigger: "sla_at_risk", Actions: []store.Action{action("add_tags", []any{"at-risk"})}})
	saveRule(t, d, store.Rule{Name: "Escalate", Trigger: "sla_breached", Conditions: []store.Condition{cond("priority", "is", "urgent")},
		Actions: []store.Action{action("add_tags", []any{"escalated"}), action("notify", float64(owner.ID))}})
	notes, stop := d.Bus().Subscribe(64)
	defer stop()

	// An urgent ticket: first response due in an hour, resolution in four.
	a := ingest(t, d, desk.Inbound{From: email("ana@example.com"), Subject: "Order never came", Text: "Help", Priority: "urgent"})
	c := a.Ticket.CreatedAt
	tk := ticket(t, db, a.Ticket.ID)
	if tk.SLA.PolicyID == nil || *tk.SLA.PolicyID != std.ID {
		t.Fatalf("policy = %v, want %d", tk.SLA.PolicyID, std.ID)
	}
	sameTime(t, "first response due", tk.SLA.FirstResponseDue, c.Add(time.Hour))
	sameTime(t, "resolution due", tk.SLA.ResolutionDue, c.Add(4*time.Hour))
	sameTime(t, "due", tk.SLA.Due, c.Add(time.Hour))
	sameTime(t, "at risk", tk.SLA.Warn, c.Add(45*time.Minute))

	// Time passes: at risk after 45 minutes, breached after an hour, once.
	sweep := func(after time.Duration) int {
		t.Helper()
		n, err := d.SweepSLA(ctx, c.Add(after))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sweep(30 * time.Minute); n != 0 {
		t.Fatalf("sweep at 30 min acted on %d tickets", n)
	}
	if got := listSLA(t, db, "at_risk", c.Add(50*time.Minute)); !slices.Equal(got, []int64{a.Ticket.ID}) {
		t.Fatalf("at risk at 50 min: %v", got)
	}
	if n := sweep(46 * time.Minute); n != 1 || !slices.Contains(ticket(t, db, a.Ticket.ID).Tags, "at-risk") {
		t.Fatalf("at-risk rule: acted %d, tags %v", n, ticket(t, db, a.Ticket.ID).Tags)
	}
	if n := sweep(50 * time.Minute); n != 0 {
		t.Fatalf("the at-risk rule ran again: %d", n)
	}
	sweep(61 * time.Minute)
	sweep(62 * time.Minute)
	tk = ticket(t, db, a.Ticket.ID)
	if evs := slaEvents(t, db, tk.ID); len(evs) != 1 || !strings.Contains(evs[0], `"target":"first_response"`) {
		t.Fatalf("breach events: %v", evs)
	}
	if tk.SLA.Breached != store.BreachedFirstResponse || !slices.Contains(tk.Tags, "escalated") {
		t.Fatalf("after the breach: breached %d, tags %v", tk.SLA.Breached, tk.Tags)
	}
	if got := listSLA(t, db, "breached", c.Add(61*time.Minute)); !slices.Equal(got, []int64{tk.ID}) {
		t.Fatalf("breached at 61 min: %v", got)
	}
	if got := listSLA(t, db, "breached", c.Add(59*time.Minute)); len(got) != 0 {
		t.Fatalf("breached at 59 min: %v", got)
	}
	notified := false
	for len(notes) > 0 {
		if n := <-notes; n.Notification != nil && slices.Contains(n.Notification.AgentIDs, owner.ID) {
			notified = true
		}
	}
	if !notified {
		t.Fatal("the escalation rule did not notify the owner")
	}

	// Answered: the resolution target is what is due now.
	me := desk.Actor{Kind: "agent", AgentID: owner.ID}
	if _, err := d.Reply(ctx, me, tk.ID, desk.ReplyInput{Body: "On its way"}); err != nil {
		t.Fatal(err)
	}
	sameTime(t, "due after the reply", ticket(t, db, tk.ID).SLA.Due, c.Add(4*time.Hour))

	// Waiting on the customer stops the clock: two hours pending move the
	// resolution due time two hours on.
	if _, err := d.UpdateTicket(ctx, me, tk.ID, desk.Update{Status: "pending"}); err != nil {
		t.Fatal(err)
	}
	if tk = ticket(t, db, tk.ID); tk.SLA.Due != nil || tk.SLA.PausedAt == nil {
		t.Fatalf("pending: due %v, paused %v", tk.SLA.Due, tk.SLA.PausedAt)
	}
	exec(t, raw, "UPDATE tickets SET sla_paused_at = sla_paused_at - ? WHERE id = ?", (2 * time.Hour).Milliseconds(), tk.ID)
	if _, err := d.UpdateTicket(ctx, me, tk.ID, desk.Update{Status: "open"}); err != nil {
		t.Fatal(err)
	}
	tk = ticket(t, db, tk.ID)
	// (plus the milliseconds the test itself took while pending)
	if due := tk.SLA.ResolutionDue; due == nil || due.Before(c.Add(6*time.Hour)) || due.After(c.Add(6*time.Hour+time.Second)) {
		t.Fatalf("resolution due after two hours pending = %v, want %s", due, c.Add(6*time.Hour))
	}
	if tk.SLA.PausedAt != nil {
		t.Fatal("the clock is still paused")
	}

	// Lower priority without a target: no policy covers it any more, the
	// breach on record stays.
	if _, err := d.UpdateTicket(ctx, me, tk.ID, desk.Update{Priority: "low"}); err != nil {
		t.Fatal(err)
	}
	if tk = ticket(t, db, tk.ID); tk.SLA.PolicyID != nil || tk.SLA.Due != nil || tk.SLA.Breached != store.BreachedFirstResponse {
		t.Fatalf("low priority: %+v", tk.SLA)
	}

	// The store's policy counts its opening hours: made on Friday 27 March
	// 2026 at 16:00 in Lisbon, two business hours end on Monday at 10:00
	// (09:00 UTC, summer time since Sunday).
	b := ingest(t, d, desk.Inbound{From: email("bo@example.com"), Subject: "Size?", Text: "Hi", StoreID: &shop.ID})
	friday := time.Date(2026, 3, 27, 16, 0, 0, 0, time.UTC)
	exec(t, raw, "UPDATE tickets SET created_at = ? WHERE id = ?", friday.UnixMilli(), b.Ticket.ID)
	if _, err := d.UpdateTicket(ctx, me, b.Ticket.ID, desk.Update{Tags: &[]string{"sizes"}}); err != nil {
		t.Fatal(err)
	}
	tb := ticket(t, db, b.Ticket.ID)
	if tb.SLA.PolicyID == nil || *tb.SLA.PolicyID != vip.ID {
		t.Fatalf("store ticket policy = %v, want %d", tb.SLA.PolicyID, vip.ID)
	}
	sameTime(t, "store ticket first response due", tb.SLA.FirstResponseDue, time.Date(2026, 3, 30, 9, 0, 0, 0, time.UTC))
	// Answered long after, before any sweep saw it: the late answer is the breach.
	if _, err := d.Reply(ctx, me, tb.ID, desk.ReplyInput{Body: "Size M"}); err != nil {
		t.Fatal(err)
	}
	if evs := slaEvents(t, db, tb.ID); len(evs) != 1 || !strings.Contains(evs[0], `"due":"2026-03-30T09:00:00Z"`) {
		t.Fatalf("late first response: %v", evs)
	}
	if tb = ticket(t, db, tb.ID); tb.SLA.Due != nil {
		t.Fatalf("no resolution target, yet due %v", tb.SLA.Due)
	}

	// Resolved after the resolution target: a breach, recorded when resolved.
	late := ingest(t, d, desk.Inbound{From: email("cy@example.com"), Subject: "Refund", Text: "Please", Priority: "urgent"})
	exec(t, raw, "UPDATE tickets SET created_at = created_at - ? WHERE id = ?", (5 * time.Hour).Milliseconds(), late.Ticket.ID)
	if _, err := d.Reply(ctx, me, late.Ticket.ID, desk.ReplyInput{Body: "Refunded", Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	tl := ticket(t, db, late.Ticket.ID)
	if tl.SLA.Breached != store.BreachedFirstResponse|store.BreachedResolution || tl.SLA.Due != nil {
		t.Fatalf("resolved late: %+v", tl.SLA)
	}
	if evs := slaEvents(t, db, tl.ID); len(evs) != 2 {
		t.Fatalf("resolved late: %v", evs)
	}
}

func TestSLAPolicyChecks(t *testing.T) {
	d, _ := newDesk(t)
	bad := []struct {
		p     store.SLAPolicy
		field string
	}{
		{store.SLAPolicy{Targets: map[string]store.SLATarget{"urgent": {FirstResponse: 60}}}, "name"},
		{store.SLAPolicy{Name: "x"}, "targets"},
		{store.SLAPolicy{Name: "x", Targets: map[string]store.SLATarget{"critical": {FirstResponse: 60}}}, "targets"},
		{store.SLAPolicy{Name: "x", Targets: map[string]store.SLATarget{"urgent": {FirstResponse: 30}}}, "targets.urgent.first_response"},
		{store.SLAPolicy{Name: "x", Targets: map[string]store.SLATarget{"urgent": {Resolution: -5}}}, "targets.urgent.resolution"},
		{store.SLAPolicy{Name: "x", Targets: map[string]store.SLATarget{"urgent": {}}}, "targets"},
		{store.SLAPolicy{Name: "x", Channel: "fax", Targets: map[string]store.SLATarget{"urgent": {FirstResponse: 60}}}, "channel"},
		{store.SLAPolicy{Name: "x", StoreID: ptr(99), Targets: map[string]store.SLATarget{"urgent": {FirstResponse: 60}}}, "store_id"},
		{store.SLAPolicy{Name: "x", TeamID: ptr(99), Targets: map[string]store.SLATarget{"urgent": {FirstResponse: 60}}}, "team_id"},
	}
	for _, c := range bad {
		_, err := d.SaveSLAPolicy(ctx, 0, c.p)
		if ie, ok := desk.IsInput(err); !ok || ie.Field != c.field {
			t.Errorf("%+v: got %v, want an error on %s", c.p, err, c.field)
		}
	}
}

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

// Both targets of an unanswered ticket are recorded as they pass; a
// deleted policy leaves no due times behind and records nothing more.
func TestSLABothTargetsAndDeletedPolicies(t *testing.T) {
	d, db := newDesk(t)
	p := savePolicy(t, d, store.SLAPolicy{Name: "Standard", Targets: map[string]store.SLATarget{
		"urgent": {FirstResponse: 3600, Resolution: 4 * 3600}}})
	a := ingest(t, d, desk.Inbound{From: email("ana@example.com"), Text: "Help", Priority: "urgent"}).Ticket
	c := a.CreatedAt
	for _, after := range []time.Duration{61 * time.Minute, 3 * time.Hour, 5 * time.Hour, 6 * time.Hour} {
		if _, err := d.SweepSLA(ctx, c.Add(after)); err != nil {
			t.Fatal(err)
		}
	}
	evs := slaEvents(t, db, a.ID)
	if len(evs) != 2 || !strings.Contains(evs[0], "first_response") || !strings.Contains(evs[1], "resolution") {
		t.Fatalf("breaches of an unanswered ticket: %v", evs)
	}
	if got := listSLA(t, db, "breached", c.Add(6*time.Hour)); !slices.Equal(got, []int64{a.ID}) {
		t.Fatalf("overdue: %v", got)
	}
	if got := listSLA(t, db, "at_risk", c.Add(3*time.Hour+30*time.Minute)); len(got) != 0 {
		t.Fatalf("an overdue ticket is not 'at risk': %v", got)
	}

	b := ingest(t, d, desk.Inbound{From: email("bo@example.com"), Text: "Hi", Priority: "urgent"}).Ticket
	if err := d.DeleteSLAPolicy(ctx, p.ID); err != nil {
		t.Fatal(err)
	}
	if tk := ticket(t, db, b.ID); tk.SLA.Due != nil || tk.SLA.Next != nil || tk.SLA.Warn != nil || tk.SLA.PolicyID != nil {
		t.Fatalf("due times after the policy went: %+v", tk.SLA)
	}
	if _, err := d.SweepSLA(ctx, b.CreatedAt.Add(10*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if evs := slaEvents(t, db, b.ID); len(evs) != 0 {
		t.Fatalf("breach without a policy: %v", evs)
	}
	if got := listSLA(t, db, "breached", b.CreatedAt.Add(10*time.Hour)); slices.Contains(got, b.ID) {
		t.Fatal("a ticket without a policy is overdue")
	}
	// The breaches on record stay.
	if tk := ticket(t, db, a.ID); tk.SLA.Breached != store.BreachedFirstResponse|store.BreachedResolution {
		t.Fatalf("breaches on record: %d", tk.SLA.Breached)
	}
}
