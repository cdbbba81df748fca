package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// FTS5 writes a segment per transaction and merges them a few at a time
// (automerge), so a large index keeps a dozen segments, and every search
// seeks in each. Merging them into one made searches at 1,000,000
// tickets 5-35 % faster. RunSearchMerge does that in the background, in
// small steps ('merge' with a negative page count merges every segment
// into one), each its own short write, with checkpoints in between.

// searchMergeShare: a merge starts when the segments besides the largest
// hold at least 1/searchMergeShare of the index's pages. After a merge
// into one segment it waits for the index to grow by a tenth, so the
// whole index is rewritten about once for each tenth added.
const searchMergeShare = 10

// searchMergeMinPages: an index smaller than this is left to automerge
// (a small desk's search is quick with any number of segments).
const searchMergeMinPages = 2000

// searchMergeDelay is how long after start the job first looks.
var searchMergeDelay = 30 * time.Second

// searchMergeQuiet: a merge step waits until no other write committed
// for this long.
var searchMergeQuiet = 500 * time.Millisecond

// searchMergeEvery is how often the job looks at the index after start.
var searchMergeEvery = 10 * time.Minute

// searchMergeStepTime is about how long one merge step (one write
// transaction) takes: ingest waits at most about that long.
const searchMergeStepTime = 15 * time.Millisecond

// searchMergeWait: between steps, after one that took d, the job waits
// for d*searchMergeWait, so that it takes a share of the writer and a
// core, not all of them.
const searchMergeWait = 1

