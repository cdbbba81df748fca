package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/store"
)

// Moving in from another helpdesk: customers, tickets and their messages
// with their own dates, authors and files. An import is history: each
// message goes through Ingest's historic path (Inbound.Historic), so no
// rule, SLA clock, acknowledgement, webhook or notification runs for it.
// Everything is keyed by the other helpdesk's ids (store.ImportedID):
// running an import again makes no second copy, and appends only the
// messages a ticket did not have.

// Limits of one imported ticket.
const (
	MaxImportMessages = 1000
	MaxExternalID     = 200
)

// ImportPerson names a customer or the author of an imported message.
type ImportPerson struct {
	ExternalID string // a customer's id in the other helpdesk
	Email      string
	Phone      string
	Name       string
	// Role is what the other helpdesk says they were: "agent" keeps an
	// author who is no agent here as an agent's reply by name.
	Role string
}

// ImportedCustomer is a customer of the other helpdesk.
type ImportedCustomer struct {
	ExternalID string
	Name       string
	Emails     []string
	Phones     []string
	Notes      string // added to the customer's notes unless they hold it already
	CreatedAt  time.Time
}

// ImportedMessage is one message of an imported ticket.
type ImportedMessage struct {
	ExternalID  string
	Author      ImportPerson
	Internal    bool // an internal note
	Text        string
	HTML        string
	CreatedAt   time.Time
	Attachments []store.Attachment
}

// ImportedTicket is a ticket of the other helpdesk with its messages.
type ImportedTicket struct {
	ExternalID    string
	Subject       string
	Status        string // "" resolved
	Priority      string
	Channel       string // "" api
	StoreID       *int64
	Customer      ImportPerson
	AssigneeEmail string // an agent here; "" or unknown: unassigned
	Tags          []string
	Messages      []ImportedMessage
}

// TicketImported says what an import did with a ticket.
type TicketImported struct {
	TicketID int64
	Created  bool
	Added    int // messages appended
	Known    int // messages imported before, left as they were
}

// CustomerImported says what an import did with a customer: created,
// updated (a name, identities or notes added) or unchanged.
type CustomerImported struct {
	CustomerID int64
	Outcome    string
}

// Outcomes of a customer's import.
const (
	CustomerCreated   = "created"
	CustomerUpdated   = "updated"
	CustomerUnchanged = "unchanged"
)

// ImportCustomer creates or completes a customer of the other helpdesk:
// found by its external id, else by any of its addresses (one customer,
// one record), else made.
func (d *Desk) ImportCustomer(ctx context.Context, in ImportedCustomer) (*CustomerImported, error) {
	if err := checkExternalID("external_id", in.ExternalID, false); err != nil {
		return nil, err
	}
	ids, err := d.importIdentities(ctx, in.Emails, in.Phones)
	if err != nil {
		return nil, err
	}
	name := cleanLine(in.Name)
	if utf8.RuneCountInString(name) > 200 {
		return nil, inputErr("name", "name is longer than 200 characters")
	}
	notes := strings.TrimSpace(in.Notes)
	if !utf8.ValidString(notes) || utf8.RuneCountInString(notes) > MaxNotes {
		return nil, inputErr("notes", "notes are longer than %d characters", MaxNotes)
	}
	if in.ExternalID == "" && len(ids) == 0 {
		return nil, inputErr("email", "a customer needs an email address, a phone number or an external id")
	}
	created := in.CreatedAt.UTC().Truncate(time.Millisecond)
	if created.IsZero() || created.After(store.Now()) {
		created = store.Now()
	}
	var res CustomerImported
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		id, err := importedCustomer(ctx, tx, in.ExternalID, ids)
		if err != nil {
			return err
		}
		if id == 0 {
			c := &store.Customer{Name: name, Identities: ids, CreatedAt: created}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			if notes != "" {
				c.Notes = notes
				if err := tx.UpdateCustomer(ctx, c); err != nil {
					return err
				}
			}
			res = CustomerImported{CustomerID: c.ID, Outcome: CustomerCreated}
		} else {
			changed, err := completeCustomer(ctx, tx, id, name, notes, ids)
			if err != nil {
				return err
			}
			res = CustomerImported{CustomerID: id, Outcome: CustomerUnchanged}
			if changed {
				res.Outcome = CustomerUpdated
			}
		}
		if in.ExternalID != "" {
			if known, err := tx.ImportedID(ctx, store.ImportCustomer, in.ExternalID); err != nil || known != 0 {
				return err
			}
			return tx.SetImportedID(ctx, store.ImportCustomer, in.ExternalID, res.CustomerID)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &res, nil
}

// importIdentities normalizes a customer's addresses, naming the one
// refused (emails[1]).
func (d *Desk) importIdentities(ctx context.Context, emails, phones []string) ([]store.Identity, error) {
	var ids []store.Identity
	for kind, list := range map[string][]string{"email": emails, "phone": phones} {
		for i, v := range list {
			if strings.TrimSpace(v) == "" {
				continue
			}
			id, err := d.normalize(ctx, kind, v, nil)
			if err != nil {
				return nil, withFieldPrefix(err, fmt.Sprintf("%ss[%d]", kind, i), true)
			}
			if !slices.Contains(ids, id) {
				ids = append(ids, id)
			}
		}
	}
	if len(ids) > 20 {
		return nil, inputErr("emails", "a customer has at most %d addresses and numbers", 20)
	}
	// Emails first, as given: the first is the customer's main address.
	slices.SortStableFunc(ids, func(a, b store.Identity) int { return strings.Compare(a.Kind, b.Kind) })
	return ids, nil
}

// importedCustomer finds the one customer an import's record is: by its
// external id, else by its addresses; 0 when none. Addresses of two
// different customers are refused: merging them is an agent's choice.
func importedCustomer(ctx context.Context, tx *store.Tx, externalID string, ids []store.Identity) (int64, error) {
	var found int64
	if externalID != "" {
		id, err := tx.ImportedID(ctx, store.ImportCustomer, externalID)
		if err != nil {
			return 0, err
		}
		if id != 0 {
			c, err := tx.Customer(ctx, id)
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return 0, err
			}
			if c != nil && c.MergedInto != nil {
				id = *c.MergedInto
			}
			if c != nil {
				found = id
			}
		}
	}
	for _, ident := range ids {
		id, err := tx.CustomerByIdentity(ctx, ident)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return 0, err
		}
		if found != 0 && id != found {
			return 0, inputErr("email", "%s belongs to customer %d, and the rest to customer %d: merge them first if they are one person", ident.Value, id, found)
		}
		found = id
	}
	return found, nil
}

