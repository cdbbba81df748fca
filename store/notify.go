package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Notifications (#29): the desk's VAPID keys, the agents' push
// subscriptions and preferences, the notifier's cursor and signals, the
// push queue and the email digest's items. The notify package uses them.

const vapidPrivateColumn = "vapid_keys.private_key"

// VAPIDKeys reads the desk's VAPID key pair (ErrNotFound: none yet).
func (db *DB) VAPIDKeys(ctx context.Context) (public, private string, err error) {
	err = db.rq.QueryRowContext(ctx, "SELECT public_key, private_key FROM vapid_keys WHERE id = 1").Scan(&public, &private)
	if err != nil {
		return "", "", notFound(err, "VAPID keys")
	}
	if private, err = db.secrets.open(vapidPrivateColumn, private); err != nil {
		return "", "", err
	}
	return public, private, nil
}

// InitVAPIDKeys keeps a key pair unless the desk has one already, and
// returns the one it has: the first node to make one wins.
func (db *DB) InitVAPIDKeys(ctx context.Context, public, private string) (string, string, error) {
	err := db.Write(ctx, func(tx *Tx) error {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO vapid_keys (id, public_key, private_key, created_at) VALUES (1, ?, ?, ?)
			ON CONFLICT (id) DO NOTHING`, public, tx.secrets.seal(vapidPrivateColumn, private), ms(Now()))
		return err
	})
	if err != nil {
		return "", "", fmt.Errorf("keep VAPID keys: %w", err)
	}
	return db.VAPIDKeys(ctx)
}

// resealVAPID seals the VAPID private key again (key rotation).
func resealVAPID(ctx context.Context, tx *Tx, again func(column, v string) (string, error)) error {
	var v string
	err := tx.q.QueryRowContext(ctx, "SELECT private_key FROM vapid_keys WHERE id = 1").Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read %s: %w", vapidPrivateColumn, err)
	}
	sealed, err := again(vapidPrivateColumn, v)
	if err != nil {
		return fmt.Errorf("%s: %w", vapidPrivateColumn, err)
	}
	if _, err := tx.q.ExecContext(ctx, "UPDATE vapid_keys SET private_key = ? WHERE id = 1", sealed); err != nil {
		return fmt.Errorf("seal %s: %w", vapidPrivateColumn, err)
	}
	return nil
}

// PushSubscription is one device of an agent that takes Web Push.
type PushSubscription struct {
	ID         int64      `json:"id"`
	AgentID    int64      `json:"agent_id"`
	Endpoint   string     `json:"endpoint"`
	P256dh     string     `json:"-"`
	Auth       string     `json:"-"`
	Device     string     `json:"device"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	LastError  string     `json:"last_error"`
}

const pushSubCols = "id, agent_id, endpoint, p256dh, auth, device, created_at, last_used_at, last_error"

func scanPushSub(row interface{ Scan(...any) error }) (*PushSubscription, error) {
	var s PushSubscription
	var created int64
	var used sql.NullInt64
	if err := row.Scan(&s.ID, &s.AgentID, &s.Endpoint, &s.P256dh, &s.Auth, &s.Device, &created, &used, &s.LastError); err != nil {
		return nil, err
	}
	s.CreatedAt = fromMS(created)
	if used.Valid {
		t := fromMS(used.Int64)
		s.LastUsedAt = &t
	}
	return &s, nil
}

// SavePushSubscription keeps a device's subscription for its agent; an
// endpoint known already (the same browser again, or signed in as
// another agent) is moved to s.AgentID with the new keys.
func (db *DB) SavePushSubscription(ctx context.Context, s *PushSubscription) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO push_subscriptions (agent_id, endpoint, p256dh, auth, device, created_at)
			VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (endpoint) DO UPDATE SET agent_id = excluded.agent_id, p256dh = excluded.p256dh,
				auth = excluded.auth, device = excluded.device, last_error = ''`,
			s.AgentID, s.Endpoint, s.P256dh, s.Auth, s.Device, ms(s.CreatedAt))
		if err != nil {
			return fmt.Errorf("save push subscription: %w", err)
		}
		return tx.q.QueryRowContext(ctx, "SELECT id FROM push_subscriptions WHERE endpoint = ?", s.Endpoint).Scan(&s.ID)
	})
}

// PushSubscriptions lists an agent's devices, oldest first.
func (db *DB) PushSubscriptions(ctx context.Context, agentID int64) ([]*PushSubscription, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+pushSubCols+" FROM push_subscriptions WHERE agent_id = ? ORDER BY id", agentID)
	if err != nil {
		return nil, fmt.Errorf("push subscriptions: %w", err)
	}
	defer rows.Close()
	var list []*PushSubscription
	for rows.Next() {
		s, err := scanPushSub(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// AgentsWithPush tells which of the agents have at least one device.
func (db *DB) AgentsWithPush(ctx context.Context) (map[int64]bool, error) {
	ids, err := queryIDs(ctx, db.rq, "SELECT DISTINCT agent_id FROM push_subscriptions")
	if err != nil {
		return nil, fmt.Errorf("agents with push: %w", err)
	}
	out := map[int64]bool{}
	for _, id := range ids {
		out[id] = true
	}
	return out, nil
}

// DeletePushSubscription removes an agent's device by id or endpoint
// (whichever is given); it tells whether there was one.
func (db *DB) DeletePushSubscription(ctx context.Context, agentID, id int64, endpoint string) (bool, error) {
	var n int64
	err := db.Write(ctx, func(tx *Tx) error {
		res, err := tx.q.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE agent_id = ? AND (id = ? OR endpoint = ?)",
			agentID, id, endpoint)
		if err != nil {
			return fmt.Errorf("delete push subscription: %w", err)
		}
		n, err = res.RowsAffected()
		return err
	})
	return n > 0, err
}

// ---- Preferences

// NotifyPrefs reads every agent's preferences (JSON, by agent id).
func (db *DB) NotifyPrefs(ctx context.Context) (map[int64]string, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT agent_id, prefs FROM notify_prefs")
	if err != nil {
		return nil, fmt.Errorf("notification preferences: %w", err)
	}
	defer rows.Close()
	out := map[int64]string{}
	for rows.Next() {
		var id int64
		var p string
		if err := rows.Scan(&id, &p); err != nil {
			return nil, err
		}
		out[id] = p
	}
	return out, rows.Err()
}

// AgentNotifyPrefs reads one agent's preferences ("" when unset).
func (db *DB) AgentNotifyPrefs(ctx context.Context, agentID int64) (string, error) {
	var p string
	err := db.rq.QueryRowContext(ctx, "SELECT prefs FROM notify_prefs WHERE agent_id = ?", agentID).Scan(&p)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("notification preferences of agent %d: %w", agentID, err)
	}
	return p, nil
}

// SetNotifyPrefs writes an agent's preferences.
func (db *DB) SetNotifyPrefs(ctx context.Context, agentID int64, prefs string) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO notify_prefs (agent_id, prefs, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (agent_id) DO UPDATE SET prefs = excluded.prefs, updated_at = excluded.updated_at`,
			agentID, prefs, ms(Now()))
		if err != nil {
			return fmt.Errorf("save notification preferences: %w", err)
		}
		return nil
	})
}

