package snooze_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/snooze"
	"onedesk/store"
)

var ctx = context.Background()

func wokeReasons(t *testing.T, db *store.DB, id int64) []string {
	t.Helper()
	var out []string
	for _, e := range desktest.TicketEvents(t, db, id, store.EventWoke) {
		p, err := e.Payload()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p.(*store.WokeData).Reason)
	}
	return out
}

// A ticket snoozed until a time sleeps pending, shows in the snoozed
// view, and wakes open when the sweep passes its time; one snoozed until
// the customer writes wakes on their message (through Ingest), and an
// agent opening a snoozed ticket wakes it too.
func TestSnoozeWakes(t *testing.T) {
	d, db, raw := desktest.NewRaw(t)
	s := snooze.New(d, desktest.Log())
	a := desktest.Agent(t, d, "ann@shop.test", "agent")
	actor := desk.AgentActor(a.ID)
	mk := func(subject, from, id string) int64 {
		return desktest.Ingest(t, d, desk.Inbound{From: desktest.Email(from), Subject: subject, Text: "hello", ExternalID: id}).Ticket.ID
	}
	byTime, byReply, byAgent := mk("late parcel", "a@c.test", "m1@c.test"), mk("refund", "b@c.test", "m2@c.test"), mk("size", "c@c.test", "m3@c.test")

	wake := store.Now().Add(time.Hour)
	if _, err := s.Snooze(ctx, actor, byTime, &wake); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{byReply, byAgent} {
		if _, err := s.Snooze(ctx, actor, id, nil); err != nil {
			t.Fatal(err)
		}
	}
	past := store.Now().Add(-time.Second)
	if _, err := s.Snooze(ctx, actor, byTime, &past); desktest.FieldOf(err) != "until" {
		t.Fatalf("a time in the past: %v", err)
	}
	list, _, err := db.ListTickets(ctx, store.TicketFilter{Snoozed: true})
	if err != nil || len(list) != 3 {
		t.Fatalf("snoozed view: %d tickets, %v", len(list), err)
	}
	for _, tk := range list {
		if tk.Status != "pending" {
			t.Fatalf("ticket %d is %s while snoozed", tk.ID, tk.Status)
		}
	}

	// Not yet: the sweep leaves it.
	if n, err := s.Sweep(ctx, store.Now()); err != nil || n != 0 {
		t.Fatalf("sweep before the time: %d %v", n, err)
	}
	desktest.Exec(t, raw, "UPDATE snoozes SET wake_at = ? WHERE ticket_id = ?", store.Now().Add(-time.Minute).UnixMilli(), byTime)
	if n, err := s.Sweep(ctx, store.Now()); err != nil || n != 1 {
		t.Fatalf("sweep after the time: %d %v", n, err)
	}
	if got := desktest.Ticket(t, db, byTime).Status; got != "open" {
		t.Fatalf("woken by time: %s", got)
	}
	if got := wokeReasons(t, db, byTime); strings.Join(got, ",") != "time" {
		t.Fatalf("woke events: %v", got)
	}

	// Machine mail does not wake it; the customer's reply does.
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("b@c.test"), Subject: "Re: refund", Text: "I am away",
		ExternalID: "auto@c.test", ThreadRefs: []string{"m2@c.test"}, Auto: "auto_reply"})
	if got := desktest.Ticket(t, db, byReply).Status; got != "pending" {
		t.Fatalf("an auto-reply woke it: %s", got)
	}
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("b@c.test"), Subject: "Re: refund", Text: "any news?",
		ExternalID: "m2b@c.test", ThreadRefs: []string{"m2@c.test"}})
	if got := desktest.Ticket(t, db, byReply).Status; got != "open" {
		t.Fatalf("customer reply: %s", got)
	}
	if got := wokeReasons(t, db, byReply); strings.Join(got, ",") != "customer" {
		t.Fatalf("woke events: %v", got)
	}

	// An agent opening it by hand wakes it.
	if _, err := d.UpdateTicket(ctx, actor, byAgent, desk.Update{Status: "open"}); err != nil {
		t.Fatal(err)
	}
	if got := wokeReasons(t, db, byAgent); strings.Join(got, ",") != "agent" {
		t.Fatalf("woke events: %v", got)
	}
	if list, _, _ := db.ListTickets(ctx, store.TicketFilter{Snoozed: true}); len(list) != 0 {
		t.Fatalf("still in the snoozed view: %d", len(list))
	}
	// A resolved ticket cannot sleep.
	if _, err := d.UpdateTicket(ctx, actor, byAgent, desk.Update{Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Snooze(ctx, actor, byAgent, nil); desktest.FieldOf(err) != "status" {
		t.Fatalf("snoozing a resolved ticket: %v", err)
	}
}

// The presets read the store's time zone.
func TestWakeTimePresets(t *testing.T) {
	loc, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	now := time.Date(2026, 12, 9, 22, 30, 0, 0, time.UTC) // Wednesday 17:30 in New York
	for preset, want := range map[string]string{
		"later_today": "2026-12-10T01:30:00Z",
		"tomorrow":    "2026-12-10T14:00:00Z", // 9:00 Thursday in New York
		"next_week":   "2026-12-14T14:00:00Z", // 9:00 Monday
	} {
		got, err := snooze.WakeTime(preset, now, loc)
		if err != nil || got.Format(time.RFC3339) != want {
			t.Errorf("%s: %v %v, want %s", preset, got, err, want)
		}
	}
	if got, err := snooze.WakeTime("customer_reply", now, loc); got != nil || err != nil {
		t.Errorf("customer_reply: %v %v", got, err)
	}
	if _, err := snooze.WakeTime("someday", now, loc); desktest.FieldOf(err) != "preset" {
		t.Errorf("unknown preset: %v", err)
	}
}
