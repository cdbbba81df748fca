package desk

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"onedesk/i18n"
	"onedesk/store"
)

// MinPassword is the shortest password accepted.
const MinPassword = 8

// Languages the app ships catalogs for.
var Languages = []string{"en", "pt", "tr", "cs", "ru"}

// PickLanguage is the language to speak to a customer: the first of the
// browser's (an Accept-Language list, or one tag) that onedesk speaks,
// else the store's, else English.
func PickLanguage(storeLang, browser string) string {
	for _, tag := range strings.Split(browser, ",") {
		tag, _, _ = strings.Cut(tag, ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if slices.Contains(Languages, base) {
			return base
		}
	}
	if slices.Contains(Languages, storeLang) {
		return storeLang
	}
	return "en"
}

// AgentInput creates or edits an agent; empty fields are left as they are
// on edit.
type AgentInput struct {
	Email    string
	Name     string
	Password string
	Role     string
	Language string
	Timezone string
	Active   *bool
	// Signature, when set, replaces the agent's signature ("" removes it).
	Signature *string
	// Stores, when set, replaces the stores the agent works in (empty:
	// every store). An admin always works in every store.
	Stores *[]int64
	// Grants, when set, replaces the permissions the agent has beyond
	// their role (each one of Grantable).
	Grants *[]string
}

func (in *AgentInput) check(creating bool) error {
	in.Email, in.Name = strings.TrimSpace(in.Email), cleanLine(in.Name)
	if creating || in.Email != "" {
		addr, err := mail.ParseAddress(in.Email)
		if err != nil || addr.Address != in.Email {
			return inputErr("email", "%q is not an email address", in.Email)
		}
	}
	if creating && in.Name == "" {
		return inputErr("name", "name is empty")
	}
	if utf8.RuneCountInString(in.Name) > 100 {
		return inputErr("name", "name is longer than 100 characters")
	}
	if (creating || in.Password != "") && utf8.RuneCountInString(in.Password) < MinPassword {
		return inputErr("password", "password must have at least %d characters", MinPassword)
	}
	if len(in.Password) > 72 {
		return inputErr("password", "password must have at most 72 bytes")
	}
	if creating && in.Role == "" {
		in.Role = "agent"
	}
	if in.Role != "" {
		if err := oneOf("role", in.Role, Roles); err != nil {
			return err
		}
	}
	if in.Language != "" {
		if err := oneOf("language", in.Language, Languages); err != nil {
			return err
		}
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil {
			return inputErr("timezone", "unknown time zone %q", in.Timezone)
		}
	}
	if in.Grants != nil {
		for _, g := range *in.Grants {
			if err := oneOf("grants", g, Grantable); err != nil {
				return err
			}
		}
	}
	return checkSignature(in.Signature)
}

// CreateAgent adds an agent with a bcrypt-hashed password.
func (d *Desk) CreateAgent(ctx context.Context, in AgentInput) (*store.Agent, error) {
	return d.createAgent(ctx, in, false)
}

// CreateFirstAdmin creates the first agent, an admin, only while the desk
// has no agent at all (first-run setup).
func (d *Desk) CreateFirstAdmin(ctx context.Context, in AgentInput) (*store.Agent, error) {
	in.Role = "admin"
	return d.createAgent(ctx, in, true)
}

// ErrSetupDone is returned by CreateFirstAdmin once agents exist.
var ErrSetupDone = i18n.Errorf("onedesk is already set up: log in instead")

func (d *Desk) createAgent(ctx context.Context, in AgentInput, first bool) (*store.Agent, error) {
	if err := in.check(true); err != nil {
		return nil, err
	}
	hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
	if err != nil {
		return nil, fmt.Errorf("hash password: %w", err)
	}
	a := &store.Agent{Email: in.Email, Name: in.Name, Role: in.Role, Active: true, Language: in.Language,
		Timezone: in.Timezone, PasswordHash: string(hash), CreatedAt: store.Now(), TeamIDs: []int64{}}
	if a.Language == "" {
		a.Language = "en"
	}
	if a.Timezone == "" {
		a.Timezone = "UTC"
	}
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		if first {
			n, err := tx.CountAgents(ctx)
			if err != nil {
				return err
			}
			if n > 0 {
				return ErrSetupDone
			}
		}
		if err := tx.InsertAgent(ctx, a); err != nil {
			return err
		}
		if err := setAgentGrants(ctx, tx, a, in.Grants); err != nil {
			return err
		}
		return setAgentStores(ctx, tx, a, in.Stores)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, inputErr("email", "an agent with the email %s exists already", in.Email)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// UpdateAgent edits an agent. Deactivating or demoting the last active
// admin is refused; deactivation or a new password ends the agent's
// sessions and revokes their API tokens.
func (d *Desk) UpdateAgent(ctx context.Context, id int64, in AgentInput) (*store.Agent, error) {
	if err := in.check(false); err != nil {
		return nil, err
	}
	var a *store.Agent
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = tx.Agent(ctx, id); err != nil {
			return err
		}
		wasAdmin := a.Role == "admin" && a.Active
		for _, f := range [][2]*string{{&a.Email, &in.Email}, {&a.Name, &in.Name}, {&a.Role, &in.Role},
			{&a.Language, &in.Language}, {&a.Timezone, &in.Timezone}} {
			if *f[1] != "" {
				*f[0] = *f[1]
			}
		}
		if in.Signature != nil {
			a.Signature = *in.Signature
		}
		endSessions := false
		if in.Active != nil && *in.Active != a.Active {
			a.Active, endSessions = *in.Active, !*in.Active
		}
		if in.Password != "" {
			hash, err := bcrypt.GenerateFromPassword([]byte(in.Password), bcrypt.DefaultCost)
			if err != nil {
				return err
			}
			a.PasswordHash, endSessions = string(hash), true
		}
		if err := setAgentStores(ctx, tx, a, in.Stores); err != nil {
			return err
		}
		if err := setAgentGrants(ctx, tx, a, in.Grants); err != nil {
			return err
		}
		if wasAdmin && !(a.Role == "admin" && a.Active) {
			n, err := tx.CountAdmins(ctx)
			if err != nil {
				return err
			}
			if n <= 1 {
				return inputErr("role", "%s is the last active admin: make someone else admin first", a.Email)
			}
		}
		if err := tx.UpdateAgent(ctx, a); err != nil {
			return err
		}
		if !endSessions {
			return nil
		}
		if err := tx.DeleteAgentSessions(ctx, a.ID); err != nil {
			return err
		}
		// Tokens end too: reactivating an agent must not revive them, and
		// a new password is the answer to a leak of any credential.
		return tx.DeleteAgentTokens(ctx, a.ID)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, inputErr("email", "an agent with the email %s exists already", in.Email)
	}
	if err != nil {
		return nil, err
	}
	return a, nil
}

// setAgentStores writes the stores an agent works in when stores is set
// (checking each exists), and clears them for an admin, who works in
// every store: the admin is the one who can always see everything.
func setAgentStores(ctx context.Context, tx *store.Tx, a *store.Agent, stores *[]int64) error {
	if a.Role == RoleAdmin {
		if stores != nil && len(*stores) > 0 {
			return inputErr("store_ids", "an admin works in every store: choose another role to limit %s to some stores", a.Email)
		}
		if len(a.StoreIDs) > 0 || stores != nil {
			a.StoreIDs = []int64{}
			return tx.SetAgentStores(ctx, a.ID, nil)
		}
		return nil
	}
	if stores == nil {
		return nil
	}
	list := slices.Clone(*stores)
	slices.Sort(list)
	list = slices.Compact(list)
	for _, id := range list {
		ok, err := tx.Exists(ctx, "stores", id)
		if err != nil {
			return err
		}
		if !ok {
			return inputErr("store_ids", "there is no store %d", id)
		}
	}
	if list == nil {
		list = []int64{}
	}
	a.StoreIDs = list
	return tx.SetAgentStores(ctx, a.ID, list)
}

// setAgentGrants writes the permissions an agent has beyond their role,
// when grants is set: each one their role may hold. Without grants, a new
// role that may not hold one the agent had (an agent made light) drops it.
func setAgentGrants(ctx context.Context, tx *store.Tx, a *store.Agent, grants *[]string) error {
	if grants == nil {
		kept := slices.DeleteFunc(slices.Clone(a.Grants), func(g string) bool { return !MayHold(a.Role, g) })
		if len(kept) == len(a.Grants) {
			return nil
		}
		grants = &kept
	}
	for _, g := range *grants {
		if !MayHold(a.Role, g) {
			return inputErr("grants", "the %s role cannot be given %q: choose another role first", a.Role, g)
		}
	}
	list := slices.Clone(*grants)
	slices.Sort(list)
	list = slices.Compact(list)
	if list == nil {
		list = []string{}
	}
	a.Grants = list
	return tx.SetAgentGrants(ctx, a.ID, list)
}

// HashPassword hashes a password the way agents' passwords are stored.
func HashPassword(password string) (string, error) {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.DefaultCost)
	return string(hash), err
}

