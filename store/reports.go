package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// What the reports read (migrations 0013, 0016, 0018): report_tickets,
// one row per ticket, and report_quarters, counts per quarter hour.
// reports.Refresh keeps them from the messages and events; these are
// its reads and writes.

// ReportEvent is a ticket event as the reports read it.
type ReportEvent struct {
	ID        int64
	TicketID  int64
	Type      EventType
	Data      string
	CreatedAt time.Time
}

// ReportMessage is a message as the reports read it.
type ReportMessage struct {
	ID        int64
	TicketID  int64
	Kind      string
	AuthorID  int64 // 0 for none
	Auto      string
	CreatedAt time.Time
}

// ReportTicket is a row of report_tickets. Durations are seconds.
type ReportTicket struct {
	TicketID         int64
	CreatedAt        time.Time
	Status, Channel  string
	StoreID, TeamID  int64 // 0 for none
	AgentID          int64
	Tags             []string
	FirstResponse    *int64
	FirstResponseBH  *int64
	ResolvedAt       *time.Time
	Resolution       *int64
	ResolutionBH     *int64
	Replies, Reopens int
	SLAFirstResponse *bool // nil: no target, or not known yet
	SLAResolution    *bool
}

// ReportKey says which row of report_quarters counts a thing.
type ReportKey struct {
	Tag     string
	Quarter int64 // QuarterOf the time
	StoreID int64
	Channel string
	TeamID  int64
	AgentID int64
}

// ReportCounts are the counts of report_quarters.
type ReportCounts struct {
	Created, Resolved, Reopened, MessagesIn, MessagesOut, Breaches int64
}

// Add adds o to c.
func (c *ReportCounts) Add(o ReportCounts) {
	c.Created += o.Created
	c.Resolved += o.Resolved
	c.Reopened += o.Reopened
	c.MessagesIn += o.MessagesIn
	c.MessagesOut += o.MessagesOut
	c.Breaches += o.Breaches
}

const (
	reportEventsKey   = "report_events"
	reportMessagesKey = "report_messages"
)

// ReportCursors are the last event and message ids the reports counted.
func (tx *Tx) ReportCursors(ctx context.Context) (events, messages int64, err error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT key, value FROM settings WHERE key IN (?, ?)`, reportEventsKey, reportMessagesKey)
	if err != nil {
		return 0, 0, fmt.Errorf("report cursors: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			return 0, 0, err
		}
		n, _ := strconv.ParseInt(v, 10, 64)
		if k == reportEventsKey {
			events = n
		} else {
			messages = n
		}
	}
	return events, messages, rows.Err()
}

// SetReportCursors moves the cursors.
func (tx *Tx) SetReportCursors(ctx context.Context, events, messages int64) error {
	for k, v := range map[string]int64{reportEventsKey: events, reportMessagesKey: messages} {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, k, strconv.FormatInt(v, 10)); err != nil {
			return fmt.Errorf("report cursor %s: %w", k, err)
		}
	}
	return nil
}

// ReportBehind says how many events and messages the reports have not
// counted yet.
func (db *DB) ReportBehind(ctx context.Context) (int64, error) {
	var n int64
	err := db.rq.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM ticket_events WHERE id > coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?), 0)) +
		(SELECT count(*) FROM messages WHERE id > coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?), 0))`,
		reportEventsKey, reportMessagesKey).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("reports behind: %w", err)
	}
	return n, nil
}

// ReportLeft estimates what the reports have left to do: events and
// messages past their cursors (from the newest ids, quick at any size,
// high when rows were deleted) and tickets whose report rows are to be
// written again.
func (db *DB) ReportLeft(ctx context.Context) (int64, error) {
	var events, eventsAt, msgs, msgsAt, dirty int64
	err := db.rq.QueryRowContext(ctx, `SELECT
		(SELECT coalesce(max(id), 0) FROM ticket_events), coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?), 0),
		(SELECT coalesce(max(id), 0) FROM messages), coalesce((SELECT CAST(value AS INTEGER) FROM settings WHERE key = ?), 0),
		(SELECT count(*) FROM report_dirty)`,
		reportEventsKey, reportMessagesKey).Scan(&events, &eventsAt, &msgs, &msgsAt, &dirty)
	if err != nil {
		return 0, fmt.Errorf("reports left: %w", err)
	}
	return max(events-eventsAt, 0) + max(msgs-msgsAt, 0) + dirty, nil
}

