package desk_test

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
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
	reportLatency(b, lat)
}

func mustSearch(b *testing.B, d *desk.Desk, q string, n int) []store.Customer {
	list, err := d.SearchCustomers(ctx, q, 0, n)
	if err != nil || len(list) < 3 {
		b.Fatalf("search %q: %d %v", q, len(list), err)
	}
	return list
}

// reportLatency reports the median and 99th percentile of lat.
func reportLatency(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100])/1e6, "p99-ms")
}

// BenchmarkIngestRules ingests new email tickets with no rules and with
// 200 enabled rules (subject, body, channel, domain and form field tests;
// a few match and tag, note or reprioritise):
//
//	go test ./desk -run '^$' -bench IngestRules -benchtime 3000x
func BenchmarkIngestRules(b *testing.B) {
	for _, n := range []int{0, 200} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			db, err := store.Open(ctx, filepath.Join(b.TempDir(), "r.db"))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
			for i := range n {
				r := store.Rule{Name: fmt.Sprintf("rule %d", i), Trigger: "created", Enabled: true,
					Actions: []store.Action{{Type: "add_tags", Value: []any{fmt.Sprintf("t%d", i%20)}}}}
				switch i % 5 {
				case 0:
					r.Conditions = []store.Condition{{Field: "subject", Op: "contains", Value: fmt.Sprintf("word%d", i)}}
				case 1:
					r.Conditions = []store.Condition{{Field: "body", Op: "contains", Value: fmt.Sprintf("phrase number %d", i)},
						{Field: "channel", Op: "is", Value: "email"}}
				case 2:
					r.Match = "any"
					r.Conditions = []store.Condition{{Field: "customer_domain", Op: "is", Value: fmt.Sprintf("d%d.test", i)},
						{Field: "field.topic", Op: "is", Value: "returns"}}
				case 3:
					r.Conditions = []store.Condition{{Field: "priority", Op: "is", Value: "urgent"}}
					r.Actions = []store.Action{{Type: "add_note", Value: "Urgent: check first."}}
				case 4:
					r.Conditions = []store.Condition{{Field: "tags", Op: "contains", Value: "t3"}}
					r.Actions = []store.Action{{Type: "set_priority", Value: "high"}}
				}
				if _, err := d.SaveRule(ctx, 0, r); err != nil {
					b.Fatal(err)
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				in := desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: fmt.Sprintf("c%d@d%d.test", i, i%300)},
					Subject: fmt.Sprintf("Question word%d about an order", i%400), Text: fmt.Sprintf("Hello, this is phrase number %d in a message of a few words.", i%600),
					ExternalID: fmt.Sprintf("m%d@bench", i)}
				start := time.Now()
				if _, err := d.Ingest(ctx, in); err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
			}
			b.StopTimer()
			reportLatency(b, lat)
		})
	}
}
