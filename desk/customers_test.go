package desk_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"onedesk/desk"
	"onedesk/store"
)

// The identity matching table: what becomes one identity and what stays
// apart.
func TestIdentityMatching(t *testing.T) {
	same := [][]string{
		{"email", "", "Anna@Shop.Test", " anna@shop.test ", "Anna Smith <ANNA@shop.TEST>"},
		{"email", "", "anna+orders@shop.test", "ANNA+Orders@Shop.Test"},
		{"phone", "", "+351 912 345 678", "00351912345678", "+351 (912) 345-678", "+351.912.345.678"},
		{"phone", "PT", "+351 912 345 678", "912 345 678", "912345678"},
		{"phone", "GB", "+44 20 7946 0958", "020 7946 0958", "(020) 7946-0958"},
		{"phone", "DE", "+49 30 1234567", "030 1234567", "030/1234567"},
		{"phone", "US", "+1 415 555 2671", "(415) 555-2671", "1 415 555 2671", "415.555.2671"},
		{"phone", "IT", "+39 06 1234 5678", "06 1234 5678"}, // Italy keeps its 0
		{"phone", "TR", "+90 532 123 45 67", "0532 123 45 67"},
		{"phone", "CZ", "+420 601 123 456", "601 123 456"},
		{"phone", "RU", "+7 912 345-67-89", "8 912 345-67-89"},
		{"phone", "BR", "+55 11 91234 5678", "011 91234 5678"},
		{"instagram", "", "@Shop.Fan", "shop.fan", " SHOP.FAN "},
	}
	for _, group := range same {
		kind, country := group[0], group[1]
		var first string
		for _, v := range group[2:] {
			got, err := normalize(kind, v, country)
			if err != nil {
				t.Errorf("%s %q (%s): %v", kind, v, country, err)
				continue
			}
			if first == "" {
				first = got
			} else if got != first {
				t.Errorf("%s %q (%s) = %q, want %q like %q", kind, v, country, got, first, group[2])
			}
		}
	}
	apart := [][2]string{
		{"email:anna@shop.test", "email:anna+orders@shop.test"}, // +tags stay distinct
		{"email:anna@shop.test", "email:anna@shop.test.evil"},
		// The same local number in two stores' countries is two people.
		{"phone@PT:912345678", "phone@BR:912345678"},
		{"phone@GB:020 7946 0958", "phone@FR:020 7946 0958"},
	}
	for _, p := range apart {
		a, b := parse(t, p[0]), parse(t, p[1])
		if a == b {
			t.Errorf("%s and %s are both %q", p[0], p[1], a)
		}
	}
	for _, bad := range []string{"phone@:912345678", "phone@PT:12", "phone@PT:+0351912", "phone@XX:912345678", "phone@PT:912 34x 678", "email@:anna at shop"} {
		kind, rest, _ := strings.Cut(bad, "@")
		country, v, _ := strings.Cut(rest, ":")
		if got, err := normalize(kind, v, country); err == nil {
			t.Errorf("%s accepted as %q", bad, got)
		}
	}
	if b := store.EmailBase(email("anna+orders@shop.test")); b != "anna@shop.test" {
		t.Errorf("base %q", b)
	}
	if b := store.EmailBase(email("+x@shop.test")); b != "" {
		t.Errorf("base of +x@ %q", b)
	}
}

func normalize(kind, v, country string) (string, error) {
	if kind == "phone" && country != "" {
		p, ok := desk.NormalizePhone(v, country)
		if !ok {
			return "", errors.New("not a phone")
		}
		return p, nil
	}
	id, err := desk.NormalizeIdentity(kind, v)
	return id.Value, err
}

func parse(t *testing.T, s string) string {
	kind, rest, _ := strings.Cut(s, "@")
	country := ""
	if kind == "phone" {
		country, rest, _ = strings.Cut(rest, ":")
	} else {
		kind, rest, _ = strings.Cut(s, ":")
	}
	v, err := normalize(kind, rest, country)
	if err != nil {
		t.Fatalf("%s: %v", s, err)
	}
	return v
}

