package store_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/store"
)

// searchDesk is a desk whose tickets the search tests look for: each
// ticket a customer (name, email, phone), a subject and messages.
type searchDesk struct {
	t     *testing.T
	db    *store.DB
	agent int64
	store int64

	analyzed bool // AnalyzeSearch ran
}

func newSearchDesk(t *testing.T) *searchDesk {
	d := &searchDesk{t: t, db: open(t)}
	d.write(func(ctx context.Context, tx *store.Tx) error {
		a := &store.Agent{Email: "a@x.test", Name: "A", Role: "admin", Active: true, Language: "en", Timezone: "UTC", PasswordHash: "x", CreatedAt: store.Now()}
		if err := tx.InsertAgent(ctx, a); err != nil {
			return err
		}
		s := &store.Store{Name: "S", Slug: "s", Language: "en", Timezone: "UTC", CreatedAt: store.Now()}
		if err := tx.InsertStore(ctx, s); err != nil {
			return err
		}
		d.agent, d.store = a.ID, s.ID
		return nil
	})
	return d
}

func (d *searchDesk) write(fn func(ctx context.Context, tx *store.Tx) error) {
	d.t.Helper()
	if err := d.db.Write(context.Background(), func(tx *store.Tx) error { return fn(context.Background(), tx) }); err != nil {
		d.t.Fatal(err)
	}
}

// ticket adds a ticket from a new customer with the given messages.
func (d *searchDesk) ticket(name, email, phone, subject string, bodies ...string) (ticket, customer int64) {
	d.t.Helper()
	d.write(func(ctx context.Context, tx *store.Tx) error {
		c := &store.Customer{Name: name, CreatedAt: store.Now()}
		if email != "" {
			c.Identities = append(c.Identities, store.Identity{Kind: "email", Value: email})
		}
		if phone != "" {
			c.Identities = append(c.Identities, store.Identity{Kind: "phone", Value: phone})
		}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		tk := &store.Ticket{Subject: subject, Status: "open", Priority: "normal", Channel: "email", CustomerID: c.ID,
			CreatedAt: store.Now(), UpdatedAt: store.Now()}
		if err := tx.InsertTicket(ctx, tk); err != nil {
			return err
		}
		for _, b := range bodies {
			if err := tx.InsertMessage(ctx, &store.Message{TicketID: tk.ID, Kind: "customer", Channel: "email", Body: b, CreatedAt: store.Now()}); err != nil {
				return err
			}
		}
		ticket, customer = tk.ID, c.ID
		return nil
	})
	return ticket, customer
}

// find is every ticket a search lists, page after page of limit.
func (d *searchDesk) find(f store.TicketFilter) []int64 {
	d.t.Helper()
	f.ViewerID = 1
	var ids []int64
	for pages := 0; ; pages++ {
		list, next, err := d.db.ListTickets(context.Background(), f)
		if err != nil {
			d.t.Fatalf("search %q: %v", f.Query, err)
		}
		for _, tk := range list {
			ids = append(ids, tk.ID)
		}
		if next == "" {
			return ids
		}
		if pages > 1000 {
			d.t.Fatal("paging does not end")
		}
		f.Cursor = next
	}
}

func (d *searchDesk) expect(q string, want ...int64) {
	d.t.Helper()
	got := d.find(store.TicketFilter{Query: q})
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		d.t.Errorf("search %q: tickets %v, want %v", q, got, want)
	}
}

// Accents are ignored both ways, in each of the five languages, and case
// too (Turkish dotless ı and Russian ё as their speakers type them).
func TestSearchAccentsBothWays(t *testing.T) { store.ForEachEngine(t, testSearchAccentsBothWays) }

