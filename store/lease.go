package store

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Leases: background work that must run once per desk (a mailbox's
// poller, the outbox, the time sweeps) runs on the node that holds its
// lease. A lease is a PostgreSQL session-level advisory lock, held on one
// connection of this node's own: it lives exactly as long as that
// session, so a node killed outright (kill -9, a crash, a lost machine)
// lets go as soon as PostgreSQL sees its connection close, with no expiry
// to wait out and no clock to trust. Lease rows with an expiry would
// survive a dead node for their whole term and need a renewal write every
// few seconds per job; the lock costs nothing while held. A node that
// loses its connection (so its locks) stops its leased work when its next
// ping fails, within leasePing.
//
// A node asks for every lease it lacks in one statement, once a second
// (and at once when a lease is newly wanted): fifty mailboxes cost one
// query a second, not fifty.
const (
	leaseRetry = time.Second     // how often a node tries for the leases it lacks
	leasePing  = 2 * time.Second // how often the holder checks its connection
)

// leaseConn is a node's lease connection, shared by all its leases, and
// the one loop that asks for the leases the node wants.
type leaseConn struct {
	mu     sync.Mutex
	conn   *pgx.Conn
	lost   chan struct{} // closed when conn is found dead (its locks gone)
	stop   chan struct{} // closed by Close
	wanted map[int64]chan chan struct{}
	kick   chan struct{} // a lease is newly wanted: ask now
	loop   sync.Once
	log    *slog.Logger
	asked  atomic.Int64 // statements sent asking for leases, for tests
}

// RunLeased runs f, until ctx ends, while this node holds the lease
// called name, and tries again for it whenever it lacks it: on several
// nodes exactly one runs f at a time, and another takes it up within
// seconds of that node's death. f's context ends when the lease is lost.
// On SQLite, one process, f simply runs.
func (db *DB) RunLeased(ctx context.Context, name string, log *slog.Logger, f func(context.Context)) {
	if db.nodes == nil {
		f(ctx)
		return
	}
	key := leaseKey(name)
	for ctx.Err() == nil {
		lost := db.nodes.leases.acquire(ctx, db.nodes, key, log)
		if lost == nil {
			<-ctx.Done() // ended, or the database closed: nothing more to run
			return
		}
		log.Info("lease taken: this node runs it", "work", name)
		wctx, cancel := context.WithCancel(ctx)
		go func() {
			select {
			case <-lost:
				log.Warn("lease lost with the connection: stopping", "work", name)
				cancel()
			case <-wctx.Done():
			}
		}()
		f(wctx)
		cancel()
		db.nodes.leases.release(lost, key)
		select { // f gave up by itself: not at once again
		case <-ctx.Done():
		case <-time.After(leaseRetry):
		}
	}
}

// leaseKey is the advisory lock key of a lease name.
func leaseKey(name string) int64 {
	h := fnv.New64a()
	h.Write([]byte("onedesk lease " + name))
	return int64(h.Sum64())
}

// acquire waits until this node holds key, and returns the end of the
// connection it is held on; nil when ctx ends or the database closes
// first.
func (l *leaseConn) acquire(ctx context.Context, n *nodes, key int64, log *slog.Logger) chan struct{} {
	granted := make(chan chan struct{}, 1)
	l.mu.Lock()
	select {
	case <-l.stop:
		l.mu.Unlock()
		return nil
	default:
	}
	if l.wanted == nil {
		l.wanted, l.kick, l.log = map[int64]chan chan struct{}{}, make(chan struct{}, 1), log
	}
	l.wanted[key] = granted
	l.mu.Unlock()
	l.loop.Do(func() { go l.askLoop(n) })
	select {
	case l.kick <- struct{}{}:
	default:
	}
	select {
	case lost := <-granted:
		return lost
	case <-ctx.Done():
	case <-l.stop:
	}
	l.mu.Lock()
	if l.wanted[key] == granted {
		delete(l.wanted, key)
	}
	l.mu.Unlock()
	select {
	case lost := <-granted: // taken just as we gave up: let go
		l.release(lost, key)
	default:
	}
	return nil
}

// askLoop asks for the wanted leases every leaseRetry, and at once when
// one is newly wanted, until Close.
func (l *leaseConn) askLoop(n *nodes) {
	t := time.NewTicker(leaseRetry)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-l.kick:
		case <-t.C:
		}
		if err := l.askAll(n); err != nil {
			l.log.Warn("lease: cannot ask PostgreSQL", "err", err)
		}
		t.Reset(leaseRetry) // a second from this ask, whatever woke it
	}
}

