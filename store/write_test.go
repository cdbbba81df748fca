package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"onedesk/store"
)

// TestGroupCommitKeepsWritesApart runs many writes at once, so that they
// share transactions: a write that fails or panics loses only its own
// changes, and a caller that gave up before its turn changes nothing.
func TestGroupCommitKeepsWritesApart(t *testing.T) {
	store.ForEachEngine(t, testGroupCommitKeepsWritesApart)
}

func testGroupCommitKeepsWritesApart(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	const n = 200
	errBad := errors.New("refused")
	errs := make([]error, n)
	panics := make([]any, n)
	ids := make([]int64, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panics[i] = recover() }()
			<-start
			wctx := ctx
			if i%10 == 3 {
				c, cancel := context.WithCancel(ctx)
				cancel()
				wctx = c
			}
			errs[i] = db.Write(wctx, func(tx *store.Tx) error {
				c := &store.Customer{Name: fmt.Sprintf("customer %d", i), CreatedAt: store.Now()}
				if err := tx.InsertCustomer(ctx, c); err != nil {
					return err
				}
				if err := tx.AddIdentity(ctx, c.ID, store.Identity{Kind: "email", Value: fmt.Sprintf("c%d@shop.test", i)}); err != nil {
					return err
				}
				ids[i] = c.ID
				switch i % 10 {
				case 5:
					return errBad // after writing: the rows must go
				case 7:
					panic("bug in write " + fmt.Sprint(i))
				}
				return nil
			})
		}()
	}
	close(start)
	wg.Wait()

	for i := range n {
		// A rolled-back customer's id is used again: look at whose it is.
		c, err := db.Customer(ctx, ids[i])
		if err == nil && c.Name != fmt.Sprintf("customer %d", i) {
			err = store.ErrNotFound
		}
		switch i % 10 {
		case 3:
			if !errors.Is(errs[i], context.Canceled) || ids[i] != 0 {
				t.Errorf("write %d with a cancelled context: err %v, ran %v", i, errs[i], ids[i] != 0)
			}
		case 5:
			if !errors.Is(errs[i], errBad) || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("failed write %d: err %v; its customer: %v", i, errs[i], err)
			}
		case 7:
			if panics[i] == nil || !errors.Is(err, store.ErrNotFound) {
				t.Errorf("write %d panicked: recovered %v in the caller; its customer: %v", i, panics[i], err)
			}
		default:
			if errs[i] != nil || err != nil || panics[i] != nil {
				t.Errorf("write %d: %v, customer %v, panic %v", i, errs[i], err, panics[i])
			}
		}
	}
	// A later write still works, and a closed database refuses writes.
	if err := db.Write(ctx, func(tx *store.Tx) error {
		return tx.InsertCustomer(ctx, &store.Customer{Name: "after", CreatedAt: store.Now()})
	}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if err := db.Write(ctx, func(*store.Tx) error { return nil }); !errors.Is(err, store.ErrClosed) {
		t.Fatalf("write after close: %v", err)
	}
}
