package store

import (
	"context"
	"fmt"
	"time"
)

// StoreBySlug reads the store a widget or form names.
func (db *DB) StoreBySlug(ctx context.Context, slug string) (*Store, error) {
	s, err := scanStore(db.rq.QueryRowContext(ctx, "SELECT "+storeCols+" FROM stores WHERE slug = ?", slug), db.secrets)
	return s, notFound(err, "store "+slug)
}

// CustomerByIdentity finds who owns an identifier, or ErrNotFound.
func (db *DB) CustomerByIdentity(ctx context.Context, id Identity) (int64, error) {
	var cid int64
	err := db.rq.QueryRowContext(ctx, "SELECT customer_id FROM identities WHERE kind = ? AND value = ?",
		id.Kind, id.Value).Scan(&cid)
	return cid, notFound(err, id.Kind+" "+id.Value)
}

// LatestTicket is a customer's newest ticket of a channel that is not
// closed, or ErrNotFound.
func (db *DB) LatestTicket(ctx context.Context, customerID int64, channel string) (*Ticket, error) {
	t, err := scanTicket(db.rq.QueryRowContext(ctx, "SELECT "+ticketCols+` FROM tickets t
		WHERE t.customer_id = ? AND t.channel = ? AND t.status <> 'closed' ORDER BY t.updated_at DESC, t.id DESC LIMIT 1`,
		customerID, channel))
	return t, notFound(err, fmt.Sprintf("%s ticket of customer %d", channel, customerID))
}

// IdleChats lists up to limit answered chat tickets of a store in a
// status with no activity since before, oldest first: a range of the
// status index. A chat nobody answered is never idle: it waits for one.
func (db *DB) IdleChats(ctx context.Context, storeID int64, status string, before time.Time, limit int) ([]int64, error) {
	ids, err := queryIDs(ctx, db.rq, `SELECT id FROM tickets INDEXED BY tickets_status_updated
		WHERE status = ? AND updated_at < ? AND channel = 'chat' AND store_id = ? AND first_response_at IS NOT NULL
		ORDER BY updated_at LIMIT ?`, status, ms(before), storeID, limit)
	if err != nil {
		return nil, fmt.Errorf("idle chats of store %d: %w", storeID, err)
	}
	return ids, nil
}

// Store reads one store.
func (db *DB) Store(ctx context.Context, id int64) (*Store, error) {
	s, err := scanStore(db.rq.QueryRowContext(ctx, "SELECT "+storeCols+" FROM stores WHERE id = ?", id), db.secrets)
	return s, notFoundID(err, "store", id)
}
