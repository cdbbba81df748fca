// Package rules acts on tickets by themselves: when a ticket is created,
// when its customer writes, when it is updated, or when time passes. A
// rule's conditions (all, or any) test the ticket; its actions change it,
// answer, note or notify. Each action is a rule_applied event naming the
// rule. Rules run inside the write transaction of the change that sets
// them off, through desk's hook point (desk.TxHook).
//
// A rule never loops: in one cascade (the trigger, then "updated" for what
// the rules changed) each rule acts at most once, and the cascade stops
// after maxCascade rounds.
package rules

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strings"
	"sync"

	"onedesk/desk"
	"onedesk/store"
)

const (
	maxCascade   = 5
	maxRuleParts = 20 // conditions, and actions, per rule
	maxHours     = 24 * 366
	sweepBatch   = 200 // tickets per write transaction in a time sweep
)

// Engine keeps the rules of a desk and runs them on its ticket changes.
type Engine struct {
	d   *desk.Desk
	db  *store.DB
	log *slog.Logger

	mu   sync.RWMutex
	list []*rule // enabled rules in order; read again after a change
	read bool
	gen  uint64 // counts changes, so a read racing one is not kept
}

// New returns the rules of d, plugged into its ticket changes.
func New(d *desk.Desk, log *slog.Logger) *Engine {
	e := &Engine{d: d, db: d.DB(), log: log}
	d.AddTxHook(e)
	return e
}

// active returns the enabled rules in order, read once and kept until a
// rule changes.
func (e *Engine) active(ctx context.Context) ([]*rule, error) {
	e.mu.RLock()
	list, ok, gen := e.list, e.read, e.gen
	e.mu.RUnlock()
	if ok {
		return list, nil
	}
	all, err := e.db.Rules(ctx)
	if err != nil {
		return nil, err
	}
	list = nil
	for _, r := range all {
		if !r.Enabled {
			continue
		}
		p, err := compileRule(r)
		if err != nil {
			e.log.Warn("rule skipped", "rule", r.ID, "err", err)
			continue
		}
		list = append(list, p)
	}
	e.mu.Lock()
	if e.gen == gen { // else a rule changed meanwhile: what was read may be old
		e.list, e.read = list, true
	}
	e.mu.Unlock()
	return list, nil
}

func (e *Engine) forget() {
	e.mu.Lock()
	e.list, e.read = nil, false
	e.gen++
	e.mu.Unlock()
}

// ---- Saving rules

// List lists every rule in order.
func (e *Engine) List(ctx context.Context) ([]*store.Rule, error) { return e.db.Rules(ctx) }

// Save creates (id 0) or replaces a rule after checking it.
func (e *Engine) Save(ctx context.Context, id int64, r store.Rule) (*store.Rule, error) {
	p, err := compileRule(&r)
	if err != nil {
		return nil, err
	}
	err = e.db.Write(ctx, func(tx *store.Tx) error {
		if err := p.checkIDs(ctx, tx); err != nil {
			return err
		}
		now := store.Now()
		r.UpdatedAt = now
		if id == 0 {
			r.CreatedAt = now
			return tx.InsertRule(ctx, &r)
		}
		old, err := tx.Rule(ctx, id)
		if err != nil {
			return err
		}
		r.ID, r.CreatedAt = id, old.CreatedAt
		if r.Position <= 0 {
			r.Position = old.Position
		}
		// A time rule whose test changed looks at every ticket again.
		if old.Trigger == r.Trigger && reflect.DeepEqual(old.Conditions, r.Conditions) {
			r.SweptTo = old.SweptTo
		}
		return tx.UpdateRule(ctx, &r)
	})
	if err != nil {
		return nil, err
	}
	e.forget()
	return &r, nil
}

// checkIDs checks that the stores, teams, agents and webhooks the rule
// names exist.
func (p *rule) checkIDs(ctx context.Context, tx *store.Tx) error {
	for i, c := range p.conds {
		table := map[string]string{"store_id": "stores", "team_id": "teams", "assignee_id": "agents"}[c.field]
		if table != "" {
			if err := desk.CheckExists(ctx, tx, table, fmt.Sprintf("conditions.%d.value", i), c.id); err != nil {
				return err
			}
		}
	}
	for i, a := range p.acts {
		table := map[string]string{"set_team": "teams", "set_assignee": "agents", "notify": "agents", "webhook": "webhooks"}[a.typ]
		if table != "" {
			if err := desk.CheckExists(ctx, tx, table, fmt.Sprintf("actions.%d.value", i), a.id); err != nil {
				return err
			}
		}
	}
	return nil
}

// Delete removes a rule.
func (e *Engine) Delete(ctx context.Context, id int64) error {
	err := e.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteRule(ctx, id) })
	e.forget()
	return err
}

func inputErr(field, format string, args ...any) error {
	return desk.InputErrorf(field, format, args...)
}

func oneOf(field, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return inputErr(field, "%s must be one of %v, not %q", field, allowed, v)
	}
	return nil
}

func cleanLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