// completeCustomer adds to a customer what an import knows and it does
// not: a name when it has none, addresses, notes. It reports whether
// anything changed.
func completeCustomer(ctx context.Context, tx *store.Tx, id int64, name, notes string, ids []store.Identity) (bool, error) {
	c, err := tx.Customer(ctx, id)
	if err != nil {
		return false, err
	}
	changed := false
	for _, ident := range ids {
		if slices.Contains(c.Identities, ident) {
			continue
		}
		if err := tx.AddIdentity(ctx, id, ident); err != nil {
			return false, err
		}
		changed = true
	}
	if c.Name == "" && name != "" {
		c.Name, changed = name, true
	}
	if notes != "" && !strings.Contains(c.Notes, notes) {
		joined := strings.TrimSpace(c.Notes + "\n\n" + notes)
		if utf8.RuneCountInString(joined) > MaxNotes {
			return false, inputErr("notes", "notes are longer than %d characters", MaxNotes)
		}
		c.Notes, changed = joined, true
	}
	if changed {
		return true, tx.UpdateCustomer(ctx, c)
	}
	return false, nil
}

// ImportTicket imports one ticket of the other helpdesk in one write: its
// customer found or made, the ticket made (or found, when imported
// before), and the messages it does not have yet appended as history at
// their own dates. Nothing is set off. A refused message refuses the
// ticket, with the field naming it (messages[2].created_at).
func (d *Desk) ImportTicket(ctx context.Context, it ImportedTicket) (*TicketImported, error) {
	if err := checkExternalID("external_id", it.ExternalID, true); err != nil {
		return nil, err
	}
	if it.Channel == "" {
		it.Channel = "api"
	}
	if it.Status == "" {
		it.Status = "resolved"
	}
	if err := oneOf("status", it.Status, store.Statuses); err != nil {
		return nil, err
	}
	if len(it.Messages) == 0 {
		return nil, inputErr("messages", "a ticket needs at least one message")
	}
	if len(it.Messages) > MaxImportMessages {
		return nil, inputErr("messages", "a ticket has at most %d messages in one import", MaxImportMessages)
	}
	cust, err := d.importCustomerRef(ctx, it.Customer)
	if err != nil {
		return nil, withFieldPrefix(err, "customer", false)
	}
	var assignee *int64
	if it.AssigneeEmail != "" {
		if a, err := d.db.AgentByEmail(ctx, strings.ToLower(strings.TrimSpace(it.AssigneeEmail))); err == nil && a.Active {
			assignee = &a.ID
		} else if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	// Each message is checked before anything is written.
	msgs := slices.Clone(it.Messages)
	slices.SortStableFunc(msgs, func(a, b ImportedMessage) int { return a.CreatedAt.Compare(b.CreatedAt) })
	gs := make([]*ingest, len(msgs))
	seen := map[string]bool{}
	var files []store.Attachment
	for i, m := range msgs {
		at := slices.IndexFunc(it.Messages, func(x ImportedMessage) bool { return x.ExternalID == m.ExternalID })
		prefix := fmt.Sprintf("messages[%d]", at)
		if err := checkExternalID("external_id", m.ExternalID, true); err != nil {
			return nil, withFieldPrefix(err, prefix, false)
		}
		if seen[m.ExternalID] {
			return nil, withFieldPrefix(inputErr("external_id", "external id %q is given twice", m.ExternalID), prefix, false)
		}
		seen[m.ExternalID] = true
		if err := checkImportDate("created_at", m.CreatedAt); err != nil {
			return nil, withFieldPrefix(err, prefix, false)
		}
		as, err := d.importAuthor(ctx, m, cust)
		if err != nil {
			return nil, withFieldPrefix(err, prefix+".author", false)
		}
		if strings.TrimSpace(m.Text) == "" && m.HTML != "" {
			m.Text = TextFromHTML(m.HTML) // what the app shows first
		}
		in := Inbound{
			Channel: it.Channel, StoreID: it.StoreID, From: cust.identity, Name: cust.name,
			Subject: it.Subject, Text: m.Text, HTML: m.HTML, Attachments: m.Attachments,
			Historic: true, Date: m.CreatedAt, As: as, Status: it.Status,
			Priority: it.Priority, Tags: it.Tags, AssigneeID: assignee,
		}
		g := &ingest{d: d, in: in}
		if err := g.check(ctx); err != nil {
			if ie, ok := IsInput(err); ok && (ie.Field == "subject" || ie.Field == "priority" || ie.Field == "tags" || ie.Field == "status" || ie.Field == "channel") {
				return nil, err // the ticket's, not the message's
			}
			return nil, withFieldPrefix(err, prefix, false)
		}
		gs[i] = g
		files = append(files, in.Attachments...)
	}
	if err := d.db.StageFiles(ctx, files...); err != nil {
		return nil, fmt.Errorf("import ticket %s: %w", it.ExternalID, err)
	}
	var res TicketImported
	var done []*ingest
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		res, done = TicketImported{}, nil
		ticketID, err := tx.ImportedID(ctx, store.ImportTicket, it.ExternalID)
		if err != nil {
			return err
		}
		if ticketID != 0 {
			if _, err := tx.Ticket(ctx, ticketID); errors.Is(err, store.ErrNotFound) {
				ticketID = 0 // deleted since (erased, retention): made again
			} else if err != nil {
				return err
			}
		}
		var last *ingest
		for i, g := range gs {
			known, err := tx.ImportedID(ctx, store.ImportMessage, msgs[i].ExternalID)
			if err != nil {
				return err
			}
			if known != 0 && ticketID != 0 {
				res.Known++
				continue
			}
			g.tx, g.res, g.changes = tx, Ingested{}, nil
			g.in.TicketID = ticketID
			if err := g.commit(ctx); err != nil {
				return err
			}
			if ticketID == 0 {
				ticketID, res.Created = g.res.Ticket.ID, true
				if err := tx.SetImportedID(ctx, store.ImportTicket, it.ExternalID, ticketID); err != nil {
					return err
				}
			}
			if err := tx.SetImportedID(ctx, store.ImportMessage, msgs[i].ExternalID, g.res.Message.ID); err != nil {
				return err
			}
			res.Added++
			done, last = append(done, g), g
		}
		res.TicketID = ticketID
		if last == nil || res.Created {
			return nil
		}
		// A ticket imported before takes the status and tags it has now
		// in the other helpdesk, as history at its newest message.
		return importedTicketState(ctx, tx, ticketID, it, last.now)
	})
	if err != nil {
		return nil, fmt.Errorf("import ticket %s: %w", it.ExternalID, err)
	}
	for _, g := range done {
		g.afterCommit(ctx)
	}
	return &res, nil
}

