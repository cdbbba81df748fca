// Package audit keeps the desk's audit log: who (an agent, an API token,
// the desk itself) did what to accounts, settings and customers' data,
// when and from where. Ticket work is not here: the tickets' own events
// record it (promise 4). The log is append-only (the table refuses
// changes) and holds no secret and no customer content: field names, not
// values; counts, not data.
package audit

import (
	"context"
	"encoding/json"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"onedesk/store"
)

// Entry is one line of the log.
type Entry = store.AuditEntry

// Actor kinds.
const (
	ByAgent     = "agent"     // an agent in the app (a session)
	ByToken     = "token"     // an API token
	BySystem    = "system"    // the desk itself (a sweep)
	ByAnonymous = "anonymous" // nobody signed in (a failed login)
)

// Kinds the desk records besides the settings changes ("<thing>.created",
// "<thing>.updated", "<thing>.deleted", "<thing>.<action>").
const (
	Login           = "login"
	LoginFailed     = "login_failed" // data.reason: unknown_email, wrong_password, inactive
	Logout          = "logout"
	PasswordChanged = "password.changed"
	// For two-factor sign-in and password reset (other branches): record
	// them with these kinds, which the app already names.
	PasswordResetAsked = "password.reset_requested"
	PasswordReset      = "password.reset"
	TwoFactorOn        = "two_factor.enabled"
	TwoFactorOff       = "two_factor.disabled"
	TokenCreated       = "token.created"
	TokenRevoked       = "token.revoked"
	AgentRole          = "agent.role_changed" // data.from, data.to
	AgentDeactivate    = "agent.deactivated"
	AgentReactivate    = "agent.reactivated"
	CustomerExport     = "customer.exported"
	CustomerErase      = "customer.erased" // data: counts only
	RetentionRun       = "retention.deleted"
	ImportRan          = "import.ran"         // from another helpdesk; data: counts only
	CustomersImported  = "customers.imported" // a CSV of customers; data: counts only
)

// Log writes and reads the audit log.
type Log struct {
	db  *store.DB
	log *slog.Logger
}

// New is the audit log of db; failures to write it go to log.
func New(db *store.DB, log *slog.Logger) *Log { return &Log{db: db, log: log} }

// Record appends e. It never fails the caller's work, which has been
// done: a failure to write the log is logged instead.
func (l *Log) Record(ctx context.Context, e Entry) {
	if err := l.db.InsertAudit(context.WithoutCancel(ctx), &e); err != nil {
		l.log.Error("audit log: entry not written", "kind", e.Kind, "target", e.Target, "err", err)
	}
}

// List reads a page of the log, newest first.
func (l *Log) List(ctx context.Context, f store.AuditFilter) ([]Entry, error) {
	return l.db.AuditLog(ctx, f)
}

// Target names a thing of a kind by id, as entries' Target does.
func Target(kind string, id int64) string { return kind + ":" + strconv.FormatInt(id, 10) }

// secretField tells the fields whose values are secrets: a change to one
// is recorded by its name only, known from the request (the stored value
// is sealed or never shown, so it cannot be compared).
func secretField(name string) bool {
	n := strings.ToLower(name)
	for _, s := range []string{"password", "secret", "token", "key"} {
		if strings.Contains(n, s) {
			return true
		}
	}
	return false
}

// ChangedFields names the fields a change set: those of sent (the
// request's JSON object) whose value differs between before and after
// (each any value that marshals to a JSON object; nil before: all sent),
// and every secret field sent with a value. Values never enter the log.
func ChangedFields(before, after any, sent []byte) []string {
	var body map[string]json.RawMessage
	if json.Unmarshal(sent, &body) != nil {
		return []string{}
	}
	old, _ := asObject(before)
	cur, _ := asObject(after)
	out := []string{}
	for k, raw := range body {
		if secretField(k) {
			if s := strings.TrimSpace(string(raw)); s != `""` && s != "null" {
				out = append(out, k)
			}
			continue
		}
		if old == nil {
			out = append(out, k)
			continue
		}
		was, okOld := old[k]
		now, okNew := cur[k]
		if !okNew {
			// Not in the answer: compare with what was sent.
			var v any
			json.Unmarshal(raw, &v)
			now, okNew = v, true
		}
		if !okOld || !reflect.DeepEqual(was, now) {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func asObject(v any) (map[string]any, bool) {
	if v == nil {
		return nil, false
	}
	var raw []byte
	switch b := v.(type) {
	case []byte:
		raw = b
	default:
		var err error
		if raw, err = json.Marshal(v); err != nil {
			return nil, false
		}
	}
	var m map[string]any
	if json.Unmarshal(raw, &m) != nil {
		return nil, false
	}
	return m, true
}
