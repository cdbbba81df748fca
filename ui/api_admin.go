package ui

import (
	"slices"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/store"
)

// listAgents lists the agents; to an agent of some stores, those who
// work in one of them (the ones their tickets can go to).
func (s *Server) listAgents(c *fiber.Ctx, p *principal) error {
	list, err := s.db.Agents(c.UserContext())
	if err != nil {
		return err
	}
	if p.limited() {
		list = slices.DeleteFunc(list, func(a *store.Agent) bool {
			return len(a.StoreIDs) > 0 && !slices.ContainsFunc(a.StoreIDs, func(id int64) bool { return p.seesStore(&id) })
		})
	}
	// Whether each signs in with a code: an admin resets it for a lost phone.
	twoFactor, err := s.db.TwoFactorAgents(c.UserContext())
	if err != nil {
		return err
	}
	// Their pictures, for the app's lists (initials where there is none).
	pictures, err := s.db.AvatarKeys(c.UserContext())
	if err != nil {
		return err
	}
	type agentRow struct {
		*store.Agent
		TwoFactor bool   `json:"two_factor"`
		AvatarURL string `json:"avatar_url"`
	}
	rows := make([]agentRow, len(list))
	for i, a := range list {
		rows[i] = agentRow{a, twoFactor[a.ID], avatarURL(pictures[a.ID])}
	}
	return c.JSON(fiber.Map{"agents": rows})
}

// listRoles answers the roles and what each may do, for the agents'
// settings: {"roles": [{"key", "permissions"}], "permissions": [...]}.
func (s *Server) listRoles(c *fiber.Ctx, _ *principal) error {
	type role struct {
		Key         string   `json:"key"`
		Permissions []string `json:"permissions"`
	}
	roles := []role{}
	for _, r := range desk.Roles {
		roles = append(roles, role{r, desk.RolePermissions(r)})
	}
	return c.JSON(fiber.Map{"roles": roles, "permissions": desk.Permissions})
}

type agentBody struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Password string `json:"password"`
	Role     string `json:"role"`
	Language string `json:"language"`
	Timezone string `json:"timezone"`
	Active   *bool  `json:"active"`
	// StoreIDs, when sent, are the stores the agent works in ([]: all).
	StoreIDs *[]int64 `json:"store_ids"`
	// Grants, when sent, are permissions beyond the role (["order_actions"]).
	Grants *[]string `json:"grants"`
}

func (b agentBody) input() desk.AgentInput {
	return desk.AgentInput{Email: b.Email, Name: b.Name, Password: b.Password, Role: b.Role,
		Language: b.Language, Timezone: b.Timezone, Active: b.Active, Stores: b.StoreIDs, Grants: b.Grants}
}

