package rules_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

func autoReplies(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	msgs, err := db.Messages(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		if m.Kind == "agent" && m.Auto == "auto_reply" {
			out = append(out, m.Body)
		}
	}
	return out
}

func TestRuleChecks(t *testing.T) {
	d, _ := newDesk(t)
	ok := []store.Action{action("set_priority", "high")}
	for _, c := range []struct {
		rule  store.Rule
		field string
	}{
		{store.Rule{Trigger: "created", Actions: ok}, "name"},
		{store.Rule{Name: "x", Trigger: "sometimes", Actions: ok}, "trigger"},
		{store.Rule{Name: "x", Trigger: "created"}, "actions"},
		{store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("explode", nil)}}, "actions.0.type"},
		{store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("set_priority", "asap")}}, "actions.0.value"},
		{store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("set_team", 99)}}, "actions.0.value"},
		{store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("add_tags", []any{"a,b"})}}, "actions.0.value"},
		{store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("notify", "everyone")}}, "actions.0.value"},
		{store.Rule{Name: "x", Trigger: "created", Actions: ok, Conditions: []store.Condition{cond("mood", "is", "x")}}, "conditions.0.field"},
		{store.Rule{Name: "x", Trigger: "created", Actions: ok, Conditions: []store.Condition{cond("channel", "gt", "x")}}, "conditions.0.op"},
		{store.Rule{Name: "x", Trigger: "created", Actions: ok, Conditions: []store.Condition{cond("channel", "is", "pigeon")}}, "conditions.0.value"},
		{store.Rule{Name: "x", Trigger: "created", Actions: ok, Conditions: []store.Condition{cond("hours_since_created", "gt", -1.0)}}, "conditions.0.value"},
		{store.Rule{Name: "x", Trigger: "created", Actions: ok, Conditions: []store.Condition{cond("field.Topic", "is", "x")}}, "conditions.0.field"},
		{store.Rule{Name: "x", Trigger: "time", Actions: ok, Conditions: []store.Condition{cond("status", "is", "pending")}}, "conditions"},
		{store.Rule{Name: "x", Trigger: "time", Match: "any", Actions: ok, Conditions: []store.Condition{cond("hours_since_updated", "gt", 3.0)}}, "match"},
	} {
		_, err := rulesOf(d).Save(ctx, 0, c.rule)
		if got := fieldOf(err); got != c.field {
			t.Errorf("%+v: field %q, want %q (%v)", c.rule, got, c.field, err)
		}
	}
	// JSON numbers arrive as float64.
	if _, err := rulesOf(d).Save(ctx, 0, store.Rule{Name: "x", Trigger: "created", Actions: []store.Action{action("set_team", 1.5)}}); fieldOf(err) != "actions.0.value" {
		t.Errorf("a fractional id: %v", err)
	}
}