// A phone written the local way becomes the same identity as the
// international form, in the store's country, through Ingest.
func TestIngestPhoneInTheStoresCountry(t *testing.T) {
	d, _ := newDesk(t)
	pt := "PT"
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Loja", Country: &pt})
	if err != nil {
		t.Fatal(err)
	}
	a := ingest(t, d, desk.Inbound{Channel: "api", StoreID: &st.ID, From: store.Identity{Kind: "phone", Value: "912 345 678"}, Text: "olá"})
	b := ingest(t, d, desk.Inbound{Channel: "api", From: store.Identity{Kind: "phone", Value: "+351912345678"}, Text: "again"})
	if a.Ticket.CustomerID != b.Ticket.CustomerID {
		t.Fatalf("local and international forms are two customers: %d %d", a.Ticket.CustomerID, b.Ticket.CustomerID)
	}
	if _, err := d.Ingest(ctx, desk.Inbound{Channel: "api", From: store.Identity{Kind: "phone", Value: "912 345 678"}, Text: "no store"}); err == nil {
		t.Fatal("a local number without a store's country was accepted")
	}
	bad := "Atlantis"
	if _, err := d.SaveStore(ctx, st.ID, desk.StoreInput{Country: &bad}); fieldOf(err) != "country" {
		t.Fatalf("bad country: %v", err)
	}
}

