package ui

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/audit"
	"onedesk/store"
)

// The audit log from the API's side: withAudit wraps the routes that
// change accounts and settings (and sign-ins, tokens, merges), so that
// each success, and each failed login, leaves an entry with who, from
// where and which fields changed. Other handlers call s.record for
// what a route alone cannot tell.

// auditedAgentRoutes are routes any agent may call that the log keeps;
// every admin route that writes is kept too (but for unauditedRoutes).
var auditedAgentRoutes = map[string]bool{
	"POST /api/setup":                    true,
	"POST /api/auth/login":               true,
	"POST /api/auth/logout":              true,
	"PATCH /api/me":                      true,
	"PUT /api/me/avatar":                 true, // an agent's picture: chat visitors see it
	"DELETE /api/me/avatar":              true,
	"POST /api/tokens":                   true,
	"DELETE /api/tokens/:id":             true,
	"POST /api/customers/:id/merge":      true,
	"POST /api/customers/:id/unmerge":    true,
	"GET /api/customers/:id/export":      false, // recorded by the handlers, with counts
	"POST /api/customers/:id/erase":      false,
	"POST /api/agents/:id/handover":      false, // ticket work: the tickets' events have it
	"POST /api/mailboxes/:id/test":       false, // changes nothing
	"POST /api/webhooks/:id/test":        false,
	"POST /api/forms/preview":            false,
	"POST /api/checklist/dismiss":        false,
	"POST /api/social-accounts/:id/test": false,
	"POST /api/import":                   false, // recorded by the handler, with counts
}

// The kinds of an agent's own picture set and removed (through My settings).
const (
	auditAvatarSet     = "profile.avatar_set"
	auditAvatarRemoved = "profile.avatar_removed"
)

// auditKinds turns a route's collection into the kind of thing its
// entries name.
var auditKinds = map[string]string{
	"agents": "agent", "teams": "team", "mailboxes": "mailbox", "settings": "settings",
	"stores": "store", "forms": "form", "rules": "rule", "webhooks": "webhook",
	"social-accounts": "channel", "sla-policies": "sla_policy", "backups": "backup",
	"tokens": "token", "customers": "customer", "saved-replies": "saved_reply",
}

// audited tells whether calls of r go into the log.
func audited(r route) bool {
	key := r.method + " " + r.path
	if v, ok := auditedAgentRoutes[key]; ok {
		return v
	}
	if r.method == fiber.MethodGet || r.method == fiber.MethodHead {
		return false
	}
	// Settings and the team, whichever role may change them.
	return r.access == admin || r.access == agentsManage || strings.HasPrefix(string(r.access), "settings.")
}

// withAudit wraps r's handler to record each call that succeeds (and
// failed logins) when r is audited.
func (s *Server) withAudit(r route) route {
	if !audited(r) {
		return r
	}
	inner := r.handler
	r.handler = func(c *fiber.Ctx, p *principal) error {
		sent := append([]byte(nil), c.Body()...)
		before := s.auditBefore(c, p, r)
		err := inner(c, p)
		switch {
		case r.path == "/api/auth/login":
			s.auditLogin(c, sent, err)
		case r.path == "/api/setup":
			var me meBody
			if err == nil && json.Unmarshal(c.Response().Body(), &me) == nil && me.Agent != nil {
				s.record(c, &principal{agent: me.Agent}, "agent.created", audit.Target("agent", me.Agent.ID), map[string]any{"first_admin": true})
			}
		case err == nil && c.Response().StatusCode() < 400:
			s.auditChange(c, p, r, sent, before)
		}
		return err
	}
	return r
}

// record appends an entry by the request's principal (nil: nobody signed in).
func (s *Server) record(c *fiber.Ctx, p *principal, kind, target string, data map[string]any) {
	s.auditLog.Record(c.UserContext(), s.auditEntry(c, p, kind, target, data))
}

// auditEntry is an entry by the request's principal, from its address.
func (s *Server) auditEntry(c *fiber.Ctx, p *principal, kind, target string, data map[string]any) audit.Entry {
	e := audit.Entry{Kind: kind, Target: target, Data: data, IP: c.IP(), UserAgent: c.Get(fiber.HeaderUserAgent), ActorKind: audit.ByAnonymous}
	if p != nil && p.agent != nil {
		id := p.agent.ID
		e.ActorID, e.ActorName, e.ActorKind = &id, p.agent.Name, audit.ByAgent
		if p.tokenID != 0 {
			tid := p.tokenID
			e.TokenID, e.ActorKind = &tid, audit.ByToken
		}
	}
	return e
}

