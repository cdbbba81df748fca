package reports_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/reports"
	"onedesk/store"
)

// reportStory writes five tickets through the desk, then moves every
// message and event to the time the story says. The shop is in Lisbon
// (UTC+1 in June) and open Monday to Friday, 09:00-17:00. Times below are
// Lisbon's.
//
//	T1 email  Mon 06-01 08:00, A replies 10:00, resolves 12:00
//	T2 chat   Tue 06-02 00:30 (Monday in UTC), B replies 09:30 and 10:00,
//	          resolves 11:00; the customer writes Wed 10:00 (reopened),
//	          B replies 11:00, resolves 12:00
//	T3 email  Fri 06-05 16:00, A replies Mon 06-08 09:30 (after the week)
//	T4 form   Sat 06-06 11:00, a note at 12:00, no reply
//	T5 email  Sun 05-31 22:00 (the week before), A replies Mon 09:15, resolves 10:00
type reportStory struct {
	d      *desk.Desk
	rs     *reports.Reports
	raw    *sql.DB
	a, b   int64
	shop   int64
	ticket map[string]int64
}

var ctx = context.Background()

// newReports is a desk over a new database (rules and the SLA clock
// plugged in), a plain connection to the file, and the reports of it.
func newReports(t *testing.T) (*desk.Desk, *store.DB, *sql.DB, *reports.Reports) {
	t.Helper()
	d, db, raw := desktest.NewRaw(t)
	return d, db, raw, reports.New(db, desktest.SLA(d), desktest.Log())
}

func lisbon(day, clock string) time.Time {
	loc, _ := time.LoadLocation("Europe/Lisbon")
	t, err := time.ParseInLocation("2006-01-02 15:04", "2026-"+day+" "+clock, loc)
	if err != nil {
		panic(err)
	}
	return t
}

