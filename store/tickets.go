package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Ticket statuses, priorities and channels the schema accepts.
var (
	Statuses   = []string{"new", "open", "pending", "resolved", "closed"}
	Priorities = []string{"low", "normal", "high", "urgent"}
	Channels   = []string{"email", "chat", "form", "telegram", "whatsapp", "instagram", "messenger", "api", "phone"}
)

// Ticket is one customer request and everything the inbox shows about it.
type Ticket struct {
	ID              int64           `json:"id"`
	Subject         string          `json:"subject"`
	Status          string          `json:"status"`
	Priority        string          `json:"priority"`
	Channel         string          `json:"channel"`
	StoreID         *int64          `json:"store_id"`
	CustomerID      int64           `json:"customer_id"`
	AssigneeID      *int64          `json:"assignee_id"`
	TeamID          *int64          `json:"team_id"`
	Tags            []string        `json:"tags"`
	Fields          json.RawMessage `json:"fields"`
	Snippet         string          `json:"snippet"`
	CustomerName    string          `json:"customer_name"`
	Unread          bool            `json:"unread"`
	CreatedAt       time.Time       `json:"created_at"`
	UpdatedAt       time.Time       `json:"updated_at"`
	FirstResponseAt *time.Time      `json:"first_response_at"`
	ResolvedAt      *time.Time      `json:"resolved_at"`
	LastCustomerAt  *time.Time      `json:"last_customer_at"`
	LastAgentAt     *time.Time      `json:"last_agent_at"`
	SLA             TicketSLA       `json:"sla"`
	// Match is the passage that matched a search, in parts to highlight
	// (absent outside search, and when the subject or customer matched).
	Match []MatchPart `json:"match,omitempty"`

	// saved is columns() as read in a write transaction or last written:
	// UpdateTicket writes only what differs, so a chat message rewrites
	// the index entries of the columns it changed, not all eleven indexes.
	saved []any
}

// StatusAsRead is the status t had when the write transaction read it
// (or last wrote it); "" for a ticket not read in one.
func (t *Ticket) StatusAsRead() string {
	if len(t.saved) < 2 {
		return ""
	}
	s, _ := t.saved[1].(string)
	return s
}

// ticketSetCols are the mutable columns, in the order of columns().
var ticketSetCols = []string{"subject", "status", "priority", "store_id", "customer_id", "assignee_id",
	"team_id", "tags", "fields", "snippet", "updated_at", "first_response_at", "resolved_at",
	"last_customer_at", "last_agent_at", "sla_policy_id", "first_response_due", "resolution_due",
	"sla_paused_at", "sla_paused_ms", "sla_due", "sla_next", "sla_warn", "sla_breached"}

// columns are t's mutable columns as stored, comparable with ==.
func (t *Ticket) columns() []any {
	return []any{t.Subject, t.Status, t.Priority, nullID(t.StoreID), t.CustomerID, nullID(t.AssigneeID),
		nullID(t.TeamID), jsonText(t.Tags, "[]"), fieldsText(t.Fields), t.Snippet, ms(t.UpdatedAt),
		nullMS(t.FirstResponseAt), nullMS(t.ResolvedAt), nullMS(t.LastCustomerAt), nullMS(t.LastAgentAt),
		nullID(t.SLA.PolicyID), nullMS(t.SLA.FirstResponseDue), nullMS(t.SLA.ResolutionDue),
		nullMS(t.SLA.PausedAt), t.SLA.PausedMS, nullMS(t.SLA.Due), nullMS(t.SLA.Next), nullMS(t.SLA.Warn), t.SLA.Breached}
}

const ticketCols = `t.id, t.subject, t.status, t.priority, t.channel, t.store_id, t.customer_id,
	t.assignee_id, t.team_id, t.tags, t.fields, t.snippet, t.created_at, t.updated_at,
	t.first_response_at, t.resolved_at, t.last_customer_at, t.last_agent_at,
	t.sla_policy_id, t.first_response_due, t.resolution_due, t.sla_paused_at, t.sla_paused_ms,
	t.sla_due, t.sla_next, t.sla_warn, t.sla_breached,
	COALESCE((SELECT COALESCE(NULLIF(c.name, ''), (SELECT i.value FROM identities i WHERE i.customer_id = c.id AND i.kind <> 'visitor' ORDER BY i.id LIMIT 1), '')
	          FROM customers c WHERE c.id = t.customer_id), '')`

