package ui_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/channels/chat"
	"onedesk/channels/email/emailtest"
	"onedesk/channels/forms"
	"onedesk/csat"
	"onedesk/desk"
	"onedesk/notify"
	"onedesk/portal"
	"onedesk/reports"
	"onedesk/rules"
	"onedesk/sla"
	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/ui"
	"onedesk/webhooks"
)

// env is a running server on a real SQLite file.
type env struct {
	t       *testing.T
	srv     *httptest.Server
	desk    *desk.Desk
	reports *reports.Reports
	hooks   *webhooks.Hooks
	notify  *notify.Notifier
	server  *ui.Server
	db      *store.DB
	sla     *sla.Clock
	csat    *csat.Service
}

func newEnv(t *testing.T, opts ui.Options) *env {
	t.Helper()
	return newEnvAt(t, storetest.Data(t), opts)
}

func newEnvAt(t *testing.T, path string, opts ui.Options) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	go d.RunOutbox(ctx)
	ch := chat.New(d, log)
	go ch.Run(ctx)
	fc := forms.New(d, log)
	opts.Channels, opts.FormPreview = append(opts.Channels, ch, fc), fc.Preview
	opts.Pages = append(opts.Pages, portal.New(d, log, portal.Options{}).Routes()...)
	opts.Rules, opts.SLA = rules.New(d, log), sla.New(d, log)
	// Surveys are plugged in after the rules, as the executable does; the
	// links in their mails point at this server once it listens.
	var base atomic.Value
	base.Store("")
	opts.CSAT = csat.New(d, log, func() string { return base.Load().(string) })
	go opts.CSAT.Run(ctx)
	if opts.Reports == nil {
		opts.Reports = reports.New(db, opts.SLA, log)
	}
	if opts.Webhooks == nil {
		opts.Webhooks = webhooks.New(db, log)
	}
	if opts.Notify == nil {
		opts.Notify = notify.New(d, log, notify.Options{PublicURL: opts.PublicURL})
	}
	server := ui.New(d, log, opts)
	ch.Online = server.AgentsOnline
	srv := httptest.NewServer(server.Handler())
	t.Cleanup(srv.Close)
	base.Store(srv.URL)
	return &env{t: t, srv: srv, desk: d, reports: opts.Reports, hooks: opts.Webhooks, notify: opts.Notify, server: server, db: db, sla: opts.SLA, csat: opts.CSAT}
}

// client is one caller: a browser with cookies and a CSRF token, or an
// integration with a bearer token.
type client struct {
	e     *env
	http  *http.Client
	csrf  string
	token string
	lang  string // Accept-Language, when set
}

func (e *env) client() *client {
	jar, _ := cookiejar.New(nil)
	return &client{e: e, http: &http.Client{Jar: jar}}
}

type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// errBody decodes an error answer.
func (r resp) err(t *testing.T) (msg, field string) {
	t.Helper()
	var e struct{ Error, Field string }
	r.json(t, &e)
	if e.Error == "" {
		t.Fatalf("error answer without a sentence: %s", r.body)
	}
	return e.Error, e.Field
}

func (c *client) do(method, path string, body any) resp {
	c.e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, c.e.srv.URL+path, rd)
	if err != nil {
		c.e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.csrf != "" {
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, b, res.Header}
}

