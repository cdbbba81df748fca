package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The roll-ups and packs (migration 0016) are copies of report_quarters and
// report_tickets arranged for speed. Over random counts and tickets, every
// filter, key and range answers exactly as the tables they come from.

func openInternal(t *testing.T) *DB {
	t.Helper()
	return OpenTest(t)
}

var (
	rollChannels = []string{"email", "chat", "telegram"}
	rollTags     = []string{"vip", "refund", "late"}
)

func TestReportRollupsAnswerAsReportQuarters(t *testing.T) {
	ForEachEngine(t, testReportRollupsAnswerAsReportQuarters)
}

func testReportRollupsAnswerAsReportQuarters(t *testing.T) {
	ctx := context.Background()
	db := openInternal(t)
	rng := rand.New(rand.NewPCG(7, 9))
	base := QuarterOf(time.Date(2026, 3, 20, 0, 0, 0, 0, time.UTC)) // over a DST change elsewhere, not that UTC minds
	for round := range 6 {
		counts := map[ReportKey]*ReportCounts{}
		keys := 300
		if round == 0 {
			keys = 6000 // more rows than PostgreSQL's upsert takes in one statement (pgRollBatch)
		}
		for range keys {
			k := ReportKey{Quarter: base + rng.Int64N(QuartersPerDay*12), StoreID: rng.Int64N(3), Channel: rollChannels[rng.IntN(3)],
				TeamID: rng.Int64N(3), AgentID: rng.Int64N(4)}
			c := ReportCounts{Created: rng.Int64N(3), Resolved: rng.Int64N(2), Reopened: rng.Int64N(2),
				MessagesIn: rng.Int64N(5), MessagesOut: rng.Int64N(5), Breaches: rng.Int64N(2)}
			for _, tag := range []string{"", rollTags[rng.IntN(3)]} {
				k.Tag = tag
				if counts[k] == nil {
					counts[k] = &ReportCounts{}
				}
				counts[k].Add(c)
			}
		}
		if err := db.Write(ctx, func(tx *Tx) error { return tx.AddReportCounts(ctx, counts) }); err != nil {
			t.Fatal(err)
		}
	}
	checkRollups(t, db, base)
}

// checkRollups compares every filter, key and range read through the
// roll-ups with the same read of report_quarters itself.
func checkRollups(t *testing.T, db *DB, base int64) {
	t.Helper()
	ctx := context.Background()
	one, two := int64(1), int64(2)
	filters := []ReportFilter{{}, {StoreID: &one}, {StoreID: &two}, {Channel: "chat"}, {TeamID: &one}, {AgentID: &two},
		{AgentID: &one, Channel: "email"}, {Tag: "vip"}, {Tag: "refund", StoreID: &one}}
	const day = QuartersPerDay
	ranges := [][2]int64{
		{base, base + day*12},                // whole days
		{base + 20, base + day*7 + 76},       // ends inside days (a zone of UTC-5)
		{base + 22, base + day*7 + 78},       // ends inside hours (UTC-5:30)
		{base + day - 23, base + day*3 - 23}, // UTC+5:45
		{base + 120, base + 161},             // inside one day
		{base + 92, base + 196},              // two ends and one whole day
		{base - 2*day, base + day*20 + 1},    // beyond the data
	}
	for _, f := range filters {
		for _, by := range []string{"quarter", "hour", "store", "channel", "team", "agent"} {
			for _, r := range ranges {
				got, err := db.SumReport(ctx, f, r[0], r[1], by)
				if err != nil {
					t.Fatal(err)
				}
				want, err := db.sumQuarters(ctx, f, r[0], r[1], by)
				if err != nil {
					t.Fatal(err)
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Fatalf("filter %+v by %s over %v:\n got %v\nwant %v", f, by, r, got, want)
				}
			}
		}
	}
}

func TestReportPacksAnswerAsReportTickets(t *testing.T) {
	ForEachEngine(t, testReportPacksAnswerAsReportTickets)
}