func TestRulesOnNewTicketsAndReplies(t *testing.T) {
	d, db := newDesk(t)
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Returns"})
	if err != nil {
		t.Fatal(err)
	}
	saveRule(t, d, store.Rule{Name: "Returns", Trigger: "created",
		Conditions: []store.Condition{cond("subject", "contains", "RETURN"), cond("channel", "is", "email")},
		Actions: []store.Action{action("set_team", float64(team.ID)), action("add_tags", []any{"Return"}),
			action("set_priority", "high"), action("auto_reply", "Hi {{customer.first_name}}, ticket {{ticket.id}} is with our returns team.")}})
	saveRule(t, d, store.Rule{Name: "Urgent words", Trigger: "customer_replied",
		Conditions: []store.Condition{cond("body", "contains", "urgent")},
		Actions:    []store.Action{action("set_priority", "urgent"), action("auto_reply", "We saw it is urgent.")}})
	saveRule(t, d, store.Rule{Name: "Disabled", Trigger: "created", Actions: []store.Action{action("add_tags", []any{"never"})}})
	rules, _ := rulesOf(d).List(ctx)
	off := *rules[2]
	off.Enabled = false
	if _, err := rulesOf(d).Save(ctx, off.ID, off); err != nil {
		t.Fatal(err)
	}

	res := ingest(t, d, desk.Inbound{From: email("ana@shop.test"), Name: "Ana Lima", Subject: "Return of shoes", Text: "They are small", ExternalID: "r1"})
	tk := ticket(t, db, res.Ticket.ID)
	if tk.TeamID == nil || *tk.TeamID != team.ID || tk.Priority != "high" || strings.Join(tk.Tags, ",") != "return" {
		t.Fatalf("ticket after the rule: %+v", tk)
	}
	if got := ruleEvents(t, db, tk.ID); got != "Returns:set_team Returns:set_priority Returns:add_tags Returns:auto_reply" && got != "Returns:set_team Returns:add_tags Returns:set_priority Returns:auto_reply" {
		t.Fatalf("events: %s", got)
	}
	if got := autoReplies(t, db, tk.ID); len(got) != 1 || got[0] != "Hi Ana, ticket 1 is with our returns team." {
		t.Fatalf("auto replies: %q", got)
	}
	// Another channel, another subject: no rule.
	chat := ingest(t, d, desk.Inbound{Channel: "chat", From: store.Identity{Kind: "visitor", Value: "v1"}, Text: "return?"})
	if tk := ticket(t, db, chat.Ticket.ID); tk.TeamID != nil || len(tk.Tags) != 0 {
		t.Fatalf("chat ticket: %+v", tk)
	}

	// The customer writes "urgent" twice: the priority rises once, the
	// automatic answer goes once; machine mail never gets one.
	for i, in := range []desk.Inbound{
		{From: email("ana@shop.test"), Text: "This is URGENT", ThreadRefs: []string{"r1"}, ExternalID: "r2"},
		{From: email("ana@shop.test"), Text: "still urgent", ThreadRefs: []string{"r1"}, ExternalID: "r3"},
	} {
		if got := ingest(t, d, in); got.Ticket.ID != tk.ID {
			t.Fatalf("reply %d opened ticket %d", i, got.Ticket.ID)
		}
	}
	if got := autoReplies(t, db, tk.ID); len(got) != 2 || got[1] != "We saw it is urgent." {
		t.Fatalf("auto replies: %q", got)
	}
	if tk := ticket(t, db, tk.ID); tk.Priority != "urgent" {
		t.Fatalf("priority %s", tk.Priority)
	}
	robot := ingest(t, d, desk.Inbound{From: email("bo@shop.test"), Subject: "urgent return", Text: "urgent", Auto: "auto_reply", ExternalID: "x1"})
	if got := autoReplies(t, db, robot.Ticket.ID); len(got) != 0 {
		t.Fatalf("answered a machine: %q", got)
	}
}

func TestRuleConditions(t *testing.T) {
	d, db := newDesk(t)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoes", Timezone: "Europe/Lisbon"})
	if err != nil {
		t.Fatal(err)
	}
	tag := func(name string, match string, conds ...store.Condition) {
		saveRule(t, d, store.Rule{Name: name, Trigger: "created", Match: match, Conditions: conds, Actions: []store.Action{action("add_tags", []any{name})}})
	}
	tag("vip", "all", cond("customer_domain", "is", "@BigCo.com"))
	tag("returns", "all", cond("field.topic", "is", "returns"))
	tag("consent", "all", cond("field.consent", "is", true))
	tag("shoes", "all", cond("store_id", "is", float64(st.ID)))
	tag("no-store", "all", cond("store_id", "is", nil))
	tag("either", "any", cond("subject", "contains", "refund"), cond("body", "contains", "refund"))
	tag("not-chat", "all", cond("channel", "is_not", "chat"))
	tag("open-hours", "all", cond("business_hours", "is", true))
	tag("followed", "all", cond("tags", "contains", "vip")) // sees what an earlier rule did

	cases := []struct {
		in   desk.Inbound
		want string
	}{
		{desk.Inbound{From: email("boss@bigco.com"), Subject: "Hello", Text: "hi"}, "followed,no-store,not-chat,open-hours,vip"},
		{desk.Inbound{Channel: "form", StoreID: &st.ID, From: email("a@x.pt"), Subject: "Form", Text: "my refund",
			Fields: []byte(`{"topic":"Returns","consent":true}`)}, "consent,either,not-chat,open-hours,returns,shoes"},
		{desk.Inbound{Channel: "chat", From: store.Identity{Kind: "visitor", Value: "v9"}, Text: "Refund please"}, "either,no-store,open-hours"},
	}
	for i, c := range cases {
		c.in.ExternalID = "c" + string(rune('0'+i))
		res := ingest(t, d, c.in)
		if got := strings.Join(ticket(t, db, res.Ticket.ID).Tags, ","); got != c.want {
			t.Errorf("case %d: tags %s, want %s", i, got, c.want)
		}
	}
}