func (c *client) must(status int, method, path string, body any) resp {
	c.e.t.Helper()
	r := c.do(method, path, body)
	if r.status != status {
		c.e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	return r
}

// admin sets the desk up through the first-run page and returns the
// logged-in browser.
func (e *env) admin() *client {
	c := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(201, "POST", "/api/setup", map[string]string{"email": "owner@shop.test", "name": "Olga Owner", "password": "correct horse"}).json(e.t, &me)
	c.csrf = me.CSRFToken
	return c
}

// agent adds an agent (not an admin) and returns a client logged in as them.
func (e *env) agent(admin *client, email string) *client {
	return e.join(admin, map[string]any{"email": email, "name": "Ann", "role": "agent"})
}

// join adds the agent body describes with the password 12345678 and
// returns a client logged in as them.
func (e *env) join(admin *client, body map[string]any) *client {
	e.t.Helper()
	body["password"] = "12345678"
	admin.must(201, "POST", "/api/agents", body)
	c := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(200, "POST", "/api/auth/login", map[string]any{"email": body["email"], "password": "12345678"}).json(e.t, &me)
	c.csrf = me.CSRFToken
	return c
}

// apiClient makes an API token for c's agent and returns a client using it.
func (c *client) apiClient() *client {
	var tok struct{ Token string }
	c.must(201, "POST", "/api/tokens", map[string]string{"name": "test"}).json(c.e.t, &tok)
	if !strings.HasPrefix(tok.Token, "od_") {
		c.e.t.Fatalf("token %q", tok.Token)
	}
	return &client{e: c.e, http: http.DefaultClient, token: tok.Token}
}

type ticketJSON struct {
	ID         int64
	Subject    string
	Status     string
	Priority   string
	Channel    string
	AssigneeID *int64 `json:"assignee_id"`
	TeamID     *int64 `json:"team_id"`
	Tags       []string
	CustomerID int64 `json:"customer_id"`
	Messages   []struct {
		ID       int64
		Kind     string
		Body     string
		Delivery string
		Error    string `json:"delivery_error"`
	}
	Events []struct {
		Type  string
		Actor string
		Data  map[string]any
	}
	Customer struct {
		ID         int64
		Name       string
		Identities []struct{ Kind, Value string }
	}
}

func (c *client) newTicket(subject, email string) ticketJSON {
	c.e.t.Helper()
	var t ticketJSON
	c.must(201, "POST", "/api/tickets", map[string]any{
		"subject": subject, "body": "Hello, where is my order?",
		"customer": map[string]string{"email": email, "name": "Carla Customer"},
	}).json(c.e.t, &t)
	return t
}

func TestSetupLoginAndSessions(t *testing.T) {
	e := newEnv(t, ui.Options{})
	anon := e.client()
	var setup struct{ Needed bool }
	anon.must(200, "GET", "/api/setup", nil).json(t, &setup)
	if !setup.Needed {
		t.Fatal("a fresh desk should offer setup")
	}
	admin := e.admin()
	anon.must(200, "GET", "/api/setup", nil).json(t, &setup)
	if setup.Needed {
		t.Fatal("setup offered after the admin exists")
	}
	// A second setup is refused and creates nobody.
	r := anon.must(409, "POST", "/api/setup", map[string]string{"email": "mallory@x.test", "name": "M", "password": "12345678"})
	r.err(t)
	admin.must(200, "GET", "/api/me", nil)

	// Login: wrong password, then right.
	r = anon.must(401, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "wrong password"})
	if msg, _ := r.err(t); msg != "wrong email or password" {
		t.Fatalf("login error %q", msg)
	}
	r = anon.must(400, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test"})
	if _, field := r.err(t); field != "password" {
		t.Fatalf("field %q", field)
	}
	var me struct {
		Agent     struct{ Email string }
		CSRFToken string `json:"csrf_token"`
	}
	r = anon.must(200, "POST", "/api/auth/login", map[string]string{"email": "OWNER@shop.test", "password": "correct horse"})
	r.json(t, &me)
	if me.Agent.Email != "owner@shop.test" || me.CSRFToken == "" {
		t.Fatalf("login answer %s", r.body)
	}
	cookie := r.header.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Lax", "onedesk_session="} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(strings.ToLower(cookie), "secure") {
		t.Fatalf("cookie %q is Secure on plain http", cookie)
	}

	// A cookie-authenticated write without the CSRF header is refused.
	anon.must(403, "POST", "/api/tokens", map[string]string{"name": "x"})
	anon.csrf = me.CSRFToken
	anon.must(201, "POST", "/api/tokens", map[string]string{"name": "x"})

	// Logout ends the session.
	anon.must(204, "POST", "/api/auth/logout", nil)
	anon.must(401, "GET", "/api/me", nil)
}

func TestSecureCookieBehindHTTPS(t *testing.T) {
	e := newEnv(t, ui.Options{PublicURL: "https://desk.example.com"})
	r := e.client().must(201, "POST", "/api/setup", map[string]string{"email": "a@b.test", "name": "A", "password": "12345678"})
	if !strings.Contains(strings.ToLower(r.header.Get("Set-Cookie")), "secure") {
		t.Fatalf("cookie not Secure behind https: %s", r.header.Get("Set-Cookie"))
	}
}

