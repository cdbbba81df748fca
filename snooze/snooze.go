// Package snooze puts tickets to sleep until a time or until their
// customer writes, and wakes them (issue #28). A snoozed ticket is
// pending with a row in snoozes; it wakes as open with a "woke" event
// when its time comes (Sweep, run by cli's time sweeps on one node at a
// time), when its customer writes, or when an agent wakes it or moves
// its status (the transaction hook). The row is the state, so a restart
// loses nothing: a time that passed while the desk was down wakes the
// ticket at the first sweep.
package snooze

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// Service snoozes and wakes tickets.
type Service struct {
	d   *desk.Desk
	db  *store.DB
	log *slog.Logger
}

// New plugs the snooze hook into d.
func New(d *desk.Desk, log *slog.Logger) *Service {
	s := &Service{d: d, db: d.DB(), log: log}
	d.AddTxHook(s)
	return s
}

// Presets are the wake times the app offers besides a chosen one.
var Presets = []string{"later_today", "tomorrow", "next_week", "customer_reply"}

// WakeTime is when a preset wakes a ticket snoozed at now, read in the
// store's time zone (loc): later today is three hours on, tomorrow is
// 9:00 the next day, next week is 9:00 next Monday. customer_reply has
// no time (nil).
func WakeTime(preset string, now time.Time, loc *time.Location) (*time.Time, error) {
	local := now.In(loc)
	morning := func(days int) time.Time {
		d := local.AddDate(0, 0, days)
		return time.Date(d.Year(), d.Month(), d.Day(), 9, 0, 0, 0, loc).UTC()
	}
	var at time.Time
	switch preset {
	case "later_today":
		at = now.Add(3 * time.Hour).Truncate(time.Minute)
	case "tomorrow":
		at = morning(1)
	case "next_week":
		days := (8 - int(local.Weekday())) % 7
		if days == 0 {
			days = 7
		}
		at = morning(days)
	case "customer_reply":
		return nil, nil
	default:
		return nil, desk.InputErrorf("preset", "preset must be one of %v, not %q", Presets, preset)
	}
	return &at, nil
}

