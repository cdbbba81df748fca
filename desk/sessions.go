package desk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"onedesk/store"
)

// Writes the HTTP layer makes for an agent's own use: sessions, API tokens,
// reads of tickets, the health probe. They go through desk like every
// write (ui only reads the store directly).

// StartSession records a new login of an active agent (the caller made
// the token and hashed it).
func (d *Desk) StartSession(ctx context.Context, s *store.Session) error {
	if err := d.activeAgent(ctx, s.AgentID); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	return d.db.InsertSession(ctx, s)
}

// ExtendSession keeps a session in use alive until until.
func (d *Desk) ExtendSession(ctx context.Context, hash string, until time.Time) error {
	return d.db.ExtendSession(ctx, hash, until)
}

// EndSession logs a session out.
func (d *Desk) EndSession(ctx context.Context, hash string) error {
	return d.db.DeleteSession(ctx, hash)
}

// EndExpiredSessions drops sessions past their time.
func (d *Desk) EndExpiredSessions(ctx context.Context) error {
	return d.db.DeleteExpiredSessions(ctx)
}

// CreateAPIToken records a new API token of an active agent (the caller
// made the token and hashed it).
func (d *Desk) CreateAPIToken(ctx context.Context, t *store.APIToken) error {
	if err := d.activeAgent(ctx, t.AgentID); err != nil {
		return fmt.Errorf("create API token: %w", err)
	}
	return d.db.InsertAPIToken(ctx, t)
}

// TokenUsed records that an API token was just used.
func (d *Desk) TokenUsed(ctx context.Context, id int64) error {
	return d.db.TouchAPIToken(ctx, id)
}

// RevokeAPIToken deletes one of agentID's API tokens.
func (d *Desk) RevokeAPIToken(ctx context.Context, agentID, id int64) error {
	return d.db.DeleteAPIToken(ctx, agentID, id)
}

// MarkRead records that an agent looked at a ticket now.
func (d *Desk) MarkRead(ctx context.Context, agentID, ticketID int64) error {
	return d.db.MarkRead(ctx, agentID, ticketID)
}

// ProbeWrite writes a setting through the committer, to tell that the
// database still takes writes.
func (d *Desk) ProbeWrite(ctx context.Context, now time.Time) error {
	return d.db.SetSetting(ctx, "health_probe", now.UTC().Format(time.RFC3339))
}

// activeAgent refuses an agent that does not exist or is deactivated.
func (d *Desk) activeAgent(ctx context.Context, id int64) error {
	a, err := d.db.Agent(ctx, id)
	if errors.Is(err, store.ErrNotFound) || err == nil && !a.Active {
		return inputErr("agent_id", "agent %d does not exist or is deactivated", id)
	}
	return err
}

// RandomToken is a new secret token (sessions, login challenges, reset
// links): 256 random bits, URL-safe.
func RandomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// HashToken is how a token is kept: only its SHA-256.
func HashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}
