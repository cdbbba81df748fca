package reports

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"time"

	"onedesk/store"
)

// Names are the reports there are, in the app's order.
var Names = []string{"overview", "volume", "speed", "workload", "sla", "greetings", "revenue"}

// Query is what a report is asked for.
type Query struct {
	Range    string // today, 7d, 30d, 90d or custom
	From, To string // days, YYYY-MM-DD, for custom
	TZ       string // IANA name; "" picks the store's
	Filter   store.ReportFilter
	By       string // overview: channel, store, team or agent
	Compare  bool   // also the period before, of the same length
	Days     int    // revenue: the days after a resolution an order counts (0: 30)
}

// Report is a report's answer: totals, the previous period's, and tables.
type Report struct {
	Report string `json:"report"`
	Range  Range  `json:"range"`
	Ready  bool   `json:"ready"`
	// CountedPct: while a long history is counted, how much is done.
	CountedPct *int           `json:"counted_pct,omitempty"`
	Totals     map[string]any `json:"totals"`
	Previous   map[string]any `json:"previous,omitempty"`
	Tables     []*Table       `json:"tables"`
}

// Range is the period a report covers, in its time zone.
type Range struct {
	From         string `json:"from"`
	To           string `json:"to"`
	TZ           string `json:"tz"`
	Days         int    `json:"days"`
	PreviousFrom string `json:"previous_from,omitempty"`
	PreviousTo   string `json:"previous_to,omitempty"`
}

// Table is one table of a report; the CSV of it has the same cells.
type Table struct {
	Name    string   `json:"name"`
	Columns []string `json:"columns"`
	Rows    [][]any  `json:"rows"`
}

// Table returns the report's table of that name, or nil.
func (r *Report) Table(name string) *Table {
	for _, t := range r.Tables {
		if t.Name == name {
			return t
		}
	}
	return nil
}

const dayFormat = "2006-01-02"

// maxReportDays bounds a custom range.
const maxReportDays = 366

// period is a run of whole days in a time zone: from its first midnight
// to the midnight after its last day.
type period struct {
	loc      *time.Location
	first    time.Time // local midnight of the first day
	days     int
	from, to time.Time // the instants, to excluded
}

func newPeriod(first time.Time, days int) period {
	p := period{loc: first.Location(), first: first, days: days}
	p.from = first
	p.to = p.day(days)
	return p
}

// day is the local midnight starting the period's i-th day.
func (p period) day(i int) time.Time {
	return time.Date(p.first.Year(), p.first.Month(), p.first.Day()+i, 0, 0, 0, 0, p.loc)
}

// dayOf is the index of the day t falls on (may be out of the period).
func (p period) dayOf(t time.Time) int {
	l := t.In(p.loc)
	d := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, time.UTC)
	f := time.Date(p.first.Year(), p.first.Month(), p.first.Day(), 0, 0, 0, 0, time.UTC)
	return int(d.Sub(f) / (24 * time.Hour))
}

// quarters are the period's quarter hours (store.QuarterOf), to excluded.
// Every midnight of every zone is on a quarter.
func (p period) quarters() (int64, int64) {
	return store.QuarterOf(p.from), store.QuarterOf(p.to)
}

// step is what the period's counts are read by: whole UTC hours when its
// zone is a whole number of hours off UTC all through it (a quarter of the
// rows to read), else quarter hours, so that its days and hours start on
// the half or three quarters of a UTC hour where they do.
func (p period) step() string {
	for t := p.from; t.Before(p.to); {
		if _, off := t.Zone(); off%3600 != 0 {
			return "quarter"
		}
		_, end := t.ZoneBounds()
		if !end.After(t) {
			break
		}
		t = end
	}
	return "hour"
}