// auditBefore reads the thing a PATCH changes, to tell which fields it
// changed (nil where there is no reader: every field sent counts).
func (s *Server) auditBefore(c *fiber.Ctx, p *principal, r route) any {
	if r.method != fiber.MethodPatch {
		return nil
	}
	ctx := c.UserContext()
	id, _ := strconv.ParseInt(c.Params("id"), 10, 64)
	var v any
	var err error
	switch auditCollection(r.path) {
	case "settings":
		v, err = s.desk.Settings(ctx)
	case "agents":
		v, err = s.db.Agent(ctx, id)
	case "stores":
		v, err = s.db.Store(ctx, id)
	case "forms":
		v, err = s.db.Form(ctx, id)
	case "mailboxes":
		v, err = s.db.Mailbox(ctx, id)
	case "social-accounts":
		v, err = s.db.SocialAccount(ctx, id)
	case "webhooks":
		v, err = s.db.Webhook(ctx, id)
	case "rules":
		v, err = s.rule(c)
	case "sla-policies":
		v, err = s.slaPolicy(c)
	case "teams":
		v, err = s.team(ctx, id)
	case "me":
		if p == nil {
			return nil
		}
		v, err = s.db.Agent(ctx, p.agent.ID)
	default:
		return nil
	}
	if err != nil {
		return nil
	}
	raw, _ := json.Marshal(v)
	return raw
}

