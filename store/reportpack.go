package store

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"time"
)

// A report pack is the report_tickets rows of one UTC day (by creation or
// by resolution) in one blob: a report over 90 days reads 90 packs rather
// than a hundred thousand rows, which is what made it slow (the rows cost
// microseconds each on their way out of SQLite; a pack's tickets cost
// nanoseconds to decode).
//
// The blob: a version byte; the strings the tickets use (statuses,
// channels, tags) as a count and length-prefixed strings; the ticket count;
// then per ticket, as uvarints: created_at and resolved_at+1 (0 for none)
// as milliseconds from the day's start (zigzag), status and channel as
// string numbers, store, team, agent, first response, its business-hours
// twin, resolution and its twin (each +1, 0 for none), replies, reopens,
// the two SLA outcomes (0 unknown, 1 missed, 2 met), and the tag count
// followed by tag string numbers.

const packVersion = 1

const dayMS = 86400000

// dayOf is the UTC day (unix seconds / 86400, rounded down) of t.
func dayOf(t time.Time) int64 {
	v := ms(t)
	return (v - ((v%dayMS)+dayMS)%dayMS) / dayMS
}

type packWriter struct {
	buf     []byte
	strings map[string]uint64
	names   []string
}

func (w *packWriter) uint(v uint64) { w.buf = binary.AppendUvarint(w.buf, v) }

func (w *packWriter) int(v int64) { w.buf = binary.AppendVarint(w.buf, v) }

func (w *packWriter) str(s string) {
	n, ok := w.strings[s]
	if !ok {
		n = uint64(len(w.names))
		w.strings[s] = n
		w.names = append(w.names, s)
	}
	w.uint(n)
}

func (w *packWriter) opt(v *int64) {
	if v == nil {
		w.uint(0)
		return
	}
	w.uint(uint64(*v) + 1)
}

func (w *packWriter) outcome(v *bool) {
	switch {
	case v == nil:
		w.uint(0)
	case *v:
		w.uint(2)
	default:
		w.uint(1)
	}
}

// encodePack packs the rows of a day starting at base (unix ms).
func encodePack(base int64, rows []ReportTicket) []byte {
	w := &packWriter{strings: map[string]uint64{}}
	for _, r := range rows {
		w.int(ms(r.CreatedAt) - base)
		if r.ResolvedAt == nil {
			w.int(0)
		} else {
			// Shifted so that 0 stays "none": a resolution at the day's
			// very start is 1.
			d := ms(*r.ResolvedAt) - base
			if d >= 0 {
				d++
			}
			w.int(d)
		}
		w.str(r.Status)
		w.str(r.Channel)
		w.uint(uint64(r.StoreID))
		w.uint(uint64(r.TeamID))
		w.uint(uint64(r.AgentID))
		w.opt(r.FirstResponse)
		w.opt(r.FirstResponseBH)
		w.opt(r.Resolution)
		w.opt(r.ResolutionBH)
		w.uint(uint64(r.Replies))
		w.uint(uint64(r.Reopens))
		w.outcome(r.SLAFirstResponse)
		w.outcome(r.SLAResolution)
		w.uint(uint64(len(r.Tags)))
		for _, t := range r.Tags {
			w.str(t)
		}
	}
	head := []byte{packVersion}
	head = binary.AppendUvarint(head, uint64(len(w.names)))
	for _, s := range w.names {
		head = binary.AppendUvarint(head, uint64(len(s)))
		head = append(head, s...)
	}
	head = binary.AppendUvarint(head, uint64(len(rows)))
	return append(head, w.buf...)
}

var errBadPack = errors.New("report pack: bad data")

// outcomes are what SLA outcome pointers point at: missed, met. Readers
// never write through them.
var outcomes = [2]bool{false, true}

type packReader struct {
	buf []byte
	err error
}

