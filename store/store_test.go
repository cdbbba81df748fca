package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedesk/store"
)

func open(t *testing.T) *store.DB {
	t.Helper()
	return store.OpenTest(t)
}

func TestMigrateEmptyFile(t *testing.T) { store.ForEachEngine(t, testMigrateEmptyFile) }

func testMigrateEmptyFile(t *testing.T) {
	db := open(t)
	v, err := db.Version(context.Background())
	files, _ := filepath.Glob("migrations/*.sql")
	if err != nil || v != len(files) || v != store.SchemaVersion() {
		t.Fatalf("schema version %d (%v), %d migration files", v, err, len(files))
	}
}

// TestMigrateFromPreviousVersion builds a file at version 1 the way the
// first release left it, with a ticket in it, and opens it with this build.
func TestMigrateFromPreviousVersion(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	raw, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	first, err := os.ReadFile("migrations/0001_init.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{string(first), "PRAGMA user_version = 1",
		"INSERT INTO customers (name, created_at, updated_at) VALUES ('Old Customer', 1, 1)",
		"INSERT INTO tickets (subject, status, channel, customer_id, created_at, updated_at) VALUES ('From v1', 'open', 'email', 1, 1, 1)",
		"INSERT INTO messages (ticket_id, kind, channel, body, created_at) VALUES (1, 'customer', 'email', 'kept across upgrades', 1)",
	} {
		if _, err := raw.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()

	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if v, _ := db.Version(context.Background()); v != store.SchemaVersion() {
		t.Fatalf("version %d after upgrade, want %d", v, store.SchemaVersion())
	}
	list, _, err := db.ListTickets(context.Background(), store.TicketFilter{Query: "upgrades", ViewerID: 1})
	if err != nil || len(list) != 1 || list[0].Subject != "From v1" {
		t.Fatalf("v1 ticket after upgrade: %+v %v", list, err)
	}
	// The table 0002 adds is usable.
	if err := db.MarkRead(context.Background(), 1, 1); err == nil {
		t.Fatal("MarkRead for a missing agent should fail its foreign key")
	}
}

func TestRefusesNewerDatabase(t *testing.T) {
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, _ := sql.Open("sqlite", "file:"+path)
	raw.Exec(fmt.Sprintf("PRAGMA user_version = %d", store.SchemaVersion()+1))
	raw.Close()
	_, err = store.Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), "run a newer onedesk") {
		t.Fatalf("opening a newer database: %v", err)
	}
}

func TestLockRefusesSecondServer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	release, err := store.Lock(path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.Lock(path); err == nil || !strings.Contains(err.Error(), "in use by another onedesk server") {
		t.Fatalf("second lock: %v", err)
	}
	release()
	again, err := store.Lock(path)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	again()
}

