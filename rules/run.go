package rules

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// TicketChanged runs the rules of trigger on the ticket, then "updated"
// rules for what they changed (desk's hook point).
func (e *Engine) TicketChanged(ctx context.Context, c *desk.TicketTx, trigger string) error {
	rules, err := e.active(ctx)
	if err != nil || len(rules) == 0 {
		return err
	}
	rr := newRun(c)
	if err := rr.cascade(ctx, rules, trigger); err != nil {
		return err
	}
	// As before rules had a package of their own: the ticket counts as
	// updated now when the cascade's last round changed it (the callers
	// in desk have set it to now already).
	if rr.changed {
		c.Ticket.UpdatedAt = c.Now
	}
	return nil
}

// TicketSaving does nothing: rules act on what changed, not on each write.
func (e *Engine) TicketSaving(context.Context, *desk.TicketTx) error { return nil }

// ruleRun is one cascade of rules on one ticket inside a transaction.
type ruleRun struct {
	c       *desk.TicketTx
	applied map[int64]bool
	changed bool // the ticket's own columns changed
	// read when a condition needs them
	domain      *string
	st          *store.Store
	stLoaded    bool
	order       *store.ShopOrder
	orderLoaded bool
}

func newRun(c *desk.TicketTx) *ruleRun { return &ruleRun{c: c, applied: map[int64]bool{}} }

// cascade runs the rules of trigger, then "updated" rules for what they
// changed, each rule once, for at most maxCascade rounds.
func (rr *ruleRun) cascade(ctx context.Context, rules []*rule, trigger string) error {
	for depth := 0; depth < maxCascade; depth++ {
		rr.changed = false
		for _, r := range rules {
			if r.Trigger != trigger || rr.applied[r.ID] {
				continue
			}
			ok, err := rr.matches(ctx, r)
			if err != nil {
				return fmt.Errorf("rule %d: %w", r.ID, err)
			}
			if !ok {
				continue
			}
			if err := rr.apply(ctx, r); err != nil {
				return fmt.Errorf("rule %d: %w", r.ID, err)
			}
		}
		if !rr.changed {
			break
		}
		trigger = desk.TriggerUpdated
	}
	return nil
}

func (rr *ruleRun) matches(ctx context.Context, r *rule) (bool, error) {
	if len(r.conds) == 0 {
		return true, nil
	}
	for _, c := range r.conds {
		ok, err := rr.test(ctx, c)
		if err != nil {
			return false, err
		}
		if ok && r.Match == "any" {
			return true, nil
		}
		if !ok && r.Match == "all" {
			return false, nil
		}
	}
	return r.Match == "all", nil
}

// test tells whether the ticket meets one condition.
func (rr *ruleRun) test(ctx context.Context, c cond) (bool, error) {
	t := rr.c.Ticket
	is := func(equal bool) bool { return equal == (c.op == "is") }
	switch c.field {
	case "channel":
		return is(t.Channel == c.text), nil
	case "status":
		return is(t.Status == c.text), nil
	case "priority":
		return is(t.Priority == c.text), nil
	case "store_id":
		return is(sameID(t.StoreID, c.id)), nil
	case "team_id":
		return is(sameID(t.TeamID, c.id)), nil
	case "assignee_id":
		return is(sameID(t.AssigneeID, c.id)), nil
	case "tags":
		return slices.Contains(t.Tags, c.tags[0]) == (c.op == "contains"), nil
	case "subject":
		return textTest(t.Subject, c), nil
	case "body":
		body := t.Snippet
		if rr.c.Message != nil {
			body = rr.c.Message.Body
		}
		return textTest(body, c), nil
	case "customer_domain":
		dom, err := rr.customerDomain(ctx)
		if err != nil {
			return false, err
		}
		return is(dom == c.text), nil
	case "business_hours":
		st, err := rr.store(ctx)
		if err != nil {
			return false, err
		}
		open := st == nil || desk.ChatOpen(st, rr.c.Now)
		return open == c.yes, nil
	case "hours_since_created", "hours_since_updated", "hours_since_customer", "hours_unanswered":
		return rr.hoursTest(c), nil
	case "rating":
		r, err := rr.c.Tx.LastRating(ctx, t.ID)
		if err != nil || r == 0 {
			return false, err
		}
		switch c.op {
		case "lte":
			return float64(r) <= c.hours, nil
		case "gte":
			return float64(r) >= c.hours, nil
		}
		return float64(r) == c.hours, nil
	}
	if strings.HasPrefix(c.field, "order.") {
		return rr.orderTest(ctx, c)
	}
	if name, ok := strings.CutPrefix(c.field, "field."); ok {
		v, present := fieldValue(t.Fields, name)
		switch c.op {
		case "is", "is_not":
			return is(present && strings.ToLower(v) == c.text), nil
		default:
			return textTest(v, c), nil
		}
	}
	return false, nil
}