func testSearchAccentsBothWays(t *testing.T) {
	d := newSearchDesk(t)
	pt, _ := d.ticket("Joana", "", "", "Devolução", "Não recebi a encomenda, quero a devolução do pagamento")
	ptPlain, _ := d.ticket("Rui", "", "", "Pedido", "nao recebi a informacao do envio")
	tr, _ := d.ticket("Ayşe", "", "", "Kargo", "Kırmızı ayakkabının kargo ücreti ŞİŞLİ şubesinde iade edildi")
	trPlain, _ := d.ticket("Mehmet", "", "", "Siparis", "kirmizi canta siparisi gelmedi")
	cs, _ := d.ticket("Jiří", "", "", "Reklamace", "Příliš žluťoučký kůň úpěl ďábelské ódy, zásilka nedorazila")
	csPlain, _ := d.ticket("Petr", "", "", "Objednavka", "zasilka prisla poskozena")
	ru, _ := d.ticket("Пётр", "", "", "Заказ", "Где моя ёлка? ЗАКАЗ не пришёл")
	ruPlain, _ := d.ticket("Олег", "", "", "Вопрос", "елка пришла сломанной")
	en, _ := d.ticket("Zoë", "", "", "Résumé", "The café sent a naïve reply")
	enPlain, _ := d.ticket("Bob", "", "", "Cafe", "cafe order")

	d.expect("devolucao", pt)
	d.expect("DEVOLUÇÃO", pt)
	d.expect("não recebi", pt, ptPlain)
	d.expect("informação", ptPlain)
	d.expect("kirmizi", tr, trPlain)
	d.expect("kırmızı", tr, trPlain)
	d.expect("ucreti", tr)
	d.expect("sisli", tr)
	d.expect("şişli", tr)
	d.expect("siparişi", trPlain)
	d.expect("prilis zlutoucky kun", cs)
	d.expect("zásilka", cs, csPlain)
	d.expect("poškozená", csPlain)
	d.expect("елка", ru, ruPlain)
	d.expect("ёлка", ru, ruPlain)
	d.expect("заказ", ru)
	d.expect("пришел", ru)
	d.expect("cafe", en, enPlain)
	d.expect("café", en, enPlain)
	d.expect("naive", en)
	d.expect("resume", en)
}

// The last word is a prefix (search as you type), from three letters on
// (one or two are a whole word); the words before it are whole words.
func TestSearchPrefix(t *testing.T) { store.ForEachEngine(t, testSearchPrefix) }

func testSearchPrefix(t *testing.T) {
	d := newSearchDesk(t)
	refund, _ := d.ticket("A", "", "", "Money", "I want a refund for the broken parcel")
	refer, _ := d.ticket("B", "", "", "Question", "please refer to my previous mail")
	track, _ := d.ticket("C", "", "", "Where", "the tracking number does not work")
	d.expect("re")
	d.expect("to", refer)
	d.expect("ref", refund, refer)
	d.expect("refu", refund)
	d.expect("refund", refund)
	d.expect("refunds")
	d.expect("tracki", track)
	d.expect("tracking numb", track)
	d.expect("track number") // "track" is not a word there
	d.expect("broken parc", refund)
}

// Order numbers, emails and phones in the ways people write them.
func TestSearchExactLookups(t *testing.T) { store.ForEachEngine(t, testSearchExactLookups) }

