package sla

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

const sweptKey = "sla_swept"

// Sweep records the breaches of the tickets whose due time passed by now
// and sets off the sla_breached rules on them, and the sla_at_risk rules
// on the tickets that became at risk. Like the time rules it reads only
// what crossed a time since its last sweep (or changed since), and acts in
// small transactions. It returns how many tickets it acted on.
func (k *Clock) Sweep(ctx context.Context, now time.Time) (int, error) {
	raw, err := k.db.Setting(ctx, sweptKey)
	if err != nil {
		return 0, fmt.Errorf("sla sweep: %w", err)
	}
	var prev time.Time
	if ms, err := strconv.ParseInt(raw, 10, 64); err == nil && ms > 0 {
		prev = time.UnixMilli(ms).UTC()
	}
	acted := 0
	for _, which := range []string{"warn", "due"} {
		// A ticket whose due time a change put in the past is found by
		// its change; one put at risk that way is not told twice.
		changed := prev
		if which == "warn" {
			changed = time.Time{}
		}
		ids, err := k.db.SLACandidates(ctx, which, prev, now, changed)
		if err != nil {
			return acted, fmt.Errorf("sla sweep: %w", err)
		}
		for start := 0; start < len(ids); start += sweepBatch {
			n, err := k.sweepBatch(ctx, which, ids[start:min(start+sweepBatch, len(ids))], now)
			acted += n
			if err != nil {
				return acted, fmt.Errorf("sla sweep: %w", err)
			}
		}
	}
	if err := k.db.SetSetting(ctx, sweptKey, fmt.Sprint(now.UnixMilli())); err != nil {
		return acted, fmt.Errorf("sla sweep: %w", err)
	}
	return acted, nil
}

// sweptTicket is what a sweep did to one ticket: the clock's own changes
// and those of the rules it set off (nil when it set off none).
type sweptTicket struct{ clock, rules *desk.TicketTx }

func (k *Clock) sweepBatch(ctx context.Context, which string, ids []int64, now time.Time) (int, error) {
	var swept []sweptTicket
	err := k.db.Write(ctx, func(tx *store.Tx) error {
		for _, id := range ids {
			t, err := tx.Ticket(ctx, id)
			if err != nil {
				return err
			}
			st, err := k.sweepTicket(ctx, k.d.TicketTx(tx, t, nil, now), which)
			if err != nil {
				return err
			}
			swept = append(swept, st)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	// The clock's changes first, then the rules' with their notifications.
	acted := 0
	for _, st := range swept {
		st.clock.Publish(ctx)
	}
	for _, st := range swept {
		if st.rules != nil {
			acted++
			st.rules.Publish(ctx)
		}
	}
	return acted, nil
}

// sweepTicket records what passed of one ticket's targets, sets off the
// rules of trigger when something did, and writes the ticket.
func (k *Clock) sweepTicket(ctx context.Context, c *desk.TicketTx, which string) (sweptTicket, error) {
	// Worked out again first: a policy deleted or switched off since the
	// ticket last changed no longer counts.
	if err := k.refresh(ctx, c); err != nil {
		return sweptTicket{}, err
	}
	trigger, news, err := "sla_at_risk", false, error(nil)
	if which == "due" {
		trigger = "sla_breached"
		news, err = breachesDue(ctx, c)
	} else {
		s := &c.Ticket.SLA
		news = s.Warn != nil && !s.Warn.After(c.Now) && s.Next != nil && s.Next.After(c.Now)
	}
	if err != nil {
		return sweptTicket{}, err
	}
	if !news {
		return sweptTicket{clock: c}, c.Tx.UpdateTicket(ctx, c.Ticket)
	}
	rules := k.d.TicketTx(c.Tx, c.Ticket, nil, c.Now)
	if err := rules.Changed(ctx, trigger); err != nil {
		return sweptTicket{}, err
	}
	return sweptTicket{clock: c, rules: rules}, c.Save(ctx)
}

// breachesDue records the breach of every running target that passed,
// the first response and the resolution alike when both did, and tells
// whether one was new.
func breachesDue(ctx context.Context, c *desk.TicketTx) (bool, error) {
	t, s, now := c.Ticket, &c.Ticket.SLA, c.Now
	n := c.Pending()
	if s.FirstResponseDue != nil && t.FirstResponseAt == nil && !done(t.Status) && !s.FirstResponseDue.After(now) {
		if err := breach(ctx, c, store.BreachedFirstResponse, "first_response", *s.FirstResponseDue); err != nil {
			return false, err
		}
	}
	if s.ResolutionDue != nil && !s.ResolutionDue.After(now) {
		if err := breach(ctx, c, store.BreachedResolution, "resolution", *s.ResolutionDue); err != nil {
			return false, err
		}
	}
	return c.Pending() > n, nil
}
