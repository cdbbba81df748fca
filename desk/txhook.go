package desk

import (
	"context"
	"errors"
	"slices"
	"time"

	"onedesk/store"
)

// The hook point. Packages beside desk (rules, sla) act on a ticket inside
// the write transaction of each change to it, through the operations of
// TicketTx below, and desk publishes what they did once it is committed.
// Desk imports none of them: cli plugs them in with AddTxHook.

// Triggers desk sets off; hooks may set off their own ("sla_breached").
const (
	TriggerCreated         = "created"
	TriggerCustomerReplied = "customer_replied"
	TriggerUpdated         = "updated"
)

// TxHook acts on a ticket inside the write transaction that changes it.
// Both calls may change c.Ticket, which desk writes afterwards.
type TxHook interface {
	// TicketChanged follows what changed the ticket (trigger), before
	// desk's own follow-ups (round-robin assignment).
	TicketChanged(ctx context.Context, c *TicketTx, trigger string) error
	// TicketSaving comes last, just before the ticket is written,
	// whatever changed it (a reply, a merge, an assignment too).
	TicketSaving(ctx context.Context, c *TicketTx) error
}

// AddTxHook plugs h in; hooks run in the order they were added. Add them
// before the desk takes any work.
func (d *Desk) AddTxHook(h TxHook) { d.hooks = append(d.hooks, h) }

// TicketTx is one ticket being changed inside a write transaction, and
// what the change did, to publish once committed.
type TicketTx struct {
	d       *Desk
	Tx      *store.Tx
	Ticket  *store.Ticket
	Message *store.Message // the message that set the change off, if any
	Now     time.Time

	changes []Change
	notify  []Notification
	wake    bool // a reply waits in the outbox
}

// TicketTx starts a change of t inside tx, for work that desk does not
// start itself (a sweep); Save writes t, Publish sends what was done once
// tx is committed.
func (d *Desk) TicketTx(tx *store.Tx, t *store.Ticket, msg *store.Message, now time.Time) *TicketTx {
	return &TicketTx{d: d, Tx: tx, Ticket: t, Message: msg, Now: now}
}

// Changed tells the hooks what changed the ticket.
func (c *TicketTx) Changed(ctx context.Context, trigger string) error {
	for _, h := range c.d.hooks {
		if err := h.TicketChanged(ctx, c, trigger); err != nil {
			return err
		}
	}
	return nil
}

// Save lets the hooks have their last word, then writes the ticket.
func (c *TicketTx) Save(ctx context.Context) error {
	for _, h := range c.d.hooks {
		if err := h.TicketSaving(ctx, c); err != nil {
			return err
		}
	}
	return c.Tx.UpdateTicket(ctx, c.Ticket)
}

// Publish sends what the change did, once committed: its changes led by
// the ticket's new state, then its notifications; and wakes the outbox
// for a queued reply.
func (c *TicketTx) Publish(ctx context.Context) {
	c.d.publish(ctx, c.Ticket.ID, c.take())
	c.finish()
}

// Pending is how many changes wait to be published.
func (c *TicketTx) Pending() int { return len(c.changes) }

// take hands over the changes so far, for desk to publish with its own.
func (c *TicketTx) take() []Change {
	out := c.changes
	c.changes = nil
	return out
}

// finish sends the notifications and wakes the outbox (the changes went
// with the caller's).
func (c *TicketTx) finish() {
	for _, n := range c.notify {
		c.d.bus.Publish(Change{Type: "notification", TicketID: n.TicketID, Notification: &n})
	}
	if c.wake {
		c.d.Wake()
	}
}

// ---- What hooks may do inside the transaction

// Event records an event of data's type on the ticket.
func (c *TicketTx) Event(ctx context.Context, actor Actor, data store.EventData) (*store.Event, error) {
	ev, err := addEvent(ctx, c.Tx, c.Ticket.ID, actor, data)
	if err != nil {
		return nil, err
	}
	c.changes = append(c.changes, Change{Type: "event", TicketID: c.Ticket.ID, Event: ev})
	return ev, nil
}

