package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/ui"
)

// rolesAllowed is, for each access a route can need, the roles that may
// call it: written out here rather than read from desk/roles.go, so that
// the test says what each role is for. A route whose access is not here
// fails TestRoleRouteTable: every new route is given a permission.
var rolesAllowed = map[string][]string{
	"agent":                 {"admin", "supervisor", "agent", "light"},
	"tickets.note":          {"admin", "supervisor", "agent", "light"},
	"tickets.reply":         {"admin", "supervisor", "agent"},
	"tickets.edit":          {"admin", "supervisor", "agent"},
	"tickets.merge":         {"admin", "supervisor", "agent"},
	"customers.edit":        {"admin", "supervisor", "agent"},
	"customers.merge":       {"admin", "supervisor", "agent"},
	"reports.view":          {"admin", "supervisor", "agent"},
	"customers.export":      {"admin", "supervisor"},
	"settings.team":         {"admin", "supervisor"},
	"settings.rules":        {"admin", "supervisor"},
	"settings.channels":     {"admin"},
	"settings.desk":         {"admin"},
	"agents.manage":         {"admin"},
	"admin":                 {"admin"},
	"tickets.assign_others": {"admin", "supervisor", "agent"},
	"order_actions":         {"admin", "supervisor"}, // and agents granted it (TestOrderActionsAPI)
	"macros.shared":         {"admin", "supervisor"},
}

// member adds an agent with a role and stores (nil: all) and returns a
// logged-in browser of theirs.
func (e *env) member(admin *client, email, role string, stores []int64) *client {
	e.t.Helper()
	body := map[string]any{"email": email, "name": strings.Split(email, "@")[0], "role": role}
	if stores != nil {
		body["store_ids"] = stores
	}
	return e.join(admin, body)
}

// newStore adds a store named name.
func (c *client) newStore(name string) int64 {
	c.e.t.Helper()
	var st struct{ ID int64 }
	c.must(201, "POST", "/api/stores", map[string]any{"name": name, "slug": strings.ToLower(strings.ReplaceAll(name, " ", "-"))}).json(c.e.t, &st)
	return st.ID
}

// routePath fills a route's parameters with ids nothing has.
func routePath(path string) string {
	path = strings.ReplaceAll(path, ":id", "999999")
	return strings.ReplaceAll(path, ":name", "overview")
}

// TestRoleRouteTable walks the whole route table (ui/routes.go) for each
// role with real requests: a role without the route's permission gets
// 403, one with it gets past the check (whatever the handler then says
// of an id nothing has), and a caller without credentials gets 401.
func TestRoleRouteTable(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	callers := map[string]*client{"admin": admin.apiClient()}
	for _, role := range []string{"supervisor", "agent", "light"} {
		callers[role] = e.member(admin, role+"@shop.test", role, nil).apiClient()
	}
	anonymous := e.client()
	routes := ui.RouteTable()
	if len(routes) < 90 {
		t.Fatalf("the route table has %d routes", len(routes))
	}
	for _, r := range routes {
		if r.Access == "public" {
			continue
		}
		allowed, known := rolesAllowed[r.Access]
		if !known {
			t.Errorf("%s %s needs %q, which this test does not know: say which roles may call it in rolesAllowed", r.Method, r.Path, r.Access)
			continue
		}
		var body any
		if r.Method != "GET" {
			body = map[string]any{}
		}
		path := routePath(r.Path)
		if got := anonymous.do(r.Method, path, body); got.status != 401 {
			t.Errorf("%s %s without credentials: %d, want 401", r.Method, path, got.status)
		}
		for _, role := range []string{"light", "agent", "supervisor", "admin"} {
			got := callers[role].do(r.Method, path, body)
			switch may := slices.Contains(allowed, role); {
			case may && (got.status == 401 || got.status == 403):
				t.Errorf("%s %s as %s (%s): %d, want past the check: %s", r.Method, path, role, r.Access, got.status, got.body)
			case !may && got.status != 403:
				t.Errorf("%s %s as %s (%s): %d, want 403: %s", r.Method, path, role, r.Access, got.status, got.body)
			}
		}
	}
}