// RunSearchMerge merges the search index's segments in the background
// until ctx ends: after start (once the index is built) and whenever it
// has grown by a tenth since. It logs each merge. PostgreSQL has nothing
// to merge.
func (db *DB) RunSearchMerge(ctx context.Context, log *slog.Logger) {
	if db.postgres {
		return
	}
	select {
	case <-db.search.built:
	case <-ctx.Done():
		return
	}
	// Not at once: start-up and the first requests go first.
	if sleepCtx(ctx, searchMergeDelay) != nil {
		return
	}
	tick := time.NewTicker(searchMergeEvery)
	defer tick.Stop()
	for {
		if err := db.MergeSearchIndex(ctx, log); err != nil && ctx.Err() == nil {
			log.Warn("search index merge", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// SearchMerging reports whether the background merge is at work (search
// answers meanwhile, a little slower).
func (db *DB) SearchMerging() bool { return db.search.merging.Load() }

// MergeSearchIndex merges the index's segments into one if
// searchMergeShare says it is worth it (RunSearchMerge's work; dev seed
// runs it once so that a seeded desk is ready to measure).
func (db *DB) MergeSearchIndex(ctx context.Context, log *slog.Logger) error {
	if db.postgres || !db.SearchReady() {
		return nil
	}
	st, err := db.searchStructure(ctx)
	if err != nil {
		return err
	}
	if !st.worthMerging() {
		return nil
	}
	db.search.merging.Store(true)
	defer db.search.merging.Store(false)
	log.Info("search index: merging its segments in the background", "segments", st.segments, "pages", st.pages)
	start := time.Now()
	steps, longest, err := db.mergeSearch(ctx, 0, log)
	if err != nil {
		return err
	}
	after, err := db.searchStructure(ctx)
	if err != nil {
		return err
	}
	log.Info("search index: merged", "segments", after.segments, "pages", after.pages, "steps", steps,
		"longest_step", longest.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// mergeSearch runs merge steps until the index is one segment, ctx ends
// or maxSteps were run (0: no limit). It returns the steps run and the
// longest one's time; progress
// goes to log (nil: none) every half minute.
func (db *DB) mergeSearch(ctx context.Context, maxSteps int, log *slog.Logger) (steps int, longest time.Duration, err error) {
	pages := int64(64) // one step's work, adapted to searchMergeStepTime
	var written int64  // pages asked for, in all
	var busy time.Duration
	logged := time.Now()
	mine := uint64(0) // db.commits after this job's last step (0: before the first)
	for maxSteps == 0 || steps < maxSteps {
		if log != nil && time.Since(logged) >= 30*time.Second {
			logged = time.Now()
			log.Info("search index: still merging", "steps", steps, "pages_written", written,
				"pages_a_step", pages, "step_time", (busy / time.Duration(max(steps, 1))).Round(time.Millisecond))
		}
		// Writers first: a step waits for a quiet moment, no write queued
		// and none committed for searchMergeQuiet (FTS5 bounds a step's
		// work only between terms: a common word's list is merged in one
		// step, seconds at 1,000,000 tickets, which ingest would wait for).
		// (Nobody else committed since the last step and its pause: go on.)
		for quiet := mine; db.commits.Load() != quiet || len(db.writes) > 0; {
			quiet = db.commits.Load()
			if err := sleepCtx(ctx, searchMergeQuiet); err != nil {
				return steps, longest, err
			}
		}
		t0 := time.Now()
		var worked bool
		err = db.Write(ctx, func(tx *Tx) error {
			var before, after int64
			if err := tx.tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&before); err != nil {
				return err
			}
			if _, err := tx.tx.ExecContext(ctx, "INSERT INTO ticket_search (ticket_search, rank) VALUES ('merge', ?)", -pages); err != nil {
				return err
			}
			if err := tx.tx.QueryRowContext(ctx, "SELECT total_changes()").Scan(&after); err != nil {
				return err
			}
			// FTS5's documented sign of work: two changes or more.
			worked = after-before >= 2
			return nil
		})
		if err != nil {
			return steps, longest, fmt.Errorf("merge the search index: %w", err)
		}
		steps++
		if !worked {
			return steps, longest, nil
		}
		took := time.Since(t0)
		written += pages
		busy += took
		longest = max(longest, took)
		pages = min(max(pages*int64(searchMergeStepTime)/max(int64(took), 1), 16), 4096)
		if err := db.CheckpointIfLarge(ctx, searchWALLimit); err != nil {
			return steps, longest, err
		}
		mine = db.commits.Load()
		if err := sleepCtx(ctx, took*searchMergeWait); err != nil {
			return steps, longest, err
		}
	}
	return steps, longest, nil
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// searchIndexShape is what the index's structure record says: how many
// segments, their leaf pages in all and in the largest.
type searchIndexShape struct {
	segments       int
	pages, largest int64
	merging        bool // a merge is under way
}

func (s searchIndexShape) worthMerging() bool {
	if s.merging {
		return true // finish what was started (a stop or a restart cut it)
	}
	return s.segments > 1 && s.pages >= searchMergeMinPages && (s.pages-s.largest)*searchMergeShare >= s.pages
}

// searchStructure reads ticket_search's structure record (FTS5's %_data
// row 10).
func (db *DB) searchStructure(ctx context.Context) (searchIndexShape, error) {
	var rec []byte
	if err := db.r.QueryRowContext(ctx, "SELECT block FROM ticket_search_data WHERE id = 10").Scan(&rec); err != nil {
		return searchIndexShape{}, fmt.Errorf("search index structure: %w", err)
	}
	s, err := parseFTSStructure(rec)
	if err != nil {
		return s, fmt.Errorf("search index structure: %w", err)
	}
	return s, nil
}

var errFTSStructure = errors.New("not an FTS5 structure record this version knows")

// parseFTSStructure reads FTS5's structure record: a 4-byte cookie, then
// (contentless_delete tables) the V2 mark FF 00 00 01, the number of
// levels, of segments, a counter; per
// level the segments being merged and the level's segment count; per
// segment its id and first and last leaf pages (V2: five more numbers).
func parseFTSStructure(rec []byte) (searchIndexShape, error) {
	var s searchIndexShape
	if len(rec) < 4 {
		return s, errFTSStructure
	}
	p := rec[4:]
	v2 := len(p) >= 4 && p[0] == 0xFF && p[1] == 0 && p[2] == 0 && p[3] == 1
	if v2 {
		p = p[4:]
	}
	bad := false
	next := func() int64 {
		v, n := sqliteVarint(p)
		if n == 0 {
			bad = true
			return 0
		}
		p = p[n:]
		return int64(v)
	}
	levels := next()
	s.segments = int(next())
	counted := 0
	next() // the write counter (V2: the origin counter)
	for range levels {
		if bad {
			break
		}
		if next() > 0 {
			s.merging = true
		}
		n := next()
		counted += int(n)
		for range n {
			next() // segment id
			first, last := next(), next()
			if v2 {
				for range 5 {
					next()
				}
			}
			pages := last - first + 1
			s.pages += pages
			s.largest = max(s.largest, pages)
		}
	}
	if bad || counted != s.segments {
		return searchIndexShape{}, errFTSStructure
	}
	return s, nil
}

// sqliteVarint decodes SQLite's varint (big-endian, 7 bits a byte, the
// ninth byte whole); n is 0 when p ends first.
func sqliteVarint(p []byte) (v uint64, n int) {
	for i := 0; i < 9; i++ {
		if i >= len(p) {
			return 0, 0
		}
		if i == 8 {
			return v<<8 | uint64(p[i]), 9
		}
		v = v<<7 | uint64(p[i]&0x7f)
		if p[i] < 0x80 {
			return v, i + 1
		}
	}
	return v, 9
}
