package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/store"
)

// Rules act on tickets by themselves: when a ticket is created, when its
// customer writes, when it is updated, or when time passes. A rule's
// conditions (all, or any) test the ticket; its actions change it, answer,
// note or notify. Each action is a rule_applied event naming the rule.
//
// A rule never loops: in one cascade (the trigger, then "updated" for what
// the rules changed) each rule acts at most once, and the cascade stops
// after maxCascade rounds.

const (
	maxCascade   = 5
	maxRules     = 500
	maxRuleParts = 20 // conditions, and actions, per rule
	maxRuleText  = 10000
	maxHours     = 24 * 366
	sweepBatch   = 200 // tickets per write transaction in a time sweep
)

// Condition fields and the operators each takes.
var conditionOps = map[string][]string{
	"channel": {"is", "is_not"}, "status": {"is", "is_not"}, "priority": {"is", "is_not"},
	"store_id": {"is", "is_not"}, "team_id": {"is", "is_not"}, "assignee_id": {"is", "is_not"},
	"tags":    {"contains", "not_contains"},
	"subject": {"contains", "not_contains", "is"}, "body": {"contains", "not_contains", "is"},
	"customer_domain":     {"is", "is_not"},
	"business_hours":      {"is"},
	"hours_since_created": {"gt", "lt"}, "hours_since_updated": {"gt", "lt"},
	"hours_since_customer": {"gt", "lt"}, "hours_unanswered": {"gt", "lt"},
	// field.NAME (a form field) takes is, is_not, contains, not_contains.
}

// hourFields are the time conditions, by the ticket time they count from.
var hourFields = map[string]string{
	"hours_since_created": "created", "hours_since_updated": "updated",
	"hours_since_customer": "customer", "hours_unanswered": "customer",
}

// ActionTypes are what rules do.
var ActionTypes = []string{"set_team", "set_assignee", "set_status", "set_priority", "add_tags", "remove_tags",
	"add_note", "auto_reply", "notify", "webhook"}

// cond is a checked condition with its value in the form it is tested in.
type cond struct {
	field, op string
	text      string   // lower-cased for text tests
	id        *int64   // ids (nil = none)
	hours     float64  // hour conditions
	yes       bool     // business_hours
	tags      []string // tags
}

type act struct {
	typ  string
	id   *int64
	text string
	tags []string
}

// rule is a rule ready to run.
type rule struct {
	*store.Rule
	conds []cond
	acts  []act
	// Time rules: the ticket time the sweep watches and its threshold.
	timeCol    string
	timeHours  float64
	unanswered bool
	statuses   []string           // statuses the rule can match (for the sweep)
	sqlTests   []store.TicketTest // its simple conditions, for the sweep's reads
}

// compileRule checks a rule and prepares it. Errors name the part:
// conditions.2.value, actions.0.type.
func compileRule(r *store.Rule) (*rule, error) {
	r.Name = cleanLine(r.Name)
	if r.Name == "" || utf8.RuneCountInString(r.Name) > 100 {
		return nil, inputErr("name", "a rule needs a name of at most 100 characters")
	}
	if err := oneOf("trigger", r.Trigger, store.RuleTriggers); err != nil {
		return nil, err
	}
	if r.Match == "" {
		r.Match = "all"
	}
	if err := oneOf("match", r.Match, []string{"all", "any"}); err != nil {
		return nil, err
	}
	if len(r.Conditions) > maxRuleParts || len(r.Actions) > maxRuleParts {
		return nil, inputErr("conditions", "a rule has at most %d conditions and %d actions", maxRuleParts, maxRuleParts)
	}
	if len(r.Actions) == 0 {
		return nil, inputErr("actions", "a rule needs at least one action")
	}
	p := &rule{Rule: r, statuses: store.Statuses}
	for i, c := range r.Conditions {
		cc, err := compileCond(c, fmt.Sprintf("conditions.%d.", i))
		if err != nil {
			return nil, err
		}
		p.conds = append(p.conds, cc)
		if col, ok := hourFields[cc.field]; ok && cc.op == "gt" && p.timeCol == "" {
			p.timeCol, p.timeHours, p.unanswered = col, cc.hours, cc.field == "hours_unanswered"
		}
		if cc.field == "status" && cc.op == "is" {
			p.statuses = []string{cc.text}
		}
		if cc.field == "hours_unanswered" && cc.op == "gt" && len(p.statuses) > 2 {
			p.statuses = []string{"new", "open"}
		}
	}
	if r.Trigger == "time" {
		p.sqlTests = sqlTests(p.conds)
		if p.timeCol == "" {
			return nil, inputErr("conditions", "a time rule needs a condition like hours_since_updated greater than N")
		}
		if r.Match != "all" {
			return nil, inputErr("match", "a time rule matches all of its conditions")
		}
		p.statuses = slices.DeleteFunc(slices.Clone(p.statuses), func(s string) bool { return s == "closed" })
	}
	for i, a := range r.Actions {
		aa, err := compileAction(a, fmt.Sprintf("actions.%d.", i))
		if err != nil {
			return nil, err
		}
		p.acts = append(p.acts, aa)
	}
	return p, nil
}

