package reports

import (
	"context"
	"time"

	"onedesk/store"
)

// Reports kept by packages beside this one (csat) plug in here and get
// the same range, time zone, filters, comparison and CSV as the rest.

// Period is what a plugged-in report is asked for: the instants [From,
// To), the zone its days are counted in, and the filter.
type Period struct {
	From, To time.Time
	Loc      *time.Location
	Filter   store.ReportFilter
	// Tables is false for the previous period (totals alone are shown).
	Tables bool
}

// Day is the first instant of the day t falls on, in the period's zone,
// as the report's tables name days.
func (p Period) Day(t time.Time) string {
	l := t.In(p.Loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, p.Loc).Format(dayFormat)
}

// Provider works out a plugged-in report's totals and tables.
type Provider func(ctx context.Context, p Period) (totals map[string]any, tables []*Table, err error)

// AddReport plugs in the report name, answered by f.
func (rs *Reports) AddReport(name string, f Provider) {
	rs.extraMu.Lock()
	defer rs.extraMu.Unlock()
	if rs.extra == nil {
		rs.extra = map[string]Provider{}
	}
	rs.extra[name] = f
}

func (rs *Reports) provider(name string) Provider {
	rs.extraMu.RLock()
	defer rs.extraMu.RUnlock()
	return rs.extra[name]
}

// extraReport answers a plugged-in report.
func (rs *Reports) extraReport(ctx context.Context, name string, f Provider, q Query) (*Report, error) {
	p, err := rs.resolvePeriod(ctx, q, store.Now())
	if err != nil {
		return nil, err
	}
	r := &Report{Report: name, Ready: true, Range: Range{From: p.first.Format(dayFormat),
		To: p.day(p.days - 1).Format(dayFormat), TZ: p.loc.String(), Days: p.days}}
	if r.Totals, r.Tables, err = f(ctx, Period{From: p.from, To: p.to, Loc: p.loc, Filter: q.Filter, Tables: true}); err != nil {
		return nil, err
	}
	for _, t := range r.Tables {
		if t.Rows == nil {
			t.Rows = [][]any{}
		}
	}
	if q.Compare {
		prev := newPeriod(time.Date(p.first.Year(), p.first.Month(), p.first.Day()-p.days, 0, 0, 0, 0, p.loc), p.days)
		r.Range.PreviousFrom, r.Range.PreviousTo = prev.first.Format(dayFormat), prev.day(prev.days-1).Format(dayFormat)
		if r.Previous, _, err = f(ctx, Period{From: prev.from, To: prev.to, Loc: prev.loc, Filter: q.Filter}); err != nil {
			return nil, err
		}
	}
	return r, nil
}
