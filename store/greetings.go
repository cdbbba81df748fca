package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Greeting is one proactive chat rule of a store: the widget shows its
// message to a visitor on a matching page after DelaySeconds, once per
// visit (migrations/0039_greetings.sql says how URLPattern matches).
type Greeting struct {
	ID           int64             `json:"id"`
	StoreID      int64             `json:"store_id"`
	Position     int               `json:"position"`
	Name         string            `json:"name"`
	URLPattern   string            `json:"url_pattern"`
	DelaySeconds int               `json:"delay_seconds"`
	Audience     string            `json:"audience"` // any, new or returning
	Messages     map[string]string `json:"messages"` // by language
	Active       bool              `json:"active"`
	CreatedAt    time.Time         `json:"created_at"`
}

const greetingCols = "id, store_id, position, name, url_pattern, delay_s, audience, messages, active, created_at"

// Greetings lists a store's greetings in the order the widget tries them.
func (db *DB) Greetings(ctx context.Context, storeID int64) ([]Greeting, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+greetingCols+" FROM greetings WHERE store_id = ? ORDER BY position, id", storeID)
	if err != nil {
		return nil, fmt.Errorf("greetings of store %d: %w", storeID, err)
	}
	defer rows.Close()
	list := []Greeting{}
	for rows.Next() {
		var g Greeting
		var messages string
		var created int64
		if err := rows.Scan(&g.ID, &g.StoreID, &g.Position, &g.Name, &g.URLPattern, &g.DelaySeconds, &g.Audience,
			&messages, &g.Active, &created); err != nil {
			return nil, fmt.Errorf("greetings of store %d: %w", storeID, err)
		}
		g.Messages = map[string]string{}
		_ = jsonUnmarshal(messages, &g.Messages)
		g.CreatedAt = fromMS(created)
		list = append(list, g)
	}
	return list, rows.Err()
}

