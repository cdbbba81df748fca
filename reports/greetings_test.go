package reports_test

import (
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/greetings"
	"onedesk/reports"
	"onedesk/store"
)

// TestGreetingsCountedByStoreDay: a greeting's shown, opened and chats
// are counted by the store's day in its time zone, so the report of a
// day in that zone has that day's, not a UTC day's.
func TestGreetingsCountedByStoreDay(t *testing.T) {
	d, db, _, rs := newReports(t)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Auckland shop", Slug: "akl", Timezone: "Pacific/Auckland"})
	if err != nil {
		t.Fatal(err)
	}
	list, err := greetings.Save(ctx, db, st.ID, []store.Greeting{{Name: "Sizes", Audience: "any", Active: true, Messages: map[string]string{"en": "Need a size?"}}})
	if err != nil {
		t.Fatal(err)
	}
	g := list[0]
	akl, _ := time.LoadLocation("Pacific/Auckland") // UTC+13 in December
	count := func(event string, at time.Time) {
		t.Helper()
		if err := db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.CountGreeting(ctx, st.ID, g.ID, event, at, akl)
			return err
		}); err != nil {
			t.Fatal(err)
		}
	}
	// One UTC day (6 December), two Auckland days.
	count(store.GreetingShown, time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)) // 6 Dec, 23:00 in Auckland
	count(store.GreetingShown, time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)) // 7 Dec, 01:00
	count(store.GreetingOpened, time.Date(2026, 12, 6, 12, 5, 0, 0, time.UTC))
	count(store.GreetingChat, time.Date(2026, 12, 6, 12, 9, 0, 0, time.UTC))
	day := func(from, to string, tz string) map[string]any {
		t.Helper()
		r, err := rs.Report(ctx, "greetings", reports.Query{Range: "custom", From: from, To: to, TZ: tz, Filter: store.ReportFilter{StoreID: &st.ID}})
		if err != nil {
			t.Fatal(err)
		}
		return r.Totals
	}
	want := func(got map[string]any, shown, opened, chats int64) {
		t.Helper()
		if got["shown"] != shown || got["opened"] != opened || got["chats"] != chats {
			t.Errorf("totals %v, want shown %d, opened %d, chats %d", got, shown, opened, chats)
		}
	}
	want(day("2026-12-06", "2026-12-06", ""), 1, 0, 0) // the store's zone
	want(day("2026-12-07", "2026-12-07", ""), 1, 1, 1)
	want(day("2026-12-06", "2026-12-07", ""), 2, 1, 1)
	// A report in another zone takes the store days that overlap it, each
	// once (both Auckland days overlap 6 December in UTC; 4 December
	// overlaps neither).
	want(day("2026-12-06", "2026-12-06", "UTC"), 2, 1, 1)
	want(day("2026-12-04", "2026-12-07", "UTC"), 2, 1, 1)
	want(day("2026-12-04", "2026-12-04", "UTC"), 0, 0, 0)

	// What a widget reports now counts on the store's today.
	if ok, err := greetings.Count(ctx, db, st, g.ID, store.GreetingShown); err != nil || !ok {
		t.Fatalf("count: %v %v", ok, err)
	}
	r, err := rs.Report(ctx, "greetings", reports.Query{Range: "today", Filter: store.ReportFilter{StoreID: &st.ID}})
	if err != nil {
		t.Fatal(err)
	}
	want(r.Totals, 1, 0, 0)
}