func TestTokensAndRoles(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	api := admin.apiClient()

	nobody := &client{e: e, http: http.DefaultClient}
	nobody.must(401, "GET", "/api/tickets", nil).err(t)
	bad := &client{e: e, http: http.DefaultClient, token: "od_not-a-real-token"}
	bad.must(401, "GET", "/api/tickets", nil).err(t)
	api.must(200, "GET", "/api/tickets", nil)
	// Tokens skip CSRF: they are not sent by browsers on their own.
	api.must(201, "POST", "/api/teams", map[string]any{"name": "Returns"})

	// An agent (not admin) cannot do admin work.
	ann := e.agent(admin, "ann@shop.test")
	if msg, _ := ann.must(403, "POST", "/api/agents", map[string]string{"email": "x@shop.test", "name": "X", "password": "12345678"}).err(t); !strings.Contains(msg, "agents.manage") {
		t.Fatalf("403 sentence %q", msg)
	}
	ann.must(403, "POST", "/api/stores", map[string]string{"name": "Shop"})
	ann.must(200, "GET", "/api/agents", nil)

	// Revoking a token locks it out.
	var list struct{ Tokens []struct{ ID int64 } }
	admin.must(200, "GET", "/api/tokens", nil).json(t, &list)
	for _, tok := range list.Tokens {
		admin.must(204, "DELETE", fmt.Sprintf("/api/tokens/%d", tok.ID), nil)
	}
	api.must(401, "GET", "/api/tickets", nil)

	// Deactivating an agent ends their access.
	var agents struct {
		Agents []struct {
			ID    int64
			Email string
		}
	}
	admin.must(200, "GET", "/api/agents", nil).json(t, &agents)
	for _, a := range agents.Agents {
		if a.Email == "ann@shop.test" {
			admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", a.ID), map[string]any{"active": false})
		}
	}
	ann.must(401, "GET", "/api/me", nil)
}

// Credentials are cached between requests: a change to an agent, a
// session or a token must still apply to the very next request.
func TestCredentialChangesApplyAtOnce(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ann := e.agent(admin, "ann@shop.test")
	annAPI := ann.apiClient()
	var me struct{ Agent struct{ ID int64 } }
	ann.must(200, "GET", "/api/me", nil).json(t, &me)
	annAPI.must(200, "GET", "/api/me", nil)
	annAPI.must(403, "POST", "/api/stores", map[string]string{"name": "Shop"})

	// Made admin: the token can do admin work on its next request.
	path := fmt.Sprintf("/api/agents/%d", me.Agent.ID)
	admin.must(200, "PATCH", path, map[string]any{"role": "admin"})
	annAPI.must(201, "POST", "/api/stores", map[string]string{"name": "Shop"})
	admin.must(200, "PATCH", path, map[string]any{"role": "agent"})
	annAPI.must(403, "POST", "/api/stores", map[string]string{"name": "Shop 2"})

	// A new password ends the browser session at once.
	for range 3 {
		ann.must(200, "GET", "/api/me", nil)
	}
	admin.must(200, "PATCH", path, map[string]any{"password": "another-password"})
	ann.must(401, "GET", "/api/me", nil)
	annAPI.must(401, "GET", "/api/me", nil) // tokens end with a new password too
	var again struct {
		CSRFToken string `json:"csrf_token"`
	}
	ann.must(200, "POST", "/api/auth/login", map[string]string{"email": "ann@shop.test", "password": "another-password"}).json(t, &again)
	ann.csrf = again.CSRFToken
	annAPI = ann.apiClient()

	// Deactivated: the token is refused on its next request.
	annAPI.must(200, "GET", "/api/tickets", nil)
	admin.must(200, "PATCH", path, map[string]any{"active": false})
	annAPI.must(401, "GET", "/api/tickets", nil)
}

func TestTicketLifecycleThroughAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	api := admin.apiClient()
	var team struct{ ID int64 }
	api.must(201, "POST", "/api/teams", map[string]any{"name": "Returns"}).json(t, &team)

	tk := api.newTicket("Where is order #1001?", "Carla@Example.com")
	if tk.Status != "new" || tk.Channel != "api" || len(tk.Messages) != 1 || tk.Messages[0].Kind != "customer" {
		t.Fatalf("new ticket %+v", tk)
	}
	if tk.Customer.Identities[0].Value != "carla@example.com" {
		t.Fatalf("identity not normalized: %+v", tk.Customer)
	}
	path := fmt.Sprintf("/api/tickets/%d", tk.ID)

	// Reply: queued, then sent by email from the only mailbox.
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shop", "slug": "shop"})
	emailtest.Mailbox(t, e.desk, 1, "help@shop.test", "Shop")
	var m struct {
		ID       int64
		Kind     string
		Delivery string
	}
	api.must(201, "POST", path+"/messages", map[string]any{"body": "It ships today."}).json(t, &m)
	if m.Kind != "agent" || m.Delivery != "queued" {
		t.Fatalf("reply %+v", m)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		var got ticketJSON
		api.must(200, "GET", path, nil).json(t, &got)
		if got.Messages[1].Delivery == "sent" {
			if got.Status != "open" {
				t.Fatalf("status after first reply %q", got.Status)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reply not sent: %+v", got.Messages[1])
		}
		time.Sleep(20 * time.Millisecond)
	}
	api.must(201, "POST", path+"/messages", map[string]any{"body": "Checked the warehouse.", "internal": true})

	// Transfer with a note, assign, tags, priority, then resolve.
	var got ticketJSON
	api.must(200, "PATCH", path, map[string]any{"team_id": team.ID, "note": "Customer wants a refund", "assignee_id": 1,
		"tags": []string{"Refund", "refund", "VIP"}, "priority": "high"}).json(t, &got)
	if got.TeamID == nil || *got.TeamID != team.ID || got.AssigneeID == nil || got.Priority != "high" ||
		strings.Join(got.Tags, ",") != "refund,vip" {
		t.Fatalf("after update %+v", got)
	}
	api.must(200, "PATCH", path, map[string]any{"status": "resolved"}).json(t, &got)

	// The customer writes again: reopened.
	api.must(201, "POST", path+"/messages", map[string]any{"body": "Still nothing!", "kind": "customer"})
	api.must(200, "GET", path, nil).json(t, &got)
	if got.Status != "open" {
		t.Fatalf("customer reply left status %q", got.Status)
	}
	var types []string
	for _, ev := range got.Events {
		types = append(types, ev.Type+"/"+ev.Actor)
	}
	// The reply made the ticket agent 1's (assign_on_reply): the update's
	// assignment was no change.
	want := "created/customer replied/1 assigned/1 status_changed/1 noted/1 transferred/1 priority_changed/1 tags_changed/1 status_changed/1 status_changed/customer"
	if strings.Join(types, " ") != want {
		t.Fatalf("events\n got %s\nwant %s", strings.Join(types, " "), want)
	}
	for _, ev := range got.Events {
		if ev.Type == "transferred" && ev.Data["note"] != "Customer wants a refund" {
			t.Fatalf("handoff note lost: %+v", ev)
		}
	}

	// Unassign with null; the customer page lists the ticket.
	api.must(200, "PATCH", path, map[string]any{"assignee_id": nil}).json(t, &got)
	if got.AssigneeID != nil {
		t.Fatal("assignee_id null did not unassign")
	}
	var cust struct {
		Tickets []struct{ ID int64 }
	}
	api.must(200, "GET", fmt.Sprintf("/api/customers/%d", got.CustomerID), nil).json(t, &cust)
	if len(cust.Tickets) != 1 || cust.Tickets[0].ID != tk.ID {
		t.Fatalf("customer tickets %+v", cust.Tickets)
	}
}

