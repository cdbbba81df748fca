package desk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"onedesk/hours"
	"onedesk/store"
)

// ---- Policies

const maxSLATarget = 366 * 24 * 60 * 60 // seconds

// SLAPolicies lists every policy in the order they are tried.
func (d *Desk) SLAPolicies(ctx context.Context) ([]*store.SLAPolicy, error) {
	return d.db.SLAPolicies(ctx)
}

// activeSLA returns the enabled policies, read once and kept until one
// changes.
func (d *Desk) activeSLA(ctx context.Context) ([]*store.SLAPolicy, error) {
	d.mu.RLock()
	list, ok, gen := d.slaPolicies, d.slaRead, d.slaGen
	d.mu.RUnlock()
	if ok {
		return list, nil
	}
	all, err := d.db.SLAPolicies(ctx)
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(all, func(p *store.SLAPolicy) bool { return !p.Enabled })
	d.mu.Lock()
	if d.slaGen == gen { // else a change came meanwhile: what was read may be old
		d.slaPolicies, d.slaRead = list, true
	}
	d.mu.Unlock()
	return list, nil
}

// forgetSLA drops what is cached of policies and opening hours.
func (d *Desk) forgetSLA() {
	d.mu.Lock()
	d.slaPolicies, d.slaRead = nil, false
	d.storeHours.Forget()
	d.slaGen++
	d.mu.Unlock()
}

// SaveSLAPolicy checks and stores a policy (id 0 creates one). Tickets
// made from then on get its targets; open tickets when they next change.
func (d *Desk) SaveSLAPolicy(ctx context.Context, id int64, p store.SLAPolicy) (*store.SLAPolicy, error) {
	p.Name = cleanLine(p.Name)
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 100 {
		return nil, inputErr("name", "a policy needs a name of at most 100 characters")
	}
	if p.Channel != "" {
		if err := oneOf("channel", p.Channel, store.Channels); err != nil {
			return nil, err
		}
	}
	if len(p.Targets) == 0 {
		return nil, inputErr("targets", "set a first response or resolution target for at least one priority")
	}
	for prio, tg := range p.Targets {
		if !slices.Contains(store.Priorities, prio) {
			return nil, inputErr("targets", "%q is not a priority (low, normal, high, urgent)", prio)
		}
		for _, v := range []struct {
			name string
			secs int64
		}{{"first_response", tg.FirstResponse}, {"resolution", tg.Resolution}} {
			if v.secs < 0 || v.secs > maxSLATarget {
				return nil, inputErr("targets."+prio+"."+v.name, "a target is from 1 minute to 366 days (0 for none)")
			}
			if v.secs > 0 && v.secs < 60 {
				return nil, inputErr("targets."+prio+"."+v.name, "a target is at least 1 minute")
			}
		}
		if tg == (store.SLATarget{}) {
			delete(p.Targets, prio)
		}
	}
	if len(p.Targets) == 0 {
		return nil, inputErr("targets", "set a first response or resolution target for at least one priority")
	}
	now := store.Now()
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		if err := exists(ctx, tx, "stores", "store_id", p.StoreID); err != nil {
			return err
		}
		if err := exists(ctx, tx, "teams", "team_id", p.TeamID); err != nil {
			return err
		}
		p.UpdatedAt = now
		if id == 0 {
			p.CreatedAt = now
			return tx.InsertSLAPolicy(ctx, &p)
		}
		old, err := tx.SLAPolicy(ctx, id)
		if err != nil {
			return err
		}
		p.ID, p.CreatedAt = id, old.CreatedAt
		if p.Position <= 0 {
			p.Position = old.Position
		}
		return tx.UpdateSLAPolicy(ctx, &p)
	})
	if err != nil {
		return nil, fmt.Errorf("save SLA policy: %w", err)
	}
	d.forgetSLA()
	if err := d.refreshRunningSLAs(ctx); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteSLAPolicy removes a policy.
func (d *Desk) DeleteSLAPolicy(ctx context.Context, id int64) error {
	err := d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteSLAPolicy(ctx, id) })
	if err != nil {
		return fmt.Errorf("delete SLA policy: %w", err)
	}
	d.forgetSLA()
	return d.refreshRunningSLAs(ctx)
}

