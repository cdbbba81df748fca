package ui_test

import (
	"encoding/base64"
	"fmt"
	"strings"
	"testing"
	"time"

	"onedesk/channels/email/emailtest"
	"onedesk/store"
	"onedesk/ui"
	"onedesk/webhooks/webhookstest"
)

type importAnswer struct {
	Imported int
	Skipped  int
	Errors   []struct {
		Index  int
		Error  string
		Field  string
		Status int
	}
	Customers, Tickets struct{ Created, Updated, Unchanged, Failed int }
	Messages           struct{ Added, Known int }
}

// importBatch is a small export of another helpdesk: two customers, and
// tickets whose messages are by the customer, an agent here (a reply and
// a note), a former agent and a colleague of the customer kept by name,
// one with a file.
func importBatch(day time.Time, file []byte) map[string]any {
	at := func(h int) string { return day.Add(time.Duration(h) * time.Hour).Format(time.RFC3339) }
	tickets := []any{}
	for i := range 3 {
		tickets = append(tickets, map[string]any{
			"external_id": fmt.Sprintf("zendesk:%d", 100+i), "subject": fmt.Sprintf("Parcel %d is late", i),
			"status": []string{"resolved", "open", "closed"}[i], "channel": "email", "tags": []string{"zendesk", "parcel"},
			"customer": map[string]any{"external_id": "zendesk:user:1"},
			"messages": []any{
				map[string]any{"external_id": fmt.Sprintf("zendesk:c:%d1", i), "author": map[string]any{"external_id": "zendesk:user:1", "name": "Carla"},
					"body": "Where is my parcel?", "created_at": at(i * 24),
					"attachments": []any{map[string]any{"filename": "label.pdf", "content_type": "application/pdf", "content_base64": base64.StdEncoding.EncodeToString(file)}}},
				map[string]any{"external_id": fmt.Sprintf("zendesk:c:%d2", i), "author": map[string]any{"email": "ann@shop.test", "name": "Ann"},
					"body": "It left the warehouse today.", "created_at": at(i*24 + 1)},
				map[string]any{"external_id": fmt.Sprintf("zendesk:c:%d3", i), "author": map[string]any{"email": "ann@shop.test"}, "internal": true,
					"body": "Courier confirmed.", "created_at": at(i*24 + 2)},
				map[string]any{"external_id": fmt.Sprintf("zendesk:c:%d4", i), "author": map[string]any{"email": "mia@old-desk.test", "name": "Mia", "role": "agent"},
					"body": "Following up: it arrives tomorrow.", "created_at": at(i*24 + 3)},
				map[string]any{"external_id": fmt.Sprintf("zendesk:c:%d5", i), "author": map[string]any{"name": "Carla's husband"},
					"html": "<p>Got it, <b>thanks</b>!<script>alert(1)</script></p>", "created_at": at(i*24 + 4)},
			},
		})
	}
	return map[string]any{
		"customers": []any{
			map[string]any{"external_id": "zendesk:user:1", "name": "Carla Client", "email": "carla@shop.test", "phone": "+420 777 123 456",
				"notes": "VIP since 2019", "created_at": day.Add(-48 * time.Hour).Format(time.RFC3339)},
			map[string]any{"external_id": "zendesk:user:2", "name": "Dan", "emails": []string{"dan@shop.test"}},
		},
		"tickets": tickets,
	}
}