func TestValidationErrors(t *testing.T) {
	e := newEnv(t, ui.Options{})
	api := e.admin().apiClient()
	tk := api.newTicket("Order question", "c@shop.test")
	path := fmt.Sprintf("/api/tickets/%d", tk.ID)
	closed := api.newTicket("Old question", "old@shop.test")
	closedPath := fmt.Sprintf("/api/tickets/%d", closed.ID)
	api.must(200, "PATCH", closedPath, map[string]any{"status": "closed"})

	cases := []struct {
		name, method, path string
		body               any
		status             int
		field              string
	}{
		{"missing subject", "POST", "/api/tickets", map[string]any{"body": "x", "customer": map[string]string{"email": "a@b.test"}}, 400, "subject"},
		{"missing body", "POST", "/api/tickets", map[string]any{"subject": "x", "customer": map[string]string{"email": "a@b.test"}}, 400, "body"},
		{"no customer", "POST", "/api/tickets", map[string]any{"subject": "x", "body": "y"}, 400, "customer.email"},
		{"bad email", "POST", "/api/tickets", map[string]any{"subject": "x", "body": "y", "customer": map[string]string{"email": "not-an-email"}}, 400, "customer.email"},
		{"email without a full domain", "POST", "/api/tickets", map[string]any{"subject": "x", "body": "y", "customer": map[string]string{"email": "joana@gmail"}}, 400, "customer.email"},
		{"bad priority", "POST", "/api/tickets", map[string]any{"subject": "x", "body": "y", "priority": "asap", "customer": map[string]string{"email": "a@b.test"}}, 400, "priority"},
		{"unknown store", "POST", "/api/tickets", map[string]any{"subject": "x", "body": "y", "store_id": 99, "customer": map[string]string{"email": "a@b.test"}}, 400, "store_id"},
		{"wrong type", "POST", "/api/tickets", map[string]any{"subject": 5, "body": "y"}, 400, "subject"},
		{"unknown field", "POST", "/api/tickets", map[string]any{"subjct": "x"}, 400, "subjct"},
		{"not json", "POST", "/api/tickets", "{nope", 400, ""},
		{"unknown status", "PATCH", path, map[string]any{"status": "done"}, 400, "status"},
		{"refused transition", "PATCH", closedPath, map[string]any{"status": "open"}, 409, "status"},
		{"reply to closed", "POST", closedPath + "/messages", map[string]any{"body": "hi"}, 400, "ticket"},
		{"unknown assignee", "PATCH", path, map[string]any{"assignee_id": 42}, 400, "assignee_id"},
		{"assignee wrong type", "PATCH", path, map[string]any{"assignee_id": "me"}, 400, "assignee_id"},
		{"unknown patch field", "PATCH", path, map[string]any{"subject": "new"}, 400, "subject"},
		{"empty reply", "POST", path + "/messages", map[string]any{"body": "  "}, 400, "body"},
		{"unknown ticket", "GET", "/api/tickets/999999", nil, 404, ""},
		{"bad id", "GET", "/api/tickets/abc", nil, 404, "id"},
		{"bad list status", "GET", "/api/tickets?status=open,later", nil, 400, "status"},
		{"bad cursor", "GET", "/api/tickets?cursor=zzz", nil, 400, "cursor"},
		{"bad assignee filter", "GET", "/api/tickets?assignee=bob", nil, 400, "assignee"},
		{"bad limit", "GET", "/api/tickets?limit=0", nil, 400, "limit"},
		{"unknown endpoint", "GET", "/api/nothing", nil, 404, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := api.do(c.method, c.path, c.body)
			if r.status != c.status {
				t.Fatalf("status %d, want %d: %s", r.status, c.status, r.body)
			}
			if _, field := r.err(t); field != c.field {
				t.Fatalf("field %q, want %q (%s)", field, c.field, r.body)
			}
		})
	}

	// Nothing half-written: a valid priority with an invalid team changes nothing.
	api.must(400, "PATCH", path, map[string]any{"priority": "urgent", "team_id": 77})
	var got ticketJSON
	api.must(200, "GET", path, nil).json(t, &got)
	if got.Priority != "normal" || len(got.Events) != 1 {
		t.Fatalf("half-written update: priority %s, %d events", got.Priority, len(got.Events))
	}

	// Oversized bodies are refused before they are read.
	big := `{"subject": "x", "body": "` + strings.Repeat("a", 2<<20) + `"}`
	if msg, _ := api.must(413, "POST", "/api/tickets", big).err(t); !strings.Contains(msg, "larger than") {
		t.Fatalf("413 sentence %q", msg)
	}
	var list struct{ Tickets []ticketJSON }
	api.must(200, "GET", "/api/tickets", nil).json(t, &list)
	if len(list.Tickets) != 2 {
		t.Fatalf("%d tickets after refused requests, want 2", len(list.Tickets))
	}
}

