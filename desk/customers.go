package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"onedesk/i18n"
	"onedesk/store"
)

// normalize is NormalizeIdentity with the store's country for phone
// numbers written without +CC; the store is read only for those.
func (d *Desk) normalize(ctx context.Context, kind, value string, storeID *int64) (store.Identity, error) {
	id, err := NormalizeIdentity(kind, value)
	if err == nil || (kind != "phone" && kind != "whatsapp") || storeID == nil {
		return id, err
	}
	st, serr := d.db.Store(ctx, *storeID)
	if serr != nil || st.Country == "" {
		return id, err
	}
	p, ok := NormalizePhone(value, st.Country)
	if !ok {
		return id, inputErr(kind, "%q is not a phone number of %s, nor one in international form (+ and country code)", value, st.Country)
	}
	return store.Identity{Kind: kind, Value: p}, nil
}

// CustomerInput edits a customer; nil fields stay.
type CustomerInput struct {
	Name  *string
	Notes *string
}

// MaxNotes is how long a customer's notes may be.
const MaxNotes = 10000

// UpdateCustomer sets a customer's name or notes.
func (d *Desk) UpdateCustomer(ctx context.Context, id int64, in CustomerInput) (*store.Customer, error) {
	if in.Name != nil {
		*in.Name = cleanLine(*in.Name)
		if utf8.RuneCountInString(*in.Name) > 200 {
			return nil, inputErr("name", "name is longer than 200 characters")
		}
	}
	if in.Notes != nil {
		*in.Notes = strings.TrimSpace(*in.Notes)
		if utf8.RuneCountInString(*in.Notes) > MaxNotes || !utf8.ValidString(*in.Notes) {
			return nil, inputErr("notes", "notes are longer than %d characters", MaxNotes)
		}
	}
	var c *store.Customer
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = liveCustomer(ctx, tx, id, "id"); err != nil {
			return err
		}
		if in.Name != nil {
			c.Name = *in.Name
		}
		if in.Notes != nil {
			c.Notes = *in.Notes
		}
		return tx.UpdateCustomer(ctx, c)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// AddIdentity gives a customer another identifier (a phone number they
// told an agent). One owned by someone else is refused: merge instead.
func (d *Desk) AddIdentity(ctx context.Context, customerID int64, kind, value string, actor Actor) (*store.Customer, error) {
	var c *store.Customer
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if c, err = liveCustomer(ctx, tx, customerID, "id"); err != nil {
			return err
		}
		id, err := NormalizeIdentity(kind, value)
		if err != nil {
			return err
		}
		if owner, err := tx.CustomerByIdentity(ctx, id); err == nil {
			if owner == customerID {
				return nil
			}
			return inputErr("value", "%s belongs to customer %d: merge the two customers instead", id.Value, owner)
		} else if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if err := tx.AddIdentity(ctx, customerID, id); err != nil {
			return err
		}
		if err := customerEvent(ctx, tx, customerID, actor, store.IdentityAddedData{Identity: id}); err != nil {
			return err
		}
		c.Identities = append(c.Identities, id)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// liveCustomer reads a customer who has not been merged away.
func liveCustomer(ctx context.Context, tx *store.Tx, id int64, field string) (*store.Customer, error) {
	c, err := tx.Customer(ctx, id)
	if errors.Is(err, store.ErrNotFound) && field != "id" {
		return nil, inputErr(field, "there is no customer %d", id)
	}
	if err != nil {
		return nil, err
	}
	if c.MergedInto != nil {
		return nil, inputErr(field, "customer %d was merged into customer %d", id, *c.MergedInto)
	}
	return c, nil
}

func customerEvent(ctx context.Context, tx *store.Tx, customerID int64, actor Actor, data store.CustomerEventData) error {
	raw, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("%s customer event: %w", data.CustomerEventType(), err)
	}
	return tx.InsertCustomerEvent(ctx, &store.CustomerEvent{CustomerID: customerID, Type: data.CustomerEventType(), Actor: actor.String(), Data: raw, CreatedAt: store.Now()})
}

// MergeCustomers merges customer away into keep: identities, tickets,
// participations and claims move to keep; away's id leads to keep from
// then on. A "merged" event is written on both customers and on every
// ticket that moved. The merge can be undone (UnmergeIdentity).
func (d *Desk) MergeCustomers(ctx context.Context, keep, away int64, actor Actor) (*store.Merge, error) {
	if keep == away {
		return nil, inputErr("customer_id", "a customer cannot be merged into itself")
	}
	var m *store.Merge
	var changes []Change
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		m, changes = nil, nil
		if _, err := liveCustomer(ctx, tx, keep, "id"); err != nil {
			return err
		}
		if _, err := liveCustomer(ctx, tx, away, "customer_id"); err != nil {
			return err
		}
		var err error
		if m, err = tx.MergeCustomers(ctx, keep, away, actor.String()); err != nil {
			return err
		}
		changes, err = d.mergeEvents(ctx, tx, m, store.EventMerged, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	d.publishAll(ctx, changes)
	return m, nil
}

// mergeEvents records a merge (or its undoing) on both customers and on
// the tickets that moved.
func (d *Desk) mergeEvents(ctx context.Context, tx *store.Tx, m *store.Merge, typ store.EventType, actor Actor) ([]Change, error) {
	var data store.CustomerEventData = store.CustomerMergedData{CustomerID: m.CustomerID, Identities: m.Identities, MergedID: m.MergedID, Tickets: m.Tickets}
	if typ == store.EventUnmerged {
		data = store.CustomerUnmergedData{CustomerID: m.CustomerID, Identities: m.Identities, MergedID: m.MergedID, Tickets: m.Tickets}
	}
	for _, cid := range []int64{m.CustomerID, m.MergedID} {
		if err := customerEvent(ctx, tx, cid, actor, data); err != nil {
			return nil, err
		}
	}
	var changes []Change
	for _, tid := range m.Tickets {
		var data store.EventData = store.MergedData{CustomerID: m.CustomerID, MergedID: m.MergedID}
		if typ == store.EventUnmerged {
			data = store.UnmergedData{CustomerID: m.CustomerID, MergedID: m.MergedID}
		}
		ev, err := addEvent(ctx, tx, tid, actor, data)
		if err != nil {
			return nil, err
		}
		changes = append(changes, Change{Type: "event", TicketID: tid, Event: ev})
	}
	return changes, nil
}

// publishAll publishes changes of several tickets, each led by its state.
func (d *Desk) publishAll(ctx context.Context, changes []Change) {
	for i := 0; i < len(changes); {
		j := i + 1
		for j < len(changes) && changes[j].TicketID == changes[i].TicketID {
			j++
		}
		d.publish(ctx, changes[i].TicketID, changes[i:j])
		i = j
	}
}

// UnmergeIdentity splits an identity back out of a customer, with the
// other identities and the tickets the same merge brought: the customer
// merged away is a customer of its own again. Only a merge is undone
// (an identity the customer had from the start stays), and only while
// what it moved is still here.
func (d *Desk) UnmergeIdentity(ctx context.Context, customerID int64, id store.Identity, actor Actor) (*store.Merge, error) {
	id, err := NormalizeIdentity(id.Kind, id.Value)
	if err != nil {
		return nil, err
	}
	var m *store.Merge
	var changes []Change
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		m, changes = nil, nil
		if _, err := liveCustomer(ctx, tx, customerID, "id"); err != nil {
			return err
		}
		var err error
		m, err = tx.MergeOf(ctx, customerID, id)
		if errors.Is(err, store.ErrNotFound) {
			return inputErr("value", "%s did not come with a merge into this customer, so there is nobody to split it back to", id.Value)
		}
		if err != nil {
			return err
		}
		for _, other := range m.Identities {
			owner, err := tx.CustomerByIdentity(ctx, other)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			if owner != customerID {
				return inputErr("value", "%s came with the same merge but is no longer this customer's; split it by hand", other.Value)
			}
		}
		if err := tx.UndoMerge(ctx, m); err != nil {
			return err
		}
		changes, err = d.mergeEvents(ctx, tx, m, store.EventUnmerged, actor)
		return err
	})
	if err != nil {
		return nil, err
	}
	d.publishAll(ctx, changes)
	return m, nil
}

