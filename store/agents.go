package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Agent is a person who works tickets.
type Agent struct {
	ID       int64   `json:"id"`
	Email    string  `json:"email"`
	Name     string  `json:"name"`
	Role     string  `json:"role"` // admin, supervisor, agent or light (desk/roles.go)
	Active   bool    `json:"active"`
	Language string  `json:"language"`
	Timezone string  `json:"timezone"`
	TeamIDs  []int64 `json:"team_ids"`
	// Signature goes under the agent's emailed replies, above the
	// store's; it may hold placeholders ({agent_name}...).
	Signature string `json:"signature"`
	// StoreIDs are the stores whose tickets and customers the agent works
	// on; empty means every store.
	StoreIDs []int64 `json:"store_ids"`
	// Grants are permissions the agent has beyond their role
	// (desk.Grantable).
	Grants       []string  `json:"grants"`
	PasswordHash string    `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

const agentCols = "id, email, name, role, active, language, timezone, password_hash, created_at, signature"

func scanAgent(row interface{ Scan(...any) error }) (*Agent, error) {
	var a Agent
	var created int64
	if err := row.Scan(&a.ID, &a.Email, &a.Name, &a.Role, &a.Active, &a.Language, &a.Timezone,
		&a.PasswordHash, &created, &a.Signature); err != nil {
		return nil, err
	}
	a.CreatedAt = fromMS(created)
	a.TeamIDs, a.StoreIDs, a.Grants = []int64{}, []int64{}, []string{}
	return &a, nil
}

// InsertAgent creates an agent; ErrConflict when the email is taken.
func (tx *Tx) InsertAgent(ctx context.Context, a *Agent) error {
	now := ms(a.CreatedAt)
	res, err := tx.q.insert(ctx, `INSERT INTO agents (email, name, password_hash, role, active, language,
		timezone, created_at, updated_at, signature) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.Email, a.Name, a.PasswordHash, a.Role, a.Active, a.Language, a.Timezone, now, now, a.Signature)
	if isUnique(err) {
		return fmt.Errorf("agent %s: %w", a.Email, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert agent: %w", err)
	}
	a.ID, err = res.LastInsertId()
	return err
}

// UpdateAgent writes an agent's editable columns.
func (tx *Tx) UpdateAgent(ctx context.Context, a *Agent) error {
	tx.authChanged = true
	_, err := tx.q.ExecContext(ctx, `UPDATE agents SET email = ?, name = ?, password_hash = ?, role = ?, active = ?,
		language = ?, timezone = ?, signature = ?, updated_at = ? WHERE id = ?`,
		a.Email, a.Name, a.PasswordHash, a.Role, a.Active, a.Language, a.Timezone, a.Signature, ms(Now()), a.ID)
	if isUnique(err) {
		return fmt.Errorf("agent %s: %w", a.Email, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update agent %d: %w", a.ID, err)
	}
	return nil
}

// CountAdmins counts active admins, so the last one is never removed.
func (tx *Tx) CountAdmins(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT count(*) FROM agents WHERE role = 'admin' AND active = 1").Scan(&n)
	return n, err
}

// CountAgents counts all agents (first-run setup is offered at zero).
func (db *DB) CountAgents(ctx context.Context) (int, error) {
	var n int
	err := db.rq.QueryRowContext(ctx, "SELECT count(*) FROM agents").Scan(&n)
	return n, err
}

// CountAgents counts agents inside the transaction.
func (tx *Tx) CountAgents(ctx context.Context) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, "SELECT count(*) FROM agents").Scan(&n)
	return n, err
}

func getAgent(ctx context.Context, q querier, where string, arg any) (*Agent, error) {
	a, err := scanAgent(q.QueryRowContext(ctx, "SELECT "+agentCols+" FROM agents WHERE "+where, arg))
	if err != nil {
		if id, ok := arg.(int64); ok {
			return nil, notFoundID(err, "agent", id)
		}
		return nil, notFound(err, fmt.Sprintf("agent %v", arg))
	}
	return a, loadTeamsAndStores(ctx, q, []*Agent{a})
}

