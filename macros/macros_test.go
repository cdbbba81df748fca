package macros_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/macros"
	"onedesk/store"
)

var ctx = context.Background()

// A macro applied to a ticket changes its status, priority, tags and
// assignee in events that name the macro, fills the reply's placeholders
// for the reply box, and counts the use for the agent: their list puts
// it first. One that sends its reply queues it.
func TestApplyMacro(t *testing.T) {
	d, db := desktest.New(t)
	svc := macros.New(d, desktest.Log())
	sup := desktest.Agent(t, d, "sue@shop.test", "supervisor")
	ann := desktest.Agent(t, d, "ann@shop.test", "agent")
	tk := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("kim@c.test"), Name: "Kim Lee", Subject: "Where is my parcel?",
		Text: "hello", ExternalID: "m1@c.test"}).Ticket

	shared, err := svc.Save(ctx, sup, 0, store.Macro{Name: "Shipping delay", Reply: "Hi {{customer.first_name}}, ticket {{ticket.id}} is with us.",
		Status: "pending", Priority: "high", AddTags: []string{"Shipping"}, AssignTo: "me"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Save(ctx, ann, 0, store.Macro{Name: "Mine", Status: "open"}, true); desktest.FieldOf(err) != "shared" {
		t.Fatalf("an agent saved a shared macro: %v", err)
	}
	thanks, err := svc.Save(ctx, ann, 0, store.Macro{Name: "Thanks and close", Reply: "Thanks {{customer.name}}!", SendReply: true,
		Status: "resolved", RemoveTags: []string{"shipping"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Save(ctx, ann, 0, store.Macro{Name: "Refund", OrderAction: &store.MacroOrderAction{Name: "refund"}}, false); desktest.FieldOf(err) != "order_action" {
		t.Fatalf("an order action without an implementation: %v", err)
	}
	if _, err := svc.Save(ctx, ann, shared.ID, *shared, true); desktest.FieldOf(err) != "shared" {
		t.Fatalf("an agent changed a shared macro: %v", err)
	}

	res, err := svc.Apply(ctx, ann, shared.ID, tk.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := "Hi Kim, ticket " + itoa(tk.ID) + " is with us."; res.Reply != want || res.Sent != nil {
		t.Fatalf("reply %q (sent %v), want %q", res.Reply, res.Sent, want)
	}
	got := desktest.Ticket(t, db, tk.ID)
	if got.Status != "pending" || got.Priority != "high" || strings.Join(got.Tags, ",") != "shipping" || got.AssigneeID == nil || *got.AssigneeID != ann.ID {
		t.Fatalf("ticket after the macro: %+v", got)
	}
	for _, typ := range []store.EventType{store.EventStatusChanged, store.EventPriorityChanged, store.EventTagsChanged, store.EventAssigned} {
		evs := desktest.TicketEvents(t, db, tk.ID, typ)
		if len(evs) == 0 {
			t.Fatalf("no %s event", typ)
		}
		var data struct{ Macro string }
		json.Unmarshal(evs[len(evs)-1].Data, &data)
		if data.Macro != "Shipping delay" || evs[len(evs)-1].Actor != itoa(ann.ID) {
			t.Fatalf("%s event: %s by %s", typ, evs[len(evs)-1].Data, evs[len(evs)-1].Actor)
		}
	}
	if n := len(desktest.TicketEvents(t, db, tk.ID, store.EventMacroApplied)); n != 1 {
		t.Fatalf("%d macro_applied events", n)
	}

	// Ann's list: the macro she used first, then by name; Sue's own count is 0.
	list, err := svc.List(ctx, ann)
	if err != nil || len(list) != 2 || list[0].ID != shared.ID || list[0].Uses != 1 {
		t.Fatalf("ann's macros: %+v %v", list, err)
	}
	if list, _ := svc.List(ctx, sup); len(list) != 1 || list[0].Uses != 0 {
		t.Fatalf("sue sees %d macros (ann's own are hers)", len(list))
	}
	// A macro shared with a team: its members see it, others do not.
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Returns", AgentIDs: []int64{ann.ID}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Save(ctx, sup, 0, store.Macro{Name: "Return label", TeamID: &team.ID, AddTags: []string{"return"}}, true); err != nil {
		t.Fatal(err)
	}
	ann, _ = db.Agent(ctx, ann.ID) // with her team
	if list, _ := svc.List(ctx, ann); len(list) != 3 {
		t.Fatalf("ann sees %d macros, want 3 with her team's", len(list))
	}
	if list, _ := svc.List(ctx, sup); len(list) != 2 {
		t.Fatalf("sue sees %d macros: she manages the shared ones of every team", len(list))
	}
	if list, _ := svc.List(ctx, desktest.Agent(t, d, "bo@shop.test", "agent")); len(list) != 1 {
		t.Fatalf("bo, of no team, sees %d macros", len(list))
	}

	res, err = svc.Apply(ctx, ann, thanks.ID, tk.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Sent == nil || res.Sent.Body != "Thanks Kim Lee!" || res.Sent.Delivery != "queued" || res.Reply != "" {
		t.Fatalf("sent: %+v reply %q", res.Sent, res.Reply)
	}
	if got := desktest.Ticket(t, db, tk.ID); got.Status != "resolved" || len(got.Tags) != 0 {
		t.Fatalf("after the second macro: %s %v", got.Status, got.Tags)
	}
	if _, err := svc.Apply(ctx, sup, thanks.ID, tk.ID, ""); err == nil {
		t.Fatal("sue applied ann's personal macro")
	}
}

// A macro applied to many tickets changes each and sends each its reply
// with its own placeholders; a ticket that cannot take it is reported.
func TestApplyMacroBulk(t *testing.T) {
	d, db := desktest.New(t)
	svc := macros.New(d, desktest.Log())
	sup := desktest.Agent(t, d, "sue@shop.test", "supervisor")
	var ids []int64
	for i, name := range []string{"Ana", "Ben", "Cy"} {
		ids = append(ids, desktest.Ingest(t, d, desk.Inbound{From: desktest.Email(strings.ToLower(name) + "@c.test"), Name: name,
			Subject: "Order", Text: "hi", ExternalID: itoa(int64(i)) + "@c.test"}).Ticket.ID)
	}
	if _, err := d.UpdateTicket(ctx, desk.AgentActor(sup.ID), ids[2], desk.Update{Status: "closed"}); err != nil {
		t.Fatal(err)
	}
	m, err := svc.Save(ctx, sup, 0, store.Macro{Name: "Shipped", Reply: "Dear {{customer.name}}, it shipped.", AddTags: []string{"shipped"}, Status: "pending"}, true)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.ApplyBulk(ctx, sup, m.ID, append(ids, 999999))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Updated) != 2 || res.Sent != 2 || len(res.Failed) != 2 {
		t.Fatalf("bulk: %+v", res)
	}
	for i, id := range ids[:2] {
		msgs, err := db.Messages(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		last := msgs[len(msgs)-1]
		if want := "Dear " + []string{"Ana", "Ben"}[i] + ", it shipped."; last.Body != want || last.Kind != "agent" {
			t.Fatalf("ticket %d: %q", id, last.Body)
		}
		if tk := desktest.Ticket(t, db, id); tk.Status != "pending" || strings.Join(tk.Tags, ",") != "shipped" {
			t.Fatalf("ticket %d: %s %v", id, tk.Status, tk.Tags)
		}
	}
	if list, _ := svc.List(ctx, sup); list[0].Uses != 2 {
		t.Fatalf("uses: %d", list[0].Uses)
	}
}

// orderLog carries out nothing in a shop: it records what the macro
// asked, to show where the order actions plug in. Its previews say
// "resend", with the token "tok-1"; refuse makes the shop say no.
type orderLog struct {
	got    []string
	refuse string
}

func (o *orderLog) Available() []macros.ActionInfo {
	return []macros.ActionInfo{{Name: "resend_confirmation", Label: "Resend the order confirmation"}}
}

func (o *orderLog) Preview(_ context.Context, actor desk.Actor, ticketID int64, a store.MacroOrderAction) (*macros.Confirmation, error) {
	return &macros.Confirmation{Preview: map[string]any{"action": a.Name}, Token: "tok-1"}, nil
}

func (o *orderLog) Run(_ context.Context, actor desk.Actor, ticketID int64, a store.MacroOrderAction, token string) (macros.OrderOutcome, error) {
	if token != "tok-1" {
		return macros.OrderOutcome{}, &macros.Confirmation{Preview: map[string]any{"action": a.Name}, Token: "tok-1", Changed: true}
	}
	if slices.Contains(o.got, a.Name+" by "+actor.String()+" via "+actor.Macro) {
		return macros.OrderOutcome{Done: true, Said: "confirmation sent", Repeat: true}, nil
	}
	o.got = append(o.got, a.Name+" by "+actor.String()+" via "+actor.Macro)
	if o.refuse != "" {
		return macros.OrderOutcome{Said: o.refuse}, nil
	}
	return macros.OrderOutcome{Done: true, Said: "confirmation sent"}, nil
}

// With order actions plugged in, a macro may name one. Applying it first
// answers the confirmation and changes nothing; applied with its token,
// the action runs, then the other steps, and the outcome is on the
// macro_applied event; the same token again does nothing more. A refusal
// stops the macro before its reply and status.
func TestMacroOrderActionHook(t *testing.T) {
	d, db := desktest.New(t)
	svc := macros.New(d, desktest.Log())
	ann := desktest.Agent(t, d, "ann@shop.test", "supervisor") // order actions are theirs
	tk := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("kim@c.test"), Subject: "No mail", Text: "hi", ExternalID: "m@c.test"}).Ticket
	if len(svc.Available()) != 0 {
		t.Fatal("order actions without an implementation")
	}
	oa := &orderLog{}
	svc.SetOrderActions(oa)
	m, err := svc.Save(ctx, ann, 0, store.Macro{Name: "Resend", Reply: "Sent again, {{customer.first_name}}.", SendReply: true,
		Status: "pending", OrderAction: &store.MacroOrderAction{Name: "resend_confirmation"}}, false)
	if err != nil {
		t.Fatal(err)
	}
	_, err = svc.Apply(ctx, ann, m.ID, tk.ID, "")
	var c *macros.Confirmation
	if !errors.As(err, &c) || c.Token != "tok-1" || len(oa.got) != 0 {
		t.Fatalf("apply without confirmation: %v (ran %v)", err, oa.got)
	}
	if got := desktest.Ticket(t, db, tk.ID); got.Status != "new" || len(desktest.TicketEvents(t, db, tk.ID, store.EventMacroApplied)) != 0 {
		t.Fatalf("unconfirmed, the ticket changed: %s", got.Status)
	}
	if _, err := svc.Apply(ctx, ann, m.ID, tk.ID, "tok-old"); !errors.As(err, &c) || !c.Changed || len(oa.got) != 0 {
		t.Fatalf("a stale token: %v", err)
	}
	res, err := svc.Apply(ctx, ann, m.ID, tk.ID, "tok-1")
	if err != nil || res.OrderResult != "confirmation sent" || res.Sent == nil || res.Ticket.Status != "pending" {
		t.Fatalf("apply: %+v %v", res, err)
	}
	if want := "resend_confirmation by " + itoa(ann.ID) + " via Resend"; len(oa.got) != 1 || oa.got[0] != want {
		t.Fatalf("ran %v", oa.got)
	}
	evs := desktest.TicketEvents(t, db, tk.ID, store.EventMacroApplied)
	if len(evs) != 1 || !strings.Contains(string(evs[0].Data), `"order_result":"confirmation sent"`) {
		t.Fatalf("events: %v", evs)
	}
	// The same confirmation again (a double click): nothing more.
	if res, err := svc.Apply(ctx, ann, m.ID, tk.ID, "tok-1"); err != nil || !res.Repeat || res.Sent != nil ||
		len(desktest.TicketEvents(t, db, tk.ID, store.EventMacroApplied)) != 1 {
		t.Fatalf("confirmed twice: %+v %v", res, err)
	}
	// Refused by the shop: no reply, no status, the shop's sentence.
	oa.got, oa.refuse = nil, "Order has already been cancelled"
	tk2 := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("lu@c.test"), Subject: "Again", Text: "hi", ExternalID: "m2@c.test"}).Ticket
	res, err = svc.Apply(ctx, ann, m.ID, tk2.ID, "tok-1")
	if err != nil || !res.Stopped || res.OrderError != oa.refuse || res.Sent != nil || res.Ticket.Status != "new" {
		t.Fatalf("refused: %+v %v", res, err)
	}
	if evs := desktest.TicketEvents(t, db, tk2.ID, store.EventMacroApplied); len(evs) != 1 || !strings.Contains(string(evs[0].Data), oa.refuse) {
		t.Fatalf("refused events: %v", evs)
	}
	// An agent not granted order actions: refused before any step.
	bo := desktest.Agent(t, d, "bo@shop.test", "agent")
	shared, err := svc.Save(ctx, ann, 0, store.Macro{Name: "Resend for all", AddTags: []string{"resent"},
		OrderAction: &store.MacroOrderAction{Name: "resend_confirmation"}}, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Apply(ctx, bo, shared.ID, tk.ID, "tok-1"); !errors.Is(err, macros.ErrOrderActionsNotAllowed) || len(oa.got) != 1 {
		t.Fatalf("an agent without the permission: %v (ran %v)", err, oa.got)
	}
	if got := desktest.Ticket(t, db, tk.ID); slices.Contains(got.Tags, "resent") {
		t.Fatal("the macro's tag went on without the permission")
	}
	if _, err := svc.ApplyBulk(ctx, ann, m.ID, []int64{tk.ID}); desktest.FieldOf(err) != "macro" {
		t.Fatalf("an order action in bulk: %v", err)
	}
}

func itoa(v int64) string { b, _ := json.Marshal(v); return string(b) }
