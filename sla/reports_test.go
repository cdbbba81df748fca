package sla_test

import (
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// What the reports read of the clock: a store's business time, and
// whether a ticket's policy has a resolution target.
func TestWhatReportsRead(t *testing.T) {
	d, db := newDesk(t)
	shop, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Lisbon shop", Timezone: "Europe/Lisbon",
		Chat: &store.ChatSettings{Hours: []string{"", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00", ""}}})
	if err != nil {
		t.Fatal(err)
	}
	savePolicy(t, d, store.SLAPolicy{Name: "Urgent", Targets: map[string]store.SLATarget{"urgent": {Resolution: 3600}}})
	clock := slaOf(d)
	// Friday 16:00 to Monday 10:00 in Lisbon (UTC+0 in March) is two
	// business hours; without a store it is all of it.
	from, to := time.Date(2026, 3, 20, 16, 0, 0, 0, time.UTC), time.Date(2026, 3, 23, 10, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		store *int64
		want  time.Duration
	}{{&shop.ID, 2 * time.Hour}, {nil, to.Sub(from)}} {
		var got time.Duration
		err := db.Write(ctx, func(tx *store.Tx) error {
			var err error
			got, err = clock.BusinessTime(ctx, tx, c.store, from, to)
			return err
		})
		if err != nil || got != c.want {
			t.Errorf("business time with store %v = %s (%v), want %s", c.store, got, err, c.want)
		}
	}
	for prio, want := range map[string]bool{"urgent": true, "normal": false} {
		if got, err := clock.HasResolutionTarget(ctx, &store.Ticket{Priority: prio, Channel: "email"}); err != nil || got != want {
			t.Errorf("%s ticket has a resolution target: %v (%v), want %v", prio, got, err, want)
		}
	}
}
