package limit_test

import (
	"context"
	"os"
	"testing"
	"time"

	"onedesk/limit"
	"onedesk/store"
	"onedesk/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// A shared limiter spends what its bank (PostgreSQL) grants, and when the
// bank stops answering it counts on its own, at once rather than after a
// wait per request.
func TestSharedLimiterFallsBackWhenTheBankFails(t *testing.T) {
	db, err := store.Open(context.Background(), storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	l := limit.NewShared(db, "test", 1, 5)
	allowed := 0
	for range 10 {
		if l.Allow("k") {
			allowed++
		}
	}
	if allowed != 5 {
		t.Fatalf("%d of 10 allowed from a bucket of 5", allowed)
	}
	db.Close() // the bank gone
	began := time.Now()
	allowed = 0
	for range 10 {
		if l.Allow("other") {
			allowed++
		}
	}
	if took := time.Since(began); allowed != 5 || took > 3*time.Second {
		t.Fatalf("without the bank: %d of 10 allowed in %s, want 5 (this node's own count) without waiting on each", allowed, took)
	}
}
