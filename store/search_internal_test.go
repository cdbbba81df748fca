package store

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// A desk upgraded from before migration 0023 is indexed in the
// background; meanwhile and after, a search lists the same tickets.
func TestSearchBuildInBackground(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	list, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	before := slices.IndexFunc(list, func(m migration) bool { return strings.HasSuffix(m.name, "_search.sql") })
	for _, m := range list[:before] {
		if _, err := raw.Exec(m.sql); err != nil {
			t.Fatalf("%s: %v", m.name, err)
		}
	}
	stmts := []string{fmt.Sprintf("PRAGMA user_version = %d", before), "INSERT INTO customers (name, created_at, updated_at) VALUES ('Old Customer', 1, 1)"}
	for i := range 2500 {
		word := "hello"
		if i%100 == 7 {
			word = "kalomi"
		}
		stmts = append(stmts,
			fmt.Sprintf("INSERT INTO tickets (subject, status, channel, customer_id, created_at, updated_at) VALUES ('T%d', 'open', 'email', 1, 1, 1)", i),
			fmt.Sprintf("INSERT INTO messages (ticket_id, kind, channel, body, created_at) VALUES (%d, 'customer', 'email', 'say %s', 1)", i+1, word))
	}
	if _, err := raw.Exec("BEGIN; " + strings.Join(stmts, ";\n") + "; COMMIT"); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	defer func(old int64) { searchBuildInline = old }(searchBuildInline)
	searchBuildInline = 0
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var want []int64
	for i := 2499; i >= 0; i-- {
		if i%100 == 7 {
			want = append(want, int64(i+1))
		}
	}
	find := func() []int64 {
		t.Helper()
		var ids []int64
		f := TicketFilter{Query: "kalomi", Sort: "newest", Limit: 10, ViewerID: 1}
		for {
			page, next, err := db.ListTickets(context.Background(), f)
			if err != nil {
				t.Fatal(err)
			}
			for _, tk := range page {
				ids = append(ids, tk.ID)
			}
			if next == "" {
				return ids
			}
			f.Cursor = next
		}
	}
	if db.SearchReady() {
		t.Fatal("the index was built before Open returned with no time for it")
	}
	if got := find(); !slices.Equal(got, want) {
		t.Fatalf("while indexing: %v, want %v", got, want)
	}
	select {
	case <-db.SearchBuilt():
	case <-time.After(2 * time.Minute):
		t.Fatal("the index is not built after two minutes")
	}
	if left, msg, err := db.SearchBuildLeft(context.Background()); left != 0 || msg != "" || err != nil {
		t.Fatalf("after the build: %d left, %q, %v", left, msg, err)
	}
	if got := find(); !slices.Equal(got, want) {
		t.Fatalf("after indexing: %v, want %v", got, want)
	}
	// A subject or customer word with a message word (message rows carry
	// them, as the build wrote them).
	for q, want := range map[string][]int64{"t107 kalomi": {108}, "t106 kalomi": nil, "customer kalomi t2407": {2408}} {
		page, _, err := db.ListTickets(context.Background(), TicketFilter{Query: q, ViewerID: 1})
		var got []int64
		for _, tk := range page {
			got = append(got, tk.ID)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("search %q after the build: %v %v, want %v", q, got, err, want)
		}
	}
	var n int
	db.r.QueryRow("SELECT count(*) FROM sqlite_schema WHERE name IN ('search', 'messages_search_insert', 'messages_search_delete')").Scan(&n)
	if n != 0 {
		t.Fatalf("%d leftovers of the older index", n)
	}
}

