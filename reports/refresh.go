package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"onedesk/store"
)

// Refresh reads the events and messages through cursors. Each event or
// message is counted once, in the same transaction that moves its cursor;
// a ticket's report row is written again from its whole history whenever
// something of it changes.

// reportBatch is how many events and messages one refresh transaction
// reads: small enough that ingests wait at most a few milliseconds.
const reportBatch = 500

// packBatch is how many day packs of tickets one refresh transaction
// writes (a few milliseconds each on a busy desk).
const packBatch = 16

// reportWALLimit is the write-ahead log size past which a refresh
// checkpoints between its transactions.
const reportWALLimit = 64 << 20

var backlogStatus = map[string]bool{"new": true, "open": true, "pending": true}

// Refresh counts what happened since the last refresh, at most batches
// transactions (0: until caught up). It reports whether it caught up.
func (rs *Reports) Refresh(ctx context.Context, batches int) (bool, error) {
	for n := 0; batches == 0 || n < batches; n++ {
		// Locked a batch at a time: a report asked for while the history
		// of an old database is read waits for one batch, not for all.
		var done, farBehind bool
		rs.mu.Lock()
		err := rs.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			done, farBehind, err = rs.refreshBatch(ctx, tx)
			return err
		})
		if err == nil {
			rs.noteCount(ctx, done, farBehind)
		}
		rs.mu.Unlock()
		if err != nil {
			return false, fmt.Errorf("refresh reports: %w", err)
		}
		if done {
			return true, nil
		}
		// Counting a long history is thousands of transactions: readers
		// busy all the while keep the log from starting over.
		if err := rs.db.CheckpointIfLarge(ctx, reportWALLimit); err != nil {
			return false, fmt.Errorf("refresh reports: %w", err)
		}
	}
	return false, nil
}

// batch is one refresh transaction: what it read, and what it counts.
type batch struct {
	rs  *Reports
	ctx context.Context
	tx  *store.Tx

	evCursor, msgCursor int64
	events              []store.ReportEvent
	msgs                []store.ReportMessage
	dirty               []int64 // tickets left to write from an earlier batch
	caughtUp            bool    // fewer events and messages than a batch were left

	tickets map[int64]*store.Ticket // read once each; nil: gone
	counts  map[store.ReportKey]*store.ReportCounts
	changed map[int64]bool // tickets whose report row is to be written
}

// refreshBatch counts a batch of events and messages, then writes the
// report rows of the tickets they changed and the day packs; it reports
// whether nothing is left, and whether it found the reports far behind
// (a whole batch read, more waiting).
func (rs *Reports) refreshBatch(ctx context.Context, tx *store.Tx) (done, farBehind bool, err error) {
	b := &batch{rs: rs, ctx: ctx, tx: tx, tickets: map[int64]*store.Ticket{},
		counts: map[store.ReportKey]*store.ReportCounts{}, changed: map[int64]bool{}}
	if err := b.read(); err != nil {
		return false, false, err
	}
	rs.batchRead = len(b.events) + len(b.msgs) + len(b.dirty)
	farBehind = !b.caughtUp || len(b.dirty) == reportBatch
	if len(b.events) == 0 && len(b.msgs) == 0 && len(b.dirty) == 0 {
		more, err := tx.WriteReportPacks(ctx, packBatch)
		return !more, false, err
	}
	for _, id := range b.dirty {
		b.changed[id] = true
	}
	if err := b.countEvents(); err != nil {
		return false, farBehind, err
	}
	if err := b.countMessages(); err != nil {
		return false, farBehind, err
	}
	if err := tx.AddReportCounts(ctx, b.counts); err != nil {
		return false, farBehind, err
	}
	if !b.caughtUp {
		// Far behind: each ticket is written once, when caught up.
		if err := tx.MarkReportDirty(ctx, slices.Collect(maps.Keys(b.changed))); err != nil {
			return false, farBehind, err
		}
		return false, farBehind, tx.SetReportCursors(ctx, b.evCursor, b.msgCursor)
	}
	if err := b.writeChanged(); err != nil {
		return false, farBehind, err
	}
	if err := tx.SetReportCursors(ctx, b.evCursor, b.msgCursor); err != nil {
		return false, farBehind, err
	}
	if len(b.dirty) == reportBatch {
		return false, farBehind, nil
	}
	more, err := tx.WriteReportPacks(ctx, packBatch)
	return !more, farBehind, err
}

