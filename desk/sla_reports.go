package desk

import (
	"context"
	"time"

	"onedesk/store"
)

// What the reports read of business hours and SLA targets (reports.SLA):
// the caches stay with the SLA, which owns them.

// BusinessTime is how much of the time from..to the ticket's store was
// open (all of it without a store or opening hours); tx is the caller's.
func (d *Desk) BusinessTime(ctx context.Context, tx *store.Tx, storeID *int64, from, to time.Time) (time.Duration, error) {
	var hours *businessHours
	if storeID != nil {
		var err error
		if hours, err = d.hoursOfStore(ctx, tx, *storeID); err != nil {
			return 0, err
		}
	}
	return hours.between(from, to), nil
}

// HasResolutionTarget tells whether the enabled policy that covers t now
// gives it a resolution target.
func (d *Desk) HasResolutionTarget(ctx context.Context, t *store.Ticket) (bool, error) {
	list, err := d.activeSLA(ctx)
	if err != nil {
		return false, err
	}
	_, target := policyFor(list, t)
	return target.Resolution > 0, nil
}