// Agent reads one agent.
func (db *DB) Agent(ctx context.Context, id int64) (*Agent, error) {
	return getAgent(ctx, db.rq, "id = ?", id)
}

// Agent reads one agent inside the transaction.
func (tx *Tx) Agent(ctx context.Context, id int64) (*Agent, error) {
	return getAgent(ctx, tx.q, "id = ?", id)
}

// AgentByEmail reads the agent with that email (any case).
func (db *DB) AgentByEmail(ctx context.Context, email string) (*Agent, error) {
	return getAgent(ctx, db.rq, "email = ?", email)
}

// Agents lists all agents by name.
func (db *DB) Agents(ctx context.Context) ([]*Agent, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+agentCols+" FROM agents ORDER BY name COLLATE NOCASE, id")
	if err != nil {
		return nil, fmt.Errorf("list agents: %w", err)
	}
	defer rows.Close()
	list := []*Agent{}
	for rows.Next() {
		a, err := scanAgent(rows)
		if err != nil {
			return nil, fmt.Errorf("list agents: %w", err)
		}
		list = append(list, a)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, loadTeamsAndStores(ctx, db.rq, list)
}

// loadTeamsAndStores fills the agents' teams and stores in one read (a
// credential's agent is read on every request on PostgreSQL): of one
// agent, only theirs.
func loadTeamsAndStores(ctx context.Context, q querier, list []*Agent) error {
	byID := map[int64]*Agent{}
	for _, a := range list {
		byID[a.ID] = a
	}
	where, args := "", []any{}
	if len(list) == 1 {
		where, args = " WHERE agent_id = ?", []any{list[0].ID, list[0].ID, list[0].ID}
	}
	rows, err := q.QueryContext(ctx, "SELECT 't', agent_id, team_id, '' FROM team_members"+where+
		" UNION ALL SELECT 's', agent_id, store_id, '' FROM agent_stores"+where+
		" UNION ALL SELECT 'g', agent_id, 0, permission FROM agent_grants"+where+" ORDER BY 1, 3, 4", args...)
	if err != nil {
		return fmt.Errorf("agents' teams and stores: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var kind, perm string
		var aid, id int64
		if err := rows.Scan(&kind, &aid, &id, &perm); err != nil {
			return fmt.Errorf("agents' teams and stores: %w", err)
		}
		switch a := byID[aid]; {
		case a == nil:
		case kind == "t":
			a.TeamIDs = append(a.TeamIDs, id)
		case kind == "s":
			a.StoreIDs = append(a.StoreIDs, id)
		default:
			a.Grants = append(a.Grants, perm)
		}
	}
	return rows.Err()
}

// SetAgentStores replaces the stores an agent works in (none: every store).
func (tx *Tx) SetAgentStores(ctx context.Context, agentID int64, storeIDs []int64) error {
	tx.authChanged = true // a credential's cached agent carries its stores
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM agent_stores WHERE agent_id = ?", agentID); err != nil {
		return fmt.Errorf("agent %d stores: %w", agentID, err)
	}
	for _, id := range storeIDs {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO agent_stores (agent_id, store_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
			agentID, id); err != nil {
			return fmt.Errorf("agent %d store %d: %w", agentID, id, err)
		}
	}
	return nil
}

// SetAgentGrants replaces the permissions an agent has beyond their role.
func (tx *Tx) SetAgentGrants(ctx context.Context, agentID int64, perms []string) error {
	tx.authChanged = true // a credential's cached agent carries its grants
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM agent_grants WHERE agent_id = ?", agentID); err != nil {
		return fmt.Errorf("agent %d grants: %w", agentID, err)
	}
	for _, p := range perms {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO agent_grants (agent_id, permission) VALUES (?, ?) ON CONFLICT DO NOTHING",
			agentID, p); err != nil {
			return fmt.Errorf("agent %d grant %s: %w", agentID, p, err)
		}
	}
	return nil
}

