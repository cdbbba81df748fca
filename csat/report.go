package csat

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"

	"onedesk/reports"
	"onedesk/store"
)

// maxReportRows bounds the surveys one report reads (a small shop sends a
// few thousand a month).
const maxReportRows = 200_000

// The CSAT report (plugged into reports as "csat"): of the questions sent
// in the period, how many were answered (response rate), the average
// rating (1-5, thumbs counted as 1 and 5) and the share of satisfied
// customers (4 or 5), in total, by day, agent, team, channel and store,
// and the comments. A survey counts for the agent, team and store the
// ticket had when it was resolved.

var sumColumns = []string{"surveys_sent", "ratings", "csat_average", "satisfied_rate", "response_rate"}

type sums struct{ sent, rated, total, good int }

func (s *sums) add(sv *store.Survey) {
	s.sent++
	if sv.Rating > 0 {
		s.rated++
		s.total += sv.Rating
		if sv.Rating >= 4 {
			s.good++
		}
	}
}

func ratio(a, b int, scale float64) any {
	if b == 0 {
		return nil
	}
	return math.Round(float64(a)/float64(b)*scale*1000) / 1000
}

func (s *sums) cells() []any {
	return []any{s.sent, s.rated, ratio(s.total, s.rated, 1), ratio(s.good, s.rated, 1), ratio(s.rated, s.sent, 1)}
}

// ReportProvider answers the "csat" report.
func (s *Service) ReportProvider() reports.Provider { return s.report }

func (s *Service) report(ctx context.Context, p reports.Period) (map[string]any, []*reports.Table, error) {
	list, err := s.db.SentSurveys(ctx, p.From, p.To, maxReportRows)
	if err != nil {
		return nil, nil, fmt.Errorf("csat report: %w", err)
	}
	var total sums
	by := map[string]map[string]*sums{"day": {}, "agent": {}, "team": {}, "channel": {}, "store": {}}
	add := func(kind, key string, sv *store.Survey) {
		if by[kind][key] == nil {
			by[kind][key] = &sums{}
		}
		by[kind][key].add(sv)
	}
	comments := &reports.Table{Name: "comments", Columns: []string{"ticket", "rating", "scale", "agent", "name", "at", "comment"}}
	names, err := s.names(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, sv := range list {
		if !matches(p.Filter, sv) {
			continue
		}
		total.add(sv)
		if !p.Tables {
			continue
		}
		add("day", p.Day(*sv.SentAt), sv)
		add("agent", idKey(sv.AgentID), sv)
		add("team", idKey(sv.TeamID), sv)
		add("channel", sv.Channel, sv)
		add("store", idKey(sv.StoreID), sv)
		if sv.Comment != "" {
			comments.Rows = append(comments.Rows, []any{sv.TicketID, sv.Rating, sv.Scale, sv.AgentID,
				names["agent"][idKey(sv.AgentID)], sv.CommentedAt.In(p.Loc).Format("2006-01-02 15:04"), sv.Comment})
		}
	}
	totals := map[string]any{}
	for i, v := range total.cells() {
		totals[sumColumns[i]] = v
	}
	if !p.Tables {
		return totals, nil, nil
	}
	// Every day of the period has its row, so the chart's days line up.
	for day := p.From; day.Before(p.To); day = day.AddDate(0, 0, 1) {
		if k := p.Day(day); by["day"][k] == nil {
			by["day"][k] = &sums{}
		}
	}
	var tables []*reports.Table
	for _, kind := range []string{"day", "agent", "team", "channel", "store"} {
		t := &reports.Table{Name: "by_" + kind}
		keys := make([]string, 0, len(by[kind]))
		for k := range by[kind] {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			a, b := by[kind][keys[i]], by[kind][keys[j]]
			if kind == "day" || a.sent == b.sent {
				return keys[i] < keys[j]
			}
			return a.sent > b.sent
		})
		switch kind {
		case "day", "channel":
			t.Columns = append([]string{kind}, sumColumns...)
		default:
			t.Columns = append([]string{kind, "name"}, sumColumns...)
		}
		for _, k := range keys {
			var row []any
			switch kind {
			case "day", "channel":
				row = []any{k}
			default:
				row = []any{keyCell(k), names[kind][k]}
			}
			t.Rows = append(t.Rows, append(row, by[kind][k].cells()...))
		}
		tables = append(tables, t)
	}
	return totals, append(tables, comments), nil
}

func matches(f store.ReportFilter, sv *store.Survey) bool {
	same := func(want, got *int64) bool {
		if want == nil {
			return true
		}
		if *want == 0 {
			return got == nil
		}
		return got != nil && *got == *want
	}
	if !same(f.StoreID, sv.StoreID) || !same(f.TeamID, sv.TeamID) || !same(f.AgentID, sv.AgentID) {
		return false
	}
	if f.Channel != "" && f.Channel != sv.Channel {
		return false
	}
	if len(f.Stores) > 0 {
		if sv.StoreID == nil {
			return false
		}
		for _, id := range f.Stores {
			if id == *sv.StoreID {
				return true
			}
		}
		return false
	}
	return true
}

// names are the agents', teams' and stores' names by id.
func (s *Service) names(ctx context.Context) (map[string]map[string]string, error) {
	out := map[string]map[string]string{"agent": {}, "team": {}, "store": {}}
	agents, err := s.db.Agents(ctx)
	if err != nil {
		return nil, err
	}
	for _, a := range agents {
		out["agent"][strconv.FormatInt(a.ID, 10)] = a.Name
	}
	teams, err := s.db.Teams(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range teams {
		out["team"][strconv.FormatInt(t.ID, 10)] = t.Name
	}
	stores, err := s.db.Stores(ctx)
	if err != nil {
		return nil, err
	}
	for _, st := range stores {
		out["store"][strconv.FormatInt(st.ID, 10)] = st.Name
	}
	return out, nil
}

func idKey(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

// keyCell is an id key as the tables show it: a number, or null for none.
func keyCell(k string) any {
	if k == "" {
		return nil
	}
	n, _ := strconv.ParseInt(k, 10, 64)
	return n
}
