package reports_test

import (
	"onedesk/desk/desktest"
	"onedesk/reports"
	"onedesk/store"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkReports asks every report for the last 90 days (with the
// previous 90 to compare) over a seeded database: with no filter, one
// store, one channel, one agent and one tag. The first run fills the
// report tables from the whole history (minutes for 1,000,000 tickets; the
// figure is printed), in place, so later runs measure only the reports.
//
//	go run . dev seed --tickets 1000000 --data bench/bench.db
//	ONEDESK_BENCH_DB=$PWD/bench/bench.db go test ./reports -run '^$' -bench Reports -benchtime 20x
func BenchmarkReports(b *testing.B) {
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		b.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to run the benchmark")
	}
	start := time.Now()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.Logf("opened (and migrated) in %s", time.Since(start).Round(time.Millisecond))
	d := desktest.Wire(b, db)
	rs := reports.New(db, desktest.SLA(d), desktest.Log())
	behind, err := db.ReportBehind(ctx)
	if err != nil {
		b.Fatal(err)
	}
	start = time.Now()
	if _, err := rs.Refresh(ctx, 0); err != nil {
		b.Fatal(err)
	}
	b.Logf("counted %d events and messages for the reports and wrote what changed in %s", behind, time.Since(start).Round(time.Millisecond))
	one, tag := int64(1), ""
	// A tag of a recent ticket (a quarter of the seeded ones have one).
	for id := int64(1000000); tag == "" && id > 990000; id-- {
		if t, err := db.Ticket(ctx, id); err == nil && len(t.Tags) > 0 {
			tag = t.Tags[0]
		}
	}
	filters := []store.ReportFilter{{}, {StoreID: &one}, {Channel: "email"}, {AgentID: &one}, {Tag: tag}}
	// Lisbon is a whole number of hours off UTC (counts read by hour),
	// Kolkata five and a half (by quarter hour).
	for _, name := range reports.Names {
		for _, tz := range []string{"Europe/Lisbon", "Asia/Kolkata"} {
			b.Run(name+"/"+tz[strings.Index(tz, "/")+1:], func(b *testing.B) {
				benchReport(b, rs, name, tz, filters)
			})
		}
	}
}

func benchReport(b *testing.B, rs *reports.Reports, name, tz string, filters []store.ReportFilter) {
	var lat []time.Duration
	for i := 0; i < b.N; i++ {
		q := reports.Query{Range: "90d", TZ: tz, Compare: true, Filter: filters[i%len(filters)]}
		start := time.Now()
		if _, err := rs.Report(ctx, name, q); err != nil {
			b.Fatal(err)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2])/1e6, "p50-ms")
	b.ReportMetric(float64(lat[(len(lat)*95+99)/100-1])/1e6, "p95-ms")
	b.ReportMetric(float64(lat[len(lat)-1])/1e6, "max-ms")
}
