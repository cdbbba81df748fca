package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Customer is one person, however many channels they write from.
type Customer struct {
	ID         int64      `json:"id"`
	Name       string     `json:"name"`
	Identities []Identity `json:"identities"`
	Notes      string     `json:"notes"` // what agents keep about the customer
	// Language is the language the customer reads, as their channels last
	// told ("" when none did): what satisfaction questions go out in.
	Language   string    `json:"language"`
	MergedInto *int64    `json:"merged_into,omitempty"`
	CreatedAt  time.Time `json:"created_at"`
}

// Identity is an address or handle that belongs to a customer; Value is
// normalized for its kind.
type Identity struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

// IdentityKinds are the kinds of identifier a customer can have.
var IdentityKinds = []string{"email", "phone", "telegram", "whatsapp", "instagram", "messenger", "visitor"}

// CustomerByIdentity returns the id of the customer owning the identity,
// or ErrNotFound.
func (tx *Tx) CustomerByIdentity(ctx context.Context, id Identity) (int64, error) {
	var cid int64
	err := tx.q.QueryRowContext(ctx, "SELECT customer_id FROM identities WHERE kind = ? AND value = ?",
		id.Kind, id.Value).Scan(&cid)
	return cid, notFound(err, id.Kind+" "+id.Value)
}

// InsertCustomer creates a customer with the given identities.
func (tx *Tx) InsertCustomer(ctx context.Context, c *Customer) error {
	now := ms(c.CreatedAt)
	res, err := tx.q.insert(ctx, "INSERT INTO customers (name, created_at, updated_at) VALUES (?, ?, ?)",
		c.Name, now, now)
	if err != nil {
		return fmt.Errorf("insert customer: %w", err)
	}
	if c.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	for _, id := range c.Identities {
		if err := tx.AddIdentity(ctx, c.ID, id); err != nil {
			return err
		}
	}
	return nil
}

// AddIdentity links an identity to a customer; ErrConflict if another
// customer owns it.
func (tx *Tx) AddIdentity(ctx context.Context, customerID int64, id Identity) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO identities (customer_id, kind, value, base, created_at) VALUES (?, ?, ?, ?, ?)",
		customerID, id.Kind, id.Value, EmailBase(id), ms(Now()))
	if isUnique(err) {
		return fmt.Errorf("%s %s: %w", id.Kind, id.Value, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("add %s identity: %w", id.Kind, err)
	}
	return nil
}

// SetCustomerName sets the name of a customer who has none yet.
func (tx *Tx) SetCustomerName(ctx context.Context, customerID int64, name string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE customers SET name = ?, updated_at = ? WHERE id = ? AND name = ''",
		name, ms(Now()), customerID)
	return err
}

// SetCustomerLanguage records the language a customer reads (the latest
// a channel told wins); lang is a language onedesk speaks.
func (tx *Tx) SetCustomerLanguage(ctx context.Context, customerID int64, lang string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE customers SET language = ? WHERE id = ? AND language <> ?", lang, customerID, lang)
	if err != nil {
		return fmt.Errorf("set the language of customer %d: %w", customerID, err)
	}
	return nil
}