func (s *Server) team(ctx context.Context, id int64) (*store.Team, error) {
	list, err := s.db.Teams(ctx)
	if err != nil {
		return nil, err
	}
	for _, t := range list {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, store.ErrNotFound
}

// auditCollection is the collection a route's path names: "mailboxes"
// for /api/mailboxes/:id/test.
func auditCollection(path string) string {
	rest := strings.TrimPrefix(path, "/api/")
	name, _, _ := strings.Cut(rest, "/")
	return name
}

// auditChange records a successful change.
func (s *Server) auditChange(c *fiber.Ctx, p *principal, r route, sent []byte, before any) {
	coll := auditCollection(r.path)
	thing := auditKinds[coll]
	if thing == "" {
		thing = strings.ReplaceAll(coll, "-", "_")
	}
	after := c.Response().Body()
	id, _ := strconv.ParseInt(c.Params("id"), 10, 64)
	if id == 0 && r.method == fiber.MethodPost {
		var created struct {
			ID int64 `json:"id"`
		}
		if json.Unmarshal(after, &created) == nil {
			id = created.ID
		}
	}
	target := ""
	if id != 0 {
		target = audit.Target(thing, id)
	}
	data := map[string]any{}
	var kind string
	switch {
	case r.path == "/api/auth/logout":
		kind = audit.Logout
	case r.path == "/api/me/avatar":
		kind, target = auditAvatarSet, audit.Target("agent", p.agent.ID)
		if r.method == fiber.MethodDelete {
			kind = auditAvatarRemoved
		}
	case r.path == "/api/me":
		fields := audit.ChangedFields(before, after, sent)
		if has(fields, "password") {
			s.record(c, p, audit.PasswordChanged, audit.Target("agent", p.agent.ID), nil)
		}
		fields = without(fields, "password", "current_password")
		if len(fields) == 0 {
			return
		}
		kind, target, data["fields"] = "profile.updated", audit.Target("agent", p.agent.ID), fields
	case r.method == fiber.MethodPost && strings.Count(r.path, "/") == 2:
		kind, data["fields"] = thing+".created", audit.ChangedFields(nil, after, sent)
	case r.method == fiber.MethodPatch:
		fields := audit.ChangedFields(before, after, sent)
		kind, data["fields"] = thing+".updated", fields
		if coll == "agents" {
			defer s.auditAgentChange(c, p, target, before, after) // after the change's own entry
		}
	case r.method == fiber.MethodDelete:
		kind = thing + ".deleted"
		if coll == "tokens" {
			kind = audit.TokenRevoked
		}
	default: // POST /api/x/:id/action
		action := r.path[strings.LastIndex(r.path, "/")+1:]
		kind = thing + "." + action
		if action == "merge" || action == "unmerge" {
			kind += "d"
		}
		var body struct {
			CustomerID int64 `json:"customer_id"`
		}
		if coll == "customers" && json.Unmarshal(sent, &body) == nil && body.CustomerID != 0 {
			data["customer_id"] = body.CustomerID
		}
	}
	if coll == "tokens" && r.method == fiber.MethodPost {
		kind, data = audit.TokenCreated, map[string]any{}
	}
	if coll == "backups" {
		kind = "backup.started"
	}
	s.record(c, p, kind, target, data)
}

// auditAgentChange records a role change and a (de)activation as their
// own kinds, so that a filter finds them.
func (s *Server) auditAgentChange(c *fiber.Ctx, p *principal, target string, before any, after []byte) {
	var was, now struct {
		Role   string `json:"role"`
		Active *bool  `json:"active"`
	}
	if b, ok := before.([]byte); !ok || json.Unmarshal(b, &was) != nil || json.Unmarshal(after, &now) != nil {
		return
	}
	if was.Role != now.Role && now.Role != "" {
		s.record(c, p, audit.AgentRole, target, map[string]any{"from": was.Role, "to": now.Role})
	}
	if was.Active != nil && now.Active != nil && *was.Active != *now.Active {
		kind := audit.AgentDeactivate
		if *now.Active {
			kind = audit.AgentReactivate
		}
		s.record(c, p, kind, target, nil)
	}
}

// auditLogin records a login, or a failed one with why it failed (the
// answer to the client stays the same for every reason).
func (s *Server) auditLogin(c *fiber.Ctx, sent []byte, err error) {
	var in credentials
	json.Unmarshal(sent, &in)
	if err == nil {
		var me meBody
		if json.Unmarshal(c.Response().Body(), &me) == nil && me.Agent != nil {
			s.record(c, &principal{agent: me.Agent}, audit.Login, audit.Target("agent", me.Agent.ID), nil)
		}
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.Status != fiber.StatusUnauthorized {
		return // refused before any check of the password (bad input, rate limit)
	}
	reason := "wrong_password"
	target := ""
	a, lookErr := s.db.AgentByEmail(c.UserContext(), strings.TrimSpace(in.Email))
	switch {
	case errors.Is(lookErr, store.ErrNotFound):
		reason = "unknown_email"
	case lookErr == nil && !a.Active:
		reason, target = "inactive", audit.Target("agent", a.ID)
	case lookErr == nil:
		target = audit.Target("agent", a.ID)
	}
	email := strings.TrimSpace(in.Email)
	if len(email) > 200 {
		email = email[:200]
	}
	s.record(c, nil, audit.LoginFailed, target, map[string]any{"reason": reason, "email": strings.ToValidUTF8(email, "")})
}

func has(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func without(list []string, drop ...string) []string {
	out := list[:0:0]
	for _, x := range list {
		if !has(drop, x) {
			out = append(out, x)
		}
	}
	return out
}

// listAudit answers a page of the audit log, newest first: filters
// actor_id, kind (or a prefix ending in "."), from and to (RFC 3339 or
// YYYY-MM-DD), before (the next_before of the page before) and limit;
// format=csv answers CSV.
func (s *Server) listAudit(c *fiber.Ctx, _ *principal) error {
	f := store.AuditFilter{Kind: strings.TrimSpace(c.Query("kind")), Limit: 100}
	if v := c.Query("actor_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return fieldErr("actor_id", "actor_id must be an agent's id")
		}
		f.ActorID = &id
	}
	for _, t := range []struct {
		name string
		into *time.Time
		day  time.Duration
	}{{"from", &f.From, 0}, {"to", &f.To, 24 * time.Hour}} {
		v := c.Query(t.name)
		if v == "" {
			continue
		}
		at, err := time.Parse(time.RFC3339, v)
		if err != nil {
			day, derr := time.Parse("2006-01-02", v)
			if derr != nil {
				return fieldErr(t.name, "%s must be a date (YYYY-MM-DD) or an RFC 3339 time", t.name)
			}
			at = day.Add(t.day) // a day given as "to" includes that day
		}
		*t.into = at
	}
	if v := c.Query("before"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return fieldErr("before", "before must be the next_before of the page before")
		}
		f.Before = n
	}
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1000 {
			return fieldErr("limit", "limit must be from 1 to 1000")
		}
		f.Limit = n
	}
	list, err := s.auditLog.List(c.UserContext(), f)
	if err != nil {
		return err
	}
	var next int64
	if len(list) == f.Limit {
		next = list[len(list)-1].ID
	}
	if c.Query("format") == "csv" {
		return writeAuditCSV(c, list, next)
	}
	return c.JSON(fiber.Map{"entries": list, "next_before": next})
}

func writeAuditCSV(c *fiber.Ctx, list []audit.Entry, next int64) error {
	c.Set(fiber.HeaderContentType, "text/csv; charset=utf-8")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="audit.csv"`)
	if next != 0 {
		c.Set("X-Next-Before", strconv.FormatInt(next, 10))
	}
	w := csv.NewWriter(c)
	w.Write([]string{"id", "at", "actor_kind", "actor_id", "actor_name", "token_id", "kind", "target", "data", "ip", "user_agent"})
	for _, e := range list {
		data, _ := json.Marshal(e.Data)
		w.Write([]string{strconv.FormatInt(e.ID, 10), e.At.Format(time.RFC3339), e.ActorKind, optID(e.ActorID),
			csvSafe(e.ActorName), optID(e.TokenID), e.Kind, e.Target, csvSafe(string(data)), e.IP, csvSafe(e.UserAgent)})
	}
	w.Flush()
	return w.Error()
}

func optID(id *int64) string {
	if id == nil {
		return ""
	}
	return strconv.FormatInt(*id, 10)
}

// csvSafe keeps a spreadsheet from reading a cell as a formula (a name or
// user agent someone chose).
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