func scanTicket(row interface{ Scan(...any) error }, extra ...any) (*Ticket, error) {
	var t Ticket
	var store, assignee, team, first, resolved, lastC, lastA sql.NullInt64
	var policy, frDue, resDue, pausedAt, due, next, warn sql.NullInt64
	var tags, fields string
	var created, updated int64
	dest := []any{&t.ID, &t.Subject, &t.Status, &t.Priority, &t.Channel, &store, &t.CustomerID,
		&assignee, &team, &tags, &fields, &t.Snippet, &created, &updated,
		&first, &resolved, &lastC, &lastA,
		&policy, &frDue, &resDue, &pausedAt, &t.SLA.PausedMS, &due, &next, &warn, &t.SLA.Breached, &t.CustomerName}
	if err := row.Scan(append(dest, extra...)...); err != nil {
		return nil, err
	}
	t.StoreID, t.AssigneeID, t.TeamID = fromNullID(store), fromNullID(assignee), fromNullID(team)
	t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated)
	t.FirstResponseAt, t.ResolvedAt = fromNullMS(first), fromNullMS(resolved)
	t.LastCustomerAt, t.LastAgentAt = fromNullMS(lastC), fromNullMS(lastA)
	t.SLA.PolicyID, t.SLA.FirstResponseDue, t.SLA.ResolutionDue = fromNullID(policy), fromNullMS(frDue), fromNullMS(resDue)
	t.SLA.PausedAt, t.SLA.Due, t.SLA.Next, t.SLA.Warn = fromNullMS(pausedAt), fromNullMS(due), fromNullMS(next), fromNullMS(warn)
	if tags == "[]" { // most tickets: no decoding
		t.Tags = []string{}
	} else if err := json.Unmarshal([]byte(tags), &t.Tags); err != nil || t.Tags == nil {
		t.Tags = []string{}
	}
	t.Fields = json.RawMessage(fields)
	return &t, nil
}

func getTicket(ctx context.Context, q querier, id int64) (*Ticket, error) {
	t, err := scanTicket(q.QueryRowContext(ctx, "SELECT "+ticketCols+" FROM tickets t WHERE t.id = ?", id))
	if err != nil {
		return nil, notFoundID(err, "ticket", id)
	}
	return t, nil
}

// Ticket reads one ticket.
func (db *DB) Ticket(ctx context.Context, id int64) (*Ticket, error) {
	return getTicket(ctx, db.rq, id)
}

// Ticket reads one ticket inside the transaction.
func (tx *Tx) Ticket(ctx context.Context, id int64) (*Ticket, error) {
	t, err := getTicket(ctx, tx.q, id)
	if err == nil {
		t.saved = t.columns()
	}
	return t, err
}

func jsonText(v any, empty string) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" {
		return empty
	}
	return string(b)
}

func fieldsText(f json.RawMessage) string {
	if len(f) == 0 || string(f) == "null" {
		return "{}"
	}
	return string(f)
}