// Team is a group of agents tickets can belong to.
type Team struct {
	ID       int64   `json:"id"`
	Name     string  `json:"name"`
	AgentIDs []int64 `json:"agent_ids"`
	// Assignment is "manual" or "round_robin": new tickets go in turn to
	// the members online with fewer than MaxOpen open tickets (0 = no cap).
	Assignment  string    `json:"assignment"`
	MaxOpen     int       `json:"max_open"`
	LastAgentID *int64    `json:"-"` // whose turn it was last
	CreatedAt   time.Time `json:"created_at"`
}

// InsertTeam creates a team with its members.
func (tx *Tx) InsertTeam(ctx context.Context, t *Team) error {
	if t.Assignment == "" {
		t.Assignment = "manual"
	}
	res, err := tx.q.insert(ctx, "INSERT INTO teams (name, assignment, max_open, created_at) VALUES (?, ?, ?, ?)",
		t.Name, t.Assignment, t.MaxOpen, ms(t.CreatedAt))
	if isUnique(err) {
		return fmt.Errorf("team %s: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert team: %w", err)
	}
	if t.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	return tx.setMembers(ctx, t)
}

// UpdateTeam writes a team's name and assignment and replaces its members.
func (tx *Tx) UpdateTeam(ctx context.Context, t *Team) error {
	res, err := tx.q.ExecContext(ctx, "UPDATE teams SET name = ?, assignment = ?, max_open = ? WHERE id = ?",
		t.Name, t.Assignment, t.MaxOpen, t.ID)
	if isUnique(err) {
		return fmt.Errorf("team %s: %w", t.Name, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update team %d: %w", t.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "team", ID: t.ID}
	}
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM team_members WHERE team_id = ?", t.ID); err != nil {
		return err
	}
	return tx.setMembers(ctx, t)
}

func (tx *Tx) setMembers(ctx context.Context, t *Team) error {
	for _, aid := range t.AgentIDs {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO team_members (team_id, agent_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
			t.ID, aid); err != nil {
			return fmt.Errorf("team %d member %d: %w", t.ID, aid, err)
		}
	}
	return nil
}

// SetTeamTurn records whose turn it was last in a round-robin team.
func (tx *Tx) SetTeamTurn(ctx context.Context, teamID, agentID int64) error {
	if _, err := tx.q.ExecContext(ctx, "UPDATE teams SET last_agent_id = ? WHERE id = ?", agentID, teamID); err != nil {
		return fmt.Errorf("team %d turn: %w", teamID, err)
	}
	return nil
}

