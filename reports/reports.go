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