func (r *packReader) uint() uint64 {
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.err, r.buf = errBadPack, nil
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

func (r *packReader) int() int64 {
	v, n := binary.Varint(r.buf)
	if n <= 0 {
		r.err, r.buf = errBadPack, nil
		return 0
	}
	r.buf = r.buf[n:]
	return v
}

// packFilter is a ReportFilter as a pack's tickets are tested against it.
type packFilter struct {
	from, to         int64 // unix ms, to excluded, of the time tested
	resolved         bool  // test resolved_at, not created_at
	store, team, agt int64
	hasStore         bool
	hasTeam, hasAgt  bool
	channel, tag     string
	stores           []int64 // an agent's stores; empty: all
}

func newPackFilter(f ReportFilter, from, to time.Time, resolved bool) packFilter {
	p := packFilter{from: ms(from), to: ms(to), resolved: resolved, channel: f.Channel, tag: f.Tag, stores: f.Stores}
	if f.StoreID != nil {
		p.store, p.hasStore = *f.StoreID, true
	}
	if f.TeamID != nil {
		p.team, p.hasTeam = *f.TeamID, true
	}
	if f.AgentID != nil {
		p.agt, p.hasAgt = *f.AgentID, true
	}
	return p
}

// packCount is how many tickets a pack holds (0 for a bad one).
func packCount(data []byte) int {
	if len(data) == 0 || data[0] != packVersion {
		return 0
	}
	r := &packReader{buf: data[1:]}
	for n := r.uint(); n > 0 && r.err == nil; n-- {
		l := r.uint()
		if l > uint64(len(r.buf)) {
			return 0
		}
		r.buf = r.buf[l:]
	}
	if c := r.uint(); r.err == nil && c <= uint64(len(r.buf)) {
		return int(c)
	}
	return 0
}

// decodePack appends the tickets of a pack (of the day starting at base)
// that pass f to out, without their ids and tags.
func decodePack(data []byte, base int64, f packFilter, out []ReportTicket) ([]ReportTicket, error) {
	if len(data) == 0 || data[0] != packVersion {
		return out, errBadPack
	}
	r := &packReader{buf: data[1:]}
	names := make([]string, r.uint())
	if r.err != nil || len(names) > len(r.buf) {
		return out, errBadPack
	}
	const none = ^uint64(0)
	channel, tag := none, none
	for i := range names {
		n := r.uint()
		if r.err != nil || n > uint64(len(r.buf)) {
			return out, errBadPack
		}
		names[i], r.buf = string(r.buf[:n]), r.buf[n:]
		if names[i] == f.channel {
			channel = uint64(i)
		}
		if names[i] == f.tag {
			tag = uint64(i)
		}
	}
	if f.channel != "" && channel == none || f.tag != "" && tag == none {
		return out, nil // no ticket of the day has them
	}
	count := r.uint()
	if count > uint64(len(r.buf)) {
		return out, errBadPack
	}
	// The tickets' optional values point into one slab per pack rather
	// than a small allocation each; a slab never grows past its first
	// capacity, so the pointers stay good.
	durations := make([]int64, 0, 4*count)
	resolvedAts := make([]time.Time, 0, count)
	opt := func() *int64 {
		v := r.uint()
		if v == 0 {
			return nil
		}
		durations = append(durations, int64(v-1))
		return &durations[len(durations)-1]
	}
	outcome := func() *bool {
		switch r.uint() {
		case 0:
			return nil
		case 1:
			return &outcomes[0]
		}
		return &outcomes[1]
	}
	str := func() string {
		n := r.uint()
		if n >= uint64(len(names)) {
			r.err = errBadPack
			return ""
		}
		return names[n]
	}
	for i := uint64(0); i < count && r.err == nil; i++ {
		created := base + r.int()
		resolvedRaw := r.int()
		var resolvedAt *time.Time
		if resolvedRaw != 0 {
			if resolvedRaw > 0 {
				resolvedRaw--
			}
			resolvedAts = append(resolvedAts, fromMS(base+resolvedRaw))
			resolvedAt = &resolvedAts[len(resolvedAts)-1]
		}
		t := ReportTicket{CreatedAt: fromMS(created), ResolvedAt: resolvedAt}
		t.Status = str()
		chIdx := r.uint()
		if chIdx >= uint64(len(names)) {
			return out, errBadPack
		}
		t.Channel = names[chIdx]
		t.StoreID, t.TeamID, t.AgentID = int64(r.uint()), int64(r.uint()), int64(r.uint())
		t.FirstResponse, t.FirstResponseBH, t.Resolution, t.ResolutionBH = opt(), opt(), opt(), opt()
		t.Replies, t.Reopens = int(r.uint()), int(r.uint())
		t.SLAFirstResponse, t.SLAResolution = outcome(), outcome()
		tagged := f.tag == ""
		for range r.uint() {
			k := r.uint()
			if k >= uint64(len(names)) {
				return out, errBadPack
			}
			tagged = tagged || k == tag
		}
		at := created
		if f.resolved {
			if resolvedAt == nil {
				continue
			}
			at = ms(*resolvedAt)
		}
		if at < f.from || at >= f.to || !tagged || f.channel != "" && chIdx != channel ||
			f.hasStore && t.StoreID != f.store || len(f.stores) > 0 && !slices.Contains(f.stores, t.StoreID) || f.hasTeam && t.TeamID != f.team || f.hasAgt && t.AgentID != f.agt {
			continue
		}
		out = append(out, t)
	}
	if r.err != nil {
		return out, r.err
	}
	return out, nil
}

// markPacks notes that the packs of the days of a ticket's creation and
// resolution are to be written again.
func (tx *Tx) markPacks(ctx context.Context, created time.Time, resolved *time.Time) error {
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_pack_dirty (kind, day) VALUES ('created', ?) ON CONFLICT DO NOTHING`, dayOf(created)); err != nil {
		return fmt.Errorf("report pack: %w", err)
	}
	if resolved == nil {
		return nil
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO report_pack_dirty (kind, day) VALUES ('resolved', ?) ON CONFLICT DO NOTHING`, dayOf(*resolved)); err != nil {
		return fmt.Errorf("report pack: %w", err)
	}
	return nil
}