// OpenTicketsOf counts the new and open tickets assigned to an agent.
func (tx *Tx) OpenTicketsOf(ctx context.Context, agentID int64) (int, error) {
	var n int
	err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM tickets WHERE assignee_id = ? AND status IN ('new', 'open')`,
		agentID).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("open tickets of agent %d: %w", agentID, err)
	}
	return n, nil
}

// WaitingTickets lists a team's unassigned new and open tickets, oldest
// first, at most limit.
func (db *DB) WaitingTickets(ctx context.Context, teamID int64, limit int) ([]int64, error) {
	return queryIDs(ctx, db.rq, `SELECT id FROM tickets WHERE team_id = ? AND assignee_id IS NULL
		AND status IN ('new', 'open') ORDER BY id LIMIT ?`, teamID, limit)
}

// Teams lists all teams by name with their members.
func (db *DB) Teams(ctx context.Context) ([]*Team, error) {
	return listTeams(ctx, db.rq, "")
}

// Team reads one team.
func (tx *Tx) Team(ctx context.Context, id int64) (*Team, error) {
	list, err := listTeams(ctx, tx.q, "WHERE id = ?", id)
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, &NotFoundError{Thing: "team", ID: id}
	}
	return list[0], nil
}

func listTeams(ctx context.Context, q querier, where string, args ...any) ([]*Team, error) {
	rows, err := q.QueryContext(ctx, "SELECT id, name, assignment, max_open, last_agent_id, created_at FROM teams "+
		where+" ORDER BY name COLLATE NOCASE, id", args...)
	if err != nil {
		return nil, fmt.Errorf("list teams: %w", err)
	}
	defer rows.Close()
	list := []*Team{}
	byID := map[int64]*Team{}
	for rows.Next() {
		var t Team
		var created int64
		var last sql.NullInt64
		if err := rows.Scan(&t.ID, &t.Name, &t.Assignment, &t.MaxOpen, &last, &created); err != nil {
			return nil, fmt.Errorf("list teams: %w", err)
		}
		t.CreatedAt, t.AgentIDs, t.LastAgentID = fromMS(created), []int64{}, fromNullID(last)
		list = append(list, &t)
		byID[t.ID] = &t
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	mrows, err := q.QueryContext(ctx, "SELECT team_id, agent_id FROM team_members ORDER BY agent_id")
	if err != nil {
		return nil, fmt.Errorf("team members: %w", err)
	}
	defer mrows.Close()
	for mrows.Next() {
		var tid, aid int64
		if err := mrows.Scan(&tid, &aid); err != nil {
			return nil, err
		}
		if t := byID[tid]; t != nil {
			t.AgentIDs = append(t.AgentIDs, aid)
		}
	}
	return list, mrows.Err()
}

// Store is a shop or brand served by this desk.
type Store struct {
	ID             int64         `json:"id"`
	Name           string        `json:"name"`
	Slug           string        `json:"slug"`
	Language       string        `json:"language"`
	Timezone       string        `json:"timezone"`
	AllowedOrigins []string      `json:"allowed_origins"`
	LogoURL        string        `json:"logo_url"` // shown on its hosted forms
	Country        string        `json:"country"`  // ISO 3166 alpha-2: phone numbers written without +CC are from here
	Orders         OrderSettings `json:"orders"`
	Chat           ChatSettings  `json:"chat"`
	// Signature goes under every emailed reply of the store's tickets,
	// below the agent's own; it may hold placeholders ({store_name}...).
	Signature string    `json:"signature"`
	CreatedAt time.Time `json:"created_at"`
}

// ChatSettings are how a store's chat widget looks and behaves. Zero
// values mean the defaults, so stores made before a setting existed keep
// working unchanged.
type ChatSettings struct {
	Color     string `json:"color"`       // #rrggbb; "" is the widget's blue
	Position  string `json:"position"`    // "right" (default) or "left"
	Launcher  string `json:"launcher"`    // the launcher's text; "" is the catalog's
	Greeting  string `json:"greeting"`    // the first line the visitor reads; "" is the catalog's
	PreChat   string `json:"prechat"`     // "off" (default), "optional" or "required": name and email before chatting
	Files     bool   `json:"files"`       // visitors may send images and files
	MaxFileMB int    `json:"max_file_mb"` // 0 is 10
	// Hours, when set, are 7 entries from Sunday to Saturday, each ""
	// (closed) or spans like "09:00-12:00, 13:00-17:30" in the store's
	// time zone: outside them the widget offers the offline form even
	// when agents are online.
	Hours []string `json:"hours"`
	// A chat nobody wrote in for IdleMinutes (0: never) is set to
	// IdleStatus ("resolved", the default, or "pending").
	IdleMinutes int    `json:"idle_minutes"`
	IdleStatus  string `json:"idle_status"`
	// PageURL is a page of the shop that has the widget: a chat continued
	// on another device opens there ("": on the desk's own chat page,
	// /chat/{store}).
	PageURL string `json:"page_url"`
}

// OrderSettings say where a store's orders are looked up: a Shopify shop
// (domain and Admin API access token) or any URL answering in onedesk's
// order JSON. The token never leaves the server.
type OrderSettings struct {
	// Platform is the shop's platform: "shopify", "woocommerce", or ""
	// (Shopify when its domain is set, else the lookup URL).
	Platform      string `json:"platform"`
	ShopifyDomain string `json:"shopify_domain"` // my-shop.myshopify.com
	ShopifyToken  string `json:"-"`
	TokenSet      bool   `json:"shopify_token_set"`
	LookupURL     string `json:"lookup_url"`
	LookupSecret  string `json:"-"` // sent as a bearer token to LookupURL
	SecretSet     bool   `json:"lookup_secret_set"`
	// WooURL is a WooCommerce site (https://shop.example.com), read with
	// a REST API consumer key and secret.
	WooURL    string `json:"woo_url"`
	WooKey    string `json:"-"`
	WooSecret string `json:"-"`
	WooKeySet bool   `json:"woo_key_set"`
	// WebhookSecret checks the platform's order webhooks (Shopify's app
	// secret, WooCommerce's webhook secret).
	WebhookSecret    string `json:"-"`
	WebhookSecretSet bool   `json:"webhook_secret_set"`
}

// orderColumn is how OrderSettings are kept, token included.
type orderColumn struct {
	ShopifyDomain string `json:"shopify_domain,omitempty"`
	ShopifyToken  string `json:"shopify_token,omitempty"`
	LookupURL     string `json:"lookup_url,omitempty"`
	LookupSecret  string `json:"lookup_secret,omitempty"`
	Platform      string `json:"platform,omitempty"`
	WooURL        string `json:"woo_url,omitempty"`
	WooKey        string `json:"woo_key,omitempty"`
	WooSecret     string `json:"woo_secret,omitempty"`
	WebhookSecret string `json:"webhook_secret,omitempty"`
}

// orderSecrets are the sealed fields of orderColumn, by column name.
func (oc *orderColumn) secrets() map[string]*string {
	return map[string]*string{
		"stores.orders.shopify_token": &oc.ShopifyToken, "stores.orders.lookup_secret": &oc.LookupSecret,
		"stores.orders.woo_key": &oc.WooKey, "stores.orders.woo_secret": &oc.WooSecret,
		"stores.orders.webhook_secret": &oc.WebhookSecret,
	}
}

func (o OrderSettings) column(box *secretBox) string {
	s, _ := box.sealOrders(orderColumn{o.ShopifyDomain, o.ShopifyToken, o.LookupURL, o.LookupSecret,
		o.Platform, o.WooURL, o.WooKey, o.WooSecret, o.WebhookSecret})
	return s
}

// InsertStore creates a store; ErrConflict when the slug is taken.
func (tx *Tx) InsertStore(ctx context.Context, s *Store) error {
	res, err := tx.q.insert(ctx, `INSERT INTO stores (name, slug, language, timezone, allowed_origins, logo_url, country, orders, chat, created_at, signature)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, s.Name, s.Slug, s.Language, s.Timezone, jsonText(s.AllowedOrigins, "[]"), s.LogoURL,
		s.Country, s.Orders.column(tx.sealer(ctx)), jsonText(s.Chat, "{}"), ms(s.CreatedAt), s.Signature)
	if isUnique(err) {
		return fmt.Errorf("store %s: %w", s.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("insert store: %w", err)
	}
	s.ID, err = res.LastInsertId()
	return err
}