// Two rules that undo each other act once each, then stop.
func TestRulesCannotLoop(t *testing.T) {
	d, db := newDesk(t)
	saveRule(t, d, store.Rule{Name: "up", Trigger: "updated", Conditions: []store.Condition{cond("priority", "is", "high")},
		Actions: []store.Action{action("set_priority", "urgent")}})
	saveRule(t, d, store.Rule{Name: "down", Trigger: "updated", Conditions: []store.Condition{cond("priority", "is", "urgent")},
		Actions: []store.Action{action("set_priority", "high")}})
	saveRule(t, d, store.Rule{Name: "tagger", Trigger: "updated", Actions: []store.Action{action("add_tags", []any{"seen"})}})
	res := ingest(t, d, desk.Inbound{From: email("c@x.test"), Text: "hello", ExternalID: "l1"})
	a := agent(t, d, "a@desk.test", "agent")
	if _, err := d.UpdateTicket(ctx, desk.AgentActor(a.ID), res.Ticket.ID, desk.Update{Priority: "high"}); err != nil {
		t.Fatal(err)
	}
	tk := ticket(t, db, res.Ticket.ID)
	if got := ruleEvents(t, db, tk.ID); got != "up:set_priority down:set_priority tagger:add_tags" {
		t.Fatalf("events: %s", got)
	}
	if tk.Priority != "high" || strings.Join(tk.Tags, ",") != "seen" {
		t.Fatalf("ticket: %+v", tk)
	}
}

