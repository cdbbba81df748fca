package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Webhook is an integration's URL that gets ticket and message events as
// signed JSON posts. The secret never leaves the server but once, when it
// is made.
type Webhook struct {
	ID             int64      `json:"id"`
	Name           string     `json:"name"`
	URL            string     `json:"url"`
	Events         []string   `json:"events"`
	Enabled        bool       `json:"enabled"`
	Secret         string     `json:"-"`
	LastStatus     string     `json:"last_status"` // "", "ok" or "failed": the latest attempt
	LastError      string     `json:"last_error"`
	LastErrorI18n  string     `json:"-"` // LastError as a stored sentence, "" if none
	LastDeliveryAt *time.Time `json:"last_delivery_at"`
	Queued         int        `json:"queued"` // deliveries waiting
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
}

// Delivery is one post to a webhook: queued until it is delivered or has
// failed for good. Payload names what the body is made of when it is
// sent (a DeliveryRef).
type Delivery struct {
	ID            int64           `json:"id"`
	WebhookID     int64           `json:"webhook_id"`
	Event         string          `json:"event"`
	TicketID      *int64          `json:"ticket_id"`
	Payload       json.RawMessage `json:"-"`
	Status        string          `json:"status"` // queued, delivered, failed
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"` // while queued
	ResponseCode  int             `json:"response_code"`
	LastError     string          `json:"error"`
	LastErrorI18n string          `json:"-"` // LastError as a stored sentence, "" if none
	CreatedAt     time.Time       `json:"created_at"`
	FinishedAt    *time.Time      `json:"finished_at"`
}

// DeliveryRef is what a delivery's payload holds: the ticket event or
// message it is about, or the rule that sent it. The body is made from it
// when it is sent, so a delivery row stays small. Rules write it, the
// webhooks read it.
type DeliveryRef struct {
	EventID   int64  `json:"event_id,omitempty"`
	MessageID int64  `json:"message_id,omitempty"`
	Rule      *Named `json:"rule,omitempty"`
}

// Named is a row as a webhook body shows it: its id and name.
type Named struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

const webhookCols = `w.id, w.name, w.url, w.events, w.enabled, w.secret, w.last_status, w.last_error, w.last_error_i18n,
	w.last_delivery_at, w.created_at, w.updated_at,
	(SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.status = 'queued')`

func scanWebhook(row interface{ Scan(...any) error }, box *secretBox) (*Webhook, error) {
	var w Webhook
	var events string
	var last sql.NullInt64
	var created, updated int64
	if err := row.Scan(&w.ID, &w.Name, &w.URL, &events, &w.Enabled, &w.Secret, &w.LastStatus, &w.LastError, &w.LastErrorI18n,
		&last, &created, &updated, &w.Queued); err != nil {
		return nil, err
	}
	_ = jsonUnmarshal(events, &w.Events)
	if w.Events == nil {
		w.Events = []string{}
	}
	w.LastDeliveryAt, w.CreatedAt, w.UpdatedAt = fromNullMS(last), fromMS(created), fromMS(updated)
	var err error
	if w.Secret, err = box.open("webhooks.secret", w.Secret); err != nil {
		return nil, err
	}
	return &w, nil
}

func webhooks(ctx context.Context, q querier, box *secretBox, where string, args ...any) ([]*Webhook, error) {
	rows, err := q.QueryContext(ctx, "SELECT "+webhookCols+" FROM webhooks w "+where+" ORDER BY w.name, w.id", args...)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	list := []*Webhook{}
	for rows.Next() {
		w, err := scanWebhook(rows, box)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		list = append(list, w)
	}
	return list, rows.Err()
}

// Webhooks lists every webhook by name.
func (db *DB) Webhooks(ctx context.Context) ([]*Webhook, error) {
	return webhooks(ctx, db.rq, db.secrets, "")
}

// EnabledWebhooks lists the webhooks that are on.
func (db *DB) EnabledWebhooks(ctx context.Context) ([]*Webhook, error) {
	return webhooks(ctx, db.rq, db.secrets, "WHERE w.enabled <> 0")
}