// importedTicketState moves a ticket imported before to the status and
// tags the new import gives it.
func importedTicketState(ctx context.Context, tx *store.Tx, id int64, it ImportedTicket, at time.Time) error {
	t, err := tx.Ticket(ctx, id)
	if err != nil {
		return err
	}
	tx.Historic(at)
	changed := false
	if t.Status != it.Status {
		from := t.Status
		moveStatus(t, it.Status, at)
		if _, err := addEvent(ctx, tx, id, System, store.StatusChangedData{From: from, To: it.Status}); err != nil {
			return err
		}
		changed = true
	}
	tags, err := CleanTags(append(slices.Clone(t.Tags), it.Tags...))
	if err != nil {
		return err
	}
	if !slices.Equal(tags, t.Tags) {
		t.Tags, changed = tags, true
	}
	if !changed {
		return nil
	}
	return tx.UpdateTicket(ctx, t)
}

// importRef is the customer of an imported ticket: the identity its
// messages are ingested from, and the external id its authors may name.
type importRef struct {
	identity   store.Identity
	identities []store.Identity
	externalID string
	name       string
}

// importCustomerRef resolves a ticket's customer: by an external id an
// earlier import (or this one's customers) made, else by email or phone.
func (d *Desk) importCustomerRef(ctx context.Context, p ImportPerson) (*importRef, error) {
	ref := &importRef{externalID: p.ExternalID, name: cleanLine(p.Name)}
	ids, err := d.importIdentities(ctx, nonEmpty(p.Email), nonEmpty(p.Phone))
	if err != nil {
		return nil, err
	}
	ref.identities = ids
	if len(ids) > 0 {
		ref.identity = ids[0]
		return ref, nil
	}
	if p.ExternalID == "" {
		return nil, inputErr("email", "a ticket's customer needs an email address, a phone number or the external id of an imported customer")
	}
	var c *store.Customer
	id, err := d.db.ImportedID(ctx, store.ImportCustomer, p.ExternalID)
	if err != nil {
		return nil, err
	}
	if id != 0 {
		if c, err = d.db.Customer(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	if c == nil || len(c.Identities) == 0 {
		return nil, inputErr("external_id", "no customer with an email address or phone number was imported as %q", p.ExternalID)
	}
	ref.identity, ref.identities = c.Identities[0], c.Identities
	return ref, nil
}

// importAuthor tells who wrote an imported message: an agent here by
// email, else the ticket's customer, else someone named, kept as text.
// An author named only by an id nobody was imported as is refused.
func (d *Desk) importAuthor(ctx context.Context, m ImportedMessage, cust *importRef) (*Author, error) {
	p := m.Author
	email := strings.ToLower(strings.TrimSpace(p.Email))
	if email != "" {
		a, err := d.db.AgentByEmail(ctx, email)
		if err == nil {
			kind := "agent"
			if m.Internal {
				kind = "note"
			}
			return &Author{Kind: kind, AgentID: &a.ID, From: a.Email}, nil
		}
		if !errors.Is(err, store.ErrNotFound) {
			return nil, err
		}
	}
	isCustomer := p.ExternalID != "" && p.ExternalID == cust.externalID
	for _, v := range []struct{ kind, value string }{{"email", p.Email}, {"phone", p.Phone}} {
		if strings.TrimSpace(v.value) == "" {
			continue
		}
		if id, err := NormalizeIdentity(v.kind, v.value); err == nil && slices.Contains(cust.identities, id) {
			isCustomer = true
		}
	}
	if isCustomer && !m.Internal && p.Role != "agent" {
		return nil, nil // the customer: From says who
	}
	name := cleanLine(p.Name)
	if utf8.RuneCountInString(name) > 200 {
		return nil, inputErr("name", "name is longer than 200 characters")
	}
	from := name
	switch {
	case email != "" && name != "":
		from = fmt.Sprintf("%s <%s>", name, email)
	case email != "":
		from = email
	case name == "" && p.Phone != "":
		from = cleanLine(p.Phone)
	}
	if from == "" {
		if p.ExternalID != "" {
			return nil, inputErr("external_id", "no agent or customer is known as %q: give the author's email or name", p.ExternalID)
		}
		return nil, inputErr("name", "the author needs an email address or a name")
	}
	kind := "customer"
	switch {
	case m.Internal:
		kind = "note"
	case p.Role == "agent":
		kind = "agent"
	}
	return &Author{Kind: kind, From: from}, nil
}

// earliestImport is as far back as imported dates go.
var earliestImport = time.Date(1990, 1, 1, 0, 0, 0, 0, time.UTC)

func checkImportDate(field string, at time.Time) error {
	if at.IsZero() {
		return inputErr(field, "%s is missing", field)
	}
	if at.Before(earliestImport) || at.After(store.Now().Add(time.Minute)) {
		return inputErr(field, "%s must be between 1990 and now", field)
	}
	return nil
}

func checkExternalID(field, id string, required bool) error {
	switch {
	case id == "" && required:
		return inputErr(field, "%s is missing", field)
	case len(id) > MaxExternalID:
		return inputErr(field, "%s is longer than %d characters", field, MaxExternalID)
	case id != strings.TrimSpace(id) || !utf8.ValidString(id):
		return inputErr(field, "%s has spaces around it or is not UTF-8", field)
	}
	return nil
}

// withFieldPrefix puts an input error's field under prefix
// (messages[2] + created_at); replace, for a list's item, puts prefix in
// its place.
func withFieldPrefix(err error, prefix string, replace bool) error {
	ie, ok := IsInput(err)
	if !ok {
		return err
	}
	out := *ie
	switch {
	case replace || ie.Field == "":
		out.Field = prefix
	default:
		out.Field = prefix + "." + ie.Field
	}
	return &out
}

func nonEmpty(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return []string{v}
}
