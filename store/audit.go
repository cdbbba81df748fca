package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// AuditEntry is one line of the audit log: who did what to the desk's
// accounts and settings, when and from where (ticket work is in the
// tickets' events instead).
type AuditEntry struct {
	ID        int64          `json:"id"`
	At        time.Time      `json:"at"`
	ActorKind string         `json:"actor_kind"` // agent, token, system or anonymous
	ActorID   *int64         `json:"actor_id"`
	ActorName string         `json:"actor_name"`
	TokenID   *int64         `json:"token_id,omitempty"`
	Kind      string         `json:"kind"`
	Target    string         `json:"target"`
	Data      map[string]any `json:"data"`
	IP        string         `json:"ip"`
	UserAgent string         `json:"user_agent"`
}

// maxUserAgent bounds what a client's User-Agent header may put in the log.
const maxUserAgent = 300

// InsertAudit appends e to the audit log, a write of its own.
func (db *DB) InsertAudit(ctx context.Context, e *AuditEntry) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.InsertAudit(ctx, e) })
}

// InsertAudit appends e to the audit log inside tx, so that it is kept
// if and only if what it tells of is.
func (tx *Tx) InsertAudit(ctx context.Context, e *AuditEntry) error {
	if e.At.IsZero() {
		e.At = Now()
	}
	if e.Data == nil {
		e.Data = map[string]any{}
	}
	data, err := json.Marshal(e.Data)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Kind, err)
	}
	if len(e.UserAgent) > maxUserAgent {
		e.UserAgent = strings.ToValidUTF8(e.UserAgent[:maxUserAgent], "")
	}
	res, err := tx.q.insert(ctx, `INSERT INTO audit_log (at, actor_kind, actor_id, actor_name, token_id, kind, target, data, ip, user_agent)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, ms(e.At), e.ActorKind, nullID(e.ActorID), e.ActorName, nullID(e.TokenID),
		e.Kind, e.Target, string(data), e.IP, e.UserAgent)
	if err != nil {
		return fmt.Errorf("audit %s: %w", e.Kind, err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

// AuditFilter narrows a page of the audit log. Pages run newest first;
// Before is the id of the last entry of the page before (0: the first page).
type AuditFilter struct {
	ActorID *int64
	Kind    string // a kind, or a prefix ending in "." ("agent.")
	From    time.Time
	To      time.Time // exclusive
	Before  int64
	Limit   int
}

// AuditLog reads a page of the audit log, newest first.
func (db *DB) AuditLog(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.ActorID != nil {
		where, args = append(where, "actor_id = ?"), append(args, *f.ActorID)
	}
	switch {
	case strings.HasSuffix(f.Kind, "."):
		where, args = append(where, "kind >= ? AND kind < ?"), append(args, f.Kind, f.Kind[:len(f.Kind)-1]+"/")
	case f.Kind != "":
		where, args = append(where, "kind = ?"), append(args, f.Kind)
	}
	if !f.From.IsZero() {
		where, args = append(where, "at >= ?"), append(args, ms(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "at < ?"), append(args, ms(f.To))
	}
	if f.Before > 0 {
		where, args = append(where, "id < ?"), append(args, f.Before)
	}
	if f.Limit <= 0 || f.Limit > 1000 {
		f.Limit = 100
	}
	q := `SELECT id, at, actor_kind, actor_id, actor_name, token_id, kind, target, data, ip, user_agent FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	// Ids grow with time (one writer, or PostgreSQL's sequence), and
	// paging by id is exact where two entries share a millisecond.
	q += " ORDER BY id DESC LIMIT ?"
	rows, err := db.r.QueryContext(ctx, q, append(args, f.Limit)...)
	if err != nil {
		return nil, fmt.Errorf("read the audit log: %w", err)
	}
	defer rows.Close()
	list := []AuditEntry{}
	for rows.Next() {
		var e AuditEntry
		var at int64
		var actor, token sql.NullInt64
		var data string
		if err := rows.Scan(&e.ID, &at, &e.ActorKind, &actor, &e.ActorName, &token, &e.Kind, &e.Target, &data, &e.IP, &e.UserAgent); err != nil {
			return nil, fmt.Errorf("read the audit log: %w", err)
		}
		e.At, e.ActorID, e.TokenID = fromMS(at), fromNullID(actor), fromNullID(token)
		if err := json.Unmarshal([]byte(data), &e.Data); err != nil || e.Data == nil {
			e.Data = map[string]any{}
		}
		list = append(list, e)
	}
	return list, rows.Err()
}
