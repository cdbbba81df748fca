// Package sla keeps the SLA clock of each ticket: the policy that covers
// it, its first response and resolution due times (in the store's
// business hours when the policy says so), and a breach recorded once
// when a target passes unmet. It works inside the write transaction of
// every ticket change, through desk's hook point (desk.TxHook), and
// sweeps for the targets that pass while nobody acts, setting off the
// sla_at_risk and sla_breached rules.
package sla

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/store"
)

const (
	maxTarget  = 366 * 24 * 60 * 60 // seconds
	sweepBatch = 200                // tickets per write transaction
)

// Clock keeps the SLA policies of a desk and its tickets' due times.
type Clock struct {
	d   *desk.Desk
	db  *store.DB
	log *slog.Logger

	mu       sync.RWMutex
	policies []*store.SLAPolicy // enabled policies in order
	read     bool
	gen      uint64 // counts changes, so a read racing one is not kept
}

// New returns the SLA clock of d, plugged into its ticket changes.
func New(d *desk.Desk, log *slog.Logger) *Clock {
	k := &Clock{d: d, db: d.DB(), log: log}
	d.AddTxHook(k)
	return k
}

// ---- Policies

// Policies lists every policy in the order they are tried.
func (k *Clock) Policies(ctx context.Context) ([]*store.SLAPolicy, error) {
	return k.db.SLAPolicies(ctx)
}

// active returns the enabled policies, read once and kept until one
// changes.
func (k *Clock) active(ctx context.Context) ([]*store.SLAPolicy, error) {
	k.mu.RLock()
	list, ok, gen := k.policies, k.read, k.gen
	k.mu.RUnlock()
	if ok {
		return list, nil
	}
	all, err := k.db.SLAPolicies(ctx)
	if err != nil {
		return nil, err
	}
	list = slices.DeleteFunc(all, func(p *store.SLAPolicy) bool { return !p.Enabled })
	k.mu.Lock()
	if k.gen == gen { // else a change came meanwhile: what was read may be old
		k.policies, k.read = list, true
	}
	k.mu.Unlock()
	return list, nil
}

func (k *Clock) forget() {
	k.mu.Lock()
	k.policies, k.read = nil, false
	k.gen++
	k.mu.Unlock()
}

// checkPolicy checks a policy and cleans it in place.
func checkPolicy(p *store.SLAPolicy) error {
	p.Name = strings.Join(strings.Fields(p.Name), " ")
	if p.Name == "" || utf8.RuneCountInString(p.Name) > 100 {
		return inputErr("name", "a policy needs a name of at most 100 characters")
	}
	if p.Channel != "" && !slices.Contains(store.Channels, p.Channel) {
		return inputErr("channel", "%s must be one of %v, not %q", "channel", store.Channels, p.Channel)
	}
	if len(p.Targets) == 0 {
		return inputErr("targets", "set a first response or resolution target for at least one priority")
	}
	for prio, tg := range p.Targets {
		if !slices.Contains(store.Priorities, prio) {
			return inputErr("targets", "%q is not a priority (low, normal, high, urgent)", prio)
		}
		for _, v := range []struct {
			name string
			secs int64
		}{{"first_response", tg.FirstResponse}, {"resolution", tg.Resolution}} {
			if v.secs < 0 || v.secs > maxTarget {
				return inputErr("targets."+prio+"."+v.name, "a target is from 1 minute to 366 days (0 for none)")
			}
			if v.secs > 0 && v.secs < 60 {
				return inputErr("targets."+prio+"."+v.name, "a target is at least 1 minute")
			}
		}
		if tg == (store.SLATarget{}) {
			delete(p.Targets, prio)
		}
	}
	if len(p.Targets) == 0 {
		return inputErr("targets", "set a first response or resolution target for at least one priority")
	}
	return nil
}

// SavePolicy checks and stores a policy (id 0 creates one). Tickets made
// from then on get its targets; open tickets when they next change.
func (k *Clock) SavePolicy(ctx context.Context, id int64, p store.SLAPolicy) (*store.SLAPolicy, error) {
	if err := checkPolicy(&p); err != nil {
		return nil, err
	}
	now := store.Now()
	err := k.db.Write(ctx, func(tx *store.Tx) error {
		if err := desk.CheckExists(ctx, tx, "stores", "store_id", p.StoreID); err != nil {
			return err
		}
		if err := desk.CheckExists(ctx, tx, "teams", "team_id", p.TeamID); err != nil {
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
	k.forget()
	if err := k.refreshRunning(ctx); err != nil {
		return nil, err
	}
	return &p, nil
}

// DeletePolicy removes a policy.
func (k *Clock) DeletePolicy(ctx context.Context, id int64) error {
	err := k.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteSLAPolicy(ctx, id) })
	if err != nil {
		return fmt.Errorf("delete SLA policy: %w", err)
	}
	k.forget()
	return k.refreshRunning(ctx)
}

// refreshRunning works out again the due times of the tickets whose
// clock runs, after the policies changed: a policy deleted, switched off
// or narrowed leaves no due time behind. Other tickets get the new
// policies when they next change.
func (k *Clock) refreshRunning(ctx context.Context) error {
	ids, err := k.db.RunningSLAs(ctx)
	if err != nil {
		return fmt.Errorf("refresh due times: %w", err)
	}
	for start := 0; start < len(ids); start += sweepBatch {
		var done []*desk.TicketTx
		err := k.db.Write(ctx, func(tx *store.Tx) error {
			now := store.Now()
			for _, id := range ids[start:min(start+sweepBatch, len(ids))] {
				t, err := tx.Ticket(ctx, id)
				if err != nil {
					return err
				}
				c := k.d.TicketTx(tx, t, nil, now)
				if err := c.Save(ctx); err != nil {
					return err
				}
				done = append(done, c)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("refresh due times: %w", err)
		}
		for _, c := range done {
			c.Publish(ctx)
		}
	}
	return nil
}

func inputErr(field, format string, args ...any) error {
	return desk.InputErrorf(field, format, args...)
}