// EventsAfter reads up to limit events past id, in order.
func (tx *Tx) EventsAfter(ctx context.Context, id int64, limit int) ([]ReportEvent, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, ticket_id, type, data, created_at FROM ticket_events
		WHERE id > ? ORDER BY id LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", id, err)
	}
	return scanReportEvents(rows)
}

// MessagesAfter reads up to limit messages past id, in order.
func (tx *Tx) MessagesAfter(ctx context.Context, id int64, limit int) ([]ReportMessage, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, ticket_id, kind, coalesce(author_id, 0), auto, created_at FROM messages
		WHERE id > ? ORDER BY id LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("messages after %d: %w", id, err)
	}
	return scanReportMessages(rows)
}

// ReportHistory reads what a ticket's report row is worked out from: its
// replies (not notes) and the events that count.
func (tx *Tx) ReportHistory(ctx context.Context, ticketID int64) ([]ReportMessage, []ReportEvent, error) {
	rows, err := tx.q.QueryContext(ctx, `SELECT id, ticket_id, kind, coalesce(author_id, 0), auto, created_at FROM messages
		WHERE ticket_id = ? AND kind = 'agent' ORDER BY id`, ticketID)
	if err != nil {
		return nil, nil, fmt.Errorf("report history of %d: %w", ticketID, err)
	}
	msgs, err := scanReportMessages(rows)
	if err != nil {
		return nil, nil, err
	}
	// An imported resolution is not an agent's: without it the ticket's
	// resolved_at (its last message) says when it was resolved.
	rows, err = tx.q.QueryContext(ctx, `SELECT id, ticket_id, type, data, created_at FROM ticket_events
		WHERE ticket_id = ? AND type IN (?, ?, ?, ?) AND (historic = 0 OR type = ?) ORDER BY id`,
		ticketID, EventStatusChanged, EventRuleApplied, EventSLABreached, EventCreated, EventCreated)
	if err != nil {
		return nil, nil, fmt.Errorf("report history of %d: %w", ticketID, err)
	}
	evs, err := scanReportEvents(rows)
	return msgs, evs, err
}