func newReportStory(t *testing.T) *reportStory {
	t.Helper()
	d, _, raw, rs := newReports(t)
	s := &reportStory{d: d, rs: rs, raw: raw, ticket: map[string]int64{}}
	shop, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Lisbon shop", Timezone: "Europe/Lisbon",
		Chat: &store.ChatSettings{Hours: []string{"", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00", "09:00-17:00", ""}}})
	if err != nil {
		t.Fatal(err)
	}
	s.shop = shop.ID
	for i, name := range []string{"Ana", "Bruno"} {
		a, err := d.CreateAgent(ctx, desk.AgentInput{Email: fmt.Sprintf("agent%d@shop.test", i), Name: name, Password: "password1", Role: "agent"})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			s.a = a.ID
		} else {
			s.b = a.ID
		}
	}
	s.open(t, "T1", "email", lisbon("06-01", "08:00"))
	s.reply(t, "T1", s.a, lisbon("06-01", "10:00"))
	s.status(t, "T1", s.a, "resolved", lisbon("06-01", "12:00"))

	s.open(t, "T2", "chat", lisbon("06-02", "00:30"))
	s.reply(t, "T2", s.b, lisbon("06-02", "09:30"))
	s.reply(t, "T2", s.b, lisbon("06-02", "10:00"))
	s.status(t, "T2", s.b, "resolved", lisbon("06-02", "11:00"))
	s.at(t, lisbon("06-03", "10:00"), func() {
		res := desktest.Ingest(t, d, desk.Inbound{Channel: "chat", StoreID: &s.shop, From: desktest.Email("t2@mail.test"), Text: "It broke again", TicketID: s.ticket["T2"]})
		if res.Ticket.ID != s.ticket["T2"] || res.Ticket.Status != "open" {
			t.Fatalf("the customer's answer went to ticket %d (%s)", res.Ticket.ID, res.Ticket.Status)
		}
	})
	s.reply(t, "T2", s.b, lisbon("06-03", "11:00"))
	s.status(t, "T2", s.b, "resolved", lisbon("06-03", "12:00"))

	s.open(t, "T3", "email", lisbon("06-05", "16:00"))
	s.reply(t, "T3", s.a, lisbon("06-08", "09:30"))

	s.open(t, "T4", "form", lisbon("06-06", "11:00"))
	s.at(t, lisbon("06-06", "12:00"), func() {
		if _, err := d.Reply(ctx, desk.AgentActor(s.a), s.ticket["T4"], desk.ReplyInput{Body: "Checking stock", Internal: true}); err != nil {
			t.Fatal(err)
		}
	})

	s.open(t, "T5", "email", lisbon("05-31", "22:00"))
	s.reply(t, "T5", s.a, lisbon("06-01", "09:15"))
	s.status(t, "T5", s.a, "resolved", lisbon("06-01", "10:00"))
	return s
}

// at runs fn and moves what it wrote (messages, events) to when.
func (s *reportStory) at(t *testing.T, when time.Time, fn func()) {
	t.Helper()
	var msg, ev int64
	if err := s.raw.QueryRow(`SELECT (SELECT coalesce(max(id), 0) FROM messages), (SELECT coalesce(max(id), 0) FROM ticket_events)`).Scan(&msg, &ev); err != nil {
		t.Fatal(err)
	}
	fn()
	desktest.Exec(t, s.raw, `UPDATE messages SET created_at = ? WHERE id > ?`, when.UnixMilli(), msg)
	desktest.Exec(t, s.raw, `UPDATE ticket_events SET created_at = ? WHERE id > ?`, when.UnixMilli(), ev)
}

func (s *reportStory) open(t *testing.T, name, channel string, when time.Time) {
	t.Helper()
	s.at(t, when, func() {
		res := desktest.Ingest(t, s.d, desk.Inbound{Channel: channel, StoreID: &s.shop, From: desktest.Email(name + "@mail.test"), Subject: name, Text: "Where is my order?"})
		s.ticket[name] = res.Ticket.ID
	})
	desktest.Exec(t, s.raw, `UPDATE tickets SET created_at = ? WHERE id = ?`, when.UnixMilli(), s.ticket[name])
}

func (s *reportStory) reply(t *testing.T, name string, agent int64, when time.Time) {
	t.Helper()
	s.at(t, when, func() {
		if _, err := s.d.Reply(ctx, desk.AgentActor(agent), s.ticket[name], desk.ReplyInput{Body: "On its way"}); err != nil {
			t.Fatal(err)
		}
	})
}

func (s *reportStory) status(t *testing.T, name string, agent int64, status string, when time.Time) {
	t.Helper()
	s.at(t, when, func() {
		if _, err := s.d.UpdateTicket(ctx, desk.AgentActor(agent), s.ticket[name], desk.Update{Status: status}); err != nil {
			t.Fatal(err)
		}
	})
}

func (s *reportStory) report(t *testing.T, name string, q reports.Query) *reports.Report {
	t.Helper()
	if q.Range == "" {
		q.Range, q.From, q.To = "custom", "2026-06-01", "2026-06-07"
	}
	r, err := s.rs.Report(ctx, name, q)
	if err != nil {
		t.Fatal(err)
	}
	if !r.Ready {
		t.Fatal("the reports did not catch up")
	}
	return r
}

// same compares a report part with what it should be, as JSON.
func same(t *testing.T, what string, got any, want string) {
	t.Helper()
	raw, err := json.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	var g, w any
	if err := json.Unmarshal(raw, &g); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: the test's own JSON: %v", what, err)
	}
	gs, _ := json.Marshal(g)
	ws, _ := json.Marshal(w)
	if string(gs) != string(ws) {
		t.Errorf("%s:\n got %s\nwant %s", what, gs, ws)
	}
}

