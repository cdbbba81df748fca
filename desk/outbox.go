package desk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"onedesk/i18n"
	"onedesk/store"
)

// Sender delivers outbound messages of one channel. An error is retried
// with backoff unless wrapped with Permanent.
type Sender interface {
	Send(ctx context.Context, out Outbound) error
}

// SenderFunc adapts a function to Sender.
type SenderFunc func(ctx context.Context, out Outbound) error

// Send calls f.
func (f SenderFunc) Send(ctx context.Context, out Outbound) error { return f(ctx, out) }

type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks a send error that retrying cannot fix (an address the
// server refuses, a channel not configured).
func Permanent(err error) error { return permanentError{err} }

// awaitingError is what a sender returns for a reply it handed over and
// whose receipt it waits for.
type awaitingError struct{ until time.Time }

func (e awaitingError) Error() string { return "handed over, waiting for the receipt" }

// Awaiting is what a Sender returns when it handed a reply over (a chat
// reply pushed to an open widget) and waits for the recipient's receipt:
// the reply shows sent, the outbox worker is free at once, and the item
// stays in the outbox, due again at until, when the sender is called once
// more to send it another way unless Delivered came first. A crash while
// it waits leaves the item there, so it is looked at again on start.
func Awaiting(until time.Time) error { return awaitingError{until} }

// Waiting is what a Sender returns when it left a reply where the
// customer will see it on coming back (a chat visitor gone, with no email
// to send it to): it is done, and shows waiting for the customer.
var Waiting = errors.New("left for the customer to see when back")

// Delivered records the receipt of a reply a sender handed over: it
// leaves the outbox and shows delivered. A receipt for a reply of another
// channel, or for one not an agent's, changes nothing.
func (d *Desk) Delivered(ctx context.Context, channel string, messageID int64) error {
	changed := false
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		changed = false
		m, err := tx.Message(ctx, messageID)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if m.Kind != "agent" || m.Channel != channel || m.Delivery == "delivered" || m.Delivery == "failed" {
			return nil
		}
		if err := tx.Dequeue(ctx, messageID); err != nil {
			return err
		}
		changed = true
		return tx.SetReceipt(ctx, messageID, nil)
	})
	if err != nil {
		return fmt.Errorf("record the receipt of message %d: %w", messageID, err)
	}
	if changed {
		if m, err := d.db.Message(ctx, messageID); err == nil {
			d.bus.Publish(Change{Type: "message", TicketID: m.TicketID, Message: m})
		}
	}
	return nil
}

// SendAgainNow makes a reply that waits for its receipt due at once: its
// sender learnt the receipt cannot come (every widget it went to closed).
func (d *Desk) SendAgainNow(ctx context.Context, messageID int64) error {
	if err := d.db.OutboxDueNow(ctx, messageID); err != nil {
		return err
	}
	d.Wake()
	return nil
}

// SetSender installs the sender for a channel.
func (d *Desk) SetSender(channel string, s Sender) {
	d.mu.Lock()
	d.senders[channel] = s
	d.mu.Unlock()
}

// LimitSends lets at most n of a channel's replies be sent at once (mail
// servers refuse many connections from one client); n <= 0 is no limit.
func (d *Desk) LimitSends(channel string, n int) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if n <= 0 {
		delete(d.sendSlots, channel)
		return
	}
	d.sendSlots[channel] = make(chan struct{}, n)
}

// Wake makes the dispatcher look at the outbox now.
func (d *Desk) Wake() {
	select {
	case d.wake <- struct{}{}:
	default:
	}
}

// RunOutbox delivers queued messages until ctx ends. Each message is sent
// outside any transaction and its outcome committed after, so a crash in
// between sends it again rather than never.
//
// Tickets are sent in parallel (a slow mail server must not hold up chat
// replies, and outcomes are committed together), each ticket's replies in
// order by one goroutine. The loop does not wait for those: a reply queued
// meanwhile goes out at once unless its ticket is still sending.
func (d *Desk) RunOutbox(ctx context.Context) {
	o := &outboxRun{busy: map[int64]bool{}, workers: make(chan struct{}, outboxWorkers)}
	defer o.wg.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.wake:
		}
		wait := d.deliverDue(ctx, o)
		timer.Stop()
		timer.Reset(wait)
	}
}