// Webhook reads one webhook.
func (db *DB) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	w, err := scanWebhook(db.rq.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks w WHERE w.id = ?", id), db.secrets)
	return w, notFoundID(err, "webhook", id)
}

// Webhook reads one webhook inside the transaction.
func (tx *Tx) Webhook(ctx context.Context, id int64) (*Webhook, error) {
	w, err := scanWebhook(tx.q.QueryRowContext(ctx, "SELECT "+webhookCols+" FROM webhooks w WHERE w.id = ?", id), tx.secrets)
	return w, notFoundID(err, "webhook", id)
}

// SaveWebhook inserts (ID 0) or updates a webhook's settings; its
// delivery status is left alone.
func (tx *Tx) SaveWebhook(ctx context.Context, w *Webhook) error {
	args := []any{w.Name, w.URL, jsonText(w.Events, "[]"), w.Enabled, tx.sealer(ctx).seal("webhooks.secret", w.Secret), ms(w.UpdatedAt)}
	if w.ID == 0 {
		res, err := tx.q.insert(ctx, `INSERT INTO webhooks (name, url, events, enabled, secret, updated_at, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, append(args, ms(w.CreatedAt))...)
		if err != nil {
			return fmt.Errorf("insert webhook: %w", err)
		}
		w.ID, err = res.LastInsertId()
		return err
	}
	_, err := tx.q.ExecContext(ctx, `UPDATE webhooks SET name = ?, url = ?, events = ?, enabled = ?, secret = ?, updated_at = ?
		WHERE id = ?`, append(args, w.ID)...)
	if err != nil {
		return fmt.Errorf("update webhook %d: %w", w.ID, err)
	}
	return nil
}

// DeleteWebhook removes a webhook with its deliveries.
func (tx *Tx) DeleteWebhook(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM webhooks WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "webhook", ID: id}
	}
	return nil
}

// SetWebhookOutcome records how the latest attempt to post went; the
// error both in English and as a stored sentence ("" if none).
func (tx *Tx) SetWebhookOutcome(ctx context.Context, id int64, status, lastErr, sentence string, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE webhooks SET last_status = ?, last_error = ?, last_error_i18n = ?, last_delivery_at = ? WHERE id = ?",
		status, lastErr, sentence, ms(at), id)
	if err != nil {
		return fmt.Errorf("webhook %d outcome: %w", id, err)
	}
	return nil
}

// ---- Deliveries

const deliveryCols = `id, webhook_id, event, ticket_id, payload, status, attempts, next_attempt_at,
	response_code, last_error, created_at, finished_at, last_error_i18n`

func scanDelivery(row interface{ Scan(...any) error }) (*Delivery, error) {
	var d Delivery
	var ticket, finished sql.NullInt64
	var payload string
	var next, created int64
	if err := row.Scan(&d.ID, &d.WebhookID, &d.Event, &ticket, &payload, &d.Status, &d.Attempts, &next,
		&d.ResponseCode, &d.LastError, &created, &finished, &d.LastErrorI18n); err != nil {
		return nil, err
	}
	d.TicketID, d.Payload, d.CreatedAt, d.FinishedAt = fromNullID(ticket), json.RawMessage(payload), fromMS(created), fromNullMS(finished)
	if d.Status == "queued" {
		t := fromMS(next)
		d.NextAttemptAt = &t
	}
	return &d, nil
}

func deliveries(ctx context.Context, q querier, query string, args ...any) ([]*Delivery, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("webhook deliveries: %w", err)
	}
	defer rows.Close()
	list := []*Delivery{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, fmt.Errorf("webhook deliveries: %w", err)
		}
		list = append(list, d)
	}
	return list, rows.Err()
}

// QueueDelivery stores a delivery, due at d.CreatedAt, and sets its ID.
func (tx *Tx) QueueDelivery(ctx context.Context, d *Delivery) error {
	payload := string(d.Payload)
	if payload == "" || payload == "null" {
		payload = "{}"
	}
	res, err := tx.q.insert(ctx, `INSERT INTO webhook_deliveries (webhook_id, event, ticket_id, payload, next_attempt_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, d.WebhookID, d.Event, nullID(d.TicketID), payload, ms(d.CreatedAt), ms(d.CreatedAt))
	if err != nil {
		return fmt.Errorf("queue %s for webhook %d: %w", d.Event, d.WebhookID, err)
	}
	if d.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	next := d.CreatedAt
	d.Status, d.NextAttemptAt, d.Payload = "queued", &next, json.RawMessage(payload)
	return nil
}

// Deliveries lists a webhook's latest deliveries, newest first.
func (db *DB) Deliveries(ctx context.Context, webhookID int64, limit int) ([]*Delivery, error) {
	return deliveries(ctx, db.rq, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE webhook_id = ? ORDER BY id DESC LIMIT ?",
		webhookID, limit)
}

// Delivery reads one delivery.
func (db *DB) Delivery(ctx context.Context, id int64) (*Delivery, error) {
	d, err := scanDelivery(db.rq.QueryRowContext(ctx, "SELECT "+deliveryCols+" FROM webhook_deliveries WHERE id = ?", id))
	return d, notFoundID(err, "delivery", id)
}

// QueuedDeliveries lists a webhook's queued deliveries in the order they
// go out.
func (db *DB) QueuedDeliveries(ctx context.Context, webhookID int64, limit int) ([]*Delivery, error) {
	return deliveries(ctx, db.rq, "SELECT "+deliveryCols+` FROM webhook_deliveries
		WHERE webhook_id = ? AND status = 'queued' ORDER BY id LIMIT ?`, webhookID, limit)
}

// heads are the oldest queued delivery of each enabled webhook: the one
// each webhook sends next.
const heads = `SELECT d.webhook_id, d.next_attempt_at FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
	WHERE w.enabled <> 0 AND d.id IN (SELECT min(id) FROM webhook_deliveries WHERE status = 'queued' GROUP BY webhook_id)`

// DueWebhooks lists the enabled webhooks whose next delivery is due by now.
func (db *DB) DueWebhooks(ctx context.Context, now time.Time) ([]int64, error) {
	ids, err := queryIDs(ctx, db.rq, "SELECT webhook_id FROM ("+heads+") h WHERE next_attempt_at <= ? ORDER BY webhook_id", ms(now))
	if err != nil {
		return nil, fmt.Errorf("due webhooks: %w", err)
	}
	return ids, nil
}

// NextWebhookAt is when the next delivery of an enabled webhook is due
// (zero if none is queued).
func (db *DB) NextWebhookAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := db.rq.QueryRowContext(ctx, "SELECT min(next_attempt_at) FROM ("+heads+") h").Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next webhook delivery: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromMS(next.Int64), nil
}

// FinishDelivery records a delivery's last attempt: delivered or failed
// (the error in English and as a stored sentence).
func (tx *Tx) FinishDelivery(ctx context.Context, id int64, status string, attempts, code int, lastErr, sentence string, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = ?, response_code = ?, last_error = ?,
		last_error_i18n = ?, finished_at = ? WHERE id = ?`, status, attempts, code, lastErr, sentence, ms(at), id)
	if err != nil {
		return fmt.Errorf("finish delivery %d: %w", id, err)
	}
	return nil
}

// RetryDelivery records a failed attempt (its error in English and as a
// stored sentence) and when to try again.
func (tx *Tx) RetryDelivery(ctx context.Context, id int64, attempts, code int, lastErr, sentence string, next time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = ?, response_code = ?, last_error = ?,
		last_error_i18n = ?, next_attempt_at = ? WHERE id = ?`, attempts, code, lastErr, sentence, ms(next), id)
	if err != nil {
		return fmt.Errorf("retry delivery %d: %w", id, err)
	}
	return nil
}

