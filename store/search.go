package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"
)

// Ticket search reads ticket_search (migration 0024), whose rowids start
// with the ticket id: FTS5 hands matches over newest ticket first, so a
// page of tickets is read off the front of the match list and the read
// stops there, whether the word is in every message or in three.

// searchKeyShift puts the ticket id in a ticket_search rowid's high bits.
const searchKeyShift = 32

// searchCollectLimit is how many rows of a long prefix's words FTS5
// collects at once in any case (a few milliseconds); with more, the rows
// of the 3-letter prefix are read and checked when that is cheaper.
const searchCollectLimit = 20000

// searchFilterSpan: filters read the tickets of the keys' id range
// when it holds at most this many tickets for each ticket with a key.
const searchFilterSpan = 8

// searchRound bounds how many tickets one read of the match list takes
// when filters turn most matches away; each round reads on from the last.
const searchRound = 4096

// searchState is whether ticket_search is complete (see buildSearch).
type searchState struct {
	ready    atomic.Bool
	built    chan struct{} // closed once ready
	buildErr atomic.Value  // string: the background build's last error
	merging  atomic.Bool   // RunSearchMerge is merging segments

	// prefixes remembers prefixWords' answers between keystrokes (listing
	// a prefix's words was a third of a typed search's time) until the
	// next committed write, which may have added words: exact, never stale.
	prefixMu      sync.Mutex
	prefixCommits uint64              // db.commits when the answers were read
	prefixes      map[string][]string // by prefix; nil answer: too many words
}

// prefixCacheLimit bounds the remembered prefixes; past it they start over.
const prefixCacheLimit = 4096

// SearchReady reports whether ticket search reads its own index. While a
// desk upgraded from an older version is being indexed, searches are
// answered by the older index (slower, the same tickets).
func (db *DB) SearchReady() bool { return db.search.ready.Load() }

// SearchBuilt is closed once the index is complete.
func (db *DB) SearchBuilt() <-chan struct{} { return db.search.built }

// searchBuildInline is how many tickets Open indexes before returning
// (a new or small desk); a desk with more is indexed in the background,
// so that start-up is not held up.
var searchBuildInline int64 = 2000

// searchBuildBatch is how many tickets (with their messages) one build
// transaction indexes: tens of milliseconds, so ingest waits little.
const searchBuildBatch = 1000

// searchWALLimit is the write-ahead log size past which a long job
// checkpoints, so that a build or a count over a large history under
// load does not grow the log without bound.
const searchWALLimit = 64 << 20

// startSearchBuild indexes what ticket_search lacks: at once for a small
// desk (Open returns with search ready), else in the background, newest
// tickets first, in short transactions with checkpoints.
func (db *DB) startSearchBuild(ctx context.Context) error {
	db.search.built = make(chan struct{})
	var below int64
	err := db.r.QueryRowContext(ctx, "SELECT tickets_below FROM search_build").Scan(&below)
	if errors.Is(err, sql.ErrNoRows) { // built
		db.search.ready.Store(true)
		close(db.search.built)
		return nil
	}
	var left int64
	if err == nil {
		// Only whether the desk is small: counting a million tickets
		// would hold start-up up by a tenth of a second.
		err = db.r.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT 1 FROM tickets WHERE id < ? LIMIT ?)", below, searchBuildInline+1).Scan(&left)
	}
	if err != nil {
		// A damaged file still opens (its reads and writes say what is
		// wrong); searches read the older index.
		db.search.buildErr.Store(err.Error())
		return nil
	}
	for left <= searchBuildInline {
		done, err := db.buildSearchBatch(ctx)
		if err != nil {
			return err
		}
		if done {
			db.search.ready.Store(true)
			close(db.search.built)
			return nil
		}
	}
	db.background.Add(1)
	go func() {
		defer db.background.Done()
		bctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		go func() {
			select {
			case <-db.quit:
				cancel()
			case <-bctx.Done():
			}
		}()
		for bctx.Err() == nil {
			done, err := db.buildSearchBatch(bctx)
			if err != nil {
				if bctx.Err() == nil {
					db.search.buildErr.Store(err.Error())
				}
				return
			}
			if done {
				db.search.ready.Store(true)
				close(db.search.built)
				return
			}
			if err := db.CheckpointIfLarge(bctx, searchWALLimit); err != nil && bctx.Err() == nil {
				db.search.buildErr.Store(err.Error())
			}
		}
	}()
	return nil
}

