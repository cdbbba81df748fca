package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// Each view's unread count is an index range, newest customer message
// first: never a scan of the desk, never a sort.
func TestUnreadCountsUseIndexes(t *testing.T) {
	db := planDB(t)
	for _, v := range []UnreadView{
		{Key: "open", Statuses: []string{"new", "open"}},
		{Key: "unassigned", Statuses: []string{"new"}, Unassigned: true},
		{Key: "mine", Statuses: []string{"pending"}, AssigneeID: 3},
		{Key: "team:1", Statuses: []string{"open"}, TeamID: 1},
		{Key: "store:1", Statuses: []string{"open"}, StoreID: 1},
		{Key: "channel:chat", Statuses: []string{"open"}, Channel: "chat"},
	} {
		q, args, err := unreadQuery(false, 1, []UnreadView{v})
		if err != nil {
			t.Fatal(err)
		}
		plan := queryPlan(t, db, q, args...)
		if strings.Contains(plan, "SCAN t") || strings.Contains(plan, "TEMP B-TREE") ||
			!strings.Contains(plan, "SEARCH t USING ") || !strings.Contains(plan, "SEARCH r USING PRIMARY KEY") {
			t.Errorf("%s: the count is not an index range:\n%s", v.Key, plan)
		}
	}
	if _, _, err := unreadQuery(false, 1, []UnreadView{{Key: "x", Statuses: []string{"open') OR ('1"}}}); err == nil {
		t.Error("an unknown status was written into the query")
	}
}

// The counts agree with a plain count, and opening a ticket takes it off.
func TestUnreadCountsCount(t *testing.T) { ForEachEngine(t, testUnreadCountsCount) }

func testUnreadCountsCount(t *testing.T) {
	ctx := context.Background()
	db := OpenTest(t)
	if err := db.Seed(ctx, SeedOptions{Tickets: 400, Agents: 2, Teams: 2, Stores: 2, PasswordHash: "x", Seed: 7}, nil); err != nil {
		t.Fatal(err)
	}
	views := []UnreadView{
		{Key: "open", Statuses: []string{"new", "open"}},
		{Key: "unassigned", Statuses: []string{"new", "open"}, Unassigned: true},
		{Key: "mine", Statuses: []string{"new", "open", "pending"}, AssigneeID: 1},
		{Key: "team", Statuses: []string{"new", "open", "pending"}, TeamID: 1},
		{Key: "store", Statuses: []string{"new", "open", "pending"}, StoreID: 2},
		{Key: "email", Statuses: []string{"new", "open", "pending"}, Channel: "email"},
	}
	plain := func(v UnreadView) int {
		where := []string{"status IN ('" + strings.Join(v.Statuses, "','") + "')",
			"last_customer_at > COALESCE((SELECT read_at FROM ticket_reads r WHERE r.agent_id = 1 AND r.ticket_id = t.id), 0)"}
		switch {
		case v.Unassigned:
			where = append(where, "assignee_id IS NULL")
		case v.AssigneeID != 0:
			where = append(where, fmt.Sprintf("assignee_id = %d", v.AssigneeID))
		case v.TeamID != 0:
			where = append(where, fmt.Sprintf("team_id = %d", v.TeamID))
		case v.StoreID != 0:
			where = append(where, fmt.Sprintf("store_id = %d", v.StoreID))
		case v.Channel != "":
			where = append(where, "channel = '"+v.Channel+"'")
		}
		var n int
		if err := db.r.QueryRow("SELECT count(*) FROM tickets t WHERE " + strings.Join(where, " AND ")).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return min(n, UnreadCap)
	}
	check := func(when string) {
		got, err := db.UnreadCounts(ctx, 1, views)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range views {
			if want := plain(v); got[v.Key] != want {
				t.Errorf("%s: %s has %d unread, a plain count says %d", when, v.Key, got[v.Key], want)
			}
		}
	}
	check("seeded")
	var ids []int64
	rows, err := db.r.Query("SELECT id FROM tickets WHERE status IN ('new','open') AND last_customer_at > 0 LIMIT 30")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if err := db.MarkRead(ctx, 1, id); err != nil {
			t.Fatal(err)
		}
	}
	check("after opening 30 tickets")
}
