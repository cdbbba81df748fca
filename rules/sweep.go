package rules

import (
	"context"
	"fmt"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// Sweep runs the time rules as of now: each looks only at the tickets
// that crossed its threshold, or changed, since its last sweep (an index
// read), and acts on them in small transactions so that messages arriving
// meanwhile are not held up. It returns how many times a rule acted.
func (e *Engine) Sweep(ctx context.Context, now time.Time) (int, error) {
	rules, err := e.active(ctx)
	if err != nil {
		return 0, err
	}
	acted := 0
	for _, r := range rules {
		if r.Trigger != "time" {
			continue
		}
		n, err := e.sweepRule(ctx, r, now)
		acted += n
		if err != nil {
			return acted, fmt.Errorf("sweep rule %d: %w", r.ID, err)
		}
	}
	return acted, nil
}

func (e *Engine) sweepRule(ctx context.Context, r *rule, now time.Time) (int, error) {
	threshold := time.Duration(r.timeHours * float64(time.Hour))
	due := now.Add(-threshold)
	var prevDue, changed time.Time
	if !r.SweptTo.IsZero() && r.SweptTo.Unix() > 0 {
		prevDue, changed = r.SweptTo.Add(-threshold), r.SweptTo
	}
	ids, err := e.db.TimeCandidates(ctx, r.statuses, r.timeCol, prevDue, due, changed, r.unanswered, r.sqlTests)
	if err != nil {
		return 0, err
	}
	acted := 0
	for start := 0; start < len(ids); start += sweepBatch {
		var done []*desk.TicketTx
		err := e.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			done, err = e.sweepBatch(ctx, tx, r, ids[start:min(start+sweepBatch, len(ids))], now)
			if err != nil || start+sweepBatch < len(ids) {
				return err
			}
			return tx.SetRuleSwept(ctx, r.ID, now)
		})
		if err != nil {
			return acted, err
		}
		for _, c := range done {
			acted++
			c.Publish(ctx)
		}
	}
	if len(ids) == 0 {
		if err := e.db.Write(ctx, func(tx *store.Tx) error { return tx.SetRuleSwept(ctx, r.ID, now) }); err != nil {
			return 0, err
		}
	}
	r.SweptTo = now // only the sweep reads it
	return acted, nil
}

// sweepBatch runs time rule r on the tickets ids inside tx and returns
// the changes it made, one for each ticket it acted on.
func (e *Engine) sweepBatch(ctx context.Context, tx *store.Tx, r *rule, ids []int64, now time.Time) ([]*desk.TicketTx, error) {
	var done []*desk.TicketTx
	for _, id := range ids {
		t, err := tx.Ticket(ctx, id)
		if err != nil {
			return nil, err
		}
		ran, err := tx.RuleRan(ctx, r.ID, id)
		if err != nil {
			return nil, err
		}
		if !ran.IsZero() && !ran.Before(t.UpdatedAt) {
			continue // acted on since the ticket last changed
		}
		c := e.d.TicketTx(tx, t, nil, now)
		acted, err := e.sweepTicket(ctx, c, r)
		if err != nil {
			return nil, err
		}
		if acted {
			done = append(done, c)
		}
	}
	return done, nil
}

// sweepTicket applies time rule r to one ticket when it matches, then the
// "updated" rules for what it changed, and writes the ticket.
func (e *Engine) sweepTicket(ctx context.Context, c *desk.TicketTx, r *rule) (bool, error) {
	rr := newRun(c)
	ok, err := rr.matches(ctx, r)
	if err != nil || !ok {
		return false, err
	}
	if err := rr.apply(ctx, r); err != nil {
		return false, err
	}
	if rr.changed {
		if err := c.Changed(ctx, desk.TriggerUpdated); err != nil {
			return false, err
		}
	}
	if c.Pending() == 0 {
		return true, nil // it matched but found nothing to do
	}
	c.Ticket.UpdatedAt = c.Now
	if err := c.Save(ctx); err != nil {
		return false, err
	}
	// What the rule changed is not news to the rule.
	return true, c.Tx.SetRuleRan(ctx, r.ID, c.Ticket.ID, c.Now)
}
