package store_test

import (
	"context"
	"fmt"
	"testing"

	"onedesk/store"
)

// BenchmarkUnreadCounts is the sidebar's unread counts for one agent: the
// main views, four teams, every channel and three stores, in one read.
func BenchmarkUnreadCounts(b *testing.B) {
	db, agent, _, _ := benchDB(b)
	ctx := context.Background()
	active := []string{"new", "open", "pending"}
	views := []store.UnreadView{
		{Key: "unassigned", Statuses: []string{"new", "open"}, Unassigned: true},
		{Key: "mine", Statuses: active, AssigneeID: agent},
		{Key: "open", Statuses: []string{"new", "open"}},
		{Key: "pending", Statuses: []string{"pending"}},
	}
	for i := int64(1); i <= 4; i++ {
		views = append(views, store.UnreadView{Key: fmt.Sprintf("team:%d", i), Statuses: active, TeamID: i})
	}
	for _, ch := range store.Channels {
		views = append(views, store.UnreadView{Key: "channel:" + ch, Statuses: active, Channel: ch})
	}
	for i := int64(1); i <= 3; i++ {
		views = append(views, store.UnreadView{Key: fmt.Sprintf("store:%d", i), Statuses: active, StoreID: i})
	}
	timed(b, func(int) error {
		_, err := db.UnreadCounts(ctx, agent, views)
		return err
	})
}
