package sla

import (
	"context"
	"time"

	"onedesk/desk"
	"onedesk/hours"
	"onedesk/store"
)

// TicketChanged does nothing: the clock is worked out on every write
// (TicketSaving), whatever the change.
func (k *Clock) TicketChanged(context.Context, *desk.TicketTx, string) error { return nil }

// TicketSaving works the ticket's due times out again before it is
// written (desk's hook point).
func (k *Clock) TicketSaving(ctx context.Context, c *desk.TicketTx) error { return k.refresh(ctx, c) }

// running tells whether the resolution clock runs: the ticket waits on
// us.
func running(status string) bool { return status == "new" || status == "open" }

func done(status string) bool { return status == "resolved" || status == "closed" }

// ticketClock is one ticket's clock under the policy that covers it.
type ticketClock struct {
	c                   *desk.TicketTx
	hours               *hours.Week // nil: calendar time
	firstResp, resolved time.Duration
}

// after is the business time after the ticket was made, pauses left out.
func (tc *ticketClock) after(d time.Duration) time.Time {
	s := &tc.c.Ticket.SLA
	return tc.hours.Add(tc.c.Ticket.CreatedAt, d+time.Duration(s.PausedMS)*time.Millisecond)
}

// refresh works the ticket's due times out again as of now, after
// whatever changed it: the policy that covers it, its priority, its
// status (the resolution clock stands still while pending or resolved)
// and its first response. A target met late is recorded as a breach at
// once; one that passes while nobody acts is recorded by Sweep.
func (k *Clock) refresh(ctx context.Context, c *desk.TicketTx) error {
	list, err := k.active(ctx)
	if err != nil {
		return err
	}
	t := c.Ticket
	s := &t.SLA
	if len(list) == 0 && s.PolicyID == nil && s.Due == nil && s.Next == nil && s.Warn == nil && s.FirstResponseDue == nil {
		return nil // the common case of a desk without SLAs
	}
	p, target := store.PolicyFor(list, t)
	tc := &ticketClock{c: c, firstResp: time.Duration(target.FirstResponse) * time.Second,
		resolved: time.Duration(target.Resolution) * time.Second}
	if p != nil && p.BusinessHours && t.StoreID != nil {
		if tc.hours, err = k.d.StoreHours(ctx, c.Tx, *t.StoreID); err != nil {
			return err
		}
	}
	if err := tc.pauseOrRun(ctx); err != nil {
		return err
	}
	s.PolicyID, s.FirstResponseDue, s.ResolutionDue, s.Due, s.Next, s.Warn = nil, nil, nil, nil, nil, nil
	if p == nil {
		return nil
	}
	s.PolicyID = &p.ID
	return tc.deadlines(ctx)
}

// pauseOrRun stops the clock while the ticket waits on the customer or
// is done, and starts it again when it waits on us; a resolution that
// came late is a breach.
func (tc *ticketClock) pauseOrRun(ctx context.Context) error {
	t, now := tc.c.Ticket, tc.c.Now
	s := &t.SLA
	switch running := running(t.Status); {
	case running && s.PausedAt != nil:
		s.PausedMS += tc.hours.Between(*s.PausedAt, now).Milliseconds()
		s.PausedAt = nil
	case !running && s.PausedAt == nil:
		if due := tc.after(tc.resolved); tc.resolved > 0 && now.After(due) && done(t.Status) {
			if err := breach(ctx, tc.c, store.BreachedResolution, "resolution", due); err != nil {
				return err
			}
		}
		s.PausedAt = &now
	}
	return nil
}

// deadlines sets the due times of the running targets: Due is what the
// inbox calls overdue; Next, and its warning, what the sweep still has to
// record. A first response that came late is a breach.
func (tc *ticketClock) deadlines(ctx context.Context) error {
	t := tc.c.Ticket
	s := &t.SLA
	// Each running target: its due time, when it is at risk, its breach bit.
	type deadline struct {
		due, warn time.Time
		bit       int
	}
	var runs []deadline
	if tc.firstResp > 0 {
		due := tc.hours.Add(t.CreatedAt, tc.firstResp) // pending does not stop it
		s.FirstResponseDue = &due
		if t.FirstResponseAt != nil && t.FirstResponseAt.After(due) {
			if err := breach(ctx, tc.c, store.BreachedFirstResponse, "first_response", due); err != nil {
				return err
			}
		}
		if t.FirstResponseAt == nil && !done(t.Status) {
			runs = append(runs, deadline{due, tc.hours.Add(t.CreatedAt, tc.firstResp*3/4), store.BreachedFirstResponse})
		}
	}
	if tc.resolved > 0 && s.PausedAt == nil {
		due := tc.after(tc.resolved)
		s.ResolutionDue = &due
		runs = append(runs, deadline{due, tc.after(tc.resolved * 3 / 4), store.BreachedResolution})
	}
	for _, dl := range runs {
		if s.Due == nil || dl.due.Before(*s.Due) {
			s.Due = &dl.due
		}
		if s.Breached&dl.bit == 0 && (s.Next == nil || dl.due.Before(*s.Next)) {
			s.Next, s.Warn = &dl.due, &dl.warn
		}
	}
	return nil
}

// breach records that a target of the ticket passed unmet, once.
func breach(ctx context.Context, c *desk.TicketTx, bit int, name string, due time.Time) error {
	s := &c.Ticket.SLA
	if s.Breached&bit != 0 {
		return nil
	}
	s.Breached |= bit
	data := store.SLABreachedData{Target: name, Due: due.UTC().Format(time.RFC3339), PolicyID: s.PolicyID}
	_, err := c.Event(ctx, desk.System, data)
	return err
}

// ---- What the reports read

// BusinessTime is how much of from..to the store was open (all of it
// without a store or opening hours), read within tx.
func (k *Clock) BusinessTime(ctx context.Context, tx *store.Tx, storeID *int64, from, to time.Time) (time.Duration, error) {
	var w *hours.Week
	if storeID != nil {
		var err error
		if w, err = k.d.StoreHours(ctx, tx, *storeID); err != nil {
			return 0, err
		}
	}
	return w.Between(from, to), nil
}

// HasResolutionTarget tells whether the enabled policy that covers t now
// gives it a resolution target.
func (k *Clock) HasResolutionTarget(ctx context.Context, t *store.Ticket) (bool, error) {
	list, err := k.active(ctx)
	if err != nil {
		return false, err
	}
	_, target := store.PolicyFor(list, t)
	return target.Resolution > 0, nil
}