// MoveStatus moves the ticket to status to, when its status may become
// that (no event: the caller records one).
func (c *TicketTx) MoveStatus(to string) bool {
	if c.Ticket.Status == to || !slices.Contains(transitions[c.Ticket.Status], to) {
		return false
	}
	moveStatus(c.Ticket, to, c.Now)
	return true
}

// AddNote writes an internal note on the ticket.
func (c *TicketTx) AddNote(ctx context.Context, body string) (*store.Message, error) {
	t := c.Ticket
	m := &store.Message{TicketID: t.ID, Kind: "note", Channel: t.Channel, Body: body, CreatedAt: c.Now}
	if err := c.Tx.InsertMessage(ctx, m); err != nil {
		return nil, err
	}
	c.changes = append(c.changes, Change{Type: "message", TicketID: t.ID, Message: m})
	return m, nil
}

// QueueAutoReply queues an automatic reply (auto names what sent it) to
// the customer on the ticket's channel.
func (c *TicketTx) QueueAutoReply(ctx context.Context, body, auto string) (*store.Message, error) {
	return c.QueueAutoReplyVia(ctx, c.Ticket.Channel, body, auto)
}

// QueueAutoReplyVia is QueueAutoReply by another channel than the
// ticket's (email, when the ticket's platform may not write now).
func (c *TicketTx) QueueAutoReplyVia(ctx context.Context, channel, body, auto string) (*store.Message, error) {
	t := c.Ticket
	m := &store.Message{TicketID: t.ID, Kind: "agent", Channel: channel, Body: body, Auto: auto,
		Delivery: "queued", CreatedAt: c.Now}
	if err := c.Tx.InsertMessage(ctx, m); err != nil {
		return nil, err
	}
	if err := c.Tx.Enqueue(ctx, m.ID, c.Now); err != nil {
		return nil, err
	}
	c.changes = append(c.changes, Change{Type: "message", TicketID: t.ID, Message: m})
	c.wake = true
	return m, nil
}

// Fill puts the ticket's values into a text's placeholders (orders are
// not looked up inside a transaction).
func (c *TicketTx) Fill(ctx context.Context, text string) (string, error) {
	cust, err := c.Tx.Customer(ctx, c.Ticket.CustomerID)
	if err != nil {
		return "", err
	}
	var st *store.Store
	if c.Ticket.StoreID != nil {
		st, err = c.Tx.Store(ctx, *c.Ticket.StoreID)
		if errors.Is(err, store.ErrNotFound) {
			st, err = nil, nil
		}
		if err != nil {
			return "", err
		}
	}
	return FillPlaceholders(text, placeholderValues(c.Ticket, cust, st, "")), nil
}

// Notify tells agents in the app about the ticket, once committed.
func (c *TicketTx) Notify(n Notification) { c.notify = append(c.notify, n) }

// Notification tells agents in the app about a ticket (a rule's notify
// action, a mention in a note).
type Notification struct {
	AgentIDs []int64 `json:"agent_ids"`
	TicketID int64   `json:"ticket_id"`
	Kind     string  `json:"kind"` // "rule" or "mention"
	Text     string  `json:"text"`
	By       string  `json:"by"` // the rule's name or the agent's
}

// CheckExists checks that an id the caller gave (nil: none) points at a
// row of table, refusing field otherwise.
func CheckExists(ctx context.Context, tx *store.Tx, table, field string, id *int64) error {
	return exists(ctx, tx, table, field, id)
}

// saveTicket writes t after a change that no hook is told of by name,
// with the hooks' last word (its SLA worked out again), and returns what
// to publish.
func (d *Desk) saveTicket(ctx context.Context, tx *store.Tx, t *store.Ticket, now time.Time) ([]Change, error) {
	c := d.TicketTx(tx, t, nil, now)
	err := c.Save(ctx)
	return c.take(), err
}
