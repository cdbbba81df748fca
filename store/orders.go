package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// OrderAction is an action on a shop order taken from a ticket: one per
// confirmation, its idempotency key unique.
type OrderAction struct {
	ID       int64           `json:"id"`
	TicketID int64           `json:"ticket_id"`
	StoreID  int64           `json:"store_id"`
	Order    string          `json:"order"`
	Action   string          `json:"action"`
	Key      string          `json:"-"`
	AgentID  *int64          `json:"agent_id"`
	Params   json.RawMessage `json:"params"`
	// Status is pending, done, refused, failed, interrupted (stopped
	// before the shop was asked: nothing done) or unknown (stopped while
	// the shop was asked: it may have acted).
	Status     string          `json:"status"`
	Message    string          `json:"message,omitempty"`
	Outcome    json.RawMessage `json:"outcome"`
	CreatedAt  time.Time       `json:"created_at"`
	FinishedAt *time.Time      `json:"finished_at"`
	// SentAt is when the shop was asked (nil: not yet); Request is what
	// was sent when the platform can send it again under the same key.
	SentAt  *time.Time      `json:"-"`
	Request json.RawMessage `json:"-"`
}

// InsertOrderAction records an action about to be taken; ErrConflict when
// its key was used before (the caller reads that action instead).
func (tx *Tx) InsertOrderAction(ctx context.Context, a *OrderAction) error {
	res, err := tx.q.insert(ctx, `INSERT INTO order_actions (ticket_id, store_id, order_number, action, idempotency_key, agent_id,
		params, status, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?)`,
		a.TicketID, a.StoreID, a.Order, a.Action, a.Key, a.AgentID, rawText(a.Params), ms(a.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("order action key %s: %w", a.Key, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert order action: %w", err)
	}
	a.Status = "pending"
	a.ID, err = res.LastInsertId()
	return err
}

// FinishOrderAction writes how a pending action ended; ErrConflict when
// it ended already (the sweep and a late answer cannot both say).
func (tx *Tx) FinishOrderAction(ctx context.Context, a *OrderAction) error {
	now := Now()
	res, err := tx.q.ExecContext(ctx, `UPDATE order_actions SET status = ?, message = ?, outcome = ?, finished_at = ? WHERE id = ? AND status = 'pending'`,
		a.Status, a.Message, rawText(a.Outcome), ms(now), a.ID)
	if err != nil {
		return fmt.Errorf("finish order action %d: %w", a.ID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("finish order action %d: %w", a.ID, ErrConflict)
	}
	a.FinishedAt = &now
	return nil
}

// MarkOrderActionSent records that the shop is about to be asked, with
// the request a platform can send again ("" when none).
func (tx *Tx) MarkOrderActionSent(ctx context.Context, a *OrderAction) error {
	now := Now()
	_, err := tx.q.ExecContext(ctx, `UPDATE order_actions SET sent_at = ?, request = ? WHERE id = ?`, ms(now), string(a.Request), a.ID)
	if err != nil {
		return fmt.Errorf("mark order action %d sent: %w", a.ID, err)
	}
	a.SentAt = &now
	return nil
}

// PendingOrderActions lists up to limit actions still pending that began
// before before, oldest first.
func (db *DB) PendingOrderActions(ctx context.Context, before time.Time, limit int) ([]OrderAction, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+orderActionCols+" FROM order_actions WHERE status = 'pending' AND created_at < ? ORDER BY created_at LIMIT ?",
		ms(before), limit)
	if err != nil {
		return nil, fmt.Errorf("pending order actions: %w", err)
	}
	defer rows.Close()
	var list []OrderAction
	for rows.Next() {
		a, err := scanOrderAction(rows)
		if err != nil {
			return nil, fmt.Errorf("pending order actions: %w", err)
		}
		list = append(list, *a)
	}
	return list, rows.Err()
}

const orderActionCols = `id, ticket_id, store_id, order_number, action, idempotency_key, agent_id, params, status, message, outcome,
	created_at, finished_at, sent_at, request`

func scanOrderAction(row interface{ Scan(...any) error }) (*OrderAction, error) {
	var a OrderAction
	var params, outcome, request string
	var created int64
	var finished, sent sql.NullInt64
	if err := row.Scan(&a.ID, &a.TicketID, &a.StoreID, &a.Order, &a.Action, &a.Key, &a.AgentID, &params, &a.Status, &a.Message,
		&outcome, &created, &finished, &sent, &request); err != nil {
		return nil, err
	}
	a.Params, a.Outcome, a.CreatedAt = json.RawMessage(params), json.RawMessage(outcome), fromMS(created)
	if finished.Valid {
		t := fromMS(finished.Int64)
		a.FinishedAt = &t
	}
	if sent.Valid {
		t := fromMS(sent.Int64)
		a.SentAt = &t
	}
	if request != "" {
		a.Request = json.RawMessage(request)
	}
	return &a, nil
}

// OrderActionByKey reads the action of an idempotency key.
func (db *DB) OrderActionByKey(ctx context.Context, key string) (*OrderAction, error) {
	a, err := scanOrderAction(db.rq.QueryRowContext(ctx, "SELECT "+orderActionCols+" FROM order_actions WHERE idempotency_key = ?", key))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("order action %q: %w", key, ErrNotFound)
	}
	return a, err
}

// OrderActions lists a ticket's order actions, newest first.
func (db *DB) OrderActions(ctx context.Context, ticketID int64) ([]OrderAction, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+orderActionCols+" FROM order_actions WHERE ticket_id = ? ORDER BY id DESC LIMIT 100", ticketID)
	if err != nil {
		return nil, fmt.Errorf("order actions of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	list := []OrderAction{}
	for rows.Next() {
		a, err := scanOrderAction(rows)
		if err != nil {
			return nil, fmt.Errorf("order actions of ticket %d: %w", ticketID, err)
		}
		list = append(list, *a)
	}
	return list, rows.Err()
}

func rawText(r json.RawMessage) string {
	if len(r) == 0 || string(r) == "null" {
		return "{}"
	}
	return string(r)
}

// ShopOrder is a shop's order as last seen, kept for rules and reports.
type ShopOrder struct {
	StoreID     int64     `json:"store_id"`
	OrderID     string    `json:"order_id"` // the platform's id
	Number      string    `json:"number"`
	Email       string    `json:"email"` // lower case
	CustomerID  *int64    `json:"customer_id"`
	OrderedAt   time.Time `json:"ordered_at"`
	Total       float64   `json:"total"`
	Currency    string    `json:"currency"`
	Financial   string    `json:"financial_status"`
	Fulfillment string    `json:"fulfillment_status"`
	Cancelled   bool      `json:"cancelled"`
	Tags        []string  `json:"tags"`
	Country     string    `json:"country"`
}

// SaveShopOrders keeps orders as seen now; an order's customer, once
// known, stays when a later sighting (a webhook) does not know it.
func (tx *Tx) SaveShopOrders(ctx context.Context, list []ShopOrder) error {
	now := ms(Now())
	for _, o := range list {
		if o.Tags == nil {
			o.Tags = []string{}
		}
		_, err := tx.q.ExecContext(ctx, `INSERT INTO shop_orders (store_id, order_id, number, email, customer_id, ordered_at, total,
			currency, financial_status, fulfillment_status, cancelled, tags, country, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (store_id, order_id) DO UPDATE SET number = excluded.number, email = excluded.email,
			customer_id = COALESCE(excluded.customer_id, shop_orders.customer_id), ordered_at = excluded.ordered_at,
			total = excluded.total, currency = excluded.currency, financial_status = excluded.financial_status,
			fulfillment_status = excluded.fulfillment_status, cancelled = excluded.cancelled, tags = excluded.tags,
			country = excluded.country, updated_at = excluded.updated_at`,
			o.StoreID, o.OrderID, o.Number, strings.ToLower(o.Email), o.CustomerID, ms(o.OrderedAt), o.Total, o.Currency,
			o.Financial, o.Fulfillment, o.Cancelled, jsonText(o.Tags, "[]"), strings.ToUpper(o.Country), now)
		if err != nil {
			return fmt.Errorf("save shop order %s of store %d: %w", o.Number, o.StoreID, err)
		}
	}
	return nil
}

// LatestShopOrder is a customer's newest order kept (of any store when
// storeID is nil): theirs, or one of their email no customer had when it
// came (a webhook before they first wrote). ErrNotFound when none is. It
// reads inside the transaction: rules test it while a message is
// ingested.
func (tx *Tx) LatestShopOrder(ctx context.Context, customerID int64, storeID *int64) (*ShopOrder, error) {
	const cols = `store_id, order_id, number, email, customer_id, ordered_at, total, currency, financial_status,
		fulfillment_status, cancelled, tags, country`
	inStore, args := "", []any{customerID}
	if storeID != nil {
		inStore = " AND store_id = ?"
		args = append(args, *storeID)
	}
	args = append(args, customerID)
	if storeID != nil {
		args = append(args, *storeID)
	}
	q := `SELECT ` + cols + ` FROM (SELECT ` + cols + ` FROM shop_orders WHERE customer_id = ?` + inStore + `
		UNION ALL SELECT ` + cols + ` FROM shop_orders WHERE customer_id IS NULL
		AND email IN (SELECT value FROM identities WHERE customer_id = ? AND kind = 'email')` + inStore + `) AS o
		ORDER BY ordered_at DESC LIMIT 1`
	var o ShopOrder
	var ordered int64
	var tags string
	err := tx.q.QueryRowContext(ctx, q, args...).Scan(&o.StoreID, &o.OrderID, &o.Number, &o.Email,
		&o.CustomerID, &ordered, &o.Total, &o.Currency, &o.Financial, &o.Fulfillment, &o.Cancelled, &tags, &o.Country)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("latest order of customer %d: %w", customerID, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("latest order of customer %d: %w", customerID, err)
	}
	o.OrderedAt = fromMS(ordered)
	o.Tags = []string{}
	_ = jsonUnmarshal(tags, &o.Tags)
	return &o, nil
}

// TicketOrder is an order of a ticket's customer (in the ticket's store)
// kept in shop_orders: what the revenue-after-support report counts.
type TicketOrder struct {
	TicketID  int64
	StoreID   int64
	OrderID   string
	OrderedAt time.Time
	Total     float64
	Currency  string
}

// OrdersOfTickets lists the kept orders, not cancelled, placed after
// since by the customers of these tickets, in each ticket's store.
func (db *DB) OrdersOfTickets(ctx context.Context, ticketIDs []int64, since time.Time) ([]TicketOrder, error) {
	var out []TicketOrder
	for len(ticketIDs) > 0 {
		batch := ticketIDs[:min(len(ticketIDs), 500)]
		ticketIDs = ticketIDs[len(batch):]
		args := make([]any, 0, len(batch)+1)
		for _, id := range batch {
			args = append(args, id)
		}
		args = append(args, ms(since))
		rows, err := db.rq.QueryContext(ctx, `SELECT t.id, o.store_id, o.order_id, o.ordered_at, o.total, o.currency
			FROM tickets t JOIN shop_orders o ON o.customer_id = t.customer_id AND (t.store_id IS NULL OR o.store_id = t.store_id)
			WHERE t.id IN (?`+strings.Repeat(", ?", len(batch)-1)+`) AND o.cancelled = ? AND o.ordered_at > ?`,
			append(append(args[:len(batch):len(batch)], false), args[len(batch):]...)...)
		if err != nil {
			return nil, fmt.Errorf("orders of tickets: %w", err)
		}
		for rows.Next() {
			var o TicketOrder
			var at int64
			if err := rows.Scan(&o.TicketID, &o.StoreID, &o.OrderID, &at, &o.Total, &o.Currency); err != nil {
				rows.Close()
				return nil, fmt.Errorf("orders of tickets: %w", err)
			}
			o.OrderedAt = fromMS(at)
			out = append(out, o)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("orders of tickets: %w", err)
		}
	}
	return out, nil
}

// ResolvedTickets lists the tickets last resolved in from..to (of the
// report filter) with their channel and agent, for reports that follow
// tickets one by one (revenue after support).
func (db *DB) ResolvedTickets(ctx context.Context, f ReportFilter, from, to time.Time) ([]ReportTicket, error) {
	where, args := f.where(false)
	table := "report_tickets"
	if f.Tag != "" {
		table = "report_ticket_tags JOIN report_tickets USING (ticket_id)"
		where, args = " AND tag = ?"+where, append([]any{f.Tag}, args...)
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT ticket_id, resolved_at, channel, store_id, team_id, agent_id FROM `+table+`
		WHERE resolved_at >= ? AND resolved_at < ?`+where+` ORDER BY ticket_id`, append([]any{ms(from), ms(to)}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("resolved tickets: %w", err)
	}
	defer rows.Close()
	var out []ReportTicket
	for rows.Next() {
		var t ReportTicket
		var at int64
		if err := rows.Scan(&t.TicketID, &at, &t.Channel, &t.StoreID, &t.TeamID, &t.AgentID); err != nil {
			return nil, fmt.Errorf("resolved tickets: %w", err)
		}
		resolved := fromMS(at)
		t.ResolvedAt = &resolved
		out = append(out, t)
	}
	return out, rows.Err()
}
