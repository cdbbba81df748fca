package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Writes are group-committed: one goroutine, the committer, owns the
// writer connection, and runs the writes waiting for it together in one
// SQLite transaction, each in its own savepoint. A busy desk then pays
// for one commit (the WAL frames, the FTS flush) per batch rather than
// per chat message, and writers are served in the order they came.
const (
	maxBatch     = 256
	batchBudget  = 4 * time.Millisecond // stop adding writes to a batch after this
	writeBacklog = 1024
)

// ErrClosed is returned by writes after Close.
var ErrClosed = errors.New("the database is closed")

type writeOp struct {
	ctx  context.Context
	fn   func(*Tx) error
	done chan writeResult
}

type writeResult struct {
	err   error
	panic any // re-raised in the caller's goroutine
}

// Write runs fn in a write transaction and returns once its changes are
// committed (nil) or rolled back (fn's error, or the commit's). fn may run
// in the same transaction as other writes, but its changes are applied or
// discarded on their own. fn may be run on another goroutine: it must not
// call Write itself.
func (db *DB) Write(ctx context.Context, fn func(*Tx) error) error {
	op := &writeOp{ctx: ctx, fn: fn, done: make(chan writeResult, 1)}
	select {
	case db.writes <- op:
	case <-db.quit:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: the caller must
	// not report a failure for a write that then commits.
	var res writeResult
	select {
	case res = <-op.done:
	case <-db.committed: // closed meanwhile; it may not have seen op
		select {
		case res = <-op.done:
		default:
			return ErrClosed
		}
	}
	if res.panic != nil {
		panic(res.panic)
	}
	// A full disk or a damaged file says so, whatever wrapped it.
	err := classify(res.err)
	db.faults.note(err)
	return err
}

func (db *DB) stopWrites() {
	select {
	case <-db.quit:
	default:
		close(db.quit)
	}
	<-db.committed
}

// commit is the committer's loop.
func (db *DB) commit() {
	defer close(db.committed)
	for {
		var first *writeOp
		select {
		case first = <-db.writes:
		case <-db.quit:
			for {
				select {
				case op := <-db.writes:
					op.done <- writeResult{err: ErrClosed}
				default:
					return
				}
			}
		}
		db.runBatch(first)
		if db.wq.cache.hasPending() {
			db.wq.cache.preparePending(context.Background())
		}
	}
}

// runBatch runs first and whatever writes queue up meanwhile (within the
// budget) in one transaction.
func (db *DB) runBatch(first *writeOp) {
	// The transaction is the committer's: a caller's cancelled context
	// must not roll back the others' writes.
	ctx := context.Background()
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		first.done <- writeResult{err: fmt.Errorf("begin: %w", err)}
		return
	}
	// On PostgreSQL each statement is a round trip, and the committer's
	// connection does nothing else meanwhile: the write lock and a write's
	// RELEASE wait in lead to go with the next statement (statements
	// without arguments, several in one simple-protocol exec), and COMMIT
	// releases the last savepoint itself. A batch of n writes pays n+3
	// round trips of its own rather than 2n+4.
	lead := ""
	if db.postgres {
		lead = lockWritesSQL + "; "
	}
	t := &Tx{tx: tx, q: prepared{tx: tx, cache: db.wq.cache}, postgres: db.postgres, files: db.files, secrets: db.secrets}
	var ok []*writeOp // applied, waiting for the commit
	start := time.Now()
	for op := first; op != nil; op = db.next(start, len(ok)) {
		if err := op.ctx.Err(); err != nil {
			op.done <- writeResult{err: err}
			continue
		}
		if _, err := tx.ExecContext(ctx, lead+"SAVEPOINT write"); err != nil {
			err = fmt.Errorf("savepoint: %w", err)
			op.done <- writeResult{err: err}
			if lead != "" {
				// The write lock or the last write's RELEASE failed with
				// it: the transaction is in no state to commit.
				tx.Rollback()
				fail(ok, err)
				return
			}
			break
		}
		lead = ""
		mark := t.touched.mark()
		t.historicAt = time.Time{}
		res := run(op, t)
		if res.err == nil && t.sealErr != nil {
			res.err = t.sealErr
		}
		t.sealErr = nil
		if !t.historicAt.IsZero() {
			t.touched.undo(mark) // history is not news for the other nodes' agents either
		}
		if res.err == nil && res.panic == nil {
			if db.postgres {
				lead = "RELEASE write; "
			} else if _, err := tx.ExecContext(ctx, "RELEASE write"); err != nil {
				res.err = fmt.Errorf("release savepoint: %w", err)
			}
		}
		if res.err != nil || res.panic != nil {
			// Undo this write alone. Failing that, the transaction is in
			// an unknown state: give up on the whole batch.
			t.touched.undo(mark)
			var err error
			if db.postgres {
				_, err = tx.ExecContext(ctx, "ROLLBACK TO write; RELEASE write")
			} else {
				_, err1 := tx.ExecContext(ctx, "ROLLBACK TO write")
				_, err2 := tx.ExecContext(ctx, "RELEASE write")
				err = errors.Join(err1, err2)
			}
			op.done <- res
			if err != nil {
				// SQLite may have rolled back the whole transaction itself
				// (a full disk does): the others fail for the same cause.
				tx.Rollback()
				fail(ok, fmt.Errorf("roll back a failed write: %w", errors.Join(res.err, err)))
				return
			}
			continue
		}
		ok = append(ok, op)
	}
	if err := db.announce(ctx, tx, lead, &t.touched, t.authChanged); err != nil {
		tx.Rollback()
		fail(ok, err)
		return
	}
	if err := tx.Commit(); err != nil {
		// A commit that fails for a full disk or an I/O error may leave
		// the transaction open on the connection: end it, or every later
		// write would fail to begin.
		db.w.ExecContext(ctx, "ROLLBACK")
		fail(ok, fmt.Errorf("commit: %w", err))
		return
	}
	// Before the writers hear of the commit: whoever they tell must find
	// what was cached before it stale already.
	db.commits.Add(1)
	if t.authChanged {
		db.authVersion.Add(1)
	}
	for _, op := range ok {
		op.done <- writeResult{}
	}
}