// ErrBadLogin is the one answer to a wrong email or a wrong password, so
// that the login does not tell which agents exist.
var ErrBadLogin = i18n.Errorf("wrong email or password")

// dummyHash keeps a login for an unknown email as slow as a real one. It
// is a constant (a bcrypt hash at DefaultCost): making it at start-up
// cost 80 ms of every cold start.
var dummyHash = []byte("$2a$10$9yxGhdf2ZPaFjbwjMPk0CuTH8pEf5OhCbwhzCSDAGZscrA5llFzb2")

// Authenticate checks an agent's email and password.
func (d *Desk) Authenticate(ctx context.Context, email, password string) (*store.Agent, error) {
	a, err := d.db.AgentByEmail(ctx, strings.TrimSpace(email))
	if errors.Is(err, store.ErrNotFound) {
		bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return nil, ErrBadLogin
	}
	if err != nil {
		return nil, err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil || !a.Active {
		return nil, ErrBadLogin
	}
	return a, nil
}

// CheckPassword tells whether password is the agent's own (ErrBadLogin
// if not, or if the agent is deactivated).
func (d *Desk) CheckPassword(ctx context.Context, agentID int64, password string) error {
	a, err := d.db.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	if bcrypt.CompareHashAndPassword([]byte(a.PasswordHash), []byte(password)) != nil || !a.Active {
		return ErrBadLogin
	}
	return nil
}

// TeamInput creates or edits a team.
type TeamInput struct {
	Name     string
	AgentIDs []int64
	// Assignment is "manual" or "round_robin" ("" keeps what the team has);
	// MaxOpen caps each member's open tickets under round robin (nil keeps).
	Assignment string
	MaxOpen    *int
}

// check checks a team's input (its name cleaned); a new team needs a name.
func (in TeamInput) check(isNew bool) error {
	if (isNew && in.Name == "") || utf8.RuneCountInString(in.Name) > 100 {
		return inputErr("name", "a team needs a name of 1 to 100 characters")
	}
	if in.Assignment != "" {
		if err := oneOf("assignment", in.Assignment, []string{"manual", "round_robin"}); err != nil {
			return err
		}
	}
	if in.MaxOpen != nil && (*in.MaxOpen < 0 || *in.MaxOpen > 10000) {
		return inputErr("max_open", "the cap on open tickets is from 0 (none) to 10000")
	}
	return nil
}

// SaveTeam creates (id 0) or updates a team; on update an empty name or
// nil AgentIDs keep what the team has.
func (d *Desk) SaveTeam(ctx context.Context, id int64, in TeamInput) (*store.Team, error) {
	in.Name = cleanLine(in.Name)
	if err := in.check(id == 0); err != nil {
		return nil, err
	}
	t := &store.Team{ID: id, Name: in.Name, AgentIDs: in.AgentIDs, Assignment: in.Assignment, CreatedAt: store.Now()}
	if in.MaxOpen != nil {
		t.MaxOpen = *in.MaxOpen
	}
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		for _, aid := range in.AgentIDs {
			if err := exists(ctx, tx, "agents", "agent_ids", &aid); err != nil {
				return err
			}
		}
		if id == 0 {
			if t.AgentIDs == nil {
				t.AgentIDs = []int64{}
			}
			return tx.InsertTeam(ctx, t)
		}
		old, err := tx.Team(ctx, id)
		if err != nil {
			return err
		}
		if t.Name == "" {
			t.Name = old.Name
		}
		if t.AgentIDs == nil {
			t.AgentIDs = old.AgentIDs
		}
		if t.Assignment == "" {
			t.Assignment = old.Assignment
		}
		if in.MaxOpen == nil {
			t.MaxOpen = old.MaxOpen
		}
		if err := tx.UpdateTeam(ctx, t); err != nil {
			return err
		}
		saved, err := tx.Team(ctx, id)
		if err == nil {
			*t = *saved
		}
		return err
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, inputErr("name", "a team named %s exists already", t.Name)
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

var slugRE = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,62}$`)

// StoreInput creates or edits a store; empty fields stay on edit.
type StoreInput struct {
	Name           string
	Slug           string
	Language       string
	Timezone       string
	AllowedOrigins *[]string
	LogoURL        *string
	Country        *string
	Orders         *OrderInput
	Chat           *store.ChatSettings // replaces all of the chat settings
	Signature      *string
}

// OrderInput sets where a store's orders are looked up; a nil token
// keeps the one set before ("" removes it).
type OrderInput struct {
	Platform      string // shopify, woocommerce or "" (see store.OrderSettings)
	ShopifyDomain string
	ShopifyToken  *string
	LookupURL     string
	LookupSecret  *string
	WooURL        string
	WooKey        *string
	WooSecret     *string
	WebhookSecret *string
}

// Platforms are the shop platforms a store's orders may live on.
var Platforms = []string{"shopify", "woocommerce"}

var shopDomain = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$`)