// FailStaleDeliveries fails a webhook's queued deliveries made before
// `before` (they waited behind one that failed for good) and returns how
// many.
func (tx *Tx) FailStaleDeliveries(ctx context.Context, webhookID int64, before time.Time, reason, sentence string, at time.Time) (int64, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'failed', last_error = ?, last_error_i18n = ?, finished_at = ?
		WHERE webhook_id = ? AND status = 'queued' AND created_at < ?`, reason, sentence, ms(at), webhookID, ms(before))
	if err != nil {
		return 0, fmt.Errorf("fail stale deliveries of webhook %d: %w", webhookID, err)
	}
	return res.RowsAffected()
}

// PruneDeliveries removes deliveries finished before `before`.
func (tx *Tx) PruneDeliveries(ctx context.Context, before time.Time) (int64, error) {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM webhook_deliveries WHERE finished_at < ?", ms(before))
	if err != nil {
		return 0, fmt.Errorf("prune webhook deliveries: %w", err)
	}
	return res.RowsAffected()
}

// ---- What the dispatcher turns into deliveries

// WebhookCursor is how far ticket events and messages were turned into
// deliveries: the last ids done.
type WebhookCursor struct {
	EventID, MessageID int64
}

// WebhookCursor reads the cursor and the newest event and message ids.
func (db *DB) WebhookCursor(ctx context.Context) (done, newest WebhookCursor, err error) {
	return db.cursor(ctx, "webhook_cursor")
}

// cursor reads a cursor over the events and messages (the one row of
// table) and the newest ids.
func (db *DB) cursor(ctx context.Context, table string) (done, newest WebhookCursor, err error) {
	err = db.rq.QueryRowContext(ctx, `SELECT c.event_id, c.message_id,
		COALESCE((SELECT max(id) FROM ticket_events), 0), COALESCE((SELECT max(id) FROM messages), 0)
		FROM `+table+` c WHERE c.id = 1`).Scan(&done.EventID, &done.MessageID, &newest.EventID, &newest.MessageID)
	if err != nil {
		err = fmt.Errorf("%s: %w", table, err)
	}
	return done, newest, err
}

// SetWebhookCursor moves the cursor.
func (tx *Tx) SetWebhookCursor(ctx context.Context, c WebhookCursor) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE webhook_cursor SET event_id = ?, message_id = ? WHERE id = 1", c.EventID, c.MessageID)
	if err != nil {
		return fmt.Errorf("set webhook cursor: %w", err)
	}
	return nil
}

// Occurrence is a ticket event or a message as the webhook dispatcher
// sees it: Type is the event's type, "" for a message.
type Occurrence struct {
	ID, TicketID int64
	Type         string
	CreatedAt    time.Time
}

func occurrences(ctx context.Context, q querier, query string, args ...any) ([]Occurrence, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("webhook cursor step: %w", err)
	}
	defer rows.Close()
	var list []Occurrence
	for rows.Next() {
		var o Occurrence
		var created int64
		if err := rows.Scan(&o.ID, &o.TicketID, &o.Type, &created); err != nil {
			return nil, fmt.Errorf("webhook cursor step: %w", err)
		}
		o.CreatedAt = fromMS(created)
		list = append(list, o)
	}
	return list, rows.Err()
}

// EventsAfter lists ticket events with ids from after+1 to upTo, oldest
// first; imported history is passed over.
func (db *DB) EventsAfter(ctx context.Context, after, upTo int64, limit int) ([]Occurrence, error) {
	return occurrences(ctx, db.rq, `SELECT id, ticket_id, type, created_at FROM ticket_events
		WHERE id > ? AND id <= ? AND historic = 0 ORDER BY id LIMIT ?`, after, upTo, limit)
}

// MessagesAfter lists messages with ids from after+1 to upTo, oldest
// first; imported history is passed over.
func (db *DB) MessagesAfter(ctx context.Context, after, upTo int64, limit int) ([]Occurrence, error) {
	return occurrences(ctx, db.rq, `SELECT id, ticket_id, '', created_at FROM messages
		WHERE id > ? AND id <= ? AND historic = 0 ORDER BY id LIMIT ?`, after, upTo, limit)
}