func testSearchExactLookups(t *testing.T) {
	d := newSearchDesk(t)
	ana, _ := d.ticket("Ana Silva", "ana.silva+shop@example.com", "+351912345678", "Order", "Where is order #4471230?")
	bea, _ := d.ticket("Beatriz Costa", "bea@example.org", "+442071838750", "Hello", "you can also write to ana.silva@example.com")
	var form int64
	d.write(func(ctx context.Context, tx *store.Tx) error {
		c := &store.Customer{CreatedAt: store.Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		tk := &store.Ticket{Subject: "Form", Status: "new", Priority: "normal", Channel: "form", CustomerID: c.ID,
			Fields: json.RawMessage(`{"order_number": "88120", "quantity": 3}`), CreatedAt: store.Now(), UpdatedAt: store.Now()}
		err := tx.InsertTicket(ctx, tk)
		form = tk.ID
		return err
	})
	testSearchExactLookupsOn(t, d, ana, bea, form)
}

func testSearchExactLookupsOn(t *testing.T, d *searchDesk, ana, bea, form int64) {
	d.expect("4471230", ana)
	d.expect("#4471230", ana)
	d.expect("88120", form)
	d.expect("ana.silva+shop@example.com", ana)
	d.expect("ANA.SILVA+SHOP@EXAMPLE.COM", ana)
	d.expect("ana.silva@example.com", bea) // as written in bea's message
	d.expect("bea@example.org", bea)
	d.expect("bea@exa", bea) // typing
	d.expect("bea@example.o", bea)
	for _, phone := range []string{"+351912345678", "+351 912 345 678", "912345678", "912 345 678", "912-345-678",
		"(912) 345 678", "00351912345678", "00 351 912 345 678"} {
		d.expect(phone, ana)
	}
	for _, phone := range []string{"+44 20 7183 8750", "020 7183 8750", "2071838750", "0044 20 7183 8750"} {
		d.expect(phone, bea)
	}
	d.expect("Silva", ana, bea)
	d.expect("ana silva", ana, bea)
	d.expect("beatriz", bea)
	d.expect("costa", bea)
	if d.analyzed {
		return
	}
	// The same once PostgreSQL has counted the words, among many tickets
	// with common ones: a word outside the most common is then read off
	// the GIN index (a phrase by its rarest part), the rest as before.
	for i := range 80 {
		d.ticket(fmt.Sprintf("Filler %d", i), fmt.Sprintf("filler%d@example.com", i), "", "Order", "where is my order, example com")
	}
	n, err := d.db.AnalyzeSearch(context.Background())
	if err != nil || store.OnPostgres(t) && n == 0 {
		t.Fatalf("analyze: %d common words, %v", n, err)
	}
	d.analyzed = true
	testSearchExactLookupsOn(t, d, ana, bea, form)
}

// Filters combine with a search; pages of a word in many messages of
// many tickets go on with no ticket twice and none left out, both ways.
func TestSearchFiltersAndPaging(t *testing.T) { store.ForEachEngine(t, testSearchFiltersAndPaging) }

func testSearchFiltersAndPaging(t *testing.T) {
	d := newSearchDesk(t)
	var all, open, mine, store1, chat []int64
	d.write(func(ctx context.Context, tx *store.Tx) error {
		for i := range 230 {
			c := &store.Customer{Name: fmt.Sprintf("C%d", i), CreatedAt: store.Now()}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			tk := &store.Ticket{Subject: fmt.Sprintf("T%d", i), Status: store.Statuses[i%5], Priority: "normal", Channel: store.Channels[i%3],
				CustomerID: c.ID, CreatedAt: store.Now(), UpdatedAt: store.Now()}
			if i%4 == 0 {
				tk.AssigneeID = &d.agent
			}
			if i%7 == 0 {
				tk.StoreID = &d.store
			}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			// Every third ticket has the word in 1 to 6 of its messages,
			// so a ticket's rows straddle the reads of a page.
			for m := range 1 + i%6 {
				body := "nothing here"
				if i%3 == 0 {
					body = fmt.Sprintf("parcel number %d is late", m)
				}
				if err := tx.InsertMessage(ctx, &store.Message{TicketID: tk.ID, Kind: "customer", Channel: tk.Channel, Body: body, CreatedAt: store.Now()}); err != nil {
					return err
				}
			}
			if i%3 != 0 {
				continue
			}
			all = append(all, tk.ID)
			if tk.Status == "open" {
				open = append(open, tk.ID)
			}
			if tk.AssigneeID != nil && (tk.Status == "new" || tk.Status == "pending") {
				mine = append(mine, tk.ID)
			}
			if tk.StoreID != nil {
				store1 = append(store1, tk.ID)
			}
			if tk.Channel == "chat" {
				chat = append(chat, tk.ID)
			}
		}
		return nil
	})
	newest := func(ids []int64) []int64 { s := slices.Clone(ids); slices.Reverse(s); return s }
	for _, c := range []struct {
		name string
		f    store.TicketFilter
		want []int64
	}{
		{"all", store.TicketFilter{}, all},
		{"status", store.TicketFilter{Statuses: []string{"open"}}, open},
		{"assignee and statuses", store.TicketFilter{AssigneeID: &d.agent, Statuses: []string{"new", "pending"}}, mine},
		{"store", store.TicketFilter{StoreID: &d.store}, store1},
		{"channel", store.TicketFilter{Channel: "chat"}, chat},
	} {
		for _, limit := range []int{1, 7, 50} {
			for _, word := range []string{"parcel", "parc", "late"} {
				f := c.f
				f.Query, f.Limit = word, limit
				if got := d.find(f); !slices.Equal(got, newest(c.want)) {
					t.Errorf("%s, %q, %d a page: %v, want %v", c.name, word, limit, got, newest(c.want))
				}
				f.Sort = "oldest"
				if got := d.find(f); !slices.Equal(got, c.want) {
					t.Errorf("%s, %q, %d a page, oldest first: %v, want %v", c.name, word, limit, got, c.want)
				}
			}
		}
	}
	// A cursor from an inbox sorted otherwise still pages a search.
	list, _, _ := d.db.ListTickets(context.Background(), store.TicketFilter{Limit: 3})
	if len(list) != 3 {
		t.Fatal("no inbox page")
	}
}

// The index follows the tickets: a subject changed, a message added, a
// customer renamed or given an address, customers merged, tickets merged.
func TestSearchFollowsChanges(t *testing.T) { store.ForEachEngine(t, testSearchFollowsChanges) }

func testSearchFollowsChanges(t *testing.T) {
	d := newSearchDesk(t)
	first, anaID := d.ticket("Ana", "ana@x.test", "", "Broken zipper", "the zipper broke")
	second, beaID := d.ticket("Bea", "bea@x.test", "+351961111111", "Late", "still waiting for it")
	d.expect("zipper", first)

	d.write(func(ctx context.Context, tx *store.Tx) error {
		tk, err := tx.Ticket(ctx, first)
		if err != nil {
			return err
		}
		tk.Subject = "Torn sleeve"
		if err := tx.UpdateTicket(ctx, tk); err != nil {
			return err
		}
		return tx.InsertMessage(ctx, &store.Message{TicketID: first, Kind: "agent", Channel: "email", Body: "we will send a replacement", CreatedAt: store.Now()})
	})
	d.expect("sleeve", first)
	d.expect("replacement", first)
	d.expect("zipper", first) // still in its first message
	d.expect("broken")        // only the old subject had it

	d.write(func(ctx context.Context, tx *store.Tx) error {
		c, err := tx.Customer(ctx, anaID)
		if err != nil {
			return err
		}
		c.Name = "Ana Moreira"
		if err := tx.UpdateCustomer(ctx, c); err != nil {
			return err
		}
		return tx.AddIdentity(ctx, anaID, store.Identity{Kind: "email", Value: "ana.moreira@y.test"})
	})
	d.expect("moreira", first)
	d.expect("ana.moreira@y.test", first)

	// Bea is merged into Ana: her ticket and addresses are Ana's now.
	d.write(func(ctx context.Context, tx *store.Tx) error {
		_, err := tx.MergeCustomers(ctx, anaID, beaID, "1")
		return err
	})
	d.expect("bea@x.test", first, second)
	d.expect("ana@x.test", first, second)
	d.expect("961111111", first, second)
	d.expect("moreira", first, second)

	// A ticket merged into another: its messages are the other's.
	third, _ := d.ticket("Cid", "cid@x.test", "", "Duplicate", "kalomi zentor")
	d.expect("kalomi", third)
	d.write(func(ctx context.Context, tx *store.Tx) error { return tx.MergeTicket(ctx, third, first) })
	d.expect("kalomi", first)
	d.expect("duplicate", third) // its own subject stays its own
}

// The passage that matched comes with each ticket, its words marked.
func TestSearchMatchPassage(t *testing.T) { store.ForEachEngine(t, testSearchMatchPassage) }

func testSearchMatchPassage(t *testing.T) {
	d := newSearchDesk(t)
	long := strings.Repeat("some words before the point ", 12) + "and then the Refund was approved by the bank " + strings.Repeat("and more text after it ", 20)
	id, _ := d.ticket("A", "", "", "Money", "hello", long)
	list, _, err := d.db.ListTickets(context.Background(), store.TicketFilter{Query: "refu", ViewerID: 1})
	if err != nil || len(list) != 1 || list[0].ID != id {
		t.Fatalf("search: %v %v", list, err)
	}
	var text strings.Builder
	var hits []string
	for _, p := range list[0].Match {
		text.WriteString(p.Text)
		if p.Hit {
			hits = append(hits, p.Text)
		}
	}
	if !slices.Equal(hits, []string{"Refund"}) || !strings.Contains(text.String(), "the Refund was approved") ||
		!strings.HasPrefix(text.String(), "… ") || !strings.HasSuffix(text.String(), " …") || len([]rune(text.String())) > 200 {
		t.Fatalf("passage %q, hits %v", text.String(), hits)
	}
	// A match on the subject alone has no passage.
	list, _, _ = d.db.ListTickets(context.Background(), store.TicketFilter{Query: "money", ViewerID: 1})
	if len(list) != 1 || list[0].Match != nil {
		t.Fatalf("subject match: %+v", list)
	}
}

// Operators and punctuation in what is typed are words, never syntax.
func TestSearchOddInput(t *testing.T) { store.ForEachEngine(t, testSearchOddInput) }

func testSearchOddInput(t *testing.T) {
	d := newSearchDesk(t)
	id, _ := d.ticket("A", "", "", "Hi", `she said "NEAR(a b)" AND OR NOT * ^ -- it`)
	for _, q := range []string{`"`, `*`, `NEAR(`, `a AND`, `(((`, `^`, `-`, `""""`, `'; DROP TABLE tickets; --`, strings.Repeat("x", 300)} {
		if _, _, err := d.db.ListTickets(context.Background(), store.TicketFilter{Query: q, ViewerID: 1}); err != nil {
			t.Errorf("search %q: %v", q, err)
		}
	}
	d.expect("near", id)
	d.expect("AND OR NOT", id)
	_ = time.Now
}

// A query's words may be in the subject or customer name and in a
// message: "1001 refund" finds the ticket of order 1001 whose customer
// asked for a refund. Words from two different tickets never match.
func TestSearchSubjectAndMessageWords(t *testing.T) {
	store.ForEachEngine(t, testSearchSubjectAndMessageWords)
}

func testSearchSubjectAndMessageWords(t *testing.T) {
	d := newSearchDesk(t)
	jana, _ := d.ticket("Jana Nováková", "jana@x.test", "", "Order 1001", "I would like a refund", "thanks")
	bo, boID := d.ticket("Bo Lind", "bo@x.test", "", "Order 2002", "can I exchange the shoes")
	d.expect("1001 refund", jana)
	d.expect("refund 1001", jana)
	d.expect("order 1001 refu", jana) // the last word as a prefix, read through the 3-letter index
	d.expect("jana refund", jana)
	d.expect("novakova refund", jana)
	d.expect("order exchange", bo)
	d.expect("lind shoes", bo)
	d.expect("refund", jana)
	// Across tickets: a subject or name of one, a message of the other.
	d.expect("1001 exchange")
	d.expect("2002 refund")
	d.expect("jana exchange")
	d.expect("lind refund")
	d.expect("bo refund")

	// The subject and name follow changes; a moved message takes its new
	// ticket's subject and customer.
	d.write(func(ctx context.Context, tx *store.Tx) error {
		tk, err := tx.Ticket(ctx, bo)
		if err != nil {
			return err
		}
		tk.Subject = "Order 3003"
		if err := tx.UpdateTicket(ctx, tk); err != nil {
			return err
		}
		c, err := tx.Customer(ctx, boID)
		if err != nil {
			return err
		}
		c.Name = "Bo Strand"
		return tx.UpdateCustomer(ctx, c)
	})
	d.expect("3003 exchange", bo)
	d.expect("2002 exchange")
	d.expect("strand shoes", bo)
	d.expect("lind shoes")
	d.write(func(ctx context.Context, tx *store.Tx) error { return tx.MergeTicket(ctx, bo, jana) })
	d.expect("1001 exchange", jana)
	d.expect("jana shoes", jana)
	d.expect("strand shoes")
}

// The passage comes from a message whose body has the word, even when a
// newer message matched by the ticket's subject alone.
func TestSearchPassageSkipsSubjectOnlyMessages(t *testing.T) {
	store.ForEachEngine(t, testSearchPassageSkipsSubjectOnlyMessages)
}

func testSearchPassageSkipsSubjectOnlyMessages(t *testing.T) {
	d := newSearchDesk(t)
	id, _ := d.ticket("A", "", "", "Refund request", "I want a refund for order 1001", "any news?", "hello?")
	for _, q := range []string{"refund", "refun", "request refund"} {
		list, _, err := d.db.ListTickets(context.Background(), store.TicketFilter{Query: q, ViewerID: 1})
		if err != nil || len(list) != 1 || list[0].ID != id {
			t.Fatalf("search %q: %v %v", q, list, err)
		}
		var text strings.Builder
		for _, p := range list[0].Match {
			text.WriteString(p.Text)
		}
		if !strings.Contains(text.String(), "a refund for order 1001") {
			t.Errorf("search %q: passage %q", q, text.String())
		}
	}
}

// A customer search by order number lists every customer whose tickets
// have it, however many messages of a newer ticket repeat it.
func TestSearchCustomersByTicketWords(t *testing.T) {
	store.ForEachEngine(t, testSearchCustomersByTicketWords)
}

func testSearchCustomersByTicketWords(t *testing.T) {
	d := newSearchDesk(t)
	_, olderCustomer := d.ticket("Old Buyer", "", "", "Order 55501", "where is 55501?")
	bodies := make([]string, 250)
	for i := range bodies {
		bodies[i] = fmt.Sprintf("about order 55501, reply %d", i)
	}
	_, newerCustomer := d.ticket("New Buyer", "", "", "Re: 55501", bodies...)
	found, err := d.db.SearchCustomers(context.Background(), store.CustomerSearch{Tickets: `"55501"`, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, c := range found {
		ids = append(ids, c.ID)
	}
	if !slices.Contains(ids, olderCustomer) || !slices.Contains(ids, newerCustomer) || len(ids) != 2 {
		t.Errorf("customers %v, want %d and %d", ids, newerCustomer, olderCustomer)
	}
	// Older customers only (a cursor): still found.
	found, err = d.db.SearchCustomers(context.Background(), store.CustomerSearch{Tickets: `"55501"`, Before: newerCustomer, Limit: 50})
	if err != nil || len(found) != 1 || found[0].ID != olderCustomer {
		t.Errorf("before %d: %+v %v", newerCustomer, found, err)
	}
}

// A last word of four or more letters is read as the words it begins
// (all of them, however many), or as itself when it is a word; accents
// typed or not either way.
// TestSearchPrefixWordsFollowNewWords: a prefix's words are remembered
// between keystrokes, and a write that brings a new word is found by the
// very next search of that prefix.
func TestSearchPrefixWordsFollowNewWords(t *testing.T) {
	store.ForEachEngine(t, testSearchPrefixWordsFollowNewWords)
}

func testSearchPrefixWordsFollowNewWords(t *testing.T) {
	d := newSearchDesk(t)
	refund, _ := d.ticket("A", "", "", "One", "please refund me")
	d.expect("refu", refund)
	d.expect("refu", refund) // remembered
	refurb, _ := d.ticket("B", "", "", "Two", "is it refurbished?")
	d.expect("refu", refurb, refund)
	d.expect("refur", refurb)
}

// TestSearchPrefixRightAfterOpen: a typed prefix is the first thing asked
// of a desk opened again, before anything has been written since.
func TestSearchPrefixRightAfterOpen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	d := &searchDesk{t: t, db: db}
	refund, _ := d.ticket("A", "", "", "One", "please refund me")
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if d.db, err = store.Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.db.Close() })
	d.expect("refu", refund)
	d.expect("refu", refund)
}