// outboxWorkers is how many tickets send at once.
const outboxWorkers = 32

// outboxRun is the dispatcher's state: tickets being sent and how many
// messages their goroutines hold.
type outboxRun struct {
	mu      sync.Mutex
	busy    map[int64]bool // ticket ids
	sending int
	workers chan struct{}
	wg      sync.WaitGroup
	backoff atomic.Bool // an outcome could not be recorded
}

// deliverDue starts sending the due items of idle tickets and returns how
// long to sleep (a finishing ticket wakes the loop sooner).
func (d *Desk) deliverDue(ctx context.Context, o *outboxRun) time.Duration {
	if o.backoff.Swap(false) {
		return 5 * time.Second
	}
	o.mu.Lock()
	inFlight := o.sending
	o.mu.Unlock()
	items, err := d.db.DueOutbox(ctx, store.Now(), 200+inFlight)
	if err != nil {
		d.log.Error("outbox", "err", err)
		return 5 * time.Second
	}
	byTicket := map[int64][]store.OutboxItem{}
	var order []int64
	o.mu.Lock()
	for _, it := range items {
		if o.busy[it.TicketID] {
			continue // after the reply of its ticket being sent
		}
		if byTicket[it.TicketID] == nil {
			order = append(order, it.TicketID)
		}
		byTicket[it.TicketID] = append(byTicket[it.TicketID], it)
	}
	started := 0
	for _, id := range order {
		select {
		case o.workers <- struct{}{}:
		default:
			continue // every worker is busy; one that ends wakes us
		}
		started++
		list := byTicket[id]
		o.busy[id] = true
		o.sending += len(list)
		o.wg.Add(1)
		go d.deliverTicket(ctx, o, id, list)
	}
	busy := len(o.busy) > 0
	o.mu.Unlock()
	switch {
	case len(items) == 200+inFlight && started > 0:
		return 0 // there may be more
	case busy:
		return time.Minute // a ticket that is done wakes us
	}
	next, err := d.db.NextOutboxAt(ctx)
	if err != nil || next.IsZero() {
		return time.Minute
	}
	return max(time.Until(next), 10*time.Millisecond)
}

// deliverTicket sends a ticket's due items in order on one of o's
// workers, then frees the worker and wakes the dispatcher.
func (d *Desk) deliverTicket(ctx context.Context, o *outboxRun, id int64, list []store.OutboxItem) {
	defer o.wg.Done()
	for _, it := range list {
		if !d.deliver(ctx, it) {
			o.backoff.Store(true)
			break
		}
	}
	o.mu.Lock()
	delete(o.busy, id)
	o.sending -= len(list)
	o.mu.Unlock()
	<-o.workers
	d.Wake()
}

// deliver sends one item and records the outcome; false means the outcome
// could not be recorded, so the caller backs off instead of spinning.
// The steps: send → the id it left with → awaiting a receipt, or the
// outcome written (sent, failed, retry later) → counted → published.
func (d *Desk) deliver(ctx context.Context, it store.OutboxItem) bool {
	retryGen := d.retryNow.Load()
	out, sendErr := d.send(ctx, it)
	if ctx.Err() != nil {
		return false // shutting down: the item stays queued
	}
	d.recordSentAs(ctx, it, out, sendErr)
	var await awaitingError
	if errors.As(sendErr, &await) {
		return d.recordAwaiting(ctx, it, out, await.until)
	}
	o := d.outcomeOf(it, sendErr)
	o.retryNow = d.retryNow.Load() != retryGen
	var changes []Change
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		changes, err = d.recordOutcome(ctx, tx, it, out, o)
		return err
	})
	if err != nil {
		d.log.Error("outbox: record delivery", "message", it.MessageID, "err", err)
		return false
	}
	if out != nil {
		d.countSend(out, o)
	}
	if o.err != nil {
		d.log.Warn("outbox: send failed", "message", it.MessageID, "attempt", o.attempts, "final", o.failed, "err", o.err)
	}
	if out != nil && (o.err == nil || o.failed) {
		if m, err := d.db.Message(ctx, it.MessageID); err == nil {
			changes = append(changes, Change{Type: "message", TicketID: m.TicketID, Message: m})
		}
		d.bus.Publish(changes...)
	}
	return true
}