func (o *OrderInput) check() error {
	o.ShopifyDomain = strings.ToLower(strings.TrimSuffix(strings.TrimSpace(o.ShopifyDomain), "/"))
	o.LookupURL = strings.TrimSpace(o.LookupURL)
	if d := o.ShopifyDomain; d != "" {
		if u, err := url.Parse(d); strings.Contains(d, "://") && (err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http")) ||
			!strings.Contains(d, "://") && !shopDomain.MatchString(d) {
			return inputErr("orders.shopify_domain", "%q is not a shop address like my-shop.myshopify.com", d)
		}
	}
	if o.ShopifyToken != nil && len(*o.ShopifyToken) > 200 {
		return inputErr("orders.shopify_token", "the access token is longer than 200 characters")
	}
	if o.LookupSecret != nil && len(*o.LookupSecret) > 200 {
		return inputErr("orders.lookup_secret", "the secret is longer than 200 characters")
	}
	if o.LookupURL != "" {
		if u, err := url.Parse(o.LookupURL); err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || len(o.LookupURL) > 1000 {
			return inputErr("orders.lookup_url", "the order lookup URL must be an http:// or https:// address")
		}
	}
	if o.Platform != "" {
		if err := oneOf("orders.platform", o.Platform, Platforms); err != nil {
			return err
		}
	}
	o.WooURL = strings.TrimSuffix(strings.TrimSpace(o.WooURL), "/")
	if o.WooURL != "" {
		u, err := url.Parse(o.WooURL)
		if err != nil || u.Host == "" || len(o.WooURL) > 1000 || (u.Scheme != "https" && u.Scheme != "http") {
			return inputErr("orders.woo_url", "the WooCommerce address must be like https://shop.example.com")
		}
		// The key and secret go as basic auth: never in the clear, but to
		// a stand-in on this machine.
		if ip := net.ParseIP(u.Hostname()); u.Scheme == "http" && (ip == nil || !ip.IsLoopback()) && u.Hostname() != "localhost" {
			return inputErr("orders.woo_url", "WooCommerce needs an https:// address: the key and secret would travel in the clear")
		}
	}
	for _, f := range []struct {
		name string
		v    *string
	}{{"orders.woo_key", o.WooKey}, {"orders.woo_secret", o.WooSecret}, {"orders.webhook_secret", o.WebhookSecret}} {
		if f.v != nil && len(*f.v) > 200 {
			return inputErr(f.name, "the secret is longer than 200 characters")
		}
	}
	return nil
}

// checkHosts refuses order lookups into the desk's own network.
func (o *OrderInput) checkHosts(ctx context.Context) error {
	if d := o.ShopifyDomain; d != "" {
		host := d
		if u, err := url.Parse(d); err == nil && strings.Contains(d, "://") {
			host = u.Hostname()
		}
		if err := CheckOutboundHost(ctx, "orders.shopify_domain", host); err != nil {
			return err
		}
	}
	if o.LookupURL != "" {
		if u, err := url.Parse(o.LookupURL); err == nil {
			if err := CheckOutboundHost(ctx, "orders.lookup_url", u.Hostname()); err != nil {
				return err
			}
		}
	}
	if o.WooURL != "" {
		if u, err := url.Parse(o.WooURL); err == nil {
			return CheckOutboundHost(ctx, "orders.woo_url", u.Hostname())
		}
	}
	return nil
}

// SaveStore creates (id 0) or updates a store.
func (d *Desk) SaveStore(ctx context.Context, id int64, in StoreInput) (*store.Store, error) {
	if err := in.check(id); err != nil {
		return nil, err
	}
	if in.Orders != nil {
		if err := in.Orders.checkHosts(ctx); err != nil {
			return nil, err
		}
	}
	s := &store.Store{ID: id, Name: in.Name, Slug: in.Slug, Language: "en", Timezone: "UTC", AllowedOrigins: []string{}, CreatedAt: store.Now()}
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		if id != 0 {
			old, err := tx.Store(ctx, id)
			if err != nil {
				return err
			}
			s = old
		}
		in.apply(s)
		if id == 0 {
			return tx.InsertStore(ctx, s)
		}
		return tx.UpdateStore(ctx, s)
	})
	if errors.Is(err, store.ErrConflict) {
		return nil, inputErr("slug", "a store with the slug %s exists already", s.Slug)
	}
	if err != nil {
		return nil, err
	}
	d.storeHours.Forget() // its opening hours may have changed
	return s, nil
}