func TestMergeAndUnmergeCustomers(t *testing.T) {
	d, db := newDesk(t)
	a := agent(t, d, "ann@shop.test", "admin")
	actor := desk.AgentActor(a.ID)
	mail := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Name: "Rui", Subject: "Order", Text: "where is 1001?", ExternalID: "m1@x"})
	mail2 := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Subject: "Invoice", Text: "and the invoice", ExternalID: "m2@x"})
	insta := ingest(t, d, desk.Inbound{Channel: "api", From: store.Identity{Kind: "instagram", Value: "rui.pt"}, Identities: []store.Identity{{Kind: "phone", Value: "+351912345678"}}, Text: "hi from instagram"})
	keep, away := mail.Ticket.CustomerID, insta.Ticket.CustomerID
	if keep == away {
		t.Fatal("two identities were one customer before the merge")
	}
	before := messages(t, db, mail.Ticket.ID, mail2.Ticket.ID, insta.Ticket.ID)

	if _, err := d.MergeCustomers(ctx, keep, keep, actor); fieldOf(err) != "customer_id" {
		t.Fatalf("self merge: %v", err)
	}
	if _, err := d.MergeCustomers(ctx, keep, 999, actor); fieldOf(err) != "customer_id" {
		t.Fatalf("merge of nobody: %v", err)
	}
	m, err := d.MergeCustomers(ctx, keep, away, actor)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Identities) != 2 || !slices.Equal(m.Tickets, []int64{insta.Ticket.ID}) {
		t.Fatalf("merge moved %+v", m)
	}
	c, _ := db.Customer(ctx, keep)
	if len(c.Identities) != 3 || c.Name != "Rui" {
		t.Fatalf("kept customer %+v", c)
	}
	gone, _ := db.Customer(ctx, away)
	if gone.MergedInto == nil || *gone.MergedInto != keep {
		t.Fatalf("merged-away customer %+v", gone)
	}
	tk, _ := db.Ticket(ctx, insta.Ticket.ID)
	if tk.CustomerID != keep || !strings.Contains(events(t, db, tk.ID), "merged/") {
		t.Fatalf("ticket after merge: customer %d, events %s", tk.CustomerID, events(t, db, tk.ID))
	}
	for _, cid := range []int64{keep, away} {
		evs, _ := db.CustomerEvents(ctx, cid)
		if len(evs) != 1 || evs[0].Type != "merged" {
			t.Fatalf("customer %d events %+v", cid, evs)
		}
	}
	// The next message from the merged-away identity lands on the kept customer.
	again := ingest(t, d, desk.Inbound{Channel: "api", From: store.Identity{Kind: "instagram", Value: "rui.pt"}, Text: "me again"})
	if again.Ticket.CustomerID != keep {
		t.Fatalf("after merge the instagram message is customer %d", again.Ticket.CustomerID)
	}
	// One timeline across channels, newest first.
	tl, err := db.CustomerTimeline(ctx, keep, 0, 50)
	if err != nil || len(tl) != 4 || tl[0].Body != "me again" || tl[3].Body != "where is 1001?" {
		t.Fatalf("timeline %d %v", len(tl), err)
	}
	if _, err := d.MergeCustomers(ctx, keep, away, actor); fieldOf(err) != "customer_id" {
		t.Fatalf("second merge of the same customer: %v", err)
	}

	// Unmerge: an identity the customer always had cannot be split off.
	if _, err := d.UnmergeIdentity(ctx, keep, email("rui@example.pt"), actor); fieldOf(err) != "value" {
		t.Fatalf("unmerge of an original identity: %v", err)
	}
	u, err := d.UnmergeIdentity(ctx, keep, store.Identity{Kind: "instagram", Value: "@Rui.PT"}, actor)
	if err != nil {
		t.Fatal(err)
	}
	if u.MergedID != away {
		t.Fatalf("unmerge %+v", u)
	}
	back, _ := db.Customer(ctx, away)
	if back.MergedInto != nil || len(back.Identities) != 2 {
		t.Fatalf("split-off customer %+v", back)
	}
	tk, _ = db.Ticket(ctx, insta.Ticket.ID)
	if tk.CustomerID != away || !strings.Contains(events(t, db, tk.ID), "unmerged/") {
		t.Fatalf("ticket after unmerge: customer %d", tk.CustomerID)
	}
	// The ticket opened after the merge stays with the kept customer.
	if tk, _ := db.Ticket(ctx, again.Ticket.ID); tk.CustomerID != keep {
		t.Fatalf("the ticket made after the merge moved: %d", tk.CustomerID)
	}
	if _, err := d.UnmergeIdentity(ctx, keep, store.Identity{Kind: "instagram", Value: "rui.pt"}, actor); fieldOf(err) != "value" {
		t.Fatalf("second unmerge: %v", err)
	}
	after := messages(t, db, mail.Ticket.ID, mail2.Ticket.ID, insta.Ticket.ID)
	if after != before {
		t.Fatalf("messages changed:\n%s\n%s", before, after)
	}

	// A merge whose identity has moved on since cannot be undone blindly.
	third := ingest(t, d, desk.Inbound{From: email("third@x.test"), Text: "third"})
	if _, err := d.MergeCustomers(ctx, keep, away, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := d.MergeCustomers(ctx, third.Ticket.CustomerID, keep, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := d.UnmergeIdentity(ctx, keep, store.Identity{Kind: "instagram", Value: "rui.pt"}, actor); fieldOf(err) != "id" {
		t.Fatalf("unmerge on a customer merged away: %v", err)
	}
	// Whoever had been merged into keep now leads to third directly.
	if c, _ := db.Customer(ctx, away); c.MergedInto == nil || *c.MergedInto != third.Ticket.CustomerID {
		t.Fatalf("merge chain: %+v", c)
	}
}

func messages(t *testing.T, db *store.DB, ids ...int64) string {
	var out []string
	for _, id := range ids {
		list, err := db.Messages(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range list {
			out = append(out, m.Body)
		}
	}
	return strings.Join(out, "|")
}

func TestMergeTickets(t *testing.T) {
	d, db := newDesk(t)
	a := agent(t, d, "ann@shop.test", "admin")
	actor := desk.AgentActor(a.ID)
	one := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Subject: "Order 1001", Text: "where is it?", ExternalID: "m1@x", Tags: []string{"order"}})
	two := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Subject: "Order 1001 again", Text: "still waiting", ExternalID: "m2@x", Tags: []string{"late"}})
	other := ingest(t, d, desk.Inbound{From: email("eva@example.pt"), Text: "hello"})
	if err := d.MergeTickets(ctx, one.Ticket.ID, other.Ticket.ID, actor); fieldOf(err) != "ticket_id" {
		t.Fatalf("merge of another customer's ticket: %v", err)
	}
	if err := d.MergeTickets(ctx, one.Ticket.ID, two.Ticket.ID, actor); err != nil {
		t.Fatal(err)
	}
	msgs, _ := db.Messages(ctx, one.Ticket.ID)
	if len(msgs) != 2 || msgs[1].Body != "still waiting" {
		t.Fatalf("merged thread %+v", msgs)
	}
	src, _ := db.Ticket(ctx, two.Ticket.ID)
	dst, _ := db.Ticket(ctx, one.Ticket.ID)
	if src.Status != "closed" || !slices.Equal(dst.Tags, []string{"late", "order"}) {
		t.Fatalf("after merge: source %s, tags %v", src.Status, dst.Tags)
	}
	if !strings.Contains(events(t, db, one.Ticket.ID), "merged/") || !strings.Contains(events(t, db, two.Ticket.ID), "merged/") {
		t.Fatal("merge events missing")
	}
	if err := d.MergeTickets(ctx, one.Ticket.ID, two.Ticket.ID, actor); fieldOf(err) != "ticket_id" {
		t.Fatalf("second merge: %v", err)
	}
	// An answer to the merged ticket's mail continues the merged thread.
	ans := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Text: "any news?", ThreadRefs: []string{"m2@x"}, ExternalID: "m3@x"})
	if ans.Ticket.ID != one.Ticket.ID {
		t.Fatalf("answer went to ticket %d, want %d", ans.Ticket.ID, one.Ticket.ID)
	}
}

