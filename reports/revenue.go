package reports

import (
	"math"
	"slices"
	"sort"
	"strconv"
	"time"

	"onedesk/store"
)

// The revenue-after-support report: the orders customers placed within
// N days (Query.Days, 30 by default) after a ticket of theirs was
// resolved in the period, by the agent who resolved it and by channel.
// Orders are those the desk keeps (shop_orders: seen by a lookup beside a
// ticket, or brought by an order webhook); an order is counted once, for
// the latest ticket resolved before it.

// RevenueDays bound Query.Days.
const (
	RevenueDaysDefault = 30
	RevenueDaysMax     = 365
)

var revenueColumns = []string{"currency", "resolved", "tickets_with_order", "orders", "revenue", "conversion_rate"}

type revenueGroup struct {
	resolved   int64
	withOrder  map[int64]bool
	orders     map[string]int64   // by currency
	revenue    map[string]float64 // by currency
	currencies []string
}

func newRevenueGroup() *revenueGroup {
	return &revenueGroup{withOrder: map[int64]bool{}, orders: map[string]int64{}, revenue: map[string]float64{}}
}

func (g *revenueGroup) add(ticketID int64, o store.TicketOrder) {
	g.withOrder[ticketID] = true
	if _, ok := g.orders[o.Currency]; !ok {
		g.currencies = append(g.currencies, o.Currency)
		slices.Sort(g.currencies)
	}
	g.orders[o.Currency]++
	g.revenue[o.Currency] += o.Total
}

// rows are the group's cells, one row per currency its orders were in
// (one row, of no currency, when it has none).
func (g *revenueGroup) rows() [][]any {
	conv := rate(int64(len(g.withOrder)), g.resolved)
	if len(g.currencies) == 0 {
		return [][]any{{"", g.resolved, int64(0), int64(0), 0.0, conv}}
	}
	var out [][]any
	for _, c := range g.currencies {
		out = append(out, []any{c, g.resolved, int64(len(g.withOrder)), g.orders[c], math.Round(g.revenue[c]*100) / 100, conv})
	}
	return out
}

func (rd *reportData) revenue(days int, tables bool) (map[string]any, []*Table, error) {
	// Report packs keep no ticket ids: the resolved tickets are read one
	// by one here.
	resolved, err := rd.db.ResolvedTickets(rd.ctx, rd.f, rd.p.from, rd.p.to)
	if err != nil {
		return nil, nil, err
	}
	window := time.Duration(days) * 24 * time.Hour
	byTicket := map[int64]store.ReportTicket{}
	ids := make([]int64, 0, len(resolved))
	var since time.Time
	for _, t := range resolved {
		if t.ResolvedAt == nil {
			continue
		}
		byTicket[t.TicketID] = t
		ids = append(ids, t.TicketID)
		if since.IsZero() || t.ResolvedAt.Before(since) {
			since = *t.ResolvedAt
		}
	}
	var found []store.TicketOrder
	if len(ids) > 0 {
		if found, err = rd.db.OrdersOfTickets(rd.ctx, ids, since); err != nil {
			return nil, nil, err
		}
	}
	// Each order goes to the latest ticket resolved before it, within the
	// window.
	best := map[string]store.TicketOrder{}
	for _, o := range found {
		t := byTicket[o.TicketID]
		if !o.OrderedAt.After(*t.ResolvedAt) || o.OrderedAt.Sub(*t.ResolvedAt) > window {
			continue
		}
		key := strconv.FormatInt(o.StoreID, 10) + "\x00" + o.OrderID
		if prev, ok := best[key]; !ok || byTicket[prev.TicketID].ResolvedAt.Before(*t.ResolvedAt) {
			best[key] = o
		}
	}
	total := newRevenueGroup()
	total.resolved = int64(len(ids))
	groups := map[string]map[string]*revenueGroup{"agent": {}, "channel": {}}
	group := func(by string, t store.ReportTicket) *revenueGroup {
		k := ticketKey(by, t)
		if groups[by][k] == nil {
			groups[by][k] = newRevenueGroup()
		}
		return groups[by][k]
	}
	for _, id := range ids {
		t := byTicket[id]
		group("agent", t).resolved++
		group("channel", t).resolved++
	}
	for _, o := range best {
		t := byTicket[o.TicketID]
		total.add(t.TicketID, o)
		group("agent", t).add(t.TicketID, o)
		group("channel", t).add(t.TicketID, o)
	}
	revenue := map[string]any{}
	var orders int64
	for _, c := range total.currencies {
		revenue[c] = math.Round(total.revenue[c]*100) / 100
		orders += total.orders[c]
	}
	totals := map[string]any{"days": days, "resolved": total.resolved, "tickets_with_order": int64(len(total.withOrder)),
		"orders": orders, "revenue": revenue, "conversion_rate": rate(int64(len(total.withOrder)), total.resolved)}
	if !tables {
		return totals, nil, nil
	}
	var out []*Table
	for _, by := range []string{"agent", "channel"} {
		tb := &Table{Name: "by_" + by, Columns: append(keyColumns(by), revenueColumns...)}
		keys := make([]string, 0, len(groups[by]))
		for k := range groups[by] {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			cells, err := rd.keyCells(by, k)
			if err != nil {
				return nil, nil, err
			}
			for _, r := range groups[by][k].rows() {
				tb.Rows = append(tb.Rows, append(slices.Clone(cells), r...))
			}
		}
		out = append(out, tb)
	}
	return totals, out, nil
}
