package desk

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"onedesk/store"
)

// Several nodes on one database: what another node commits reaches this
// node's bus as if it had been committed here (agents' sockets, the chat
// widgets, the parts that follow Committed), read from the store by the
// ids the store hears of; what is not stored (typing, alerts) passes as a
// signal. On a single SQLite process FollowNodes returns at once.

// passing are the change types that are not stored, forwarded to the
// other nodes as signals.
var passing = map[string]bool{"typing": true, "agent_typing": true, "notification": true}

// FollowNodes publishes on this node's bus what the other nodes on the
// database commit and signal, until ctx ends; start it once, beside the
// server.
func (d *Desk) FollowNodes(ctx context.Context) {
	if !d.db.Multinode() {
		return
	}
	out := make(chan nodeSignal, 256)
	forward := func(sig nodeSignal) {
		select {
		case out <- sig:
		default: // typing and alerts are worth little late: drop rather than wait
		}
	}
	d.bus.forward.Store(&forward)
	defer d.bus.forward.Store(nil)
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case sig := <-out:
				b, err := json.Marshal(sig)
				if err == nil {
					sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
					err = d.db.Signal(sctx, b)
					cancel()
				}
				if err != nil && ctx.Err() == nil {
					d.log.Debug("other nodes: a signal was not passed", "err", err)
				}
			}
		}
	}()
	d.db.FollowOthers(ctx, d.log, func(c store.Committed) { d.fromOtherNode(ctx, c) })
}

// fromOtherNode publishes one notification of another node's.
func (d *Desk) fromOtherNode(ctx context.Context, c store.Committed) {
	switch {
	case c.Resync:
		// Something may have been missed: every subscriber starts over
		// from the store, as one that fell behind does (agents' apps
		// reconnect and refetch; Committed's followers read from their
		// cursors), and the outbox looks for due replies.
		d.bus.dropAll()
		d.forgetSettings()
		d.Wake()
		return
	case c.Signal != nil:
		var sig nodeSignal
		if err := json.Unmarshal(c.Signal, &sig); err != nil {
			return
		}
		if sig.Change != nil && passing[sig.Change.Type] {
			sig.Change.FromOtherNode = true
			d.bus.deliver(*sig.Change)
		}
		if f := d.bus.presence.Load(); f != nil && sig.Presence != nil {
			(*f)(sig.Presence)
		}
		if sig.Queued != "" {
			select {
			case d.accountChanges.of("queued:" + sig.Queued) <- struct{}{}:
			default:
			}
		}
		if sig.Settings {
			d.forgetSettings()
		}
		if sig.Accounts != "" {
			select {
			case d.accountChanges.of(sig.Accounts) <- struct{}{}:
			default:
			}
		}
		return
	}
	var order []int64
	byTicket := map[int64][]Change{}
	add := func(ticketID int64, ch *Change) {
		if _, seen := byTicket[ticketID]; !seen {
			order = append(order, ticketID)
			byTicket[ticketID] = nil
		}
		if ch != nil {
			byTicket[ticketID] = append(byTicket[ticketID], *ch)
		}
	}
	for _, id := range c.Tickets {
		add(id, nil)
	}
	wake := false
	for _, id := range c.Messages {
		m, err := d.db.Message(ctx, id)
		if err != nil {
			d.noteMissing(err, "message", id)
			continue
		}
		// A reply queued on another node: this node's outbox may be the
		// one running.
		wake = wake || m.Delivery == "queued"
		add(m.TicketID, &Change{Type: "message", TicketID: m.TicketID, Message: m, FromOtherNode: true})
	}
	for _, id := range c.Events {
		ev, err := d.db.Event(ctx, id)
		if err != nil {
			d.noteMissing(err, "event", id)
			continue
		}
		add(ev.TicketID, &Change{Type: "event", TicketID: ev.TicketID, Event: ev, FromOtherNode: true})
	}
	for _, id := range order {
		// Led by the ticket's state now, as this node's own publish does.
		t, err := d.db.Ticket(ctx, id)
		if err != nil {
			d.noteMissing(err, "ticket", id)
			d.bus.deliver(byTicket[id]...)
			continue
		}
		d.bus.deliver(append([]Change{{Type: "ticket", TicketID: id, Ticket: t, FromOtherNode: true}}, byTicket[id]...)...)
	}
	if wake {
		d.Wake()
	}
}

// noteMissing logs a row another node named that cannot be read (gone
// since, which a later notification tells, or a failing read).
func (d *Desk) noteMissing(err error, what string, id int64) {
	if errors.Is(err, store.ErrNotFound) {
		return
	}
	d.log.Warn("other nodes: read what changed", what, id, "err", err)
}

// nodeSignal is what passes between nodes without being stored: a
// change of a passing type, or the name of a channel whose accounts
// (mailboxes, bots) changed.
type nodeSignal struct {
	Change   *Change         `json:"c,omitempty"`
	Accounts string          `json:"a,omitempty"`
	Presence json.RawMessage `json:"p,omitempty"`
	Queued   string          `json:"q,omitempty"` // work was queued for this kind of worker
	Settings bool            `json:"s,omitempty"` // the desk settings changed
}

// AnnounceQueued tells the other nodes that work was queued for the
// worker of kind (a platform's inbox): the node running it may be
// another, which then looks at once rather than at its next round.
func (d *Desk) AnnounceQueued(kind string) { d.bus.signal(nodeSignal{Queued: kind}) }

// QueuedElsewhere signals when another node announced work queued for
// kind.
func (d *Desk) QueuedElsewhere(kind string) <-chan struct{} {
	return d.accountChanges.of("queued:" + kind)
}

// SharePresence passes this node's presence (who has the app open, who
// views what; the server's business, opaque here) to the other nodes.
func (d *Desk) SharePresence(p json.RawMessage) { d.bus.signal(nodeSignal{Presence: p}) }

// OnPresence has f hear the presence the other nodes share.
func (d *Desk) OnPresence(f func(json.RawMessage)) { d.bus.presence.Store(&f) }

// RunLeased runs f while this node holds the lease called name, so that
// of several nodes exactly one runs it (a mailbox's poller); on one
// node it simply runs f. See store.RunLeased.
func (d *Desk) RunLeased(ctx context.Context, name string, f func(context.Context)) {
	d.db.RunLeased(ctx, name, d.log, f)
}

// Multinode tells whether other nodes may share the database.
func (d *Desk) Multinode() bool { return d.db.Multinode() }

// pass forwards the passing changes among changes to the other nodes.
func (b *Bus) pass(changes []Change) {
	f := b.forward.Load()
	if f == nil {
		return
	}
	for i := range changes {
		if passing[changes[i].Type] {
			(*f)(nodeSignal{Change: &changes[i]})
		}
	}
}

// signal forwards sig to the other nodes, if any.
func (b *Bus) signal(sig nodeSignal) {
	if f := b.forward.Load(); f != nil {
		(*f)(sig)
	}
}

// dropAll closes every subscription, as if each had fallen behind.
func (b *Bus) dropAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		delete(b.subs, ch)
		close(ch)
	}
}