func (s *Server) createAgent(c *fiber.Ctx, _ *principal) error {
	var in agentBody
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := s.desk.CreateAgent(c.UserContext(), in.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

func (s *Server) updateAgent(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in agentBody
	if err := decode(c, &in); err != nil {
		return err
	}
	if id == p.agent.ID && in.Password != "" {
		// An admin's own password needs the current one, as on /api/me.
		return fieldErr("password", "change your own password in your profile, with your current password")
	}
	a, err := s.desk.UpdateAgent(c.UserContext(), id, in.input())
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) listTeams(c *fiber.Ctx, _ *principal) error {
	list, err := s.db.Teams(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"teams": list})
}

type teamBody struct {
	Name       string  `json:"name"`
	AgentIDs   []int64 `json:"agent_ids"`
	Assignment string  `json:"assignment"`
	MaxOpen    *int    `json:"max_open"`
}

func (b teamBody) input() desk.TeamInput {
	return desk.TeamInput{Name: b.Name, AgentIDs: b.AgentIDs, Assignment: b.Assignment, MaxOpen: b.MaxOpen}
}

func (s *Server) createTeam(c *fiber.Ctx, _ *principal) error {
	var in teamBody
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.desk.SaveTeam(c.UserContext(), 0, in.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(t)
}

func (s *Server) updateTeam(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in teamBody
	if err := decode(c, &in); err != nil {
		return err
	}
	t, err := s.desk.SaveTeam(c.UserContext(), id, in.input())
	if err != nil {
		return err
	}
	return c.JSON(t)
}

func (s *Server) listStores(c *fiber.Ctx, p *principal) error {
	list, err := s.db.Stores(c.UserContext())
	if err != nil {
		return err
	}
	list = slices.DeleteFunc(list, func(st *store.Store) bool { return !p.seesStore(&st.ID) })
	return c.JSON(fiber.Map{"stores": list})
}

type storeBody struct {
	Name           string              `json:"name"`
	Slug           string              `json:"slug"`
	Language       string              `json:"language"`
	Timezone       string              `json:"timezone"`
	AllowedOrigins *[]string           `json:"allowed_origins"`
	LogoURL        *string             `json:"logo_url"`
	Country        *string             `json:"country"`
	Orders         *orderBody          `json:"orders"`
	Chat           *store.ChatSettings `json:"chat"`
	Signature      *string             `json:"signature"`
}

type orderBody struct {
	Platform      string  `json:"platform"`
	ShopifyDomain string  `json:"shopify_domain"`
	ShopifyToken  *string `json:"shopify_token"`
	LookupURL     string  `json:"lookup_url"`
	LookupSecret  *string `json:"lookup_secret"`
	WooURL        string  `json:"woo_url"`
	WooKey        *string `json:"woo_key"`
	WooSecret     *string `json:"woo_secret"`
	WebhookSecret *string `json:"webhook_secret"`
	// Read back from GET; ignored.
	TokenSet         bool `json:"shopify_token_set"`
	SecretSet        bool `json:"lookup_secret_set"`
	WooKeySet        bool `json:"woo_key_set"`
	WebhookSecretSet bool `json:"webhook_secret_set"`
}

func (b storeBody) input() desk.StoreInput {
	in := desk.StoreInput{Name: b.Name, Slug: b.Slug, Language: b.Language, Timezone: b.Timezone, AllowedOrigins: b.AllowedOrigins,
		LogoURL: b.LogoURL, Country: b.Country, Chat: b.Chat, Signature: b.Signature}
	if o := b.Orders; o != nil {
		in.Orders = &desk.OrderInput{Platform: o.Platform, ShopifyDomain: o.ShopifyDomain, ShopifyToken: o.ShopifyToken,
			LookupURL: o.LookupURL, LookupSecret: o.LookupSecret, WooURL: o.WooURL, WooKey: o.WooKey, WooSecret: o.WooSecret,
			WebhookSecret: o.WebhookSecret}
	}
	return in
}

func (s *Server) createStore(c *fiber.Ctx, _ *principal) error {
	var in storeBody
	if err := decode(c, &in); err != nil {
		return err
	}
	st, err := s.desk.SaveStore(c.UserContext(), 0, in.input())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(st)
}

func (s *Server) updateStore(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in storeBody
	if err := decode(c, &in); err != nil {
		return err
	}
	st, err := s.desk.SaveStore(c.UserContext(), id, in.input())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) getSettings(c *fiber.Ctx, _ *principal) error {
	st, err := s.desk.Settings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(st)
}

func (s *Server) updateSettings(c *fiber.Ctx, p *principal) error {
	st, err := s.desk.Settings(c.UserContext())
	if err != nil {
		return err
	}
	was := st.RequireTwoFactor
	if err := decode(c, &st); err != nil { // absent keys keep their values
		return err
	}
	if st.RequireTwoFactor && !was {
		// An admin who requires it has it: no desk locks out whoever
		// turned the requirement on.
		if on, err := s.db.TwoFactorOn(c.UserContext(), p.agent.ID); err != nil {
			return err
		} else if !on {
			return fieldErr("require_two_factor", "turn on two-factor sign-in for yourself first (My settings), then require it of everyone")
		}
	}
	if st, err = s.desk.SaveSettings(c.UserContext(), st); err != nil {
		return err
	}
	return c.JSON(st)
}