func getCustomer(ctx context.Context, q querier, id int64) (*Customer, error) {
	var c Customer
	var merged sql.NullInt64
	var created int64
	err := q.QueryRowContext(ctx, "SELECT id, name, notes, language, merged_into, created_at FROM customers WHERE id = ?", id).
		Scan(&c.ID, &c.Name, &c.Notes, &c.Language, &merged, &created)
	if err != nil {
		return nil, notFoundID(err, "customer", id)
	}
	c.MergedInto, c.CreatedAt = fromNullID(merged), fromMS(created)
	list := []Customer{c}
	if err := loadIdentities(ctx, q, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// Customer reads one customer with identities.
func (db *DB) Customer(ctx context.Context, id int64) (*Customer, error) {
	return getCustomer(ctx, db.rq, id)
}

// Customer reads one customer inside the transaction.
func (tx *Tx) Customer(ctx context.Context, id int64) (*Customer, error) {
	return getCustomer(ctx, tx.q, id)
}

func loadIdentities(ctx context.Context, q querier, list []Customer) error {
	if len(list) == 0 {
		return nil
	}
	index := map[int64]int{}
	ids := make([]string, len(list))
	for i := range list {
		index[list[i].ID] = i
		ids[i] = strconv.FormatInt(list[i].ID, 10)
		list[i].Identities = []Identity{}
	}
	rows, err := q.QueryContext(ctx, "SELECT customer_id, kind, value FROM identities WHERE customer_id IN ("+
		strings.Join(ids, ",")+") ORDER BY id")
	if err != nil {
		return fmt.Errorf("identities: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var cid int64
		var id Identity
		if err := rows.Scan(&cid, &id.Kind, &id.Value); err != nil {
			return fmt.Errorf("identities: %w", err)
		}
		c := &list[index[cid]]
		c.Identities = append(c.Identities, id)
	}
	return rows.Err()
}

// EmailBase is an email address without its +tag (anna+shop@x.com ->
// anna@x.com), or "" when that is the address itself or id is no email.
func EmailBase(id Identity) string {
	if id.Kind != "email" {
		return ""
	}
	at := strings.LastIndexByte(id.Value, '@')
	plus := strings.IndexByte(id.Value, '+')
	if plus <= 0 || at < plus {
		return ""
	}
	return id.Value[:plus] + id.Value[at:]
}

// CustomerSearch is what the customers page looks for: words (prefixes
// of names, addresses, handles and phone digits), exact identifiers
// (each also matched without or with a +tag), and ticket search terms
// (an order number) whose tickets' customers are wanted.
type CustomerSearch struct {
	Words      string
	Identities []Identity
	Tickets    string // an FTS query over tickets, "" for none
	Before     int64  // customer id cursor: only older customers
	Limit      int
	// Stores limits the customers to those with a ticket in one of an
	// agent's stores (empty: all customers).
	Stores []int64
}

// customerInStores is the condition that customer c has a ticket in one
// of stores, read off the tickets_customer index.
func customerInStores(c string, stores []int64) (string, []any) {
	in, args := inStores("t.store_id", stores)
	return "EXISTS (SELECT 1 FROM tickets t WHERE t.customer_id = " + c + " AND " + in + ")", args
}

// CustomerVisible tells whether a customer has a ticket in one of stores
// (always true for no stores: an agent of every store).
func (db *DB) CustomerVisible(ctx context.Context, customerID int64, stores []int64) (bool, error) {
	if len(stores) == 0 {
		return true, nil
	}
	cond, args := customerInStores("?", stores)
	var one int
	err := db.rq.QueryRowContext(ctx, "SELECT 1 WHERE "+cond, append([]any{customerID}, args...)...).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("customer %d in stores: %w", customerID, err)
	}
	return true, nil
}

// SearchCustomers lists customers not merged away, newest first. Each
// way of matching is a bounded index read (the FTS index by rowid, the
// identity and base indexes, the ticket search index), so a word found
// in half the customers costs no more than a rare one.
func (db *DB) SearchCustomers(ctx context.Context, s CustomerSearch) ([]Customer, error) {
	if s.Limit <= 0 || s.Limit > 200 {
		s.Limit = 50
	}
	before := s.Before
	if before <= 0 {
		before = 1<<63 - 1
	}
	// An agent limited to some stores sees a share of the matches: each
	// way of matching reads a wider window for them.
	window := s.Limit
	if len(s.Stores) > 0 {
		window = s.Limit * 10
	}
	var parts []string
	var args []any
	if len(s.Stores) > 0 && s.Words == "" && len(s.Identities) == 0 && s.Tickets == "" {
		// Newest customers first, each checked for a ticket in the stores.
		parts = append(parts, "SELECT id FROM customers WHERE merged_into IS NULL AND id < ?")
		args = append(args, before)
	} else if s.Words == "" && len(s.Identities) == 0 && s.Tickets == "" {
		parts = append(parts, "SELECT id FROM customers WHERE merged_into IS NULL AND id < ? ORDER BY id DESC LIMIT ?")
		args = append(args, before, s.Limit)
	}
	if s.Words != "" && db.postgres {
		words, err := db.pgCustomerWords(ctx, s.Words)
		if err != nil {
			return nil, err
		}
		if words == "" { // only punctuation: nothing matches
			parts = append(parts, "SELECT customer_id FROM customer_search WHERE false")
		} else {
			parts = append(parts, "SELECT customer_id FROM customer_search WHERE words @@ "+words+" AND customer_id < ? ORDER BY customer_id DESC LIMIT ?")
			args = append(args, before, window)
		}
	} else if s.Words != "" {
		parts = append(parts, "SELECT rowid FROM customer_search WHERE customer_search MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?")
		args = append(args, s.Words, before, window)
	}
	for _, id := range s.Identities {
		parts = append(parts, "SELECT customer_id FROM identities WHERE kind = ? AND value = ?")
		args = append(args, id.Kind, id.Value)
		if id.Kind == "email" {
			// anna@x.com finds anna+shop@x.com, and the other way round.
			base := EmailBase(id)
			if base == "" {
				base = id.Value
			} else {
				parts = append(parts, "SELECT customer_id FROM identities WHERE kind = 'email' AND value = ?")
				args = append(args, base)
			}
			parts = append(parts, "SELECT customer_id FROM identities WHERE base = ? AND base <> '' LIMIT 200")
			args = append(args, base)
		}
	}
	if s.Tickets != "" {
		if db.SearchReady() {
			ticketCustomers := db.ticketCustomers
			if db.postgres {
				ticketCustomers = db.pgTicketCustomers
			}
			ids, err := ticketCustomers(ctx, s.Tickets, before, window)
			if err != nil {
				return nil, err
			}
			parts = append(parts, "SELECT "+jsonInt(db.postgres, "value")+" FROM "+jsonEach(db.postgres, "?"))
			args = append(args, ids)
		} else { // the older index, while ticket_search is being built
			parts = append(parts, `SELECT t.customer_id FROM messages m JOIN tickets t ON t.id = m.ticket_id
				WHERE m.id IN (SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT 200)`)
			args = append(args, s.Tickets)
		}
	}
	for i, p := range parts {
		parts[i] = "SELECT * FROM (" + p + ") s"
	}
	// Customers merged away are left out of the index, but an identity or
	// a ticket always names the customer who has it now.
	query := `SELECT id, name, notes, created_at FROM customers WHERE merged_into IS NULL AND id < ? AND id IN (` +
		strings.Join(parts, " UNION ") + ")"
	if len(s.Stores) > 0 {
		cond, sargs := customerInStores("customers.id", s.Stores)
		query, args = query+" AND "+cond, append(args, sargs...)
	}
	query += " ORDER BY id DESC LIMIT ?"
	args = append([]any{before}, append(args, s.Limit)...)
	rows, err := db.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search customers: %w", err)
	}
	defer rows.Close()
	list := []Customer{}
	for rows.Next() {
		var c Customer
		var created int64
		if err := rows.Scan(&c.ID, &c.Name, &c.Notes, &created); err != nil {
			return nil, fmt.Errorf("search customers: %w", err)
		}
		c.CreatedAt = fromMS(created)
		list = append(list, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, loadIdentities(ctx, db.rq, list)
}

// ticketCustomers lists, as JSON, the customers (with ids below before)
// of the tickets matching an FTS query, newest ticket first, until limit
// customers are found: distinct tickets are read a page at a time (a
// ticket has a row per message, and a customer many tickets), up to
// ticketCustomersMax tickets.
func (db *DB) ticketCustomers(ctx context.Context, match string, before int64, limit int) (string, error) {
	const page = 200
	seen := map[int64]bool{}
	ids := []int64{}
	var after int64
	for read := 0; read < ticketCustomersMax; read += page {
		hits, _, err := db.searchTickets(ctx, searchPlan{match: match}, after, false, searchFilter{}, page)
		if err != nil {
			return "", fmt.Errorf("search customers: %w", err)
		}
		if len(hits) == 0 {
			break
		}
		tickets := make([]string, min(len(hits), page))
		for i := range tickets {
			tickets[i] = strconv.FormatInt(hits[i].ticket, 10)
		}
		rows, err := db.rq.QueryContext(ctx, "SELECT DISTINCT customer_id FROM tickets WHERE id IN ("+strings.Join(tickets, ",")+") AND customer_id < ?", before)
		if err != nil {
			return "", fmt.Errorf("search customers: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return "", fmt.Errorf("search customers: %w", err)
			}
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return "", fmt.Errorf("search customers: %w", err)
		}
		if len(ids) >= limit || len(hits) <= page {
			break
		}
		after = hits[page-1].ticket
	}
	out, err := json.Marshal(ids)
	return string(out), err
}

// ticketCustomersMax bounds how many matching tickets a customer search
// reads for their customers.
const ticketCustomersMax = 2000

// UpdateCustomer sets a customer's name and notes.
func (tx *Tx) UpdateCustomer(ctx context.Context, c *Customer) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE customers SET name = ?, notes = ?, updated_at = ? WHERE id = ?",
		c.Name, c.Notes, ms(Now()), c.ID)
	if err != nil {
		return fmt.Errorf("update customer %d: %w", c.ID, err)
	}
	return nil
}

// CustomerEvent is something that happened to a customer as a whole.
type CustomerEvent struct {
	ID         int64             `json:"id"`
	CustomerID int64             `json:"customer_id"`
	Type       CustomerEventType `json:"type"`
	Actor      string            `json:"actor"`
	Data       json.RawMessage   `json:"data"`
	CreatedAt  time.Time         `json:"created_at"`
}

// InsertCustomerEvent appends an event to a customer's record.
func (tx *Tx) InsertCustomerEvent(ctx context.Context, e *CustomerEvent) error {
	if e.Data == nil {
		e.Data = json.RawMessage("{}")
	}
	res, err := tx.q.insert(ctx, "INSERT INTO customer_events (customer_id, type, actor, data, created_at) VALUES (?, ?, ?, ?, ?)",
		e.CustomerID, e.Type, e.Actor, string(e.Data), ms(e.CreatedAt))
	if err != nil {
		return fmt.Errorf("customer event: %w", err)
	}
	e.ID, err = res.LastInsertId()
	return err
}

// CustomerEvents lists a customer's events, oldest first.
func (db *DB) CustomerEvents(ctx context.Context, customerID int64) ([]CustomerEvent, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT id, customer_id, type, actor, data, created_at FROM customer_events WHERE customer_id = ? ORDER BY id", customerID)
	if err != nil {
		return nil, fmt.Errorf("events of customer %d: %w", customerID, err)
	}
	defer rows.Close()
	list := []CustomerEvent{}
	for rows.Next() {
		var e CustomerEvent
		var data string
		var created int64
		if err := rows.Scan(&e.ID, &e.CustomerID, &e.Type, &e.Actor, &data, &created); err != nil {
			return nil, err
		}
		e.Data, e.CreatedAt = json.RawMessage(data), fromMS(created)
		list = append(list, e)
	}
	return list, rows.Err()
}

// Merge is what one merge moved from one customer to another.
type Merge struct {
	ID         int64      `json:"id"`
	CustomerID int64      `json:"customer_id"` // kept
	MergedID   int64      `json:"merged_id"`   // merged away
	Identities []Identity `json:"identities"`
	Tickets    []int64    `json:"tickets"`
	UndoneAt   *time.Time `json:"undone_at,omitempty"`
}

// MergeCustomers moves every identity, ticket, participation and claim
// of customer away to keep, marks away as merged into keep (and whoever
// was merged into away before, so that old ids still lead somewhere),
// and records what moved.
func (tx *Tx) MergeCustomers(ctx context.Context, keep, away int64, actor string) (*Merge, error) {
	m := &Merge{CustomerID: keep, MergedID: away, Identities: []Identity{}, Tickets: []int64{}}
	rows, err := tx.q.QueryContext(ctx, "SELECT kind, value FROM identities WHERE customer_id = ? ORDER BY id", away)
	if err != nil {
		return nil, fmt.Errorf("merge: identities of %d: %w", away, err)
	}
	for rows.Next() {
		var id Identity
		if err := rows.Scan(&id.Kind, &id.Value); err != nil {
			rows.Close()
			return nil, err
		}
		m.Identities = append(m.Identities, id)
	}
	rows.Close()
	if m.Tickets, err = queryIDs(ctx, tx.q, "SELECT id FROM tickets WHERE customer_id = ? ORDER BY id", away); err != nil {
		return nil, fmt.Errorf("merge: tickets of %d: %w", away, err)
	}
	for _, q := range []string{
		"UPDATE identities SET customer_id = ?1 WHERE customer_id = ?2",
		"UPDATE tickets SET customer_id = ?1 WHERE customer_id = ?2",
		// Moved unless already there (SQLite's UPDATE OR IGNORE, which PostgreSQL lacks).
		"UPDATE ticket_participants SET customer_id = ?1 WHERE customer_id = ?2 AND ticket_id NOT IN (SELECT ticket_id FROM ticket_participants WHERE customer_id = ?1)",
		"DELETE FROM ticket_participants WHERE customer_id = ?2",
		// A participant who became the ticket's customer is no participant.
		"DELETE FROM ticket_participants WHERE customer_id = ?1 AND ticket_id IN (SELECT id FROM tickets WHERE customer_id = ?1)",
		"DELETE FROM customer_claims WHERE customer_id = ?2 AND (kind, value) IN (SELECT kind, value FROM identities WHERE customer_id = ?1)",
		"DELETE FROM customer_claims WHERE customer_id = ?1 AND (kind, value) IN (SELECT kind, value FROM identities WHERE customer_id = ?1)",
		"UPDATE customer_claims SET customer_id = ?1 WHERE customer_id = ?2 AND (kind, value) NOT IN (SELECT kind, value FROM customer_claims WHERE customer_id = ?1)",
		"DELETE FROM customer_claims WHERE customer_id = ?2",
		"UPDATE customers SET merged_into = ?1 WHERE merged_into = ?2",
		"UPDATE customers SET merged_into = ?1, updated_at = ?3 WHERE id = ?2",
	} {
		q, args := numbered(tx.postgres, q, keep, away, ms(Now()))
		if _, err := tx.q.ExecContext(ctx, q, args...); err != nil {
			return nil, fmt.Errorf("merge customer %d into %d: %w", away, keep, err)
		}
	}
	res, err := tx.q.insert(ctx, `INSERT INTO customer_merges (customer_id, merged_id, identities, tickets, actor, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, keep, away, jsonText(m.Identities, "[]"), jsonText(m.Tickets, "[]"), actor, ms(Now()))
	if err != nil {
		return nil, fmt.Errorf("record merge: %w", err)
	}
	m.ID, err = res.LastInsertId()
	return m, err
}

// MergeOf is the latest merge into customer keep, not undone, that
// brought identity id (ErrNotFound when the identity came otherwise).
func (tx *Tx) MergeOf(ctx context.Context, keep int64, id Identity) (*Merge, error) {
	var m Merge
	var ids, tickets string
	err := tx.q.QueryRowContext(ctx, `SELECT id, customer_id, merged_id, identities, tickets FROM customer_merges
		WHERE customer_id = ? AND undone_at IS NULL AND EXISTS (SELECT 1 FROM `+jsonObjects(tx.postgres, "identities")+`
		WHERE `+jsonGet(tx.postgres, "value", "kind")+` = ? AND `+jsonGet(tx.postgres, "value", "value")+` = ?) ORDER BY id DESC LIMIT 1`,
		keep, id.Kind, id.Value).Scan(&m.ID, &m.CustomerID, &m.MergedID, &ids, &tickets)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("a merge into customer %d that brought %s %s", keep, id.Kind, id.Value))
	}
	if err := jsonUnmarshal(ids, &m.Identities); err != nil {
		return nil, err
	}
	return &m, jsonUnmarshal(tickets, &m.Tickets)
}

// UndoMerge gives the merged-away customer back the identities and the
// tickets the merge moved (those still with the kept customer), and
// makes it a customer of its own again.
func (tx *Tx) UndoMerge(ctx context.Context, m *Merge) error {
	for _, id := range m.Identities {
		if _, err := tx.q.ExecContext(ctx, "UPDATE identities SET customer_id = ? WHERE kind = ? AND value = ? AND customer_id = ?",
			m.MergedID, id.Kind, id.Value, m.CustomerID); err != nil {
			return fmt.Errorf("unmerge %s: %w", id.Value, err)
		}
	}
	if len(m.Tickets) > 0 {
		if _, err := tx.q.ExecContext(ctx, "UPDATE tickets SET customer_id = ? WHERE customer_id = ? AND id IN (SELECT "+jsonInt(tx.postgres, "value")+" FROM "+jsonEach(tx.postgres, "?")+")",
			m.MergedID, m.CustomerID, jsonText(m.Tickets, "[]")); err != nil {
			return fmt.Errorf("unmerge tickets: %w", err)
		}
	}
	now := ms(Now())
	if _, err := tx.q.ExecContext(ctx, "UPDATE customers SET merged_into = NULL, updated_at = ? WHERE id = ?", now, m.MergedID); err != nil {
		return fmt.Errorf("unmerge customer %d: %w", m.MergedID, err)
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE customer_merges SET undone_at = ? WHERE id = ?", now, m.ID)
	return err
}

// AddClaim records that a customer says an identifier another customer
// owns is theirs.
func (tx *Tx) AddClaim(ctx context.Context, customerID int64, id Identity) error {
	_, err := tx.q.ExecContext(ctx, "INSERT INTO customer_claims (customer_id, kind, value, created_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
		customerID, id.Kind, id.Value, ms(Now()))
	if err != nil {
		return fmt.Errorf("claim %s: %w", id.Value, err)
	}
	return nil
}

// Claimed lists the identifiers a customer claimed, oldest first.
func (db *DB) Claimed(ctx context.Context, customerID int64) ([]Identity, error) {
	return claimed(ctx, db.rq, customerID)
}

// Claimed lists the identifiers a customer claimed inside the transaction.
func (tx *Tx) Claimed(ctx context.Context, customerID int64) ([]Identity, error) {
	return claimed(ctx, tx.q, customerID)
}

func claimed(ctx context.Context, q querier, customerID int64) ([]Identity, error) {
	rows, err := q.QueryContext(ctx, "SELECT kind, value FROM customer_claims WHERE customer_id = ? ORDER BY created_at", customerID)
	if err != nil {
		return nil, fmt.Errorf("claims of customer %d: %w", customerID, err)
	}
	defer rows.Close()
	var list []Identity
	for rows.Next() {
		var id Identity
		if err := rows.Scan(&id.Kind, &id.Value); err != nil {
			return nil, err
		}
		list = append(list, id)
	}
	return list, rows.Err()
}

// Suggestion is another customer who may be the same person, and why.
type Suggestion struct {
	CustomerID int64    `json:"customer_id"`
	Name       string   `json:"name"`
	Identity   Identity `json:"identity"` // the identifier in question
	Reason     string   `json:"reason"`   // claimed (one claims the other's identifier) or same_address (+tag)
}

// Suggestions lists customers who may be the same person as customerID:
// one claimed an identifier of the other, or their emails differ only
// in a +tag.
func (db *DB) Suggestions(ctx context.Context, customerID int64) ([]Suggestion, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT s.*, c.name FROM (
		SELECT i.customer_id, i.kind, i.value, 'claimed' FROM customer_claims c
		  JOIN identities i ON i.kind = c.kind AND i.value = c.value
		 WHERE c.customer_id = ?1 AND i.customer_id <> ?1
		UNION
		SELECT c.customer_id, c.kind, c.value, 'claimed' FROM identities i
		  JOIN customer_claims c ON c.kind = i.kind AND c.value = i.value
		 WHERE i.customer_id = ?1 AND c.customer_id <> ?1
		UNION
		SELECT o.customer_id, o.kind, o.value, 'same_address' FROM identities i
		  JOIN identities o ON o.base = i.value AND o.base <> ''
		 WHERE i.customer_id = ?1 AND i.kind = 'email' AND o.customer_id <> ?1
		UNION
		SELECT o.customer_id, o.kind, o.value, 'same_address' FROM identities i
		  JOIN identities o ON o.kind = 'email' AND o.value = i.base
		 WHERE i.customer_id = ?1 AND i.base <> '' AND o.customer_id <> ?1
		UNION
		SELECT o.customer_id, o.kind, o.value, 'same_address' FROM identities i
		  JOIN identities o ON o.base = i.base AND o.base <> ''
		 WHERE i.customer_id = ?1 AND i.base <> '' AND o.customer_id <> ?1
		LIMIT 20) s JOIN customers c ON c.id = s.customer_id`, customerID)
	if err != nil {
		return nil, fmt.Errorf("suggestions for customer %d: %w", customerID, err)
	}
	defer rows.Close()
	list := []Suggestion{}
	for rows.Next() {
		var s Suggestion
		if err := rows.Scan(&s.CustomerID, &s.Identity.Kind, &s.Identity.Value, &s.Reason, &s.Name); err != nil {
			return nil, err
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// ClaimantsOf lists the customers who claimed an identifier.
func (tx *Tx) ClaimantsOf(ctx context.Context, id Identity) ([]int64, error) {
	return queryIDs(ctx, tx.q, "SELECT customer_id FROM customer_claims WHERE kind = ? AND value = ?", id.Kind, id.Value)
}

// DeleteClaim forgets a claim (an agent said the two are not the same).
func (tx *Tx) DeleteClaim(ctx context.Context, customerID int64, id Identity) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM customer_claims WHERE customer_id = ? AND kind = ? AND value = ?", customerID, id.Kind, id.Value)
	return err
}

// TimelineItem is one message of a customer's history with the ticket
// it belongs to.
type TimelineItem struct {
	Message
	Subject string `json:"subject"`
	StoreID *int64 `json:"store_id"`
	Status  string `json:"status"`
}

// CustomerTimeline lists the messages of all of a customer's tickets,
// newest first, before the message id cursor (0: from the newest); with
// stores, only those of tickets in these stores (an agent's).
func (db *DB) CustomerTimeline(ctx context.Context, customerID, before int64, limit int, stores ...int64) ([]TimelineItem, error) {
	if before <= 0 {
		before = 1<<63 - 1
	}
	cond, args := "", []any{customerID, before}
	if len(stores) > 0 {
		in, ids := inStores("t.store_id", stores)
		cond, args = " AND "+in, append(args, ids...)
	}
	rows, err := db.rq.QueryContext(ctx, "SELECT "+prefixed("m.", messageCols)+`, t.subject, t.store_id, t.status
		FROM tickets t JOIN messages m ON m.ticket_id = t.id
		WHERE t.customer_id = ? AND m.id < ?`+cond+` ORDER BY m.id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("timeline of customer %d: %w", customerID, err)
	}
	defer rows.Close()
	list := []TimelineItem{}
	for rows.Next() {
		var it TimelineItem
		var store sql.NullInt64
		m, err := scanMessage(scanFunc(func(dest ...any) error {
			return rows.Scan(append(dest, &it.Subject, &store, &it.Status)...)
		}))
		if err != nil {
			return nil, fmt.Errorf("timeline of customer %d: %w", customerID, err)
		}
		it.Message, it.StoreID = *m, fromNullID(store)
		list = append(list, it)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	msgs := make([]Message, len(list))
	for i := range list {
		msgs[i] = list[i].Message
	}
	if err := attachAttachments(ctx, db.rq, msgs); err != nil {
		return nil, err
	}
	for i := range list {
		list[i].Attachments = msgs[i].Attachments
	}
	return list, nil
}

type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// prefixed qualifies each column of a list (a select or an ORDER BY)
// with a table alias.
func prefixed(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		parts[i] = alias + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}

// queryIDs runs a query of one id column.
func queryIDs(ctx context.Context, q querier, query string, args ...any) ([]int64, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []int64{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		list = append(list, id)
	}
	return list, rows.Err()
}