// read takes the events and messages past the cursors and, once caught
// up, the tickets an earlier batch left to write.
func (b *batch) read() error {
	var err error
	if b.evCursor, b.msgCursor, err = b.tx.ReportCursors(b.ctx); err != nil {
		return err
	}
	if b.events, err = b.tx.EventsAfter(b.ctx, b.evCursor, reportBatch); err != nil {
		return err
	}
	if b.msgs, err = b.tx.MessagesAfter(b.ctx, b.msgCursor, reportBatch); err != nil {
		return err
	}
	b.caughtUp = len(b.events) < reportBatch && len(b.msgs) < reportBatch
	if b.caughtUp {
		b.dirty, err = b.tx.TakeReportDirty(b.ctx, reportBatch)
	}
	return err
}

// ticket reads a ticket once per batch; nil when it is gone.
func (b *batch) ticket(id int64) (*store.Ticket, error) {
	if t, ok := b.tickets[id]; ok {
		return t, nil
	}
	t, err := b.tx.Ticket(b.ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		t, err = nil, nil
	}
	b.tickets[id] = t
	return t, err
}

// count adds c to the quarter hour of at, for the ticket as it is now and
// each of its tags.
func (b *batch) count(t *store.Ticket, at time.Time, agent int64, c store.ReportCounts) {
	k := store.ReportKey{Quarter: store.QuarterOf(at), StoreID: idOr0(t.StoreID), Channel: t.Channel, TeamID: idOr0(t.TeamID), AgentID: agent}
	for _, tag := range append([]string{""}, t.Tags...) {
		k.Tag = tag
		if b.counts[k] == nil {
			b.counts[k] = &store.ReportCounts{}
		}
		b.counts[k].Add(c)
	}
}

// countEvents counts tickets created, resolved, reopened and breached.
func (b *batch) countEvents() error {
	for _, e := range b.events {
		b.evCursor = e.ID
		if !quietEvents[e.Type] {
			b.changed[e.TicketID] = true
		}
		t, err := b.ticket(e.TicketID)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		if c := eventCounts(e); c != (store.ReportCounts{}) {
			b.count(t, e.CreatedAt, idOr0(t.AssigneeID), c)
		}
	}
	return nil
}

// eventCounts is what an event adds to the counts.
func eventCounts(e store.ReportEvent) store.ReportCounts {
	var c store.ReportCounts
	switch e.Type {
	case store.EventCreated:
		c.Created = 1
	case store.EventStatusChanged, store.EventRuleApplied:
		from, to := statusMove(e)
		switch {
		case backlogStatus[from] && !backlogStatus[to]:
			c.Resolved = 1
		case !backlogStatus[from] && backlogStatus[to]:
			c.Reopened = 1
		}
	case store.EventSLABreached:
		c.Breaches = 1
	}
	return c
}

// countMessages counts messages in and out.
func (b *batch) countMessages() error {
	for _, m := range b.msgs {
		b.msgCursor = m.ID
		t, err := b.ticket(m.TicketID)
		if err != nil {
			return err
		}
		if t == nil {
			continue
		}
		switch m.Kind {
		case "customer":
			b.count(t, m.CreatedAt, idOr0(t.AssigneeID), store.ReportCounts{MessagesIn: 1})
		case "agent":
			b.count(t, m.CreatedAt, m.AuthorID, store.ReportCounts{MessagesOut: 1})
			b.changed[m.TicketID] = true // a first response, a reply
		}
	}
	return nil
}