// resolvePeriod reads a query's range in its time zone.
func (rs *Reports) resolvePeriod(ctx context.Context, q Query, now time.Time) (period, error) {
	loc, err := rs.reportZone(ctx, q)
	if err != nil {
		return period{}, err
	}
	l := now.In(loc)
	today := time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, loc)
	parse := func(field, v string) (time.Time, error) {
		t, err := time.ParseInLocation(dayFormat, v, loc)
		if err != nil {
			return time.Time{}, inputErr(field, "%s must be a day like 2026-11-01", field)
		}
		return t, nil
	}
	switch q.Range {
	case "today":
		return newPeriod(today, 1), nil
	case "", "7d", "30d", "90d":
		n := 7
		if q.Range != "" {
			n, _ = strconv.Atoi(q.Range[:len(q.Range)-1])
		}
		return newPeriod(time.Date(today.Year(), today.Month(), today.Day()-n+1, 0, 0, 0, 0, loc), n), nil
	case "custom":
		if q.From == "" {
			return period{}, inputErr("from", "a custom range needs from, a day like 2026-11-01")
		}
		from, err := parse("from", q.From)
		if err != nil {
			return period{}, err
		}
		to := today
		if q.To != "" {
			if to, err = parse("to", q.To); err != nil {
				return period{}, err
			}
		}
		p := newPeriod(from, 1)
		days := p.dayOf(to) + 1
		if days < 1 {
			return period{}, inputErr("to", "to must not be before from")
		}
		if days > maxReportDays {
			return period{}, inputErr("from", "a report covers at most %d days", maxReportDays)
		}
		return newPeriod(from, days), nil
	}
	return period{}, inputErr("range", "range must be today, 7d, 30d, 90d or custom")
}

