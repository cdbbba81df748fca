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
	"onedesk/desk/desktest"
	"onedesk/store"
	"onedesk/store/storetest"
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
func reportLatency(b *testing.B, lat []time.Duration) { desktest.Latency(b, lat) }

// BenchmarkIngestRules ingests new email tickets with no rules and with
// 200 enabled rules (subject, body, channel, domain and form field tests;
// a few match and tag, note or reprioritise), on SQLite and then on
// PostgreSQL (desktest.Main's two passes):
//
//	go test ./desk -run '^$' -bench IngestRules -benchtime 3000x
func BenchmarkIngestRules(b *testing.B) {
	for _, n := range []int{0, 200} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) {
			db, err := store.Open(ctx, storetest.Data(b))
			if err != nil {
				b.Fatal(err)
			}
			defer db.Close()
			d := desktest.Wire(b, db)
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
				if _, err := rulesOf(d).Save(ctx, 0, r); err != nil {
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

// copyDB copies a closed database file to a temporary one the benchmark
// may change.
func copyDB(b *testing.B, path string) string {
	b.Helper()
	src, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	dst := filepath.Join(b.TempDir(), "sweep.db")
	out, err := os.Create(dst)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := io.Copy(out, src); err != nil {
		b.Fatal(err)
	}
	// Flushed now, or the first checkpoint's fsync writes the whole copy
	// out and the benchmark measures the copy instead of the desk.
	if err := out.Sync(); err != nil {
		b.Fatal(err)
	}
	if err := out.Close(); err != nil {
		b.Fatal(err)
	}
	return dst
}

// BenchmarkSweep runs the time rules and the SLA sweep over a seeded
// database (1,000,000 tickets over two years in every status) while a
// writer ingests a ticket every 5 ms, and reports: the first sweep of
// three newly enabled time rules (every ticket past their thresholds is a
// candidate, and about twelve thousand low-priority pending tickets are
// resolved), a sweep a minute later (the steady state, every minute), and
// the ingest latency meanwhile.
//
//	go run . dev seed --tickets 1000000 --data bench/bench.db
//	ONEDESK_BENCH_DB=bench/bench.db go test ./desk -run '^$' -bench Sweep -benchtime 1x -count 3
func BenchmarkSweep(b *testing.B) {
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		b.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to run the benchmark")
	}
	var first, steady time.Duration
	var acted int
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db, err := store.Open(ctx, copyDB(b, path))
		if err != nil {
			b.Fatal(err)
		}
		d := desktest.Wire(b, db)
		for _, r := range []store.Rule{
			{Name: "Low pending three days", Trigger: "time", Conditions: []store.Condition{cond("status", "is", "pending"), cond("hours_since_updated", "gt", 72.0),
				cond("priority", "is", "low")},
				Actions: []store.Action{action("set_status", "resolved")}},
			{Name: "Urgent unanswered", Trigger: "time", Conditions: []store.Condition{cond("hours_unanswered", "gt", 2.0), cond("priority", "is", "urgent")},
				Actions: []store.Action{action("notify", "team")}},
			{Name: "New for a day", Trigger: "time", Conditions: []store.Condition{cond("status", "is", "new"), cond("hours_since_created", "gt", 24.0), cond("tags", "contains", "vip")},
				Actions: []store.Action{action("set_priority", "high")}},
		} {
			r.Enabled = true
			if _, err := rulesOf(d).Save(ctx, 0, r); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := slaOf(d).SavePolicy(ctx, 0, store.SLAPolicy{Name: "Standard", Enabled: true,
			Targets: map[string]store.SLATarget{"urgent": {FirstResponse: 3600, Resolution: 4 * 3600}}}); err != nil {
			b.Fatal(err)
		}
		stop := make(chan struct{})
		done := make(chan []time.Duration)
		go func() {
			var l []time.Duration
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for n := 0; ; n++ {
				select {
				case <-stop:
					done <- l
					return
				case <-tick.C:
				}
				start := time.Now()
				if _, err := d.Ingest(ctx, desk.Inbound{Channel: "email", From: email(fmt.Sprintf("live%d@example.com", n)),
					Subject: "Live", Text: "Meanwhile", Priority: "urgent"}); err != nil {
					b.Error(err)
				}
				l = append(l, time.Since(start))
			}
		}()
		now := store.Now()
		b.StartTimer()
		start := time.Now()
		n, err := rulesOf(d).Sweep(ctx, now)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := slaOf(d).Sweep(ctx, now); err != nil {
			b.Fatal(err)
		}
		first += time.Since(start)
		acted += n
		start = time.Now()
		if _, err := rulesOf(d).Sweep(ctx, now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		if _, err := slaOf(d).Sweep(ctx, now.Add(time.Minute)); err != nil {
			b.Fatal(err)
		}
		steady += time.Since(start)
		b.StopTimer()
		close(stop)
		lat = append(lat, <-done...)
		db.Close()
	}
	b.ReportMetric(first.Seconds()/float64(b.N), "first-sweep-s")
	b.ReportMetric(float64(acted)/float64(b.N), "acted")
	b.ReportMetric(float64(steady.Milliseconds())/float64(b.N), "steady-sweep-ms")
	if len(lat) > 0 {
		reportLatency(b, lat)
		b.ReportMetric(float64(slices.Max(lat))/1e6, "ingest-max-ms")
	}
}

// BenchmarkIngestSeeded takes new email tickets and replies to them into
// a seeded desk (SQLite file or PostgreSQL URL), from four senders at
// once as several mailboxes and chats would, and reports the rate:
//
//	ONEDESK_BENCH_DB=postgres://... go test ./desk -run '^$' -bench IngestSeeded -benchtime 3000x
func BenchmarkIngestSeeded(b *testing.B) {
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		b.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to run the benchmark")
	}
	if storetest.OnPostgres() {
		b.Skip("the seeded desk is the one ONEDESK_BENCH_DB names: measured on the SQLite pass")
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	d := desktest.Wire(b, db)
	run := time.Now().UnixNano()
	const senders = 4
	lat := make([][]time.Duration, senders)
	next := make(chan int)
	errs := make(chan error, senders)
	b.ResetTimer()
	start := time.Now()
	for s := range senders {
		go func() {
			var err error
			for i := range next {
				in := desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: fmt.Sprintf("c%d@bench%d.test", i/2, run)},
					Subject: fmt.Sprintf("Order %d", i/2), Text: "Hello, where is my parcel? It was due last week.",
					ExternalID: fmt.Sprintf("m%d.%d@bench", i, run)}
				if i%2 == 1 { // the customer writes again: a reply on the same ticket
					in.ThreadRefs = []string{fmt.Sprintf("m%d.%d@bench", i-1, run)}
				}
				t0 := time.Now()
				if _, e := d.Ingest(ctx, in); e != nil && err == nil {
					err = e
				}
				lat[s] = append(lat[s], time.Since(t0))
			}
			errs <- err
		}()
	}
	for i := 0; i < b.N; i++ {
		next <- i
	}
	close(next)
	for range senders {
		if err := <-errs; err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
	reportLatency(b, slices.Concat(lat...))
}
