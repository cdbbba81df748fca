// Package desktest holds the helpers that the tests of desk and of the
// parts beside it (reports, webhooks) share: a desk over a real SQLite
// file, and short ways to ingest, add agents, rules and policies, and
// read a ticket's events.
package desktest

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

var ctx = context.Background()

// Log is a logger that writes nowhere.
func Log() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// New opens a desk over a new database in the test's temporary folder.
func New(t testing.TB) (*desk.Desk, *store.DB) {
	t.Helper()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return desk.New(db, Log()), db
}

// NewRaw is New with a second, plain SQL connection to the same file, for
// moving rows in time as a story needs.
func NewRaw(t testing.TB) (*desk.Desk, *store.DB, *sql.DB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return desk.New(db, Log()), db, raw
}

// Exec runs a statement on the plain connection.
func Exec(t testing.TB, raw *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := raw.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// Email is an email identity.
func Email(v string) store.Identity { return store.Identity{Kind: "email", Value: v} }

// Ingest takes in a message (by email unless it names a channel).
func Ingest(t testing.TB, d *desk.Desk, in desk.Inbound) *desk.Ingested {
	t.Helper()
	if in.Channel == "" {
		in.Channel = "email"
	}
	res, err := d.Ingest(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// TicketEvents reads a ticket's events, those of the given types (all
// when none are given).
func TicketEvents(t testing.TB, db *store.DB, id int64, types ...string) []store.Event {
	t.Helper()
	list, err := db.Events(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(types) == 0 {
		return list
	}
	return slices.DeleteFunc(list, func(e store.Event) bool { return !slices.Contains(types, e.Type) })
}

// Agent creates an agent with the password password123.
func Agent(t testing.TB, d *desk.Desk, mail, role string) *store.Agent {
	t.Helper()
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: mail, Name: "Agent " + mail, Password: "password123", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// SaveRule saves a new rule, enabled.
func SaveRule(t testing.TB, d *desk.Desk, r store.Rule) *store.Rule {
	t.Helper()
	r.Enabled = true
	saved, err := d.SaveRule(ctx, 0, r)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// Cond is a rule's condition.
func Cond(field, op string, value any) store.Condition {
	return store.Condition{Field: field, Op: op, Value: value}
}

// Action is a rule's action.
func Action(typ string, value any) store.Action { return store.Action{Type: typ, Value: value} }

// RuleEvents lists a ticket's rule_applied events as "rule:action".
func RuleEvents(t testing.TB, db *store.DB, id int64) string {
	t.Helper()
	var out []string
	for _, e := range TicketEvents(t, db, id, "rule_applied") {
		var data struct{ Rule, Action string }
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		out = append(out, data.Rule+":"+data.Action)
	}
	return strings.Join(out, " ")
}

// SavePolicy saves a new SLA policy, enabled.
func SavePolicy(t testing.TB, d *desk.Desk, p store.SLAPolicy) *store.SLAPolicy {
	t.Helper()
	p.Enabled = true
	saved, err := d.SaveSLAPolicy(ctx, 0, p)
	if err != nil {
		t.Fatal(err)
	}
	return saved
}

// Latency reports the median and 99th percentile of a benchmark's
// latencies.
func Latency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
}