func TestSearchPrefixWords(t *testing.T) { store.ForEachEngine(t, testSearchPrefixWords) }

func testSearchPrefixWords(t *testing.T) {
	d := newSearchDesk(t)
	refund, _ := d.ticket("A", "", "", "One", "please refund me")
	refunded, _ := d.ticket("B", "", "", "Two", "they refunded half")
	refunds, _ := d.ticket("C", "", "", "Three", "refunds take a week")
	d.expect("refu", refund, refunded, refunds)
	d.expect("refun", refund, refunded, refunds)
	d.expect("refund", refund) // a word: read as itself
	d.expect("refunde", refunded)
	d.expect("refundx")
	d.expect("week refu", refunds)

	// More words than are read one by one: the prefix is read as before.
	var many []int64
	d.write(func(ctx context.Context, tx *store.Tx) error {
		c := &store.Customer{Name: "Many", CreatedAt: store.Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		for i := range 60 {
			tk := &store.Ticket{Subject: "Code", Status: "open", Priority: "normal", Channel: "email", CustomerID: c.ID, CreatedAt: store.Now(), UpdatedAt: store.Now()}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			if err := tx.InsertMessage(ctx, &store.Message{TicketID: tk.ID, Kind: "customer", Channel: "email", Body: fmt.Sprintf("voucher qzxw%03d", i), CreatedAt: store.Now()}); err != nil {
				return err
			}
			many = append(many, tk.ID)
		}
		return nil
	})
	d.expect("qzxw", many...)
	d.expect("qzxw0", many[:60]...)
	d.expect("qzxw05", many[50:60]...)
	d.expect("voucher qzxw", many...)

	// Each language's letters, typed with and without their accents.
	pairs := []struct{ accented, plain string }{
		{"ağırlık doğrulandı", "agirlik dogrulandi"},                     // tr: ğ, ı
		{"İstanbul şubesi", "istanbul subesi"},                           // tr: İ, ş
		{"řidič přivezl půjčku, děkuji", "ridic privezl pujcku, dekuji"}, // cs: ř, ů, ě
		{"informação da devolução", "informacao da devolucao"},           // pt: ã, ç
		{"ёлочные игрушки пришёл", "елочные игрушки пришел"},             // ru: ё
	}
	for _, p := range pairs {
		a, _ := d.ticket("X", "", "", "Accents", p.accented)
		b, _ := d.ticket("Y", "", "", "Plain", p.plain)
		for _, text := range []string{p.accented, p.plain} {
			for _, w := range strings.Fields(strings.ReplaceAll(text, ",", "")) {
				r := []rune(w)
				for n := 3; n <= len(r); n++ {
					d.expect(string(r[:n]), a, b)
				}
			}
		}
	}
}

// Filters with a word in few tickets (each ticket looked up) and in most
// (the filter's index read over their range) list the same tickets.
func TestSearchFiltersSparseAndDense(t *testing.T) {
	store.ForEachEngine(t, testSearchFiltersSparseAndDense)
}

func testSearchFiltersSparseAndDense(t *testing.T) {
	d := newSearchDesk(t)
	var rare, dense, rareOpen, denseMine, denseChat []int64
	d.write(func(ctx context.Context, tx *store.Tx) error {
		c := &store.Customer{Name: "C", CreatedAt: store.Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return err
		}
		for i := range 600 {
			tk := &store.Ticket{Subject: "T", Status: store.Statuses[i%5], Priority: "normal", Channel: store.Channels[i%4], CustomerID: c.ID, CreatedAt: store.Now(), UpdatedAt: store.Now()}
			if i%9 == 0 {
				tk.AssigneeID = &d.agent
			}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			body := "parcel late"
			if i%50 == 0 {
				body = "parcel late sprocket"
				rare = append(rare, tk.ID)
				if tk.Status == "open" {
					rareOpen = append(rareOpen, tk.ID)
				}
			}
			if err := tx.InsertMessage(ctx, &store.Message{TicketID: tk.ID, Kind: "customer", Channel: tk.Channel, Body: body, CreatedAt: store.Now()}); err != nil {
				return err
			}
			dense = append(dense, tk.ID)
			if tk.AssigneeID != nil && tk.Status != "closed" && tk.Status != "resolved" {
				denseMine = append(denseMine, tk.ID)
			}
			if tk.Channel == store.Channels[1] && (tk.Status == "new" || tk.Status == "open") {
				denseChat = append(denseChat, tk.ID)
			}
		}
		return nil
	})
	newest := func(ids []int64) []int64 { s := slices.Clone(ids); slices.Reverse(s); return s }
	for _, c := range []struct {
		name string
		f    store.TicketFilter
		want []int64
	}{
		{"rare, open", store.TicketFilter{Query: "sprocket", Statuses: []string{"open"}}, rareOpen},
		{"rare, all", store.TicketFilter{Query: "sprock"}, rare},
		{"dense, mine not done", store.TicketFilter{Query: "parcel", AssigneeID: &d.agent, Statuses: []string{"new", "open", "pending"}}, denseMine},
		{"dense, channel and statuses", store.TicketFilter{Query: "parc", Channel: store.Channels[1], Statuses: []string{"new", "open"}}, denseChat},
	} {
		// PostgreSQL checks the filter's newest tickets one by one, then
		// asks the words' index: a short walk makes most pages take both.
		for _, walk := range []int{1000, 10} {
			restore := store.SetPGFilterWalk(walk)
			for _, limit := range []int{3, 50} {
				f := c.f
				f.Limit = limit
				if got := d.find(f); !slices.Equal(got, newest(c.want)) {
					t.Errorf("%s, %d a page, %d checked first: %v, want %v", c.name, limit, walk, got, newest(c.want))
				}
			}
			restore()
		}
	}
}

// A rare word with a word in most messages ("Jana order") lists the
// same tickets as FTS5 would: rows with all the words, in one row.
func TestSearchRareAndCommonWords(t *testing.T) { store.ForEachEngine(t, testSearchRareAndCommonWords) }

func testSearchRareAndCommonWords(t *testing.T) {
	d := newSearchDesk(t)

	for i := range 150 {
		d.ticket(fmt.Sprintf("Buyer %d", i), "", "", "Question", "where is my order", "thanks")
	}
	jana, _ := d.ticket("Jana Nováková", "", "", "Hello", "my order never came")
	janaOther, _ := d.ticket("Jana Nováková", "", "", "Invoice", "please send the invoice")
	mixed, _ := d.ticket("Zdeněk", "", "", "Order 7", "kalomi")
	for range 60 {
		d.ticket("Someone", "", "", "Later", "order received, thank you")
	}
	d.expect("jana order", jana)
	d.expect("order jana", jana)
	d.expect("novakova order", jana)
	d.expect("nováková where")
	d.expect("jana invoice", janaOther)
	d.expect("kalomi order", mixed) // the common word in the subject, the rare one in the message
	d.expect("zdenek order", mixed)
	d.expect("kalomi where")
	// A prefix whose first word is in most messages ("orde": order) is
	// read through its 3 letters, each row checked: the same tickets.
	if orde, order := d.find(store.TicketFilter{Query: "orde"}), d.find(store.TicketFilter{Query: "order"}); len(order) < 200 || !slices.Equal(orde, order) {
		t.Errorf("orde: %d tickets, order: %d", len(orde), len(order))
	}
}