// next is the next queued write for the current batch, or nil when the
// batch should commit.
func (db *DB) next(start time.Time, n int) *writeOp {
	if n >= maxBatch || time.Since(start) > batchBudget {
		return nil
	}
	select {
	case op := <-db.writes:
		return op
	default:
		return nil
	}
}

func run(op *writeOp, t *Tx) (res writeResult) {
	defer func() {
		if p := recover(); p != nil {
			res = writeResult{panic: p}
		}
	}()
	return writeResult{err: op.fn(t)}
}

func fail(ops []*writeOp, err error) {
	for _, op := range ops {
		op.done <- writeResult{err: err}
	}
}

// exec runs one statement as a write of its own, group-committed like the rest.
func (db *DB) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.q.ExecContext(ctx, q, args...)
		return err
	})
	return res, err
}

// Savepoint runs fn as a part of the transaction that is kept or undone
// on its own: when fn fails, what it changed is rolled back and its error
// returned, and the rest of the transaction goes on. A many-ticket change
// runs each ticket in one, so that a refused ticket leaves no half.
func (tx *Tx) Savepoint(ctx context.Context, fn func() error) error {
	if _, err := tx.tx.ExecContext(ctx, "SAVEPOINT part"); err != nil {
		return fmt.Errorf("savepoint: %w", err)
	}
	if err := fn(); err != nil {
		// Undone even when ctx has ended: the transaction goes on.
		_, err1 := tx.tx.ExecContext(context.Background(), "ROLLBACK TO part")
		_, err2 := tx.tx.ExecContext(context.Background(), "RELEASE part")
		if err := errors.Join(err1, err2); err != nil {
			return fmt.Errorf("roll back a savepoint: %w", err)
		}
		return err
	}
	if _, err := tx.tx.ExecContext(ctx, "RELEASE part"); err != nil {
		return fmt.Errorf("release savepoint: %w", err)
	}
	return nil
}

// insert runs one INSERT as a write of its own and returns the new id
// (see prepared.insert).
func (db *DB) insert(ctx context.Context, q string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := db.Write(ctx, func(tx *Tx) error {
		var err error
		res, err = tx.q.insert(ctx, q, args...)
		return err
	})
	return res, err
}