// fill writes n tickets with known statuses, assignees, stores and times.
func fill(t *testing.T, db *store.DB, n int) {
	t.Helper()
	ctx := context.Background()
	err := db.Write(ctx, func(tx *store.Tx) error {
		a := &store.Agent{Email: "a@x.test", Name: "A", Role: "admin", Active: true, Language: "en", Timezone: "UTC", PasswordHash: "x", CreatedAt: store.Now()}
		if err := tx.InsertAgent(ctx, a); err != nil {
			return err
		}
		s := &store.Store{Name: "S", Slug: "s", Language: "en", Timezone: "UTC", CreatedAt: store.Now()}
		if err := tx.InsertStore(ctx, s); err != nil {
			return err
		}
		base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		for i := range n {
			c := &store.Customer{Name: fmt.Sprintf("C%d", i), CreatedAt: base, Identities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("c%d@x.test", i)}}}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			at := base.Add(time.Duration(i) * time.Minute)
			updated := base.Add(time.Duration((i*7919)%n) * time.Minute) // shuffled, with no ties
			tk := &store.Ticket{Subject: fmt.Sprintf("Ticket %d", i), Status: store.Statuses[i%3], Priority: "normal", Channel: store.Channels[i%2],
				CustomerID: c.ID, CreatedAt: at, UpdatedAt: updated}
			if i%4 == 0 {
				tk.AssigneeID = &a.ID
			}
			if i%5 == 0 {
				tk.StoreID = &s.ID
			}
			if i%6 != 0 {
				tk.LastCustomerAt = &updated
			}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			body := "hello"
			if i%10 == 0 {
				body = "my parcel is late"
			}
			if err := tx.InsertMessage(ctx, &store.Message{TicketID: tk.ID, Kind: "customer", Channel: tk.Channel, Body: body, CreatedAt: at}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestListTicketsFiltersSortsAndPages(t *testing.T) {
	store.ForEachEngine(t, testListTicketsFiltersSortsAndPages)
}

func testListTicketsFiltersSortsAndPages(t *testing.T) {
	db := open(t)
	fill(t, db, 137)
	ctx := context.Background()
	one := int64(1)
	cases := []struct {
		name string
		f    store.TicketFilter
		want func(i int) bool // which of the 137 tickets (by index) match
	}{
		{"all", store.TicketFilter{}, func(int) bool { return true }},
		{"status", store.TicketFilter{Statuses: []string{"open"}}, func(i int) bool { return i%3 == 1 }},
		{"two statuses", store.TicketFilter{Statuses: []string{"new", "pending"}}, func(i int) bool { return i%3 != 1 }},
		{"assignee", store.TicketFilter{AssigneeID: &one}, func(i int) bool { return i%4 == 0 }},
		{"unassigned", store.TicketFilter{Unassigned: true, Statuses: []string{"new"}}, func(i int) bool { return i%4 != 0 && i%3 == 0 }},
		{"store", store.TicketFilter{StoreID: &one}, func(i int) bool { return i%5 == 0 }},
		{"channel", store.TicketFilter{Channel: "chat"}, func(i int) bool { return i%2 == 1 }},
		{"search", store.TicketFilter{Query: "parcel"}, func(i int) bool { return i%10 == 0 }},
		{"search prefix", store.TicketFilter{Query: "parc"}, func(i int) bool { return i%10 == 0 }},
		{"search subject", store.TicketFilter{Query: "Ticket 136"}, func(i int) bool { return i == 136 }},
		{"search and status", store.TicketFilter{Query: "late", Statuses: []string{"open"}}, func(i int) bool { return i%10 == 0 && i%3 == 1 }},
	}
	for _, c := range cases {
		for _, sort := range store.Sorts {
			t.Run(c.name+"/"+sort, func(t *testing.T) {
				f := c.f
				f.Sort, f.Limit = sort, 20
				var got []store.Ticket
				for pages := 0; ; pages++ {
					page, next, err := db.ListTickets(ctx, f)
					if err != nil {
						t.Fatal(err)
					}
					got = append(got, page...)
					if next == "" {
						break
					}
					if pages > 20 {
						t.Fatal("pagination does not end")
					}
					f.Cursor = next
				}
				want := 0
				for i := range 137 {
					if c.want(i) {
						want++
					}
				}
				seen := map[int64]bool{}
				for k, tk := range got {
					if seen[tk.ID] {
						t.Fatalf("ticket %d twice", tk.ID)
					}
					seen[tk.ID] = true
					if !c.want(int(tk.ID - 1)) {
						t.Fatalf("ticket %d should not match", tk.ID)
					}
					order := sort
					if f.Query != "" && sort != "oldest" {
						order = "newest" // a search lists the newest matching tickets first
					}
					if k > 0 && !ordered(order, &got[k-1], &tk) {
						t.Fatalf("%s order broken at %d: %d before %d", order, k, got[k-1].ID, tk.ID)
					}
				}
				if len(got) != want {
					t.Fatalf("%d tickets, want %d", len(got), want)
				}
			})
		}
	}
}

func ordered(sort string, a, b *store.Ticket) bool {
	switch sort {
	case "newest":
		return a.ID > b.ID
	case "oldest":
		return a.ID < b.ID
	case "customer":
		if a.LastCustomerAt == nil {
			return b.LastCustomerAt == nil && a.ID > b.ID
		}
		if b.LastCustomerAt == nil {
			return true
		}
		return a.LastCustomerAt.After(*b.LastCustomerAt) || a.LastCustomerAt.Equal(*b.LastCustomerAt) && a.ID > b.ID
	}
	return a.UpdatedAt.After(b.UpdatedAt) || a.UpdatedAt.Equal(b.UpdatedAt) && a.ID > b.ID
}

func TestListTicketsBadInput(t *testing.T) { store.ForEachEngine(t, testListTicketsBadInput) }

func testListTicketsBadInput(t *testing.T) {
	db := open(t)
	fill(t, db, 5)
	ctx := context.Background()
	if _, _, err := db.ListTickets(ctx, store.TicketFilter{Cursor: "not-a-cursor"}); !errors.Is(err, store.ErrBadCursor) {
		t.Fatalf("bad cursor: %v", err)
	}
	store.SkipOnPostgres(t, "full-text search on PostgreSQL comes with tsvector")
	for _, q := range []string{`"`, `parcel AND`, `NEAR(`, `*`, `a OR "b`, `-x`, `😀`, `) ( :`} {
		if _, _, err := db.ListTickets(ctx, store.TicketFilter{Query: q}); err != nil {
			t.Fatalf("query %q: %v", q, err)
		}
	}
}

func TestUnreadFollowsMarkRead(t *testing.T) { store.ForEachEngine(t, testUnreadFollowsMarkRead) }

func testUnreadFollowsMarkRead(t *testing.T) {
	db := open(t)
	fill(t, db, 3)
	ctx := context.Background()
	list, _, _ := db.ListTickets(ctx, store.TicketFilter{ViewerID: 1})
	unread := 0
	for _, tk := range list {
		if tk.Unread {
			unread++
		}
	}
	if unread != 2 { // ticket 0 has no customer message time
		t.Fatalf("%d unread, want 2", unread)
	}
	if err := db.MarkRead(ctx, 1, 2); err != nil {
		t.Fatal(err)
	}
	list, _, _ = db.ListTickets(ctx, store.TicketFilter{ViewerID: 1})
	for _, tk := range list {
		if tk.ID == 2 && tk.Unread {
			t.Fatal("ticket 2 unread after MarkRead")
		}
	}
}

func TestAttachmentsAreStoredOnce(t *testing.T) { store.ForEachEngine(t, testAttachmentsAreStoredOnce) }

func testAttachmentsAreStoredOnce(t *testing.T) {
	db := open(t)
	fill(t, db, 1)
	ctx := context.Background()
	data := []byte("%PDF-1.4 invoice")
	var ids []int64
	err := db.Write(ctx, func(tx *store.Tx) error {
		for range 2 {
			m := &store.Message{TicketID: 1, Kind: "customer", Channel: "email", Body: "see attached", CreatedAt: store.Now(),
				Attachments: []store.Attachment{{Filename: "invoice.pdf", ContentType: "application/pdf", Data: data}}}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			ids = append(ids, m.Attachments[0].ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	a, ticket, err := db.AttachmentData(ctx, ids[1])
	if err != nil || string(a.Data) != string(data) || ticket != 1 || a.Size != int64(len(data)) {
		t.Fatalf("attachment: %+v %d %v", a, ticket, err)
	}
	msgs, _ := db.Messages(ctx, 1)
	if len(msgs[len(msgs)-1].Attachments) != 1 {
		t.Fatalf("message attachments %+v", msgs[len(msgs)-1].Attachments)
	}
}