// sqlTests are the conditions a time sweep can test in its index reads
// (the rest are tested on each ticket it reads; all are tested again).
func sqlTests(conds []cond) []store.TicketTest {
	var out []store.TicketTest
	for _, c := range conds {
		not := c.op == "is_not" || c.op == "not_contains"
		switch c.field {
		case "priority", "channel":
			out = append(out, store.TicketTest{Column: c.field, Not: not, Value: c.text})
		case "store_id", "team_id", "assignee_id":
			var v any
			if c.id != nil {
				v = *c.id
			}
			out = append(out, store.TicketTest{Column: c.field, Not: not, Value: v})
		case "tags":
			out = append(out, store.TicketTest{Column: "tag", Not: not, Value: c.tags[0]})
		}
	}
	return out
}

func compileCond(c store.Condition, at string) (cond, error) {
	cc := cond{field: c.Field, op: c.Op}
	ops, ok := conditionOps[c.Field]
	if name, isField := strings.CutPrefix(c.Field, "field."); isField && FieldName(name) {
		ops, ok = []string{"is", "is_not", "contains", "not_contains"}, true
	}
	if !ok {
		return cc, inputErr(at+"field", "%q is not something a rule can test", c.Field)
	}
	if !slices.Contains(ops, c.Op) {
		return cc, inputErr(at+"op", "%s takes %s, not %q", c.Field, strings.Join(ops, ", "), c.Op)
	}
	badValue := func(format string, args ...any) (cond, error) { return cc, inputErr(at+"value", format, args...) }
	switch c.Field {
	case "store_id", "team_id", "assignee_id":
		id, ok := idValue(c.Value)
		if !ok {
			return badValue("%s is an id or null", c.Field)
		}
		cc.id = id
	case "business_hours":
		b, ok := c.Value.(bool)
		if !ok {
			return badValue("business_hours is true or false")
		}
		cc.yes = b
	case "hours_since_created", "hours_since_updated", "hours_since_customer", "hours_unanswered":
		h, ok := c.Value.(float64)
		if !ok || h < 0 || h > maxHours {
			return badValue("%s is a number of hours from 0 to %d", c.Field, maxHours)
		}
		cc.hours = h
	case "tags":
		s, _ := c.Value.(string)
		tags, err := CleanTags([]string{s})
		if err != nil || len(tags) != 1 {
			return badValue("tags takes one tag")
		}
		cc.tags = tags
	default:
		var s string
		switch v := c.Value.(type) {
		case string:
			s = v
		case bool:
			s = map[bool]string{true: "1", false: "0"}[v]
		case float64:
			s = strconv.FormatFloat(v, 'f', -1, 64)
		default:
			return badValue("%s takes a text", c.Field)
		}
		if len(s) > 500 {
			return badValue("the text is longer than 500 characters")
		}
		cc.text = strings.ToLower(strings.TrimSpace(s))
		switch c.Field {
		case "channel":
			if err := oneOf(at+"value", cc.text, store.Channels); err != nil {
				return cc, err
			}
		case "status":
			if err := oneOf(at+"value", cc.text, store.Statuses); err != nil {
				return cc, err
			}
		case "priority":
			if err := oneOf(at+"value", cc.text, store.Priorities); err != nil {
				return cc, err
			}
		case "customer_domain":
			cc.text = strings.TrimPrefix(cc.text, "@")
		}
		if cc.text == "" && c.Op != "is" && c.Op != "is_not" {
			return badValue("the text is empty")
		}
	}
	return cc, nil
}