// Inside a route, what the role decides too: a light agent notes but
// neither replies nor changes the status; assigning to someone else
// needs tickets.assign_others and an assignee of the ticket's store.
func TestRolePermissionsInsideRoutes(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shopB := admin.newStore("Shop B")
	light := e.member(admin, "light@shop.test", "light", nil)
	var me struct {
		Agent       struct{ ID int64 }
		Permissions []string
	}
	light.must(200, "GET", "/api/me", nil).json(t, &me)
	if !slices.Equal(me.Permissions, []string{"tickets.note"}) {
		t.Fatalf("a light agent's permissions: %v", me.Permissions)
	}
	tk := admin.newTicket("Where is it?", "carla@mail.test")
	msgs := fmt.Sprintf("/api/tickets/%d/messages", tk.ID)
	light.must(201, "POST", msgs, map[string]any{"body": "Checked the warehouse", "internal": true})
	light.must(403, "POST", msgs, map[string]any{"body": "Hello Carla"})
	light.must(403, "POST", msgs, map[string]any{"body": "Hello", "kind": "customer"})
	light.must(403, "POST", msgs, map[string]any{"body": "Done", "internal": true, "status": "resolved"})
	light.must(403, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"status": "pending"})

	// An agent of shop B cannot be given a ticket of no store or shop A.
	bAgent := e.member(admin, "b@shop.test", "agent", []int64{shopB})
	var b struct{ Agent struct{ ID int64 } }
	bAgent.must(200, "GET", "/api/me", nil).json(t, &b)
	r := admin.must(400, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"assignee_id": b.Agent.ID})
	if _, field := r.err(t); field != "assignee_id" {
		t.Fatalf("assignee outside the ticket's store: field %q", field)
	}
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"assignee_id": me.Agent.ID})
}

// The last admin stays: not demoted to any other role, not deactivated;
// an admin works in every store.
func TestLastAdminGuard(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var me struct{ Agent struct{ ID int64 } }
	admin.must(200, "GET", "/api/me", nil).json(t, &me)
	self := fmt.Sprintf("/api/agents/%d", me.Agent.ID)
	for _, body := range []map[string]any{{"role": "supervisor"}, {"role": "light"}, {"active": false}} {
		if _, field := admin.must(400, "PATCH", self, body).err(t); field != "role" {
			t.Fatalf("%v of the last admin: field %q", body, field)
		}
	}
	shop := admin.newStore("Shop")
	if _, field := admin.must(400, "PATCH", self, map[string]any{"store_ids": []int64{shop}}).err(t); field != "store_ids" {
		t.Fatalf("an admin limited to a store: field %q", field)
	}
	// With a second admin, the first may step down to supervisor and be
	// limited to a store; the second is then the last.
	second := e.member(admin, "second@shop.test", "admin", nil)
	admin.must(200, "PATCH", self, map[string]any{"role": "supervisor", "store_ids": []int64{shop}})
	var list struct {
		Agents []struct {
			ID       int64
			Role     string
			StoreIDs []int64 `json:"store_ids"`
		}
	}
	second.must(200, "GET", "/api/agents", nil).json(t, &list)
	for _, a := range list.Agents {
		if a.ID == me.Agent.ID && (a.Role != "supervisor" || !slices.Equal(a.StoreIDs, []int64{shop})) {
			t.Fatalf("the former admin: %+v", a)
		}
	}
	admin.must(403, "PATCH", self, map[string]any{"role": "admin"}) // supervisors do not manage agents
	var sid struct{ Agent struct{ ID int64 } }
	second.must(200, "GET", "/api/me", nil).json(t, &sid)
	second.must(400, "PATCH", fmt.Sprintf("/api/agents/%d", sid.Agent.ID), map[string]any{"role": "agent"})
	second.must(400, "PATCH", "/api/agents/"+fmt.Sprint(sid.Agent.ID), map[string]any{"role": "owner"})
}