// check checks and tidies the input for store id (0 for a new one).
func (in *StoreInput) check(id int64) error {
	in.Name, in.Slug = cleanLine(in.Name), strings.TrimSpace(in.Slug)
	if id == 0 && in.Name == "" {
		return inputErr("name", "a store needs a name")
	}
	if utf8.RuneCountInString(in.Name) > 100 {
		return inputErr("name", "name is longer than 100 characters")
	}
	if id == 0 && in.Slug == "" {
		in.Slug = slugify(in.Name)
	}
	if in.Slug != "" && !slugRE.MatchString(in.Slug) {
		return inputErr("slug", "slug must be lowercase letters, digits and dashes, like my-shop")
	}
	if in.Language != "" {
		if err := oneOf("language", in.Language, Languages); err != nil {
			return err
		}
	}
	if in.Timezone != "" {
		if _, err := time.LoadLocation(in.Timezone); err != nil {
			return inputErr("timezone", "unknown time zone %q", in.Timezone)
		}
	}
	if in.AllowedOrigins != nil {
		for _, o := range *in.AllowedOrigins {
			if !strings.HasPrefix(o, "https://") && !strings.HasPrefix(o, "http://") || strings.Count(o, "/") != 2 {
				return inputErr("allowed_origins", "%q is not an origin like https://shop.example.com", o)
			}
		}
	}
	return in.checkMore()
}

