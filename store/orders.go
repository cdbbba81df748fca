package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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
	Phone       string    `json:"phone"` // E.164 when readable, else as the shop has it
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
		_, err := tx.q.ExecContext(ctx, `INSERT INTO shop_orders (store_id, order_id, number, email, phone, customer_id, ordered_at, total,
			currency, financial_status, fulfillment_status, cancelled, tags, country, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (store_id, order_id) DO UPDATE SET number = excluded.number, email = excluded.email, phone = excluded.phone,
			customer_id = COALESCE(excluded.customer_id, shop_orders.customer_id), ordered_at = excluded.ordered_at,
			total = excluded.total, currency = excluded.currency, financial_status = excluded.financial_status,
			fulfillment_status = excluded.fulfillment_status, cancelled = excluded.cancelled, tags = excluded.tags,
			country = excluded.country, updated_at = excluded.updated_at`,
			o.StoreID, o.OrderID, o.Number, strings.ToLower(o.Email), o.Phone, o.CustomerID, ms(o.OrderedAt), o.Total, o.Currency,
			o.Financial, o.Fulfillment, o.Cancelled, jsonText(o.Tags, "[]"), strings.ToUpper(o.Country), now)
		if err != nil {
			return fmt.Errorf("save shop order %s of store %d: %w", o.Number, o.StoreID, err)
		}
	}
	return nil
}

