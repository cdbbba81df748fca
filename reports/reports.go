// Package reports works out the desk's reports (volume, speed, workload,
// SLA) from the messages and ticket events, never from counters bumped
// beside them. It sits beside the desk: it hears of commits through the
// desk's one subscription (desk.Desk.Committed), reads what is new
// through its own cursors in the store, and keeps the tables the reports
// read (migrations 0013, 0016, 0018). The desk does not know it.
package reports

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// SLA is what a report row reads of business hours and SLA targets; the
// SLA clock (sla.Clock) has it.
type SLA interface {
	// BusinessTime is how much of from..to the store was open (all of it
	// without a store or opening hours), read within tx.
	BusinessTime(ctx context.Context, tx *store.Tx, storeID *int64, from, to time.Time) (time.Duration, error)
	// HasResolutionTarget tells whether the policy that covers t gives it
	// a resolution target.
	HasResolutionTarget(ctx context.Context, t *store.Ticket) (bool, error)
}

// Reports keeps the report tables of one database and answers reports.
type Reports struct {
	db  *store.DB
	sla SLA
	log *slog.Logger
	mu  sync.Mutex // one refresh at a time

	// A long history being counted (the first start after an upgrade or
	// a restore): logged, and said by /healthz and the reports.
	counting    atomic.Bool
	countLeft   atomic.Int64 // events, messages and tickets left when last looked
	countDone   atomic.Int64 // counted since the start
	doneAtLook  atomic.Int64 // countDone when countLeft was looked at
	countStart  time.Time    // under mu
	countLogged time.Time    // under mu
	batchRead   int          // under mu: what the last batch counted

	extraMu sync.RWMutex
	extra   map[string]Provider // reports plugged in (extra.go)
}

// countAnnounce is how far behind the reports must be for the count to be
// logged and shown as under way (a quiet desk catches up in a batch).
const countAnnounce = 20 * reportBatch

// countLogEvery is how often a long count logs how far it is.
const countLogEvery = 30 * time.Second

// Counting reports whether a long history is being counted, and about
// how many events, messages and tickets' report rows are left, and how
// much is done, in percent (left is looked at every countLogEvery).
func (rs *Reports) Counting() (left int64, pct int, ok bool) {
	if !rs.counting.Load() {
		return 0, 100, false
	}
	done := rs.countDone.Load()
	left = max(rs.countLeft.Load()-(done-rs.doneAtLook.Load()), 0)
	return left, int(min(done*100/max(done+left, 1), 99)), true
}

// noteCount follows a long count after each batch (under mu): it starts
// when a batch finds the reports far behind, logs progress now and then,
// and the end.
func (rs *Reports) noteCount(ctx context.Context, done, farBehind bool) {
	now := time.Now()
	if rs.counting.Load() {
		rs.countDone.Add(int64(rs.batchRead))
		if done {
			rs.counting.Store(false)
			rs.log.Info("reports: history counted", "events_messages_and_tickets", rs.countDone.Load(),
				"took", now.Sub(rs.countStart).Round(time.Second))
		} else if now.Sub(rs.countLogged) >= countLogEvery {
			if behind, err := rs.db.ReportLeft(ctx); err == nil {
				rs.countLeft.Store(behind)
				rs.doneAtLook.Store(rs.countDone.Load())
			}
			rs.countLogged = time.Now()
			left, pct, _ := rs.Counting()
			rs.log.Info("reports: still counting history", "percent", pct, "left", left)
		}
		return
	}
	if done || !farBehind {
		return
	}
	behind, err := rs.db.ReportLeft(ctx)
	if err != nil || behind < countAnnounce {
		return
	}
	now = time.Now()
	rs.countLeft.Store(behind)
	rs.countDone.Store(0)
	rs.doneAtLook.Store(0)
	rs.countStart, rs.countLogged = now, now
	rs.counting.Store(true)
	rs.log.Info("reports: counting the desk's history in the background; reports show partial figures until it is done",
		"events_messages_and_tickets", behind)
}

// New returns the reports over db.
func New(db *store.DB, sla SLA, log *slog.Logger) *Reports {
	return &Reports{db: db, sla: sla, log: log}
}

// quietRefreshes is how many ticks Run lets pass without a commit before
// it refreshes anyway: writes made beside the desk publish nothing.
const quietRefreshes = 12

// Run keeps the reports current until ctx ends: at most every interval,
// when the desk committed something since the last refresh (and every
// quietRefreshes intervals in any case).
func (rs *Reports) Run(ctx context.Context, d *desk.Desk, every time.Duration) {
	var changed atomic.Bool
	changed.Store(true)
	go d.Committed(ctx, func(desk.Change) { changed.Store(true) })
	tick := time.NewTicker(every)
	defer tick.Stop()
	for quiet := 0; ; quiet++ {
		if changed.Swap(false) || quiet >= quietRefreshes {
			quiet = 0
			if _, err := rs.Refresh(ctx, 0); err != nil && ctx.Err() == nil {
				rs.log.Warn("reports", "err", err)
				changed.Store(true) // tried again at the next tick
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

func inputErr(field, format string, args ...any) error {
	return desk.InputErrorf(field, format, args...)
}