// SearchBuildLeft is how many tickets the index still lacks (0 when
// ready) and the build's last error, if any.
func (db *DB) SearchBuildLeft(ctx context.Context) (int64, string, error) {
	msg, _ := db.search.buildErr.Load().(string)
	if db.SearchReady() {
		return 0, msg, nil
	}
	var left int64
	err := db.r.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE id < coalesce((SELECT tickets_below FROM search_build), 0)`).Scan(&left)
	return left, msg, err
}

// buildSearchBatch indexes the next searchBuildBatch tickets below the
// build's mark with their messages, in one transaction. When none are
// left it drops the build's mark and the older index.
func (db *DB) buildSearchBatch(ctx context.Context) (bool, error) {
	done := false
	err := db.Write(ctx, func(tx *Tx) error {
		var below int64
		err := tx.tx.QueryRowContext(ctx, "SELECT tickets_below FROM search_build").Scan(&below)
		if errors.Is(err, sql.ErrNoRows) {
			done = true
			return nil
		}
		if err != nil {
			return err
		}
		var low sql.NullInt64
		if err := tx.tx.QueryRowContext(ctx, `SELECT min(id) FROM (SELECT id FROM tickets WHERE id < ? ORDER BY id DESC LIMIT ?)`,
			below, searchBuildBatch).Scan(&low); err != nil {
			return err
		}
		if !low.Valid {
			// Everything is indexed: the older index and its triggers go.
			done = true
			_, err := tx.tx.ExecContext(ctx, `DELETE FROM search_build;
				DROP TRIGGER IF EXISTS messages_search_insert;
				DROP TRIGGER IF EXISTS messages_search_delete;
				DROP TABLE IF EXISTS search;`)
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO ticket_search (rowid, ticket, message)
			SELECT ticket_id * 4294967296, text, '' FROM ticket_search_text WHERE ticket_id >= ? AND ticket_id < ?`, low.Int64, below); err != nil {
			return err
		}
		if _, err := tx.tx.ExecContext(ctx, `INSERT INTO ticket_search (rowid, ticket, message)
			SELECT key, head, text FROM ticket_search_messages WHERE ticket_id >= ? AND ticket_id < ?`, low.Int64, below); err != nil {
			return err
		}
		_, err = tx.tx.ExecContext(ctx, "UPDATE search_build SET tickets_below = ?", low.Int64)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("build the search index: %w", err)
	}
	return done, nil
}

// CheckpointIfLarge copies the write-ahead log into the database and
// starts it over once it is larger than limit bytes. Autocheckpoints do
// not start the log over while readers keep using it, so a long job on
// a busy desk calls this between its transactions.
func (db *DB) CheckpointIfLarge(ctx context.Context, limit int64) error {
	st, err := os.Stat(db.path + "-wal")
	if err != nil || st.Size() <= limit {
		return nil
	}
	var busy, frames, copied int
	if err := db.w.QueryRowContext(ctx, "PRAGMA wal_checkpoint(TRUNCATE)").Scan(&busy, &frames, &copied); err != nil {
		return fmt.Errorf("checkpoint %s: %w", db.path, err)
	}
	return nil
}

// searchFold folds what unicode61 keeps apart but a user types alike, as
// migration 0024 folds the indexed text.
var searchFold = strings.NewReplacer("ı", "i", "ё", "е", "Ё", "Е")

// phoneLike is a number written as a phone number: digits with spaces,
// dashes, dots, slashes or brackets, maybe a leading +.
var phoneLike = regexp.MustCompile(`^\+?[0-9 ()./-]+$`)

