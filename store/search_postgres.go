package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	lru "github.com/hashicorp/golang-lru/v2"
	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Search on PostgreSQL reads ticket_search (migration postgres/0028): a
// row per ticket and per message, as SQLite's FTS5 index, whose words
// are a tsvector with a GIN index. Its lexemes are the words as written
// (folded), read as SQLite reads its index, and the same words stemmed
// in the store's language, marked '~refund', so a whole word also finds
// its other forms ("refunds" finds "refund") where SQLite finds only
// the word.
//
// One statement lists a page of tickets, newest first: PostgreSQL's
// planner walks ticket_search's key backwards checking each row for a
// word in most messages, and reads the GIN index for a rare one (which
// it tells apart by the statistics of migration postgres/0028).

// pgStemConfigs are the text search configurations whose stems a typed
// word is also looked for as (the languages of onedesk_search_config).
const pgStemConfigs = "'{english,portuguese,turkish,russian}'::regconfig[]"

// pgSearchCache remembers what searches ask of PostgreSQL besides the
// index read itself, a round trip each: how typed words fold (fixed by
// the migration's functions) and which words are words of the index
// (only yes: a no may turn yes with a write on any node). Both are
// least-recently-used caches of a bounded size (hashicorp/golang-lru), so
// a desk searched for years keeps the words searched lately, not every
// word ever typed; a yes is also forgotten after pgWordMemory, so a word
// whose every ticket was deleted stops counting as one.
type pgSearchCache struct {
	once   sync.Once
	folded *lru.Cache[string, []pgWord]
	words  *expirable.LRU[string, bool]

	mu         sync.Mutex
	common     map[string]bool // ANALYZE's most common lexemes of ticket_search
	commonRead time.Time
}

// pgCommonEvery is how often the most common lexemes are read again.
const pgCommonEvery = 10 * time.Minute

// pgCommonWords is the lexemes ANALYZE found most common in ticket_search
// (pg_stats, up to ten times its statistics target of 1,000). A word not
// among them is rare: the planner, which takes any such word for one in
// about half as many rows as the least common of them (at 1,000,000
// tickets, thousands), would walk the table's key for it, newest first,
// expecting a page within a few thousand rows, and read every row (an
// order number took seconds); a rare word's query is instead written so
// that it reads the GIN index (see pgSearchList).
func (db *DB) pgCommonWords(ctx context.Context) (map[string]bool, error) {
	c := &db.pgSearch
	c.mu.Lock()
	common, read := c.common, c.commonRead
	c.mu.Unlock()
	if common != nil && time.Since(read) < pgCommonEvery {
		return common, nil
	}
	rows, err := db.r.QueryContext(ctx, `SELECT unnest(most_common_elems::text::text[]) FROM pg_stats
		WHERE schemaname = current_schema() AND tablename = 'ticket_search' AND attname = 'words'`)
	if err != nil {
		return nil, fmt.Errorf("search: the most common words: %w", err)
	}
	defer rows.Close()
	common = map[string]bool{}
	for rows.Next() {
		var e string
		if err := rows.Scan(&e); err != nil {
			return nil, fmt.Errorf("search: the most common words: %w", err)
		}
		common[e] = true
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: the most common words: %w", err)
	}
	c.mu.Lock()
	c.common, c.commonRead = common, time.Now()
	c.mu.Unlock()
	return common, nil
}

// pgRare tells whether a query's terms (ANDed) include one none of whose
// lexemes is among the common ones: then the query matches few rows.
// Before ANALYZE has counted (a new desk), nothing is rare.
func pgRare(common map[string]bool, terms [][]string) bool {
	if len(common) == 0 {
		return false
	}
	for _, alts := range terms {
		rare := true
		for _, l := range alts {
			if p, ok := strings.CutSuffix(l, ":*"); ok {
				for c := range common {
					if strings.HasPrefix(c, p) {
						rare = false
						break
					}
				}
			} else if common[l] {
				rare = false
			}
			if !rare {
				break
			}
		}
		if rare {
			return true
		}
	}
	return false
}