func TestReportVolume(t *testing.T) {
	s := newReportStory(t)
	r := s.report(t, "volume", reports.Query{Compare: true})
	same(t, "range", r.Range, `{"from": "2026-06-01", "to": "2026-06-07", "tz": "Europe/Lisbon", "days": 7,
		"previous_from": "2026-05-25", "previous_to": "2026-05-31"}`)
	same(t, "totals", r.Totals, `{"created": 4, "resolved": 4, "reopened": 1, "messages_in": 5, "messages_out": 5}`)
	// T5 came the Sunday before; its answer and resolution are this week's.
	same(t, "previous", r.Previous, `{"created": 1, "resolved": 0, "reopened": 0, "messages_in": 1, "messages_out": 0}`)
	// T2 opened at 00:30 on Tuesday in Lisbon, which is Monday in UTC.
	same(t, "by day", r.Table("by_day").Rows, `[
		["2026-06-01", 1, 2, 0, 1, 2],
		["2026-06-02", 1, 1, 0, 1, 2],
		["2026-06-03", 0, 1, 1, 1, 1],
		["2026-06-04", 0, 0, 0, 0, 0],
		["2026-06-05", 1, 0, 0, 1, 0],
		["2026-06-06", 1, 0, 0, 1, 0],
		["2026-06-07", 0, 0, 0, 0, 0]]`)
	hours := r.Table("by_hour")
	if len(hours.Rows) != 7*24 {
		t.Fatalf("%d hours of the week", len(hours.Rows))
	}
	same(t, "Tuesday 00:00", hours.Rows[1*24+0], `[1, 0, 1, 1]`)
	same(t, "Monday 08:00", hours.Rows[0*24+8], `[0, 8, 1, 1]`)
	same(t, "Monday 07:00", hours.Rows[0*24+7], `[0, 7, 0, 0]`)
	same(t, "by channel", r.Table("by_channel").Rows, `[
		["email", 2, 2, 0, 2, 2],
		["chat", 1, 2, 1, 2, 3],
		["form", 1, 0, 0, 1, 0]]`)
	same(t, "by store", r.Table("by_store").Rows, `[[1, "Lisbon shop", 4, 4, 1, 5, 5]]`)

	// The same week read in UTC puts T2 on Monday.
	utc := s.report(t, "volume", reports.Query{TZ: "UTC"})
	same(t, "UTC Monday", utc.Table("by_day").Rows[0], `["2026-06-01", 2, 2, 0, 2, 2]`)

	// Filters: a channel, an agent, a tag.
	chat := s.report(t, "volume", reports.Query{Filter: store.ReportFilter{Channel: "chat"}})
	same(t, "chat totals", chat.Totals, `{"created": 1, "resolved": 2, "reopened": 1, "messages_in": 2, "messages_out": 3}`)
	bruno := s.report(t, "volume", reports.Query{Filter: store.ReportFilter{AgentID: &s.b}})
	// Bruno's own replies, and what T2's customer wrote while it was his.
	same(t, "Bruno's totals", bruno.Totals, `{"created": 1, "resolved": 2, "reopened": 1, "messages_in": 2, "messages_out": 3}`)
	if _, err := s.d.UpdateTicket(ctx, desk.AgentActor(s.a), s.ticket["T1"], desk.Update{AddTags: []string{"refund"}}); err != nil {
		t.Fatal(err)
	}
	// Tags count from when a ticket has them: T1's earlier history is not
	// under "refund", but the ticket is (speed reads tickets).
	refund := s.report(t, "speed", reports.Query{Filter: store.ReportFilter{Tag: "refund"}})
	same(t, "refund speed", []any{refund.Totals["answered"], refund.Totals["resolved"]}, `[1, 1]`)
}

func TestReportSpeed(t *testing.T) {
	s := newReportStory(t)
	r := s.report(t, "speed", reports.Query{})
	// First responses of T1 (2 h; 1 h in opening hours), T2 (9 h; 30 min)
	// and T3 (65 h 30 min; 1 h 30 min); T4 has none, T5 was made before.
	// Resolutions of T1 (4 h; 3 h), T2 (35 h 30 min; 11 h), T5 (12 h; 1 h).
	same(t, "totals", r.Totals, `{"answered": 3,
		"first_response_median_s": 32400, "first_response_p90_s": 235800,
		"first_response_bh_median_s": 3600, "first_response_bh_p90_s": 5400,
		"resolved": 3,
		"resolution_median_s": 43200, "resolution_p90_s": 127800,
		"resolution_bh_median_s": 10800, "resolution_bh_p90_s": 39600}`)
	same(t, "by day", r.Table("by_day").Rows, `[
		["2026-06-01", 7200, 28800],
		["2026-06-02", 32400, null],
		["2026-06-03", null, 127800],
		["2026-06-04", null, null],
		["2026-06-05", 235800, null],
		["2026-06-06", null, null],
		["2026-06-07", null, null]]`)
	same(t, "by agent", r.Table("by_agent").Rows, fmt.Sprintf(`[
		[%d, "Ana", 2, 121500, 235800, 4500, 5400, 2, 28800, 43200, 7200, 10800],
		[%d, "Bruno", 1, 32400, 32400, 1800, 1800, 1, 127800, 127800, 39600, 39600],
		[0, "", 0, null, null, null, null, 0, null, null, null, null]]`, s.a, s.b))
}