// Zone is the time zone of a ticket's store (UTC without one).
func (s *Service) Zone(ctx context.Context, t *store.Ticket) *time.Location {
	if t.StoreID == nil {
		return time.UTC
	}
	st, err := s.db.Store(ctx, *t.StoreID)
	if err != nil || st.Timezone == "" {
		return time.UTC
	}
	loc, err := time.LoadLocation(st.Timezone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// MaxSnooze is how far ahead a ticket may sleep.
const MaxSnooze = 366 * 24 * time.Hour

// Snooze puts a ticket to sleep until wake (nil: until its customer
// writes): it becomes pending, with events.
func (s *Service) Snooze(ctx context.Context, actor desk.Actor, ticketID int64, wake *time.Time) (*store.Ticket, error) {
	now := store.Now()
	if wake != nil && (wake.Before(now.Add(10*time.Second)) || wake.After(now.Add(MaxSnooze))) {
		return nil, desk.InputErrorf("until", "choose a time in the future, at most a year from now")
	}
	var c *desk.TicketTx
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		t, err := tx.Ticket(ctx, ticketID)
		if err != nil {
			return err
		}
		if t.Status == "resolved" || t.Status == "closed" {
			return desk.InputErrorf("status", "a %s ticket cannot be snoozed: reopen it first", t.Status)
		}
		c = s.d.TicketTx(tx, t, nil, now)
		if from := t.Status; c.MoveStatus("pending") {
			if _, err := c.Event(ctx, actor, store.StatusChangedData{From: from, To: "pending"}); err != nil {
				return err
			}
		}
		if err := tx.SetSnooze(ctx, store.Snooze{TicketID: t.ID, WakeAt: wake, Actor: actor.String(), CreatedAt: now}); err != nil {
			return err
		}
		data := store.SnoozedData{}
		if wake != nil {
			data.Until = wake.UTC().Format(time.RFC3339)
		}
		if _, err := c.Event(ctx, actor, data); err != nil {
			return err
		}
		t.UpdatedAt = now
		return c.Save(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("snooze ticket %d: %w", ticketID, err)
	}
	c.Publish(ctx)
	return c.Ticket, nil
}

// Wake wakes a snoozed ticket now, as open (by actor: "agent", or the
// sweep's "time"). A ticket not snoozed is left as it is (nil, nil).
func (s *Service) Wake(ctx context.Context, actor desk.Actor, ticketID int64) (*store.Ticket, error) {
	return s.wake(ctx, actor, ticketID, "agent", time.Time{})
}

// wake ends ticketID's snooze with reason; dueBy, when set, wakes it only
// if its time is by then (a sweep racing an agent's new snooze).
func (s *Service) wake(ctx context.Context, actor desk.Actor, ticketID int64, reason string, dueBy time.Time) (*store.Ticket, error) {
	var c *desk.TicketTx
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		c = nil
		now := store.Now()
		t, err := tx.Ticket(ctx, ticketID)
		if err != nil {
			return err
		}
		sn, err := tx.EndSnooze(ctx, ticketID)
		if err != nil || sn == nil {
			return err
		}
		if !dueBy.IsZero() && (sn.WakeAt == nil || sn.WakeAt.After(dueBy)) {
			return tx.SetSnooze(ctx, *sn) // snoozed again meanwhile
		}
		if t.Status != "pending" {
			return nil // moved on without the hook (merged away): nothing to wake
		}
		c = s.d.TicketTx(tx, t, nil, now)
		if from := t.Status; c.MoveStatus("open") {
			if _, err := c.Event(ctx, actor, store.StatusChangedData{From: from, To: "open"}); err != nil {
				return err
			}
		}
		if _, err := c.Event(ctx, actor, store.WokeData{Reason: reason}); err != nil {
			return err
		}
		t.UpdatedAt = now
		return c.Save(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("wake ticket %d: %w", ticketID, err)
	}
	if c == nil {
		return nil, nil
	}
	c.Publish(ctx)
	return c.Ticket, nil
}

// Sweep wakes the tickets whose time came by now and tells how many.
func (s *Service) Sweep(ctx context.Context, now time.Time) (int, error) {
	woke := 0
	for {
		ids, err := s.db.DueSnoozes(ctx, now, 100)
		if err != nil {
			return woke, fmt.Errorf("snooze sweep: %w", err)
		}
		for _, id := range ids {
			t, err := s.wake(ctx, desk.System, id, "time", now)
			if err != nil {
				return woke, fmt.Errorf("snooze sweep: %w", err)
			}
			if t != nil {
				woke++
			}
		}
		if len(ids) < 100 {
			return woke, nil
		}
	}
}

// TicketChanged does nothing: TicketSaving sees every change.
func (s *Service) TicketChanged(context.Context, *desk.TicketTx, string) error { return nil }

// TicketSaving wakes a snoozed ticket whose status moved off pending: its
// customer wrote (ingest reopened it) or an agent changed it. A snoozed
// ticket is pending, so only a move off pending is looked at: the writes
// of every other ticket (each chat message) cost nothing more.
func (s *Service) TicketSaving(ctx context.Context, c *desk.TicketTx) error {
	if c.Ticket.Status == "pending" || c.Ticket.StatusAsRead() != "pending" {
		return nil
	}
	sn, err := c.Tx.EndSnooze(ctx, c.Ticket.ID)
	if err != nil || sn == nil {
		return err
	}
	reason, actor := "agent", desk.System
	if c.Message != nil && c.Message.Kind == "customer" {
		reason, actor = "customer", desk.Customer
	}
	_, err = c.Event(ctx, actor, store.WokeData{Reason: reason})
	return err
}
