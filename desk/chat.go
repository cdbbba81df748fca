package desk

import (
	"context"
	"errors"
	"fmt"

	"onedesk/store"
)

// senderOf returns the sender installed for a channel (nil if none).
func (d *Desk) senderOf(channel string) Sender {
	d.mu.RLock()
	defer d.mu.RUnlock()
	return d.senders[channel]
}

// CurrentTicket is the newest ticket of a channel, not closed, of whoever
// owns an identifier (nil when there is none).
func (d *Desk) CurrentTicket(ctx context.Context, who store.Identity, channel string) (*store.Ticket, error) {
	cid, err := d.db.CustomerByIdentity(ctx, who)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	t, err := d.db.LatestTicket(ctx, cid, channel)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	return t, err
}

// Conversation is a customer's current ticket of a channel with its public
// messages (no internal notes): what a returning chat visitor sees.
func (d *Desk) Conversation(ctx context.Context, who store.Identity, channel string, limit int) (*store.Ticket, []store.Message, error) {
	t, err := d.CurrentTicket(ctx, who, channel)
	if err != nil || t == nil {
		return nil, nil, err
	}
	all, err := d.db.Messages(ctx, t.ID)
	if err != nil {
		return nil, nil, err
	}
	var out []store.Message
	for _, m := range all {
		if m.Kind == "customer" || m.Kind == "agent" {
			out = append(out, m)
		}
	}
	if len(out) > limit {
		out = out[len(out)-limit:]
	}
	return t, out, nil
}

// Identify records the name and email address a visitor gives. A new
// address becomes the visitor's, so a later email from it is the same
// person. An address another customer has is only claimed: anyone can
// type an address, and the visitor would see that customer's chats. The
// claim is a suggestion for agents, and becomes a merge when the visitor
// answers from that inbox (see Ingest).
func (d *Desk) Identify(ctx context.Context, visitor store.Identity, name, email string) (int64, error) {
	var mail store.Identity
	if email != "" {
		var err error
		if mail, err = NormalizeIdentity("email", email); err != nil {
			return 0, err
		}
	}
	name = cleanLine(name)
	if len([]rune(name)) > 200 {
		return 0, inputErr("name", "name is longer than 200 characters")
	}
	var cid int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		cid, err = tx.CustomerByIdentity(ctx, visitor)
		if errors.Is(err, store.ErrNotFound) {
			c := &store.Customer{Name: name, CreatedAt: store.Now()}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			if err := tx.AddIdentity(ctx, c.ID, visitor); err != nil {
				return err
			}
			cid = c.ID
		} else if err != nil {
			return err
		}
		if mail.Value != "" {
			owner, err := tx.CustomerByIdentity(ctx, mail)
			switch {
			case errors.Is(err, store.ErrNotFound):
				if err := tx.AddIdentity(ctx, cid, mail); err != nil {
					return err
				}
			case err != nil:
				return err
			case owner != cid:
				if err := tx.AddClaim(ctx, cid, mail); err != nil {
					return err
				}
			}
		}
		if name != "" {
			return tx.SetCustomerName(ctx, cid, name)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("identify visitor: %w", err)
	}
	// Agents with the chat open see the name and address at once: the
	// app reloads a ticket (and its customer panel) a change names.
	if t, err := d.db.LatestTicket(ctx, cid, "chat"); err == nil {
		d.bus.Publish(Change{Type: "ticket", TicketID: t.ID, Ticket: t})
	}
	return cid, nil
}

// Contact is a customer with the addresses they claimed (typed in, owned
// by another customer): what a channel may write to them at. When only
// the claims cannot be read, the customer comes with the error.
func (d *Desk) Contact(ctx context.Context, customerID int64) (*store.Customer, []store.Identity, error) {
	c, err := d.db.Customer(ctx, customerID)
	if err != nil {
		return nil, nil, err
	}
	claimed, err := d.db.Claimed(ctx, customerID)
	return c, claimed, err
}

// CustomerFile is a file of the conversation a customer has with a store
// (one of its public messages, never an internal note's), with its
// bytes; ErrNotFound for any other.
func (d *Desk) CustomerFile(ctx context.Context, who store.Identity, storeID, attachmentID int64) (*store.Attachment, error) {
	customer, err := d.db.CustomerByIdentity(ctx, who)
	if err != nil {
		return nil, err
	}
	a, ticketID, err := d.db.AttachmentData(ctx, attachmentID)
	if err != nil {
		return nil, err
	}
	t, err := d.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	if t.CustomerID != customer || t.StoreID == nil || *t.StoreID != storeID {
		return nil, fmt.Errorf("file %d: %w", attachmentID, ErrNotFound)
	}
	m, err := d.db.Message(ctx, a.MessageID)
	if err != nil {
		return nil, err
	}
	if m.Kind != "customer" && m.Kind != "agent" {
		return nil, fmt.Errorf("file %d: %w", attachmentID, ErrNotFound) // internal notes stay internal
	}
	return a, nil
}

// JoinDevice ties another visitor identity (a second device the chat goes
// on on, its token's) to the customer who owns visitor, and returns that
// customer. The chat then shows the same thread on both, and replies
// reach both.
func (d *Desk) JoinDevice(ctx context.Context, visitor, device store.Identity) (int64, error) {
	var cid int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if cid, err = tx.CustomerByIdentity(ctx, visitor); err != nil {
			return err
		}
		return tx.AddIdentity(ctx, cid, device)
	})
	if err != nil {
		return 0, fmt.Errorf("join a device to the chat of %s: %w", visitor.Value, err)
	}
	return cid, nil
}
