package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Bits of TicketSLA.Breached.
const (
	BreachedFirstResponse = 1
	BreachedResolution    = 2
)

// TicketSLA is where a ticket stands against its SLA policy. The desk
// works it out; the store keeps it in the ticket's row.
type TicketSLA struct {
	PolicyID         *int64
	FirstResponseDue *time.Time
	ResolutionDue    *time.Time // while the clock runs
	PausedAt         *time.Time // the resolution clock stands still since
	PausedMS         int64      // how long it stood still before
	Due              *time.Time // the earliest deadline still running
	Next             *time.Time // the earliest one whose breach is not yet recorded
	Warn             *time.Time // when the ticket becomes at risk
	Breached         int        // BreachedFirstResponse | BreachedResolution
}

// MarshalJSON writes null for a ticket no policy covers, else
// {policy_id, first_response_due, resolution_due, due, warn, paused,
// breached: ["first_response", "resolution"]}.
func (s TicketSLA) MarshalJSON() ([]byte, error) {
	if s.PolicyID == nil && s.Breached == 0 {
		return []byte("null"), nil // no policy covers it, and none did
	}
	breached := []string{}
	if s.Breached&BreachedFirstResponse != 0 {
		breached = append(breached, "first_response")
	}
	if s.Breached&BreachedResolution != 0 {
		breached = append(breached, "resolution")
	}
	return json.Marshal(struct {
		PolicyID         *int64     `json:"policy_id"`
		FirstResponseDue *time.Time `json:"first_response_due"`
		ResolutionDue    *time.Time `json:"resolution_due"`
		Due              *time.Time `json:"due"`
		Warn             *time.Time `json:"warn"`
		Paused           bool       `json:"paused"`
		Breached         []string   `json:"breached"`
	}{s.PolicyID, s.FirstResponseDue, s.ResolutionDue, s.Due, s.Warn, s.PausedAt != nil, breached})
}

// PolicyFor is the first policy of list that covers t (its store, team
// and channel) and has a target for its priority.
func PolicyFor(list []*SLAPolicy, t *Ticket) (*SLAPolicy, SLATarget) {
	same := func(a, b *int64) bool { return a == nil && b == nil || a != nil && b != nil && *a == *b }
	for _, p := range list {
		if p.StoreID != nil && !same(t.StoreID, p.StoreID) || p.TeamID != nil && !same(t.TeamID, p.TeamID) ||
			p.Channel != "" && p.Channel != t.Channel {
			continue
		}
		if tg, ok := p.Targets[t.Priority]; ok {
			return p, tg
		}
	}
	return nil, SLATarget{}
}

// SLATarget is how long a first response and a resolution may take, in
// seconds (0 = no target).
type SLATarget struct {
	FirstResponse int64 `json:"first_response"`
	Resolution    int64 `json:"resolution"`
}

// SLAPolicy sets targets per priority for the tickets it covers: those of
// its store, channel and team when set.
type SLAPolicy struct {
	ID            int64                `json:"id"`
	Name          string               `json:"name"`
	Position      int                  `json:"position"`
	Enabled       bool                 `json:"enabled"`
	StoreID       *int64               `json:"store_id"`
	Channel       string               `json:"channel"`
	TeamID        *int64               `json:"team_id"`
	BusinessHours bool                 `json:"business_hours"`
	Targets       map[string]SLATarget `json:"targets"` // by priority
	CreatedAt     time.Time            `json:"created_at"`
	UpdatedAt     time.Time            `json:"updated_at"`
}

const slaCols = "id, name, position, enabled, store_id, COALESCE(channel, ''), team_id, business_hours, targets, created_at, updated_at"