func TestPaginationAndSearch(t *testing.T) {
	e := newEnv(t, ui.Options{APIRate: -1})
	api := e.admin().apiClient()
	for i := range 23 {
		subject := fmt.Sprintf("Question %d", i)
		if i%5 == 0 {
			subject = fmt.Sprintf("Refund request %d", i)
		}
		api.newTicket(subject, fmt.Sprintf("c%d@shop.test", i))
	}
	seen := map[int64]bool{}
	cursor := ""
	pages := 0
	for {
		var page struct {
			Tickets    []ticketJSON
			NextCursor string `json:"next_cursor"`
		}
		api.must(200, "GET", "/api/tickets?limit=10&sort=newest&cursor="+cursor, nil).json(t, &page)
		pages++
		for _, tk := range page.Tickets {
			if seen[tk.ID] {
				t.Fatalf("ticket %d on two pages", tk.ID)
			}
			seen[tk.ID] = true
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	if len(seen) != 23 || pages != 3 {
		t.Fatalf("%d tickets over %d pages", len(seen), pages)
	}
	var found struct{ Tickets []ticketJSON }
	api.must(200, "GET", "/api/tickets?q=refun", nil).json(t, &found)
	if len(found.Tickets) != 5 {
		t.Fatalf("search found %d tickets, want 5", len(found.Tickets))
	}
	api.must(200, "GET", "/api/tickets?q=%22+OR+NEAR(", nil)

	// Tags (all of them) and priorities (any of them) narrow the list.
	for i, id := range []int64{found.Tickets[0].ID, found.Tickets[1].ID, found.Tickets[2].ID} {
		change := map[string]any{"tags": []string{"Refund", "vip"}[:1+i%2], "priority": []string{"high", "urgent", "low"}[i]}
		api.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", id), change)
	}
	count := func(query string) int {
		var list struct{ Tickets []ticketJSON }
		api.must(200, "GET", "/api/tickets?"+query, nil).json(t, &list)
		return len(list.Tickets)
	}
	for query, want := range map[string]int{
		"tag=refund": 3, "tag=refund,vip": 1, "tag=VIP": 1, "priority=high,urgent": 2,
		"priority=low&tag=refund": 1, "priority=urgent&tag=refund,vip": 1, "priority=high&q=refund": 1,
	} {
		if got := count(query); got != want {
			t.Errorf("%s: %d tickets, want %d", query, got, want)
		}
	}
	for _, c := range []struct{ method, path, field string }{
		{"GET", "/api/tickets?priority=soon", "priority"},
		{"GET", "/api/tickets?tag=" + strings.Repeat("x", 51), "tag"},
		{"PATCH", fmt.Sprintf("/api/tickets/%d", found.Tickets[0].ID), "tags"},
	} {
		if _, field := api.must(400, c.method, c.path, map[string]any{"tags": []string{"a,b"}}).err(t); field != c.field {
			t.Errorf("%s %s: field %q, want %q", c.method, c.path, field, c.field)
		}
	}
}

func TestLoginRateLimit(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6})
	e.admin()
	c := e.client()
	limited := false
	for range 10 {
		r := c.do("POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "guess-guess"})
		if r.status == 429 {
			if r.header.Get("Retry-After") == "" {
				t.Fatal("429 without Retry-After")
			}
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("ten quick logins were not rate limited")
	}
}

func TestAgentWebsocketGetsMessages(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	api := admin.apiClient()
	tk := api.newTicket("Hello", "ws@shop.test")

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/agent/ws"
	if _, _, err := websocket.Dial(ctx, wsURL, nil); err == nil {
		t.Fatal("websocket without credentials was accepted")
	}
	conn, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{HTTPClient: admin.http})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	read := func() map[string]any {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var v map[string]any
		json.Unmarshal(b, &v)
		return v
	}
	if hello := read(); hello["type"] != "hello" {
		t.Fatalf("first frame %v", hello)
	}
	api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "On its way!"})
	for {
		v := read()
		if v["type"] != "message" {
			continue
		}
		msg := v["message"].(map[string]any)
		if msg["body"] != "On its way!" || v["ticket_id"].(float64) != float64(tk.ID) {
			t.Fatalf("message frame %v", v)
		}
		break
	}
}

