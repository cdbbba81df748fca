package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/orders/orderstest"
	"onedesk/store"
	"onedesk/ui"
)

// A customer writes through a form, then chats (and gives the same
// address), and answers the chat reply from their inbox: one customer,
// three tickets, one timeline. The chat is linked only once the answer
// proves the inbox is theirs.
func TestChatEmailFormStoryIsOneCustomer(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ctx := context.Background()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "my-shop", "country": "PT"})
	sink := emailtest.Mailbox(t, e.desk, 1, "help@shoes.test", "Shoe Shop")
	admin.must(201, "POST", "/api/forms", map[string]any{"store_id": 1, "slug": "contact", "title": "Contact", "fields": []map[string]any{
		{"name": "email", "label": "Email", "type": "email", "required": true},
		{"name": "phone", "label": "Phone", "type": "phone"},
		{"name": "order_number", "label": "Order", "type": "order"},
		{"name": "message", "label": "Message", "type": "textarea", "required": true}}})

	// 1. The form: a phone written the Portuguese way.
	res, err := http.Post(e.srv.URL+"/f/contact", "application/json",
		strings.NewReader(`{"email":"Rui@Example.pt","phone":"912 345 678","order_number":"1001","message":"My shoes are too small."}`))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("form post: %v %v", res.StatusCode, err)
	}
	res.Body.Close()
	var found struct{ Customers []store.Customer }
	admin.must(200, "GET", "/api/customers?q=1001", nil).json(t, &found)
	if len(found.Customers) != 1 {
		t.Fatalf("search by order number: %+v", found)
	}
	rui := found.Customers[0]
	admin.must(200, "GET", "/api/customers?q="+urlq("+351 912 345 678"), nil).json(t, &found)
	if len(found.Customers) != 1 || found.Customers[0].ID != rui.ID {
		t.Fatalf("search by phone: %+v", found)
	}

	// 2. The chat: the visitor gives the same address; not trusted yet.
	wsctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(wsctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/chat/ws?store=my-shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	frames := func(want string) map[string]any {
		for {
			_, b, err := conn.Read(wsctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			var f map[string]any
			json.Unmarshal(b, &f)
			if f["type"] == want {
				return f
			}
		}
	}
	send := func(v map[string]any) {
		b, _ := json.Marshal(v)
		if err := conn.Write(wsctx, websocket.MessageText, b); err != nil {
			t.Fatal(err)
		}
	}
	send(map[string]any{"type": "hello", "page": "https://shop.test/shoes"})
	frames("welcome")
	send(map[string]any{"type": "msg", "cid": "1", "text": "Can I swap for size 43?"})
	frames("ack")
	send(map[string]any{"type": "identify", "name": "Rui", "email": "rui@example.pt"})
	frames("identified")
	conn.Close(websocket.StatusNormalClosure, "")

	var profile struct {
		store.Customer
		Tickets     []store.Ticket
		Suggestions []store.Suggestion
	}
	admin.must(200, "GET", fmt.Sprintf("/api/customers/%d", rui.ID), nil).json(t, &profile)
	if len(profile.Tickets) != 1 || len(profile.Suggestions) != 1 || profile.Suggestions[0].Reason != "claimed" {
		t.Fatalf("before proof: %d tickets, suggestions %+v", len(profile.Tickets), profile.Suggestions)
	}
	visitor := profile.Suggestions[0].CustomerID
	var chatTicket int64
	var list struct{ Tickets []store.Ticket }
	admin.must(200, "GET", "/api/tickets?channel=chat", nil).json(t, &list)
	chatTicket = list.Tickets[0].ID

	// 3. The agent answers; the visitor has gone, so it goes by email.
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", chatTicket), map[string]any{"body": "Yes, we will send 43."})
	var sent string
	for deadline := time.Now().Add(10 * time.Second); sent == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range sink.Messages() {
			if strings.Contains(m, "Yes, we will send 43.") {
				sent = m
			}
		}
	}
	msgID := regexp.MustCompile(`(?im)^Message-Id:\s*<([^>]+)>`).FindStringSubmatch(sent)
	if msgID == nil || !strings.Contains(sent, "rui@example.pt") {
		t.Fatalf("the chat reply did not go to the claimed address:\n%s", sent)
	}

	// 4. Rui answers from that inbox: the claim is proven, the chat joins him.
	ans, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "rui@example.pt"},
		Subject: "Re: chat", Text: "Great, thanks!", ExternalID: "ans1@example.pt", ThreadRefs: []string{msgID[1]}})
	if err != nil {
		t.Fatal(err)
	}
	if ans.Ticket.ID != chatTicket || ans.Ticket.CustomerID != rui.ID {
		t.Fatalf("answer went to ticket %d of customer %d", ans.Ticket.ID, ans.Ticket.CustomerID)
	}
	// 5. A week later, a new email.
	if _, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "RUI@example.pt"},
		Subject: "Refund?", Text: "The 43 fits, but I was charged twice.", ExternalID: "new1@example.pt"}); err != nil {
		t.Fatal(err)
	}

	admin.must(200, "GET", fmt.Sprintf("/api/customers/%d", rui.ID), nil).json(t, &profile)
	channels := map[string]bool{}
	for _, tk := range profile.Tickets {
		channels[tk.Channel] = true
	}
	if len(profile.Tickets) != 3 || len(channels) != 3 || len(profile.Suggestions) != 0 {
		t.Fatalf("after the story: tickets %+v, suggestions %+v", profile.Tickets, profile.Suggestions)
	}
	var tl struct {
		Items []struct {
			Body, Channel, Kind string
			TicketID            int64 `json:"ticket_id"`
		}
	}
	admin.must(200, "GET", fmt.Sprintf("/api/customers/%d/timeline", rui.ID), nil).json(t, &tl)
	var bodies []string
	for _, it := range tl.Items {
		bodies = append(bodies, it.Channel+":"+it.Body)
	}
	want := "email:The 43 fits, but I was charged twice.|email:Great, thanks!|chat:Yes, we will send 43.|chat:Can I swap for size 43?|form:My shoes are too small."
	if strings.Join(bodies, "|") != want {
		t.Fatalf("timeline:\n%s\nwant\n%s", strings.Join(bodies, "|"), want)
	}
	// The visitor's old id leads to Rui.
	r := admin.do("GET", fmt.Sprintf("/api/customers/%d", visitor), nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"id":`+fmt.Sprint(rui.ID)) {
		t.Fatalf("merged-away id: %d %s", r.status, r.body)
	}
}

func urlq(s string) string { return strings.NewReplacer("+", "%2B", " ", "%20", "#", "%23").Replace(s) }

// The customer API: edits, merge and unmerge, bad input with its field.
func TestCustomersAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	a := admin.newTicket("Order", "ana@example.com")
	b := admin.newTicket("Other", "ana.lima@work.example")
	admin.must(200, "PATCH", fmt.Sprintf("/api/customers/%d", a.CustomerID), map[string]any{"name": "Ana Lima", "notes": "Prefers email"})
	if msg, field := admin.must(400, "PATCH", fmt.Sprintf("/api/customers/%d", a.CustomerID), map[string]any{"notes": strings.Repeat("x", 10001)}).err(t); field != "notes" {
		t.Fatalf("long notes: %s %s", msg, field)
	}
	if _, field := admin.must(400, "POST", fmt.Sprintf("/api/customers/%d/identities", a.CustomerID), map[string]any{"kind": "email", "value": "ana.lima@work.example"}).err(t); field != "value" {
		t.Fatalf("taken identity field %s", field)
	}
	admin.must(201, "POST", fmt.Sprintf("/api/customers/%d/identities", a.CustomerID), map[string]any{"kind": "instagram", "value": "@ana.lima"})
	if _, field := admin.must(400, "POST", fmt.Sprintf("/api/customers/%d/merge", a.CustomerID), map[string]any{"customer_id": 999}).err(t); field != "customer_id" {
		t.Fatalf("merge of nobody: %s", field)
	}
	admin.must(404, "POST", "/api/customers/999/merge", map[string]any{"customer_id": b.CustomerID})
	admin.must(200, "POST", fmt.Sprintf("/api/customers/%d/merge", a.CustomerID), map[string]any{"customer_id": b.CustomerID})
	var c struct {
		store.Customer
		Tickets []store.Ticket
		Events  []store.CustomerEvent
	}
	admin.must(200, "GET", fmt.Sprintf("/api/customers/%d", b.CustomerID), nil).json(t, &c)
	if c.ID != a.CustomerID || len(c.Tickets) != 2 || len(c.Identities) != 3 || c.Notes != "Prefers email" || c.Events[len(c.Events)-1].Type != "merged" {
		t.Fatalf("after merge: %+v", c)
	}
	if _, field := admin.must(400, "POST", fmt.Sprintf("/api/customers/%d/unmerge", a.CustomerID), map[string]any{"kind": "email", "value": "ana@example.com"}).err(t); field != "value" {
		t.Fatalf("unmerge of an original identity: %s", field)
	}
	admin.must(200, "POST", fmt.Sprintf("/api/customers/%d/unmerge", a.CustomerID), map[string]any{"kind": "email", "value": "ana.lima@work.example"})
	admin.must(200, "GET", fmt.Sprintf("/api/customers/%d", b.CustomerID), nil).json(t, &c)
	if c.ID != b.CustomerID || len(c.Tickets) != 1 {
		t.Fatalf("after unmerge: %+v", c)
	}
	// Ticket merge is for one customer's tickets.
	a2 := admin.newTicket("Order again", "ana@example.com")
	if _, field := admin.must(400, "POST", fmt.Sprintf("/api/tickets/%d/merge", a.ID), map[string]any{"ticket_id": b.ID}).err(t); field != "ticket_id" {
		t.Fatalf("merge of another's ticket: %s", field)
	}
	admin.must(204, "POST", fmt.Sprintf("/api/tickets/%d/merge", a.ID), map[string]any{"ticket_id": a2.ID})
}

// ruiShop is the Shopify stand-in (orders/orderstest) holding two
// orders of Rui's: #1001 (email, phone, a parcel with a tracking link)
// and #0998 (refunded).
func ruiShop(t *testing.T) *orderstest.Shopify {
	return orderstest.NewShopify(t, "shpat_secret",
		&orderstest.ShopifyOrder{ID: 5501, Name: "#1001", Email: "rui@example.pt", Phone: "+351912345678", Currency: "EUR", Country: "PT",
			CreatedAt: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Fulfilled: true,
			Lines:    []orderstest.ShopifyLine{{ID: 1, Variant: 11, Title: "Runner 42", SKU: "RUN-42", Quantity: 1, Price: 89.90}},
			Tracking: []orderstest.ShopifyTracking{{Company: "CTT", Number: "RR123456789PT", URL: "https://track.example/RR123456789PT"}}},
		&orderstest.ShopifyOrder{ID: 5400, Name: "#0998", Email: "rui@example.pt", Currency: "EUR", Country: "PT",
			CreatedAt: time.Date(2026, 9, 1, 10, 0, 0, 0, time.UTC), Refunded: 20,
			Lines: []orderstest.ShopifyLine{{ID: 2, Variant: 12, Title: "Socks", Quantity: 1, Price: 20}}})
}

// Orders beside a ticket, from a local server that answers like Shopify's
// Admin GraphQL API (throttling and a 5xx included) and from a generic
// lookup URL; the token stays on the server.
func TestTicketOrders(t *testing.T) {
	shopify := ruiShop(t)
	lastQuery := func() string {
		calls := shopify.Calls()
		q, _ := calls[len(calls)-1].Variables["q"].(string)
		return q
	}
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st store.Store
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoes", "orders": map[string]any{"shopify_domain": shopify.URL, "shopify_token": "shpat_secret"}}).json(t, &st)
	if !st.Orders.TokenSet || strings.Contains(string(admin.must(200, "GET", "/api/stores", nil).body), "shpat_secret") {
		t.Fatal("the token is not set, or it leaves the server")
	}
	if _, field := admin.must(400, "PATCH", fmt.Sprintf("/api/stores/%d", st.ID), map[string]any{"orders": map[string]any{"shopify_domain": "not a shop"}}).err(t); field != "orders.shopify_domain" {
		t.Fatalf("bad domain field %q", field)
	}
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Where is #1001?", "body": "Hello, order #1001 did not come", "customer": map[string]any{"email": "rui@example.pt"}, "store_id": st.ID}).json(t, &tk)

	var out struct {
		Orders []struct {
			Number, Total, Currency, URL string
			Payment                      string `json:"payment_status"`
			Items                        []struct{ Title string }
			Tracking                     []struct{ Number, URL string }
		}
		NotConfigured bool `json:"not_configured"`
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).json(t, &out)
	if len(out.Orders) != 2 || out.Orders[0].Number != "#1001" || out.Orders[0].Payment != "paid" || out.Orders[0].Tracking[0].Number != "RR123456789PT" ||
		out.Orders[0].Items[0].Title != "Runner 42" || out.Orders[0].Total != "89.90" {
		t.Fatalf("orders %+v", out)
	}
	if q := lastQuery(); !strings.Contains(q, `email:"rui@example.pt"`) || !strings.Contains(q, `name:"#1001"`) {
		t.Fatalf("shopify search %q", q)
	}
	// Cached: a second look asks nobody.
	n := len(shopify.Calls())
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil)
	if len(shopify.Calls()) != n {
		t.Fatal("the second lookup was not served from the cache")
	}

	// Throttled: waits for the bucket and asks again. (A new ticket is a new query.)
	shopify.Throttle(1)
	n = len(shopify.Calls())
	var tk2 ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Another", "body": "order #2002?", "customer": map[string]any{"email": "rui@example.pt"}, "store_id": st.ID}).json(t, &tk2)
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk2.ID), nil).json(t, &out)
	if len(out.Orders) != 2 || len(shopify.Calls()) != n+2 {
		t.Fatalf("after throttling: %d orders, %d calls", len(out.Orders), len(shopify.Calls())-n)
	}

	// Down: a plain-words 502, and the ticket itself opens as always.
	shopify.Down(true)
	var tk3 ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Third", "body": "order #3003?", "customer": map[string]any{"email": "rui@example.pt"}, "store_id": st.ID}).json(t, &tk3)
	if msg, _ := admin.must(502, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk3.ID), nil).err(t); !strings.Contains(msg, "Shopify is not answering") {
		t.Fatalf("down: %q", msg)
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk3.ID), nil)

	// The generic lookup URL, with its secret as a bearer token.
	generic := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer s3cret" {
			w.WriteHeader(403)
			return
		}
		q := r.URL.Query()
		fmt.Fprintf(w, `{"orders":[{"number":"W-%s","created_at":"2026-10-10T09:00:00Z","total":"12.50","currency":"EUR","payment_status":"paid","fulfillment_status":"unfulfilled","items":[{"title":"Socks","quantity":2}],"tracking":[]}]}`,
			q.Get("order"))
		_ = q.Get("email")
	}))
	defer generic.Close()
	admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", st.ID), map[string]any{"orders": map[string]any{"lookup_url": generic.URL + "/orders", "lookup_secret": "wrong"}})
	if msg, _ := admin.must(502, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).err(t); !strings.Contains(msg, "refused") {
		t.Fatalf("wrong secret: %q", msg)
	}
	admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", st.ID), map[string]any{"orders": map[string]any{"lookup_url": generic.URL + "/orders", "lookup_secret": "s3cret"}})
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).json(t, &out)
	if len(out.Orders) != 1 || out.Orders[0].Number != "W-1001" || out.Orders[0].Items[0].Title != "Socks" {
		t.Fatalf("generic orders %+v", out)
	}
	// Placeholders use the customer and the latest order.
	vals, err := e.desk.Placeholders(context.Background(), tk.ID, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := desk.FillPlaceholders("Hi {{customer.first_name}}, order {{ order.number }} ({{order.total}}) {{nope}}", vals); got != "Hi , order W-1001 (12.50 EUR) {{nope}}" {
		t.Fatalf("placeholders: %q", got)
	}
	// No lookup set up: said, not failed.
	admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", st.ID), map[string]any{"orders": map[string]any{}})
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).json(t, &out)
	if !out.NotConfigured {
		t.Fatalf("not configured: %+v", out)
	}
}

// A reply on a ticket made through the API goes by email when it can;
// one that reached no one says why and where to fix it, never "sent".
func TestAPIReplyIsSentOrSaysWhyNot(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	api := admin.apiClient()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoes"})
	reply := func(ticket int64, body string) (delivery, reason string) {
		t.Helper()
		api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", ticket), map[string]any{"body": body})
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var got ticketJSON
			api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", ticket), nil).json(t, &got)
			for _, m := range got.Messages {
				if m.Body == body && m.Delivery != "queued" {
					return m.Delivery, m.Error
				}
			}
		}
		t.Fatalf("reply %q still queued", body)
		return "", ""
	}
	withEmail := api.newTicket("Where is it?", "ana@example.com")
	var byPhone ticketJSON
	api.must(201, "POST", "/api/tickets", map[string]any{"subject": "Call me", "body": "Please call",
		"customer": map[string]string{"phone": "+351912345678"}}).json(t, &byPhone)

	// No mailbox yet: not sent, and the reason names the screen.
	if d, why := reply(withEmail.ID, "It ships today."); d != "failed" || !strings.Contains(why, "Settings → Mailboxes") {
		t.Fatalf("no mailbox: %s %q", d, why)
	}
	if d, why := reply(byPhone.ID, "We will call."); d != "failed" || !strings.Contains(why, "no email address") {
		t.Fatalf("no address: %s %q", d, why)
	}
	// A mailbox of any store: the reply goes by email.
	sink := emailtest.Mailbox(t, e.desk, 1, "help@shoes.test", "Shoe Shop")
	if d, why := reply(withEmail.ID, "Tracking: PT123."); d != "sent" {
		t.Fatalf("with a mailbox: %s %q", d, why)
	}
	if got := strings.Join(sink.Messages(), "\n"); !strings.Contains(got, "Tracking: PT123.") || !strings.Contains(got, "ana@example.com") {
		t.Fatalf("mail: %s", got)
	}
}