func scanSLAPolicy(row interface{ Scan(...any) error }) (*SLAPolicy, error) {
	var p SLAPolicy
	var storeID, teamID sql.NullInt64
	var targets string
	var created, updated int64
	if err := row.Scan(&p.ID, &p.Name, &p.Position, &p.Enabled, &storeID, &p.Channel, &teamID, &p.BusinessHours,
		&targets, &created, &updated); err != nil {
		return nil, err
	}
	p.StoreID, p.TeamID = fromNullID(storeID), fromNullID(teamID)
	_ = jsonUnmarshal(targets, &p.Targets)
	if p.Targets == nil {
		p.Targets = map[string]SLATarget{}
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// SLAPolicies lists the policies in the order they are tried.
func (db *DB) SLAPolicies(ctx context.Context) ([]*SLAPolicy, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+slaCols+" FROM sla_policies ORDER BY position, id")
	if err != nil {
		return nil, fmt.Errorf("list SLA policies: %w", err)
	}
	defer rows.Close()
	list := []*SLAPolicy{}
	for rows.Next() {
		p, err := scanSLAPolicy(rows)
		if err != nil {
			return nil, fmt.Errorf("list SLA policies: %w", err)
		}
		list = append(list, p)
	}
	return list, rows.Err()
}

// SLAPolicy reads one policy inside the transaction.
func (tx *Tx) SLAPolicy(ctx context.Context, id int64) (*SLAPolicy, error) {
	p, err := scanSLAPolicy(tx.q.QueryRowContext(ctx, "SELECT "+slaCols+" FROM sla_policies WHERE id = ?", id))
	return p, notFoundID(err, "SLA policy", id)
}

func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// InsertSLAPolicy creates a policy; position 0 puts it last.
func (tx *Tx) InsertSLAPolicy(ctx context.Context, p *SLAPolicy) error {
	if p.Position <= 0 {
		if err := tx.q.QueryRowContext(ctx, "SELECT COALESCE(max(position), 0) + 1 FROM sla_policies").Scan(&p.Position); err != nil {
			return fmt.Errorf("insert SLA policy: %w", err)
		}
	}
	res, err := tx.q.insert(ctx, `INSERT INTO sla_policies (name, position, enabled, store_id, channel, team_id,
		business_hours, targets, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.Name, p.Position, p.Enabled, nullID(p.StoreID), nullText(p.Channel), nullID(p.TeamID), p.BusinessHours,
		jsonText(p.Targets, "{}"), ms(p.CreatedAt), ms(p.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert SLA policy: %w", err)
	}
	p.ID, err = res.LastInsertId()
	return err
}

// UpdateSLAPolicy writes a policy.
func (tx *Tx) UpdateSLAPolicy(ctx context.Context, p *SLAPolicy) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE sla_policies SET name = ?, position = ?, enabled = ?, store_id = ?,
		channel = ?, team_id = ?, business_hours = ?, targets = ?, updated_at = ? WHERE id = ?`,
		p.Name, p.Position, p.Enabled, nullID(p.StoreID), nullText(p.Channel), nullID(p.TeamID), p.BusinessHours,
		jsonText(p.Targets, "{}"), ms(p.UpdatedAt), p.ID)
	if err != nil {
		return fmt.Errorf("update SLA policy %d: %w", p.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "SLA policy", ID: p.ID}
	}
	return nil
}

// DeleteSLAPolicy removes a policy; its tickets keep their breaches and
// lose their due times when they next change.
func (tx *Tx) DeleteSLAPolicy(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM sla_policies WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete SLA policy %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "SLA policy", ID: id}
	}
	return nil
}

// SLACandidates lists the tickets whose next unrecorded deadline ("due")
// or at-risk time ("warn") passed in (prev, now], and the tickets changed
// since changed whose time is already past: what an SLA sweep has to look
// at. Both reads are index ranges.
func (db *DB) SLACandidates(ctx context.Context, which string, prev, now, changed time.Time) ([]int64, error) {
	col := map[string]string{"due": "sla_next", "warn": "sla_warn"}[which]
	if col == "" {
		return nil, fmt.Errorf("no SLA time %q", which)
	}
	ids, err := queryIDs(ctx, db.rq, "SELECT id FROM tickets WHERE "+col+" > ? AND "+col+" <= ? ORDER BY id", ms(prev), ms(now))
	if err != nil || changed.IsZero() {
		return ids, err
	}
	more, err := queryIDs(ctx, db.rq, "SELECT id FROM tickets WHERE status IN ('new', 'open', 'pending') AND updated_at > ? AND "+
		col+" <= ?", ms(changed), ms(now))
	if err != nil {
		return nil, err
	}
	seen := make(map[int64]bool, len(ids))
	for _, id := range ids {
		seen[id] = true
	}
	for _, id := range more {
		if !seen[id] {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// RunningSLAs lists the tickets with a due time (an index read).
func (db *DB) RunningSLAs(ctx context.Context) ([]int64, error) {
	return queryIDs(ctx, db.rq, "SELECT id FROM tickets WHERE sla_due IS NOT NULL")
}