// ---- The notifier's cursor and signals

// NotifyCursor reads how far the notifier has read and the newest ids.
func (db *DB) NotifyCursor(ctx context.Context) (done, newest WebhookCursor, err error) {
	return db.cursor(ctx, "notify_cursor")
}

// SetNotifyCursor moves the notifier's cursor.
func (tx *Tx) SetNotifyCursor(ctx context.Context, c WebhookCursor) error {
	if _, err := tx.q.ExecContext(ctx, "UPDATE notify_cursor SET event_id = ?, message_id = ? WHERE id = 1", c.EventID, c.MessageID); err != nil {
		return fmt.Errorf("set notify cursor: %w", err)
	}
	return nil
}

// NotifySignal is something to tell agents of that is no event or
// message (an SLA about to breach).
type NotifySignal struct {
	ID, TicketID int64
	Kind         string
	CreatedAt    time.Time
}

// AddNotifySignal records a signal inside the transaction that found it.
func (tx *Tx) AddNotifySignal(ctx context.Context, kind string, ticketID int64, at time.Time) error {
	if _, err := tx.q.ExecContext(ctx, "INSERT INTO notify_signals (kind, ticket_id, created_at) VALUES (?, ?, ?)",
		kind, ticketID, ms(at)); err != nil {
		return fmt.Errorf("notify signal: %w", err)
	}
	return nil
}