// WriteReportPacks writes up to limit of the packs noted as changed and
// says whether any are left.
func (tx *Tx) WriteReportPacks(ctx context.Context, limit int) (bool, error) {
	rows, err := tx.q.QueryContext(ctx, `DELETE FROM report_pack_dirty WHERE (kind, day) IN
		(SELECT kind, day FROM report_pack_dirty LIMIT ?) RETURNING kind, day`, limit)
	if err != nil {
		return false, fmt.Errorf("report packs: %w", err)
	}
	type packKey struct {
		kind string
		day  int64
	}
	var keys []packKey
	for rows.Next() {
		var k packKey
		if err := rows.Scan(&k.kind, &k.day); err != nil {
			rows.Close()
			return false, err
		}
		keys = append(keys, k)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return false, err
	}
	for _, k := range keys {
		if err := tx.writeReportPack(ctx, k.kind, k.day); err != nil {
			return false, err
		}
	}
	return len(keys) == limit, nil
}

func (tx *Tx) writeReportPack(ctx context.Context, kind string, day int64) error {
	col := "created_at"
	if kind == "resolved" {
		col = "resolved_at"
	}
	base := day * dayMS
	rows, err := tx.q.QueryContext(ctx, `SELECT `+reportTicketColumns+` FROM report_tickets
		WHERE `+col+` >= ? AND `+col+` < ? ORDER BY `+col, base, base+dayMS)
	if err != nil {
		return fmt.Errorf("report pack %s %d: %w", kind, day, err)
	}
	list, err := scanReportTickets(rows)
	if err != nil {
		return fmt.Errorf("report pack %s %d: %w", kind, day, err)
	}
	if len(list) == 0 {
		_, err = tx.q.ExecContext(ctx, `DELETE FROM report_packs WHERE kind = ? AND day = ?`, kind, day)
	} else {
		_, err = tx.q.ExecContext(ctx, `INSERT INTO report_packs (kind, day, data) VALUES (?, ?, ?)
			ON CONFLICT (kind, day) DO UPDATE SET data = excluded.data`,
			kind, day, encodePack(base, list))
	}
	if err != nil {
		return fmt.Errorf("report pack %s %d: %w", kind, day, err)
	}
	return nil
}

// readPacks reads the tickets of the packs of a kind that pass the filter
// over from to to (excluded).
func (db *DB) readPacks(ctx context.Context, kind string, f ReportFilter, from, to time.Time) ([]ReportTicket, error) {
	pf := newPackFilter(f, from, to, kind == "resolved")
	rows, err := db.rq.QueryContext(ctx, `SELECT day, data FROM report_packs WHERE kind = ? AND day >= ? AND day <= ? ORDER BY day`,
		kind, dayOf(from), dayOf(to.Add(-time.Millisecond)))
	if err != nil {
		return nil, fmt.Errorf("report of %s tickets: %w", kind, err)
	}
	defer rows.Close()
	type pack struct {
		day  int64
		data []byte
	}
	var packs []pack
	total := 0
	for rows.Next() {
		var p pack
		if err := rows.Scan(&p.day, &p.data); err != nil {
			return nil, err
		}
		packs, total = append(packs, p), total+packCount(p.data)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// Sized once: growing a slice of a hundred thousand tickets as it
	// fills cost more than decoding them.
	out := make([]ReportTicket, 0, total)
	for _, p := range packs {
		if out, err = decodePack(p.data, p.day*dayMS, pf, out); err != nil {
			return nil, fmt.Errorf("report of %s tickets, day %d: %w", kind, p.day, err)
		}
	}
	return out, nil
}
