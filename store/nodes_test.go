package store

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onedesk/store/storetest"
)

// twoNodes opens one PostgreSQL database twice, as two nodes would.
func twoNodes(t *testing.T) (a, b *DB) {
	t.Helper()
	url := storetest.PostgresURL(t)
	ctx := context.Background()
	a, err := Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	if b, err = Open(ctx, url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return a, b
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("after %s: %s", within, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A commit on one node names what it changed to the other, once
// committed, and never to itself; a rolled-back write names nothing.
func TestFollowOtherNodes(t *testing.T) {
	a, b := twoNodes(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var onA, onB []Committed
	listening := func(db *DB, into *[]Committed) {
		go db.FollowOthers(ctx, quiet(), func(c Committed) {
			mu.Lock()
			*into = append(*into, c)
			mu.Unlock()
		})
	}
	listening(a, &onA)
	listening(b, &onB)
	// LISTEN is in place once a signal gets through.
	waitFor(t, 30*time.Second, "b hears a's signal", func() bool {
		a.Signal(ctx, []byte(`{"hello":1}`))
		mu.Lock()
		defer mu.Unlock()
		return len(onB) > 0
	})
	mu.Lock()
	onB = nil
	mu.Unlock()

	var ticket Ticket
	var ev Event
	err := a.Write(ctx, func(tx *Tx) error {
		c := Customer{Name: "Ana", CreatedAt: Now()}
		if err := tx.InsertCustomer(ctx, &c); err != nil {
			return err
		}
		ticket = Ticket{Subject: "hi", Status: "new", Priority: "normal", Channel: "api", CustomerID: c.ID, CreatedAt: Now(), UpdatedAt: Now()}
		if err := tx.InsertTicket(ctx, &ticket); err != nil {
			return err
		}
		ev = Event{TicketID: ticket.ID, Type: "created", Actor: "system", CreatedAt: Now()}
		return tx.InsertEvent(ctx, &ev)
	})
	if err != nil {
		t.Fatal(err)
	}
	// A write that fails names nothing.
	a.Write(ctx, func(tx *Tx) error {
		e := Event{TicketID: ticket.ID, Type: "noted", Actor: "system", CreatedAt: Now()}
		if err := tx.InsertEvent(ctx, &e); err != nil {
			return err
		}
		return io.EOF
	})
	a.Signal(ctx, []byte(`{"after":1}`)) // notifications keep order: once b has this, it has all
	waitFor(t, 30*time.Second, "b hears the later signal", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(onB) > 0 && string(onB[len(onB)-1].Signal) == `{"after":1}`
	})
	mu.Lock()
	// Hellos sent while waiting for LISTEN may come late: not counted.
	heard := slices.DeleteFunc(slices.Clone(onB), func(c Committed) bool { return string(c.Signal) == `{"hello":1}` })
	heardA := len(onA)
	mu.Unlock()
	if len(heard) != 2 {
		t.Fatalf("b heard %+v, want the commit and the signal", heard)
	}
	got := heard[0]
	if !slices.Contains(got.Tickets, ticket.ID) || !slices.Equal(got.Events, []int64{ev.ID}) {
		t.Fatalf("b heard %+v, want ticket %d and event %d", got, ticket.ID, ev.ID)
	}
	if heardA != 0 {
		t.Fatalf("a heard itself %d times", heardA)
	}

	// b's listening connection is cut (a restarted server, a network
	// blip): listening again, b is told to re-read what it shows.
	if _, err := a.w.ExecContext(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = ?",
		"onedesk node "+b.nodes.id); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "b resyncs after listening again", func() bool {
		mu.Lock()
		defer mu.Unlock()
		return slices.ContainsFunc(onB, func(c Committed) bool { return c.Resync })
	})
}

// One lease, two nodes: one runs the work at a time; when its node dies
// (its lease connection cut, as kill -9 cuts it) the other takes it up
// within seconds, and the dead one's work is told to stop.
func TestLeaseMovesWhenANodeDies(t *testing.T) {
	a, b := twoNodes(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var running atomic.Int32
	var ranOn sync.Map // *DB -> started
	work := func(db *DB) func(context.Context) {
		return func(ctx context.Context) {
			running.Add(1)
			ranOn.Store(db, true)
			<-ctx.Done()
			running.Add(-1)
		}
	}
	var wg sync.WaitGroup
	for _, db := range []*DB{a, b} {
		wg.Go(func() { db.RunLeased(ctx, "poller", quiet(), work(db)) })
	}
	waitFor(t, 30*time.Second, "one node runs the work", func() bool { return running.Load() == 1 })
	// Both keep trying for a while: still one.
	deadline := time.Now().Add(3 * leaseRetry)
	for time.Now().Before(deadline) {
		if n := running.Load(); n != 1 {
			t.Fatalf("%d nodes run the work", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	holder, other := a, b
	if _, ok := ranOn.Load(b); ok {
		holder, other = b, a
	}
	// Cut the holder's lease connection under it, as a dead process's is.
	holder.nodes.leases.mu.Lock()
	holder.nodes.leases.conn.PgConn().Conn().Close()
	holder.nodes.leases.mu.Unlock()
	waitFor(t, 15*time.Second, "the other node takes the work up", func() bool {
		_, ok := ranOn.Load(other)
		return ok
	})
	waitFor(t, 15*time.Second, "the cut node stops its work", func() bool { return running.Load() == 1 })
	cancel()
	wg.Wait()
}

// Fifty leases wanted by a node that lacks them cost one statement a
// second, not fifty; when the holder goes, all fifty move within seconds.
func TestLeasesAskedTogether(t *testing.T) {
	a, b := twoNodes(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	const leases = 50
	var onA, onB atomic.Int32
	var wg sync.WaitGroup
	for i := range leases {
		name := fmt.Sprintf("mailbox %d", i)
		wg.Go(func() {
			a.RunLeased(ctx, name, quiet(), func(ctx context.Context) { onA.Add(1); <-ctx.Done(); onA.Add(-1) })
		})
	}
	waitFor(t, 30*time.Second, "node a takes every lease", func() bool { return onA.Load() == leases })
	for i := range leases {
		name := fmt.Sprintf("mailbox %d", i)
		wg.Go(func() {
			b.RunLeased(ctx, name, quiet(), func(ctx context.Context) { onB.Add(1); <-ctx.Done(); onB.Add(-1) })
		})
	}
	waitFor(t, 10*time.Second, "node b wants every lease", func() bool {
		b.nodes.leases.mu.Lock()
		defer b.nodes.leases.mu.Unlock()
		return len(b.nodes.leases.wanted) == leases
	})
	before, began := b.nodes.leases.asked.Load(), time.Now()
	time.Sleep(3 * time.Second) // a span to count statements in, not a wait for a condition
	asked, took := b.nodes.leases.asked.Load()-before, time.Since(began)
	t.Logf("node b asked for %d leases with %d statements in %s", leases, asked, took.Round(time.Millisecond))
	if limit := int64(took/leaseRetry) + 2; asked > limit { // a tick each, and the last one's kick
		t.Fatalf("node b sent %d statements in %s for %d leases, want at most %d", asked, took, leases, limit)
	}
	if onB.Load() != 0 {
		t.Fatalf("node b runs %d leases node a holds", onB.Load())
	}
	moved := time.Now()
	a.nodes.leases.mu.Lock()
	a.nodes.leases.conn.PgConn().Conn().Close()
	a.nodes.leases.mu.Unlock()
	waitFor(t, 15*time.Second, "node b takes every lease up", func() bool { return onB.Load() == leases })
	t.Logf("%d leases moved in %s", leases, time.Since(moved).Round(time.Millisecond))
	cancel()
	wg.Wait()
}

// Two nodes taking tokens from one bucket at once, eight callers each:
// never more granted than the bucket holds (its burst, then its rate).
func TestTakeTokensAcrossNodes(t *testing.T) {
	a, b := twoNodes(t)
	const rate, burst = 20.0, 50
	var granted, calls atomic.Int64
	var wg sync.WaitGroup
	began := time.Now()
	for _, db := range []*DB{a, b} {
		for range 8 {
			wg.Go(func() {
				for time.Since(began) < 1500*time.Millisecond {
					got, _, err := db.TakeTokens(context.Background(), "api", "t1", rate, burst, 3)
					if err != nil {
						t.Error(err)
						return
					}
					granted.Add(int64(got))
					calls.Add(1)
				}
			})
		}
	}
	wg.Wait()
	most := burst + int64(rate*time.Since(began).Seconds()) + 1
	t.Logf("%d tokens granted in %s over %d round trips (%.0f a second), the bucket holds %d",
		granted.Load(), time.Since(began).Round(time.Millisecond), calls.Load(), float64(calls.Load())/time.Since(began).Seconds(), most)
	if granted.Load() > most || granted.Load() < burst {
		t.Fatalf("%d tokens granted, want %d to %d", granted.Load(), burst, most)
	}
	if got, _, _ := a.TakeTokens(context.Background(), "api", "t2", rate, burst, 3); got != 3 {
		t.Fatalf("another key's bucket gave %d tokens, want 3", got)
	}
}

// On SQLite, one process: leased work simply runs, and there is nobody
// to follow.
func TestLeaseOnSQLiteJustRuns(t *testing.T) {
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "one.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ran := false
	db.RunLeased(context.Background(), "outbox", quiet(), func(context.Context) { ran = true })
	if _, _, err := db.TakeTokens(context.Background(), "api", "t1", 1, 1, 1); err != ErrNotShared {
		t.Fatalf("tokens on SQLite: %v, want ErrNotShared", err)
	}
	if !ran || db.Multinode() {
		t.Fatalf("ran %v, multinode %v", ran, db.Multinode())
	}
	db.FollowOthers(context.Background(), quiet(), func(Committed) { t.Fatal("followed on SQLite") })
}
