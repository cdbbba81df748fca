package reports

import (
	"strconv"
)

// greetings is the proactive chat report: per greeting, how often the
// widgets showed it, how often a visitor opened the chat from it, and how
// many chats it started (counted by the store's day, in its time zone).
func (rd *reportData) greetings(tables bool) (map[string]any, []*Table, error) {
	var stores []int64
	switch {
	case rd.f.StoreID != nil:
		stores = []int64{*rd.f.StoreID}
	case len(rd.f.Stores) > 0:
		stores = rd.f.Stores
	}
	stats, err := rd.db.GreetingStats(rd.ctx, stores, rd.p.from, rd.p.to)
	if err != nil {
		return nil, nil, err
	}
	columns := []string{"greeting_id", "name", "store", "url_pattern", "active", "shown", "opened", "chats", "open_rate", "chat_rate"}
	t := &Table{Name: "greetings", Columns: columns}
	var shown, opened, chats int64
	for _, s := range stats {
		shown, opened, chats = shown+s.Shown, opened+s.Opened, chats+s.Chats
		if !tables {
			continue
		}
		store, err := rd.name("store", strconv.FormatInt(s.StoreID, 10))
		if err != nil {
			return nil, nil, err
		}
		t.Rows = append(t.Rows, []any{s.GreetingID, s.Name, store, s.URLPattern, s.Active,
			s.Shown, s.Opened, s.Chats, rate(s.Opened, s.Shown), rate(s.Chats, s.Shown)})
	}
	totals := map[string]any{"shown": shown, "opened": opened, "chats": chats,
		"open_rate": rate(opened, shown), "chat_rate": rate(chats, shown)}
	if !tables {
		return totals, nil, nil
	}
	return totals, []*Table{t}, nil
}
