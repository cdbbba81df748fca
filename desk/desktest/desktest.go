// Package desktest holds the helpers that the tests of desk and of the
// parts beside it (rules, sla, reports, webhooks) share: a desk over a
// fresh database, wired as the executable wires it (rules and the SLA
// clock plugged in), and short ways to ingest, add agents, rules and
// policies, read a ticket's events, and report a benchmark's latencies.
package desktest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/rules"
	"onedesk/sla"
	"onedesk/store"
	"onedesk/store/storetest"
)

var ctx = context.Background()

// Log is a logger that writes nowhere.
func Log() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

var (
	mu    sync.Mutex
	wired = map[*desk.Desk]parts{}
)

type parts struct {
	rules *rules.Engine
	sla   *sla.Clock
}

// The packages that use these helpers run their tests twice, on SQLite
// and on PostgreSQL, with Main as their TestMain: every desk made here is
// on the pass's engine (storetest.Data).

// Main runs a package's tests twice, on SQLite and then on PostgreSQL
// (storetest.Twice), each PostgreSQL test database starting as a copy of
// one migrated once. A package's TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }
func Main(m *testing.M) int {
	storetest.SetTemplate(func(url string) error {
		db, err := store.Open(ctx, url)
		if err != nil {
			return err
		}
		return db.Close()
	})
	return storetest.Twice(m)
}

// New is a desk on a fresh database: a file in the test's temporary
// directory, or a PostgreSQL database on storetest.Twice's second pass.
func New(t testing.TB) (*desk.Desk, *store.DB) {
	t.Helper()
	db, err := store.Open(ctx, storetest.Data(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return Wire(t, db), db
}

// NewRaw is New with a second, raw connection to the same database, to set
// times in the past the way a ticket would have them after waiting.
func NewRaw(t testing.TB) (*desk.Desk, *store.DB, *sql.DB) {
	t.Helper()
	data := storetest.Data(t)
	db, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	raw, err := store.OpenRaw(data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	return Wire(t, db), db, raw
}

// Wire makes a desk over db with rules and the SLA clock plugged in.
func Wire(t testing.TB, db *store.DB) *desk.Desk {
	d := desk.New(db, Log())
	p := parts{rules: rules.New(d, Log()), sla: sla.New(d, Log())}
	mu.Lock()
	wired[d] = p
	mu.Unlock()
	t.Cleanup(func() {
		mu.Lock()
		delete(wired, d)
		mu.Unlock()
	})
	return d
}

// Rules is the rules engine of a desk made here.
func Rules(d *desk.Desk) *rules.Engine {
	mu.Lock()
	defer mu.Unlock()
	return wired[d].rules
}

// SLA is the SLA clock of a desk made here.
func SLA(d *desk.Desk) *sla.Clock {
	mu.Lock()
	defer mu.Unlock()
	return wired[d].sla
}

// Exec runs a statement on the raw connection.
func Exec(t testing.TB, raw *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := raw.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

// Email is an email identity.
func Email(v string) store.Identity { return store.Identity{Kind: "email", Value: v} }

// Ptr points at an id.
func Ptr(v int64) *int64 { return &v }

// Ingest takes in a message (by email unless it says), failing the test
// on an error.
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
func TicketEvents(t testing.TB, db *store.DB, id int64, types ...store.EventType) []store.Event {
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

// Events lists a ticket's events as "type/actor".
func Events(t testing.TB, db *store.DB, id int64) string {
	t.Helper()
	var out []string
	for _, e := range TicketEvents(t, db, id) {
		out = append(out, string(e.Type)+"/"+e.Actor)
	}
	return strings.Join(out, " ")
}

// Agent adds an agent.
func Agent(t testing.TB, d *desk.Desk, mail, role string) *store.Agent {
	t.Helper()
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: mail, Name: "Agent " + mail, Password: "password123", Role: role})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// Ticket reads a ticket.
func Ticket(t testing.TB, db *store.DB, id int64) *store.Ticket {
	t.Helper()
	tk, err := db.Ticket(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// FieldOf is the field an input error names ("" for other errors).
func FieldOf(err error) string {
	var ie *desk.InputError
	if errors.As(err, &ie) {
		return ie.Field
	}
	return ""
}

// SaveRule saves an enabled rule.
func SaveRule(t testing.TB, d *desk.Desk, r store.Rule) *store.Rule {
	t.Helper()
	r.Enabled = true
	saved, err := Rules(d).Save(ctx, 0, r)
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
	for _, e := range TicketEvents(t, db, id, store.EventRuleApplied) {
		var data struct{ Rule, Action string }
		if err := json.Unmarshal(e.Data, &data); err != nil {
			t.Fatal(err)
		}
		out = append(out, data.Rule+":"+data.Action)
	}
	return strings.Join(out, " ")
}

// SavePolicy saves an enabled SLA policy.
func SavePolicy(t testing.TB, d *desk.Desk, p store.SLAPolicy) *store.SLAPolicy {
	t.Helper()
	p.Enabled = true
	saved, err := SLA(d).SavePolicy(ctx, 0, p)
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