// An agent of one store sees that store's tickets and customers only,
// everywhere they are read, and their socket carries nothing of another
// store while a ticket of it arrives.
func TestStoreIsolation(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	shopA, shopB := admin.newStore("Shop A"), admin.newStore("Shop B")
	open := func(store int64, subject, email string) ticketJSON {
		var tk ticketJSON
		admin.must(201, "POST", "/api/tickets", map[string]any{"subject": subject, "body": "The zebra lamp is broken",
			"store_id": store, "customer": map[string]string{"email": email, "name": subject}}).json(t, &tk)
		return tk
	}
	ta := open(shopA, "Lamp A", "anna@mail.test")
	tb := open(shopB, "Lamp B", "boris@mail.test")
	la := e.member(admin, "la@shop.test", "agent", []int64{shopA})

	ids := func(path string) []int64 {
		t.Helper()
		var page struct{ Tickets []struct{ ID int64 } }
		la.must(200, "GET", path, nil).json(t, &page)
		var out []int64
		for _, x := range page.Tickets {
			out = append(out, x.ID)
		}
		return out
	}
	for _, path := range []string{"/api/tickets", "/api/tickets?q=zebra", "/api/tickets?q=lamp&status=new,open",
		"/api/tickets?sort=newest", fmt.Sprintf("/api/tickets?store=%d", shopA)} {
		if got := ids(path); !slices.Equal(got, []int64{ta.ID}) {
			t.Errorf("%s: %v, want only %d", path, got, ta.ID)
		}
	}
	if got := ids(fmt.Sprintf("/api/tickets?store=%d", shopB)); len(got) != 0 {
		t.Errorf("the other store's view: %v", got)
	}
	var unread struct{ Counts map[string]int }
	la.must(200, "GET", "/api/views/unread", nil).json(t, &unread)
	if unread.Counts["open"] != 1 || unread.Counts[fmt.Sprintf("store:%d", shopA)] != 1 {
		t.Errorf("unread counts of the store's agent: %v", unread.Counts)
	}
	if _, ok := unread.Counts[fmt.Sprintf("store:%d", shopB)]; ok {
		t.Errorf("unread counts name the other store: %v", unread.Counts)
	}
	admin.must(200, "GET", "/api/views/unread", nil).json(t, &unread)
	if unread.Counts["open"] != 2 {
		t.Errorf("unread counts of the admin: %v", unread.Counts)
	}

	// The other store's ticket, its messages and its customer do not exist.
	la.must(200, "GET", fmt.Sprintf("/api/tickets/%d", ta.ID), nil)
	for _, c := range []struct{ method, path string }{
		{"GET", fmt.Sprintf("/api/tickets/%d", tb.ID)},
		{"PATCH", fmt.Sprintf("/api/tickets/%d", tb.ID)},
		{"POST", fmt.Sprintf("/api/tickets/%d/messages", tb.ID)},
		{"GET", fmt.Sprintf("/api/messages/%d/source", tb.Messages[0].ID)},
		{"GET", fmt.Sprintf("/api/customers/%d", tb.CustomerID)},
		{"GET", fmt.Sprintf("/api/customers/%d/timeline", tb.CustomerID)},
	} {
		if got := la.do(c.method, c.path, map[string]any{"body": "x"}); got.status != 404 {
			t.Errorf("%s %s: %d, want 404: %s", c.method, c.path, got.status, got.body)
		}
	}
	la.must(404, "POST", "/api/tickets/bulk", map[string]any{"ids": []int64{ta.ID, tb.ID}, "status": "pending"})
	la.must(404, "POST", fmt.Sprintf("/api/tickets/%d/merge", ta.ID), map[string]any{"ticket_id": tb.ID})
	la.must(404, "POST", fmt.Sprintf("/api/customers/%d/merge", ta.CustomerID), map[string]any{"customer_id": tb.CustomerID})

	var customers struct{ Customers []struct{ ID int64 } }
	for _, q := range []string{"", "?q=lamp", "?q=boris", "?q=boris@mail.test"} {
		la.must(200, "GET", "/api/customers"+q, nil).json(t, &customers)
		for _, c := range customers.Customers {
			if c.ID != ta.CustomerID {
				t.Errorf("customers%s: %d is not of the agent's store", q, c.ID)
			}
		}
	}
	la.must(200, "GET", "/api/customers", nil).json(t, &customers)
	if len(customers.Customers) != 1 {
		t.Errorf("customers of the store: %+v", customers.Customers)
	}
	var stores struct{ Stores []struct{ ID int64 } }
	la.must(200, "GET", "/api/stores", nil).json(t, &stores)
	if len(stores.Stores) != 1 || stores.Stores[0].ID != shopA {
		t.Errorf("stores: %+v", stores.Stores)
	}
	la.must(200, "GET", "/api/reports/overview", nil)
	la.must(400, "GET", fmt.Sprintf("/api/reports/overview?store=%d", shopB), nil)
	la.must(400, "POST", "/api/tickets", map[string]any{"subject": "x", "body": "y", "store_id": shopB,
		"customer": map[string]string{"email": "x@mail.test"}})

	// The feed: a new ticket of shop B, then one of shop A. The agent's
	// socket gets A's and, before it, nothing of B's; the admin's gets both.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	dial := func(c *client) *websocket.Conn {
		conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/agent/ws",
			&websocket.DialOptions{HTTPClient: c.http})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.CloseNow() })
		if _, _, err := conn.Read(ctx); err != nil { // hello
			t.Fatal(err)
		}
		return conn
	}
	laWS, adminWS := dial(la), dial(admin)
	tb2 := open(shopB, "Second B", "bea@mail.test")
	ta2 := open(shopA, "Second A", "alma@mail.test")
	// until reads frames until one is of ticket want, and lists the
	// tickets the frames before it were about.
	until := func(conn *websocket.Conn, want int64) []int64 {
		var seen []int64
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for ticket %d: %v (saw %v)", want, err, seen)
			}
			var f struct {
				Type     string
				TicketID int64 `json:"ticket_id"`
			}
			json.Unmarshal(b, &f)
			if f.TicketID == want {
				return seen
			}
			if f.TicketID != 0 {
				seen = append(seen, f.TicketID)
			}
		}
	}
	if seen := until(laWS, ta2.ID); slices.Contains(seen, tb2.ID) {
		t.Errorf("the store's agent was sent the other store's ticket %d: %v", tb2.ID, seen)
	}
	if seen := until(adminWS, ta2.ID); !slices.Contains(seen, tb2.ID) {
		t.Errorf("the admin was not sent ticket %d: %v", tb2.ID, seen)
	}
	// A note on B's ticket, then a new ticket of A: the same.
	admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tb2.ID), map[string]any{"body": "Secret of B", "internal": true})
	ta3 := open(shopA, "Third A", "ada@mail.test")
	if seen := until(laWS, ta3.ID); slices.Contains(seen, tb2.ID) {
		t.Errorf("the store's agent was sent a note of the other store: %v", seen)
	}

	// Given shop B too, the socket is closed for the app to reconnect
	// with both stores' feed.
	var me struct{ Agent struct{ ID int64 } }
	la.must(200, "GET", "/api/me", nil).json(t, &me)
	admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", me.Agent.ID), map[string]any{"store_ids": []int64{shopA, shopB}})
	for {
		if _, _, err := laWS.Read(ctx); err != nil {
			if websocket.CloseStatus(err) != websocket.StatusServiceRestart {
				t.Fatalf("socket after the stores changed: %v", err)
			}
			break
		}
	}
	if got := ids("/api/tickets?q=zebra"); len(got) != 5 {
		t.Errorf("with both stores: %v", got)
	}
}