// pgSearchCacheLimit bounds each cache, in entries.
const pgSearchCacheLimit = 4096

// pgWordMemory is how long a word of the index is believed one.
const pgWordMemory = 10 * time.Minute

// init makes the caches on first use (a DB's zero value has none).
func (c *pgSearchCache) init() { c.initSized(pgSearchCacheLimit, pgWordMemory) }

func (c *pgSearchCache) initSized(size int, memory time.Duration) {
	c.once.Do(func() {
		c.folded, _ = lru.New[string, []pgWord](size) // errs only on size <= 0
		c.words = expirable.NewLRU[string, bool](size, nil, memory)
	})
}

// pgWord is a word as typed, read as the index holds it.
type pgWord struct {
	parts []string // its lexemes in order: an address or a dashed number has several
	stems []string // with one part: its stems (marked ~), besides itself
}

// pgFold reads typed words as migration postgres/0028 folds text (the
// same functions, so both sides agree on accents, case and splitting).
func (db *DB) pgFold(ctx context.Context, words []string) ([]pgWord, error) {
	key := strings.Join(words, "\x00")
	c := &db.pgSearch
	c.init()
	if folded, ok := c.folded.Get(key); ok {
		return folded, nil // read only by callers
	}
	folded, err := db.readFold(ctx, words)
	if err != nil {
		return nil, err
	}
	c.folded.Add(key, folded)
	return folded, nil
}