// searchWords splits what an agent typed into the words the index holds
// (an address stays one word: FTS5 reads it as a phrase).
func searchWords(s string) []string {
	words := strings.FieldsFunc(searchFold.Replace(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsNumber(r) && r != '@' && r != '.' && r != '-' && r != '_' && r != '+'
	})
	out := words[:0]
	for _, w := range words {
		if w = strings.Trim(w, "@.-_+"); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// FTSQuery turns what an agent typed into an FTS5 query: every word must
// match, the last one as a prefix (search as you type). Quoting each word
// keeps FTS5 operators in customer text from being interpreted. A phone
// number in any format also matches as its digits (the index holds a
// number's last 7 to 12 digits as words of their own).
func FTSQuery(s string) string {
	words := searchWords(s)
	if len(words) == 0 {
		return ""
	}
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + w + `"`
	}
	parts[len(parts)-1] += "*"
	q := strings.Join(parts, " ")
	s = strings.TrimSpace(s)
	if phoneLike.MatchString(s) {
		digits := strings.Map(func(r rune) rune {
			if r >= '0' && r <= '9' {
				return r
			}
			return -1
		}, s)
		national := strings.TrimLeft(digits, "0")
		if len(national) >= 7 {
			if len(national) > 12 {
				national = national[len(national)-12:]
			}
			q = `"` + national + `" OR (` + q + `)`
		}
	}
	return q
}

// searchHit is a ticket that matches, and the first message rows that
// matched (the low bits of their ticket_search keys; none when only the
// ticket's own text matched). A message row carries the ticket's subject
// and customer name, so it may match without its body holding a word:
// the passage comes from the first whose body does.
type searchHit struct {
	ticket int64
	keys   []int64
}

// searchPassageKeys is how many matching message rows of a ticket are
// kept to find a passage in.
const searchPassageKeys = 4

// searchPlan is how one search reads the index. FTS5 reads a word, or a
// prefix of 3 letters (the prefix index), in rowid order and stops
// when the caller does; a longer prefix ("refu") it first collects in
// full, which for a common word costs as much as reading every match.
// So a longer last prefix is read as its first 3 letters and each row
// checked against the whole prefix (verify), unless few rows pass: then
// the prefix's words are rare and FTS5's own prefix query is cheap.
type searchPlan struct {
	match      string   // the FTS5 query
	verify     string   // a folded prefix each row must have a word starting with ("": none)
	contains   string   // or a text (lowercase) each row must contain, as an address
	fallback   string   // the FTS5 query with the whole prefix
	words      string   // with verify: the FTS5 query of the words before the prefix
	wordsTyped string   // and those words as typed
	and        []string // when the query is these whole words, all of them
	common     []string // whole words (folded) each row must also have, besides match
}

// checks is whether rows read are checked (verify, contains, common).
func (p searchPlan) checks() bool { return p.verify != "" || p.contains != "" || len(p.common) > 0 }

// planSearch is the plan for what an agent typed ("" match: nothing can
// match).
func planSearch(q string) searchPlan {
	full := FTSQuery(q)
	words := searchWords(q)
	if full == "" || strings.Contains(full, " OR ") || len(words) == 0 {
		return searchPlan{match: full}
	}
	parts := make([]string, len(words))
	for i, w := range words {
		parts[i] = `"` + w + `"`
	}
	last := words[len(words)-1]
	if local, _, ok := strings.Cut(last, "@"); ok && len(local) >= 3 {
		// An address: the words of its local part, and each row checked
		// for the address as typed. Its domain's words are in every
		// customer's row, and FTS5 pays for opening their long lists.
		tokens := strings.FieldsFunc(local, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		if len(tokens) > 0 {
			full := strings.Join(parts, " ")
			parts[len(parts)-1] = `"` + strings.Join(tokens, " ") + `"`
			return searchPlan{match: strings.Join(parts, " "), contains: strings.ToLower(last), fallback: full}
		}
	}
	if strings.ContainsAny(last, "@.-_+") {
		// An address, a number with dashes: a phrase, whose last part is
		// a prefix only while short enough for the prefix index.
		tokens := strings.FieldsFunc(last, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
		switch n := len(tokens); {
		case n > 1 && utf8.RuneCountInString(tokens[n-1]) < 3:
			// "bea@example.o" while typing: the phrase without its last
			// one or two letters, which no index holds as a prefix.
			parts[len(parts)-1] = `"` + strings.Join(tokens[:n-1], " ") + `"`
		case n > 0 && utf8.RuneCountInString(tokens[n-1]) == 3:
			parts[len(parts)-1] += "*"
		}
		return searchPlan{match: strings.Join(parts, " ")}
	}
	switch n := utf8.RuneCountInString(last); {
	case n < 3: // one or two letters: a whole word (no index of them as prefixes)
		return searchPlan{match: strings.Join(parts, " "), and: words}
	case n == 3:
		return searchPlan{match: full}
	}
	folded := foldWord(last)
	short := string([]rune(folded)[:3])
	typed := strings.Join(words[:len(words)-1], " ")
	words = parts[:len(parts)-1]
	parts[len(parts)-1] = `"` + short + `"*`
	return searchPlan{match: strings.Join(parts, " "), verify: folded, fallback: full, words: strings.Join(words, " "), wordsTyped: typed}
}

// searchSkipSpan: a word whose searchDenseProbe newest rows span fewer
// tickets than this is in most messages, too many to read past.
const searchSkipSpan = 40

// searchPrefixWords is how many indexed words a typed prefix of 4 or
// more letters may stand for to be read as those words: FTS5 reads an
// OR of words in rowid order, lazily, and stops with the page. A prefix
// of more words is read as planned.
var searchPrefixWords = 40

// expandPrefix reads a last word of 4 or more letters that is itself an
// indexed word as that word ("refund"), and one that is not ("refu") as
// the indexed words it begins (refund, refunds) when they are few, which
// is nearly always: no row is checked, and a rare word costs what a
// common one does. Only when the prefix begins more words than that are
// its first 3 letters read and each row checked (planSearch).
//
// Listing the words a prefix begins reads past each word's occurrences
// in the index (a few pages for most words, milliseconds for a word in
// most messages): a whole word typed is not also read as a prefix.
func (db *DB) expandPrefix(ctx context.Context, plan searchPlan) (searchPlan, error) {
	if plan.verify == "" {
		return plan, nil
	}
	terms, err := db.prefixWords(ctx, plan.verify, searchPrefixWords)
	if err != nil {
		return plan, err
	}
	switch {
	case terms == nil:
		return plan, nil
	case len(terms) == 0:
		// No indexed word begins so (or the prefix folds otherwise than
		// FTS5 folds it): FTS5's own prefix query, as cheap when nothing
		// matches and right either way.
		return searchPlan{match: plan.fallback}, nil
	}
	var and []string
	if len(terms) == 1 {
		and = append(searchWords(plan.wordsTyped), terms[0])
	}
	for i, t := range terms {
		terms[i] = `"` + strings.ReplaceAll(t, `"`, `""`) + `"`
	}
	or := terms[0]
	if len(terms) > 1 {
		or = "(" + strings.Join(terms, " OR ") + ")"
	}
	if plan.words == "" {
		return searchPlan{match: or, and: and}, nil
	}
	return searchPlan{match: plan.words + " AND " + or, and: and}, nil
}

// prefixWords lists the indexed words that begin with prefix (folded as
// the index folds), or only prefix when it is a word itself: one indexed
// read per word, each from the word before. It is nil when the prefix
// begins more than n words, or when the first is in most messages
// (reading on past it would cost milliseconds, and its 3 letters with
// each row checked find a page at once).
func (db *DB) prefixWords(ctx context.Context, prefix string, n int) ([]string, error) {
	commits := db.commits.Load()
	st := &db.search
	key := fmt.Sprintf("%d\x00%s", n, prefix)
	st.prefixMu.Lock()
	terms, ok := st.prefixes[key]
	ok = ok && st.prefixCommits == commits
	st.prefixMu.Unlock()
	if ok {
		return slices.Clone(terms), nil // the caller quotes them in place
	}
	terms, err := db.readPrefixWords(ctx, prefix, n)
	if err != nil {
		return nil, err
	}
	st.prefixMu.Lock()
	if st.prefixes == nil || st.prefixCommits != commits || len(st.prefixes) >= prefixCacheLimit {
		st.prefixes, st.prefixCommits = map[string][]string{}, commits
	}
	// Read under the count taken before reading: a write meanwhile makes
	// it stale at the next lookup.
	st.prefixes[key] = slices.Clone(terms)
	st.prefixMu.Unlock()
	return terms, nil
}

// readPrefixWords is prefixWords read off the index.
func (db *DB) readPrefixWords(ctx context.Context, prefix string, n int) ([]string, error) {
	terms := []string{}
	from := prefix
	for {
		var term string
		err := db.rq.QueryRowContext(ctx, "SELECT term FROM ticket_search_terms WHERE term >= ? LIMIT 1", from).Scan(&term)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("search: words beginning %q: %w", prefix, err)
		}
		if term == prefix {
			return []string{term}, nil
		}
		if !strings.HasPrefix(term, prefix) {
			break
		}
		if len(terms) == n {
			return nil, nil
		}
		if len(terms) == 0 {
			keys, err := db.searchRows(ctx, `"`+strings.ReplaceAll(term, `"`, `""`)+`"`, 1<<63-1, false, searchDenseProbe)
			if err != nil {
				return nil, err
			}
			if len(keys) == searchDenseProbe && keys[0]>>searchKeyShift-keys[len(keys)-1]>>searchKeyShift < searchSkipSpan {
				return nil, nil
			}
		}
		terms = append(terms, term)
		// Words hold no control characters: the next word is at or past
		// this one and \x01.
		from = term + "\x01"
	}
	return terms, nil
}

// searchDenseProbe is how many of a word's newest rows are read to
// tell how common it is: by how many tickets they span.
const searchDenseProbe = 32

// searchSplitRatio: checking a row costs about a hundred times what
// FTS5 stepping over one costs, so the common words of a query are
// checked only in the rows of words that many times rarer.
const searchSplitRatio = 100

// splitCommon reads a query of whole words, some common and some far
// rarer ("Jana order", a name and a word in most messages), as the rare
// words with each row checked for the common ones: FTS5 reads an AND
// newest first by stepping through the common word's rows (hundreds of
// milliseconds at a million tickets when few rows have all the words),
// and the rare words' rows are few. A look at each word's newest rows
// tells which are which.
func (db *DB) splitCommon(ctx context.Context, plan searchPlan) (searchPlan, error) {
	if len(plan.and) < 2 {
		return plan, nil
	}
	spans := make([]int64, len(plan.and))
	densest := int64(1<<63 - 1)
	for i, w := range plan.and {
		keys, err := db.searchRows(ctx, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`, 1<<63-1, false, searchDenseProbe)
		if err != nil {
			return plan, err
		}
		spans[i] = 1<<62 - 1 // fewer rows than that: rare whatever they span
		if len(keys) == searchDenseProbe {
			spans[i] = keys[0]>>searchKeyShift - keys[len(keys)-1]>>searchKeyShift + 1
		}
		densest = min(densest, spans[i])
	}
	// The words about as common as the most common one are checked; the
	// others are read together, if they are that much rarer together.
	var rare, common []string
	var rareSpan int64
	for i, w := range plan.and {
		if spans[i] <= densest*4 {
			common = append(common, foldWord(w))
		} else {
			rare = append(rare, `"`+strings.ReplaceAll(w, `"`, `""`)+`"`)
			rareSpan = spans[i]
		}
	}
	if len(rare) == 0 {
		return plan, nil
	}
	if len(rare) > 1 {
		keys, err := db.searchRows(ctx, strings.Join(rare, " "), 1<<63-1, false, searchDenseProbe)
		if err != nil {
			return plan, err
		}
		rareSpan = 1<<62 - 1
		if len(keys) == searchDenseProbe {
			rareSpan = keys[0]>>searchKeyShift - keys[len(keys)-1]>>searchKeyShift + 1
		}
	}
	if rareSpan/searchSplitRatio < densest {
		return plan, nil
	}
	return searchPlan{match: strings.Join(rare, " "), common: common}, nil
}

// searchTickets reads matching tickets in id order (newest first unless
// asc) after the cursor id (0: from the start), keeps those that pass the
// filters, and stops at limit+1 tickets.
// It returns the message texts verify read, by key.
func (db *DB) searchTickets(ctx context.Context, plan searchPlan, after int64, asc bool, filter searchFilter, limit int) ([]searchHit, map[int64]string, error) {
	var bound int64 // rows are read past this rowid
	switch {
	case asc:
		bound = (after+1)<<searchKeyShift - 1
	case after > 0:
		bound = after << searchKeyShift
	default:
		bound = 1<<63 - 1
	}
	var accepted []searchHit
	var pending *searchHit // the last ticket read, whose rows may go on
	want := (limit + 1) * 3
	if plan.checks() {
		want = 64 // enough to tell a common prefix from a rare one
	}
	read, passed, total := 0, 0, 0
	var keys0 []int64
	texts := map[int64]string{} // of the rows verify read
	for {
		keys, err := db.searchRows(ctx, plan.match, bound, asc, want)
		if err != nil {
			return nil, nil, err
		}
		exhausted := len(keys) < want
		if len(keys) > 0 {
			bound = keys[len(keys)-1]
			if keys0 == nil {
				keys0 = slices.Clone(keys) // the first read, for estimates
			}
		}
		total += len(keys)
		// The filters first: a lookup per ticket, cheaper than reading
		// each row's text for verify.
		if filter.cond != "" && len(keys) > 0 {
			if keys, err = db.filterKeys(ctx, keys, filter); err != nil {
				return nil, nil, err
			}
		}
		if plan.checks() && len(keys) > 0 {
			read += len(keys)
			if keys, err = db.searchVerify(ctx, keys, plan, texts); err != nil {
				return nil, nil, err
			}
			passed += len(keys)
		}
		var complete []searchHit
		for _, k := range keys {
			ticket, low := k>>searchKeyShift, k&(1<<searchKeyShift-1)
			if pending != nil && pending.ticket == ticket {
				if low != 0 && len(pending.keys) < searchPassageKeys {
					pending.keys = append(pending.keys, low)
				}
				continue
			}
			if pending != nil {
				complete = append(complete, *pending)
			}
			pending = &searchHit{ticket: ticket}
			if low != 0 {
				pending.keys = []int64{low}
			}
		}
		if exhausted && pending != nil {
			complete = append(complete, *pending)
		}
		accepted = append(accepted, complete...)
		if len(accepted) > limit || exhausted {
			return accepted[:min(len(accepted), limit+1)], texts, nil
		}
		if plan.fallback != "" && plan.checks() && read >= 64 && passed*4 < read && len(keys0) > 1 {
			// Few rows have the whole prefix. FTS5 collects all rows of
			// the prefix's words at once, quick if they are few in the
			// whole index: estimated from the rows read so far, over the
			// stretch of tickets they covered.
			first, last := keys0[0]>>searchKeyShift, keys0[len(keys0)-1]>>searchKeyShift
			span := max(first-last, last-first, 1)
			whole := max(first, last)
			// Collecting costs about 0.2 µs a row of the whole index,
			// reading on and checking about 40 µs a row still needed.
			collect := int64(passed) * whole / span
			need := int64((limit + 1) * read / max(passed, 1))
			if collect < searchCollectLimit || need*200 > collect {
				plan = searchPlan{match: plan.fallback}
			}
		}
		// Read about as many rows as the tickets still wanted took so far
		// (verifying rows costs a read of each), and a margin.
		if len(accepted) > 0 {
			want = (limit+1-len(accepted))*total/len(accepted)*5/4 + 16
		} else {
			want *= 4
		}
		want = min(want, searchRound)
	}
}

// searchRows reads up to n keys of rows matching match past bound.
func (db *DB) searchRows(ctx context.Context, match string, bound int64, asc bool, n int) ([]int64, error) {
	q := searchDesc
	if asc {
		q = searchAsc
	}
	rows, err := db.rq.QueryContext(ctx, q, match, bound, n)
	if err != nil {
		return nil, fmt.Errorf("search %q: %w", match, err)
	}
	defer rows.Close()
	keys := make([]int64, 0, n)
	for rows.Next() {
		var key int64
		if err := rows.Scan(&key); err != nil {
			return nil, fmt.Errorf("search %q: %w", match, err)
		}
		keys = append(keys, key)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search %q: %w", match, err)
	}
	return keys, nil
}

// The match list read forwards and backwards from a key. FTS5 reads its
// index in rowid order and stops at the limit.
const (
	searchDesc = "SELECT rowid FROM ticket_search WHERE ticket_search MATCH ? AND rowid < ? ORDER BY rowid DESC LIMIT ?"
	searchAsc  = "SELECT rowid FROM ticket_search WHERE ticket_search MATCH ? AND rowid > ? ORDER BY rowid ASC LIMIT ?"
)

// searchVerifyRows reads the texts of rows of ticket_search: messages by
// id, tickets by id (JSON arrays, so that the text stays prepared).
const searchVerifyRows = `SELECT key, head, body FROM ticket_search_messages
	WHERE message_id IN (SELECT value FROM json_each(?1))
	UNION ALL
	SELECT ticket_id * 4294967296, '', text FROM ticket_search_text WHERE ticket_id IN (SELECT value FROM json_each(?2))`

// searchVerify keeps the keys whose text has a word starting with prefix
// (folded), in order: a message's body with its ticket's subject and
// customer name, or a ticket's own text.
func (db *DB) searchVerify(ctx context.Context, keys []int64, plan searchPlan, texts map[int64]string) ([]int64, error) {
	if len(keys) == 0 {
		return keys, nil
	}
	var msgIDs, tickets []int64
	for _, k := range keys {
		if low := k & (1<<searchKeyShift - 1); low == 0 {
			tickets = append(tickets, k>>searchKeyShift)
		} else {
			msgIDs = append(msgIDs, low-1) // see readBodies
		}
	}
	rows, err := db.rq.QueryContext(ctx, searchVerifyRows, jsonInts(msgIDs), jsonInts(tickets))
	if err != nil {
		return nil, fmt.Errorf("search: check prefix: %w", err)
	}
	defer rows.Close()
	pass := map[int64]bool{}
	terms := []matchTerm{{word: plan.verify, prefix: true}}
	hasAll := func(head, text string) bool {
		for _, w := range plan.common {
			t := []matchTerm{{word: w}}
			if !hasMatchingWord(text, t) && !hasMatchingWord(head, t) {
				return false
			}
		}
		return true
	}
	for rows.Next() {
		var key int64
		var head, text string
		if err := rows.Scan(&key, &head, &text); err != nil {
			return nil, fmt.Errorf("search: check prefix: %w", err)
		}
		if plan.contains != "" && strings.Contains(strings.ToLower(text), plan.contains) ||
			plan.verify != "" && (hasMatchingWord(text, terms) || hasMatchingWord(head, terms)) ||
			len(plan.common) > 0 && plan.verify == "" && plan.contains == "" && hasAll(head, text) {
			pass[key] = true
			texts[key] = text
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: check prefix: %w", err)
	}
	kept := keys[:0]
	for _, k := range keys {
		if pass[k] {
			kept = append(kept, k)
		}
	}
	return kept, nil
}

// searchFilter is the inbox's filters for a search: a condition on t
// and, to read the tickets of a range of ids that pass, the index of the
// inbox's (column, status, id) indexes that reads only those.
type searchFilter struct {
	cond  string // "": none
	args  []any
	index string // "": none fits
	// With index: what the index holds (statuses, and its column's
	// condition), and whether cond says more (a channel, a priority...).
	indexCond string
	indexArgs []any
	more      bool
}

// newSearchFilter is the filter of f with the conditions ListTickets made
// (where, args) and the statuses asked for.
func newSearchFilter(f TicketFilter, statuses []string, where []string, args []any) searchFilter {
	var sf searchFilter
	all := len(statuses) >= len(Statuses)
	marks := "t.status IN (" + strings.TrimSuffix(strings.Repeat("?,", len(statuses)), ",") + ")"
	var sargs []any
	for _, st := range statuses {
		sargs = append(sargs, st)
	}
	if !all {
		sf.cond = strings.Join(append([]string{marks}, where...), " AND ")
		sf.args = append(slices.Clone(sargs), args...)
	} else if len(where) > 0 {
		sf.cond = strings.Join(where, " AND ")
		sf.args = args
	}
	var lead string
	var leadArgs []any
	switch {
	case f.Unassigned:
		sf.index, lead = "tickets_assignee_id", "t.assignee_id IS NULL"
	case f.AssigneeID != nil:
		sf.index, lead, leadArgs = "tickets_assignee_id", "t.assignee_id = ?", []any{*f.AssigneeID}
	case f.StoreID != nil:
		sf.index, lead, leadArgs = "tickets_store_id", "t.store_id = ?", []any{*f.StoreID}
	case f.NoTeam:
		sf.index, lead = "tickets_team_id", "t.team_id IS NULL"
	case f.TeamID != nil:
		sf.index, lead, leadArgs = "tickets_team_id", "t.team_id = ?", []any{*f.TeamID}
	case !all:
		sf.index = "tickets_status_id"
	}
	if sf.index != "" {
		// Every status named, so that the index is read as one range of
		// ids for each.
		sf.indexCond, sf.indexArgs = marks, sargs
		if lead != "" {
			sf.indexCond, sf.indexArgs = lead+" AND "+marks, append(leadArgs, sargs...)
		}
		sf.more = len(where) > 1 || len(where) == 1 && lead == ""
	}
	return sf
}

// filterKeys keeps the keys whose tickets pass the filter, in order.
// When the keys' tickets are a good share of the tickets in their id
// range (a common word), the tickets of that range which pass are read
// off the filter's index, a few rows for a selective filter (those of
// the keys then checked for the rest of the filter) or, with no index,
// the range itself; else a primary-key lookup per ticket (an index on
// a filter's column would read every ticket that passes).
func (db *DB) filterKeys(ctx context.Context, keys []int64, filter searchFilter) ([]int64, error) {
	var ids []int64
	for _, k := range keys {
		if t := k >> searchKeyShift; len(ids) == 0 || ids[len(ids)-1] != t {
			ids = append(ids, t)
		}
	}
	lo, hi := keys[0]>>searchKeyShift, keys[len(keys)-1]>>searchKeyShift
	if lo > hi {
		lo, hi = hi, lo
	}
	span := hi-lo+1 <= int64(len(ids))*searchFilterSpan
	// Ids and bounds are arguments, so that each statement stays prepared.
	between := []any{lo, hi}
	var pass map[int64]bool
	var err error
	switch {
	case span && filter.index != "":
		pass, err = db.filterIDs(ctx, "SELECT t.id FROM tickets t INDEXED BY "+filter.index+" WHERE t.id BETWEEN ? AND ? AND "+filter.indexCond,
			append(between, filter.indexArgs...))
		if err != nil || !filter.more {
			break
		}
		var passed []int64
		for _, t := range ids {
			if pass[t] {
				passed = append(passed, t)
			}
		}
		if len(passed) > 0 {
			pass, err = db.filterIDs(ctx, "SELECT t.id FROM tickets t NOT INDEXED WHERE t.id IN (SELECT value FROM json_each(?)) AND "+filter.cond,
				append([]any{jsonInts(passed)}, filter.args...))
		}
	case span:
		// A scan of the range: a few rows in order for each key's ticket.
		pass, err = db.filterIDs(ctx, "SELECT t.id FROM tickets t NOT INDEXED WHERE t.id BETWEEN ? AND ? AND "+filter.cond,
			append(between, filter.args...))
	default:
		pass, err = db.filterIDs(ctx, "SELECT t.id FROM tickets t NOT INDEXED WHERE t.id IN (SELECT value FROM json_each(?)) AND "+filter.cond,
			append([]any{jsonInts(ids)}, filter.args...))
	}
	if err != nil {
		return nil, err
	}
	kept := keys[:0]
	for _, k := range keys {
		if pass[k>>searchKeyShift] {
			kept = append(kept, k)
		}
	}
	return kept, nil
}

// filterIDs is the set of ticket ids a query lists.
func (db *DB) filterIDs(ctx context.Context, query string, args []any) (map[int64]bool, error) {
	rows, err := db.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search: filter: %w", err)
	}
	defer rows.Close()
	pass := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("search: filter: %w", err)
		}
		pass[id] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: filter: %w", err)
	}
	return pass, nil
}

