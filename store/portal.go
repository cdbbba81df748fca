package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// PortalLink is a sign-in link of the customer portal.
type PortalLink struct {
	StoreID   int64
	Email     string
	Visitor   string // a chat visitor identity the link continues ("" for none)
	ExpiresAt time.Time
	Used      bool
}

// InsertPortalLink keeps a new portal sign-in link (its hash); links a
// day past their end are forgotten on the way.
func (db *DB) InsertPortalLink(ctx context.Context, hash string, l PortalLink) error {
	now := ms(Now())
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM portal_links WHERE expires_at <= ?", now-int64(24*time.Hour/time.Millisecond)); err != nil {
			return fmt.Errorf("forget old portal links: %w", err)
		}
		_, err := tx.q.ExecContext(ctx, `INSERT INTO portal_links (token_hash, store_id, email, visitor, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?)`, hash, l.StoreID, l.Email, l.Visitor, now, ms(l.ExpiresAt))
		if err != nil {
			return fmt.Errorf("keep a portal link: %w", err)
		}
		return nil
	})
}

// PortalLink reads a portal link (ErrNotFound: unknown or forgotten).
func (tx *Tx) PortalLink(ctx context.Context, hash string) (*PortalLink, error) {
	var l PortalLink
	var exp int64
	var used sql.NullInt64
	err := tx.q.QueryRowContext(ctx, "SELECT store_id, email, visitor, expires_at, used_at FROM portal_links WHERE token_hash = ?",
		hash).Scan(&l.StoreID, &l.Email, &l.Visitor, &exp, &used)
	if err != nil {
		return nil, notFound(err, "portal link")
	}
	l.ExpiresAt, l.Used = fromMS(exp), used.Valid
	return &l, nil
}

// UsePortalLink spends a portal link; false when it was spent already.
func (tx *Tx) UsePortalLink(ctx context.Context, hash string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE portal_links SET used_at = ? WHERE token_hash = ? AND used_at IS NULL", ms(Now()), hash)
	if err != nil {
		return false, fmt.Errorf("use a portal link: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// PortalSession is a customer signed in to a store's portal.
type PortalSession struct {
	StoreID   int64
	Email     string
	CSRF      string // the token its forms carry
	ExpiresAt time.Time
}

// InsertPortalSession keeps a new portal session (its hash); sessions
// past their end are forgotten on the way.
func (tx *Tx) InsertPortalSession(ctx context.Context, hash string, s PortalSession) error {
	now := ms(Now())
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM portal_sessions WHERE expires_at <= ?", now); err != nil {
		return fmt.Errorf("forget old portal sessions: %w", err)
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO portal_sessions (token_hash, store_id, email, csrf, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?, ?)`, hash, s.StoreID, s.Email, s.CSRF, now, ms(s.ExpiresAt))
	if err != nil {
		return fmt.Errorf("keep a portal session: %w", err)
	}
	return nil
}

// PortalSession reads a live portal session (ErrNotFound: unknown or
// ended).
func (db *DB) PortalSession(ctx context.Context, hash string) (*PortalSession, error) {
	var s PortalSession
	var exp int64
	err := db.rq.QueryRowContext(ctx, "SELECT store_id, email, csrf, expires_at FROM portal_sessions WHERE token_hash = ? AND expires_at > ?",
		hash, ms(Now())).Scan(&s.StoreID, &s.Email, &s.CSRF, &exp)
	if err != nil {
		return nil, notFound(err, "portal session")
	}
	s.ExpiresAt = fromMS(exp)
	return &s, nil
}

// DeletePortalSession ends a portal session.
func (db *DB) DeletePortalSession(ctx context.Context, hash string) error {
	return db.Write(ctx, func(tx *Tx) error {
		_, err := tx.q.ExecContext(ctx, "DELETE FROM portal_sessions WHERE token_hash = ?", hash)
		if err != nil {
			return fmt.Errorf("end a portal session: %w", err)
		}
		return nil
	})
}

// PortalTickets are a customer's tickets a store's portal shows: the
// store's and those of no store, newest change first, at most limit.
func (db *DB) PortalTickets(ctx context.Context, customerID, storeID int64, limit int) ([]Ticket, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+ticketCols+` FROM tickets t
		WHERE t.customer_id = ? AND (t.store_id = ? OR t.store_id IS NULL)
		ORDER BY t.updated_at DESC, t.id DESC LIMIT ?`, customerID, storeID, limit)
	if err != nil {
		return nil, fmt.Errorf("portal tickets of customer %d: %w", customerID, err)
	}
	defer rows.Close()
	var list []Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("portal tickets of customer %d: %w", customerID, err)
		}
		list = append(list, *t)
	}
	return list, rows.Err()
}
