package store

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"slices"
	"testing"

	"onedesk/store/storetest"
)

// searchIDs is every ticket a search lists, oldest first.
func searchIDs(t *testing.T, db *DB, q string) []int64 {
	t.Helper()
	list, _, err := db.ListTickets(context.Background(), TicketFilter{Query: q, Sort: "oldest", Limit: 200})
	if err != nil {
		t.Fatalf("search %q: %v", q, err)
	}
	var ids []int64
	for _, tk := range list {
		ids = append(ids, tk.ID)
	}
	return ids
}

// addStoreTicket adds a ticket in a new store of the given language.
func addStoreTicket(t *testing.T, db *DB, language, body string) int64 {
	t.Helper()
	var id int64
	err := db.Write(context.Background(), func(tx *Tx) error {
		ctx := context.Background()
		s := &Store{Name: language, Slug: fmt.Sprintf("s-%s-%d", language, len(body)), Language: language, Timezone: "UTC", CreatedAt: Now()}
		if err := tx.InsertStore(ctx, s); err != nil {
			return err
		}
		c := &Customer{Name: "X", CreatedAt: Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		tk := &Ticket{Subject: "Hi", Status: "open", Priority: "normal", Channel: "email", StoreID: &s.ID, CustomerID: c.ID, CreatedAt: Now(), UpdatedAt: Now()}
		if err := tx.InsertTicket(ctx, tk); err != nil {
			return err
		}
		id = tk.ID
		return tx.InsertMessage(ctx, &Message{TicketID: tk.ID, Kind: "customer", Channel: "email", Body: body, CreatedAt: Now()})
	})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// Where the engines differ: PostgreSQL also reads a whole word's other
// forms in the store's language (English, Portuguese, Turkish, Russian;
// PostgreSQL has no Czech stemmer); SQLite reads the word as written.
// Typing (a prefix) and exact words agree.
func TestSearchStemsInStoreLanguage(t *testing.T) { ForEachEngine(t, testSearchStemsInStoreLanguage) }

func testSearchStemsInStoreLanguage(t *testing.T) {
	db := OpenTest(t)
	en := addStoreTicket(t, db, "en", "I asked for refunds twice")
	pt := addStoreTicket(t, db, "pt", "as encomendas chegaram partidas")
	ru := addStoreTicket(t, db, "ru", "посылки пришли вчера")
	cs := addStoreTicket(t, db, "cs", "zásilky dorazily")
	stemmed := OnPostgres(t)
	for _, c := range []struct {
		q    string
		want []int64 // on both engines
		stem []int64 // PostgreSQL's answer where it differs
	}{
		{"refunds", []int64{en}, nil},
		{"refu", []int64{en}, nil},
		{"refund", []int64{en}, nil}, // typing: a prefix
		{"refund twice", nil, []int64{en}},
		{"encomendas", []int64{pt}, nil},
		{"encomenda partidas", nil, []int64{pt}},
		{"посылки", []int64{ru}, nil},
		{"посылка вчера", nil, []int64{ru}},
		{"zasilky", []int64{cs}, nil},
		{"zasilka dorazily", nil, nil}, // Czech: no stemmer
	} {
		want := c.want
		if stemmed && c.stem != nil {
			want = c.stem
		}
		if got := searchIDs(t, db, c.q); !slices.Equal(got, want) {
			t.Errorf("search %q: %v, want %v", c.q, got, want)
		}
	}
	// A stemmed match still shows its passage, the typed word's start marked.
	if stemmed {
		list, _, err := db.ListTickets(context.Background(), TicketFilter{Query: "refund twice", Limit: 5})
		if err != nil || len(list) != 1 || len(list[0].Match) == 0 {
			t.Fatalf("refund: %+v %v", list, err)
		}
	}
}

// Customers are found by the start of their names' and identifiers'
// words, and by words of their tickets (an order number).
func TestSearchCustomersByWords(t *testing.T) { ForEachEngine(t, testSearchCustomersByWords) }

func testSearchCustomersByWords(t *testing.T) {
	db := OpenTest(t)
	ctx := context.Background()
	var ana, bea int64
	err := db.Write(ctx, func(tx *Tx) error {
		a := &Customer{Name: "Ana Conceição", CreatedAt: Now(), Identities: []Identity{{Kind: "email", Value: "ana.c@example.pt"}, {Kind: "phone", Value: "+351912345678"}}}
		b := &Customer{Name: "Beyza Şahin", CreatedAt: Now(), Identities: []Identity{{Kind: "email", Value: "beyza@example.com.tr"}}}
		for _, c := range []*Customer{a, b} {
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
		}
		ana, bea = a.ID, b.ID
		tk := &Ticket{Subject: "Order 70071", Status: "open", Priority: "normal", Channel: "email", CustomerID: b.ID, CreatedAt: Now(), UpdatedAt: Now()}
		return tx.InsertTicket(ctx, tk)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		s    CustomerSearch
		want []int64
	}{
		{CustomerSearch{Words: `"conce"*`}, []int64{ana}},
		{CustomerSearch{Words: `"ana"* "conceicao"*`}, []int64{ana}},
		{CustomerSearch{Words: `"sahin"*`}, []int64{bea}},
		{CustomerSearch{Words: `"şah"*`}, []int64{bea}},
		{CustomerSearch{Words: `"example"*`}, []int64{bea, ana}},
		{CustomerSearch{Words: `"3519"*`}, []int64{ana}},
		{CustomerSearch{Words: `"zzz"*`}, nil},
		{CustomerSearch{Words: `"!"*`}, nil},
		{CustomerSearch{Tickets: `"70071"`}, []int64{bea}},
		{CustomerSearch{Tickets: `"7007"`}, nil},
		{CustomerSearch{Identities: []Identity{{Kind: "email", Value: "ana.c@example.pt"}}}, []int64{ana}},
	} {
		found, err := db.SearchCustomers(ctx, c.s)
		if err != nil {
			t.Fatalf("%+v: %v", c.s, err)
		}
		var ids []int64
		for _, cu := range found {
			ids = append(ids, cu.ID)
		}
		if !slices.Equal(ids, c.want) {
			t.Errorf("%+v: %v, want %v", c.s, ids, c.want)
		}
	}
}

// A database owner who is not a superuser runs onedesk: the unaccent
// extension is trusted, so the migration makes it. A user who may not
// make extensions gets search all the same, accents folded through
// onedesk's own table of the five languages' letters.
func TestPostgresSearchWithoutSuperuser(t *testing.T) {
	for _, c := range []struct {
		name       string
		mayCreate  bool // CREATE on the database: extensions
		wantFolder string
	}{{"may create extensions", true, "unaccent"}, {"may not", false, "table"}} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			admin := storetest.PostgresURL(t)
			u, err := url.Parse(admin)
			if err != nil {
				t.Fatal(err)
			}
			role := "plain_" + u.Path[1:]
			conn, err := sql.Open("pgx", admin)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			grants := []string{
				"CREATE ROLE " + role + " LOGIN NOSUPERUSER",
				"GRANT CREATE ON SCHEMA public TO " + role,
			}
			if c.mayCreate {
				grants = append(grants, "GRANT CREATE ON DATABASE "+u.Path[1:]+" TO "+role)
			}
			for _, g := range grants {
				if _, err := conn.ExecContext(ctx, g); err != nil {
					t.Fatal(err)
				}
			}
			t.Cleanup(func() {
				conn, err := sql.Open("pgx", admin)
				if err != nil {
					return
				}
				defer conn.Close()
				conn.ExecContext(ctx, "DROP OWNED BY "+role)
				conn.ExecContext(ctx, "DROP ROLE "+role)
			})
			u.User = url.User(role)
			db, err := Open(ctx, u.String())
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if got, err := db.pgSearchFolding(ctx); err != nil || got != c.wantFolder {
				t.Fatalf("accents fold by %q (%v), want %q", got, err, c.wantFolder)
			}
			pt := addStoreTicket(t, db, "cs", "Devolução do pedido, kırmızı ŞİŞLİ, Příliš žluťoučký, ёлка")
			for _, q := range []string{"devolucao", "DEVOLUÇÃO", "kirmizi", "sisli", "prilis zlutoucky", "елка", "ёлка"} {
				if got := searchIDs(t, db, q); !slices.Equal(got, []int64{pt}) {
					t.Errorf("search %q: %v, want %d", q, got, pt)
				}
			}
		})
	}
}
