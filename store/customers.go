package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Customer is one person, however many channels they write from.
type Customer struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Identities []Identity `json:"identities"`
	MergedInto *int64     `json:"merged_into,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
}

// Identity is an address or handle that belongs to a customer; Value is
// normalized for its kind.
type Identity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// IdentityKinds are the kinds of identifier a customer can have.
var IdentityKinds = []string{"email", "phone", "telegram", "whatsapp", "instagram", "visitor"}

// CustomerByIdentity returns the id of the customer owning the identity,
// or ErrNotFound.
func (tx *Tx) CustomerByIdentity(ctx context.Context, id Identity) (int64, error) {
	var cid int64
	err := tx.q.QueryRowContext(ctx, "SELECT customer_id FROM identities WHERE kind = ? AND value = ?",
		id.Kind, id.Value).Scan(&cid)
	return cid, notFound(err, id.Kind+" "+id.Value)
}

// InsertCustomer creates a customer with the given identities.
func (tx *Tx) InsertCustomer(ctx context.Context, c *Customer) error {
	now := ms(c.CreatedAt)
	res, err := tx.q.ExecContext(ctx, "INSERT INTO customers (name, created_at, updated_at) VALUES (?, ?, ?)",
		c.Name, now, now)
	if err != nil {
		return fmt.Errorf("insert customer: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	for _, id := range c.Identities {
		if err := tx.AddIdentity(ctx, c.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// AddIdentity links an identity to a customer; ErrConflict if another
// customer owns it.
func (tx *Tx) AddIdentity(ctx context.Context, customerID int64, id Identity) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO identities (customer_id, kind, value, created_at) VALUES (?, ?, ?, ?)",
		customerID, id.Kind, id.Value, ms(Now()))
	if isUnique(err) {
		return fmt.Errorf("%s %s: %w", id.Kind, id.Value, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add %s identity: %w", id.Kind, err)
	}
	return nil
}

// SetCustomerName sets the name of a customer who has none yet.
func (tx *Tx) SetCustomerName(ctx context.Context, customerID int64, name string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE customers SET name = ?, updated_at = ? WHERE id = ? AND name = ''",
		name, ms(Now()), customerID)
	return err
}

func getCustomer(ctx context.Context, q querier, id int64) (*Customer, error) {
	var c Customer
	var merged sql.NullInt64
	var created int64
	err := q.QueryRowContext(ctx, "SELECT id, name, merged_into, created_at FROM customers WHERE id = ?", id).
		Scan(&c.ID, &c.Name, &merged, &created)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("customer %d", id))
	}
	c.MergedInto, c.CreatedAt = fromNullID(merged), fromMS(created)
	list := []Customer{c}
	if err := loadIdentities(ctx, q, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// Customer reads one customer with identities.
func (db *DB) Customer(ctx context.Context, id int64) (*Customer, error) {
	return getCustomer(ctx, db.rq, id)
}

// Customer reads one customer inside the transaction.
func (tx *Tx) Customer(ctx context.Context, id int64) (*Customer, error) {
	return getCustomer(ctx, tx.q, id)
}

func loadIdentities(ctx context.Context, q querier, list []Customer) error {
	if len(list) == 0 {
		return nil
	}
	index := map[int64]int{}
	ids := make([]string, len(list))
	for i := range list {
		index[list[i].ID] = i
		ids[i] = strconv.FormatInt(list[i].ID, 10)
		list[i].Identities = []Identity{}
	}
	rows, err := q.QueryContext(ctx, "SELECT customer_id, kind, value FROM identities WHERE customer_id IN ("+
		strings.Join(ids, ",")+") ORDER BY id")
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var id Identity
		if err := rows.Scan(&cid, &id.Kind, &id.Value); err != nil {
			return fmt.Errorf("identities: %w", err)
		}
		c := &list[index[cid]]
		c.Identities = append(c.Identities, id)
	}
	return rows.Err()
}

// ListCustomers finds customers whose name or identity contains q (all
// when q is empty), newest first, after the id cursor (0 = from the top).
func (db *DB) ListCustomers(ctx context.Context, q string, after int64, limit int) ([]Customer, error) {
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	query := "SELECT id, name, created_at FROM customers c WHERE merged_into IS NULL"
	var args []any
	if after > 0 {
		query += " AND id < ?"
		args = append(args, after)
	}
	if q = strings.TrimSpace(q); q != "" {
		like := "%" + strings.NewReplacer(`\`, `\\`, "%", `\%`, "_", `\_`).Replace(strings.ToLower(q)) + "%"
		query += ` AND (lower(name) LIKE ? ESCAPE '\' OR EXISTS (SELECT 1 FROM identities i
			WHERE i.customer_id = c.id AND i.value LIKE ? ESCAPE '\'))`
		args = append(args, like, like)
	}
	query += " ORDER BY id DESC LIMIT " + strconv.Itoa(limit)
	rows, err := db.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("list customers: %w", err)
	}
	defer rows.Close()
	list := []Customer{}
	for rows.Next() {
		var c Customer
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &created); err != nil {
			return nil, fmt.Errorf("list customers: %w", err)
		}
		c.CreatedAt = fromMS(created)
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, loadIdentities(ctx, db.rq, list)
}
