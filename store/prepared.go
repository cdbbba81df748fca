package store

import (
	"context"
	"database/sql"
	"strings"
	"sync"
)

// prepared runs statements on a pool or inside a transaction, preparing
// each query text once: parsing SQL was a quarter of the CPU of a chat
// message. Queries built with literal id lists are run unprepared, so the
// cache holds only the fixed texts of this package.
type prepared struct {
	pool  *sql.DB
	tx    *sql.Tx
	cache *stmtCache
}

type stmtCache struct {
	pool     *sql.DB
	postgres bool // the pool's engine (see insert)
	mu       sync.RWMutex
	m        map[string]*sql.Stmt
	pending  map[string]bool // texts seen in transactions, prepared after them
}

// maxPrepared bounds the cache; past it, new texts run unprepared.
const maxPrepared = 500

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, m: map[string]*sql.Stmt{}, pending: map[string]bool{}}
}

// get returns the prepared statement for q, or nil to run q as it is. In
// a transaction (inTx) it never prepares: the writer pool's one
// connection is the transaction's, so the text waits for preparePending.
func (c *stmtCache) get(ctx context.Context, q string, inTx bool) *sql.Stmt {
	c.mu.RLock()
	s := c.m[q]
	c.mu.RUnlock()
	if s != nil || !cacheable(q) {
		return s
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if s = c.m[q]; s != nil || len(c.m)+len(c.pending) >= maxPrepared {
		return s
	}
	if inTx {
		c.pending[q] = true
		return nil
	}
	s, err := c.pool.PrepareContext(ctx, q)
	if err != nil {
		return nil // the unprepared run reports the error
	}
	c.m[q] = s
	return s
}

// preparePending prepares the texts transactions ran unprepared. The lock
// is not held while preparing: that waits for the pool's connection, which
// a transaction may hold while it asks the cache.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	texts := make([]string, 0, len(c.pending))
	for q := range c.pending {
		texts = append(texts, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range texts {
		s, err := c.pool.PrepareContext(ctx, q)
		if err != nil {
			continue
		}
		c.mu.Lock()
		if c.m[q] == nil {
			c.m[q] = s
		} else {
			s.Close()
		}
		c.mu.Unlock()
	}
}

func (c *stmtCache) hasPending() bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.pending) > 0
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, s := range c.m {
		s.Close()
	}
	c.m = map[string]*sql.Stmt{}
}

// cacheable: not a query with a literal list like "IN (1,2,3)", nor a
// PostgreSQL text search (::tsquery), whose best plan depends on how
// common its words are: a prepared statement's generic plan walked every
// row for a rare word (see oneOff).
func cacheable(q string) bool {
	if strings.Contains(q, "::tsquery") {
		return false
	}
	for rest := q; ; {
		i := strings.Index(rest, "IN (")
		if i < 0 {
			return true
		}
		rest = rest[i+4:]
		if rest != "" && rest[0] >= '0' && rest[0] <= '9' {
			return false
		}
	}
}

// ctx is the context for a statement: in a transaction, which other
// writes share, a caller's cancellation must not interrupt SQLite (an
// interrupted write rolls back the whole transaction).
func (p prepared) ctx(ctx context.Context) context.Context {
	if p.tx != nil {
		return context.WithoutCancel(ctx)
	}
	return ctx
}

func (p prepared) stmt(ctx context.Context, q string) *sql.Stmt {
	s := p.cache.get(ctx, q, p.tx != nil)
	if s != nil && p.tx != nil {
		return p.tx.StmtContext(ctx, s)
	}
	return s
}

func (p prepared) ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error) {
	ctx = p.ctx(ctx)
	if s := p.stmt(ctx, q); s != nil {
		return s.ExecContext(ctx, args...)
	}
	if p.tx != nil {
		return p.tx.ExecContext(ctx, q, args...)
	}
	return p.pool.ExecContext(ctx, q, args...)
}

func (p prepared) QueryContext(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	ctx = p.ctx(ctx)
	if s := p.stmt(ctx, q); s != nil {
		return s.QueryContext(ctx, args...)
	}
	if p.tx != nil {
		return p.tx.QueryContext(ctx, q, args...)
	}
	return p.pool.QueryContext(ctx, q, args...)
}

func (p prepared) QueryRowContext(ctx context.Context, q string, args ...any) *sql.Row {
	ctx = p.ctx(ctx)
	if s := p.stmt(ctx, q); s != nil {
		return s.QueryRowContext(ctx, args...)
	}
	if p.tx != nil {
		return p.tx.QueryRowContext(ctx, q, args...)
	}
	return p.pool.QueryRowContext(ctx, q, args...)
}

// inserted is the result of insert: the new row's id.
type inserted int64

func (id inserted) LastInsertId() (int64, error) { return int64(id), nil }
func (id inserted) RowsAffected() (int64, error) { return 1, nil }

// insert runs an INSERT of one row into a table with an id column and
// returns a result whose LastInsertId is the new id: on PostgreSQL, which
// has no LastInsertId, through RETURNING id; on SQLite as it was, which
// allocates half as much as reading a row back.
func (p prepared) insert(ctx context.Context, q string, args ...any) (sql.Result, error) {
	if !p.cache.postgres {
		return p.ExecContext(ctx, q, args...)
	}
	var id int64
	if err := p.QueryRowContext(ctx, q+" RETURNING id", args...).Scan(&id); err != nil {
		return nil, err
	}
	return inserted(id), nil
}
