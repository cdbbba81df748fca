package store_test

import (
	"context"
	"fmt"
	"testing"

	"onedesk/store"
)

// An agent of two of the seeded desk's three stores: their inbox, search,
// unread counts and customers, beside the benchmarks of an agent of every
// store in bench_test.go (whose queries have no store condition at all).

func storeAgent(b *testing.B) (*store.DB, []int64) {
	db, _, st, _ := benchDB(b)
	return db, []int64{st, st + 1}
}

func BenchmarkStoreAgentInbox(b *testing.B) {
	db, stores := storeAgent(b)
	ctx := context.Background()
	f := store.TicketFilter{Statuses: []string{"new", "open", "pending"}, Stores: stores, Limit: 50, ViewerID: 1}
	timed(b, func(int) error { _, _, err := db.ListTickets(ctx, f); return err })
}

func BenchmarkStoreAgentSearch(b *testing.B) {
	db, stores := storeAgent(b)
	ctx := context.Background()
	words := []string{"order", "parcel", "kalomi", "zentor"}
	timed(b, func(i int) error {
		_, _, err := db.ListTickets(ctx, store.TicketFilter{Query: words[i%len(words)], Stores: stores, Limit: 50, ViewerID: 1})
		return err
	})
}

func BenchmarkStoreAgentUnreadCounts(b *testing.B) {
	db, stores := storeAgent(b)
	ctx := context.Background()
	active := []string{"new", "open", "pending"}
	views := []store.UnreadView{
		{Key: "unassigned", Statuses: []string{"new", "open"}, Unassigned: true},
		{Key: "open", Statuses: []string{"new", "open"}},
		{Key: "pending", Statuses: []string{"pending"}},
	}
	for _, ch := range store.Channels {
		views = append(views, store.UnreadView{Key: "channel:" + ch, Statuses: active, Channel: ch})
	}
	for _, id := range stores {
		views = append(views, store.UnreadView{Key: fmt.Sprintf("store:%d", id), Statuses: active, StoreID: id})
	}
	for i := range views {
		views[i].Stores = stores
	}
	timed(b, func(int) error { _, err := db.UnreadCounts(ctx, 1, views); return err })
}

func BenchmarkStoreAgentCustomers(b *testing.B) {
	db, stores := storeAgent(b)
	ctx := context.Background()
	timed(b, func(int) error {
		_, err := db.SearchCustomers(ctx, store.CustomerSearch{Stores: stores, Limit: 51})
		return err
	})
}
