package store

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Rate limits shared by several nodes (package limit keeps the tokens a
// node was granted; this is the bank it takes them from): one token
// bucket per limit and key in PostgreSQL's UNLOGGED rate_buckets, refilled
// by PostgreSQL's clock alone, so the nodes' clocks never meet. A node
// takes a few tokens at a time and spends them without asking again, so a
// client's requests cost a round trip per handful, not each; a token is
// spent only once whichever node spends it, so the limit holds across the
// nodes exactly (the only error: tokens a node took and did not spend
// before they went stale are lost, an undercount).

// ErrNotShared: on SQLite, one node, limits are counted in memory.
var ErrNotShared = errors.New("rate limits are shared only on PostgreSQL")

// rateBucketIdle is how long an untouched bucket is kept: long past
// refilling (the longest, the login limit's, takes half a minute), after
// which a missing row and a full bucket are the same.
const rateBucketIdle = time.Hour

// TakeTokens takes up to want tokens from the bucket of limit name and key
// (refilled at perSecond up to burst, starting full), and returns how many
// it got and the tokens left (below 1 when it got none: the caller can
// tell when the next one comes).
func (db *DB) TakeTokens(ctx context.Context, name, key string, perSecond float64, burst, want int) (granted int, left float64, err error) {
	if db.nodes == nil {
		return 0, 0, ErrNotShared
	}
	first := float64(min(want, burst))
	// level is the bucket refilled to now, up to burst (the inserted row's
	// tokens and granted add up to it). Another node's statement on the
	// same row waits for this one, and may have begun before its commit:
	// time never runs back (GREATEST).
	const level = `LEAST(excluded.tokens + excluded.granted, b.tokens + ? * GREATEST(0, EXTRACT(EPOCH FROM statement_timestamp() - b.at)::float8))`
	var got float64
	err = db.rq.QueryRowContext(ctx, `INSERT INTO rate_buckets AS b (name, key, tokens, granted, at) VALUES (?, ?, ?, ?, statement_timestamp())
		ON CONFLICT (name, key) DO UPDATE SET
			granted = LEAST(?, GREATEST(0, FLOOR(`+level+`))),
			tokens = `+level+` - LEAST(?, GREATEST(0, FLOOR(`+level+`))),
			at = GREATEST(b.at, statement_timestamp())
		RETURNING granted, tokens`,
		name, key, float64(burst)-first, first,
		float64(want), perSecond,
		perSecond, float64(want), perSecond).Scan(&got, &left)
	if err != nil {
		return 0, 0, fmt.Errorf("rate limit %s: take tokens: %w", name, err)
	}
	db.sweepRateBuckets(ctx)
	return int(got), left, nil
}

// sweepRateBuckets deletes buckets idle for rateBucketIdle, at most once a
// minute per node.
func (db *DB) sweepRateBuckets(ctx context.Context) {
	now := time.Now().Unix()
	last := db.nodes.rateSwept.Load()
	if now-last < 60 || !db.nodes.rateSwept.CompareAndSwap(last, now) {
		return
	}
	db.rq.ExecContext(ctx, "DELETE FROM rate_buckets WHERE at < statement_timestamp() - make_interval(secs => ?)", rateBucketIdle.Seconds())
}
