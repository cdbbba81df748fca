package chat

import (
	"context"
	"time"

	"onedesk/store"
)

// Several nodes: the outbox runs on one of them, and a visitor's widget
// may be open on another, where the sending node found no widget and
// left the reply waiting in the conversation, or sent it by email. The
// reply reaches this node's bus from the store, led by its ticket; a
// widget of that customer open here is shown it at once (a waiting one
// as a returning visitor is, with a receipt to confirm), rather than when
// it next connects. The widget shows a reply once by its id, whichever
// way it came.

// pushWaiting shows a reply left waiting, or sent by email from another
// node, to the customer's widgets open on this node; t is the ticket
// change that came just before.
func (c *Channel) pushWaiting(t *store.Ticket, m *store.Message) {
	if t == nil || m == nil || t.ID != m.TicketID || m.Kind != "agent" || m.Channel != "chat" {
		return
	}
	if m.Delivery != "waiting" && (m.Delivery != "sent" || !c.desk.Multinode()) {
		return
	}
	f := messageFrame(*m)
	c.authors(context.Background(), []store.Message{*m}).sign(&f, *m)
	if m.Delivery == "sent" {
		c.push(t.CustomerID, f)
		return
	}
	c.mu.Lock()
	open := len(c.visitors[t.CustomerID]) > 0
	if open && c.receipts[m.ID] == nil {
		c.receipts[m.ID] = &receipt{customer: t.CustomerID, at: time.Now(), got: make(chan struct{})}
	}
	c.mu.Unlock()
	if !open {
		return
	}
	f.Ack = true // the widget's receipt makes it delivered
	c.push(t.CustomerID, f)
}