func TestTimeRules(t *testing.T) {
	d, db := newDesk(t)
	a := agent(t, d, "a@desk.test", "agent")
	team, _ := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Care", AgentIDs: []int64{a.ID}})
	start := store.Now()
	// Tickets that exist before the rule: its first sweep sees them too.
	pending := ingest(t, d, desk.Inbound{From: email("p@x.test"), Text: "thanks", ExternalID: "p1"}).Ticket
	if _, err := d.SetStatus(ctx, desk.AgentActor(a.ID), pending.ID, "pending"); err != nil {
		t.Fatal(err)
	}
	saveRule(t, d, store.Rule{Name: "Close quiet pending", Trigger: "time",
		Conditions: []store.Condition{cond("status", "is", "pending"), cond("hours_since_updated", "gt", 72.0)},
		Actions:    []store.Action{action("set_status", "resolved"), action("add_note", "Resolved after 3 quiet days.")}})
	saveRule(t, d, store.Rule{Name: "Unanswered", Trigger: "time",
		Conditions: []store.Condition{cond("hours_unanswered", "gt", 2.0)},
		Actions:    []store.Action{action("set_team", float64(team.ID)), action("notify", "team")}})
	waiting := ingest(t, d, desk.Inbound{From: email("w@x.test"), Text: "hello?", ExternalID: "w1"}).Ticket
	answered := ingest(t, d, desk.Inbound{From: email("y@x.test"), Text: "hi", ExternalID: "y1"}).Ticket
	if _, err := d.Reply(ctx, desk.AgentActor(a.ID), answered.ID, desk.ReplyInput{Body: "Hello!"}); err != nil {
		t.Fatal(err)
	}
	notes, stop := d.Bus().Subscribe(100)
	defer stop()

	sweep := func(after time.Duration) int {
		t.Helper()
		n, err := rulesOf(d).Sweep(ctx, start.Add(after))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := sweep(time.Hour); n != 0 {
		t.Fatalf("an hour in: %d", n)
	}
	if n := sweep(3 * time.Hour); n != 1 {
		t.Fatalf("three hours in: %d acted", n)
	}
	if tk := ticket(t, db, waiting.ID); tk.TeamID == nil || *tk.TeamID != team.ID {
		t.Fatalf("unanswered ticket: %+v", tk)
	}
	if tk := ticket(t, db, answered.ID); tk.TeamID != nil {
		t.Fatalf("an answered ticket was moved: %+v", tk)
	}
	for got := false; !got; {
		select {
		case c := <-notes:
			if c.Type == "notification" {
				if c.Notification.TicketID != waiting.ID || len(c.Notification.AgentIDs) != 1 || c.Notification.AgentIDs[0] != a.ID || c.Notification.By != "Unanswered" {
					t.Fatalf("notification: %+v", c.Notification)
				}
				got = true
			}
		case <-time.After(60 * time.Second):
			t.Fatal("no notification")
		}
	}
	if n := sweep(5 * time.Hour); n != 0 {
		t.Fatalf("acted again without a change: %d", n)
	}
	if n := sweep(71 * time.Hour); n != 0 {
		t.Fatalf("71 hours: %d", n)
	}
	if n := sweep(73 * time.Hour); n != 1 {
		t.Fatalf("73 hours: %d acted", n)
	}
	if tk := ticket(t, db, pending.ID); tk.Status != "resolved" {
		t.Fatalf("pending ticket after 3 days: %s", tk.Status)
	}
	if got := ruleEvents(t, db, pending.ID); got != "Close quiet pending:set_status Close quiet pending:add_note" {
		t.Fatalf("events: %s", got)
	}
	if n := sweep(200 * time.Hour); n != 0 {
		t.Fatalf("acted twice: %d", n)
	}
}

// A time rule's simple conditions narrow the sweep's reads; each kind of
// test (equal, unequal, null, tag) must pick the same tickets as the rule.
func TestTimeRuleConditionsInTheSweep(t *testing.T) {
	d, db := newDesk(t)
	team, _ := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Care"})
	start := store.Now()
	mk := func(ext, prio string, tags []string, teamID *int64) int64 {
		return ingest(t, d, desk.Inbound{From: email(ext + "@x.test"), Text: "hi", ExternalID: ext, Priority: prio, Tags: tags, TeamID: teamID}).Ticket.ID
	}
	match := mk("m", "urgent", []string{"vip"}, nil)
	mk("n1", "normal", []string{"vip"}, nil)
	mk("n2", "urgent", nil, nil)
	mk("n3", "urgent", []string{"vip"}, &team.ID)
	mk("n4", "urgent", []string{"vip", "spam"}, nil)
	saveRule(t, d, store.Rule{Name: "VIP waiting", Trigger: "time",
		Conditions: []store.Condition{cond("hours_unanswered", "gt", 1.0), cond("priority", "is", "urgent"),
			cond("tags", "contains", "vip"), cond("tags", "not_contains", "spam"), cond("team_id", "is", nil),
			cond("channel", "is_not", "chat"), cond("assignee_id", "is", nil)},
		Actions: []store.Action{action("add_tags", []any{"chase"})}})
	if n, err := rulesOf(d).Sweep(ctx, start.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v", n, err)
	}
	if tk := ticket(t, db, match); !slices.Contains(tk.Tags, "chase") {
		t.Fatalf("the matching ticket: %v", tk.Tags)
	}
}