// The import API: run twice it makes one copy; run again with new
// messages it appends only those; nothing is set off (no rule, SLA
// clock, webhook, acknowledgement); a hostile item is reported by its
// path and the rest of the batch lands.
func TestImportAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	agent := e.agent(admin, "ann@shop.test")
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop"}).json(t, &st)
	sink := emailtest.Mailbox(t, e.desk, st.ID, "help@shoes.test", "Shoe Shop")
	admin.must(201, "POST", "/api/rules", map[string]any{"name": "Tag new", "trigger": "created", "enabled": true,
		"actions": []map[string]any{{"type": "add_tags", "value": []string{"ruled"}}}})
	admin.must(201, "POST", "/api/sla-policies", map[string]any{"name": "All", "business_hours": false,
		"targets": map[string]any{"normal": map[string]any{"first_response": 3600, "resolution": 86400}}})
	recv := webhookstest.New(t)
	admin.must(201, "POST", "/api/webhooks", map[string]any{"name": "CRM", "url": recv.URL,
		"events": []string{"ticket.created", "message.created", "ticket.updated"}})

	agent.must(403, "POST", "/api/import", map[string]any{"tickets": []any{}})
	day := time.Date(2023, 3, 1, 9, 0, 0, 0, time.UTC)
	file := []byte("%PDF-1.4 a shipping label")
	batch := importBatch(day, file)
	var first, second importAnswer
	admin.must(200, "POST", "/api/import", batch).json(t, &first)
	if len(first.Errors) != 0 || first.Customers.Created != 2 || first.Tickets.Created != 3 || first.Messages.Added != 15 || first.Imported != 5 {
		t.Fatalf("first run: %+v", first)
	}
	admin.must(200, "POST", "/api/import", batch).json(t, &second)
	if len(second.Errors) != 0 || second.Imported != 0 || second.Skipped != 5 || second.Messages.Added != 0 || second.Messages.Known != 15 ||
		second.Customers.Unchanged != 2 || second.Tickets.Unchanged != 3 {
		t.Fatalf("second run: %+v", second)
	}
	tickets := everyTicket(t, e.db)
	customers, _ := e.desk.SearchCustomers(t.Context(), "", 0, 100)
	if len(tickets) != 3 || len(customers) != 2 {
		t.Fatalf("after two runs: %d tickets, %d customers; want 3 and 2", len(tickets), len(customers))
	}
	carla, err := e.db.Customer(t.Context(), tickets[0].CustomerID)
	if err != nil || carla.Name != "Carla Client" || len(carla.Identities) != 2 || carla.Notes != "VIP since 2019" || !carla.CreatedAt.Equal(day.Add(-48*time.Hour)) {
		t.Fatalf("customer %+v (%v)", carla, err)
	}
	files := 0
	for _, tk := range tickets {
		full, err := e.db.Messages(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(full) != 5 {
			t.Fatalf("ticket %d has %d messages, want 5", tk.ID, len(full))
		}
		kinds := []string{}
		for _, m := range full {
			kinds = append(kinds, m.Kind)
			files += len(m.Attachments)
		}
		if got := strings.Join(kinds, ","); got != "customer,agent,note,agent,customer" {
			t.Errorf("ticket %d kinds %s", tk.ID, got)
		}
		if full[1].AuthorID == nil || full[3].AuthorID != nil || full[3].From != "Mia <mia@old-desk.test>" || full[4].From != "Carla's husband" || full[4].Body != "Got it, thanks!" ||
			strings.Contains(full[4].HTML, "script") || !full[0].CreatedAt.Before(full[4].CreatedAt) || full[0].CreatedAt.Year() != 2023 {
			t.Errorf("ticket %d messages %+v", tk.ID, full)
		}
		if tk.SLA.PolicyID != nil || tk.SLA.FirstResponseDue != nil || strings.Contains(strings.Join(tk.Tags, ","), "ruled") || tk.AssigneeID != nil {
			t.Errorf("ticket %d was set off: sla %+v tags %v assignee %v", tk.ID, tk.SLA, tk.Tags, tk.AssigneeID)
		}
		if tk.CreatedAt.Year() != 2023 || tk.StoreID != nil {
			t.Errorf("ticket %d created %s", tk.ID, tk.CreatedAt)
		}
	}
	if files != 3 {
		t.Errorf("%d files stored, want 3 (one per ticket, once)", files)
	}
	statuses := map[string]bool{}
	for _, tk := range tickets {
		statuses[tk.Status] = true
	}
	if !statuses["resolved"] || !statuses["open"] || !statuses["closed"] {
		t.Errorf("statuses %v", statuses)
	}

	// A later run: ticket 101 has a new message and is now pending; the rest as before.
	later := importBatch(day, file)
	t1 := later["tickets"].([]any)[1].(map[string]any)
	t1["status"] = "pending"
	t1["messages"] = append(t1["messages"].([]any), map[string]any{"external_id": "zendesk:c:16", "author": map[string]any{"email": "carla@shop.test"},
		"body": "Still nothing here.", "created_at": day.Add(30 * time.Hour).Format(time.RFC3339)})
	var third importAnswer
	admin.must(200, "POST", "/api/import", later).json(t, &third)
	if len(third.Errors) != 0 || third.Tickets.Updated != 1 || third.Tickets.Unchanged != 2 || third.Messages.Added != 1 {
		t.Fatalf("third run: %+v", third)
	}
	if n := len(everyTicket(t, e.db)); n != 3 {
		t.Fatalf("%d tickets after the third run", n)
	}

	// Nothing was heard: no webhook, no mail; then a live ticket is.
	if err := e.hooks.Deliver(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if heard := recv.Lines(); len(heard) != 0 {
		t.Fatalf("the webhook heard of the import: %q", heard)
	}
	if got := sink.Messages(); len(got) != 0 {
		t.Fatalf("the SMTP server got %d messages from the import", len(got))
	}
	live := admin.newTicket("Live one", "live@shop.test")
	if err := e.hooks.Deliver(t.Context(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if heard := recv.Lines(); len(heard) == 0 || !strings.Contains(strings.Join(heard, "\n"), fmt.Sprint(live.ID)) {
		t.Fatalf("the webhook did not hear of a live ticket either: %q", heard)
	}

	// Hostile items: each refused with its path; the good one lands.
	huge := strings.Repeat("A", (10<<20)/3*4+400)
	hostile := map[string]any{
		"customers": []any{map[string]any{"external_id": "x:1", "email": "not an address"}},
		"tickets": []any{
			map[string]any{"external_id": "x:t1", "subject": "Bad date", "customer": map[string]any{"email": "e@shop.test"},
				"messages": []any{map[string]any{"external_id": "x:m1", "author": map[string]any{"email": "e@shop.test"}, "body": "hi", "created_at": "yesterday"}}},
			map[string]any{"external_id": "x:t2", "subject": "Huge file", "customer": map[string]any{"email": "e@shop.test"},
				"messages": []any{
					map[string]any{"external_id": "x:m2", "author": map[string]any{"email": "e@shop.test"}, "body": "hi", "created_at": day.Format(time.RFC3339)},
					map[string]any{"external_id": "x:m3", "author": map[string]any{"email": "e@shop.test"}, "body": "file", "created_at": day.Format(time.RFC3339),
						"attachments": []any{map[string]any{"filename": "big.bin", "content_base64": huge}}}}},
			map[string]any{"external_id": "x:t3", "subject": "Unknown author", "customer": map[string]any{"email": "e@shop.test"},
				"messages": []any{map[string]any{"external_id": "x:m4", "author": map[string]any{"external_id": "zendesk:user:999"}, "body": "hi", "created_at": day.Format(time.RFC3339)}}},
			map[string]any{"external_id": "x:t4", "subject": "Fine", "customer": map[string]any{"email": "e@shop.test", "name": "Eve"},
				"messages": []any{map[string]any{"external_id": "x:m5", "author": map[string]any{"email": "e@shop.test"}, "body": "All good", "created_at": day.Format(time.RFC3339)}}},
			map[string]any{"external_id": "x:t5", "subject": "Future", "customer": map[string]any{"email": "e@shop.test"},
				"messages": []any{map[string]any{"external_id": "x:m6", "author": map[string]any{"email": "e@shop.test"}, "body": "hi", "created_at": "2999-01-01T00:00:00Z"}}},
			map[string]any{"external_id": "x:t6", "subject": "No status", "status": "solved", "customer": map[string]any{"email": "e@shop.test"},
				"messages": []any{map[string]any{"external_id": "x:m7", "author": map[string]any{"email": "e@shop.test"}, "body": "hi", "created_at": day.Format(time.RFC3339)}},
				"colour":   "red"},
		},
	}
	var bad importAnswer
	admin.must(200, "POST", "/api/import", hostile).json(t, &bad)
	want := map[string]int{
		"customers[0].emails[0]":                    400,
		"tickets[0].messages[0].created_at":         400,
		"tickets[1].messages[1].attachments[0]":     413,
		"tickets[2].messages[0].author.external_id": 400,
		"tickets[4].messages[0].created_at":         400,
		"tickets[5].colour":                         400,
	}
	if bad.Imported != 1 || bad.Tickets.Created != 1 || len(bad.Errors) != len(want) {
		t.Fatalf("hostile batch: %+v", bad)
	}
	for _, e := range bad.Errors {
		if want[e.Field] != e.Status || e.Error == "" {
			t.Errorf("error %+v not expected (want %v)", e, want)
		}
	}
	if n := len(everyTicket(t, e.db)); n != 5 { // 3 imported, the live one, Eve's
		t.Fatalf("%d tickets after the hostile batch, want 5", n)
	}

	// One ticket twice in one request (its tickets go in at once): one
	// ticket with the messages of both.
	twice := func(msg string) map[string]any {
		return map[string]any{"external_id": "x:twice", "subject": "Twice", "customer": map[string]any{"email": "f@shop.test"},
			"messages": []any{map[string]any{"external_id": "x:twice:" + msg, "author": map[string]any{"email": "f@shop.test"}, "body": msg, "created_at": day.Format(time.RFC3339)}}}
	}
	var both importAnswer
	admin.must(200, "POST", "/api/import", map[string]any{"tickets": []any{twice("a"), twice("b"), twice("a")}}).json(t, &both)
	if len(both.Errors) != 0 || both.Tickets.Created != 1 || both.Messages.Added != 2 {
		t.Fatalf("one ticket three times: %+v", both)
	}

	// Past the limits: too many tickets, too large a body.
	many := make([]any, 501)
	for i := range many {
		many[i] = map[string]any{}
	}
	if _, field := admin.must(400, "POST", "/api/import", map[string]any{"tickets": many}).err(t); field != "tickets" {
		t.Errorf("501 tickets: field %q", field)
	}
	admin.must(413, "POST", "/api/import", `{"tickets": [], "pad": "`+strings.Repeat("x", 26<<20)+`"}`)

	// The run is on the audit log, with counts.
	var log struct {
		Entries []struct {
			Kind string
			Data map[string]any
		}
	}
	admin.must(200, "GET", "/api/audit", nil).json(t, &log)
	runs := 0
	for _, en := range log.Entries {
		if en.Kind == "import.ran" {
			runs++
		}
	}
	if runs != 5 {
		t.Errorf("%d import runs on the audit log, want 5", runs)
	}
}

// everyTicket lists every ticket, whatever its status, oldest first.
func everyTicket(t *testing.T, db *store.DB) []store.Ticket {
	t.Helper()
	list, _, err := db.ListTickets(t.Context(), store.TicketFilter{Limit: 200, Sort: "oldest"})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// A CSV of customers: a byte order mark and ; separators (Excel's in much
// of Europe), its rows matched to the customers who own their addresses
// (one customer, one record), a preview first, rows that cannot be
// imported skipped with their row number and reason.
func TestCustomersCSVImport(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.newTicket("Hello", "carla@shop.test") // Carla exists, without a name's change
	csv := "\ufeffJméno;E-mail;Telefon;Město;VIP\r\n" +
		"Carla Client;CARLA@shop.test;+420 777 123 456;Praha;ano\r\n" +
		"Dan Dvořák;dan@shop.test;;Brno;\r\n" +
		";;;;\r\n" +
		"Nobody;;;Ostrava;\r\n" +
		"Eve;not-an-address;;;\r\n" +
		"\"Dan, again\";dan@shop.test;;\"Brno;\nSouth\";\r\n"
	var pv struct {
		Delimiter string
		Header    []string
		Rows      [][]string
		Total     int
		Mapping   struct {
			Name, Email, Phone *int
			Notes              []int
		}
	}
	admin.must(200, "POST", "/api/customers/import/preview", map[string]any{"csv": csv}).json(t, &pv)
	if pv.Delimiter != ";" || pv.Header[0] != "Jméno" || pv.Total != 5 || len(pv.Rows) != 5 || pv.Rows[0][1] != "CARLA@shop.test" {
		t.Fatalf("preview %+v", pv)
	}
	if pv.Mapping.Name == nil || *pv.Mapping.Name != 0 || *pv.Mapping.Email != 1 || *pv.Mapping.Phone != 2 || fmt.Sprint(pv.Mapping.Notes) != "[3 4]" {
		t.Fatalf("guessed mapping %+v", pv.Mapping)
	}
	type summary struct {
		Created, Updated, Unchanged int
		Skipped                     []struct {
			Row           int
			Field, Reason string
		}
	}
	var sum summary
	body := map[string]any{"csv": csv, "mapping": map[string]any{"name": 0, "email": 1, "phone": 2, "notes": []int{3, 4}}}
	admin.must(200, "POST", "/api/customers/import", body).json(t, &sum)
	if sum.Created != 1 || sum.Updated != 2 || len(sum.Skipped) != 2 || sum.Skipped[0].Row != 5 || sum.Skipped[1].Row != 6 || sum.Skipped[1].Field != "email" {
		t.Fatalf("summary %+v", sum)
	}
	list, err := e.desk.SearchCustomers(t.Context(), "", 0, 100)
	if err != nil || len(list) != 2 {
		t.Fatalf("%d customers (%v), want Carla and Dan once each", len(list), err)
	}
	for _, c := range list {
		full, _ := e.db.Customer(t.Context(), c.ID)
		switch full.Name {
		case "Carla Customer": // her name is kept
			if len(full.Identities) != 2 || full.Notes != "Město: Praha\nVIP: ano" {
				t.Errorf("Carla %+v", full)
			}
		case "Dan Dvořák":
			if full.Notes != "Město: Brno\n\nMěsto: Brno; South" {
				t.Errorf("Dan's notes %q", full.Notes)
			}
		default:
			t.Errorf("customer %+v", full)
		}
	}
	// Again: nothing new, no duplicates; and in Czech.
	admin.lang = "cs"
	admin.must(200, "POST", "/api/customers/import", body).json(t, &sum)
	if sum.Created != 0 || sum.Updated != 0 || sum.Unchanged != 3 || len(sum.Skipped) != 2 || strings.Contains(sum.Skipped[0].Reason, "phone number") {
		t.Fatalf("second run %+v", sum)
	}
	// Refused as a whole: no address column, an agent of some stores, too often.
	if _, field := admin.must(400, "POST", "/api/customers/import", map[string]any{"csv": csv, "mapping": map[string]any{"name": 0}}).err(t); field != "mapping" {
		t.Errorf("no address column: field %q", field)
	}
	if _, field := admin.must(400, "POST", "/api/customers/import/preview", map[string]any{"csv": "\ufeff \n"}).err(t); field != "csv" {
		t.Errorf("empty file: field %q", field)
	}
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop"}).json(t, &st)
	limited := e.join(admin, map[string]any{"email": "lu@shop.test", "name": "Lu", "role": "agent", "store_ids": []int64{st.ID}})
	limited.must(403, "POST", "/api/customers/import", body)
	e.agent(admin, "ann@shop.test").must(200, "POST", "/api/customers/import/preview", body)
	codes := map[int]int{}
	for range 10 { // five in a row are allowed, then one each 10 s
		codes[admin.do("POST", "/api/customers/import", body).status]++
	}
	if codes[429] == 0 {
		t.Errorf("ten imports in a row: %v, want some refused with 429", codes)
	}
}

// A CSV saved by an older Excel (Windows-1252, tabs), sent as its bytes,
// reads as its text.
func TestCustomersCSVWindows1252(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	csv := "Name\tEmail\tCity\r\nJos\xe9 Mu\xf1oz\tjose@example.com\tM\xe1laga\r\n"
	var pv struct {
		Delimiter string
		Rows      [][]string
	}
	admin.must(200, "POST", "/api/customers/import/preview", map[string]any{"csv_base64": base64.StdEncoding.EncodeToString([]byte(csv))}).json(t, &pv)
	if pv.Delimiter != "\t" || len(pv.Rows) != 1 || pv.Rows[0][0] != "José Muñoz" || pv.Rows[0][2] != "Málaga" {
		t.Fatalf("preview %+v", pv)
	}
}