func TestReportWorkload(t *testing.T) {
	s := newReportStory(t)
	r := s.report(t, "workload", reports.Query{})
	// T1 and T5 were one reply each; T2 took three and came back once.
	same(t, "totals", r.Totals, `{"backlog": 2, "resolved": 3, "replies": 5, "replies_per_ticket": 1.66,
		"one_touch": 2, "one_touch_rate": 0.6666666666666666}`)
	same(t, "backlog", r.Table("backlog").Rows, `[
		["2026-06-01", 0], ["2026-06-02", 0], ["2026-06-03", 0], ["2026-06-04", 0],
		["2026-06-05", 1], ["2026-06-06", 2], ["2026-06-07", 2]]`)
	same(t, "by agent", r.Table("by_agent").Rows, fmt.Sprintf(`[
		[%d, "Ana", 1, 2, 2, 1, 1],
		[0, "", 1, 0, 0, null, null],
		[%d, "Bruno", 0, 1, 3, 3, 0]]`, s.a, s.b))

	o := s.report(t, "overview", reports.Query{Compare: true})
	same(t, "overview", o.Totals, `{"created": 4, "resolved": 4, "reopened": 1, "messages_in": 5, "messages_out": 5,
		"backlog": 2, "first_response_median_s": 32400, "first_response_p90_s": 235800,
		"resolution_median_s": 43200, "resolution_p90_s": 127800, "one_touch_rate": 0.6666666666666666,
		"sla_first_response_rate": null, "sla_resolution_rate": null}`)
	same(t, "overview before", o.Previous["backlog"], `1`)
	same(t, "overview by channel", o.Table("by_channel").Rows, `[
		["email", 2, 2, 2, 2, 121500, 235800, 28800, 43200],
		["chat", 1, 2, 2, 3, 32400, 32400, 127800, 127800],
		["form", 1, 0, 1, 0, null, null, null, null]]`)
}