func TestStaticAppAndHeaders(t *testing.T) {
	e := newEnv(t, ui.Options{})
	c := e.client()
	r := c.must(200, "GET", "/", nil)
	if !strings.Contains(string(r.body), `<div id="app">`) {
		t.Fatalf("index: %s", r.body)
	}
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self'") || strings.Contains(csp, "unsafe-inline") && strings.Contains(csp, "script-src 'self' 'unsafe-inline'") {
		t.Fatalf("CSP %q", csp)
	}
	c.must(200, "GET", "/app/main.js", nil)
	c.must(404, "GET", "/app/missing.js", nil)
	c.must(200, "GET", "/healthz", nil)

	// Public routes are rate limited by address too.
	limited := false
	for range 400 {
		if r := c.do("GET", "/healthz", nil); r.status == 429 {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("400 quick requests to /healthz were not rate limited")
	}
}

func TestMailboxesAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	api := e.admin().apiClient()
	r := api.must(400, "POST", "/api/mailboxes", map[string]any{"address": "not an address", "imap_host": "imap.shop.test", "smtp_host": "smtp.shop.test"})
	if _, f := r.err(t); f != "address" {
		t.Fatalf("field %q", f)
	}
	r = api.must(400, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "smtp_host": "smtp.shop.test"})
	if _, f := r.err(t); f != "imap_host" {
		t.Fatalf("field %q", f)
	}
	r = api.must(400, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "imap_host": "i", "smtp_host": "s", "imap_security": "ssl"})
	if _, f := r.err(t); f != "imap_security" {
		t.Fatalf("field %q", f)
	}
	var mb map[string]any
	api.must(201, "POST", "/api/mailboxes", map[string]any{"address": "Help@Shop.test", "name": "Shop", "imap_host": "imap.shop.test",
		"imap_username": "help", "imap_password": "s3cret", "smtp_host": "smtp.shop.test", "smtp_password": "s3cret", "active": false}).json(t, &mb)
	if mb["address"] != "help@shop.test" || mb["imap_port"].(float64) != 993 || mb["after_import"] != "leave" {
		t.Fatalf("defaults %v", mb)
	}
	r = api.must(200, "GET", "/api/mailboxes", nil)
	if strings.Contains(string(r.body), "s3cret") || strings.Contains(string(r.body), "password\":") {
		t.Fatalf("a password left the server: %s", r.body)
	}
	id := int64(mb["id"].(float64))
	api.must(200, "PATCH", fmt.Sprintf("/api/mailboxes/%d", id), map[string]any{"after_import": "move", "move_to": "Done", "poll_seconds": 30}).json(t, &mb)
	if mb["after_import"] != "move" || mb["move_to"] != "Done" || mb["imap_host"] != "imap.shop.test" {
		t.Fatalf("after patch %v", mb)
	}
	r = api.must(400, "PATCH", fmt.Sprintf("/api/mailboxes/%d", id), map[string]any{"poll_seconds": 1})
	if _, f := r.err(t); f != "poll_seconds" {
		t.Fatalf("field %q", f)
	}
	api.must(501, "POST", fmt.Sprintf("/api/mailboxes/%d/test", id), nil)
}

func TestReplyWithFilesAndInlineImages(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	tk := admin.newTicket("Damaged box", "carla@example.com")

	// The composer posts multipart: body, status and files.
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	w.WriteField("body", "Here is the return label.")
	w.WriteField("status", "pending")
	fw, _ := w.CreateFormFile("files", `C:\Users\ann\label.pdf`)
	fw.Write([]byte("%PDF-1.4 label"))
	w.Close()
	req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/tickets/%d/messages", e.srv.URL, tk.ID), &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", admin.csrf)
	res, err := admin.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		ID          int64
		Attachments []struct {
			ID          int64
			Filename    string
			ContentType string `json:"content_type"`
			Size        int64
		}
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 201 {
		t.Fatalf("status %d: %s", res.StatusCode, body)
	}
	json.Unmarshal(body, &m)
	if len(m.Attachments) != 1 || m.Attachments[0].Filename != "label.pdf" || m.Attachments[0].Size != 14 {
		t.Fatalf("attachments %+v", m.Attachments)
	}
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	if got.Status != "pending" {
		t.Fatalf("status %s", got.Status)
	}
	r := admin.must(200, "GET", fmt.Sprintf("/api/attachments/%d?download=1", m.Attachments[0].ID), nil)
	if string(r.body) != "%PDF-1.4 label" {
		t.Fatalf("download %q", r.body)
	}

	// An email whose HTML shows an inline image by cid: the HTML view
	// carries the image itself, since its sandbox has no session.
	png := []byte("\x89PNG\r\n\x1a\nfake")
	res2, err := e.desk.Ingest(context.Background(), desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "carla@example.com"},
		Subject: "photo", Text: "see photo", HTML: `<p>see</p><img src="cid:ph1@mail" alt="photo">`, ExternalID: "p1@mail",
		Attachments: []store.Attachment{{Filename: "photo.png", ContentType: "image/png", ContentID: "ph1@mail", Data: png}}})
	if err != nil {
		t.Fatal(err)
	}
	r = admin.must(200, "GET", fmt.Sprintf("/api/messages/%d/html", res2.Message.ID), nil)
	want := "data:image/png;base64," + base64.StdEncoding.EncodeToString(png)
	if !strings.Contains(string(r.body), `src="`+want+`"`) || strings.Contains(string(r.body), "cid:") {
		t.Fatalf("html view %s", r.body)
	}

	// Over the upload limit: refused before it is read.
	big := bytes.Repeat([]byte("x"), 31<<20)
	req, _ = http.NewRequest("POST", fmt.Sprintf("%s/api/tickets/%d/messages", e.srv.URL, tk.ID), bytes.NewReader(big))
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	req.Header.Set("X-CSRF-Token", admin.csrf)
	res, err = admin.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("big upload: status %d", res.StatusCode)
	}
}

