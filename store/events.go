package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Event is one step on a ticket's record: who did what, when.
type Event struct {
	ID        int64           `json:"id"`
	TicketID  int64           `json:"ticket_id"`
	Type      EventType       `json:"type"`
	Actor     string          `json:"actor"` // agent id, "customer", "system" or "rule:<id>"
	Data      json.RawMessage `json:"data"`
	CreatedAt time.Time       `json:"created_at"`
}

// InsertEvent appends an event and sets its ID.
func (tx *Tx) InsertEvent(ctx context.Context, e *Event) error {
	data := string(e.Data)
	if data == "" || data == "null" {
		data = "{}"
	}
	historic := !tx.historicAt.IsZero()
	if historic {
		e.CreatedAt = tx.historicAt
	}
	res, err := tx.q.insert(ctx, `INSERT INTO ticket_events (ticket_id, type, actor, data, created_at, historic)
		VALUES (?, ?, ?, ?, ?, ?)`, e.TicketID, e.Type, e.Actor, data, ms(e.CreatedAt), historic)
	if err != nil {
		return fmt.Errorf("insert %s event: %w", e.Type, err)
	}
	e.Data = json.RawMessage(data)
	e.ID, err = res.LastInsertId()
	tx.touched.event(e.ID)
	return err
}

// Events lists a ticket's events, oldest first.
func (db *DB) Events(ctx context.Context, ticketID int64) ([]Event, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT id, ticket_id, type, actor, data, created_at
		FROM ticket_events WHERE ticket_id = ? ORDER BY id`, ticketID)
	if err != nil {
		return nil, fmt.Errorf("events of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	list := []Event{}
	for rows.Next() {
		var e Event
		var data string
		var created int64
		if err := rows.Scan(&e.ID, &e.TicketID, &e.Type, &e.Actor, &data, &created); err != nil {
			return nil, fmt.Errorf("events of ticket %d: %w", ticketID, err)
		}
		e.Data, e.CreatedAt = json.RawMessage(data), fromMS(created)
		list = append(list, e)
	}
	return list, rows.Err()
}

// Event reads one ticket event.
func (db *DB) Event(ctx context.Context, id int64) (*Event, error) {
	var e Event
	var data string
	var created int64
	err := db.rq.QueryRowContext(ctx, `SELECT id, ticket_id, type, actor, data, created_at FROM ticket_events WHERE id = ?`, id).
		Scan(&e.ID, &e.TicketID, &e.Type, &e.Actor, &data, &created)
	if err != nil {
		return nil, notFoundID(err, "event", id)
	}
	e.Data, e.CreatedAt = json.RawMessage(data), fromMS(created)
	return &e, nil
}