// searchList is ListTickets for a search: matching tickets newest first
// (oldest first for sort=oldest), each with the passage that matched.
func (db *DB) searchList(ctx context.Context, f TicketFilter, statuses []string, where []string, args []any) ([]Ticket, string, error) {
	plan := planSearch(f.Query)
	if plan.match == "" {
		return []Ticket{}, "", nil // only punctuation: nothing can match
	}
	plan, err := db.expandPrefix(ctx, plan)
	if err != nil {
		return nil, "", err
	}
	if plan, err = db.splitCommon(ctx, plan); err != nil {
		return nil, "", err
	}
	asc := f.Sort == "oldest"
	spec := sortSpecs["newest"]
	if asc {
		spec = sortSpecs["oldest"]
	}
	var after int64
	if f.Cursor != "" {
		var err error
		if after, err = cursorID(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	hits, texts, err := db.searchTickets(ctx, plan, after, asc, newSearchFilter(f, statuses, where, args), f.Limit)
	if err != nil {
		return nil, "", err
	}
	if len(hits) == 0 {
		return []Ticket{}, "", nil
	}
	more := len(hits) > f.Limit
	if more {
		hits = hits[:f.Limit]
	}
	ids := make([]int64, len(hits))
	for i, h := range hits {
		ids[i] = h.ticket
	}
	order := "t.id DESC"
	if asc {
		order = "t.id ASC"
	}
	// The ids as one JSON argument: the statement is the same for every
	// search and stays prepared (parsing it was a tenth of a search).
	list, err := db.readPage(ctx, "SELECT value AS id FROM json_each(?)", order, f.ViewerID, []any{jsonInts(ids)})
	if err != nil {
		return nil, "", err
	}
	if err := db.matchPassages(ctx, list, hits, texts, f.Query); err != nil {
		return nil, "", err
	}
	next := ""
	if more && len(list) > 0 {
		next = makeCursor(spec, &list[len(list)-1])
	}
	return list, next, nil
}

// cursorID is the ticket id of a cursor of any sort.
func cursorID(cursor string) (int64, error) {
	raw, err := base64.RawURLEncoding.DecodeString(cursor)
	if err != nil {
		return 0, ErrBadCursor
	}
	_, ids, ok := strings.Cut(string(raw), ":")
	id, err := strconv.ParseInt(ids, 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0, ErrBadCursor
	}
	return id, nil
}

// matchPassages sets Match on the tickets whose hit is a message, from
// the first matched message whose body holds a word of the query (texts:
// those verify read): one read for the page, a second for the tickets
// whose first message matched by their subject or customer name alone.
func (db *DB) matchPassages(ctx context.Context, list []Ticket, hits []searchHit, texts map[int64]string, q string) error {
	terms := matchTerms(q)
	passages := map[int64][]MatchPart{}
	for round := 0; round < 2; round++ {
		var keys []int64
		var tried []int64 // keys, in order, whose passage is looked for
		for _, h := range hits {
			if _, done := passages[h.ticket]; done || round >= len(h.keys) {
				continue
			}
			candidates := h.keys[:1]
			if round == 1 {
				candidates = h.keys[1:]
			}
			for _, low := range candidates {
				key := h.ticket<<searchKeyShift + low
				tried = append(tried, key)
				if _, ok := texts[key]; !ok {
					keys = append(keys, key)
				}
			}
		}
		if len(tried) == 0 {
			break
		}
		if len(keys) > 0 {
			if err := db.readBodies(ctx, keys, texts); err != nil {
				return err
			}
		}
		for _, key := range tried {
			ticket := key >> searchKeyShift
			if _, done := passages[ticket]; done {
				continue
			}
			if p := Passage(texts[key], terms); p != nil {
				passages[ticket] = p
			}
		}
	}
	for i := range list {
		list[i].Match = passages[list[i].ID]
	}
	return nil
}

// readBodies adds to texts the bodies of the messages with the given
// ticket_search keys.
func (db *DB) readBodies(ctx context.Context, keys []int64, texts map[int64]string) error {
	// A key's low bits are its message's id + 1 (ids stay below 2^32 - 1):
	// a lookup by id; the key read back names the message's ticket.
	ids := make([]int64, len(keys))
	for i, key := range keys {
		ids[i] = key&(1<<searchKeyShift-1) - 1
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT m.ticket_id * 4294967296 + m.id % 4294967295 + 1, m.body
		FROM json_each(?) j CROSS JOIN messages m ON m.id = j.value`, jsonInts(ids))
	if err != nil {
		return fmt.Errorf("search: passages: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key int64
		var body string
		if err := rows.Scan(&key, &body); err != nil {
			return fmt.Errorf("search: passages: %w", err)
		}
		texts[key] = body
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("search: passages: %w", err)
	}
	return nil
}

// jsonInts is ids as a JSON array, for json_each: one statement text for
// any number of ids, prepared once (a literal "IN (1,2,3)" is parsed anew
// each time).
func jsonInts(ids []int64) string {
	b := make([]byte, 0, len(ids)*12+2)
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