func compileAction(a store.Action, at string) (act, error) {
	aa := act{typ: a.Type}
	if err := oneOf(at+"type", a.Type, ActionTypes); err != nil {
		return aa, err
	}
	badValue := func(format string, args ...any) (act, error) { return aa, inputErr(at+"value", format, args...) }
	switch a.Type {
	case "set_team", "set_assignee":
		id, ok := idValue(a.Value)
		if !ok {
			return badValue("%s takes an id or null", a.Type)
		}
		aa.id = id
	case "set_status", "set_priority":
		s, _ := a.Value.(string)
		allowed := store.Statuses
		if a.Type == "set_priority" {
			allowed = store.Priorities
		}
		if err := oneOf(at+"value", s, allowed); err != nil {
			return aa, err
		}
		aa.text = s
	case "add_tags", "remove_tags":
		list, _ := a.Value.([]any)
		var raw []string
		for _, v := range list {
			s, ok := v.(string)
			if !ok {
				return badValue("%s takes a list of tags", a.Type)
			}
			raw = append(raw, s)
		}
		tags, err := CleanTags(raw)
		if err != nil {
			return badValue("%s", err.Error())
		}
		if len(tags) == 0 {
			return badValue("%s takes at least one tag", a.Type)
		}
		aa.tags = tags
	case "add_note", "auto_reply":
		s, _ := a.Value.(string)
		if strings.TrimSpace(s) == "" || len(s) > maxRuleText {
			return badValue("%s takes a text of 1 to %d characters", a.Type, maxRuleText)
		}
		aa.text = s
	case "notify":
		// "assignee", "team" (its members), or an agent's id.
		if s, ok := a.Value.(string); ok && (s == "assignee" || s == "team") {
			aa.text = s
			break
		}
		id, ok := idValue(a.Value)
		if !ok || id == nil {
			return badValue(`notify takes "assignee", "team" or an agent's id`)
		}
		aa.id = id
	case "webhook":
		id, ok := idValue(a.Value)
		if !ok || id == nil {
			return badValue("webhook takes a webhook's id")
		}
		aa.id = id
	}
	return aa, nil
}

// idValue reads an id (a JSON number) or null.
func idValue(v any) (*int64, bool) {
	if v == nil {
		return nil, true
	}
	f, ok := v.(float64)
	if !ok || f < 1 || f != float64(int64(f)) {
		return nil, false
	}
	id := int64(f)
	return &id, true
}

// ---- The rules in force

// activeRules returns the enabled rules in order, read once and kept
// until a rule changes.
func (d *Desk) activeRules(ctx context.Context) ([]*rule, error) {
	d.mu.RLock()
	list, ok, gen := d.rules, d.rulesRead, d.rulesGen
	d.mu.RUnlock()
	if ok {
		return list, nil
	}
	all, err := d.db.Rules(ctx)
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
			d.log.Warn("rule skipped", "rule", r.ID, "err", err)
			continue
		}
		list = append(list, p)
	}
	d.mu.Lock()
	if d.rulesGen == gen { // else a rule changed meanwhile: what was read may be old
		d.rules, d.rulesRead = list, true
	}
	d.mu.Unlock()
	return list, nil
}

func (d *Desk) forgetRules() {
	d.mu.Lock()
	d.rules, d.rulesRead = nil, false
	d.rulesGen++
	d.mu.Unlock()
}

// ---- Saving rules

// Rules lists every rule in order.
func (d *Desk) Rules(ctx context.Context) ([]*store.Rule, error) { return d.db.Rules(ctx) }

// SaveRule creates (id 0) or replaces a rule after checking it.
func (d *Desk) SaveRule(ctx context.Context, id int64, r store.Rule) (*store.Rule, error) {
	p, err := compileRule(&r)
	if err != nil {
		return nil, err
	}
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		for i, c := range p.conds {
			table := map[string]string{"store_id": "stores", "team_id": "teams", "assignee_id": "agents"}[c.field]
			if table != "" {
				if err := exists(ctx, tx, table, fmt.Sprintf("conditions.%d.value", i), c.id); err != nil {
					return err
				}
			}
		}
		for i, a := range p.acts {
			table := map[string]string{"set_team": "teams", "set_assignee": "agents", "notify": "agents", "webhook": "webhooks"}[a.typ]
			if table != "" {
				if err := exists(ctx, tx, table, fmt.Sprintf("actions.%d.value", i), a.id); err != nil {
					return err
				}
			}
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
	d.forgetRules()
	return &r, nil
}

// DeleteRule removes a rule.
func (d *Desk) DeleteRule(ctx context.Context, id int64) error {
	err := d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteRule(ctx, id) })
	d.forgetRules()
	return err
}

// ---- Running rules