// UpdateStore writes a store's editable columns.
func (tx *Tx) UpdateStore(ctx context.Context, s *Store) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE stores SET name = ?, slug = ?, language = ?, timezone = ?, allowed_origins = ?, logo_url = ?,
		country = ?, orders = ?, chat = ?, signature = ? WHERE id = ?`, s.Name, s.Slug, s.Language, s.Timezone, jsonText(s.AllowedOrigins, "[]"), s.LogoURL,
		s.Country, s.Orders.column(tx.sealer(ctx)), jsonText(s.Chat, "{}"), s.Signature, s.ID)
	if isUnique(err) {
		return fmt.Errorf("store %s: %w", s.Slug, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update store %d: %w", s.ID, err)
	}
	return nil
}

const storeCols = "id, name, slug, language, timezone, allowed_origins, logo_url, country, orders, chat, created_at, signature"

func scanStore(row interface{ Scan(...any) error }, box *secretBox) (*Store, error) {
	var s Store
	var origins, orders, chat string
	var created int64
	if err := row.Scan(&s.ID, &s.Name, &s.Slug, &s.Language, &s.Timezone, &origins, &s.LogoURL, &s.Country, &orders, &chat, &created, &s.Signature); err != nil {
		return nil, err
	}
	var oc orderColumn
	_ = jsonUnmarshal(orders, &oc)
	for column, v := range oc.secrets() {
		plain, err := box.open(column, *v)
		if err != nil {
			return nil, err
		}
		*v = plain
	}
	s.Orders = OrderSettings{Platform: oc.Platform, ShopifyDomain: oc.ShopifyDomain, ShopifyToken: oc.ShopifyToken, TokenSet: oc.ShopifyToken != "",
		LookupURL: oc.LookupURL, LookupSecret: oc.LookupSecret, SecretSet: oc.LookupSecret != "",
		WooURL: oc.WooURL, WooKey: oc.WooKey, WooSecret: oc.WooSecret, WooKeySet: oc.WooKey != "" && oc.WooSecret != "",
		WebhookSecret: oc.WebhookSecret, WebhookSecretSet: oc.WebhookSecret != ""}
	s.CreatedAt = fromMS(created)
	s.AllowedOrigins = []string{}
	_ = jsonUnmarshal(origins, &s.AllowedOrigins)
	_ = jsonUnmarshal(chat, &s.Chat)
	return &s, nil
}

// Store reads one store.
func (tx *Tx) Store(ctx context.Context, id int64) (*Store, error) {
	s, err := scanStore(tx.q.QueryRowContext(ctx, "SELECT "+storeCols+" FROM stores WHERE id = ?", id), tx.secrets)
	return s, notFoundID(err, "store", id)
}

// Stores lists all stores by name.
func (db *DB) Stores(ctx context.Context) ([]*Store, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+storeCols+" FROM stores ORDER BY name COLLATE NOCASE, id")
	if err != nil {
		return nil, fmt.Errorf("list stores: %w", err)
	}
	defer rows.Close()
	list := []*Store{}
	for rows.Next() {
		s, err := scanStore(rows, db.secrets)
		if err != nil {
			return nil, fmt.Errorf("list stores: %w", err)
		}
		list = append(list, s)
	}
	return list, rows.Err()
}

// Exists tells whether a row with that id is in table (one of the few
// tables callers refer to by id).
func (tx *Tx) Exists(ctx context.Context, table string, id int64) (bool, error) {
	switch table {
	case "agents", "teams", "stores", "customers", "tickets", "webhooks":
	default:
		return false, fmt.Errorf("exists: unknown table %s", table)
	}
	var one int
	err := tx.q.QueryRowContext(ctx, "SELECT 1 FROM "+table+" WHERE id = ?", id).Scan(&one)
	if err == sql.ErrNoRows {
		return false, nil
	}
	return err == nil, err
}

// ticketStoreQueries read the store of the ticket a ticket, message or
// attachment id belongs to.
var ticketStoreQueries = map[string]string{
	"ticket":     "SELECT store_id FROM tickets WHERE id = ?",
	"message":    "SELECT t.store_id FROM messages m JOIN tickets t ON t.id = m.ticket_id WHERE m.id = ?",
	"attachment": "SELECT t.store_id FROM attachments a JOIN messages m ON m.id = a.message_id JOIN tickets t ON t.id = m.ticket_id WHERE a.id = ?",
}

// TicketStoreOf is the store (nil: none) of the ticket that the ticket,
// message or attachment with that id belongs to; ErrNotFound if none.
func (db *DB) TicketStoreOf(ctx context.Context, kind string, id int64) (*int64, error) {
	query, ok := ticketStoreQueries[kind]
	if !ok {
		return nil, fmt.Errorf("store of a %s: unknown kind", kind)
	}
	var storeID sql.NullInt64
	if err := db.rq.QueryRowContext(ctx, query, id).Scan(&storeID); err != nil {
		return nil, notFoundID(err, kind, id)
	}
	return fromNullID(storeID), nil
}
