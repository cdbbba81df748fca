package desk

import (
	"encoding/json"
	"sync"
	"sync/atomic"

	"onedesk/store"
)

// Change is what the bus carries: one committed change to a ticket.
type Change struct {
	Type     string         `json:"type"` // "ticket", "message", "event" or "notification"
	TicketID int64          `json:"ticket_id"`
	Ticket   *store.Ticket  `json:"ticket,omitempty"`
	Message  *store.Message `json:"message,omitempty"`
	Event    *store.Event   `json:"event,omitempty"`
	// Notification is for the agents it names ("notification" changes).
	Notification *Notification `json:"notification,omitempty"`
	// FromOtherNode marks a change another node committed or signalled
	// (follow.go): this node's own sends already reached its sockets.
	FromOtherNode bool `json:"-"`
}

// Bus fans changes out to subscribers in this process. A subscriber that
// falls behind is dropped (its channel closed) rather than slowing the
// desk: it reconnects and refetches what it missed.
type Bus struct {
	mu   sync.Mutex
	subs map[chan Change]struct{}
	// forward passes what is not stored (typing, alerts) to the other
	// nodes, when there are any (follow.go).
	forward atomic.Pointer[func(nodeSignal)]
	// presence hears the other nodes' presence (follow.go).
	presence atomic.Pointer[func(json.RawMessage)]
}

// NewBus returns an empty bus.
func NewBus() *Bus { return &Bus{subs: map[chan Change]struct{}{}} }

// Subscribe returns a channel of changes and a function to stop.
func (b *Bus) Subscribe(buffer int) (<-chan Change, func()) {
	ch := make(chan Change, buffer)
	b.mu.Lock()
	b.subs[ch] = struct{}{}
	b.mu.Unlock()
	return ch, func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		if _, ok := b.subs[ch]; ok {
			delete(b.subs, ch)
			close(ch)
		}
	}
}

// Publish sends changes to every subscriber without blocking.
func (b *Bus) Publish(changes ...Change) {
	b.pass(changes)
	b.deliver(changes...)
}

// deliver sends changes to this process's subscribers only.
func (b *Bus) deliver(changes ...Change) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for ch := range b.subs {
		for _, c := range changes {
			select {
			case ch <- c:
			default:
				delete(b.subs, ch)
				close(ch)
			}
			if _, ok := b.subs[ch]; !ok {
				break
			}
		}
	}
}
