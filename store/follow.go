package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Several onedesk nodes on one PostgreSQL database hear of each other's
// commits through LISTEN/NOTIFY: each write transaction that changed a
// ticket, a message or an event sends, inside itself (so only once it
// commits, and in commit order), a notification naming the ids it
// touched, never their content (PostgreSQL caps a payload at 8000 bytes).
// The tables stay the truth: a node reads the rows by id, and a node
// that may have missed notifications (its listening connection broke)
// is told to re-read everything it shows (Committed.Resync). On SQLite
// there is one process, whose in-process bus is the whole path.

// changesChannel is the PostgreSQL notification channel of commits and
// passing signals.
const changesChannel = "onedesk_changes"

// maxPayload stays under PostgreSQL's 8000-byte notification limit.
const maxPayload = 7900

// nodes is this process's part among the nodes on one PostgreSQL
// database: its id (to skip its own notifications) and what it needs to
// open the dedicated connections of LISTEN and of leases.
type nodes struct {
	id     string
	cfg    *pgx.ConnConfig
	leases leaseConn
	// following: a LISTEN connection is up, so other nodes' changes to
	// credentials are heard (AuthVersion may be cached by).
	following atomic.Bool
	// rateSwept is when this node last cleared idle rate buckets (unix s).
	rateSwept atomic.Int64
}

func newNodes(cfg *pgx.ConnConfig) *nodes {
	b := make([]byte, 8)
	rand.Read(b)
	return &nodes{id: hex.EncodeToString(b), cfg: cfg, leases: leaseConn{stop: make(chan struct{})}}
}

// connect opens a connection of its own, outside the pools, with TCP
// keep-alives tight enough that a peer gone without a word (a pulled
// cable) is found within seconds rather than hours.
func (n *nodes) connect(ctx context.Context) (*pgx.Conn, error) {
	cfg := n.cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// The server's side: it drops a session (and the session's advisory
	// locks) whose node stopped answering.
	cfg.RuntimeParams["tcp_keepalives_idle"] = "5"
	cfg.RuntimeParams["tcp_keepalives_interval"] = "2"
	cfg.RuntimeParams["tcp_keepalives_count"] = "3"
	cfg.RuntimeParams["application_name"] = "onedesk node " + n.id
	return pgx.ConnectConfig(ctx, cfg)
}

// touched is what a write transaction changed, by id.
type touched struct {
	tickets, messages, events []int64
}

func (t *touched) ticket(id int64)  { t.tickets = append(t.tickets, id) }
func (t *touched) message(id int64) { t.messages = append(t.messages, id) }
func (t *touched) event(id int64)   { t.events = append(t.events, id) }

// touchMark is how much was touched before one write of a batch, to undo
// when that write is rolled back.
type touchMark [3]int

func (t *touched) mark() touchMark {
	return touchMark{len(t.tickets), len(t.messages), len(t.events)}
}

func (t *touched) undo(m touchMark) {
	t.tickets, t.messages, t.events = t.tickets[:m[0]], t.messages[:m[1]], t.events[:m[2]]
}

// notice is a notification's payload.
type notice struct {
	Node     string          `json:"n"`
	Tickets  []int64         `json:"t,omitempty"`
	Messages []int64         `json:"m,omitempty"`
	Events   []int64         `json:"e,omitempty"`
	Signal   json.RawMessage `json:"s,omitempty"`
	Overflow bool            `json:"x,omitempty"` // too many ids to name: re-read everything
	Auth     bool            `json:"a,omitempty"` // agents, sessions or tokens changed
}

// announce tells the other nodes, inside tx, what it changed: delivered
// when tx commits, never when it rolls back. lead is statements the batch
// has still to send (a write's RELEASE): they go in the same round trip,
// and need not go at all when there is nothing to announce (COMMIT
// releases the savepoints).
func (db *DB) announce(ctx context.Context, tx *sql.Tx, lead string, t *touched, auth bool) error {
	if db.nodes == nil || len(t.tickets)+len(t.messages)+len(t.events) == 0 && !auth {
		return nil
	}
	n := notice{Node: db.nodes.id, Tickets: dedupe(t.tickets), Messages: dedupe(t.messages), Events: t.events, Auth: auth}
	b, err := json.Marshal(n)
	if err != nil {
		return fmt.Errorf("announce a commit: %w", err)
	}
	if len(b) > maxPayload {
		b, _ = json.Marshal(notice{Node: db.nodes.id, Overflow: true})
	}
	// A constant rather than an argument: a statement without arguments
	// goes by the simple protocol, which takes several in one round trip.
	if _, err := tx.ExecContext(ctx, lead+"SELECT pg_notify('"+changesChannel+"', "+pgString(string(b))+")"); err != nil {
		return fmt.Errorf("announce a commit: %w", err)
	}
	return nil
}

