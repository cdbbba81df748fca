package store

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Queues is how much work is waiting, for /metrics.
type Queues struct {
	Outbox         int // replies waiting to be sent
	OutboxRetrying int // of which the last attempt failed
	Webhooks       int // webhook posts waiting
}

// Queues counts the waiting replies and webhook posts.
func (db *DB) Queues(ctx context.Context) (Queues, error) {
	var q Queues
	err := db.rq.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM outbox), (SELECT count(*) FROM outbox WHERE attempts > 0),
		(SELECT count(*) FROM webhook_deliveries WHERE status = 'queued')`).Scan(&q.Outbox, &q.OutboxRetrying, &q.Webhooks)
	if err != nil {
		return q, fmt.Errorf("count queues: %w", err)
	}
	return q, nil
}

// FileSizes are the sizes in bytes of the database file and its
// write-ahead log.
func (db *DB) FileSizes() (main, wal int64, err error) {
	if db.postgres {
		return db.pgSize()
	}
	st, err := os.Stat(db.path)
	if err != nil {
		return 0, 0, err
	}
	main = st.Size()
	if st, err := os.Stat(db.path + "-wal"); err == nil {
		wal = st.Size()
	} else if !errors.Is(err, os.ErrNotExist) {
		return main, 0, err
	}
	return main, wal, nil
}
