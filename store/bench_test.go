package store_test

import (
	"context"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"onedesk/store"
)

// The benchmarks run against a seeded database named by ONEDESK_BENCH_DB:
//
//	go run . dev seed --tickets 1000000 --data bench/bench.db
//	ONEDESK_BENCH_DB=bench/bench.db go test ./store -run '^$' -bench . -benchtime 2000x
func benchDB(b *testing.B) (*store.DB, int64, int64, int64) {
	b.Helper()
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		b.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to run the benchmarks")
	}
	db, err := store.Open(context.Background(), path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	agent, st, maxID, err := db.SampleIDs(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	return db, agent, st, maxID
}

// timed runs fn b.N times and reports the median and 99th percentile.
func timed(b *testing.B, fn func(i int) error) {
	b.Helper()
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := fn(i); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(float64(len(lat)-1)*p)]) / 1e6 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

func list(b *testing.B, f store.TicketFilter) {
	db, _, _, _ := benchDB(b)
	ctx := context.Background()
	timed(b, func(int) error {
		rows, _, err := db.ListTickets(ctx, f)
		if err == nil && len(rows) == 0 && f.Query == "" {
			b.Fatal("empty page")
		}
		return err
	})
}

func BenchmarkInboxOpenNewest(b *testing.B) {
	list(b, store.TicketFilter{Statuses: []string{"open"}, Sort: "newest", Limit: 50, ViewerID: 1})
}

func BenchmarkInboxOpenUpdated(b *testing.B) {
	list(b, store.TicketFilter{Statuses: []string{"open"}, Sort: "updated", Limit: 50, ViewerID: 1})
}

func BenchmarkInboxAllActive(b *testing.B) {
	list(b, store.TicketFilter{Statuses: []string{"new", "open", "pending"}, Limit: 50, ViewerID: 1})
}

func BenchmarkInboxUnassigned(b *testing.B) {
	list(b, store.TicketFilter{Statuses: []string{"new", "open"}, Unassigned: true, Limit: 50, ViewerID: 1})
}

func BenchmarkInboxAssigneeStore(b *testing.B) {
	db, agent, st, _ := benchDB(b)
	ctx := context.Background()
	f := store.TicketFilter{Statuses: []string{"open"}, AssigneeID: &agent, StoreID: &st, Sort: "newest", Limit: 50, ViewerID: 1}
	timed(b, func(int) error { _, _, err := db.ListTickets(ctx, f); return err })
}

func BenchmarkInboxSecondPage(b *testing.B) {
	db, _, _, _ := benchDB(b)
	ctx := context.Background()
	f := store.TicketFilter{Statuses: []string{"open"}, Limit: 50, ViewerID: 1}
	_, next, err := db.ListTickets(ctx, f)
	if err != nil {
		b.Fatal(err)
	}
	f.Cursor = next
	timed(b, func(int) error { _, _, err := db.ListTickets(ctx, f); return err })
}

func search(b *testing.B, words []string) {
	db, _, _, _ := benchDB(b)
	ctx := context.Background()
	timed(b, func(i int) error {
		_, _, err := db.ListTickets(ctx, store.TicketFilter{Query: words[i%len(words)], Limit: 50, ViewerID: 1})
		return err
	})
}

// A word in a large share of all messages, and words in a few hundred.
func BenchmarkSearchCommon(b *testing.B) { search(b, []string{"order", "parcel", "refund", "where"}) }
func BenchmarkSearchRare(b *testing.B)   { search(b, []string{"kalomi", "zentor", "velqui", "barnex"}) }
func BenchmarkSearchOpenOnly(b *testing.B) {
	db, _, _, _ := benchDB(b)
	ctx := context.Background()
	timed(b, func(int) error {
		_, _, err := db.ListTickets(ctx, store.TicketFilter{Query: "delivery late", Statuses: []string{"open"}, Limit: 50, ViewerID: 1})
		return err
	})
}

func BenchmarkTicketDetail(b *testing.B) {
	db, _, _, maxID := benchDB(b)
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	timed(b, func(int) error {
		id := 1 + rng.Int64N(maxID)
		t, err := db.Ticket(ctx, id)
		if err != nil {
			return err
		}
		if _, err := db.Messages(ctx, id); err != nil {
			return err
		}
		if _, err := db.Events(ctx, id); err != nil {
			return err
		}
		_, err = db.Customer(ctx, t.CustomerID)
		return err
	})
}

// BenchmarkOpen is start-up cost on a big database: open, check the schema.
func BenchmarkOpen(b *testing.B) {
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		b.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to run the benchmarks")
	}
	timed(b, func(int) error {
		db, err := store.Open(context.Background(), path)
		if err != nil {
			return err
		}
		return db.Close()
	})
}
