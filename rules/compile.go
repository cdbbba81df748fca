package rules

import (
	"fmt"
	"onedesk/desk"
	"onedesk/store"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
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
	// The customer's latest order in the ticket's store, as last seen (the
	// shop_orders table: lookups and order webhooks keep it; a rule never
	// asks the shop). A ticket whose customer has no known order meets
	// none of these.
	"order.financial_status": {"is", "is_not"}, "order.fulfillment_status": {"is", "is_not"},
	"order.country": {"is", "is_not"}, "order.tags": {"contains", "not_contains"},
	"order.total": {"gt", "lt"}, "order.days_since": {"gt", "lt"},
	// rating: the customer's latest satisfaction rating, 1-5 (a thumbs up
	// is 5, down 1); a ticket never rated matches none.
	"rating": {"lte", "gte", "is"},
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
	hours     float64  // hour conditions; order.total and order.days_since too; the rating
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
	if name, isField := strings.CutPrefix(c.Field, "field."); isField && desk.FieldName(name) {
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
	case "order.total", "order.days_since":
		n, ok := c.Value.(float64)
		if !ok || n < 0 || n > 1e9 {
			return badValue("%s is a number", c.Field)
		}
		cc.hours = n
	case "rating":
		n, ok := c.Value.(float64)
		if !ok || n < 1 || n > 5 || n != float64(int(n)) {
			return badValue("rating is a whole number from 1 to 5")
		}
		cc.hours = n
	case "tags":
		s, _ := c.Value.(string)
		tags, err := desk.CleanTags([]string{s})
		if err != nil || len(tags) != 1 {
			return badValue("tags takes one tag")
		}
		cc.tags = tags
	default:
		return textCond(cc, c.Value, at)
	}
	return cc, nil
}

// textCond checks the text a condition compares with (a form field's
// value may be given as a number or true/false).
func textCond(cc cond, value any, at string) (cond, error) {
	badValue := func(format string, args ...any) (cond, error) { return cc, inputErr(at+"value", format, args...) }
	var s string
	switch v := value.(type) {
	case string:
		s = v
	case bool:
		s = map[bool]string{true: "1", false: "0"}[v]
	case float64:
		s = strconv.FormatFloat(v, 'f', -1, 64)
	default:
		return badValue("%s takes a text", cc.field)
	}
	if len(s) > 500 {
		return badValue("the text is longer than 500 characters")
	}
	cc.text = strings.ToLower(strings.TrimSpace(s))
	var err error
	switch cc.field {
	case "channel":
		err = oneOf(at+"value", cc.text, store.Channels)
	case "status":
		err = oneOf(at+"value", cc.text, store.Statuses)
	case "priority":
		err = oneOf(at+"value", cc.text, store.Priorities)
	case "customer_domain":
		cc.text = strings.TrimPrefix(cc.text, "@")
	}
	if err != nil {
		return cc, err
	}
	if cc.text == "" && cc.op != "is" && cc.op != "is_not" {
		return badValue("the text is empty")
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
		tags, err := tagList(a, at)
		if err != nil {
			return aa, err
		}
		aa.tags = tags
	case "add_note", "auto_reply":
		s, _ := a.Value.(string)
		if strings.TrimSpace(s) == "" || len(s) > desk.MaxTemplateText {
			return badValue("%s takes a text of 1 to %d characters", a.Type, desk.MaxTemplateText)
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

// tagList reads the tags of add_tags and remove_tags.
func tagList(a store.Action, at string) ([]string, error) {
	badValue := func(format string, args ...any) ([]string, error) { return nil, inputErr(at+"value", format, args...) }
	list, _ := a.Value.([]any)
	var raw []string
	for _, v := range list {
		s, ok := v.(string)
		if !ok {
			return badValue("%s takes a list of tags", a.Type)
		}
		raw = append(raw, s)
	}
	tags, err := desk.CleanTags(raw)
	if err != nil {
		return badValue("%s", err.Error())
	}
	if len(tags) == 0 {
		return badValue("%s takes at least one tag", a.Type)
	}
	return tags, nil
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