func scanReportEvents(rows *sql.Rows) ([]ReportEvent, error) {
	defer rows.Close()
	var out []ReportEvent
	for rows.Next() {
		var e ReportEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.TicketID, &e.Type, &e.Data, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

func scanReportMessages(rows *sql.Rows) ([]ReportMessage, error) {
	defer rows.Close()
	var out []ReportMessage
	for rows.Next() {
		var m ReportMessage
		var at int64
		if err := rows.Scan(&m.ID, &m.TicketID, &m.Kind, &m.AuthorID, &m.Auto, &at); err != nil {
			return nil, err
		}
		m.CreatedAt = fromMS(at)
		out = append(out, m)
	}
	return out, rows.Err()
}

// PutReportTicket writes a ticket's report row, and notes the packs of
// its days before and after as changed.
func (tx *Tx) PutReportTicket(ctx context.Context, r *ReportTicket) error {
	if err := tx.forgetReportTicket(ctx, r.TicketID); err != nil {
		return err
	}
	var resolved any
	if r.ResolvedAt != nil {
		resolved = ms(*r.ResolvedAt)
	}
	_, err := tx.q.ExecContext(ctx, `INSERT INTO report_tickets (ticket_id, created_at, status, channel,
		store_id, team_id, agent_id, tags, first_response_s, first_response_bh_s, resolved_at, resolution_s,
		resolution_bh_s, replies, reopens, sla_first_response, sla_resolution)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.TicketID, ms(r.CreatedAt), r.Status, r.Channel, r.StoreID, r.TeamID, r.AgentID, jsonText(r.Tags, "[]"),
		r.FirstResponse, r.FirstResponseBH, resolved, r.Resolution, r.ResolutionBH, r.Replies, r.Reopens,
		r.SLAFirstResponse, r.SLAResolution)
	if err != nil {
		return fmt.Errorf("report row of ticket %d: %w", r.TicketID, err)
	}
	for _, tag := range r.Tags {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_ticket_tags (tag, ticket_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, tag, r.TicketID); err != nil {
			return fmt.Errorf("report row of ticket %d: %w", r.TicketID, err)
		}
	}
	return tx.markPacks(ctx, r.CreatedAt, r.ResolvedAt)
}

// forgetReportTicket drops a ticket's report row and tags, noting the
// packs it was in as changed.
func (tx *Tx) forgetReportTicket(ctx context.Context, id int64) error {
	var created int64
	var resolved sql.NullInt64
	var tags string
	err := tx.q.QueryRowContext(ctx, `DELETE FROM report_tickets WHERE ticket_id = ? RETURNING created_at, resolved_at, tags`,
		id).Scan(&created, &resolved, &tags)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("report row of ticket %d: %w", id, err)
	}
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM report_ticket_tags WHERE tag IN (SELECT value FROM `+jsonEach(tx.postgres, "?")+`) AND ticket_id = ?`,
		tags, id); err != nil {
		return fmt.Errorf("report row of ticket %d: %w", id, err)
	}
	var at *time.Time
	if resolved.Valid {
		t := fromMS(resolved.Int64)
		at = &t
	}
	return tx.markPacks(ctx, fromMS(created), at)
}

// MarkReportDirty notes tickets whose report rows are to be written again.
func (tx *Tx) MarkReportDirty(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	// One statement for them all: a round trip each on PostgreSQL cost
	// seconds when counting a large desk's history. (WHERE true: SQLite
	// would read ON CONFLICT as a join's.)
	list, err := json.Marshal(ids)
	if err != nil {
		return fmt.Errorf("report dirty: %w", err)
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_dirty (ticket_id) SELECT `+jsonInt(tx.postgres, "value")+`
		FROM `+jsonEach(tx.postgres, "?")+` WHERE true ON CONFLICT DO NOTHING`, string(list)); err != nil {
		return fmt.Errorf("report dirty: %w", err)
	}
	return nil
}

// TakeReportDirty takes up to limit noted tickets off the list.
func (tx *Tx) TakeReportDirty(ctx context.Context, limit int) ([]int64, error) {
	ids, err := queryIDs(ctx, tx.q, `DELETE FROM report_dirty WHERE ticket_id IN
		(SELECT ticket_id FROM report_dirty ORDER BY ticket_id LIMIT ?) RETURNING ticket_id`, limit)
	if err != nil {
		return nil, fmt.Errorf("report dirty: %w", err)
	}
	return ids, nil
}

// DeleteReportTicket drops a ticket's report row (the ticket is gone).
func (tx *Tx) DeleteReportTicket(ctx context.Context, id int64) error {
	return tx.forgetReportTicket(ctx, id)
}

// reportDims are the keys of report_quarters that the roll-ups sum by, as
// the roll-ups name them.
var reportDims = []string{"store", "channel", "team", "agent"}

// dim is the value of one of a key's dimensions.
func (k ReportKey) dim(name string) any {
	switch name {
	case "store":
		return k.StoreID
	case "channel":
		return k.Channel
	case "team":
		return k.TeamID
	case "agent":
		return k.AgentID
	}
	return ""
}

type rollKey struct {
	dim   string
	value any
	at    int64 // the quarter
}

type dayRollKey struct {
	fdim   string
	fvalue any
	dim    string
	value  any
	day    int64
}

// addCounts adds c to m's counts of k.
func addCounts[K comparable](m map[K]*ReportCounts, k K, c *ReportCounts) {
	if m[k] == nil {
		m[k] = &ReportCounts{}
	}
	m[k].Add(*c)
}

// floorDiv is a / b rounded down (quarters and days before 1970 too).
func floorDiv(a, b int64) int64 { return (a - ((a%b)+b)%b) / b }

// QuarterOf is the quarter hour t falls in (unix seconds / 900, rounded
// down): the unit reports count in, since every time zone's offset from
// UTC is whole quarter hours.
func QuarterOf(t time.Time) int64 { return floorDiv(t.Unix(), 900) }

// QuartersPerDay is how many quarter hours a UTC day has.
const QuartersPerDay = 96

// reportCountColumns are the counts every report table adds up.
var reportCountColumns = []string{"created", "resolved", "reopened", "messages_in", "messages_out", "breaches"}

// reportUpsert is the ON CONFLICT clause that adds a row's counts to the
// existing ones: the conflict's key, which PostgreSQL needs named, and
// the existing counts by their table's name, which it needs to tell them
// apart.
func reportUpsert(table, key string) string {
	var b strings.Builder
	b.WriteString(" ON CONFLICT (" + key + ") DO UPDATE SET ")
	for i, c := range reportCountColumns {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c + " = " + table + "." + c + " + excluded." + c)
	}
	return b.String()
}

// rollUp is counts summed into the roll-ups: per quarter by one key, and
// per UTC day by one key within one filter.
func rollUp(counts map[ReportKey]*ReportCounts) (map[rollKey]*ReportCounts, map[dayRollKey]*ReportCounts) {
	quarters := map[rollKey]*ReportCounts{}
	days := map[dayRollKey]*ReportCounts{}
	for k, c := range counts {
		if k.Tag != "" {
			continue // a tag's rows are few: reports with a tag read report_quarters
		}
		day := floorDiv(k.Quarter, QuartersPerDay)
		addCounts(quarters, rollKey{"", "", k.Quarter}, c)
		for _, d := range reportDims {
			addCounts(quarters, rollKey{d, k.dim(d), k.Quarter}, c)
			addCounts(days, dayRollKey{"", "", d, k.dim(d), day}, c)
			for _, fd := range reportDims {
				if fd != d {
					addCounts(days, dayRollKey{fd, k.dim(fd), d, k.dim(d), day}, c)
				}
			}
		}
	}
	return quarters, days
}

// AddReportCounts adds counts to report_quarters and its roll-ups: per
// quarter by one key, and per UTC day by one key within one filter.
func (tx *Tx) AddReportCounts(ctx context.Context, counts map[ReportKey]*ReportCounts) error {
	quarters, days := rollUp(counts)
	if tx.postgres {
		return tx.pgAddReportCounts(ctx, counts, quarters, days)
	}
	// SQLite is in process: a statement per row costs no round trip.
	for k, c := range counts {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_quarters (tag, quarter, store_id, channel, team_id, agent_id,
			created, resolved, reopened, messages_in, messages_out, breaches) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+reportUpsert("report_quarters", "tag, quarter, store_id, channel, team_id, agent_id"),
			k.Tag, k.Quarter, k.StoreID, k.Channel, k.TeamID, k.AgentID,
			c.Created, c.Resolved, c.Reopened, c.MessagesIn, c.MessagesOut, c.Breaches); err != nil {
			return fmt.Errorf("report quarters: %w", err)
		}
	}
	for k, c := range quarters {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_quarters_by (dim, value, quarter,
			created, resolved, reopened, messages_in, messages_out, breaches) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`+reportUpsert("report_quarters_by", "dim, value, quarter"),
			k.dim, k.value, k.at, c.Created, c.Resolved, c.Reopened, c.MessagesIn, c.MessagesOut, c.Breaches); err != nil {
			return fmt.Errorf("report quarters: %w", err)
		}
	}
	for k, c := range days {
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_days_by (fdim, fvalue, dim, value, day,
			created, resolved, reopened, messages_in, messages_out, breaches) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`+reportUpsert("report_days_by", "fdim, fvalue, dim, value, day"),
			k.fdim, k.fvalue, k.dim, k.value, k.day, c.Created, c.Resolved, c.Reopened, c.MessagesIn, c.MessagesOut, c.Breaches); err != nil {
			return fmt.Errorf("report days: %w", err)
		}
	}
	return nil
}

// ReportFilter narrows a report. Nil ids do not filter; 0 means none
// (tickets without a store, team or assignee).
type ReportFilter struct {
	StoreID, TeamID, AgentID *int64
	Channel, Tag             string
	Stores                   []int64 // an agent's stores; empty: all
}

// where is the filter as SQL on report_quarters, whose tag column names the
// rows to read, or without the tag (on report_tickets, where a tag is
// joined through report_ticket_tags).
func (f ReportFilter) where(hours bool) (string, []any) {
	var parts []string
	var args []any
	if hours {
		parts, args = append(parts, "tag = ?"), append(args, f.Tag)
	}
	for _, c := range []struct {
		col string
		id  *int64
	}{{"store_id", f.StoreID}, {"team_id", f.TeamID}, {"agent_id", f.AgentID}} {
		if c.id != nil {
			parts, args = append(parts, c.col+" = ?"), append(args, *c.id)
		}
	}
	if f.Channel != "" {
		parts, args = append(parts, "channel = ?"), append(args, f.Channel)
	}
	if len(f.Stores) > 0 {
		in, ids := inStores("store_id", f.Stores)
		parts, args = append(parts, in), append(args, ids...)
	}
	if len(parts) == 0 {
		return "", nil
	}
	return " AND " + strings.Join(parts, " AND "), args
}

// ReportRow is report_quarters summed by time or by one of its keys.
type ReportRow struct {
	Quarter int64  // by time: the first quarter of the hour or quarter summed
	Key     string // by a key: the channel, or the store, team or agent id
	ReportCounts
}

// Time is when a row summed by time starts.
func (r ReportRow) Time() time.Time { return time.Unix(r.Quarter*900, 0) }

// ReportGroups are what SumReport can sum by: quarter hours, UTC hours
// (fewer rows, for a time zone a whole number of hours off UTC), or a key.
var ReportGroups = map[string]string{"quarter": "quarter", "hour": "quarter / 4 * 4",
	"channel": "channel", "store": "store_id", "team": "team_id", "agent": "agent_id"}

// single is the filter's one dimension and value, when it has at most
// one and no tag: what the roll-ups answer ("" and "" for none).
func (f ReportFilter) single() (dim string, value any, ok bool) {
	if f.Tag != "" || len(f.Stores) > 0 {
		return "", nil, false
	}
	dim, value = "", ""
	n := 0
	for _, c := range []struct {
		dim string
		id  *int64
	}{{"store", f.StoreID}, {"team", f.TeamID}, {"agent", f.AgentID}} {
		if c.id != nil {
			dim, value, n = c.dim, *c.id, n+1
		}
	}
	if f.Channel != "" {
		dim, value, n = "channel", f.Channel, n+1
	}
	return dim, value, n <= 1
}

const sumColumns = `sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)`

// SumReport sums report_quarters from quarter from to quarter to
// (excluded, QuarterOf) by time or by a key (ReportGroups). With no
// filter or one, it reads the roll-ups: by time, the quarters of that
// filter; by a key, whole UTC days and the quarters at the ends that are
// not whole days.
func (db *DB) SumReport(ctx context.Context, f ReportFilter, from, to int64, by string) ([]ReportRow, error) {
	col, ok := ReportGroups[by]
	if !ok {
		return nil, fmt.Errorf("report counts by %q", by)
	}
	fdim, fvalue, rolled := f.single()
	fvalue = rollValue(db.postgres, fvalue)
	if !rolled {
		return db.sumQuarters(ctx, f, from, to, by)
	}
	if by == "quarter" || by == "hour" {
		return db.sumRows(ctx, by, `SELECT `+col+`, `+sumColumns+` FROM report_quarters_by
			WHERE dim = ? AND value = ? AND quarter >= ? AND quarter < ? GROUP BY 1 ORDER BY 1`, fdim, fvalue, from, to)
	}
	first, last := floorDiv(from+QuartersPerDay-1, QuartersPerDay), floorDiv(to, QuartersPerDay) // whole days
	if first >= last {
		return db.sumQuarters(ctx, f, from, to, by)
	}
	var query string
	args := []any{}
	if fdim == by {
		// By the key filtered on: the one value of it.
		query = `SELECT value, ` + sumColumns + ` FROM report_days_by
			WHERE fdim = '' AND fvalue = '' AND dim = ? AND value = ? AND day >= ? AND day < ? GROUP BY value`
		args = append(args, by, fvalue, first, last)
	} else {
		query = `SELECT value, ` + sumColumns + ` FROM report_days_by
			WHERE fdim = ? AND fvalue = ? AND dim = ? AND day >= ? AND day < ? GROUP BY value`
		args = append(args, fdim, fvalue, by, first, last)
	}
	rows, err := db.sumRows(ctx, by, query, args...)
	if err != nil {
		return nil, err
	}
	for _, edge := range [][2]int64{{from, first * QuartersPerDay}, {last * QuartersPerDay, to}} {
		if edge[0] >= edge[1] {
			continue
		}
		more, err := db.sumQuarters(ctx, f, edge[0], edge[1], by)
		if err != nil {
			return nil, err
		}
		rows = mergeReportRows(rows, more)
	}
	return rows, nil
}

// mergeReportRows adds b's rows to a's by key, in key order.
func mergeReportRows(a, b []ReportRow) []ReportRow {
	at := make(map[string]int, len(a))
	for i, r := range a {
		at[r.Key] = i
	}
	for _, r := range b {
		if i, ok := at[r.Key]; ok {
			a[i].ReportCounts.Add(r.ReportCounts)
		} else {
			at[r.Key] = len(a)
			a = append(a, r)
		}
	}
	slices.SortFunc(a, func(x, y ReportRow) int { return strings.Compare(x.Key, y.Key) })
	return a
}

// sumQuarters sums report_quarters itself.
func (db *DB) sumQuarters(ctx context.Context, f ReportFilter, from, to int64, by string) ([]ReportRow, error) {
	where, args := f.where(true)
	return db.sumRows(ctx, by, `SELECT `+ReportGroups[by]+`, `+sumColumns+` FROM report_quarters
		WHERE quarter >= ? AND quarter < ?`+where+` GROUP BY 1 ORDER BY 1`, append([]any{from, to}, args...)...)
}

// sumRows reads rows of a key (by) and the counts summed.
func (db *DB) sumRows(ctx context.Context, by, query string, args ...any) ([]ReportRow, error) {
	rows, err := db.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("report counts by %s: %w", by, err)
	}
	defer rows.Close()
	timed := by == "quarter" || by == "hour"
	var out []ReportRow
	for rows.Next() {
		var r ReportRow
		var key any = &r.Quarter
		if !timed {
			key = &r.Key
		}
		if err := rows.Scan(key, &r.Created, &r.Resolved, &r.Reopened, &r.MessagesIn, &r.MessagesOut, &r.Breaches); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// reportTicketColumns are the columns of report_tickets that
// scanReportTickets reads.
const reportTicketColumns = `ticket_id, created_at, status, channel, store_id, team_id, agent_id, tags,
	first_response_s, first_response_bh_s, resolved_at, resolution_s, resolution_bh_s, replies, reopens,
	sla_first_response, sla_resolution`

func scanReportTickets(rows *sql.Rows) ([]ReportTicket, error) {
	defer rows.Close()
	var out []ReportTicket
	for rows.Next() {
		var r ReportTicket
		var created int64
		var resolved sql.NullInt64
		var tags string
		var slaFR, slaRes sql.NullBool
		if err := rows.Scan(&r.TicketID, &created, &r.Status, &r.Channel, &r.StoreID, &r.TeamID, &r.AgentID, &tags,
			&r.FirstResponse, &r.FirstResponseBH, &resolved, &r.Resolution, &r.ResolutionBH, &r.Replies, &r.Reopens,
			&slaFR, &slaRes); err != nil {
			return nil, err
		}
		r.CreatedAt = fromMS(created)
		if resolved.Valid {
			t := fromMS(resolved.Int64)
			r.ResolvedAt = &t
		}
		if err := json.Unmarshal([]byte(tags), &r.Tags); err != nil {
			return nil, fmt.Errorf("tags of ticket %d: %w", r.TicketID, err)
		}
		if slaFR.Valid {
			r.SLAFirstResponse = &slaFR.Bool
		}
		if slaRes.Valid {
			r.SLAResolution = &slaRes.Bool
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// ReportCreated reads the report rows of the tickets made from from to
// to (excluded), from the packs (without ticket ids and tags).
func (db *DB) ReportCreated(ctx context.Context, f ReportFilter, from, to time.Time) ([]ReportTicket, error) {
	return db.readPacks(ctx, "created", f, from, to)
}

// ReportResolved reads the report rows of the tickets whose last
// resolution was from from to to (excluded), from the packs.
func (db *DB) ReportResolved(ctx context.Context, f ReportFilter, from, to time.Time) ([]ReportTicket, error) {
	return db.readPacks(ctx, "resolved", f, from, to)
}

// ReportOpen counts the tickets open now (new, open or pending) by agent.
func (db *DB) ReportOpen(ctx context.Context, f ReportFilter) (map[int64]int64, error) {
	where, args := f.where(false)
	from := "report_tickets"
	if f.Tag != "" {
		from = "report_ticket_tags JOIN report_tickets USING (ticket_id)"
		where, args = " AND tag = ?"+where, append([]any{f.Tag}, args...)
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT agent_id, count(*) FROM `+from+`
		WHERE status IN ('new', 'open', 'pending')`+where+` GROUP BY agent_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("report of open tickets: %w", err)
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var id, n int64
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}