// send builds the item's reply and hands it to its channel's sender,
// within the channel's limit of sends at once and two minutes.
func (d *Desk) send(ctx context.Context, it store.OutboxItem) (*Outbound, error) {
	out, err := d.Outbound(ctx, it.MessageID)
	if err != nil {
		return out, err
	}
	d.mu.RLock()
	s, slots := d.senders[out.Message.Channel], d.sendSlots[out.Message.Channel]
	d.mu.RUnlock()
	if s == nil {
		return out, Permanent(i18n.Errorf("the %s channel cannot send replies yet", out.Message.Channel))
	}
	if slots != nil {
		slots <- struct{}{}
		defer func() { <-slots }()
	}
	sctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	return out, s.Send(sctx, *out)
}

// recordSentAs keeps the platform's id of a reply that left (or waits for
// its receipt), before the reply shows sent: a receipt naming it may
// follow at once.
func (d *Desk) recordSentAs(ctx context.Context, it store.OutboxItem, out *Outbound, sendErr error) {
	if out == nil || *out.sentAs == "" || !(sendErr == nil || errors.Is(sendErr, Waiting) || errors.As(sendErr, new(awaitingError))) {
		return
	}
	if err := d.db.SetMessageExternalID(ctx, it.MessageID, *out.sentAs); err != nil {
		d.log.Warn("outbox: record the id a reply left with", "message", it.MessageID, "err", err)
	}
}

// sendOutcome is what became of one try: sent (err nil; waiting when
// the channel holds it for a while), failed for good, or to retry.
type sendOutcome struct {
	err      error
	waiting  bool
	failed   bool
	attempts int
	retryNow bool // what held it back was mended during the try
}

func (d *Desk) outcomeOf(it store.OutboxItem, sendErr error) sendOutcome {
	o := sendOutcome{err: sendErr, attempts: it.Attempts + 1}
	if errors.Is(sendErr, Waiting) {
		o.err, o.waiting = nil, true
	}
	var perm permanentError
	o.failed = o.err != nil && (errors.As(o.err, &perm) || errors.Is(o.err, store.ErrNotFound) || o.attempts >= d.MaxAttempts)
	return o
}

// recordOutcome writes a try's outcome: a reply sent (or waiting) leaves
// the outbox; one failed for good leaves it with its reason and an event
// on its ticket; any other is tried again after a backoff.
func (d *Desk) recordOutcome(ctx context.Context, tx *store.Tx, it store.OutboxItem, out *Outbound, o sendOutcome) ([]Change, error) {
	switch {
	case o.err == nil:
		if err := tx.Dequeue(ctx, it.MessageID); err != nil {
			return nil, err
		}
		if o.waiting {
			if err := tx.MarkWaiting(ctx, it.MessageID); err != nil {
				return nil, err
			}
		} else if _, err := tx.MarkSent(ctx, it.MessageID); err != nil {
			return nil, err
		}
		if out != nil && out.Message.ScheduledAt != nil {
			return d.scheduledAnswered(ctx, tx, out.Ticket.ID)
		}
		return nil, nil
	case o.failed:
		if err := tx.Dequeue(ctx, it.MessageID); err != nil {
			return nil, err
		}
		if err := tx.SetDeliveryFailure(ctx, it.MessageID, "failed", o.err.Error(), i18n.Stored(o.err)); err != nil {
			return nil, err
		}
		if out == nil {
			return nil, nil
		}
		ev, err := addEvent(ctx, tx, out.Ticket.ID, System,
			store.DeliveryFailedData{MessageID: it.MessageID, Error: o.err.Error(), Attempts: o.attempts})
		if err != nil {
			return nil, err
		}
		return []Change{{Type: "event", TicketID: out.Ticket.ID, Event: ev}}, nil
	default:
		delay := backoff(d.RetryBase, d.RetryMax, o.attempts)
		if o.retryNow {
			delay = 0
		}
		return nil, tx.Reschedule(ctx, it.MessageID, o.attempts, store.Now().Add(delay), o.err.Error())
	}
}