// askAll tries every wanted lock in one statement, connecting first when
// needed, and hands each one taken to its waiter.
func (l *leaseConn) askAll(n *nodes) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.wanted) == 0 {
		return nil
	}
	if l.conn == nil {
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		conn, err := n.connect(cctx)
		cancel()
		if err != nil {
			return err
		}
		l.conn, l.lost = conn, make(chan struct{})
		go l.watch(conn, l.lost)
	}
	keys := make([]int64, 0, len(l.wanted))
	for k := range l.wanted {
		keys = append(keys, k)
	}
	qctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	l.asked.Add(1)
	rows, err := l.conn.Query(qctx, "SELECT k FROM unnest($1::bigint[]) AS k WHERE pg_try_advisory_lock(k)", keys)
	if err != nil {
		l.drop()
		return err
	}
	taken, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		l.drop()
		return err
	}
	for _, k := range taken {
		l.wanted[k] <- l.lost
		delete(l.wanted, k)
	}
	return nil
}

// release lets go of key, if the connection it was taken on still lives.
func (l *leaseConn) release(lost chan struct{}, key int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.conn == nil || l.lost != lost {
		return // gone with its connection
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, err := l.conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", key); err != nil {
		l.drop()
	}
}

// watch pings conn until it fails (then every lease on it is lost) or
// Close.
func (l *leaseConn) watch(conn *pgx.Conn, lost chan struct{}) {
	t := time.NewTicker(leasePing)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-lost:
			return
		case <-t.C:
		}
		l.mu.Lock()
		if l.conn != conn {
			l.mu.Unlock()
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), leasePing)
		err := conn.Ping(ctx)
		cancel()
		if err != nil {
			l.drop()
		}
		l.mu.Unlock()
	}
}

// drop closes the connection (PostgreSQL then frees its locks) and tells
// the holders; l.mu is held.
func (l *leaseConn) drop() {
	if l.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	l.conn.Close(ctx)
	cancel()
	close(l.lost)
	l.conn, l.lost = nil, nil
}

// close ends the lease connection for good.
func (l *leaseConn) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.drop()
}

// LeaseHolder names the node holding the lease called name (its
// PostgreSQL application_name, "onedesk node <id>"), "" when none does;
// on SQLite it is always "".
func (db *DB) LeaseHolder(ctx context.Context, name string) (string, error) {
	if db.nodes == nil {
		return "", nil
	}
	key := uint64(leaseKey(name))
	var holders []string
	rows, err := db.r.QueryContext(ctx, `SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
		WHERE l.locktype = 'advisory' AND l.granted AND l.classid = ? AND l.objid = ? AND l.objsubid = 1 AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
		int64(key>>32), int64(key&0xffffffff))
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", name, err)
	}
	defer rows.Close()
	for rows.Next() {
		var app string
		if err := rows.Scan(&app); err != nil {
			return "", fmt.Errorf("lease %s: %w", name, err)
		}
		holders = append(holders, app)
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("lease %s: %w", name, err)
	}
	if len(holders) > 1 {
		return "", fmt.Errorf("lease %s: held by %d sessions", name, len(holders))
	}
	if len(holders) == 0 {
		return "", nil
	}
	return holders[0], nil
}