// LatestShopOrder is a customer's newest order kept (of any store when
// storeID is nil): theirs, or one of their email no customer had when it
// came (a webhook before they first wrote), or one of their phone. ErrNotFound when none is. It
// reads inside the transaction: rules test it while a message is
// ingested.
func (tx *Tx) LatestShopOrder(ctx context.Context, customerID int64, storeID *int64) (*ShopOrder, error) {
	const cols = `store_id, order_id, number, email, phone, customer_id, ordered_at, total, currency, financial_status,
		fulfillment_status, cancelled, tags, country`
	inStore, args := "", []any{customerID}
	if storeID != nil {
		inStore = " AND store_id = ?"
		args = append(args, *storeID)
	}
	for range 2 {
		args = append(args, customerID)
		if storeID != nil {
			args = append(args, *storeID)
		}
	}
	q := `SELECT ` + cols + ` FROM (SELECT ` + cols + ` FROM shop_orders WHERE customer_id = ?` + inStore + `
		UNION ALL SELECT ` + cols + ` FROM shop_orders WHERE customer_id IS NULL
		AND email IN (SELECT value FROM identities WHERE customer_id = ? AND kind = 'email')` + inStore + `
		UNION ALL SELECT ` + cols + ` FROM shop_orders WHERE customer_id IS NULL
		AND phone IN (SELECT value FROM identities WHERE customer_id = ? AND kind IN ('phone', 'whatsapp'))` + inStore + `) AS o
		ORDER BY ordered_at DESC LIMIT 1`
	var o ShopOrder
	var ordered int64
	var tags string
	err := tx.q.QueryRowContext(ctx, q, args...).Scan(&o.StoreID, &o.OrderID, &o.Number, &o.Email, &o.Phone,
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
	TicketID   int64
	CustomerID int64 // the ticket's
	StoreID    int64
	OrderID    string
	OrderedAt  time.Time
	Total      float64
	Currency   string
}

// OrdersOfTickets lists the kept orders, not cancelled, placed after
// since by the customers of these tickets, in each ticket's store: the
// orders linked to the customer, and those whose email or phone is one
// of the customer's identities though no link was made (a webhook's
// order of a phone the desk learnt later). An order may come once per
// ticket; which ticket it counts for is the caller's to choose.
func (db *DB) OrdersOfTickets(ctx context.Context, ticketIDs []int64, since time.Time) ([]TicketOrder, error) {
	const cols = `t.id, t.customer_id, o.store_id, o.order_id, o.ordered_at, o.total, o.currency`
	const orderAfterResolution = ` AND (t.store_id IS NULL OR o.store_id = t.store_id) AND o.cancelled = ? AND o.ordered_at > ?`
	var out []TicketOrder
	for len(ticketIDs) > 0 {
		batch := ticketIDs[:min(len(ticketIDs), 300)]
		ticketIDs = ticketIDs[len(batch):]
		in := `t.id IN (?` + strings.Repeat(", ?", len(batch)-1) + `)`
		var args []any
		for range 3 {
			for _, id := range batch {
				args = append(args, id)
			}
			args = append(args, false, ms(since))
		}
		rows, err := db.rq.QueryContext(ctx, `SELECT `+cols+` FROM tickets t JOIN shop_orders o ON o.customer_id = t.customer_id
			WHERE `+in+orderAfterResolution+`
			UNION SELECT `+cols+` FROM tickets t JOIN identities i ON i.customer_id = t.customer_id AND i.kind = 'email'
			JOIN shop_orders o ON o.email = i.value WHERE `+in+orderAfterResolution+`
			UNION SELECT `+cols+` FROM tickets t JOIN identities i ON i.customer_id = t.customer_id AND i.kind IN ('phone', 'whatsapp')
			JOIN shop_orders o ON o.phone = i.value WHERE `+in+orderAfterResolution, args...)
		if err != nil {
			return nil, fmt.Errorf("orders of tickets: %w", err)
		}
		for rows.Next() {
			var o TicketOrder
			var at int64
			if err := rows.Scan(&o.TicketID, &o.CustomerID, &o.StoreID, &o.OrderID, &at, &o.Total, &o.Currency); err != nil {
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

// ResolvedTicket is a ticket of a customer resolved (and not reopened
// since) at ResolvedAt; StoreID 0 for none.
type ResolvedTicket struct {
	TicketID, CustomerID, StoreID int64
	ResolvedAt                    time.Time
}

// ResolvedTicketsOf lists the tickets of these customers resolved after
// since, whatever a report's filter: the revenue report credits an order
// to the latest of them before it.
func (db *DB) ResolvedTicketsOf(ctx context.Context, customerIDs []int64, since time.Time) ([]ResolvedTicket, error) {
	var out []ResolvedTicket
	for len(customerIDs) > 0 {
		batch := customerIDs[:min(len(customerIDs), 500)]
		customerIDs = customerIDs[len(batch):]
		args := []any{ms(since)}
		for _, id := range batch {
			args = append(args, id)
		}
		rows, err := db.rq.QueryContext(ctx, `SELECT id, customer_id, COALESCE(store_id, 0), resolved_at FROM tickets
			WHERE resolved_at >= ? AND customer_id IN (?`+strings.Repeat(", ?", len(batch)-1)+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("resolved tickets of customers: %w", err)
		}
		for rows.Next() {
			var r ResolvedTicket
			var at int64
			if err := rows.Scan(&r.TicketID, &r.CustomerID, &r.StoreID, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("resolved tickets of customers: %w", err)
			}
			r.ResolvedAt = fromMS(at)
			out = append(out, r)
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("resolved tickets of customers: %w", err)
		}
	}
	return out, nil
}

// Resolution is who resolved a ticket the last time: the agent whose
// change made it resolved, else (a rule, the system, an import) the
// agent it was assigned to then; 0 when neither is known.
type Resolution struct {
	TicketID int64
	AgentID  int64
	At       time.Time
}

// LastResolutions reads, from the tickets' events, who resolved each of
// these tickets the last time.
func (db *DB) LastResolutions(ctx context.Context, ticketIDs []int64) (map[int64]Resolution, error) {
	out := make(map[int64]Resolution, len(ticketIDs))
	for len(ticketIDs) > 0 {
		batch := ticketIDs[:min(len(ticketIDs), 500)]
		ticketIDs = ticketIDs[len(batch):]
		args := []any{string(EventStatusChanged), string(EventAssigned)}
		for _, id := range batch {
			args = append(args, id)
		}
		rows, err := db.rq.QueryContext(ctx, `SELECT ticket_id, type, actor, data, created_at FROM ticket_events
			WHERE type IN (?, ?) AND ticket_id IN (?`+strings.Repeat(", ?", len(batch)-1)+`) ORDER BY ticket_id, id`, args...)
		if err != nil {
			return nil, fmt.Errorf("resolutions of tickets: %w", err)
		}
		assignee := map[int64]int64{}
		for rows.Next() {
			var id, at int64
			var typ, actor, data string
			if err := rows.Scan(&id, &typ, &actor, &data, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("resolutions of tickets: %w", err)
			}
			switch EventType(typ) {
			case EventAssigned:
				var d AssignedData
				if json.Unmarshal([]byte(data), &d) == nil {
					assignee[id] = 0
					if d.To != nil {
						assignee[id] = *d.To
					}
				}
			case EventStatusChanged:
				var d StatusChangedData
				if json.Unmarshal([]byte(data), &d) != nil || d.To != "resolved" {
					continue
				}
				r := Resolution{TicketID: id, AgentID: assignee[id], At: fromMS(at)}
				if agent, err := strconv.ParseInt(actor, 10, 64); err == nil && agent > 0 {
					r.AgentID = agent
				}
				out[id] = r
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("resolutions of tickets: %w", err)
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