// NotifySignals reads the oldest signals.
func (db *DB) NotifySignals(ctx context.Context, limit int) ([]NotifySignal, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT id, kind, ticket_id, created_at FROM notify_signals ORDER BY id LIMIT ?", limit)
	if err != nil {
		return nil, fmt.Errorf("notify signals: %w", err)
	}
	defer rows.Close()
	var list []NotifySignal
	for rows.Next() {
		var s NotifySignal
		var at int64
		if err := rows.Scan(&s.ID, &s.Kind, &s.TicketID, &at); err != nil {
			return nil, err
		}
		s.CreatedAt = fromMS(at)
		list = append(list, s)
	}
	return list, rows.Err()
}

// DeleteNotifySignals removes the signals up to id, once acted on.
func (tx *Tx) DeleteNotifySignals(ctx context.Context, upTo int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM notify_signals WHERE id <= ?", upTo); err != nil {
		return fmt.Errorf("delete notify signals: %w", err)
	}
	return nil
}

// TicketReadAt is when an agent last opened a ticket (zero: never).
func (db *DB) TicketReadAt(ctx context.Context, agentID, ticketID int64) (time.Time, error) {
	var at int64
	err := db.rq.QueryRowContext(ctx, "SELECT read_at FROM ticket_reads WHERE agent_id = ? AND ticket_id = ?", agentID, ticketID).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("ticket read: %w", err)
	}
	return fromMS(at), nil
}

// ---- The push queue

// QueuedPush is a push message waiting for its device.
type QueuedPush struct {
	ID        int64
	Sub       PushSubscription
	Payload   string
	Topic     string
	Attempts  int
	CreatedAt time.Time
}