// orderTest tests the customer's latest known order in the ticket's
// store, read inside the transaction (no shop is asked while a message
// is taken in).
func (rr *ruleRun) orderTest(ctx context.Context, c cond) (bool, error) {
	if !rr.orderLoaded {
		o, err := rr.c.Tx.LatestShopOrder(ctx, rr.c.Ticket.CustomerID, rr.c.Ticket.StoreID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return false, err
		}
		rr.order, rr.orderLoaded = o, true
	}
	o := rr.order
	if o == nil {
		return false, nil
	}
	is := func(equal bool) bool { return equal == (c.op == "is") }
	num := func(v float64) bool {
		if c.op == "gt" {
			return v > c.hours
		}
		return v < c.hours
	}
	switch c.field {
	case "order.financial_status":
		return is(strings.ToLower(o.Financial) == c.text), nil
	case "order.fulfillment_status":
		return is(strings.ToLower(o.Fulfillment) == c.text), nil
	case "order.country":
		return is(strings.ToLower(o.Country) == c.text), nil
	case "order.tags":
		has := slices.ContainsFunc(o.Tags, func(tag string) bool { return strings.EqualFold(tag, c.text) })
		return has == (c.op == "contains"), nil
	case "order.total":
		return num(o.Total), nil
	case "order.days_since":
		return num(rr.c.Now.Sub(o.OrderedAt).Hours() / 24), nil
	}
	return false, nil
}

// hoursTest tests a time condition: hours since a time of the ticket.
func (rr *ruleRun) hoursTest(c cond) bool {
	t := rr.c.Ticket
	var from *time.Time
	switch c.field {
	case "hours_since_created":
		from = &t.CreatedAt
	case "hours_since_updated":
		from = &t.UpdatedAt
	case "hours_since_customer":
		from = t.LastCustomerAt
	case "hours_unanswered":
		// Waiting on us: a pending or resolved ticket waits on nobody.
		if (t.Status == "new" || t.Status == "open") && t.LastCustomerAt != nil &&
			(t.LastAgentAt == nil || t.LastAgentAt.Before(*t.LastCustomerAt)) {
			from = t.LastCustomerAt
		}
	}
	if from == nil {
		return false
	}
	h := rr.c.Now.Sub(*from).Hours()
	if c.op == "gt" {
		return h >= c.hours
	}
	return h < c.hours
}

// fieldValue is a form field's value as text (true and false as 1 and 0).
func fieldValue(fields json.RawMessage, name string) (string, bool) {
	var m map[string]any
	if len(fields) == 0 || json.Unmarshal(fields, &m) != nil {
		return "", false
	}
	switch v := m[name].(type) {
	case string:
		return v, true
	case bool:
		return map[bool]string{true: "1", false: "0"}[v], true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case nil:
		return "", false
	default:
		b, _ := json.Marshal(v)
		return string(b), true
	}
}

func textTest(s string, c cond) bool {
	s = strings.ToLower(s)
	switch c.op {
	case "is":
		return strings.TrimSpace(s) == c.text
	case "is_not":
		return strings.TrimSpace(s) != c.text
	case "contains":
		return strings.Contains(s, c.text)
	}
	return !strings.Contains(s, c.text)
}

// customerDomain is the domain of the sender's email, or of the
// customer's first email address.
func (rr *ruleRun) customerDomain(ctx context.Context) (string, error) {
	if rr.domain != nil {
		return *rr.domain, nil
	}
	dom := ""
	if msg := rr.c.Message; msg != nil && msg.Kind == "customer" && strings.Contains(msg.From, "@") {
		dom = msg.From[strings.LastIndexByte(msg.From, '@')+1:]
	} else {
		c, err := rr.c.Tx.Customer(ctx, rr.c.Ticket.CustomerID)
		if err != nil {
			return "", err
		}
		for _, id := range c.Identities {
			if id.Kind == "email" {
				dom = id.Value[strings.LastIndexByte(id.Value, '@')+1:]
				break
			}
		}
	}
	dom = strings.ToLower(dom)
	rr.domain = &dom
	return dom, nil
}

func (rr *ruleRun) store(ctx context.Context) (*store.Store, error) {
	if !rr.stLoaded && rr.c.Ticket.StoreID != nil {
		st, err := rr.c.Tx.Store(ctx, *rr.c.Ticket.StoreID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		rr.st = st
	}
	rr.stLoaded = true
	return rr.st, nil
}
