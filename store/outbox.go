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