// countSend counts a try for /metrics, once per channel the reply left
// by: a chat reply handed to a widget was counted then; when it goes by
// email after all, that is email's send, and when it does not, nothing
// more left.
func (d *Desk) countSend(out *Outbound, o sendOutcome) {
	outcome := "sent"
	if o.failed {
		outcome = "failed"
	} else if o.err != nil {
		outcome = "retry"
	}
	switch {
	case out.via != nil && *out.via != "":
		d.stats.sends.Inc(*out.via, outcome)
	case out.Message.Delivery == "sent" && outcome == "sent":
	default:
		d.stats.sends.Inc(out.Message.Channel, outcome)
	}
}

// recordAwaiting records a reply handed over and waiting for its receipt:
// shown sent, kept in the outbox until then.
func (d *Desk) recordAwaiting(ctx context.Context, it store.OutboxItem, out *Outbound, until time.Time) bool {
	changed := false
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if changed, err = tx.MarkSent(ctx, it.MessageID); err != nil {
			return err
		}
		return tx.AwaitReceipt(ctx, it.MessageID, it.NextAttemptAt, until)
	})
	if err != nil {
		d.log.Error("outbox: record a reply waiting for its receipt", "message", it.MessageID, "err", err)
		return false
	}
	if out.Message.Delivery != "sent" {
		d.stats.sends.Inc(out.Message.Channel, "sent") // not again when handed over again
	}
	if !changed {
		return true // its receipt came first and was published
	}
	if m, err := d.db.Message(ctx, it.MessageID); err == nil {
		d.bus.Publish(Change{Type: "message", TicketID: m.TicketID, Message: m})
	}
	return true
}

// Retry queues a failed reply again. The parts of a reply in several
// messages that went out before it failed are not sent again (SendParts).
func (d *Desk) Retry(ctx context.Context, actor Actor, messageID int64) (*store.Message, error) {
	var changes []Change
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		changes = nil
		m, err := tx.Message(ctx, messageID)
		if err != nil {
			return err
		}
		if m.Delivery != "failed" {
			return inputErr("message", "only a failed reply can be retried; this one is %q", m.Delivery)
		}
		if err := tx.Enqueue(ctx, m.ID, store.Now()); err != nil {
			return err
		}
		if err := tx.SetDelivery(ctx, m.ID, "queued", ""); err != nil {
			return err
		}
		ev, err := addEvent(ctx, tx, m.TicketID, actor, store.DeliveryRetriedData{MessageID: m.ID})
		if err != nil {
			return err
		}
		changes = append(changes, Change{Type: "event", TicketID: m.TicketID, Event: ev})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("retry message %d: %w", messageID, err)
	}
	m, err := d.db.Message(ctx, messageID)
	if err != nil {
		return nil, err
	}
	d.bus.Publish(append(changes, Change{Type: "message", TicketID: m.TicketID, Message: m})...)
	d.Wake()
	return m, nil
}

// backoff is the wait before try attempts+1: base doubling each attempt,
// at most ceiling.
func backoff(base, ceiling time.Duration, attempts int) time.Duration {
	delay := base << min(attempts-1, 20)
	if delay > ceiling || delay <= 0 {
		delay = ceiling
	}
	return delay
}

// scheduledAnswered marks a ticket answered by a scheduled reply that
// just went: its first response and last agent reply are when it went,
// not when it was written.
func (d *Desk) scheduledAnswered(ctx context.Context, tx *store.Tx, ticketID int64) ([]Change, error) {
	t, err := tx.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	now := store.Now()
	if t.FirstResponseAt == nil {
		t.FirstResponseAt = &now
	}
	t.LastAgentAt = &now
	c := d.TicketTx(tx, t, nil, now)
	if err := c.Save(ctx); err != nil {
		return nil, err
	}
	return append([]Change{{Type: "ticket", TicketID: t.ID, Ticket: t}}, c.take()...), nil
}