// InsertTicket stores a new ticket and sets its ID.
func (tx *Tx) InsertTicket(ctx context.Context, t *Ticket) error {
	res, err := tx.q.insert(ctx, `INSERT INTO tickets (subject, status, priority, channel, store_id,
		customer_id, assignee_id, team_id, tags, fields, snippet, created_at, updated_at,
		first_response_at, resolved_at, last_customer_at, last_agent_at, sla_policy_id,
		first_response_due, resolution_due, sla_paused_at, sla_paused_ms, sla_due, sla_next, sla_warn, sla_breached)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		t.Subject, t.Status, t.Priority, t.Channel, nullID(t.StoreID), t.CustomerID,
		nullID(t.AssigneeID), nullID(t.TeamID), jsonText(t.Tags, "[]"), fieldsText(t.Fields), t.Snippet,
		ms(t.CreatedAt), ms(t.UpdatedAt), nullMS(t.FirstResponseAt), nullMS(t.ResolvedAt),
		nullMS(t.LastCustomerAt), nullMS(t.LastAgentAt), nullID(t.SLA.PolicyID), nullMS(t.SLA.FirstResponseDue),
		nullMS(t.SLA.ResolutionDue), nullMS(t.SLA.PausedAt), t.SLA.PausedMS, nullMS(t.SLA.Due),
		nullMS(t.SLA.Next), nullMS(t.SLA.Warn), t.SLA.Breached)
	if err != nil {
		return fmt.Errorf("insert ticket: %w", err)
	}
	t.ID, err = res.LastInsertId()
	t.saved = t.columns()
	tx.touched.ticket(t.ID)
	return err
}

// UpdateTicket writes the columns of t that changed since the
// transaction read it (every mutable column of a ticket read elsewhere).
func (tx *Tx) UpdateTicket(ctx context.Context, t *Ticket) error {
	cols := t.columns()
	set := make([]string, 0, len(cols))
	args := make([]any, 0, len(cols)+1)
	for i, v := range cols {
		if t.saved != nil && t.saved[i] == v {
			continue
		}
		set = append(set, ticketSetCols[i]+" = ?")
		args = append(args, v)
	}
	if len(set) == 0 {
		return nil
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE tickets SET "+strings.Join(set, ", ")+" WHERE id = ?", append(args, t.ID)...)
	if err != nil {
		return fmt.Errorf("update ticket %d: %w", t.ID, err)
	}
	tx.touched.ticket(t.ID)
	t.saved = cols
	return nil
}

// TicketFilter selects and orders a page of the inbox.
type TicketFilter struct {
	Statuses   []string // any of; empty = all
	AssigneeID *int64
	Unassigned bool
	TeamID     *int64
	NoTeam     bool
	Channel    string
	StoreID    *int64
	// Stores limits the tickets to those of an agent's stores (empty: all
	// stores, and no condition at all, so an unlimited agent's inbox reads
	// exactly as before).
	Stores     []int64
	CustomerID *int64
	Fields     map[string]string // a form field's value, by field name (names checked by the caller)
	Tags       []string          // all of
	Priorities []string          // any of
	SLA        string            // "at_risk" or "breached" as of SLANow
	SLANow     time.Time
	Snoozed    bool   // only the tickets asleep (snoozes)
	Query      string // full-text over subjects and messages
	Sort       string // updated (default), newest, oldest, customer
	Cursor     string // from the previous page's Next
	Limit      int
	ViewerID   int64 // agent whose unread state is reported
}

// Sorts the inbox knows.
var Sorts = []string{"updated", "newest", "oldest", "customer"}

// searchWindow bounds full-text search to the most recent matching
// messages: ranking a word that is in every message takes seconds, while
// the newest matches come straight off the index.
const searchWindow = 2000

type sortSpec struct {
	col  string // "" means id alone
	desc bool
}

var sortSpecs = map[string]sortSpec{
	"updated":  {"updated_at", true},
	"newest":   {"", true},
	"oldest":   {"", false},
	"customer": {"last_customer_at", true},
}

// ListTickets returns one page of tickets and the cursor of the next page
// ("" at the end).
func (db *DB) ListTickets(ctx context.Context, f TicketFilter) ([]Ticket, string, error) {
	if f.Sort == "" {
		f.Sort = "updated"
	}
	spec, ok := sortSpecs[f.Sort]
	if !ok {
		return nil, "", fmt.Errorf("unknown sort %q", f.Sort)
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	// An agent of one store reads that store's view, off its own index;
	// a view of one of the agent's stores needs no more condition.
	if len(f.Stores) == 1 && f.StoreID == nil {
		id := f.Stores[0]
		f.StoreID = &id
	}
	if f.StoreID != nil && slices.Contains(f.Stores, *f.StoreID) {
		f.Stores = nil
	}
	var where []string
	var args []any
	add := func(cond string, a ...any) { where = append(where, cond); args = append(args, a...) }
	switch {
	case f.Unassigned:
		add("t.assignee_id IS NULL")
	case f.AssigneeID != nil:
		add("t.assignee_id = ?", *f.AssigneeID)
	}
	switch {
	case f.NoTeam:
		add("t.team_id IS NULL")
	case f.TeamID != nil:
		add("t.team_id = ?", *f.TeamID)
	}
	if f.Channel != "" {
		add("t.channel = ?", f.Channel)
	}
	if f.StoreID != nil {
		add("t.store_id = ?", *f.StoreID)
	}
	if len(f.Stores) > 0 {
		in, ids := inStores("t.store_id", f.Stores)
		add(in, ids...)
	}
	if f.CustomerID != nil {
		add("t.customer_id = ?", *f.CustomerID)
	}
	for _, tag := range f.Tags {
		add("EXISTS (SELECT 1 FROM "+jsonEach(db.postgres, "t.tags")+" WHERE value = ?)", tag)
	}
	if len(f.Priorities) > 0 {
		var ps []any
		for _, p := range f.Priorities {
			ps = append(ps, p)
		}
		add("t.priority IN ("+strings.TrimSuffix(strings.Repeat("?,", len(ps)), ",")+")", ps...)
	}
	if f.Snoozed {
		add("EXISTS (SELECT 1 FROM snoozes z WHERE z.ticket_id = t.id)")
	}
	switch f.SLA {
	case "breached":
		add("t.sla_due <= ?", ms(f.SLANow))
	case "at_risk":
		add("t.sla_warn <= ? AND t.sla_due > ?", ms(f.SLANow), ms(f.SLANow))
	}
	for _, name := range slices.Sorted(maps.Keys(f.Fields)) {
		// Numbers compare as written (2.5), true and false as 1 and 0.
		if db.postgres {
			add(pgFieldIs, name, name, name, f.Fields[name])
		} else {
			add("CAST(json_extract(t.fields, ?) AS TEXT) = ?", `$."`+name+`"`, f.Fields[name])
		}
	}
	statuses := f.Statuses
	if len(statuses) == 0 {
		statuses = Statuses
	}
	if strings.TrimSpace(f.Query) != "" && db.postgres {
		return db.pgSearchList(ctx, f, statuses, where, args)
	}
	if strings.TrimSpace(f.Query) != "" && db.SearchReady() {
		return db.searchList(ctx, f, statuses, where, args)
	}
	if f.Cursor != "" {
		cond, cargs, err := cursorCond(spec, f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add(cond, cargs...)
	}
	dir := " ASC"
	if spec.desc {
		dir = " DESC"
	}
	order := "id" + dir
	if spec.col != "" {
		order = spec.col + dir + db.sqliteNulls(spec) + ", id" + dir
	}
	limit := " LIMIT " + strconv.Itoa(f.Limit+1)

	// First the ids of the page, then the columns for those rows only:
	// the customer's name and the unread flag cost a lookup per row.
	var page string
	var pageArgs []any
	if strings.TrimSpace(f.Query) != "" {
		ids, err := db.searchTicketsLegacy(ctx, f.Query)
		if err != nil {
			return nil, "", err
		}
		if len(ids) == 0 {
			return []Ticket{}, "", nil
		}
		// The few matching tickets are read by id; "+" keeps SQLite from
		// walking a status index instead.
		marks := strings.TrimSuffix(strings.Repeat("?,", len(statuses)), ",")
		cond := append([]string{"t.id IN (" + ids + ")", "+t.status IN (" + marks + ")"}, where...)
		page = "SELECT t.id, t.updated_at, t.last_customer_at FROM tickets t WHERE " + strings.Join(cond, " AND ") +
			" ORDER BY " + prefixed("t.", order) + limit
		for _, st := range statuses {
			pageArgs = append(pageArgs, st)
		}
		pageArgs = append(pageArgs, args...)
	} else {
		// One range scan per status, merged: SQLite cannot walk several
		// index ranges in order, and sorting every open ticket is far slower.
		var parts []string
		from := "tickets t"
		if ix := inboxIndex(f, spec); ix != "" {
			from += " INDEXED BY " + ix
		}
		for _, st := range statuses {
			cond := append([]string{"t.status = ?"}, where...)
			parts = append(parts, "SELECT * FROM (SELECT t.id, t.updated_at, t.last_customer_at FROM "+from+" WHERE "+
				strings.Join(cond, " AND ")+" ORDER BY "+prefixed("t.", order)+limit+") s")
			pageArgs = append(pageArgs, st)
			pageArgs = append(pageArgs, args...)
		}
		page = parts[0]
		if len(parts) > 1 {
			page = strings.Join(parts, " UNION ALL ") + " ORDER BY " + order + limit
		}
	}
	list, err := db.readPage(ctx, page, prefixed("t.", order), f.ViewerID, pageArgs)
	if err != nil {
		return nil, "", err
	}
	next := ""
	if len(list) > f.Limit {
		list = list[:f.Limit]
		next = makeCursor(spec, &list[f.Limit-1])
	}
	return list, next, nil
}

// inStores is the condition that col is one of an agent's stores.
func inStores(col string, stores []int64) (string, []any) {
	args := make([]any, len(stores))
	for i, id := range stores {
		args[i] = id
	}
	return col + " IN (" + strings.TrimSuffix(strings.Repeat("?,", len(stores)), ",") + ")", args
}

// readPage reads the tickets whose ids the query page selects, with the
// customer's name and viewer's unread flag.
func (db *DB) readPage(ctx context.Context, page, order string, viewer int64, args []any) ([]Ticket, error) {
	query := "SELECT " + ticketCols + `, t.last_customer_at > COALESCE(
		(SELECT r.read_at FROM ticket_reads r WHERE r.agent_id = ? AND r.ticket_id = t.id), 0)
		FROM (` + page + ") p JOIN tickets t ON t.id = p.id ORDER BY " + order
	rows, err := db.rq.QueryContext(ctx, query, append([]any{viewer}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	defer rows.Close()
	list := []Ticket{}
	for rows.Next() {
		var unread sql.NullBool
		t, err := scanTicket(rows, &unread)
		if err != nil {
			return nil, fmt.Errorf("list tickets: %w", err)
		}
		t.Unread = unread.Bool
		list = append(list, *t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return list, nil
}

// inboxIndex names the index an inbox page must be read from. The plan is
// chosen here rather than by SQLite's statistics, which on a large file
// can be sampled so coarsely that a view turns from a range scan into a
// sort of every open ticket.
func inboxIndex(f TicketFilter, spec sortSpec) string {
	var lead string
	switch {
	case f.CustomerID != nil:
		return "" // a customer has few tickets: any plan is fast
	case f.AssigneeID != nil || f.Unassigned:
		lead = "assignee"
	case f.TeamID != nil || f.NoTeam:
		lead = "team"
	case f.StoreID != nil:
		lead = "store"
	default:
		lead = "status"
	}
	switch spec.col {
	case "updated_at":
		return "tickets_" + lead + "_updated"
	case "":
		return "tickets_" + lead + "_id"
	}
	if lead == "status" {
		return "tickets_status_customer"
	}
	return ""
}

// searchTicketsLegacy returns, as a comma-separated list, the tickets
// whose subject or messages match q among the newest searchWindow
// matching messages of the message index of migration 0001. It answers
// while ticket_search is being built on a desk upgraded from an older
// version (see search.go).
func (db *DB) searchTicketsLegacy(ctx context.Context, q string) (string, error) {
	fts := FTSQuery(q)
	if fts == "" {
		return "", nil // only punctuation: nothing can match
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT DISTINCT m.ticket_id FROM
		(SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT `+strconv.Itoa(searchWindow)+`) s
		JOIN messages m ON m.id = s.rowid`, fts)
	if err != nil {
		return "", fmt.Errorf("search %q: %w", q, err)
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return "", err
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	return b.String(), rows.Err()
}

// A cursor is the sort value and id of the last row shown, so the next page
// starts right after it however many tickets arrive meanwhile.
func makeCursor(spec sortSpec, t *Ticket) string {
	v := ""
	switch spec.col {
	case "updated_at":
		v = strconv.FormatInt(ms(t.UpdatedAt), 10)
	case "last_customer_at":
		if t.LastCustomerAt != nil {
			v = strconv.FormatInt(ms(*t.LastCustomerAt), 10)
		} else {
			v = "null"
		}
	}
	return base64.RawURLEncoding.EncodeToString([]byte(v + ":" + strconv.FormatInt(t.ID, 10)))
}

// ErrBadCursor is returned for a cursor this store did not make.
var ErrBadCursor = fmt.Errorf("the cursor is not valid for this list")

func cursorCond(spec sortSpec, cursor string) (string, []any, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return "", nil, ErrBadCursor
	}
	vs, ids, ok := strings.Cut(string(raw), ":")
	id, err := strconv.ParseInt(ids, 10, 64)
	if !ok || err != nil {
		return "", nil, ErrBadCursor
	}
	cmp := "<"
	if !spec.desc {
		cmp = ">"
	}
	if spec.col == "" {
		return "t.id " + cmp + " ?", []any{id}, nil
	}
	col := "t." + spec.col
	if vs == "null" { // only last_customer_at can be null; nulls sort last
		return "(" + col + " IS NULL AND t.id " + cmp + " ?)", []any{id}, nil
	}
	v, err := strconv.ParseInt(vs, 10, 64)
	if err != nil {
		return "", nil, ErrBadCursor
	}
	if spec.col == "updated_at" {
		// A row value lets SQLite seek straight to the cursor in the index.
		return "(" + col + ", t.id) " + cmp + " (?, ?)", []any{v, id}, nil
	}
	return "(" + col + " " + cmp + " ? OR (" + col + " = ? AND t.id " + cmp + " ?) OR " + col + " IS NULL)", []any{v, v, id}, nil
}

// MarkRead records that agent looked at ticket now.
func (db *DB) MarkRead(ctx context.Context, agentID, ticketID int64) error {
	_, err := db.exec(ctx, `INSERT INTO ticket_reads (agent_id, ticket_id, read_at) VALUES (?, ?, ?)
		ON CONFLICT (agent_id, ticket_id) DO UPDATE SET read_at = excluded.read_at`, agentID, ticketID, ms(Now()))
	if err != nil {
		return fmt.Errorf("mark ticket %d read: %w", ticketID, err)
	}
	return nil
}

// MergeTicket moves every message of ticket from onto ticket into and
// marks from as merged into it; answers to from's messages then thread
// into the other ticket.
func (tx *Tx) MergeTicket(ctx context.Context, from, into int64) error {
	if _, err := tx.q.ExecContext(ctx, "UPDATE messages SET ticket_id = ? WHERE ticket_id = ?", into, from); err != nil {
		return fmt.Errorf("move messages of ticket %d: %w", from, err)
	}
	if _, err := tx.q.ExecContext(ctx, "UPDATE tickets SET merged_into = ? WHERE id = ?", into, from); err != nil {
		return fmt.Errorf("merge ticket %d: %w", from, err)
	}
	tx.touched.ticket(from)
	tx.touched.ticket(into)
	return nil
}

// TicketMergedInto is the ticket a ticket was merged into (0: none).
func (tx *Tx) TicketMergedInto(ctx context.Context, id int64) (int64, error) {
	var into sql.NullInt64
	err := tx.q.QueryRowContext(ctx, "SELECT merged_into FROM tickets WHERE id = ?", id).Scan(&into)
	return into.Int64, notFoundID(err, "ticket", id)
}

// RecentTicketsOfCustomer lists the customer's tickets changed since
// since (newest first, at most limit) that are not closed: the tickets a
// reply without references may belong to.
func (tx *Tx) RecentTicketsOfCustomer(ctx context.Context, customerID int64, since time.Time, limit int) ([]*Ticket, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+ticketCols+` FROM tickets t
		WHERE t.customer_id = ? AND t.updated_at >= ? AND t.status <> 'closed'
		ORDER BY t.updated_at DESC LIMIT ?`, customerID, ms(since), limit)
	if err != nil {
		return nil, fmt.Errorf("recent tickets of customer %d: %w", customerID, err)
	}
	defer rows.Close()
	var list []*Ticket
	for rows.Next() {
		t, err := scanTicket(rows)
		if err != nil {
			return nil, fmt.Errorf("recent tickets of customer %d: %w", customerID, err)
		}
		list = append(list, t)
	}
	return list, rows.Err()
}