// checkMore checks the chat settings, country, orders and logo.
func (in *StoreInput) checkMore() error {
	if err := checkSignature(in.Signature); err != nil {
		return err
	}
	if in.Chat != nil {
		if err := checkChat(in.Chat); err != nil {
			return err
		}
	}
	if in.Country != nil {
		*in.Country = strings.ToUpper(strings.TrimSpace(*in.Country))
		if *in.Country != "" && !Country(*in.Country) {
			return inputErr("country", "onedesk does not know how %q writes phone numbers: leave it empty, and numbers need +CC", *in.Country)
		}
	}
	if in.Orders != nil {
		if err := in.Orders.check(); err != nil {
			return err
		}
	}
	if in.LogoURL != nil && *in.LogoURL != "" {
		if u, err := url.Parse(*in.LogoURL); err != nil || u.Scheme != "https" || u.Host == "" || len(*in.LogoURL) > 1000 {
			return inputErr("logo_url", "the logo must be an https:// address of a picture")
		}
	}
	return nil
}

// apply sets on s what the input sets; the rest of s stays.
func (in *StoreInput) apply(s *store.Store) {
	if in.Name != "" {
		s.Name = in.Name
	}
	if in.Slug != "" {
		s.Slug = in.Slug
	}
	if in.Language != "" {
		s.Language = in.Language
	}
	if in.Timezone != "" {
		s.Timezone = in.Timezone
	}
	if in.AllowedOrigins != nil {
		s.AllowedOrigins = *in.AllowedOrigins
	}
	if in.Chat != nil {
		s.Chat = *in.Chat
	}
	if in.LogoURL != nil {
		s.LogoURL = *in.LogoURL
	}
	if in.Country != nil {
		s.Country = *in.Country
	}
	if in.Signature != nil {
		s.Signature = *in.Signature
	}
	if o := in.Orders; o != nil {
		s.Orders.ShopifyDomain, s.Orders.LookupURL = o.ShopifyDomain, o.LookupURL
		if o.ShopifyToken != nil {
			s.Orders.ShopifyToken = strings.TrimSpace(*o.ShopifyToken)
		}
		if o.LookupSecret != nil {
			s.Orders.LookupSecret = strings.TrimSpace(*o.LookupSecret)
		}
		s.Orders.TokenSet, s.Orders.SecretSet = s.Orders.ShopifyToken != "", s.Orders.LookupSecret != ""
		s.Orders.Platform, s.Orders.WooURL = o.Platform, o.WooURL
		for _, f := range [][2]*string{{&s.Orders.WooKey, o.WooKey}, {&s.Orders.WooSecret, o.WooSecret}, {&s.Orders.WebhookSecret, o.WebhookSecret}} {
			if f[1] != nil {
				*f[0] = strings.TrimSpace(*f[1])
			}
		}
		s.Orders.WooKeySet = s.Orders.WooKey != "" && s.Orders.WooSecret != ""
		s.Orders.WebhookSecretSet = s.Orders.WebhookSecret != ""
	}
}

