package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"onedesk/hours"
	"onedesk/store"
)

// Reports are worked out from the messages and ticket events, never from
// counters bumped beside them: RefreshReports reads both through cursors
// and keeps the tables the reports read (migrations 0013, 0016, 0018).
// Each event or message is counted once, in the same transaction that
// moves its cursor; a ticket's report row is written again from its whole
// history whenever something of it changes.

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

// RefreshReports counts what happened since the last refresh, at most
// batches transactions (0: until caught up). It reports whether it caught up.
func (d *Desk) RefreshReports(ctx context.Context, batches int) (bool, error) {
	for n := 0; batches == 0 || n < batches; n++ {
		// Locked a batch at a time: a report asked for while the history
		// of an old database is read waits for one batch, not for all.
		var done bool
		d.reportMu.Lock()
		err := d.db.Write(ctx, func(tx *store.Tx) error {
			var err error
			done, err = d.refreshReportBatch(ctx, tx)
			return err
		})
		d.reportMu.Unlock()
		if err != nil {
			return false, fmt.Errorf("refresh reports: %w", err)
		}
		if done {
			return true, nil
		}
		// Counting a long history is thousands of transactions: readers
		// busy all the while keep the log from starting over.
		if err := d.db.CheckpointIfLarge(ctx, reportWALLimit); err != nil {
			return false, fmt.Errorf("refresh reports: %w", err)
		}
	}
	return false, nil
}

func (d *Desk) refreshReportBatch(ctx context.Context, tx *store.Tx) (bool, error) {
	evCursor, msgCursor, err := tx.ReportCursors(ctx)
	if err != nil {
		return false, err
	}
	events, err := tx.EventsAfter(ctx, evCursor, reportBatch)
	if err != nil {
		return false, err
	}
	msgs, err := tx.MessagesAfter(ctx, msgCursor, reportBatch)
	if err != nil {
		return false, err
	}
	caughtUp := len(events) < reportBatch && len(msgs) < reportBatch
	var dirty []int64
	if caughtUp {
		if dirty, err = tx.TakeReportDirty(ctx, reportBatch); err != nil {
			return false, err
		}
	}
	if len(events) == 0 && len(msgs) == 0 && len(dirty) == 0 {
		more, err := tx.WriteReportPacks(ctx, packBatch)
		return !more, err
	}
	changed := map[int64]bool{} // tickets whose report row is to be written
	for _, id := range dirty {
		changed[id] = true
	}
	tickets := map[int64]*store.Ticket{} // nil: gone
	ticket := func(id int64) (*store.Ticket, error) {
		if t, ok := tickets[id]; ok {
			return t, nil
		}
		t, err := tx.Ticket(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			t, err = nil, nil
		}
		tickets[id] = t
		return t, err
	}
	counts := map[store.ReportKey]*store.ReportCounts{}
	count := func(t *store.Ticket, at time.Time, agent int64, c store.ReportCounts) {
		k := store.ReportKey{Quarter: store.QuarterOf(at), StoreID: idOr0(t.StoreID), Channel: t.Channel, TeamID: idOr0(t.TeamID), AgentID: agent}
		for _, tag := range append([]string{""}, t.Tags...) {
			k.Tag = tag
			if counts[k] == nil {
				counts[k] = &store.ReportCounts{}
			}
			counts[k].Add(c)
		}
	}
	for _, e := range events {
		evCursor = e.ID
		if !quietEvents[e.Type] {
			changed[e.TicketID] = true
		}
		t, err := ticket(e.TicketID)
		if err != nil || t == nil {
			if err != nil {
				return false, err
			}
			continue
		}
		var c store.ReportCounts
		switch e.Type {
		case "created":
			c.Created = 1
		case "status_changed", "rule_applied":
			from, to := statusMove(e)
			switch {
			case backlogStatus[from] && !backlogStatus[to]:
				c.Resolved = 1
			case !backlogStatus[from] && backlogStatus[to]:
				c.Reopened = 1
			}
		case "sla_breached":
			c.Breaches = 1
		}
		if c != (store.ReportCounts{}) {
			count(t, e.CreatedAt, idOr0(t.AssigneeID), c)
		}
	}
	for _, m := range msgs {
		msgCursor = m.ID
		t, err := ticket(m.TicketID)
		if err != nil {
			return false, err
		}
		if t == nil {
			continue
		}
		switch m.Kind {
		case "customer":
			count(t, m.CreatedAt, idOr0(t.AssigneeID), store.ReportCounts{MessagesIn: 1})
		case "agent":
			count(t, m.CreatedAt, m.AuthorID, store.ReportCounts{MessagesOut: 1})
			changed[m.TicketID] = true // a first response, a reply
		}
	}
	if err := tx.AddReportCounts(ctx, counts); err != nil {
		return false, err
	}
	if !caughtUp {
		// Far behind: each ticket is written once, when caught up.
		if err := tx.MarkReportDirty(ctx, slices.Collect(maps.Keys(changed))); err != nil {
			return false, err
		}
		return false, tx.SetReportCursors(ctx, evCursor, msgCursor)
	}
	var enabled []*store.SLAPolicy // read once for the batch, when needed
	policies := func() ([]*store.SLAPolicy, error) {
		if enabled == nil {
			all, err := d.db.SLAPolicies(ctx)
			if err != nil {
				return nil, err
			}
			enabled = slices.DeleteFunc(all, func(p *store.SLAPolicy) bool { return !p.Enabled })
		}
		return enabled, nil
	}
	for id := range changed {
		t, err := ticket(id)
		if err != nil {
			return false, err
		}
		if t == nil {
			if err := tx.DeleteReportTicket(ctx, id); err != nil {
				return false, err
			}
			continue
		}
		if err := d.writeReportTicket(ctx, tx, t, policies); err != nil {
			return false, err
		}
	}
	if err := tx.SetReportCursors(ctx, evCursor, msgCursor); err != nil {
		return false, err
	}
	if len(dirty) == reportBatch {
		return false, nil
	}
	more, err := tx.WriteReportPacks(ctx, packBatch)
	return !more, err
}