func TestSearchCustomers(t *testing.T) {
	d, _ := newDesk(t)
	pt := "PT"
	st, _ := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Loja", Country: &pt})
	anna := ingest(t, d, desk.Inbound{From: email("anna.smith@example.com"), Name: "Anna Smith", Text: "hi"}).Ticket.CustomerID
	tagged := ingest(t, d, desk.Inbound{From: email("anna.smith+shop@example.com"), Text: "hi"}).Ticket.CustomerID
	joao := ingest(t, d, desk.Inbound{Channel: "api", StoreID: &st.ID, From: store.Identity{Kind: "phone", Value: "912 345 678"}, Name: "João Gonçalves", Text: "olá"}).Ticket.CustomerID
	fields, _ := json.Marshal(map[string]string{"order_number": "100234"})
	order := ingest(t, d, desk.Inbound{Channel: "form", From: email("eva@example.org"), Name: "Eva", Text: "broken", Fields: fields}).Ticket.CustomerID
	for q, want := range map[string][]int64{
		"anna":                        {tagged, anna},
		"smi":                         {tagged, anna},
		"Anna Smith":                  {tagged, anna}, // the address has both words
		"anna.smith@example.com":      {tagged, anna}, // with and without the +tag
		"anna.smith+shop@example.com": {tagged, anna},
		"joao":                        {joao}, // diacritics folded
		"gonç":                        {joao},
		"912 345 678":                 {joao}, // the local form, in the store's country
		"+351912345678":               {joao},
		"351912":                      {joao}, // digits by prefix
		"#100234":                     {order},
		"100234":                      {order},
		"nobody":                      {},
		"":                            {order, joao, tagged, anna},
	} {
		got, err := d.SearchCustomers(ctx, q, 0, 50)
		if err != nil {
			t.Fatalf("%q: %v", q, err)
		}
		var ids []int64
		for _, c := range got {
			ids = append(ids, c.ID)
		}
		if !slices.Equal(ids, want) && !(len(ids) == 0 && len(want) == 0) {
			t.Errorf("search %q = %v, want %v", q, ids, want)
		}
	}
	if _, err := d.SearchCustomers(ctx, strings.Repeat("x", 201), 0, 50); fieldOf(err) != "q" {
		t.Fatalf("long search: %v", err)
	}
	// Merged-away customers leave the results; page by cursor.
	if _, err := d.MergeCustomers(ctx, anna, tagged, desk.System); err != nil {
		t.Fatal(err)
	}
	got, _ := d.SearchCustomers(ctx, "anna", 0, 50)
	if len(got) != 1 || got[0].ID != anna || len(got[0].Identities) != 2 {
		t.Fatalf("after merge %+v", got)
	}
	page, _ := d.SearchCustomers(ctx, "", joao, 50)
	if len(page) != 1 || page[0].ID != anna {
		t.Fatalf("page after %d: %+v", joao, page)
	}
}

// Customer names and notes are edited, identities added; an identity
// someone else has is refused with the way out.
func TestCustomerEdits(t *testing.T) {
	d, db := newDesk(t)
	a := ingest(t, d, desk.Inbound{From: email("a@x.test"), Text: "a"}).Ticket.CustomerID
	ingest(t, d, desk.Inbound{From: email("b@x.test"), Text: "b"})
	name, notes := "  Ana   Lima ", "VIP; prefers WhatsApp"
	c, err := d.UpdateCustomer(ctx, a, desk.CustomerInput{Name: &name, Notes: &notes})
	if err != nil || c.Name != "Ana Lima" || c.Notes != notes {
		t.Fatalf("update %+v %v", c, err)
	}
	long := strings.Repeat("n", desk.MaxNotes+1)
	if _, err := d.UpdateCustomer(ctx, a, desk.CustomerInput{Notes: &long}); fieldOf(err) != "notes" {
		t.Fatalf("long notes: %v", err)
	}
	if c, _ := db.Customer(ctx, a); c.Notes != notes {
		t.Fatal("a refused edit changed the notes")
	}
	if _, err := d.AddIdentity(ctx, a, "phone", "+44 20 7946 0958", desk.System); err != nil {
		t.Fatal(err)
	}
	if _, err := d.AddIdentity(ctx, a, "email", "B@x.test", desk.System); fieldOf(err) != "value" || !strings.Contains(err.Error(), "merge") {
		t.Fatalf("taken identity: %v", err)
	}
	if _, err := d.AddIdentity(ctx, a, "phone", "12", desk.System); fieldOf(err) != "phone" {
		t.Fatalf("bad phone: %v", err)
	}
	got, _ := d.SearchCustomers(ctx, "+442079460958", 0, 10)
	if len(got) != 1 || got[0].ID != a {
		t.Fatalf("found by the added phone: %+v", got)
	}
}