// SaveGreetings makes a store's greetings the list given, in its order:
// those with the id of one of the store's greetings are updated (their
// counts kept), those without an id are added, the others removed.
// An id of another store's greeting is ErrNotFound.
func (tx *Tx) SaveGreetings(ctx context.Context, storeID int64, list []Greeting) error {
	keep := map[int64]bool{}
	for i := range list {
		g := &list[i]
		g.StoreID, g.Position = storeID, i
		if g.ID != 0 {
			res, err := tx.q.ExecContext(ctx, `UPDATE greetings SET position = ?, name = ?, url_pattern = ?, delay_s = ?, audience = ?,
				messages = ?, active = ? WHERE id = ? AND store_id = ?`, g.Position, g.Name, g.URLPattern, g.DelaySeconds, g.Audience,
				jsonText(g.Messages, "{}"), g.Active, g.ID, storeID)
			if err != nil {
				return fmt.Errorf("update greeting %d: %w", g.ID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return &NotFoundError{Thing: "greeting", ID: g.ID}
			}
		} else {
			if g.CreatedAt.IsZero() {
				g.CreatedAt = Now()
			}
			res, err := tx.q.insert(ctx, `INSERT INTO greetings (store_id, position, name, url_pattern, delay_s, audience, messages, active, created_at)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, storeID, g.Position, g.Name, g.URLPattern, g.DelaySeconds, g.Audience,
				jsonText(g.Messages, "{}"), g.Active, ms(g.CreatedAt))
			if err != nil {
				return fmt.Errorf("insert greeting: %w", err)
			}
			if g.ID, err = res.LastInsertId(); err != nil {
				return err
			}
		}
		keep[g.ID] = true
	}
	ids, err := queryIDs(ctx, tx.q, "SELECT id FROM greetings WHERE store_id = ?", storeID)
	if err != nil {
		return fmt.Errorf("greetings of store %d: %w", storeID, err)
	}
	for _, id := range ids {
		if keep[id] {
			continue
		}
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM greeting_counts WHERE greeting_id = ?", id); err != nil {
			return fmt.Errorf("delete greeting %d counts: %w", id, err)
		}
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM greetings WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete greeting %d: %w", id, err)
		}
	}
	return nil
}

// Greeting events a widget counts.
const (
	GreetingShown  = "shown"
	GreetingOpened = "opened"
	GreetingChat   = "chat" // the visitor started a chat after the greeting
)

// CountGreeting adds one event to a greeting's counts for the day of at
// in loc (the store's time zone; a day is kept as the instant it begins);
// false when the store has no such greeting (nothing is counted).
func (tx *Tx) CountGreeting(ctx context.Context, storeID, greetingID int64, event string, at time.Time, loc *time.Location) (bool, error) {
	var shown, opened, chats int
	switch event {
	case GreetingShown:
		shown = 1
	case GreetingOpened:
		opened = 1
	case GreetingChat:
		chats = 1
	default:
		return false, fmt.Errorf("greeting event %q: unknown", event)
	}
	if loc == nil {
		loc = time.UTC
	}
	local := at.In(loc)
	day := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, loc)
	res, err := tx.q.ExecContext(ctx, `INSERT INTO greeting_counts (greeting_id, day, shown, opened, chats)
		SELECT id, ?, ?, ?, ? FROM greetings WHERE id = ? AND store_id = ?
		ON CONFLICT (greeting_id, day) DO UPDATE SET shown = greeting_counts.shown + excluded.shown,
		opened = greeting_counts.opened + excluded.opened, chats = greeting_counts.chats + excluded.chats`,
		ms(day), shown, opened, chats, greetingID, storeID)
	if err != nil {
		return false, fmt.Errorf("count greeting %d: %w", greetingID, err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// GreetingStat is what one greeting did in a period.
type GreetingStat struct {
	GreetingID int64  `json:"greeting_id"`
	StoreID    int64  `json:"store_id"`
	Name       string `json:"name"`
	URLPattern string `json:"url_pattern"`
	Active     bool   `json:"active"`
	Shown      int64  `json:"shown"`
	Opened     int64  `json:"opened"`
	Chats      int64  `json:"chats"`
}

// GreetingStats sums each greeting's counts over the store days that
// overlap the period from from to before to, for the stores given (nil:
// every store); greetings that counted nothing are listed with zeros. A
// report in the store's own zone (whole days from midnight) takes exactly
// its days; a day is 23 to 25 hours long, so one that began 23 hours or
// more before from ended by then.
func (db *DB) GreetingStats(ctx context.Context, storeIDs []int64, from, to time.Time) ([]GreetingStat, error) {
	where, args := "", []any{ms(from.Add(-23 * time.Hour)), ms(to)}
	if storeIDs != nil {
		where = " WHERE g.store_id IN (" + strings.TrimSuffix(strings.Repeat("?, ", len(storeIDs)), ", ") + ")"
		if len(storeIDs) == 0 {
			where = " WHERE 1 = 0"
		}
		for _, id := range storeIDs {
			args = append(args, id)
		}
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT g.id, g.store_id, g.name, g.url_pattern, g.active,
		coalesce(sum(c.shown), 0), coalesce(sum(c.opened), 0), coalesce(sum(c.chats), 0)
		FROM greetings g LEFT JOIN greeting_counts c ON c.greeting_id = g.id AND c.day > ? AND c.day < ?`+where+`
		GROUP BY g.id, g.store_id, g.name, g.url_pattern, g.active, g.position ORDER BY g.store_id, g.position, g.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("greeting stats: %w", err)
	}
	defer rows.Close()
	list := []GreetingStat{}
	for rows.Next() {
		var s GreetingStat
		if err := rows.Scan(&s.GreetingID, &s.StoreID, &s.Name, &s.URLPattern, &s.Active, &s.Shown, &s.Opened, &s.Chats); err != nil {
			return nil, fmt.Errorf("greeting stats: %w", err)
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// AgentAvatar is an agent's profile picture.
type AgentAvatar struct {
	AgentID     int64
	Key         string // in its public address
	ContentType string
	Data        []byte
	UpdatedAt   time.Time
}

// SetAgentAvatar stores an agent's picture (already checked and
// re-encoded by the caller) under a new random key, so that an address
// once given out shows the old picture no more, and returns the key.
func (tx *Tx) SetAgentAvatar(ctx context.Context, agentID int64, data []byte, contentType string) (string, error) {
	sha, _, err := tx.putBlob(ctx, data, "")
	if err != nil {
		return "", fmt.Errorf("agent %d picture: %w", agentID, err)
	}
	b := make([]byte, 16)
	rand.Read(b)
	key := hex.EncodeToString(b)
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO agent_avatars (agent_id, avatar_key, sha256, content_type, updated_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (agent_id) DO UPDATE SET avatar_key = excluded.avatar_key, sha256 = excluded.sha256,
		content_type = excluded.content_type, updated_at = excluded.updated_at`, agentID, key, sha, contentType, ms(Now())); err != nil {
		return "", fmt.Errorf("agent %d picture: %w", agentID, err)
	}
	return key, nil
}

// DeleteAgentAvatar removes an agent's picture (initials show instead).
func (tx *Tx) DeleteAgentAvatar(ctx context.Context, agentID int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM agent_avatars WHERE agent_id = ?", agentID); err != nil {
		return fmt.Errorf("agent %d picture: %w", agentID, err)
	}
	return nil
}

// AgentAvatarByKey reads the picture with that key; ErrNotFound if none.
func (db *DB) AgentAvatarByKey(ctx context.Context, key string) (*AgentAvatar, error) {
	var a AgentAvatar
	var sha string
	var updated int64
	err := db.rq.QueryRowContext(ctx, "SELECT agent_id, avatar_key, sha256, content_type, updated_at FROM agent_avatars WHERE avatar_key = ?", key).
		Scan(&a.AgentID, &a.Key, &sha, &a.ContentType, &updated)
	if err != nil {
		return nil, notFound(err, "picture")
	}
	a.UpdatedAt = fromMS(updated)
	if a.Data, err = db.blobData(ctx, db.rq, sha); err != nil {
		return nil, err
	}
	return &a, nil
}

// AvatarKeys are the keys of the agents' pictures, by agent id (agents
// without one are not in it).
func (db *DB) AvatarKeys(ctx context.Context) (map[int64]string, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT agent_id, avatar_key FROM agent_avatars")
	if err != nil {
		return nil, fmt.Errorf("agents' pictures: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return nil, fmt.Errorf("agents' pictures: %w", err)
		}
		out[id] = key
	}
	return out, rows.Err()
}

// AvatarKey is the key of an agent's picture, "" when they have none.
func (db *DB) AvatarKey(ctx context.Context, agentID int64) (string, error) {
	var key string
	err := db.rq.QueryRowContext(ctx, "SELECT avatar_key FROM agent_avatars WHERE agent_id = ?", agentID).Scan(&key)
	if err == sql.ErrNoRows {
		return "", nil
	}
	return key, err
}
