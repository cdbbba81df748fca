package store

import (
	"context"
	"fmt"
	"time"
)

// OutboxItem is an outbound message waiting to be sent.
type OutboxItem struct {
	MessageID     int64
	TicketID      int64
	Attempts      int
	NextAttemptAt time.Time
	LastError     string
}

// Enqueue puts a message in the outbox, due at once.
func (tx *Tx) Enqueue(ctx context.Context, messageID int64, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO outbox (message_id, next_attempt_at, created_at) VALUES (?, ?, ?)
		ON CONFLICT (message_id) DO UPDATE SET attempts = 0, next_attempt_at = excluded.next_attempt_at, last_error = ''`,
		messageID, ms(at), ms(at))
	if err != nil {
		return fmt.Errorf("enqueue message %d: %w", messageID, err)
	}
	return nil
}

// DueOutbox lists items due by now, oldest first.
func (db *DB) DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT o.message_id, m.ticket_id, o.attempts, o.next_attempt_at, o.last_error
		FROM outbox o JOIN messages m ON m.id = o.message_id
		WHERE o.next_attempt_at <= ? ORDER BY o.next_attempt_at, o.message_id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due outbox: %w", err)
	}
	defer rows.Close()
	var list []OutboxItem
	for rows.Next() {
		var it OutboxItem
		var next int64
		if err := rows.Scan(&it.MessageID, &it.TicketID, &it.Attempts, &next, &it.LastError); err != nil {
			return nil, err
		}
		it.NextAttemptAt = fromMS(next)
		list = append(list, it)
	}
	return list, rows.Err()
}

// NextOutboxAt is when the earliest queued item is due (zero if none).
func (db *DB) NextOutboxAt(ctx context.Context) (time.Time, error) {
	var next *int64
	if err := db.rq.QueryRowContext(ctx, "SELECT min(next_attempt_at) FROM outbox").Scan(&next); err != nil {
		return time.Time{}, err
	}
	if next == nil {
		return time.Time{}, nil
	}
	return fromMS(*next), nil
}

// Dequeue removes a message from the outbox.
func (tx *Tx) Dequeue(ctx context.Context, messageID int64) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM outbox WHERE message_id = ?", messageID)
	return err
}

// Reschedule records a failed attempt and when to try again.
func (tx *Tx) Reschedule(ctx context.Context, messageID int64, attempts int, next time.Time, lastErr string) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE outbox SET attempts = ?, next_attempt_at = ?, last_error = ?
		WHERE message_id = ?`, attempts, ms(next), lastErr, messageID)
	return err
}

// AwaitReceipt keeps an item a channel handed over while it waits for the
// recipient's receipt: due again at until, attempts unchanged. It changes
// nothing when the item was moved meanwhile (OutboxDueNow, or gone with a
// receipt that came first): was is when it was due as it was sent.
func (tx *Tx) AwaitReceipt(ctx context.Context, messageID int64, was, until time.Time) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE outbox SET next_attempt_at = ?, last_error = ''
		WHERE message_id = ? AND next_attempt_at = ?`, ms(until), messageID, ms(was))
	if err != nil {
		return fmt.Errorf("await the receipt of message %d: %w", messageID, err)
	}
	return nil
}

// OutboxDueNow makes a queued item due at once (a channel learnt it need
// not wait any longer); no item, no change.
func (db *DB) OutboxDueNow(ctx context.Context, messageID int64) error {
	_, err := db.exec(ctx, "UPDATE outbox SET next_attempt_at = ? WHERE message_id = ?", ms(Now()), messageID)
	if err != nil {
		return fmt.Errorf("message %d due now: %w", messageID, err)
	}
	return nil
}

// RecordReplyPart writes down that part n of a reply went out with the
// platform's id externalID, in a write of its own: it is committed before
// the next part is sent, so a retry starts after it.
func (db *DB) RecordReplyPart(ctx context.Context, messageID int64, part int, externalID string) error {
	_, err := db.exec(ctx, `INSERT INTO reply_parts (message_id, part, external_id, sent_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (message_id, part) DO UPDATE SET external_id = excluded.external_id, sent_at = excluded.sent_at`,
		messageID, part, externalID, ms(Now()))
	if err != nil {
		return fmt.Errorf("record part %d of message %d: %w", part, messageID, err)
	}
	return nil
}

// ReplyParts reads the parts of a reply that went out: the platform's id
// of each, by part number.
func (db *DB) ReplyParts(ctx context.Context, messageID int64) (map[int]string, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT part, external_id FROM reply_parts WHERE message_id = ?", messageID)
	if err != nil {
		return nil, fmt.Errorf("parts of message %d: %w", messageID, err)
	}
	defer rows.Close()
	parts := map[int]string{}
	for rows.Next() {
		var n int
		var ext string
		if err := rows.Scan(&n, &ext); err != nil {
			return nil, fmt.Errorf("parts of message %d: %w", messageID, err)
		}
		parts[n] = ext
	}
	return parts, rows.Err()
}

// replyByPart reads the reply of a channel one of whose parts went out
// with that id.
const replyByPart = "SELECT " + messageCols + ` FROM messages WHERE channel = ? AND id IN
	(SELECT message_id FROM reply_parts WHERE external_id = ? AND external_id <> '')`

// ReplyByPart reads the reply of a channel one of whose parts went out
// with the platform's id externalID (ErrNotFound: none).
func (db *DB) ReplyByPart(ctx context.Context, channel, externalID string) (*Message, error) {
	m, err := scanMessage(db.rq.QueryRowContext(ctx, replyByPart, channel, externalID))
	return m, notFound(err, fmt.Sprintf("%s reply with part %s", channel, externalID))
}

// ReplyByPart reads, inside the transaction, the reply of a channel one
// of whose parts went out with the platform's id externalID.
func (tx *Tx) ReplyByPart(ctx context.Context, channel, externalID string) (*Message, error) {
	m, err := scanMessage(tx.q.QueryRowContext(ctx, replyByPart, channel, externalID))
	return m, notFound(err, fmt.Sprintf("%s reply with part %s", channel, externalID))
}

// ForgetReplyPart drops the part of a reply that went out with that id
// (the platform took it, then reported it failed), so that retrying the
// reply sends it again.
func (tx *Tx) ForgetReplyPart(ctx context.Context, messageID int64, externalID string) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM reply_parts WHERE message_id = ? AND external_id = ? AND external_id <> ''", messageID, externalID)
	if err != nil {
		return fmt.Errorf("forget part %s of message %d: %w", externalID, messageID, err)
	}
	return nil
}