func testReportPacksAnswerAsReportTickets(t *testing.T) {
	ctx := context.Background()
	db := openInternal(t)
	rng := rand.New(rand.NewPCG(3, 5))
	start := time.Date(2026, 3, 25, 0, 0, 0, 0, time.UTC)
	opt := func(p float64) *int64 {
		if rng.Float64() < p {
			return nil
		}
		v := rng.Int64N(90000)
		return &v
	}
	outcome := func() *bool {
		switch rng.IntN(3) {
		case 0:
			return nil
		case 1:
			b := false
			return &b
		}
		b := true
		return &b
	}
	ticket := func(id int64) *ReportTicket {
		r := &ReportTicket{TicketID: id, CreatedAt: start.Add(time.Duration(rng.Int64N(8*24*3600*1000)) * time.Millisecond),
			Status: []string{"new", "open", "pending", "resolved", "closed"}[rng.IntN(5)], Channel: rollChannels[rng.IntN(3)],
			StoreID: rng.Int64N(3), TeamID: rng.Int64N(3), AgentID: rng.Int64N(4),
			FirstResponse: opt(0.3), Replies: rng.IntN(4), Reopens: rng.IntN(2),
			SLAFirstResponse: outcome(), SLAResolution: outcome()}
		if r.FirstResponse != nil {
			r.FirstResponseBH = opt(0)
		}
		for _, tag := range rollTags {
			if rng.IntN(3) == 0 {
				r.Tags = append(r.Tags, tag)
			}
		}
		if r.Status == "resolved" || r.Status == "closed" {
			at := r.CreatedAt.Add(time.Duration(rng.Int64N(3*24*3600*1000)) * time.Millisecond)
			r.ResolvedAt, r.Resolution, r.ResolutionBH = &at, opt(0), opt(0)
		}
		return r
	}
	write := func(list ...*ReportTicket) {
		t.Helper()
		err := db.Write(ctx, func(tx *Tx) error {
			for _, r := range list {
				if err := tx.PutReportTicket(ctx, r); err != nil {
					return err
				}
			}
			for more := true; more; {
				var err error
				if more, err = tx.WriteReportPacks(ctx, 3); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	var all []*ReportTicket
	for id := int64(1); id <= 600; id++ {
		all = append(all, ticket(id))
	}
	// Two at the very ends of a range below: the first is in, the last out.
	all[0].CreatedAt, all[1].CreatedAt = start.Add(26*time.Hour), start.Add(27*time.Hour)
	write(all...)
	// Tickets change afterwards: resolved on another day, reopened, gone.
	var again []*ReportTicket
	for _, r := range all[:150] {
		n := ticket(r.TicketID)
		n.CreatedAt = r.CreatedAt
		again = append(again, n)
	}
	write(again...)
	err := db.Write(ctx, func(tx *Tx) error {
		for id := int64(590); id <= 600; id++ {
			if err := tx.DeleteReportTicket(ctx, id); err != nil {
				return err
			}
		}
		_, err := tx.WriteReportPacks(ctx, 100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}

	one, two := int64(1), int64(2)
	filters := []ReportFilter{{}, {StoreID: &one}, {Channel: "chat"}, {TeamID: &two}, {AgentID: &one},
		{Tag: "vip"}, {Tag: "late", Channel: "email", StoreID: &two}, {Tag: "nobody"}}
	ranges := [][2]time.Time{
		{start, start.Add(12 * 24 * time.Hour)},
		{start.Add(5*time.Hour + 30*time.Minute), start.Add(4*24*time.Hour + 17*time.Hour)},
		{start.Add(26 * time.Hour), start.Add(27 * time.Hour)},
	}
	render := func(list []ReportTicket) []string {
		out := make([]string, len(list))
		for i, r := range list {
			d := func(p *int64) string {
				if p == nil {
					return "-"
				}
				return fmt.Sprint(*p)
			}
			o := func(p *bool) string {
				if p == nil {
					return "-"
				}
				return fmt.Sprint(*p)
			}
			res := "-"
			if r.ResolvedAt != nil {
				res = r.ResolvedAt.Format(time.RFC3339Nano)
			}
			out[i] = fmt.Sprint(r.CreatedAt.Format(time.RFC3339Nano), res, r.Status, r.Channel, r.StoreID, r.TeamID, r.AgentID,
				d(r.FirstResponse), d(r.FirstResponseBH), d(r.Resolution), d(r.ResolutionBH), r.Replies, r.Reopens,
				o(r.SLAFirstResponse), o(r.SLAResolution))
		}
		slices.Sort(out)
		return out
	}
	for _, f := range filters {
		for _, r := range ranges {
			for _, kind := range []string{"created", "resolved"} {
				var got []ReportTicket
				if kind == "created" {
					got, err = db.ReportCreated(ctx, f, r[0], r[1])
				} else {
					got, err = db.ReportResolved(ctx, f, r[0], r[1])
				}
				if err != nil {
					t.Fatal(err)
				}
				col := kind + "_at"
				where, args := f.where(false)
				rows, err := db.rq.QueryContext(ctx, `SELECT `+reportTicketColumns+` FROM report_tickets
					WHERE `+col+` >= ? AND `+col+` < ?`+where, append([]any{ms(r[0]), ms(r[1])}, args...)...)
				if err != nil {
					t.Fatal(err)
				}
				want, err := scanReportTickets(rows)
				if err != nil {
					t.Fatal(err)
				}
				if f.Tag != "" {
					want = slices.DeleteFunc(want, func(r ReportTicket) bool { return !slices.Contains(r.Tags, f.Tag) })
				}
				g, w := render(got), render(want)
				if !slices.Equal(g, w) {
					t.Fatalf("%s, filter %+v over %v: %d tickets from the packs, %d from the rows\n got %v\nwant %v",
						kind, f, r, len(g), len(w), g, w)
				}
				if len(w) == 0 && f.Tag != "nobody" && r[1].Sub(r[0]) > 24*time.Hour {
					t.Fatalf("%s, filter %+v over %v: no tickets, so the test tests nothing", kind, f, r)
				}
			}
		}
	}
}

func TestReportPackRefusesBadData(t *testing.T) { ForEachEngine(t, testReportPackRefusesBadData) }

func testReportPackRefusesBadData(t *testing.T) {
	good := encodePack(0, []ReportTicket{{CreatedAt: time.UnixMilli(5), Status: "new", Channel: "email", Tags: []string{"vip"}}})
	for _, data := range [][]byte{nil, {9}, good[:len(good)-1], append(append([]byte{}, good[:3]...), 0xff, 0xff)} {
		if _, err := decodePack(data, 0, packFilter{to: 1 << 62}, nil); err == nil {
			t.Errorf("pack %x: no error", data)
		}
	}
	if got, err := decodePack(good, 0, packFilter{to: 1 << 62, tag: "vip"}, nil); err != nil || len(got) != 1 || got[0].Channel != "email" || packCount(good) != 1 {
		t.Fatalf("good pack: %+v, %v", got, err)
	}
}

// Migrations 0016 and 0018 build the roll-ups, packs and tag rows in SQL
// from what a desk at version 15 had counted, and move its hour counts to
// the first quarter of their hour: they answer as the tables themselves,
// and by hour as before.
func TestReportRollupsFromTheMigration(t *testing.T) {
	ctx := context.Background()
	path, raw := databaseAt(t, 15)
	rng := rand.New(rand.NewPCG(11, 13))
	base := time.Date(2026, 10, 20, 0, 0, 0, 0, time.UTC).Unix() / 3600
	for range 400 {
		for _, tag := range []string{"", rollTags[rng.IntN(3)]} {
			if _, err := raw.Exec(`INSERT INTO report_hours (tag, hour, store_id, channel, team_id, agent_id,
				created, resolved, reopened, messages_in, messages_out, breaches) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
				ON CONFLICT DO UPDATE SET created = created + 1`,
				tag, base+rng.Int64N(24*12), rng.Int64N(3), rollChannels[rng.IntN(3)], rng.Int64N(3), rng.Int64N(4),
				rng.Int64N(3), rng.Int64N(2), rng.Int64N(2), rng.Int64N(5), rng.Int64N(5), rng.Int64N(2)); err != nil {
				t.Fatal(err)
			}
		}
	}
	hourly := map[int64]int64{}
	rows, err := raw.Query(`SELECT hour, sum(created) + 10 * sum(messages_in) FROM report_hours WHERE tag = '' GROUP BY hour`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var h, n int64
		if err := rows.Scan(&h, &n); err != nil {
			t.Fatal(err)
		}
		hourly[h] = n
	}
	if err := rows.Err(); err != nil || len(hourly) < 100 {
		t.Fatalf("%d hours counted: %v", len(hourly), err)
	}
	day := base * 3600 * 1000
	for id, q := range []string{
		`INSERT INTO report_tickets VALUES (1, ?, 'open', 'email', 1, 0, 2, '["vip"]', 60, 60, NULL, NULL, NULL, 1, 0, 1, NULL)`,
		`INSERT INTO report_tickets VALUES (2, ?, 'resolved', 'chat', 2, 1, 0, '["late","vip"]', NULL, NULL, ?, 7200, 3600, 0, 1, NULL, 0)`,
	} {
		if _, err := raw.Exec(q, day+int64(id)*90_000_000, day+int64(id)*100_000_000); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	raw.Close()

	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	checkRollups(t, db, base*4)
	for _, by := range []string{"hour", "quarter"} {
		got, err := db.SumReport(ctx, ReportFilter{}, (base-1)*4, (base+24*13)*4, by)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(hourly) {
			t.Fatalf("by %s: %d rows, want the %d hours", by, len(got), len(hourly))
		}
		for _, r := range got {
			if r.Quarter%4 != 0 || hourly[r.Quarter/4] != r.Created+10*r.MessagesIn {
				t.Fatalf("by %s: quarter %d counts %+v, want hour %d's %d", by, r.Quarter, r.ReportCounts, r.Quarter/4, hourly[r.Quarter/4])
			}
		}
	}
	if err := db.Write(ctx, func(tx *Tx) error { _, err := tx.WriteReportPacks(ctx, 100); return err }); err != nil {
		t.Fatal(err)
	}
	from, to := fromMS(day), fromMS(day+10*dayMS)
	created, err := db.ReportCreated(ctx, ReportFilter{Tag: "vip"}, from, to)
	if err != nil || len(created) != 2 {
		t.Fatalf("tickets made, from the migrated packs: %+v, %v", created, err)
	}
	resolved, err := db.ReportResolved(ctx, ReportFilter{Tag: "late"}, from, to)
	if err != nil || len(resolved) != 1 || *resolved[0].Resolution != 7200 || resolved[0].Reopens != 1 || *resolved[0].SLAResolution {
		t.Fatalf("tickets resolved, from the migrated packs: %+v, %v", resolved, err)
	}
	open, err := db.ReportOpen(ctx, ReportFilter{Tag: "vip"})
	if err != nil || len(open) != 1 || open[2] != 1 {
		t.Fatalf("open tickets with a tag after the migration: %v, %v", open, err)
	}
}
