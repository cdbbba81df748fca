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
//
// Orders are those the desk keeps (shop_orders: seen by a lookup beside a
// ticket, or brought by an order webhook), the customer's by the link
// the desk made or by their email or phone (an order that came before
// the desk knew the customer's phone counts too). The agent is the one
// whose change resolved the ticket; when a rule or the system resolved
// it, the agent it was assigned to then; else its assignee.
//
// An order is counted once, for the customer's latest ticket resolved
// before it, whatever the report's period and filter: an order after
// two resolved tickets goes to the later one (and to no report of the
// earlier one), so that reports of consecutive periods never count an
// order twice.

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
	// by one here. The agent filter is on who resolved, not the assignee
	// (creditResolvers).
	f := rd.f
	f.AgentID = nil
	resolved, err := rd.db.ResolvedTickets(rd.ctx, f, rd.p.from, rd.p.to)
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
	if ids, err = rd.creditResolvers(byTicket, ids); err != nil {
		return nil, nil, err
	}
	var found []store.TicketOrder
	if len(ids) > 0 {
		if found, err = rd.db.OrdersOfTickets(rd.ctx, ids, since); err != nil {
			return nil, nil, err
		}
	}
	// Each order goes to the customer's latest ticket resolved before it
	// (of any period and filter), when that is a ticket of this report
	// and the order came within the window.
	later, err := rd.laterResolutions(found, since)
	if err != nil {
		return nil, nil, err
	}
	best := map[string]store.TicketOrder{}
	for _, o := range found {
		t := byTicket[o.TicketID]
		if !o.OrderedAt.After(*t.ResolvedAt) || o.OrderedAt.Sub(*t.ResolvedAt) > window || later(o, *t.ResolvedAt) {
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

// creditResolvers puts on each ticket the agent who resolved it (see
// store.LastResolutions); a ticket with no such agent keeps its
// assignee. A report filtered by agent keeps the tickets that agent
// resolved.
func (rd *reportData) creditResolvers(byTicket map[int64]store.ReportTicket, ids []int64) ([]int64, error) {
	if len(ids) == 0 {
		return ids, nil
	}
	res, err := rd.db.LastResolutions(rd.ctx, ids)
	if err != nil {
		return nil, err
	}
	kept := ids[:0]
	for _, id := range ids {
		t := byTicket[id]
		if r, ok := res[id]; ok && r.AgentID > 0 {
			t.AgentID = r.AgentID
		}
		if rd.f.AgentID != nil && t.AgentID != *rd.f.AgentID {
			delete(byTicket, id)
			continue
		}
		byTicket[id] = t
		kept = append(kept, id)
	}
	return kept, nil
}

// laterResolutions tells whether a customer's order came after another
// ticket of theirs was resolved later than at: that ticket has the
// order, not the one resolved at at.
func (rd *reportData) laterResolutions(found []store.TicketOrder, since time.Time) (func(o store.TicketOrder, at time.Time) bool, error) {
	var customers []int64
	seen := map[int64]bool{}
	for _, o := range found {
		if !seen[o.CustomerID] {
			seen[o.CustomerID] = true
			customers = append(customers, o.CustomerID)
		}
	}
	resolved, err := rd.db.ResolvedTicketsOf(rd.ctx, customers, since)
	if err != nil {
		return nil, err
	}
	byCustomer := map[int64][]store.ResolvedTicket{}
	for _, r := range resolved {
		byCustomer[r.CustomerID] = append(byCustomer[r.CustomerID], r)
	}
	return func(o store.TicketOrder, at time.Time) bool {
		for _, r := range byCustomer[o.CustomerID] {
			if r.TicketID != o.TicketID && (r.StoreID == 0 || r.StoreID == o.StoreID) && r.ResolvedAt.After(at) && r.ResolvedAt.Before(o.OrderedAt) {
				return true
			}
		}
		return false
	}, nil
}