func slugify(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
			dash = false
		} else if !dash && b.Len() > 0 {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.TrimSuffix(b.String(), "-")
	if len(s) > 63 {
		s = s[:63]
	}
	if s == "" {
		s = "store"
	}
	return s
}

// roundRobin gives a new or open unassigned ticket of a round-robin team
// to the member whose turn is next among those online, active and under
// the team's cap on open tickets, but for skip (0 = none). Members take
// turns in id order; nobody free leaves the ticket in the team's queue.
// It returns the event.
func (d *Desk) roundRobin(ctx context.Context, tx *store.Tx, t *store.Ticket, skip int64) (*store.Event, error) {
	if t.TeamID == nil || t.AssigneeID != nil || !waitsOnUs(t.Status) {
		return nil, nil
	}
	team, err := tx.Team(ctx, *t.TeamID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || team.Assignment != "round_robin" || len(team.AgentIDs) == 0 {
		return nil, err
	}
	members := slices.Sorted(slices.Values(team.AgentIDs))
	start := 0
	if team.LastAgentID != nil {
		start, _ = slices.BinarySearch(members, *team.LastAgentID+1)
	}
	for i := range members {
		id := members[(start+i)%len(members)]
		if id == skip || d.Online != nil && !d.Online(id) {
			continue
		}
		a, err := tx.Agent(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		if !a.Active || !WorksIn(a, t.StoreID) {
			continue
		}
		if team.MaxOpen > 0 {
			n, err := tx.OpenTicketsOf(ctx, id)
			if err != nil {
				return nil, err
			}
			if n >= team.MaxOpen {
				continue
			}
		}
		if err := tx.SetTeamTurn(ctx, team.ID, id); err != nil {
			return nil, err
		}
		t.AssigneeID = &id
		return addEvent(ctx, tx, t.ID, System, store.AssignedData{To: &id, RoundRobin: true})
	}
	return nil, nil
}

// waitsOnUs tells whether a ticket in status waits on the agents.
func waitsOnUs(status string) bool { return status == "new" || status == "open" }

// sweepBatch is how many waiting tickets one transaction assigns.
const sweepBatch = 200

// AssignWaiting hands the tickets waiting in round-robin teams' queues
// (nobody was free when they came) to members who are free now, oldest
// first. It returns how many it assigned.
func (d *Desk) AssignWaiting(ctx context.Context) (int, error) {
	teams, err := d.db.Teams(ctx)
	if err != nil {
		return 0, err
	}
	assigned := 0
	for _, team := range teams {
		if team.Assignment != "round_robin" {
			continue
		}
		ids, err := d.db.WaitingTickets(ctx, team.ID, sweepBatch)
		if err != nil {
			return assigned, err
		}
		if len(ids) == 0 {
			continue
		}
		var changes []Change
		n := 0
		err = d.db.Write(ctx, func(tx *store.Tx) error {
			changes, n = changes[:0], 0
			for _, id := range ids {
				t, err := tx.Ticket(ctx, id)
				if err != nil {
					return err
				}
				ev, err := d.roundRobin(ctx, tx, t, 0)
				if err != nil {
					return err
				}
				if ev == nil {
					return nil // nobody free: the rest wait too
				}
				more, err := d.saveTicket(ctx, tx, t, store.Now())
				if err != nil {
					return err
				}
				changes = append(changes, Change{Type: "event", TicketID: t.ID, Event: ev})
				changes = append(changes, more...)
				n++
			}
			return nil
		})
		if err != nil {
			return assigned, fmt.Errorf("assign waiting tickets of team %d: %w", team.ID, err)
		}
		assigned += n
		d.publishAll(ctx, changes)
	}
	return assigned, nil
}
