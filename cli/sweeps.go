package cli

import (
	"context"
	"log/slog"
	"time"

	"onedesk/desk"
	"onedesk/privacy"
	"onedesk/rules"
	"onedesk/sla"
	"onedesk/snooze"
	"onedesk/store"
)

// runSweeps sweeps the time rules and the SLA due times, wakes the
// snoozed tickets whose time came, hands waiting tickets of round-robin
// teams to members now free, and applies the retention rule (when the
// desk has one), every interval until ctx ends.
func runSweeps(ctx context.Context, every time.Duration, log *slog.Logger, r *rules.Engine, clock *sla.Clock, d *desk.Desk, priv *privacy.Service, snoozer *snooze.Service) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if n, err := r.Sweep(ctx, store.Now()); err != nil && ctx.Err() == nil {
			log.Warn("time rules", "err", err)
		} else if n > 0 {
			log.Info("time rules acted", "times", n)
		}
		if n, err := clock.Sweep(ctx, store.Now()); err != nil && ctx.Err() == nil {
			log.Warn("sla sweep", "err", err)
		} else if n > 0 {
			log.Info("sla sweep acted", "tickets", n)
		}
		if n, err := snoozer.Sweep(ctx, store.Now()); err != nil && ctx.Err() == nil {
			log.Warn("snooze sweep", "err", err)
		} else if n > 0 {
			log.Info("snoozed tickets woke", "tickets", n)
		}
		if n, err := d.AssignWaiting(ctx); err != nil && ctx.Err() == nil {
			log.Warn("round robin", "err", err)
		} else if n > 0 {
			log.Info("round robin assigned waiting tickets", "tickets", n)
		}
		if _, err := priv.Sweep(ctx, store.Now()); err != nil && ctx.Err() == nil {
			log.Warn("retention", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
