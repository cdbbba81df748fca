package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Rule acts on tickets when its trigger fires and its conditions hold.
// The desk checks conditions and actions; the store keeps them as JSON.
type Rule struct {
	ID         int64       `json:"id"`
	Name       string      `json:"name"`
	Trigger    string      `json:"trigger"` // one of RuleTriggers
	Match      string      `json:"match"`   // all or any
	Conditions []Condition `json:"conditions"`
	Actions    []Action    `json:"actions"`
	Enabled    bool        `json:"enabled"`
	Position   int         `json:"position"`
	CreatedAt  time.Time   `json:"created_at"`
	UpdatedAt  time.Time   `json:"updated_at"`
	// SweptTo is the last time a time rule's sweep looked up to.
	SweptTo time.Time `json:"-"`
}

// Condition is one test on a ticket: field op value.
type Condition struct {
	Field string `json:"field"`
	Op    string `json:"op"`
	Value any    `json:"value"`
}

// Action is one thing a rule does.
type Action struct {
	Type  string `json:"type"`
	Value any    `json:"value"`
}

// RuleTriggers are when rules run.
var RuleTriggers = []string{"created", "customer_replied", "updated", "time", "sla_at_risk", "sla_breached", "rated"}

const ruleCols = "id, name, trigger, match, conditions, actions, enabled, position, swept_to, created_at, updated_at"

func scanRule(row interface{ Scan(...any) error }) (*Rule, error) {
	var r Rule
	var conds, acts string
	var swept, created, updated int64
	if err := row.Scan(&r.ID, &r.Name, &r.Trigger, &r.Match, &conds, &acts, &r.Enabled, &r.Position, &swept, &created, &updated); err != nil {
		return nil, err
	}
	_ = jsonUnmarshal(conds, &r.Conditions)
	_ = jsonUnmarshal(acts, &r.Actions)
	if r.Conditions == nil {
		r.Conditions = []Condition{}
	}
	if r.Actions == nil {
		r.Actions = []Action{}
	}
	r.SweptTo, r.CreatedAt, r.UpdatedAt = fromMS(swept), fromMS(created), fromMS(updated)
	return &r, nil
}

// Rules lists every rule in the order they run.
func (db *DB) Rules(ctx context.Context) ([]*Rule, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+ruleCols+" FROM rules ORDER BY position, id")
	if err != nil {
		return nil, fmt.Errorf("list rules: %w", err)
	}
	defer rows.Close()
	list := []*Rule{}
	for rows.Next() {
		r, err := scanRule(rows)
		if err != nil {
			return nil, fmt.Errorf("list rules: %w", err)
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// Rule reads one rule inside the transaction.
func (tx *Tx) Rule(ctx context.Context, id int64) (*Rule, error) {
	r, err := scanRule(tx.q.QueryRowContext(ctx, "SELECT "+ruleCols+" FROM rules WHERE id = ?", id))
	return r, notFoundID(err, "rule", id)
}

// InsertRule creates a rule; position 0 puts it last.
func (tx *Tx) InsertRule(ctx context.Context, r *Rule) error {
	if r.Position <= 0 {
		if err := tx.q.QueryRowContext(ctx, "SELECT COALESCE(max(position), 0) + 1 FROM rules").Scan(&r.Position); err != nil {
			return fmt.Errorf("insert rule: %w", err)
		}
	}
	res, err := tx.q.insert(ctx, `INSERT INTO rules (name, trigger, match, conditions, actions, enabled, position, swept_to, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, r.Name, r.Trigger, r.Match, jsonText(r.Conditions, "[]"), jsonText(r.Actions, "[]"),
		r.Enabled, r.Position, ms(r.SweptTo), ms(r.CreatedAt), ms(r.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert rule: %w", err)
	}
	r.ID, err = res.LastInsertId()
	return err
}

// UpdateRule writes a rule (its sweep position too).
func (tx *Tx) UpdateRule(ctx context.Context, r *Rule) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE rules SET name = ?, trigger = ?, match = ?, conditions = ?, actions = ?,
		enabled = ?, position = ?, swept_to = ?, updated_at = ? WHERE id = ?`, r.Name, r.Trigger, r.Match,
		jsonText(r.Conditions, "[]"), jsonText(r.Actions, "[]"), r.Enabled, r.Position, ms(r.SweptTo), ms(r.UpdatedAt), r.ID)
	if err != nil {
		return fmt.Errorf("update rule %d: %w", r.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "rule", ID: r.ID}
	}
	return nil
}

// DeleteRule removes a rule; what it did stays in the tickets' events.
func (tx *Tx) DeleteRule(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM rules WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete rule %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "rule", ID: id}
	}
	return nil
}

