package store

import (
	"context"
	"fmt"
	"time"
)

// AddParticipant records a person besides the customer on a ticket; adding
// one twice is a no-op. It reports whether the person is new on the ticket.
func (tx *Tx) AddParticipant(ctx context.Context, ticketID, customerID int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO ticket_participants (ticket_id, customer_id, created_at)
		VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, ticketID, customerID, ms(Now()))
	if err != nil {
		return false, fmt.Errorf("ticket %d participant %d: %w", ticketID, customerID, err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// IsParticipant tells whether a customer is a participant of a ticket.
func (tx *Tx) IsParticipant(ctx context.Context, ticketID, customerID int64) (bool, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM ticket_participants WHERE ticket_id = ? AND customer_id = ?`,
		ticketID, customerID).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("ticket %d participant %d: %w", ticketID, customerID, err)
	}
	return n > 0, nil
}

// Participants lists the people besides the customer on a ticket, with
// their identities, in the order they joined.
func (db *DB) Participants(ctx context.Context, ticketID int64) ([]Customer, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT c.id, c.name, c.created_at FROM ticket_participants p
		JOIN customers c ON c.id = p.customer_id WHERE p.ticket_id = ? ORDER BY p.created_at, c.id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("participants of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	list := []Customer{}
	for rows.Next() {
		var c Customer
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &created); err != nil {
			return nil, fmt.Errorf("participants of ticket %d: %w", ticketID, err)
		}
		c.CreatedAt = fromMS(created)
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, loadIdentities(ctx, db.rq, list)
}

// RecentAcks counts the automatic acknowledgements sent to a customer
// since a time: the per-recipient limit on them.
func (tx *Tx) RecentAcks(ctx context.Context, customerID int64, since time.Time) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM messages m JOIN tickets t ON t.id = m.ticket_id
		WHERE t.customer_id = ? AND m.kind = 'agent' AND m.auto = 'auto_reply' AND m.created_at >= ?`,
		customerID, ms(since)).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("acknowledgements to customer %d: %w", customerID, err)
	}
	return n, nil
}