// A reply's files are read from the request as it arrives, into
// temporary files that are gone once it is answered; a body of unknown
// length is cut at the upload limit.
func TestUploadsStreamToDisk(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // where mime/multipart puts the files
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	tk := admin.newTicket("Photos of the damage", "carla@example.com")
	post := func(file []byte, chunked bool) *http.Response {
		t.Helper()
		pr, pw := io.Pipe()
		w := multipart.NewWriter(pw)
		go func() {
			w.WriteField("body", "The photos.")
			fw, _ := w.CreateFormFile("files", "photo.jpg")
			fw.Write(file)
			pw.CloseWithError(w.Close())
		}()
		var body io.Reader = pr
		if !chunked {
			all, _ := io.ReadAll(pr)
			body = bytes.NewReader(all)
		}
		req, _ := http.NewRequest("POST", fmt.Sprintf("%s/api/tickets/%d/messages", e.srv.URL, tk.ID), body)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("X-CSRF-Token", admin.csrf)
		res, err := admin.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	photo := bytes.Repeat([]byte("jpeg"), 1<<20) // 4 MB
	for _, chunked := range []bool{false, true} {
		res := post(photo, chunked)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		var m struct{ Attachments []struct{ Size int64 } }
		json.Unmarshal(body, &m)
		if res.StatusCode != 201 || len(m.Attachments) != 1 || m.Attachments[0].Size != int64(len(photo)) {
			t.Fatalf("chunked %v: status %d: %.300s", chunked, res.StatusCode, body)
		}
		if left, _ := os.ReadDir(tmp); len(left) != 0 {
			t.Fatalf("temporary files left after the request: %v", left)
		}
	}
	res := post(bytes.Repeat([]byte("x"), 31<<20), true)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(body), "larger than") {
		t.Fatalf("31 MB of unknown length: status %d: %s", res.StatusCode, body)
	}
}

func TestDeskSettingsAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st map[string]any
	admin.must(200, "GET", "/api/settings", nil).json(t, &st)
	if st["reopen_days"].(float64) != 30 {
		t.Fatalf("defaults %v", st)
	}
	r := admin.must(400, "PATCH", "/api/settings", map[string]any{"reopen_days": 0})
	if _, f := r.err(t); f != "reopen_days" {
		t.Fatalf("field %q", f)
	}
	admin.must(200, "PATCH", "/api/settings", map[string]any{"reopen_days": 7}).json(t, &st)
	admin.must(200, "GET", "/api/settings", nil).json(t, &st)
	if st["reopen_days"].(float64) != 7 {
		t.Fatalf("after patch %v", st)
	}
	r = admin.must(400, "POST", "/api/mailboxes", map[string]any{"address": "help@shop.test", "imap_host": "i", "smtp_host": "s", "auto_ack": true})
	if _, f := r.err(t); f != "auto_ack_text" {
		t.Fatalf("field %q", f)
	}
}