// quietEvents change nothing a report reads of the ticket (their message,
// if any, is counted by itself).
var quietEvents = map[string]bool{"replied": true, "noted": true, "participant_added": true,
	"delivery_failed": true, "delivery_retried": true, "message_edited": true}

func idOr0(id *int64) int64 {
	if id == nil {
		return 0
	}
	return *id
}

// statusMove reads a status change off an event: a status_changed, or a
// rule that set the status ("" for any other event).
func statusMove(e store.ReportEvent) (from, to string) {
	var v struct{ Action, From, To string }
	_ = json.Unmarshal([]byte(e.Data), &v) // a rule's other moves hold ids in from/to: only Action counts then
	if e.Type == "rule_applied" && v.Action != "set_status" {
		return "", ""
	}
	return v.From, v.To
}

// writeReportTicket works a ticket's report row out from its history;
// policies are the SLA policies in force.
func (d *Desk) writeReportTicket(ctx context.Context, tx *store.Tx, t *store.Ticket, policies func() ([]*store.SLAPolicy, error)) error {
	replies, events, err := tx.ReportHistory(ctx, t.ID)
	if err != nil {
		return err
	}
	var bh *hours.Week
	if t.StoreID != nil {
		if bh, err = d.StoreHours(ctx, tx, *t.StoreID); err != nil {
			return err
		}
	}
	r := &store.ReportTicket{TicketID: t.ID, CreatedAt: t.CreatedAt, Status: t.Status, Channel: t.Channel,
		StoreID: idOr0(t.StoreID), TeamID: idOr0(t.TeamID), AgentID: idOr0(t.AssigneeID), Tags: t.Tags}
	for _, m := range replies {
		if m.AuthorID == 0 || m.Auto != "" {
			continue // automatic replies are not answers
		}
		r.Replies++
		if r.FirstResponse == nil {
			r.FirstResponse, r.FirstResponseBH = durations(bh, t.CreatedAt, m.CreatedAt)
		}
	}
	var lastResolved *time.Time
	breached := 0
	for _, e := range events {
		switch e.Type {
		case "status_changed", "rule_applied":
			from, to := statusMove(e)
			switch {
			case backlogStatus[from] && !backlogStatus[to]:
				at := e.CreatedAt
				lastResolved = &at
			case !backlogStatus[from] && backlogStatus[to]:
				r.Reopens++
				lastResolved = nil
			}
		case "sla_breached":
			var v struct{ Target string }
			_ = json.Unmarshal([]byte(e.Data), &v)
			if v.Target == "first_response" {
				breached |= store.BreachedFirstResponse
			} else {
				breached |= store.BreachedResolution
			}
		}
	}
	if !backlogStatus[t.Status] {
		if lastResolved == nil && t.ResolvedAt != nil {
			lastResolved = t.ResolvedAt // no event says when (an import)
		}
		if lastResolved != nil {
			r.ResolvedAt = lastResolved
			r.Resolution, r.ResolutionBH = durations(bh, t.CreatedAt, *lastResolved)
		}
	}
	r.SLAFirstResponse = slaMet(breached&store.BreachedFirstResponse != 0, t.SLA.FirstResponseDue != nil, r.FirstResponse != nil)
	// The resolution clock stops, and its due time goes, once resolved.
	resTarget := t.SLA.ResolutionDue != nil
	if !resTarget && t.SLA.PolicyID != nil {
		list, err := policies()
		if err != nil {
			return err
		}
		_, target := store.PolicyFor(list, t)
		resTarget = target.Resolution > 0
	}
	r.SLAResolution = slaMet(breached&store.BreachedResolution != 0, resTarget, r.ResolvedAt != nil)
	return tx.PutReportTicket(ctx, r)
}

func durations(hours *hours.Week, from, to time.Time) (*int64, *int64) {
	cal, bh := int64(max(to.Sub(from), 0)/time.Second), int64(hours.Between(from, to)/time.Second)
	return &cal, &bh
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

// RunReports keeps the reports current until ctx ends.
func (d *Desk) RunReports(ctx context.Context, every time.Duration) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if _, err := d.RefreshReports(ctx, 0); err != nil && ctx.Err() == nil {
			d.log.Warn("reports", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