// refreshRunningSLAs works out again the due times of the tickets whose
// clock runs, after the policies changed: a policy deleted, switched off
// or narrowed leaves no due time behind. Other tickets get the new
// policies when they next change.
func (d *Desk) refreshRunningSLAs(ctx context.Context) error {
	ids, err := d.db.RunningSLAs(ctx)
	if err != nil {
		return fmt.Errorf("refresh due times: %w", err)
	}
	for start := 0; start < len(ids); start += sweepBatch {
		var changes []Change
		err := d.db.Write(ctx, func(tx *store.Tx) error {
			changes = changes[:0]
			now := store.Now()
			for _, id := range ids[start:min(start+sweepBatch, len(ids))] {
				t, err := tx.Ticket(ctx, id)
				if err != nil {
					return err
				}
				more, err := d.saveTicket(ctx, tx, t, now)
				if err != nil {
					return err
				}
				changes = append(changes, more...)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("refresh due times: %w", err)
		}
		d.publishAll(ctx, changes)
	}
	return nil
}

// policyFor is the first enabled policy that covers t and has a target
// for its priority.
func policyFor(list []*store.SLAPolicy, t *store.Ticket) (*store.SLAPolicy, store.SLATarget) {
	for _, p := range list {
		if p.StoreID != nil && !sameID(t.StoreID, p.StoreID) || p.TeamID != nil && !sameID(t.TeamID, p.TeamID) ||
			p.Channel != "" && p.Channel != t.Channel {
			continue
		}
		if tg, ok := p.Targets[t.Priority]; ok {
			return p, tg
		}
	}
	return nil, store.SLATarget{}
}

// ---- A ticket's clock

// slaRunning tells whether the resolution clock runs: the ticket waits on
// us.
func slaRunning(status string) bool { return status == "new" || status == "open" }

// refreshSLA works out t's due times again as of now, after whatever
// changed it: the policy that covers it, its priority, its status (the
// resolution clock stands still while pending or resolved) and its first
// response. A target met late is recorded as a breach at once; one that
// passes while nobody acts is recorded by SweepSLA.
func (d *Desk) refreshSLA(ctx context.Context, tx *store.Tx, t *store.Ticket, now time.Time) ([]Change, error) {
	list, err := d.activeSLA(ctx)
	if err != nil {
		return nil, err
	}
	s := &t.SLA
	if len(list) == 0 && s.PolicyID == nil && s.Due == nil && s.Next == nil && s.Warn == nil && s.FirstResponseDue == nil {
		return nil, nil // the common case of a desk without SLAs
	}
	p, target := policyFor(list, t)
	var bh *hours.Week
	if p != nil && p.BusinessHours && t.StoreID != nil {
		if bh, err = d.StoreHours(ctx, tx, *t.StoreID); err != nil {
			return nil, err
		}
	}
	after := func(d time.Duration) time.Time { // business time after the ticket was made, pauses left out
		return bh.Add(t.CreatedAt, d+time.Duration(s.PausedMS)*time.Millisecond)
	}
	frTarget := time.Duration(target.FirstResponse) * time.Second
	resTarget := time.Duration(target.Resolution) * time.Second
	var changes []Change
	late := func(bit int, name string, due time.Time) error {
		c, err := recordBreach(ctx, tx, t, bit, name, due)
		if c != nil {
			changes = append(changes, *c)
		}
		return err
	}

	// The clock stops while the ticket waits on the customer or is done;
	// a resolution that came late is a breach.
	switch running := slaRunning(t.Status); {
	case running && s.PausedAt != nil:
		s.PausedMS += bh.Between(*s.PausedAt, now).Milliseconds()
		s.PausedAt = nil
	case !running && s.PausedAt == nil:
		if due := after(resTarget); resTarget > 0 && now.After(due) && (t.Status == "resolved" || t.Status == "closed") {
			if err := late(store.BreachedResolution, "resolution", due); err != nil {
				return nil, err
			}
		}
		s.PausedAt = &now
	}

	s.PolicyID, s.FirstResponseDue, s.ResolutionDue, s.Due, s.Next, s.Warn = nil, nil, nil, nil, nil, nil
	if p == nil {
		return changes, nil
	}
	s.PolicyID = &p.ID
	done := t.Status == "resolved" || t.Status == "closed"
	// Each running target: its due time, when it is at risk, its breach bit.
	type deadline struct {
		due, warn time.Time
		bit       int
	}
	var running []deadline
	if frTarget > 0 {
		due := bh.Add(t.CreatedAt, frTarget) // pending does not stop it
		s.FirstResponseDue = &due
		if t.FirstResponseAt != nil && t.FirstResponseAt.After(due) {
			if err := late(store.BreachedFirstResponse, "first_response", due); err != nil {
				return nil, err
			}
		}
		if t.FirstResponseAt == nil && !done {
			running = append(running, deadline{due, bh.Add(t.CreatedAt, frTarget*3/4), store.BreachedFirstResponse})
		}
	}
	if resTarget > 0 && s.PausedAt == nil {
		due := after(resTarget)
		s.ResolutionDue = &due
		running = append(running, deadline{due, after(resTarget * 3 / 4), store.BreachedResolution})
	}
	// Due is what the inbox calls overdue; Next, and its warning, what the
	// sweep still has to record.
	for _, dl := range running {
		if s.Due == nil || dl.due.Before(*s.Due) {
			s.Due = &dl.due
		}
		if s.Breached&dl.bit == 0 && (s.Next == nil || dl.due.Before(*s.Next)) {
			s.Next, s.Warn = &dl.due, &dl.warn
		}
	}
	return changes, nil
}

// recordBreach records that a target of t passed unmet, once.
func recordBreach(ctx context.Context, tx *store.Tx, t *store.Ticket, bit int, name string, due time.Time) (*Change, error) {
	if t.SLA.Breached&bit != 0 {
		return nil, nil
	}
	t.SLA.Breached |= bit
	data := map[string]any{"target": name, "due": due.UTC().Format(time.RFC3339)}
	if t.SLA.PolicyID != nil {
		data["policy_id"] = *t.SLA.PolicyID
	}
	ev, err := addEvent(ctx, tx, t.ID, "sla_breached", System, data)
	if err != nil {
		return nil, err
	}
	return &Change{Type: "event", TicketID: t.ID, Event: ev}, nil
}

// saveTicket writes t after a change, with its SLA worked out again.
func (d *Desk) saveTicket(ctx context.Context, tx *store.Tx, t *store.Ticket, now time.Time) ([]Change, error) {
	changes, err := d.refreshSLA(ctx, tx, t, now)
	if err != nil {
		return nil, err
	}
	return changes, tx.UpdateTicket(ctx, t)
}

// ---- The sweep

const slaSweptKey = "sla_swept"

// SweepSLA records the breaches of the tickets whose due time passed by
// now and runs the sla_breached rules on them, and the sla_at_risk rules
// on the tickets that became at risk. Like the time rules it reads only
// what crossed a time since its last sweep (or changed since), and acts in
// small transactions. It returns how many tickets it acted on.
func (d *Desk) SweepSLA(ctx context.Context, now time.Time) (int, error) {
	raw, err := d.db.Setting(ctx, slaSweptKey)
	if err != nil {
		return 0, fmt.Errorf("sla sweep: %w", err)
	}
	var prev time.Time
	if ms, err := strconv.ParseInt(raw, 10, 64); err == nil && ms > 0 {
		prev = time.UnixMilli(ms).UTC()
	}
	rules, err := d.activeRules(ctx)
	if err != nil {
		return 0, err
	}
	acted := 0
	for _, which := range []string{"warn", "due"} {
		// A ticket whose due time a change put in the past is found by
		// its change; one put at risk that way is not told twice.
		changed := prev
		if which == "warn" {
			changed = time.Time{}
		}
		ids, err := d.db.SLACandidates(ctx, which, prev, now, changed)
		if err != nil {
			return acted, fmt.Errorf("sla sweep: %w", err)
		}
		for start := 0; start < len(ids); start += sweepBatch {
			n, err := d.sweepSLABatch(ctx, rules, which, ids[start:min(start+sweepBatch, len(ids))], now)
			acted += n
			if err != nil {
				return acted, fmt.Errorf("sla sweep: %w", err)
			}
		}
	}
	if err := d.db.SetSetting(ctx, slaSweptKey, fmt.Sprint(now.UnixMilli())); err != nil {
		return acted, fmt.Errorf("sla sweep: %w", err)
	}
	return acted, nil
}

func (d *Desk) sweepSLABatch(ctx context.Context, rules []*rule, which string, ids []int64, now time.Time) (int, error) {
	var out []*ruleRun
	var changes []Change
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		out, changes = out[:0], changes[:0]
		for _, id := range ids {
			t, err := tx.Ticket(ctx, id)
			if err != nil {
				return err
			}
			// Worked out again first: a policy deleted or switched off since
			// the ticket last changed no longer counts.
			more, err := d.refreshSLA(ctx, tx, t, now)
			if err != nil {
				return err
			}
			changes = append(changes, more...)
			s := &t.SLA
			trigger := "sla_at_risk"
			if which == "due" {
				trigger = "sla_breached"
				// Every running target that passed, the first response and
				// the resolution alike when both did.
				n := len(changes)
				done := t.Status == "resolved" || t.Status == "closed"
				if s.FirstResponseDue != nil && t.FirstResponseAt == nil && !done && !s.FirstResponseDue.After(now) {
					c, err := recordBreach(ctx, tx, t, store.BreachedFirstResponse, "first_response", *s.FirstResponseDue)
					if err != nil {
						return err
					}
					if c != nil {
						changes = append(changes, *c)
					}
				}
				if s.ResolutionDue != nil && !s.ResolutionDue.After(now) {
					c, err := recordBreach(ctx, tx, t, store.BreachedResolution, "resolution", *s.ResolutionDue)
					if err != nil {
						return err
					}
					if c != nil {
						changes = append(changes, *c)
					}
				}
				if len(changes) == n {
					if err := tx.UpdateTicket(ctx, t); err != nil {
						return err
					}
					continue // nothing new passed
				}
			} else if s.Warn == nil || s.Warn.After(now) || s.Next == nil || !s.Next.After(now) {
				if err := tx.UpdateTicket(ctx, t); err != nil {
					return err
				}
				continue
			}
			rr, err := d.runRules(ctx, tx, rules, trigger, t, nil, now)
			if err != nil {
				return err
			}
			if rr.changed {
				t.UpdatedAt = now
			}
			more, err = d.saveTicket(ctx, tx, t, now)
			if err != nil {
				return err
			}
			changes = append(changes, more...)
			out = append(out, rr)
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	d.publishAll(ctx, changes)
	for _, rr := range out {
		d.finishRules(ctx, rr)
	}
	return len(out), nil
}