// A visitor's claim on an address merges only when an answer proves the
// inbox: a keyed Message-ID of our reply, not one anyone could guess.
func TestClaimMergesOnlyOnProof(t *testing.T) {
	d, db := newDesk(t)
	owner := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Text: "earlier", ExternalID: "e1@x"}).Ticket.CustomerID
	visitor := store.Identity{Kind: "visitor", Value: "v123"}
	chat := ingest(t, d, desk.Inbound{Channel: "chat", From: visitor, Text: "hi, about my order"})
	if _, err := d.Identify(ctx, visitor, "Rui", "rui@example.pt"); err != nil {
		t.Fatal(err)
	}
	if c, _ := db.Customer(ctx, chat.Ticket.CustomerID); c.MergedInto != nil {
		t.Fatal("typing the address merged the visitor")
	}
	reply, err := d.Reply(ctx, desk.System, chat.Ticket.ID, desk.ReplyInput{Body: "We are on it"})
	if err != nil {
		t.Fatal(err)
	}
	guessed := fmt.Sprintf("onedesk.t%d.m%d@shop.test", chat.Ticket.ID, reply.ID)
	forged := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Text: "let me in", ThreadRefs: []string{guessed}, ExternalID: "f1@x"})
	if c, _ := db.Customer(ctx, chat.Ticket.CustomerID); c.MergedInto != nil || forged.Ticket.CustomerID != chat.Ticket.CustomerID {
		t.Fatalf("a guessable id merged the visitor (%+v), or the answer left the thread", c)
	}
	real, err := d.OutboundExternalID(ctx, chat.Ticket.ID, reply.ID, "shop.test")
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(real, strings.TrimSuffix(guessed, "@shop.test")+"@") {
		t.Fatalf("the id has no key: %s", real)
	}
	ans := ingest(t, d, desk.Inbound{From: email("rui@example.pt"), Text: "thanks", ThreadRefs: []string{real}, ExternalID: "a1@x"})
	if ans.Ticket.ID != chat.Ticket.ID || ans.Ticket.CustomerID != owner {
		t.Fatalf("proof: ticket %d of customer %d, want %d of %d", ans.Ticket.ID, ans.Ticket.CustomerID, chat.Ticket.ID, owner)
	}
	if c, _ := db.Customer(ctx, chat.Ticket.CustomerID); c.MergedInto == nil || *c.MergedInto != owner {
		t.Fatalf("visitor after proof %+v", c)
	}
}

// Every channel checks an address the same way: a domain with a dot,
// international domains and Unicode local parts allowed.
func TestNormalizeEmail(t *testing.T) {
	for in, want := range map[string]string{
		"Rui@Example.pt": "rui@example.pt", " ana@shop.co.uk ": "ana@shop.co.uk", "jürgen@müller.de": "jürgen@müller.de",
		"иван@пример.рф": "иван@пример.рф", "Ana <ana@example.com>": "ana@example.com", "a+tag@xn--mller-kva.de": "a+tag@xn--mller-kva.de",
	} {
		if got, err := desk.NormalizeEmail(in); err != nil || got != want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, in := range []string{"tom@bad", "joana@gmail", "joana@gmail.", "not-an-email", "a@b@c.com", "a@.com", "a@exa mple.com", "a@bad_host.com", "@example.com", "a@-x.com"} {
		_, err := desk.NormalizeEmail(in)
		if ie, ok := desk.IsInput(err); !ok || ie.Field != "email" {
			t.Errorf("NormalizeEmail(%q) accepted: %v", in, err)
		}
	}
	if _, err := desk.NormalizeEmail("tom@bad"); err.(*desk.InputError).Reason != desk.ReasonEmailDomain {
		t.Errorf("tom@bad: reason %v", err)
	}
}
