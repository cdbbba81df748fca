package store_test

import (
	"context"
	"testing"
	"time"

	"onedesk/store"
)

func TestSeedSmall(t *testing.T) { store.ForEachEngine(t, testSeedSmall) }

func testSeedSmall(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, store.NewTestData(t))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	calls := 0
	start := time.Now()
	if err := db.Seed(ctx, store.SeedOptions{Tickets: 2000, Agents: 5, Teams: 2, Stores: 2, PasswordHash: "x", Seed: 7}, func(int) { calls++ }); err != nil {
		t.Fatal(err)
	}
	t.Logf("seeded 2000 tickets in %v", time.Since(start))
	if calls == 0 {
		t.Fatal("progress never reported")
	}
	all, _, err := db.ListTickets(ctx, store.TicketFilter{Limit: 200})
	if err != nil || len(all) != 200 {
		t.Fatalf("list: %d %v", len(all), err)
	}
	found, _, err := db.ListTickets(ctx, store.TicketFilter{Query: "order"})
	if err != nil || len(found) == 0 {
		t.Fatalf("search for a common word: %d %v", len(found), err)
	}
	agent, st, maxID, err := db.SampleIDs(ctx)
	if err != nil || agent == 0 || st == 0 || maxID != 2000 {
		t.Fatalf("sample ids %d %d %d %v", agent, st, maxID, err)
	}
	for id := int64(1); id <= maxID; id += 97 {
		msgs, err := db.Messages(ctx, id)
		if err != nil || len(msgs) == 0 || msgs[0].Kind != "customer" {
			t.Fatalf("ticket %d messages: %v %v", id, msgs, err)
		}
	}
}