// readFold is pgFold read off the database.
func (db *DB) readFold(ctx context.Context, words []string) ([]pgWord, error) {
	out := make([]pgWord, len(words))
	if len(words) == 0 {
		return out, nil
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT w.n, d.lexemes[1],
		coalesce((SELECT string_agg(DISTINCT l, ' ') FROM unnest(`+pgStemConfigs+`) c, unnest(tsvector_to_array(to_tsvector(c, d.token))) l), '')
		FROM unnest(?::text[]) WITH ORDINALITY w (word, n)
		CROSS JOIN LATERAL ts_debug('simple', onedesk_search_text(w.word)) WITH ORDINALITY d (alias, description, token, dictionaries, dictionary, lexemes, k)
		WHERE cardinality(d.lexemes) > 0
		ORDER BY w.n, d.k`, words)
	if err != nil {
		return nil, fmt.Errorf("search: fold words: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var n int
		var lexeme, stems string
		if err := rows.Scan(&n, &lexeme, &stems); err != nil {
			return nil, fmt.Errorf("search: fold words: %w", err)
		}
		w := &out[n-1]
		w.parts = append(w.parts, lexeme)
		w.stems = nil
		for _, stem := range strings.Fields(stems) {
			w.stems = append(w.stems, "~"+stem)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("search: fold words: %w", err)
	}
	kept := out[:0]
	for _, w := range out {
		if len(w.parts) > 0 {
			if len(w.parts) > 1 {
				w.stems = nil
			}
			kept = append(kept, w)
		}
	}
	return kept, nil
}

// tsLexeme is a lexeme in tsquery syntax, maybe a prefix.
func tsLexeme(l string, prefix bool) string {
	q := "'" + strings.ReplaceAll(strings.ReplaceAll(l, `\`, `\\`), "'", "''") + "'"
	if prefix {
		q += ":*"
	}
	return q
}

// tsLiteral is a tsquery as an SQL constant. Searches write their query
// into the statement rather than bind it: PostgreSQL's plan for a bound
// tsquery is the same for every word (a prepared statement's generic
// plan), which read a word in no row by scanning the whole table; with
// the constant it plans by that word's frequency.
func tsLiteral(q string) string {
	return "'" + strings.ReplaceAll(q, "'", "''") + "'::tsquery"
}

// whole is the word as a whole word, or any of its stems.
func (w pgWord) whole() string { return w.orStems(false) }

// prefix is the word as the start of a word, or any of its stems.
func (w pgWord) prefix() string { return w.orStems(true) }

func (w pgWord) orStems(prefix bool) string {
	alts := []string{tsLexeme(w.parts[0], prefix)}
	for _, s := range w.stems {
		alts = append(alts, tsLexeme(s, false))
	}
	if len(alts) == 1 {
		return alts[0]
	}
	return "(" + strings.Join(alts, " | ") + ")"
}

// phrase is the word's parts in a row, the last one a prefix (typing).
func (w pgWord) phrase(lastPrefix bool) string {
	parts := make([]string, len(w.parts))
	for i, p := range w.parts {
		parts[i] = tsLexeme(p, lastPrefix && i == len(w.parts)-1)
	}
	return "(" + strings.Join(parts, " <-> ") + ")"
}

// pgTSQuery is what an agent typed as a tsquery ("": nothing can match),
// read as SQLite reads it (planSearch, expandPrefix): every word, the
// last one from three letters on as a prefix while typing, or as itself
// when it is a word of the index ("refund" does not also find
// "refunded"); an address or dashed number as its parts in a row; a
// phone number in any format also as its last digits.
func (db *DB) pgTSQuery(ctx context.Context, q string) (query, rare string, err error) {
	words, err := db.pgFold(ctx, searchWords(q))
	if err != nil || len(words) == 0 {
		return "", "", err
	}
	common, err := db.pgCommonWords(ctx)
	if err != nil {
		return "", "", err
	}
	terms := make([]string, len(words))
	for i, w := range words {
		last := i == len(words)-1
		// alts are the term's lexemes, any of which matches (pgRare);
		// narrow is what the GIN index is asked for when the term is
		// rare: for a phrase, its rarest part alone (the phrase is then
		// checked on the rows read: the index of a common part, or of a
		// prefix, is far longer to read).
		var alts []string
		narrow := ""
		switch n := utf8.RuneCountInString(w.parts[0]); {
		case len(w.parts) > 1:
			terms[i] = w.phrase(last)
			for j, p := range w.parts {
				prefix := last && j == len(w.parts)-1 // typing: the last part is a prefix
				l := p
				if prefix {
					l += ":*"
				}
				if pgRare(common, [][]string{{l}}) {
					alts, narrow = []string{l}, tsLexeme(p, prefix)
					break
				}
			}
		case !last || n < 3:
			terms[i] = w.whole()
			alts = append([]string{w.parts[0]}, w.stems...)
		case n == 3:
			terms[i] = w.prefix()
			alts = append([]string{w.parts[0] + ":*"}, w.stems...)
		default:
			word, err := db.pgIsWord(ctx, w.parts[0], common)
			if err != nil {
				return "", "", err
			}
			if word {
				terms[i] = w.whole()
				alts = append([]string{w.parts[0]}, w.stems...)
			} else {
				terms[i] = w.prefix()
				alts = append([]string{w.parts[0] + ":*"}, w.stems...)
			}
		}
		if narrow == "" {
			narrow = terms[i]
		}
		if rare == "" && alts != nil && pgRare(common, [][]string{alts}) {
			rare = narrow
		}
	}
	query = strings.Join(terms, " & ")
	if national := phoneDigits(q); national != "" {
		query = tsLexeme(national, false) + " | (" + query + ")"
		if rare != "" && pgRare(common, [][]string{{national}}) {
			rare = tsLexeme(national, false) + " | (" + rare + ")"
		} else {
			rare = ""
		}
	}
	return query, rare, nil
}

// phoneDigits is a query written as a phone number as the index holds
// its last digits (7 to 12, no leading zeros), or "".
func phoneDigits(q string) string {
	q = strings.TrimSpace(q)
	if !phoneLike.MatchString(q) {
		return ""
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, q)
	national := strings.TrimLeft(digits, "0")
	if len(national) < 7 {
		return ""
	}
	return national[max(0, len(national)-12):]
}

// pgIsWord is whether a folded word is a word of the index as written.
// A common word is one; any other is looked up in the GIN index: a
// materialized CTE is planned for all its rows, so the planner cannot
// scan the table for a first row it expects soon and find none (an
// OFFSET 0 fence under EXISTS did not stop it).
func (db *DB) pgIsWord(ctx context.Context, word string, common map[string]bool) (bool, error) {
	if common[word] {
		return true, nil
	}
	c := &db.pgSearch
	c.init()
	if c.words.Contains(word) {
		return true, nil
	}
	var found bool
	err := db.r.QueryRowContext(ctx, "WITH w AS MATERIALIZED (SELECT 1 FROM ticket_search WHERE words @@ "+tsLiteral(tsLexeme(word, false))+") SELECT EXISTS (SELECT 1 FROM w)").Scan(&found)
	if err != nil {
		return false, fmt.Errorf("search: is %q a word: %w", word, err)
	}
	if found {
		c.words.Add(word, true)
	}
	return found, nil
}

// pgSearchList is searchList on PostgreSQL: a page of matching tickets,
// newest first (oldest first for sort=oldest), each with the passage of
// a message that matched.
func (db *DB) pgSearchList(ctx context.Context, f TicketFilter, statuses []string, where []string, args []any) ([]Ticket, string, error) {
	query, rare, err := db.pgTSQuery(ctx, f.Query)
	if err != nil {
		return nil, "", err
	}
	if query == "" {
		return []Ticket{}, "", nil // only punctuation: nothing can match
	}
	asc := f.Sort == "oldest"
	spec := sortSpecs["newest"]
	bound, order := int64(1<<63-1), "DESC"
	if asc {
		spec, bound, order = sortSpecs["oldest"], 0, "ASC"
	}
	if f.Cursor != "" {
		if bound, err = cursorID(f.Cursor); err != nil {
			return nil, "", err
		}
	}
	cmp := "<"
	if asc {
		cmp = ">"
	}
	filter := newSearchFilter(f, statuses, where, args)
	cond := ""
	if filter.cond != "" {
		cond = " AND " + filter.cond
	}
	var ids []int64
	done := false
	if cond != "" && rare == "" {
		if ids, done, err = db.pgSearchFiltered(ctx, query, statuses, where, args, bound, asc, f.Limit+1); err != nil {
			return nil, "", fmt.Errorf("search %q: %w", f.Query, err)
		}
	}
	if !done {
		qargs := append([]any{bound}, filter.args...)
		qargs = append(qargs, f.Limit+1)
		join := ""
		if cond != "" {
			join = " JOIN tickets t ON t.id = s.ticket_id"
		}
		from := "ticket_search s"
		if rare != "" {
			// Every row of the rare word, off the GIN index, then checked
			// and sorted: the OFFSET 0 keeps the planner from walking the
			// key instead.
			from = "(SELECT ticket_id, words FROM ticket_search WHERE words @@ " + tsLiteral(rare) + " OFFSET 0) s"
		}
		rows, err := db.r.QueryContext(ctx, `SELECT s.ticket_id FROM `+from+join+`
			WHERE s.words @@ `+tsLiteral(query)+` AND s.ticket_id `+cmp+` ?`+cond+`
			GROUP BY s.ticket_id ORDER BY s.ticket_id `+order+` LIMIT ?`, qargs...)
		if err != nil {
			return nil, "", fmt.Errorf("search %q: %w", f.Query, err)
		}
		if ids, err = scanIDs(rows); err != nil {
			return nil, "", fmt.Errorf("search %q: %w", f.Query, err)
		}
	}
	if len(ids) == 0 {
		return []Ticket{}, "", nil
	}
	more := len(ids) > f.Limit
	if more {
		ids = ids[:f.Limit]
	}
	list, err := db.readPage(ctx, "SELECT id FROM tickets WHERE id IN ("+joinIDs(ids)+")", "t.id "+order, f.ViewerID, nil)
	if err != nil {
		return nil, "", err
	}
	hits, texts, err := db.pgMatchedMessages(ctx, ids, query, order)
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

// pgFilterWalk is how many of a filter's tickets a search checks one by
// one for its words before it leaves the page to the words' index (a
// variable for tests).
var pgFilterWalk = 1000

// pgSearchFiltered reads a filtered search from the filter's side: the
// tickets that pass, newest first (one index range per status, merged),
// each checked by its own rows of ticket_search, until want match or
// pgFilterWalk were checked. A common word with a filter otherwise walks
// ticket_search's key through every row of the word, most of them
// tickets the filter turns away (a word in 1 of 3 rows and a filter
// passing 2 % of tickets: thousands of rows for a page). done is false
// when the walk ended without filling the page and more tickets pass the
// filter (the words are rare among them): the words' GIN index answers
// that better, and ids are to be read again from it.
//
// (The tickets are read one status at a time, merged, so that each is a
// range of an index in id order, as the inbox reads them.)
func (db *DB) pgSearchFiltered(ctx context.Context, query string, statuses, where []string, args []any, bound int64, asc bool, want int) (ids []int64, done bool, err error) {
	cmp, order := "<", "DESC"
	if asc {
		cmp, order = ">", "ASC"
	}
	walk := strconv.Itoa(pgFilterWalk)
	var parts []string
	var cargs []any
	for _, st := range statuses {
		cond := append([]string{"t.status = ?", "t.id " + cmp + " ?"}, where...)
		// An order and a limit of its own: each status is then a walk of
		// an index in id order, merged (Merge Append), read only as far as
		// the walk goes. Without them the planner gathered every ticket of
		// a store's channel by bitmap and sorted (1M: 18,898 tickets, 160
		// ms; walked, 24 ms).
		parts = append(parts, "(SELECT t.id FROM tickets t WHERE "+strings.Join(cond, " AND ")+" ORDER BY t.id "+order+" LIMIT "+walk+")")
		cargs = append(cargs, st, bound)
		cargs = append(cargs, args...)
	}
	candidates := "SELECT id FROM (" + strings.Join(parts, " UNION ALL ") + ") u ORDER BY id " + order + " LIMIT " + walk
	rows, err := db.r.QueryContext(ctx, "SELECT c.id FROM ("+candidates+") c WHERE EXISTS (SELECT 1 FROM ticket_search s WHERE s.ticket_id = c.id AND s.words @@ "+
		tsLiteral(query)+") ORDER BY c.id "+order+" LIMIT ?", append(slices.Clone(cargs), want)...)
	if err != nil {
		return nil, false, err
	}
	if ids, err = scanIDs(rows); err != nil || len(ids) >= want {
		return ids, err == nil, err
	}
	var n int
	if err := db.rq.QueryRowContext(ctx, "SELECT count(*) FROM ("+candidates+") c", cargs...).Scan(&n); err != nil {
		return nil, false, err
	}
	return ids, n < pgFilterWalk, nil
}

// pgMatchedMessages is, for each ticket, the first few of its message
// rows that match (newest first, or oldest with order ASC) as
// matchPassages reads them (the low bits of SQLite's keys), and their
// bodies by key, so that matchPassages has them all.
func (db *DB) pgMatchedMessages(ctx context.Context, tickets []int64, query, order string) ([]searchHit, map[int64]string, error) {
	// Each ticket's own rows by key (a lookup each), whatever the word.
	rows, err := db.r.QueryContext(ctx, `SELECT p.id, s.message_id, m.body FROM unnest(ARRAY[`+joinIDs(tickets)+`]::bigint[]) p (id)
		CROSS JOIN LATERAL (SELECT message_id FROM ticket_search WHERE ticket_id = p.id AND message_id > 0 AND words @@ `+tsLiteral(query)+`
		                     ORDER BY message_id `+order+` LIMIT ?) s
		JOIN messages m ON m.id = s.message_id
		ORDER BY p.id, s.message_id `+order, searchPassageKeys)
	if err != nil {
		return nil, nil, fmt.Errorf("search: passages: %w", err)
	}
	defer rows.Close()
	var hits []searchHit // rows come by ticket
	texts := map[int64]string{}
	for rows.Next() {
		var ticket, message int64
		var body string
		if err := rows.Scan(&ticket, &message, &body); err != nil {
			return nil, nil, fmt.Errorf("search: passages: %w", err)
		}
		if len(hits) == 0 || hits[len(hits)-1].ticket != ticket {
			hits = append(hits, searchHit{ticket: ticket})
		}
		h := &hits[len(hits)-1]
		low := message%(1<<searchKeyShift-1) + 1
		h.keys = append(h.keys, low)
		texts[ticket<<searchKeyShift+low] = body
	}
	return hits, texts, rows.Err()
}

// pgCustomerWords is CustomerSearch.Words on PostgreSQL as an SQL
// tsquery constant ("": no word): the customers whose names or
// identifiers have words starting with each word.
func (db *DB) pgCustomerWords(ctx context.Context, words string) (string, error) {
	phrases, _ := ftsPhrases(words)
	folded, err := db.pgFold(ctx, phrases)
	if err != nil {
		return "", err
	}
	terms := make([]string, len(folded))
	for i, w := range folded {
		// Names are not stemmed.
		parts := make([]string, len(w.parts))
		for j, p := range w.parts {
			parts[j] = tsLexeme(p, true)
		}
		terms[i] = "(" + strings.Join(parts, " <-> ") + ")"
	}
	if len(terms) == 0 {
		return "", nil
	}
	return tsLiteral(strings.Join(terms, " & ")), nil
}

// pgTicketCustomers is ticketCustomers on PostgreSQL: as JSON, the
// customers (ids below before) of the newest tickets whose rows have the
// FTS5 query's words (as CustomerSearch.Tickets writes them).
func (db *DB) pgTicketCustomers(ctx context.Context, match string, before int64, limit int) (string, error) {
	phrases, prefixes := ftsPhrases(match)
	folded, err := db.pgFold(ctx, phrases)
	if err != nil {
		return "", err
	}
	ids := []int64{}
	if len(folded) > 0 {
		terms := make([]string, len(folded))
		for i, w := range folded {
			switch {
			case len(w.parts) > 1:
				terms[i] = w.phrase(i < len(prefixes) && prefixes[i])
			case i < len(prefixes) && prefixes[i]:
				terms[i] = w.prefix()
			default:
				terms[i] = w.whole()
			}
		}
		rows, err := db.r.QueryContext(ctx, `SELECT t.customer_id FROM tickets t
			WHERE t.id IN (SELECT DISTINCT s.ticket_id FROM ticket_search s WHERE s.words @@ `+tsLiteral(strings.Join(terms, " & "))+` ORDER BY s.ticket_id DESC LIMIT ?)
			AND t.customer_id < ? GROUP BY t.customer_id ORDER BY max(t.id) DESC LIMIT ?`,
			ticketCustomersMax, before, limit)
		if err != nil {
			return "", fmt.Errorf("search customers: %w", err)
		}
		if ids, err = scanIDs(rows); err != nil {
			return "", fmt.Errorf("search customers: %w", err)
		}
	}
	if ids == nil {
		ids = []int64{} // a JSON array, empty
	}
	out, err := json.Marshal(ids)
	return string(out), err
}

// ftsPhrases reads an FTS5 query of quoted phrases, each maybe a prefix
// ("ana"* "1001"), as CustomerSearch's callers write them.
func ftsPhrases(q string) (phrases []string, prefix []bool) {
	for {
		start := strings.IndexByte(q, '"')
		if start < 0 {
			return phrases, prefix
		}
		var b strings.Builder
		i := start + 1
		for i < len(q) {
			if q[i] == '"' {
				if i+1 < len(q) && q[i+1] == '"' {
					b.WriteByte('"')
					i += 2
					continue
				}
				break
			}
			b.WriteByte(q[i])
			i++
		}
		q = q[min(i+1, len(q)):]
		phrases = append(phrases, b.String())
		prefix = append(prefix, strings.HasPrefix(q, "*"))
	}
}

// scanIDs reads a column of ids, and closes rows.
func scanIDs(rows *sql.Rows) ([]int64, error) {
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// joinIDs is ids as an SQL list.
func joinIDs(ids []int64) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(s, ",")
}

// pgSearchFolding reports how accents are folded: by the unaccent
// extension, or (where it could not be created) a fixed table.
func (db *DB) pgSearchFolding(ctx context.Context) (string, error) {
	var ok bool
	err := db.r.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'unaccent')").Scan(&ok)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", err
	}
	if ok {
		return "unaccent", nil
	}
	return "table", nil
}