// DismissSuggestion forgets that a customer claimed an identifier: an
// agent decided they are not the owner.
func (d *Desk) DismissSuggestion(ctx context.Context, customerID, otherID int64, id store.Identity, actor Actor) error {
	return d.db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range [][2]int64{{customerID, otherID}, {otherID, customerID}} {
			if err := tx.DeleteClaim(ctx, c[0], id); err != nil {
				return err
			}
		}
		return customerEvent(ctx, tx, customerID, actor, store.SuggestionDismissedData{CustomerID: otherID, Identity: id})
	})
}

// verifyClaim merges the customer of a ticket into the customer an
// answer came from when the ticket's customer had claimed the answer's
// identifier: the answer to our mail proves the inbox is theirs.
func (d *Desk) verifyClaim(ctx context.Context, tx *store.Tx, t *store.Ticket, from store.Identity, owner int64) ([]Change, bool, error) {
	claimants, err := tx.ClaimantsOf(ctx, from)
	if err != nil || !slices.Contains(claimants, t.CustomerID) {
		return nil, false, err
	}
	m, err := tx.MergeCustomers(ctx, owner, t.CustomerID, System.String())
	if err != nil {
		return nil, false, err
	}
	changes, err := d.mergeEvents(ctx, tx, m, store.EventMerged, System)
	if err != nil {
		return nil, false, err
	}
	t.CustomerID = owner
	return changes, true, nil
}