// QueuePush queues a push message about a ticket (0: none) to a device.
func (tx *Tx) QueuePush(ctx context.Context, subID, ticketID int64, payload, topic string, now time.Time) error {
	var ticket any
	if ticketID != 0 {
		ticket = ticketID
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO push_queue (subscription_id, ticket_id, payload, topic, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, subID, ticket, payload, topic, ms(now), ms(now)); err != nil {
		return fmt.Errorf("queue push: %w", err)
	}
	return nil
}

// DuePushes lists the push messages due by now, oldest first, each with
// its device.
func (db *DB) DuePushes(ctx context.Context, now time.Time, limit int) ([]*QueuedPush, error) {
	cols := "s." + strings.ReplaceAll(pushSubCols, ", ", ", s.")
	rows, err := db.rq.QueryContext(ctx, `SELECT q.id, q.payload, q.topic, q.attempts, q.created_at, `+cols+`
		FROM push_queue q JOIN push_subscriptions s ON s.id = q.subscription_id
		WHERE q.next_attempt_at <= ? ORDER BY q.next_attempt_at, q.id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due pushes: %w", err)
	}
	defer rows.Close()
	var list []*QueuedPush
	for rows.Next() {
		var p QueuedPush
		var created int64
		var used sql.NullInt64
		s := &p.Sub
		var subCreated int64
		if err := rows.Scan(&p.ID, &p.Payload, &p.Topic, &p.Attempts, &created, &s.ID, &s.AgentID, &s.Endpoint,
			&s.P256dh, &s.Auth, &s.Device, &subCreated, &used, &s.LastError); err != nil {
			return nil, err
		}
		p.CreatedAt, s.CreatedAt = fromMS(created), fromMS(subCreated)
		list = append(list, &p)
	}
	return list, rows.Err()
}

// NextPushAt is when the next queued push is due (zero: none queued).
func (db *DB) NextPushAt(ctx context.Context) (time.Time, error) {
	return db.earliest(ctx, "SELECT min(next_attempt_at) FROM push_queue")
}

// earliest reads a query's one time (zero: NULL).
func (db *DB) earliest(ctx context.Context, query string) (time.Time, error) {
	var at sql.NullInt64
	if err := db.rq.QueryRowContext(ctx, query).Scan(&at); err != nil {
		return time.Time{}, fmt.Errorf("earliest: %w", err)
	}
	if !at.Valid {
		return time.Time{}, nil
	}
	return fromMS(at.Int64), nil
}

// PushSent removes a sent push and notes its device worked.
func (tx *Tx) PushSent(ctx context.Context, p *QueuedPush, at time.Time) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM push_queue WHERE id = ?", p.ID); err != nil {
		return fmt.Errorf("push sent: %w", err)
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE push_subscriptions SET last_used_at = ?, last_error = '' WHERE id = ?", ms(at), p.Sub.ID)
	return err
}

// PushGone removes a device the push service says is gone, with what
// was queued for it.
func (tx *Tx) PushGone(ctx context.Context, subID int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM push_queue WHERE subscription_id = ?", subID); err != nil {
		return fmt.Errorf("push gone: %w", err)
	}
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM push_subscriptions WHERE id = ?", subID); err != nil {
		return fmt.Errorf("push gone: %w", err)
	}
	return nil
}

// PushFailed records a failed try: again at next, or (next zero) never.
func (tx *Tx) PushFailed(ctx context.Context, p *QueuedPush, reason string, next time.Time) error {
	var err error
	if next.IsZero() {
		_, err = tx.q.ExecContext(ctx, "DELETE FROM push_queue WHERE id = ?", p.ID)
	} else {
		_, err = tx.q.ExecContext(ctx, "UPDATE push_queue SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?", ms(next), p.ID)
	}
	if err == nil {
		_, err = tx.q.ExecContext(ctx, "UPDATE push_subscriptions SET last_error = ? WHERE id = ?", reason, p.Sub.ID)
	}
	if err != nil {
		return fmt.Errorf("push failed: %w", err)
	}
	return nil
}

// ---- The email digest

// NotifyMail is one item waiting for an agent's digest.
type NotifyMail struct {
	ID, AgentID, TicketID int64
	Kind, Text            string
	CreatedAt, DueAt      time.Time
}

// QueueNotifyMail adds an item to an agent's digest.
func (tx *Tx) QueueNotifyMail(ctx context.Context, m *NotifyMail) error {
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO notify_mail (agent_id, kind, ticket_id, text, created_at, due_at)
		VALUES (?, ?, ?, ?, ?, ?)`, m.AgentID, m.Kind, m.TicketID, m.Text, ms(m.CreatedAt), ms(m.DueAt)); err != nil {
		return fmt.Errorf("queue notify mail: %w", err)
	}
	return nil
}

// NotifyMailDue lists the agents with an item due by now.
func (db *DB) NotifyMailDue(ctx context.Context, now time.Time) ([]int64, error) {
	ids, err := queryIDs(ctx, db.rq, "SELECT DISTINCT agent_id FROM notify_mail WHERE due_at <= ? ORDER BY agent_id", ms(now))
	if err != nil {
		return nil, fmt.Errorf("notify mail due: %w", err)
	}
	return ids, nil
}

// NotifyMailOf lists an agent's waiting items, oldest first.
func (db *DB) NotifyMailOf(ctx context.Context, agentID int64) ([]*NotifyMail, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT id, agent_id, kind, ticket_id, text, created_at, due_at FROM notify_mail
		WHERE agent_id = ? ORDER BY id`, agentID)
	if err != nil {
		return nil, fmt.Errorf("notify mail: %w", err)
	}
	defer rows.Close()
	var list []*NotifyMail
	for rows.Next() {
		var m NotifyMail
		var created, due int64
		if err := rows.Scan(&m.ID, &m.AgentID, &m.Kind, &m.TicketID, &m.Text, &created, &due); err != nil {
			return nil, err
		}
		m.CreatedAt, m.DueAt = fromMS(created), fromMS(due)
		list = append(list, &m)
	}
	return list, rows.Err()
}

// DeleteNotifyMail removes digest items (sent, or no longer wanted).
func (tx *Tx) DeleteNotifyMail(ctx context.Context, ids []int64) error {
	for _, id := range ids {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM notify_mail WHERE id = ?", id); err != nil {
			return fmt.Errorf("delete notify mail: %w", err)
		}
	}
	return nil
}