func TestReportSLA(t *testing.T) {
	d, db, _, rs := newReports(t)
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: "ana@shop.test", Name: "Ana", Password: "password1", Role: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Billing", AgentIDs: []int64{a.ID}})
	if err != nil {
		t.Fatal(err)
	}
	desktest.SavePolicy(t, d, store.SLAPolicy{Name: "Hour", Targets: map[string]store.SLATarget{"normal": {FirstResponse: 3600, Resolution: 8 * 3600}}})
	on := func(who string) int64 {
		tk := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email(who), Subject: "Help", Text: "Hello"}).Ticket
		if _, err := d.UpdateTicket(ctx, desk.AgentActor(a.ID), tk.ID, desk.Update{TeamID: desk.Optional[int64]{Set: true, Value: &team.ID}}); err != nil {
			t.Fatal(err)
		}
		return tk.ID
	}
	quick, late, waiting := on("quick@mail.test"), on("late@mail.test"), on("waiting@mail.test")
	if _, err := d.Reply(ctx, desk.AgentActor(a.ID), quick, desk.ReplyInput{Body: "Done", Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	// Two hours on, the late one passed its first-response target.
	if _, err := desktest.SLA(d).Sweep(ctx, store.Now().Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if len(desktest.TicketEvents(t, db, late, store.EventSLABreached)) != 1 || len(desktest.TicketEvents(t, db, waiting, store.EventSLABreached)) != 1 {
		t.Fatal("the sweep recorded no breach")
	}
	if _, err := d.Reply(ctx, desk.AgentActor(a.ID), late, desk.ReplyInput{Body: "Sorry", Status: "resolved"}); err != nil {
		t.Fatal(err)
	}
	r, err := rs.Report(ctx, "sla", reports.Query{Range: "today", TZ: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	// First responses: quick met, late missed; waiting missed too (its
	// breach is recorded, answered or not). Resolutions: both within 8 h.
	same(t, "totals", r.Totals, `{"first_response_met": 1, "first_response_missed": 2, "sla_first_response_rate": 0.3333333333333333,
		"resolution_met": 2, "resolution_missed": 0, "sla_resolution_rate": 1, "breaches": 2}`)
	same(t, "by team", r.Table("by_team").Rows, fmt.Sprintf(`[[%d, "Billing", 1, 2, 0.3333333333333333, 2, 0, 1, 2]]`, team.ID))
	same(t, "breaches today", r.Table("by_day").Rows[0][1], `2`)
}

func TestReportInput(t *testing.T) {
	_, _, _, rs := newReports(t)
	for _, c := range []struct {
		q     reports.Query
		field string
	}{
		{reports.Query{Range: "week"}, "range"},
		{reports.Query{Range: "custom"}, "from"},
		{reports.Query{Range: "custom", From: "2026-13-01"}, "from"},
		{reports.Query{Range: "custom", From: "2026-06-02", To: "2026-06-01"}, "to"},
		{reports.Query{Range: "custom", From: "2024-01-01", To: "2026-01-01"}, "from"},
		{reports.Query{TZ: "Mars/Olympus"}, "tz"},
		{reports.Query{By: "priority"}, "by"},
	} {
		_, err := rs.Report(ctx, "overview", c.q)
		if ie, ok := desk.IsInput(err); !ok || ie.Field != c.field {
			t.Errorf("%+v: %v, want a %s error", c.q, err, c.field)
		}
	}
}

// TestReportRulesAndBackfill: a rule's status change counts like an
// agent's, and a history longer than a refresh batch (a database from
// before reports) is read through, each ticket's row written once at the end.
func TestReportRulesAndBackfill(t *testing.T) {
	d, db, raw, rs := newReports(t)
	if _, err := desktest.Rules(d).Save(ctx, 0, store.Rule{Name: "Spam out", Trigger: "created", Enabled: true,
		Conditions: []store.Condition{{Field: "subject", Op: "contains", Value: "casino"}},
		Actions:    []store.Action{{Type: "set_status", Value: "resolved"}}}); err != nil {
		t.Fatal(err)
	}
	const n = 700 // more events than one batch reads
	for i := range n {
		subject := "Order"
		if i%7 == 0 {
			subject = "Free casino"
		}
		desktest.Ingest(t, d, desk.Inbound{From: desktest.Email(fmt.Sprintf("c%d@mail.test", i)), Subject: subject, Text: "Hello"})
	}
	if behind, err := db.ReportBehind(ctx); err != nil || behind < 2*n {
		t.Fatalf("behind by %d (%v)", behind, err)
	}
	caught, err := rs.Refresh(ctx, 1)
	if err != nil || caught {
		t.Fatalf("one batch caught up (%v, %v)", caught, err)
	}
	var dirty int
	if err := raw.QueryRow(`SELECT count(*) FROM report_dirty`).Scan(&dirty); err != nil || dirty == 0 {
		t.Fatalf("%d tickets noted (%v)", dirty, err)
	}
	r, err := rs.Report(ctx, "workload", reports.Query{Range: "today", TZ: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	if !r.Ready {
		if _, err := rs.Refresh(ctx, 0); err != nil {
			t.Fatal(err)
		}
		if r, err = rs.Report(ctx, "workload", reports.Query{Range: "today", TZ: "UTC"}); err != nil {
			t.Fatal(err)
		}
	}
	spam := int64((n + 6) / 7)
	same(t, "workload", []any{r.Totals["backlog"], r.Totals["resolved"]}, fmt.Sprintf(`[%d, %d]`, n-spam, spam))
	v, err := rs.Report(ctx, "volume", reports.Query{Range: "today", TZ: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	same(t, "volume", []any{v.Totals["created"], v.Totals["resolved"], v.Totals["messages_in"]}, fmt.Sprintf(`[%d, %d, %d]`, n, spam, n))
	var rows int
	if err := raw.QueryRow(`SELECT (SELECT count(*) FROM report_tickets) + (SELECT count(*) FROM report_dirty)`).Scan(&rows); err != nil || rows != n {
		t.Fatalf("%d report rows and dirty left (%v)", rows, err)
	}
}

// A shop in India (UTC+5:30) and the same tickets read in Nepal's time
// (UTC+5:45): days and hours start inside UTC hours. Times are UTC.
//
//	K2 05-31 18:20  Sunday 23:50 in India (the week before), Monday 00:05 in Nepal
//	K1 05-31 18:40  Monday 00:10 in India, 00:25 in Nepal
//	K3 06-02 05:50  Tuesday 11:20 in India
//	K4 06-07 18:10  Sunday 23:40 in India, 23:55 in Nepal
//	K5 06-07 18:35  Monday 06-08 00:05 in India, 00:20 in Nepal (the week after)
func TestReportHalfHourZones(t *testing.T) {
	d, _, raw, rs := newReports(t)
	shop, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Pune shop", Timezone: "Asia/Kolkata"})
	if err != nil {
		t.Fatal(err)
	}
	s := &reportStory{d: d, rs: rs, raw: raw, shop: shop.ID, ticket: map[string]int64{}}
	utc := func(day, clock string) time.Time {
		t, err := time.Parse("2006-01-02 15:04", "2026-"+day+" "+clock)
		if err != nil {
			panic(err)
		}
		return t
	}
	s.open(t, "K2", "chat", utc("05-31", "18:20"))
	s.open(t, "K1", "email", utc("05-31", "18:40"))
	s.open(t, "K3", "chat", utc("06-02", "05:50"))
	s.open(t, "K4", "email", utc("06-07", "18:10"))
	s.open(t, "K5", "email", utc("06-07", "18:35"))

	r := s.report(t, "volume", reports.Query{Compare: true})
	same(t, "zone", r.Range.TZ, `"Asia/Kolkata"`)
	same(t, "totals", r.Totals, `{"created": 3, "resolved": 0, "reopened": 0, "messages_in": 3, "messages_out": 0}`)
	same(t, "previous", r.Previous, `{"created": 1, "resolved": 0, "reopened": 0, "messages_in": 1, "messages_out": 0}`)
	same(t, "by day", r.Table("by_day").Rows, `[
		["2026-06-01", 1, 0, 0, 1, 0],
		["2026-06-02", 1, 0, 0, 1, 0],
		["2026-06-03", 0, 0, 0, 0, 0],
		["2026-06-04", 0, 0, 0, 0, 0],
		["2026-06-05", 0, 0, 0, 0, 0],
		["2026-06-06", 0, 0, 0, 0, 0],
		["2026-06-07", 1, 0, 0, 1, 0]]`)
	hours := r.Table("by_hour").Rows
	same(t, "Monday 00:00", hours[0*24+0], `[0, 0, 1, 1]`)
	same(t, "Tuesday 11:00", hours[1*24+11], `[1, 11, 1, 1]`)
	same(t, "Tuesday 10:00", hours[1*24+10], `[1, 10, 0, 0]`)
	same(t, "Sunday 23:00", hours[6*24+23], `[6, 23, 1, 1]`)
	same(t, "by channel", r.Table("by_channel").Rows, `[["email", 2, 0, 0, 2, 0], ["chat", 1, 0, 0, 1, 0]]`)

	w := s.report(t, "workload", reports.Query{})
	same(t, "backlog", w.Table("backlog").Rows, `[
		["2026-06-01", 2], ["2026-06-02", 3], ["2026-06-03", 3], ["2026-06-04", 3],
		["2026-06-05", 3], ["2026-06-06", 3], ["2026-06-07", 4]]`)

	n := s.report(t, "volume", reports.Query{TZ: "Asia/Kathmandu"})
	same(t, "Nepal totals", n.Totals["created"], `4`)
	same(t, "Nepal Monday", n.Table("by_day").Rows[0], `["2026-06-01", 2, 0, 0, 2, 0]`)
	same(t, "Nepal Sunday", n.Table("by_day").Rows[6], `["2026-06-07", 1, 0, 0, 1, 0]`)
	same(t, "Nepal by channel", n.Table("by_channel").Rows, `[["chat", 2, 0, 0, 2, 0], ["email", 2, 0, 0, 2, 0]]`)
}

// While a long history is being counted, the tickets open now are not all
// counted yet: the backlog, worked out backwards from them, reads as not
// known (null) rather than too low, and as it is once counted.
func TestReportBacklogWhileCounting(t *testing.T) {
	d, _, raw, rs := newReports(t)
	res := desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("long@mail.test"), Subject: "Order", Text: "Hello"})
	// More messages than a report's own refresh reads before answering.
	desktest.Exec(t, raw, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
		INSERT INTO messages (ticket_id, kind, channel, body, created_at)
		SELECT ?, 'customer', 'email', 'And again', created_at FROM messages, n WHERE messages.ticket_id = ?`, res.Ticket.ID, res.Ticket.ID)
	q := reports.Query{Range: "today", TZ: "UTC", Compare: true}
	r, err := rs.Report(ctx, "workload", q)
	if err != nil {
		t.Fatal(err)
	}
	if r.Ready {
		t.Fatal("3,000 messages counted by one report")
	}
	same(t, "backlog while counting", []any{r.Totals["backlog"], r.Previous["backlog"], r.Table("backlog").Rows},
		`[null, null, [["`+r.Range.From+`", null]]]`)
	if _, err := rs.Refresh(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if r, err = rs.Report(ctx, "overview", q); err != nil || !r.Ready {
		t.Fatalf("ready %v, %v", r.Ready, err)
	}
	same(t, "backlog counted", []any{r.Totals["backlog"], r.Previous["backlog"]}, `[1, 0]`)
}