// writeChanged writes the report row of each ticket that changed, or
// removes it for a ticket that is gone.
func (b *batch) writeChanged() error {
	for id := range b.changed {
		t, err := b.ticket(id)
		if err != nil {
			return err
		}
		if t == nil {
			err = b.tx.DeleteReportTicket(b.ctx, id)
		} else {
			err = b.rs.writeTicket(b.ctx, b.tx, t)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// quietEvents change nothing a report reads of the ticket (their message,
// if any, is counted by itself).
var quietEvents = map[store.EventType]bool{store.EventReplied: true, store.EventNoted: true,
	store.EventParticipantAdded: true, store.EventDeliveryFailed: true, store.EventDeliveryRetried: true,
	store.EventMessageEdited: true}

func idOr0(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// statusMove reads a status change off an event: a status_changed, or a
// rule that set the status ("" for any other event).
func statusMove(e store.ReportEvent) (from, to string) {
	data, err := store.DecodeEventData(e.Type, []byte(e.Data))
	if err != nil {
		return "", ""
	}
	switch v := data.(type) {
	case *store.StatusChangedData:
		return v.From, v.To
	case *store.RuleAppliedData:
		if v.Action != "set_status" {
			return "", "" // a rule's other moves hold ids or tags in from/to
		}
		from, _ = v.From.(string)
		to, _ = v.To.(string)
		return from, to
	}
	return "", ""
}

// writeTicket works a ticket's report row out from its history.
func (rs *Reports) writeTicket(ctx context.Context, tx *store.Tx, t *store.Ticket) error {
	replies, events, err := tx.ReportHistory(ctx, t.ID)
	if err != nil {
		return err
	}
	r := &store.ReportTicket{TicketID: t.ID, CreatedAt: t.CreatedAt, Status: t.Status, Channel: t.Channel,
		StoreID: idOr0(t.StoreID), TeamID: idOr0(t.TeamID), AgentID: idOr0(t.AssigneeID), Tags: t.Tags}
	since := func(to time.Time) (*int64, *int64, error) {
		bh, err := rs.sla.BusinessTime(ctx, tx, t.StoreID, t.CreatedAt, to)
		cal, bhs := int64(max(to.Sub(t.CreatedAt), 0)/time.Second), int64(bh/time.Second)
		return &cal, &bhs, err
	}
	h := readHistory(events)
	for _, m := range replies {
		if m.AuthorID == 0 || m.Auto != "" {
			continue // automatic replies are not answers
		}
		r.Replies++
		// A ticket an agent started opened with our message: nobody
		// waited for an answer, so it has no first response to measure.
		if r.FirstResponse == nil && !h.agentStarted {
			if r.FirstResponse, r.FirstResponseBH, err = since(m.CreatedAt); err != nil {
				return err
			}
		}
	}
	r.Reopens = h.reopens
	if !backlogStatus[t.Status] {
		if h.lastResolved == nil && t.ResolvedAt != nil {
			h.lastResolved = t.ResolvedAt // no event says when (an import)
		}
		if h.lastResolved != nil {
			r.ResolvedAt = h.lastResolved
			if r.Resolution, r.ResolutionBH, err = since(*h.lastResolved); err != nil {
				return err
			}
		}
	}
	r.SLAFirstResponse = slaMet(h.breached&store.BreachedFirstResponse != 0, t.SLA.FirstResponseDue != nil, r.FirstResponse != nil)
	// The resolution clock stops, and its due time goes, once resolved.
	resTarget := t.SLA.ResolutionDue != nil
	if !resTarget && t.SLA.PolicyID != nil {
		if resTarget, err = rs.sla.HasResolutionTarget(ctx, t); err != nil {
			return err
		}
	}
	r.SLAResolution = slaMet(h.breached&store.BreachedResolution != 0, resTarget, r.ResolvedAt != nil)
	return tx.PutReportTicket(ctx, r)
}

// history is what a ticket's events say of its resolutions and breaches.
type history struct {
	lastResolved *time.Time // nil: open since, or never resolved
	reopens      int
	breached     int // store.Breached* bits
	agentStarted bool
}

func readHistory(events []store.ReportEvent) history {
	var h history
	for _, e := range events {
		switch e.Type {
		case store.EventStatusChanged, store.EventRuleApplied:
			from, to := statusMove(e)
			switch {
			case backlogStatus[from] && !backlogStatus[to]:
				at := e.CreatedAt
				h.lastResolved = &at
			case !backlogStatus[from] && backlogStatus[to]:
				h.reopens++
				h.lastResolved = nil
			}
		case store.EventCreated:
			var v store.CreatedData
			_ = json.Unmarshal([]byte(e.Data), &v)
			h.agentStarted = v.AgentStarted
		case store.EventSLABreached:
			var v store.SLABreachedData
			_ = json.Unmarshal([]byte(e.Data), &v)
			if v.Target == "first_response" {
				h.breached |= store.BreachedFirstResponse
			} else {
				h.breached |= store.BreachedResolution
			}
		}
	}
	return h
}

// slaMet is whether a target was met: missed once breached, met once
// reached in time, unknown before either or without a target.
func slaMet(breached, target, reached bool) *bool {
	switch {
	case breached:
		f := false
		return &f
	case target && reached:
		t := true
		return &t
	}
	return nil
}