// SetRuleSwept records how far a time rule's sweep has looked.
func (tx *Tx) SetRuleSwept(ctx context.Context, id int64, to time.Time) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE rules SET swept_to = ? WHERE id = ?", ms(to), id)
	return err
}

// RuleRan is when a rule last acted on a ticket (zero if never).
func (tx *Tx) RuleRan(ctx context.Context, ruleID, ticketID int64) (time.Time, error) {
	var at int64
	err := tx.q.QueryRowContext(ctx, "SELECT at FROM rule_runs WHERE rule_id = ? AND ticket_id = ?", ruleID, ticketID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("rule %d run on ticket %d: %w", ruleID, ticketID, err)
	}
	return fromMS(at), nil
}

// SetRuleRan records that a rule acted on a ticket at a time.
func (tx *Tx) SetRuleRan(ctx context.Context, ruleID, ticketID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO rule_runs (rule_id, ticket_id, at) VALUES (?, ?, ?)
		ON CONFLICT (rule_id, ticket_id) DO UPDATE SET at = excluded.at`, ruleID, ticketID, ms(at))
	if err != nil {
		return fmt.Errorf("record rule %d on ticket %d: %w", ruleID, ticketID, err)
	}
	return nil
}

// TimeColumns are the ticket times a time rule can wait on.
var TimeColumns = map[string]string{
	"created": "created_at", "updated": "updated_at", "customer": "last_customer_at",
}

// TimeCandidates lists the tickets a time rule can find new at a sweep:
// those in one of statuses whose time column (a TimeColumns key) crossed
// due since the previous sweep's due (prevDue), and those changed since
// the previous sweep (changed) that are already past due. Zero prevDue
// and changed look at every ticket past due. unanswered keeps tickets
// whose customer wrote after the last agent reply. Each read is an index
// range; the ids are few bytes each, so even a first sweep over a million
// tickets fits.
func (db *DB) TimeCandidates(ctx context.Context, statuses []string, column string, prevDue, due, changed time.Time, unanswered bool, tests []TicketTest) ([]int64, error) {
	col, ok := TimeColumns[column]
	if !ok {
		return nil, fmt.Errorf("no time column %q", column)
	}
	var ids []int64
	seen := map[int64]bool{}
	extra, testArgs, err := testsSQL(db.postgres, tests)
	if err != nil {
		return nil, err
	}
	if unanswered {
		extra += " AND last_customer_at > COALESCE(last_agent_at, 0)"
	}
	run := func(q string, args ...any) error {
		rows, err := db.rq.QueryContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("time candidates: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return err
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		return rows.Err()
	}
	for _, st := range statuses {
		if err := run("SELECT id FROM tickets WHERE status = ? AND "+col+" > ? AND "+col+" <= ?"+extra,
			append([]any{st, ms(prevDue), ms(due)}, testArgs...)...); err != nil {
			return nil, err
		}
		if changed.IsZero() || prevDue.IsZero() {
			continue
		}
		if err := run("SELECT id FROM tickets WHERE status = ? AND updated_at > ? AND "+col+" <= ?"+extra,
			append([]any{st, ms(changed), ms(due)}, testArgs...)...); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// TicketTest narrows time candidates in SQL, so a sweep need not read the
// tickets a rule's simple conditions rule out: Column equal to Value (nil
// is NULL), or with Not unequal. Column "tag": the tags hold Value.
type TicketTest struct {
	Column string
	Not    bool
	Value  any
}

var testColumns = map[string]bool{"priority": true, "channel": true, "store_id": true, "team_id": true, "assignee_id": true}

func testsSQL(postgres bool, tests []TicketTest) (string, []any, error) {
	var b strings.Builder
	var args []any
	for _, t := range tests {
		not := map[bool]string{true: "NOT ", false: ""}[t.Not]
		switch {
		case t.Column == "tag":
			b.WriteString(" AND " + not + "EXISTS (SELECT 1 FROM " + jsonEach(postgres, "tags") + " WHERE value = ?)")
			args = append(args, t.Value)
		case !testColumns[t.Column]:
			return "", nil, fmt.Errorf("no ticket test on %q", t.Column)
		case t.Value == nil:
			b.WriteString(" AND " + t.Column + " IS " + not + "NULL")
		case t.Not:
			// A NULL column differs from any value (SQLite's IS NOT ?,
			// in the standard's words, which PostgreSQL also reads).
			b.WriteString(" AND " + t.Column + " IS DISTINCT FROM ?")
			args = append(args, t.Value)
		default:
			b.WriteString(" AND " + t.Column + " = ?")
			args = append(args, t.Value)
		}
	}
	return b.String(), args, nil
}
