package desk_test

import (
	"io"
	"log/slog"
	"os"
	"slices"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// BenchmarkCustomerSearch searches a seeded database the way the
// customers page does, cycling through names, name prefixes, a full
// email, a phone written the local way and an order number:
//
//	go run . dev seed --tickets 500000 --customers 500000 --data bench/customers.db
//	ONEDESK_BENCH_DB=bench/customers.db go test ./desk -run '^$' -bench CustomerSearch -benchtime 2000x
func BenchmarkCustomerSearch(b *testing.B) {
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		b.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to run the benchmark")
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	pt := "PT"
	stores, _ := db.Stores(ctx)
	if _, err := d.SaveStore(ctx, stores[0].ID, desk.StoreInput{Country: &pt}); err != nil {
		b.Fatal(err)
	}
	var names []string
	for _, c := range mustSearch(b, d, "", 40) {
		names = append(names, c.Name)
	}
	queries := []string{"customer123457@mail.test", "912 345 678", "#1001", "ma", "sto", names[0], names[1][:4], "customer2000",
		"9 1234 5678", names[2], "a", "mail"}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		q := queries[i%len(queries)]
		start := time.Now()
		if _, err := d.SearchCustomers(ctx, q, 0, 51); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
}

func mustSearch(b *testing.B, d *desk.Desk, q string, n int) []store.Customer {
	list, err := d.SearchCustomers(ctx, q, 0, n)
	if err != nil || len(list) < 3 {
		b.Fatalf("search %q: %d %v", q, len(list), err)
	}
	return list
}