// reportZone is the query's time zone, else the filtered store's, else
// the only store's, else UTC.
func (rs *Reports) reportZone(ctx context.Context, q Query) (*time.Location, error) {
	name := q.TZ
	if name == "" {
		stores, err := rs.db.Stores(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range stores {
			if q.Filter.StoreID != nil && s.ID == *q.Filter.StoreID || q.Filter.StoreID == nil && len(stores) == 1 {
				name = s.Timezone
			}
		}
	}
	if name == "" {
		return time.UTC, nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		if q.TZ == "" {
			return time.UTC, nil // a store's zone this binary does not know
		}
		return nil, inputErr("tz", "%q is not a time zone: use a name like Europe/Lisbon", q.TZ)
	}
	return loc, nil
}

// Report works a report out. Reports are at most a refresh behind: the
// call counts what is new first, unless that is a long way (a database
// made before reports), which the background refresh reads meanwhile.
func (rs *Reports) Report(ctx context.Context, name string, q Query) (*Report, error) {
	if f := rs.provider(name); f != nil {
		return rs.extraReport(ctx, name, f, q)
	}
	if !slices.Contains(Names, name) {
		return nil, &store.NotFoundError{Thing: fmt.Sprintf("report %q", name)}
	}
	if name == "overview" && q.By == "" {
		q.By = "channel"
	}
	if q.By != "" && !slices.Contains([]string{"channel", "store", "team", "agent"}, q.By) {
		return nil, inputErr("by", "by must be channel, store, team or agent")
	}
	if q.Days == 0 {
		q.Days = RevenueDaysDefault
	}
	if q.Days < 1 || q.Days > RevenueDaysMax {
		return nil, inputErr("days", "days is from 1 to %d", RevenueDaysMax)
	}
	now := store.Now()
	p, err := rs.resolvePeriod(ctx, q, now)
	if err != nil {
		return nil, err
	}
	ready, err := rs.Refresh(ctx, 4)
	if err != nil {
		return nil, err
	}
	r := &Report{Report: name, Ready: ready, Range: Range{From: p.first.Format(dayFormat),
		To: p.day(p.days - 1).Format(dayFormat), TZ: p.loc.String(), Days: p.days}}
	if _, pct, counting := rs.Counting(); counting && !ready {
		r.CountedPct = &pct
	}
	rd := &reportData{db: rs.db, ctx: ctx, f: q.Filter, p: p, now: now, ready: ready}
	if r.Totals, r.Tables, err = rd.build(name, q, true); err != nil {
		return nil, err
	}
	for _, t := range r.Tables {
		if t.Rows == nil {
			t.Rows = [][]any{} // [] in JSON, as for any list
		}
	}
	if q.Compare {
		prev := newPeriod(time.Date(p.first.Year(), p.first.Month(), p.first.Day()-p.days, 0, 0, 0, 0, p.loc), p.days)
		r.Range.PreviousFrom, r.Range.PreviousTo = prev.first.Format(dayFormat), prev.day(prev.days-1).Format(dayFormat)
		pd := &reportData{db: rs.db, ctx: ctx, f: q.Filter, p: prev, now: now, ready: ready, open: rd.open}
		if r.Previous, _, err = pd.build(name, q, false); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// reportData reads what a report of one period needs, each part once.
type reportData struct {
	db  *store.DB
	ctx context.Context
	f   store.ReportFilter
	p   period
	now time.Time
	// ready: the history is all counted. Until then the backlog, worked
	// out backwards from the tickets open now, is not known (the open
	// tickets are counted last, so it would read too low, even below 0).
	ready bool

	byTime   []store.ReportRow // by hour or quarter (period.step)
	created  []store.ReportTicket
	resolved []store.ReportTicket
	open     map[int64]int64
	names    map[string]map[string]string
	read     map[string]bool
}

func (rd *reportData) load(part string) error {
	if rd.read[part] {
		return nil
	}
	if rd.read == nil {
		rd.read = map[string]bool{}
	}
	var err error
	switch part {
	case "hours":
		from, to := rd.p.quarters()
		rd.byTime, err = rd.db.SumReport(rd.ctx, rd.f, from, to, rd.p.step())
	case "created":
		rd.created, err = rd.db.ReportCreated(rd.ctx, rd.f, rd.p.from, rd.p.to)
	case "resolved":
		rd.resolved, err = rd.db.ReportResolved(rd.ctx, rd.f, rd.p.from, rd.p.to)
	case "open":
		if rd.open == nil {
			rd.open, err = rd.db.ReportOpen(rd.ctx, rd.f)
		}
	}
	rd.read[part] = err == nil
	return err
}

func (rd *reportData) loadAll(parts ...string) error {
	for _, p := range parts {
		if err := rd.load(p); err != nil {
			return err
		}
	}
	return nil
}

// totals sums the period's counts.
func (rd *reportData) totals() store.ReportCounts {
	var c store.ReportCounts
	for _, h := range rd.byTime {
		c.Add(h.ReportCounts)
	}
	return c
}

// byKey sums the period's counts by a key, in the order of most created.
func (rd *reportData) byKey(by string) ([]store.ReportRow, error) {
	from, to := rd.p.quarters()
	rows, err := rd.db.SumReport(rd.ctx, rd.f, from, to, by)
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(rows, func(a, b store.ReportRow) int {
		if a.Created != b.Created {
			return int(b.Created - a.Created)
		}
		return int(b.MessagesIn+b.MessagesOut) - int(a.MessagesIn+a.MessagesOut)
	})
	return rows, nil
}

// backlogAt is how many tickets were open at t: those open now, less
// what came in since, plus what left since.
func (rd *reportData) backlogAt(t time.Time) (int64, error) {
	if err := rd.load("open"); err != nil {
		return 0, err
	}
	n := int64(0)
	for _, c := range rd.open {
		n += c
	}
	if !t.Before(rd.now) {
		return n, nil
	}
	rows, err := rd.db.SumReport(rd.ctx, rd.f, store.QuarterOf(t), store.QuarterOf(rd.now)+1, "hour")
	if err != nil {
		return 0, err
	}
	for _, h := range rows {
		n -= h.Created - h.Resolved + h.Reopened
	}
	return n, nil
}

// known is a backlog, or nil while the history is being counted.
func (rd *reportData) known(backlog int64) any {
	if !rd.ready {
		return nil
	}
	return backlog
}

// name is the name of a store, team or agent id ("" for none).
func (rd *reportData) name(by, key string) (string, error) {
	if rd.names == nil {
		rd.names = map[string]map[string]string{"store": {}, "team": {}, "agent": {}}
		stores, err := rd.db.Stores(rd.ctx)
		if err != nil {
			return "", err
		}
		for _, s := range stores {
			rd.names["store"][strconv.FormatInt(s.ID, 10)] = s.Name
		}
		teams, err := rd.db.Teams(rd.ctx)
		if err != nil {
			return "", err
		}
		for _, t := range teams {
			rd.names["team"][strconv.FormatInt(t.ID, 10)] = t.Name
		}
		agents, err := rd.db.Agents(rd.ctx)
		if err != nil {
			return "", err
		}
		for _, a := range agents {
			rd.names["agent"][strconv.FormatInt(a.ID, 10)] = a.Name
		}
	}
	return rd.names[by][key], nil
}

// keyCells are a row's first cells: the key, and a name for ids.
func (rd *reportData) keyCells(by, key string) ([]any, error) {
	if by == "channel" {
		return []any{key}, nil
	}
	id, _ := strconv.ParseInt(key, 10, 64)
	name, err := rd.name(by, key)
	return []any{id, name}, err
}

func keyColumns(by string) []string {
	if by == "channel" {
		return []string{"channel"}
	}
	return []string{by, "name"}
}

func ticketKey(by string, t store.ReportTicket) string {
	switch by {
	case "channel":
		return t.Channel
	case "store":
		return strconv.FormatInt(t.StoreID, 10)
	case "team":
		return strconv.FormatInt(t.TeamID, 10)
	}
	return strconv.FormatInt(t.AgentID, 10)
}

// speeds are the durations of a group of tickets.
type speeds struct {
	fr, frBH, res, resBH []int64
}

func (s *speeds) addCreated(t store.ReportTicket) {
	if t.FirstResponse != nil {
		s.fr, s.frBH = append(s.fr, *t.FirstResponse), append(s.frBH, *t.FirstResponseBH)
	}
}

func (s *speeds) addResolved(t store.ReportTicket) {
	if t.Resolution != nil {
		s.res, s.resBH = append(s.res, *t.Resolution), append(s.resBH, *t.ResolutionBH)
	}
}

// speedsBy groups the period's created and resolved tickets by a key.
func (rd *reportData) speedsBy(by string) map[string]*speeds {
	groups := map[string]*speeds{}
	group := func(t store.ReportTicket) *speeds {
		k := ticketKey(by, t)
		if groups[k] == nil {
			groups[k] = &speeds{}
		}
		return groups[k]
	}
	for _, t := range rd.created {
		group(t).addCreated(t)
	}
	for _, t := range rd.resolved {
		group(t).addResolved(t)
	}
	return groups
}

// median is the middle value, or the mean of the two middle ones
// (rounded down to the second); nil for none. It sorts v (a second call
// on the same values costs a pass over them).
func median(v []int64) any {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	s := v
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// p90 is the 90th percentile by nearest rank: the value at rank
// ceil(0.9 n) of n, in order. It sorts v, as median does.
func p90(v []int64) any {
	if len(v) == 0 {
		return nil
	}
	slices.Sort(v)
	return v[(9*len(v)+9)/10-1]
}

func rate(part, whole int64) any {
	if whole == 0 {
		return nil
	}
	return float64(part) / float64(whole)
}

var speedColumns = []string{"answered", "first_response_median_s", "first_response_p90_s", "first_response_bh_median_s",
	"first_response_bh_p90_s", "resolved", "resolution_median_s", "resolution_p90_s", "resolution_bh_median_s", "resolution_bh_p90_s"}

func (s *speeds) cells() []any {
	return []any{int64(len(s.fr)), median(s.fr), p90(s.fr), median(s.frBH), p90(s.frBH),
		int64(len(s.res)), median(s.res), p90(s.res), median(s.resBH), p90(s.resBH)}
}

// slaCounts are the SLA outcomes of a group of tickets.
type slaCounts struct{ frMet, frMissed, resMet, resMissed, breaches int64 }

func (c *slaCounts) addCreated(t store.ReportTicket) {
	if t.SLAFirstResponse != nil {
		if *t.SLAFirstResponse {
			c.frMet++
		} else {
			c.frMissed++
		}
	}
}

func (c *slaCounts) addResolved(t store.ReportTicket) {
	if t.SLAResolution != nil {
		if *t.SLAResolution {
			c.resMet++
		} else {
			c.resMissed++
		}
	}
}

var slaColumns = []string{"first_response_met", "first_response_missed", "sla_first_response_rate",
	"resolution_met", "resolution_missed", "sla_resolution_rate", "breaches"}

func (c *slaCounts) cells() []any {
	return []any{c.frMet, c.frMissed, rate(c.frMet, c.frMet+c.frMissed),
		c.resMet, c.resMissed, rate(c.resMet, c.resMet+c.resMissed), c.breaches}
}

func totalsOf(columns []string, cells []any) map[string]any {
	m := make(map[string]any, len(columns))
	for i, c := range columns {
		m[c] = cells[i]
	}
	return m
}

var countColumns = []string{"created", "resolved", "reopened", "messages_in", "messages_out"}

func countCells(c store.ReportCounts) []any {
	return []any{c.Created, c.Resolved, c.Reopened, c.MessagesIn, c.MessagesOut}
}

// build works out a report's totals and, with tables, its tables.
func (rd *reportData) build(name string, q Query, tables bool) (map[string]any, []*Table, error) {
	by := q.By
	switch name {
	case "revenue":
		return rd.revenue(q.Days, tables)
	case "overview":
		return rd.overview(by, tables)
	case "volume":
		return rd.volume(tables)
	case "speed":
		return rd.speed(tables)
	case "workload":
		return rd.workload(tables)
	case "greetings":
		return rd.greetings(tables)
	}
	return rd.sla(tables)
}

func (rd *reportData) overview(by string, tables bool) (map[string]any, []*Table, error) {
	if err := rd.loadAll("hours", "created", "resolved"); err != nil {
		return nil, nil, err
	}
	totals := totalsOf(countColumns, countCells(rd.totals()))
	backlog, err := rd.backlogAt(rd.p.to)
	if err != nil {
		return nil, nil, err
	}
	totals["backlog"] = rd.known(backlog)
	var sp speeds
	var sla slaCounts
	for _, t := range rd.created {
		sp.addCreated(t)
		sla.addCreated(t)
	}
	var touched int64
	for _, t := range rd.resolved {
		sp.addResolved(t)
		sla.addResolved(t)
		if oneTouch(t) {
			touched++
		}
	}
	totals["first_response_median_s"], totals["first_response_p90_s"] = median(sp.fr), p90(sp.fr)
	totals["resolution_median_s"], totals["resolution_p90_s"] = median(sp.res), p90(sp.res)
	totals["one_touch_rate"] = rate(touched, int64(len(rd.resolved)))
	totals["sla_first_response_rate"] = rate(sla.frMet, sla.frMet+sla.frMissed)
	totals["sla_resolution_rate"] = rate(sla.resMet, sla.resMet+sla.resMissed)
	if !tables {
		return totals, nil, nil
	}
	tb, err := rd.overviewTable(by)
	if err != nil {
		return nil, nil, err
	}
	return totals, []*Table{tb}, nil
}

// overviewTable is the overview's table by channel, store, team or agent:
// the counts and the speeds of each.
func (rd *reportData) overviewTable(by string) (*Table, error) {
	groups := rd.speedsBy(by)
	group := func(k string) *speeds {
		if groups[k] == nil {
			groups[k] = &speeds{}
		}
		return groups[k]
	}
	rows, err := rd.byKey(by)
	if err != nil {
		return nil, err
	}
	tb := &Table{Name: "by_" + by, Columns: append(keyColumns(by), "created", "resolved", "messages_in", "messages_out",
		"first_response_median_s", "first_response_p90_s", "resolution_median_s", "resolution_p90_s")}
	seen := map[string]bool{}
	addRow := func(key string, c store.ReportCounts) error {
		seen[key] = true
		cells, err := rd.keyCells(by, key)
		if err != nil {
			return err
		}
		s := group(key)
		tb.Rows = append(tb.Rows, append(cells, c.Created, c.Resolved, c.MessagesIn, c.MessagesOut,
			median(s.fr), p90(s.fr), median(s.res), p90(s.res)))
		return nil
	}
	for _, h := range rows {
		if err := addRow(h.Key, h.ReportCounts); err != nil {
			return nil, err
		}
	}
	// Tickets answered or resolved in the period, made before it.
	for _, k := range slices.Sorted(maps.Keys(groups)) {
		if !seen[k] {
			if err := addRow(k, store.ReportCounts{}); err != nil {
				return nil, err
			}
		}
	}
	return tb, nil
}

func (rd *reportData) volume(tables bool) (map[string]any, []*Table, error) {
	if err := rd.load("hours"); err != nil {
		return nil, nil, err
	}
	totals := totalsOf(countColumns, countCells(rd.totals()))
	if !tables {
		return totals, nil, nil
	}
	days := make([]store.ReportCounts, rd.p.days)
	var week [7][24]store.ReportCounts
	for _, h := range rd.byTime {
		at := h.Time().In(rd.p.loc)
		if i := rd.p.dayOf(at); i >= 0 && i < len(days) {
			days[i].Add(h.ReportCounts)
		}
		week[(int(at.Weekday())+6)%7][at.Hour()].Add(h.ReportCounts)
	}
	byDay := &Table{Name: "by_day", Columns: append([]string{"day"}, countColumns...)}
	for i, c := range days {
		byDay.Rows = append(byDay.Rows, append([]any{rd.p.day(i).Format(dayFormat)}, countCells(c)...))
	}
	byHour := &Table{Name: "by_hour", Columns: []string{"weekday", "hour", "created", "messages_in"}}
	for wd := range week {
		for hr, c := range week[wd] {
			byHour.Rows = append(byHour.Rows, []any{wd, hr, c.Created, c.MessagesIn})
		}
	}
	out := []*Table{byDay, byHour}
	for _, by := range []string{"channel", "store", "team", "agent"} {
		rows, err := rd.byKey(by)
		if err != nil {
			return nil, nil, err
		}
		tb := &Table{Name: "by_" + by, Columns: append(keyColumns(by), countColumns...)}
		for _, h := range rows {
			cells, err := rd.keyCells(by, h.Key)
			if err != nil {
				return nil, nil, err
			}
			tb.Rows = append(tb.Rows, append(cells, countCells(h.ReportCounts)...))
		}
		out = append(out, tb)
	}
	return totals, out, nil
}

func (rd *reportData) speed(tables bool) (map[string]any, []*Table, error) {
	if err := rd.loadAll("created", "resolved"); err != nil {
		return nil, nil, err
	}
	var all speeds
	for _, t := range rd.created {
		all.addCreated(t)
	}
	for _, t := range rd.resolved {
		all.addResolved(t)
	}
	totals := totalsOf(speedColumns, all.cells())
	if !tables {
		return totals, nil, nil
	}
	days := make([]speeds, rd.p.days)
	for _, t := range rd.created {
		if i := rd.p.dayOf(t.CreatedAt); i >= 0 && i < len(days) {
			days[i].addCreated(t)
		}
	}
	for _, t := range rd.resolved {
		if i := rd.p.dayOf(*t.ResolvedAt); i >= 0 && i < len(days) {
			days[i].addResolved(t)
		}
	}
	byDay := &Table{Name: "by_day", Columns: []string{"day", "first_response_median_s", "resolution_median_s"}}
	for i, s := range days {
		byDay.Rows = append(byDay.Rows, []any{rd.p.day(i).Format(dayFormat), median(s.fr), median(s.res)})
	}
	out := []*Table{byDay}
	for _, by := range []string{"channel", "team", "agent"} {
		groups := rd.speedsBy(by)
		tb := &Table{Name: "by_" + by, Columns: append(keyColumns(by), speedColumns...)}
		for _, k := range sortedKeys(groups, func(s *speeds) int { return len(s.fr) + len(s.res) }) {
			cells, err := rd.keyCells(by, k)
			if err != nil {
				return nil, nil, err
			}
			tb.Rows = append(tb.Rows, append(cells, groups[k].cells()...))
		}
		out = append(out, tb)
	}
	return totals, out, nil
}

// sortedKeys are m's keys, the largest by size first, then by key.
func sortedKeys[V any](m map[string]V, size func(V) int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		if d := size(m[b]) - size(m[a]); d != 0 {
			return d
		}
		if a < b {
			return -1
		}
		return 1
	})
	return keys
}

// oneTouch is a ticket resolved with one reply and never reopened.
func oneTouch(t store.ReportTicket) bool { return t.Replies == 1 && t.Reopens == 0 }

// agentLoad is what one agent did with the tickets resolved in a period.
type agentLoad struct{ open, resolved, replies, oneTouch int64 }

var workloadColumns = []string{"backlog", "resolved", "replies", "replies_per_ticket", "one_touch", "one_touch_rate"}

func (rd *reportData) workload(tables bool) (map[string]any, []*Table, error) {
	if err := rd.loadAll("resolved", "open", "hours"); err != nil {
		return nil, nil, err
	}
	loads := map[string]*agentLoad{}
	load := func(k string) *agentLoad {
		if loads[k] == nil {
			loads[k] = &agentLoad{}
		}
		return loads[k]
	}
	var all agentLoad
	for _, t := range rd.resolved {
		l := load(strconv.FormatInt(t.AgentID, 10))
		for _, l := range []*agentLoad{l, &all} {
			l.resolved++
			l.replies += int64(t.Replies)
			if oneTouch(t) {
				l.oneTouch++
			}
		}
	}
	backlog, err := rd.backlogAt(rd.p.to)
	if err != nil {
		return nil, nil, err
	}
	totals := totalsOf(workloadColumns, []any{rd.known(backlog), all.resolved, all.replies, ratio(all.replies, all.resolved),
		all.oneTouch, rate(all.oneTouch, all.resolved)})
	if !tables {
		return totals, nil, nil
	}
	bt := rd.backlogTable(backlog)
	for k, n := range rd.open {
		load(strconv.FormatInt(k, 10)).open = n
	}
	at := &Table{Name: "by_agent", Columns: []string{"agent", "name", "open", "resolved", "replies", "replies_per_ticket", "one_touch_rate"}}
	for _, k := range sortedKeys(loads, func(l *agentLoad) int { return int(l.open + l.resolved) }) {
		l := loads[k]
		cells, err := rd.keyCells("agent", k)
		if err != nil {
			return nil, nil, err
		}
		at.Rows = append(at.Rows, append(cells, l.open, l.resolved, l.replies, ratio(l.replies, l.resolved), rate(l.oneTouch, l.resolved)))
	}
	return totals, []*Table{bt, at}, nil
}

// backlogTable is the backlog at the end of each day, walking back from
// backlog, the one at the period's end.
func (rd *reportData) backlogTable(backlog int64) *Table {
	bt := &Table{Name: "backlog", Columns: []string{"day", "open"}}
	rows := rd.byTime
	ends := make([]any, rd.p.days)
	open, hi := backlog, len(rows)-1
	for i := rd.p.days - 1; i >= 0; i-- {
		end := rd.p.day(i + 1).Unix()
		for ; hi >= 0 && rows[hi].Quarter*900 >= end; hi-- {
			open -= rows[hi].Created - rows[hi].Resolved + rows[hi].Reopened
		}
		if !rd.p.day(i).After(rd.now) {
			ends[i] = rd.known(open) // a day not begun yet has no backlog
		}
	}
	for i := range ends {
		bt.Rows = append(bt.Rows, []any{rd.p.day(i).Format(dayFormat), ends[i]})
	}
	return bt
}

// ratio is part / whole to two decimals, nil for a whole of 0.
func ratio(part, whole int64) any {
	if whole == 0 {
		return nil
	}
	return float64(part*100/whole) / 100
}

func (rd *reportData) sla(tables bool) (map[string]any, []*Table, error) {
	if err := rd.loadAll("hours", "created", "resolved"); err != nil {
		return nil, nil, err
	}
	var all slaCounts
	for _, t := range rd.created {
		all.addCreated(t)
	}
	for _, t := range rd.resolved {
		all.addResolved(t)
	}
	all.breaches = rd.totals().Breaches
	totals := totalsOf(slaColumns, all.cells())
	if !tables {
		return totals, nil, nil
	}
	teams := map[string]*slaCounts{}
	team := func(k string) *slaCounts {
		if teams[k] == nil {
			teams[k] = &slaCounts{}
		}
		return teams[k]
	}
	for _, t := range rd.created {
		team(ticketKey("team", t)).addCreated(t)
	}
	for _, t := range rd.resolved {
		team(ticketKey("team", t)).addResolved(t)
	}
	rows, err := rd.byKey("team")
	if err != nil {
		return nil, nil, err
	}
	for _, h := range rows {
		if h.Breaches > 0 {
			team(h.Key).breaches = h.Breaches
		}
	}
	tt := &Table{Name: "by_team", Columns: append([]string{"team", "name"}, slaColumns...)}
	for _, k := range sortedKeys(teams, func(c *slaCounts) int { return int(c.frMet + c.frMissed + c.resMet + c.resMissed + c.breaches) }) {
		cells, err := rd.keyCells("team", k)
		if err != nil {
			return nil, nil, err
		}
		tt.Rows = append(tt.Rows, append(cells, teams[k].cells()...))
	}
	days := make([]int64, rd.p.days)
	for _, h := range rd.byTime {
		if i := rd.p.dayOf(h.Time()); i >= 0 && i < len(days) {
			days[i] += h.Breaches
		}
	}
	bd := &Table{Name: "by_day", Columns: []string{"day", "breaches"}}
	for i, n := range days {
		bd.Rows = append(bd.Rows, []any{rd.p.day(i).Format(dayFormat), n})
	}
	return totals, []*Table{tt, bd}, nil
}