// MergeTickets merges ticket from into ticket into, both the same
// customer's: from's messages join into's thread, from is closed and
// leads to into; both get a "merged" event. The steps: check → move the
// thread → into's state → events on both.
func (d *Desk) MergeTickets(ctx context.Context, into, from int64, actor Actor) error {
	if into == from {
		return inputErr("ticket_id", "a ticket cannot be merged into itself")
	}
	var changes []Change
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		dst, src, err := ticketsToMerge(ctx, tx, into, from)
		if err != nil {
			return err
		}
		if err := tx.MergeTicket(ctx, from, into); err != nil {
			return err
		}
		joinThreads(dst, src)
		if _, err := d.saveTicket(ctx, tx, dst, store.Now()); err != nil {
			return err
		}
		changes, err = d.mergedTicketEvents(ctx, tx, dst, src, actor)
		return err
	})
	if err != nil {
		return err
	}
	d.publishAll(ctx, changes)
	return nil
}

// ticketsToMerge reads the two tickets of a merge and checks that it may
// be done: the same customer's, from not merged already, into not closed.
func ticketsToMerge(ctx context.Context, tx *store.Tx, into, from int64) (dst, src *store.Ticket, err error) {
	if dst, err = tx.Ticket(ctx, into); err != nil {
		return nil, nil, err
	}
	src, err = tx.Ticket(ctx, from)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, inputErr("ticket_id", "there is no ticket %d", from)
	}
	if err != nil {
		return nil, nil, err
	}
	if src.CustomerID != dst.CustomerID {
		return nil, nil, inputErr("ticket_id", "ticket %d is another customer's: merge the customers first", from)
	}
	if n, err := tx.TicketMergedInto(ctx, from); err != nil || n != 0 {
		if err == nil {
			err = inputErr("ticket_id", "ticket %d was merged into ticket %d already", from, n)
		}
		return nil, nil, err
	}
	if dst.Status == "closed" {
		return nil, nil, inputErr("id", "ticket %d is closed", into)
	}
	return dst, src, nil
}

// joinThreads gives dst the tags and times of both threads.
func joinThreads(dst, src *store.Ticket) {
	for _, tag := range src.Tags {
		if !slices.Contains(dst.Tags, tag) {
			dst.Tags = append(dst.Tags, tag)
		}
	}
	slices.Sort(dst.Tags)
	if src.UpdatedAt.After(dst.UpdatedAt) {
		dst.UpdatedAt, dst.Snippet = src.UpdatedAt, src.Snippet
	}
	if src.LastCustomerAt != nil && (dst.LastCustomerAt == nil || src.LastCustomerAt.After(*dst.LastCustomerAt)) {
		dst.LastCustomerAt = src.LastCustomerAt
	}
	if src.FirstResponseAt != nil && (dst.FirstResponseAt == nil || src.FirstResponseAt.Before(*dst.FirstResponseAt)) {
		dst.FirstResponseAt = src.FirstResponseAt
	}
}

