package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Session is a logged-in browser. Only the hash of its token is stored.
type Session struct {
	TokenHash string
	AgentID   int64
	CSRFToken string
	ExpiresAt time.Time
}

// InsertSession stores a new session.
func (db *DB) InsertSession(ctx context.Context, s *Session) error {
	_, err := db.exec(ctx, `INSERT INTO sessions (token_hash, agent_id, csrf_token, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, s.TokenHash, s.AgentID, s.CSRFToken, ms(Now()), ms(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("insert session: %w", err)
	}
	return nil
}

// SessionByHash reads a session that has not expired.
func (db *DB) SessionByHash(ctx context.Context, hash string) (*Session, error) {
	var s Session
	var exp int64
	err := db.rq.QueryRowContext(ctx, `SELECT token_hash, agent_id, csrf_token, expires_at FROM sessions
		WHERE token_hash = ? AND expires_at > ?`, hash, ms(Now())).Scan(&s.TokenHash, &s.AgentID, &s.CSRFToken, &exp)
	if err != nil {
		return nil, notFound(err, "session")
	}
	s.ExpiresAt = fromMS(exp)
	return &s, nil
}

// ExtendSession moves a session's expiry.
func (db *DB) ExtendSession(ctx context.Context, hash string, until time.Time) error {
	_, err := db.execAuth(ctx, "UPDATE sessions SET expires_at = ? WHERE token_hash = ?", ms(until), hash)
	return err
}

// DeleteSession ends a session.
func (db *DB) DeleteSession(ctx context.Context, hash string) error {
	_, err := db.execAuth(ctx, "DELETE FROM sessions WHERE token_hash = ?", hash)
	return err
}

// DeleteAgentSessions ends every session of an agent (deactivation,
// password change).
func (tx *Tx) DeleteAgentSessions(ctx context.Context, agentID int64) error {
	tx.authChanged = true
	_, err := tx.q.ExecContext(ctx, "DELETE FROM sessions WHERE agent_id = ?", agentID)
	return err
}

// DeleteAgentTokens revokes every API token of an agent (deactivation,
// password change).
func (tx *Tx) DeleteAgentTokens(ctx context.Context, agentID int64) error {
	tx.authChanged = true
	_, err := tx.q.ExecContext(ctx, "DELETE FROM api_tokens WHERE agent_id = ?", agentID)
	return err
}

// DeleteExpiredSessions removes sessions past their expiry.
func (db *DB) DeleteExpiredSessions(ctx context.Context) error {
	_, err := db.execAuth(ctx, "DELETE FROM sessions WHERE expires_at <= ?", ms(Now()))
	return err
}

// AuthVersion moves whenever a committed write changed agents, sessions
// or API tokens in this process: a cache of who a credential belongs to
// is current while it holds the version it was read under. ok is false
// when other processes may change them too and this one does not hear of
// it (PostgreSQL, shared by several nodes, while FollowOthers is not
// listening): then nothing about credentials may be cached.
func (db *DB) AuthVersion() (version uint64, ok bool) {
	return db.authVersion.Load(), !db.postgres || db.nodes.following.Load()
}

// execAuth is exec for a statement that changes credentials.
func (db *DB) execAuth(ctx context.Context, q string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.Write(ctx, func(tx *Tx) error {
		tx.authChanged = true
		var err error
		res, err = tx.q.ExecContext(ctx, q, args...)
		return err
	})
	return res, err
}

// APIToken is a bearer token for integrations; only its hash is stored.
type APIToken struct {
	ID         int64      `json:"id"`
	AgentID    int64      `json:"agent_id"`
	Name       string     `json:"name"`
	TokenHash  string     `json:"-"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

// InsertAPIToken stores a new token.
func (db *DB) InsertAPIToken(ctx context.Context, t *APIToken) error {
	res, err := db.insert(ctx, `INSERT INTO api_tokens (agent_id, name, token_hash, created_at)
		VALUES (?, ?, ?, ?)`, t.AgentID, t.Name, t.TokenHash, ms(t.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert token: %w", err)
	}
	t.ID, err = res.LastInsertId()
	return err
}

// APITokenByHash reads a token.
func (db *DB) APITokenByHash(ctx context.Context, hash string) (*APIToken, error) {
	var t APIToken
	var created int64
	var used sql.NullInt64
	err := db.rq.QueryRowContext(ctx, `SELECT id, agent_id, name, created_at, last_used_at FROM api_tokens
		WHERE token_hash = ?`, hash).Scan(&t.ID, &t.AgentID, &t.Name, &created, &used)
	if err != nil {
		return nil, notFound(err, "token")
	}
	t.CreatedAt, t.LastUsedAt = fromMS(created), fromNullMS(used)
	return &t, nil
}

// TouchAPIToken records a token's use.
func (db *DB) TouchAPIToken(ctx context.Context, id int64) error {
	_, err := db.exec(ctx, "UPDATE api_tokens SET last_used_at = ? WHERE id = ?", ms(Now()), id)
	return err
}

// APITokens lists an agent's tokens.
func (db *DB) APITokens(ctx context.Context, agentID int64) ([]APIToken, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT id, agent_id, name, created_at, last_used_at FROM api_tokens
		WHERE agent_id = ? ORDER BY id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	list := []APIToken{}
	for rows.Next() {
		var t APIToken
		var created int64
		var used sql.NullInt64
		if err := rows.Scan(&t.ID, &t.AgentID, &t.Name, &created, &used); err != nil {
			return nil, err
		}
		t.CreatedAt, t.LastUsedAt = fromMS(created), fromNullMS(used)
		list = append(list, t)
	}
	return list, rows.Err()
}

// DeleteAPIToken revokes one of an agent's tokens.
func (db *DB) DeleteAPIToken(ctx context.Context, agentID, id int64) error {
	res, err := db.execAuth(ctx, "DELETE FROM api_tokens WHERE id = ? AND agent_id = ?", id, agentID)
	if err != nil {
		return fmt.Errorf("delete token %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "token", ID: id}
	}
	return nil
}

// Setting reads a setting, or "" when unset.
func (db *DB) Setting(ctx context.Context, key string) (string, error) {
	var v string
	err := db.rq.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", key).Scan(&v)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return v, err
}

// InitSetting stores value under key unless the key is set already, and
// returns what the key holds: the first writer wins.
func (db *DB) InitSetting(ctx context.Context, key, value string) (string, error) {
	if _, err := db.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
		key, value); err != nil {
		return "", fmt.Errorf("setting %s: %w", key, err)
	}
	return db.Setting(ctx, key)
}

// SetSetting writes a setting.
func (db *DB) SetSetting(ctx context.Context, key, value string) error {
	_, err := db.exec(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func jsonUnmarshal(s string, v any) error { return json.Unmarshal([]byte(s), v) }