// ruleRun is one cascade of rules on one ticket inside a transaction.
type ruleRun struct {
	d       *Desk
	tx      *store.Tx
	t       *store.Ticket
	msg     *store.Message // the message that fired the trigger, if any
	now     time.Time
	applied map[int64]bool
	changes []Change
	notify  []Notification
	changed bool // the ticket's own columns changed
	queued  bool // a reply waits in the outbox
	// read when a condition needs them
	domain   *string
	st       *store.Store
	stLoaded bool
}

// Notification tells agents in the app about a ticket (a rule's notify
// action, a mention in a note).
type Notification struct {
	AgentIDs []int64 `json:"agent_ids"`
	TicketID int64   `json:"ticket_id"`
	Kind     string  `json:"kind"` // "rule" or "mention"
	Text     string  `json:"text"`
	By       string  `json:"by"` // the rule's name or the agent's
}

// runRules runs the rules of trigger on t, then "updated" rules for what
// they changed, and returns the changes to publish. The caller writes t.
func (d *Desk) runRules(ctx context.Context, tx *store.Tx, rules []*rule, trigger string, t *store.Ticket, msg *store.Message, now time.Time) (*ruleRun, error) {
	rr := &ruleRun{d: d, tx: tx, t: t, msg: msg, now: now, applied: map[int64]bool{}}
	for depth := 0; depth < maxCascade; depth++ {
		rr.changed = false
		for _, r := range rules {
			if r.Trigger != trigger || rr.applied[r.ID] {
				continue
			}
			ok, err := rr.matches(ctx, r)
			if err != nil {
				return nil, fmt.Errorf("rule %d: %w", r.ID, err)
			}
			if !ok {
				continue
			}
			if err := rr.apply(ctx, r); err != nil {
				return nil, fmt.Errorf("rule %d: %w", r.ID, err)
			}
		}
		if !rr.changed {
			break
		}
		trigger = "updated"
	}
	return rr, nil
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

func (rr *ruleRun) test(ctx context.Context, c cond) (bool, error) {
	t := rr.t
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
		if rr.msg != nil {
			body = rr.msg.Body
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
		open := st == nil || ChatOpen(st, rr.now)
		return open == c.yes, nil
	case "hours_since_created", "hours_since_updated", "hours_since_customer", "hours_unanswered":
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
			return false, nil
		}
		h := rr.now.Sub(*from).Hours()
		if c.op == "gt" {
			return h >= c.hours, nil
		}
		return h < c.hours, nil
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
	if rr.msg != nil && rr.msg.Kind == "customer" && strings.Contains(rr.msg.From, "@") {
		dom = rr.msg.From[strings.LastIndexByte(rr.msg.From, '@')+1:]
	} else {
		c, err := rr.tx.Customer(ctx, rr.t.CustomerID)
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
	if !rr.stLoaded && rr.t.StoreID != nil {
		st, err := rr.tx.Store(ctx, *rr.t.StoreID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
		rr.st = st
	}
	rr.stLoaded = true
	return rr.st, nil
}

// apply carries out a rule's actions on the ticket in memory, with an
// event for each, and records that the rule ran.
func (rr *ruleRun) apply(ctx context.Context, r *rule) error {
	rr.applied[r.ID] = true
	t := rr.t
	ran, err := rr.tx.RuleRan(ctx, r.ID, t.ID)
	if err != nil {
		return err
	}
	actor := Actor{Kind: "rule", RuleID: r.ID}
	event := func(data map[string]any) error {
		data["rule_id"], data["rule"] = r.ID, r.Name
		ev, err := addEvent(ctx, rr.tx, t.ID, "rule_applied", actor, data)
		if err == nil {
			rr.changes = append(rr.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
		}
		return err
	}
	for _, a := range r.acts {
		data := map[string]any{"action": a.typ}
		switch a.typ {
		case "set_team":
			if sameID(t.TeamID, a.id) {
				continue
			}
			if a.id != nil {
				ok, err := rr.tx.Exists(ctx, "teams", *a.id)
				if err != nil {
					return err
				}
				if !ok {
					continue // the team was deleted since
				}
			}
			data["from"], data["to"] = t.TeamID, a.id
			t.TeamID = a.id
		case "set_assignee":
			if sameID(t.AssigneeID, a.id) {
				continue
			}
			if a.id != nil {
				ag, err := rr.tx.Agent(ctx, *a.id)
				if errors.Is(err, store.ErrNotFound) || err == nil && !ag.Active {
					continue
				}
				if err != nil {
					return err
				}
			}
			data["from"], data["to"] = t.AssigneeID, a.id
			t.AssigneeID = a.id
		case "set_status":
			if t.Status == a.text || !slices.Contains(transitions[t.Status], a.text) {
				continue
			}
			data["from"], data["to"] = t.Status, a.text
			moveStatus(t, a.text, rr.now)
		case "set_priority":
			if t.Priority == a.text {
				continue
			}
			data["from"], data["to"] = t.Priority, a.text
			t.Priority = a.text
		case "add_tags", "remove_tags":
			tags := slices.Clone(t.Tags)
			if a.typ == "add_tags" {
				tags = append(tags, a.tags...)
			} else {
				tags = slices.DeleteFunc(tags, func(s string) bool { return slices.Contains(a.tags, s) })
			}
			tags, err := CleanTags(tags)
			if err != nil || slices.Equal(tags, t.Tags) {
				continue // too many tags is not worth failing the ingest
			}
			data["from"], data["to"] = t.Tags, tags
			t.Tags = tags
		case "add_note":
			m := &store.Message{TicketID: t.ID, Kind: "note", Channel: t.Channel, Body: a.text, CreatedAt: rr.now}
			if err := rr.tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			rr.changes = append(rr.changes, Change{Type: "message", TicketID: t.ID, Message: m})
			data["message_id"] = m.ID
		case "auto_reply":
			// Never to machines, and once per ticket and rule.
			if !ran.IsZero() || rr.msg != nil && rr.msg.Auto != "" || rr.msg == nil && t.LastCustomerAt == nil {
				continue
			}
			body, err := rr.fill(ctx, a.text)
			if err != nil {
				return err
			}
			m := &store.Message{TicketID: t.ID, Kind: "agent", Channel: t.Channel, Body: body, Auto: "auto_reply",
				Delivery: "queued", CreatedAt: rr.now}
			if err := rr.tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			if err := rr.tx.Enqueue(ctx, m.ID, rr.now); err != nil {
				return err
			}
			rr.changes = append(rr.changes, Change{Type: "message", TicketID: t.ID, Message: m})
			data["message_id"] = m.ID
			rr.queued = true
		case "notify":
			ids, err := rr.recipients(ctx, a)
			if err != nil {
				return err
			}
			if len(ids) == 0 {
				continue
			}
			rr.notify = append(rr.notify, Notification{AgentIDs: ids, TicketID: t.ID, Kind: "rule", Text: t.Subject, By: r.Name})
			data["agents"] = ids
		case "webhook":
			// Queued with the rule's changes; the dispatcher wakes when
			// the rule_applied event is published.
			dl, w, err := rr.queueRuleWebhook(ctx, r, *a.id)
			if err != nil {
				return err
			}
			if dl == nil {
				continue // the webhook was deleted or turned off since
			}
			data["webhook_id"], data["webhook"], data["delivery_id"] = w.ID, w.Name, dl.ID
		}
		if err := event(data); err != nil {
			return err
		}
		switch a.typ {
		case "set_team", "set_assignee", "set_status", "set_priority", "add_tags", "remove_tags":
			rr.changed = true
		}
	}
	return rr.tx.SetRuleRan(ctx, r.ID, t.ID, rr.now)
}

// fill puts the ticket's values into an automatic reply's placeholders
// (orders are not looked up inside a transaction).
func (rr *ruleRun) fill(ctx context.Context, text string) (string, error) {
	c, err := rr.tx.Customer(ctx, rr.t.CustomerID)
	if err != nil {
		return "", err
	}
	st, err := rr.store(ctx)
	if err != nil {
		return "", err
	}
	return FillPlaceholders(text, placeholderValues(rr.t, c, st, "")), nil
}

func (rr *ruleRun) recipients(ctx context.Context, a act) ([]int64, error) {
	switch {
	case a.id != nil:
		return []int64{*a.id}, nil
	case a.text == "assignee" && rr.t.AssigneeID != nil:
		return []int64{*rr.t.AssigneeID}, nil
	case a.text == "team" && rr.t.TeamID != nil:
		team, err := rr.tx.Team(ctx, *rr.t.TeamID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return team.AgentIDs, nil
	}
	return nil, nil
}

// ---- Time rules

// SweepRules runs the time rules as of now: each looks only at the
// tickets that crossed its threshold, or changed, since its last sweep
// (an index read), and acts on them in small transactions so that
// messages arriving meanwhile are not held up. It returns how many
// times a rule acted.
func (d *Desk) SweepRules(ctx context.Context, now time.Time) (int, error) {
	rules, err := d.activeRules(ctx)
	if err != nil {
		return 0, err
	}
	acted := 0
	for _, r := range rules {
		if r.Trigger != "time" {
			continue
		}
		n, err := d.sweepRule(ctx, rules, r, now)
		acted += n
		if err != nil {
			return acted, fmt.Errorf("sweep rule %d: %w", r.ID, err)
		}
	}
	return acted, nil
}

func (d *Desk) sweepRule(ctx context.Context, rules []*rule, r *rule, now time.Time) (int, error) {
	threshold := time.Duration(r.timeHours * float64(time.Hour))
	due := now.Add(-threshold)
	var prevDue, changed time.Time
	if !r.SweptTo.IsZero() && r.SweptTo.Unix() > 0 {
		prevDue, changed = r.SweptTo.Add(-threshold), r.SweptTo
	}
	ids, err := d.db.TimeCandidates(ctx, r.statuses, r.timeCol, prevDue, due, changed, r.unanswered, r.sqlTests)
	if err != nil {
		return 0, err
	}
	acted := 0
	for start := 0; start < len(ids); start += sweepBatch {
		batch := ids[start:min(start+sweepBatch, len(ids))]
		var out []*ruleRun
		err := d.db.Write(ctx, func(tx *store.Tx) error {
			out = out[:0]
			for _, id := range batch {
				t, err := tx.Ticket(ctx, id)
				if err != nil {
					return err
				}
				ran, err := tx.RuleRan(ctx, r.ID, id)
				if err != nil {
					return err
				}
				if !ran.IsZero() && !ran.Before(t.UpdatedAt) {
					continue // acted on since the ticket last changed
				}
				rr := &ruleRun{d: d, tx: tx, t: t, now: now, applied: map[int64]bool{}}
				ok, err := rr.matches(ctx, r)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
				if err := rr.apply(ctx, r); err != nil {
					return err
				}
				if rr.changed {
					more, err := d.runRules(ctx, tx, rules, "updated", t, nil, now)
					if err != nil {
						return err
					}
					rr.changes = append(rr.changes, more.changes...)
					rr.notify = append(rr.notify, more.notify...)
				}
				if len(rr.changes) > 0 {
					t.UpdatedAt = now
					more, err := d.saveTicket(ctx, tx, t, now)
					if err != nil {
						return err
					}
					rr.changes = append(rr.changes, more...)
					// What the rule changed is not news to the rule.
					if err := tx.SetRuleRan(ctx, r.ID, t.ID, now); err != nil {
						return err
					}
				}
				out = append(out, rr)
			}
			if start+sweepBatch >= len(ids) {
				return tx.SetRuleSwept(ctx, r.ID, now)
			}
			return nil
		})
		if err != nil {
			return acted, err
		}
		for _, rr := range out {
			acted++
			d.finishRules(ctx, rr)
		}
	}
	if len(ids) == 0 {
		if err := d.db.Write(ctx, func(tx *store.Tx) error { return tx.SetRuleSwept(ctx, r.ID, now) }); err != nil {
			return 0, err
		}
	}
	r.SweptTo = now // only the sweep reads it
	return acted, nil
}

// finishRules publishes what a committed rule run did.
func (d *Desk) finishRules(ctx context.Context, rr *ruleRun) {
	d.publish(ctx, rr.t.ID, rr.changes)
	for _, n := range rr.notify {
		d.bus.Publish(Change{Type: "notification", TicketID: n.TicketID, Notification: &n})
	}
	if rr.queued {
		d.Wake()
	}
}

// RunSweeps sweeps the time rules and the SLA due times, and hands
// waiting tickets of round-robin teams to members now free, every
// interval until ctx ends.
func (d *Desk) RunSweeps(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if n, err := d.SweepRules(ctx, store.Now()); err != nil && ctx.Err() == nil {
			d.log.Warn("time rules", "err", err)
		} else if n > 0 {
			d.log.Info("time rules acted", "times", n)
		}
		if n, err := d.SweepSLA(ctx, store.Now()); err != nil && ctx.Err() == nil {
			d.log.Warn("sla sweep", "err", err)
		} else if n > 0 {
			d.log.Info("sla sweep acted", "tickets", n)
		}
		if n, err := d.AssignWaiting(ctx); err != nil && ctx.Err() == nil {
			d.log.Warn("round robin", "err", err)
		} else if n > 0 {
			d.log.Info("round robin assigned waiting tickets", "tickets", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