// mergedTicketEvents records a ticket merge: "merged" on dst, and src
// closed (when it was not) with its own "merged" naming dst.
func (d *Desk) mergedTicketEvents(ctx context.Context, tx *store.Tx, dst, src *store.Ticket, actor Actor) ([]Change, error) {
	var changes []Change
	ev, err := addEvent(ctx, tx, dst.ID, actor, store.MergedData{TicketID: src.ID})
	if err != nil {
		return nil, err
	}
	changes = append(changes, Change{Type: "event", TicketID: dst.ID, Event: ev})
	if src.Status != "closed" {
		ev, err := setStatus(ctx, tx, src, "closed", actor)
		if err != nil {
			return nil, err
		}
		changes = append(changes, Change{Type: "event", TicketID: src.ID, Event: ev})
		if _, err := d.saveTicket(ctx, tx, src, store.Now()); err != nil {
			return nil, err
		}
	}
	if ev, err = addEvent(ctx, tx, src.ID, actor, store.MergedData{IntoTicketID: dst.ID}); err != nil {
		return nil, err
	}
	return append(changes, Change{Type: "event", TicketID: src.ID, Event: ev}), nil
}

var (
	orderLike = regexp.MustCompile(`^#?[A-Za-z]{0,4}[-#]?\d{3,}$`)
	phoneLike = regexp.MustCompile(`^(\+|00)?[\d\s().\-/]{6,}$`)
)

// SearchCustomers finds customers by name, email, phone, handle or an
// order number of one of their tickets: words match prefixes of names
// and identifiers, an address or number also matches exactly (and an
// email with or without a +tag), in the forms of every store's country.
// With stores, only customers with a ticket in one of them (an agent's).
func (d *Desk) SearchCustomers(ctx context.Context, q string, before int64, limit int, stores ...int64) ([]store.Customer, error) {
	q = strings.TrimSpace(q)
	if utf8.RuneCountInString(q) > 200 {
		return nil, inputErr("q", "the search is longer than 200 characters")
	}
	s := store.CustomerSearch{Before: before, Limit: limit, Stores: stores}
	var words []string
	text := q
	if local, _, ok := strings.Cut(q, "@"); ok {
		// Of an address, the words before the @: the domain's are in half
		// the customers, and intersecting with them costs a scan of them.
		text = local
	}
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		if len(words) == 8 {
			break
		}
		words = append(words, `"`+w+`"*`)
	}
	s.Words = strings.Join(words, " ")
	if id, err := NormalizeIdentity("email", q); err == nil && strings.Contains(q, "@") {
		s.Identities = append(s.Identities, id)
	}
	if phoneLike.MatchString(q) {
		if p, ok := NormalizePhone(q, ""); ok {
			s.Identities = append(s.Identities, store.Identity{Kind: "phone", Value: p}, store.Identity{Kind: "whatsapp", Value: p})
		} else if stores, err := d.db.Stores(ctx); err == nil {
			for _, st := range stores {
				if p, ok := NormalizePhone(q, st.Country); ok && !slices.Contains(s.Identities, store.Identity{Kind: "phone", Value: p}) {
					s.Identities = append(s.Identities, store.Identity{Kind: "phone", Value: p}, store.Identity{Kind: "whatsapp", Value: p})
				}
			}
		}
	}
	if orderLike.MatchString(q) {
		s.Tickets = `"` + strings.TrimLeft(q, "#") + `"`
	}
	return d.db.SearchCustomers(ctx, s)
}

// SetCustomerLanguage records the language the customer owning id reads,
// as a channel told it (the portal a signed-in customer reads); a
// language onedesk does not speak, or an identity nobody owns, changes
// nothing.
func (d *Desk) SetCustomerLanguage(ctx context.Context, id store.Identity, lang string) error {
	if !i18n.Supported(lang) {
		return nil
	}
	return d.db.Write(ctx, func(tx *store.Tx) error {
		cid, err := tx.CustomerByIdentity(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		return tx.SetCustomerLanguage(ctx, cid, lang)
	})
}