// A deleted ticket, or message, is no longer found.
func TestSearchForgetsDeleted(t *testing.T) {
	db := planDB(t)
	ctx := context.Background()
	var ids []int64
	err := db.Write(ctx, func(tx *Tx) error {
		c := &Customer{Name: "Zed", CreatedAt: Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		for i := range 3 {
			tk := &Ticket{Subject: "gone", Status: "open", Priority: "normal", Channel: "email", CustomerID: c.ID, CreatedAt: Now(), UpdatedAt: Now()}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			if err := tx.InsertMessage(ctx, &Message{TicketID: tk.ID, Kind: "customer", Channel: "email", Body: fmt.Sprintf("velqui %d", i), CreatedAt: Now()}); err != nil {
				return err
			}
			ids = append(ids, tk.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec("DELETE FROM messages WHERE ticket_id = ?; DELETE FROM ticket_events WHERE ticket_id = ?; DELETE FROM tickets WHERE id = ?", ids[0], ids[0], ids[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := db.w.Exec("DELETE FROM messages WHERE ticket_id = ?", ids[1]); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string][]int64{"velqui": {ids[2]}, "gone": {ids[2], ids[1]}, "zed": {ids[2], ids[1]}} {
		page, _, err := db.ListTickets(ctx, TicketFilter{Query: q, ViewerID: 1})
		var got []int64
		for _, tk := range page {
			got = append(got, tk.ID)
		}
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("search %q after deletes: %v %v, want %v", q, got, err, want)
		}
	}
}

// The background merge makes the index one segment, with the same
// matches, and a stopped merge is finished by the next one.
func TestSearchMerge(t *testing.T) {
	defer func(old time.Duration) { searchMergeQuiet = old }(searchMergeQuiet)
	searchMergeQuiet = time.Millisecond
	db := planDB(t)
	ctx := context.Background()
	var kalomi []int64
	for round := range 40 { // a transaction each: a segment each, then automerge
		err := db.Write(ctx, func(tx *Tx) error {
			c := &Customer{Name: fmt.Sprintf("Merge %d", round), CreatedAt: Now()}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			for i := range 20 {
				tk := &Ticket{Subject: "parcel", Status: "open", Priority: "normal", Channel: "email", CustomerID: c.ID, CreatedAt: Now(), UpdatedAt: Now()}
				if err := tx.InsertTicket(ctx, tk); err != nil {
					return err
				}
				body := fmt.Sprintf("where is my order %d", i)
				if i%7 == 3 {
					body += " kalomi"
					kalomi = append(kalomi, tk.ID)
				}
				if err := tx.InsertMessage(ctx, &Message{TicketID: tk.ID, Kind: "customer", Channel: "email", Body: body, CreatedAt: Now()}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	slices.Reverse(kalomi)
	find := func(q string) []int64 {
		t.Helper()
		var ids []int64
		f := TicketFilter{Query: q, Limit: 200, ViewerID: 1}
		page, _, err := db.ListTickets(ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range page {
			ids = append(ids, tk.ID)
		}
		return ids
	}
	before, err := db.searchStructure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if before.segments < 2 || before.pages < 1 {
		t.Fatalf("40 transactions left %+v", before)
	}
	orders := find("ord")
	if got := find("kalomi"); !slices.Equal(got, kalomi) {
		t.Fatalf("before the merge: %v, want %v", got, kalomi)
	}
	if _, _, err := db.mergeSearch(ctx, 1, nil); err != nil { // cut short
		t.Fatal(err)
	}
	if _, _, err := db.mergeSearch(ctx, 0, nil); err != nil {
		t.Fatal(err)
	}
	after, err := db.searchStructure(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if after.segments != 1 || after.merging || after.worthMerging() {
		t.Fatalf("after the merge %+v (before %+v)", after, before)
	}
	if got := find("kalomi"); !slices.Equal(got, kalomi) {
		t.Fatalf("after the merge: %v, want %v", got, kalomi)
	}
	if got := find("ord"); !slices.Equal(got, orders) || len(got) != 200 {
		t.Fatalf("after the merge %d tickets for a prefix, before %d", len(got), len(orders))
	}
	var check string
	if _, err := db.w.Exec("INSERT INTO ticket_search (ticket_search, rank) VALUES ('integrity-check', 0)"); err != nil {
		t.Fatalf("integrity check after the merge: %v %s", err, check)
	}
}

func TestParseFTSStructure(t *testing.T) {
	for _, rec := range [][]byte{nil, {0, 0, 0}, {0, 0, 0, 0, 0xFF, 0, 0, 1, 2, 3}, {0, 0, 0, 0, 0x81}} {
		if _, err := parseFTSStructure(rec); err == nil {
			t.Errorf("%x: no error", rec)
		}
	}
	// V2: 1 level, 2 segments, counter 5; the level merges 0 of 2:
	// segment 1 pages 1-10, segment 2 pages 1-300 (300 is 0x82 0x2C).
	rec := []byte{0, 0, 0, 0, 0xFF, 0, 0, 1, 1, 2, 5, 0, 2, 1, 1, 10, 0, 0, 0, 0, 0, 2, 1, 0x82, 0x2C, 0, 0, 0, 0, 0}
	s, err := parseFTSStructure(rec)
	if err != nil || s != (searchIndexShape{segments: 2, pages: 310, largest: 300}) {
		t.Fatalf("%+v %v", s, err)
	}
}