// pgString is s as a PostgreSQL string constant, read the same whatever
// standard_conforming_strings says (s holds no NUL: JSON escapes it).
func pgString(s string) string {
	return "E'" + strings.NewReplacer(`\`, `\\`, "'", "''").Replace(s) + "'"
}

func dedupe(ids []int64) []int64 {
	seen := make(map[int64]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// Signal passes something that is not stored (an agent typing, a
// mention's alert) to the other nodes' FollowOthers; on SQLite, with no
// other node, it does nothing. It is at most once: a node that is not
// listening at that moment never hears it.
func (db *DB) Signal(ctx context.Context, signal json.RawMessage) error {
	if db.nodes == nil {
		return nil
	}
	b, err := json.Marshal(notice{Node: db.nodes.id, Signal: signal})
	if err != nil {
		return fmt.Errorf("signal the other nodes: %w", err)
	}
	if len(b) > maxPayload {
		return fmt.Errorf("signal the other nodes: %d bytes is over PostgreSQL's limit", len(b))
	}
	if _, err := db.r.ExecContext(ctx, "SELECT pg_notify('"+changesChannel+"', ?)", string(b)); err != nil {
		return fmt.Errorf("signal the other nodes: %w", err)
	}
	return nil
}

// Committed is what other nodes did, as FollowOthers hands it over: the
// ids of what they committed (read the rows from the store), a signal,
// or Resync.
type Committed struct {
	Tickets, Messages, Events []int64
	Signal                    json.RawMessage
	// Resync: notifications may have been missed (the listening
	// connection broke and is back, or a commit touched too much to
	// name): whoever shows committed state must read it again.
	Resync bool
}

// Multinode tells whether other nodes may share the database (it is
// PostgreSQL): background work then runs under leases, and commits are
// followed across nodes.
func (db *DB) Multinode() bool { return db.nodes != nil }

// FollowOthers calls f, on one goroutine and in commit order, with what
// the other nodes on the database commit and signal, until ctx ends. On
// SQLite it returns at once: there is no other node. f must not block
// for long: notifications queue in PostgreSQL meanwhile.
func (db *DB) FollowOthers(ctx context.Context, log *slog.Logger, f func(Committed)) {
	if db.nodes == nil {
		return
	}
	first := true
	for ctx.Err() == nil {
		err := db.listen(ctx, first, f)
		if ctx.Err() != nil {
			return
		}
		first = false
		log.Warn("other nodes' changes: listening stopped, starting again", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}

// listen holds one LISTEN connection until it fails or ctx ends.
func (db *DB) listen(ctx context.Context, first bool, f func(Committed)) error {
	conn, err := db.nodes.connect(ctx)
	if err != nil {
		return err
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+changesChannel); err != nil {
		return err
	}
	// Credentials changed while nobody listened went unheard.
	db.authVersion.Add(1)
	db.nodes.following.Store(true)
	defer db.nodes.following.Store(false)
	if !first {
		// Listening again: what was committed meanwhile went unheard.
		f(Committed{Resync: true})
	}
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var p notice
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil {
			return errors.Join(errors.New("a notification that is not onedesk's"), err)
		}
		if p.Auth || p.Overflow {
			// Who may sign in changed there: what this node remembers
			// of sessions and tokens is stale (see AuthVersion).
			db.authVersion.Add(1)
		}
		switch {
		case p.Node == db.nodes.id:
			// Our own: this node published it already.
		case p.Overflow:
			f(Committed{Resync: true})
		case len(p.Tickets)+len(p.Messages)+len(p.Events) > 0 || p.Signal != nil:
			f(Committed{Tickets: p.Tickets, Messages: p.Messages, Events: p.Events, Signal: p.Signal})
		}
	}
}
