package ui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

const (
	sessionCookie = "onedesk_session"
	sessionTTL    = 30 * 24 * time.Hour
	tokenPrefix   = "od_"
)

// principal is who a request comes from.
type principal struct {
	agent       *store.Agent
	sessionHash string // set when authenticated by cookie
	csrf        string
	tokenID     int64 // set when authenticated by API token
}

func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashToken(t string) string {
	sum := sha256.Sum256([]byte(t))
	return hex.EncodeToString(sum[:])
}

var errUnauthenticated = &apiError{Status: fiber.StatusUnauthorized, Message: "log in first, or send an API token as Authorization: Bearer <token>"}

// authenticate finds the agent behind a session cookie or bearer token:
// from the credential cache while nothing about agents, sessions or
// tokens has changed since it was read (see credCache), else from the
// database.
func (s *Server) authenticate(ctx context.Context, cookie, authorization string) (*principal, error) {
	var key, hash string
	switch {
	case authorization != "":
		scheme, tok, _ := strings.Cut(authorization, " ")
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(tok, tokenPrefix) {
			return nil, &apiError{Status: fiber.StatusUnauthorized, Message: "the Authorization header must be Bearer <token>"}
		}
		hash = hashToken(strings.TrimSpace(tok))
		key = "t" + hash
	case cookie != "":
		hash = hashToken(cookie)
		key = "s" + hash
	default:
		return nil, errUnauthenticated
	}
	now := time.Now()
	version, cacheable := s.db.AuthVersion() // before the reads: a change meanwhile makes the entry stale
	e, ok := credEntry{}, false
	if cacheable {
		e, ok = s.creds.get(key, version, now)
	}
	if !ok {
		var err error
		if e, err = s.readCredential(ctx, key[0], hash); err != nil {
			return nil, err
		}
		if cacheable {
			e.version, e.readAt = version, now
			s.creds.put(key, e)
		}
	}
	p := &principal{agent: &e.agent, csrf: e.csrf, tokenID: e.tokenID} // e is this request's copy
	if e.tokenID != 0 {
		// Record use at most once a minute: not a write per request.
		if e.lastUsed.IsZero() || now.Sub(e.lastUsed) > time.Minute {
			if err := s.desk.TokenUsed(ctx, e.tokenID); err != nil {
				s.log.Warn("touch token", "err", err)
			}
			s.creds.touched(key, now)
		}
		return p, nil
	}
	if !now.Before(e.expires) {
		return nil, errSessionEnded
	}
	if e.expires.Sub(now) < sessionTTL/2 {
		if err := s.desk.ExtendSession(ctx, hash, store.Now().Add(sessionTTL)); err != nil {
			s.log.Warn("extend session", "err", err)
		}
	}
	p.sessionHash = hash
	return p, nil
}

var errSessionEnded = &apiError{Status: fiber.StatusUnauthorized, Message: "your session has ended: log in again"}

// readCredential reads a token ('t') or session ('s') and its agent.
func (s *Server) readCredential(ctx context.Context, kind byte, hash string) (credEntry, error) {
	var e credEntry
	var agentID int64
	if kind == 't' {
		t, err := s.db.APITokenByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return e, &apiError{Status: fiber.StatusUnauthorized, Message: "the API token is not valid (revoked or mistyped)"}
		}
		if err != nil {
			return e, err
		}
		e.tokenID, agentID = t.ID, t.AgentID
		if t.LastUsedAt != nil {
			e.lastUsed = *t.LastUsedAt
		}
	} else {
		sess, err := s.db.SessionByHash(ctx, hash)
		if errors.Is(err, store.ErrNotFound) {
			return e, errSessionEnded
		}
		if err != nil {
			return e, err
		}
		e.csrf, e.expires, agentID = sess.CSRFToken, sess.ExpiresAt, sess.AgentID
	}
	a, err := s.db.Agent(ctx, agentID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !a.Active) {
		return e, &apiError{Status: fiber.StatusUnauthorized, Message: "this agent account is deactivated"}
	}
	if err != nil {
		return e, err
	}
	e.agent = *a
	return e, nil
}

// guard applies a route's access rule, CSRF check and rate limit.
func (s *Server) guard(r route) fiber.Handler {
	return func(c *fiber.Ctx) error {
		if err := readBody(c, r); err != nil {
			return err
		}
		if r.access == public {
			if !s.publicLimit.Allow(c.IP()) {
				return errTooMany
			}
			if r.method != fiber.MethodGet && !s.loginLimit.Allow(c.IP()) {
				return &apiError{Status: fiber.StatusTooManyRequests, Message: "too many attempts from your address: wait a minute and try again"}
			}
			return r.handler(c, nil)
		}
		p, err := s.authenticate(c.UserContext(), c.Cookies(sessionCookie), c.Get(fiber.HeaderAuthorization))
		if err != nil {
			return err
		}
		c.Locals(agentLanguageKey, p.agent.Language)
		key := "t" + itoa(p.tokenID)
		if p.tokenID == 0 {
			key = "a" + itoa(p.agent.ID)
		}
		if !s.apiLimit.Allow(key) {
			return &apiError{Status: fiber.StatusTooManyRequests, Message: "too many requests: slow down and retry in a few seconds"}
		}
		// A cookie rides along on requests other sites make; a header the
		// page read from /api/me cannot.
		if p.sessionHash != "" && r.method != fiber.MethodGet && r.method != fiber.MethodHead {
			got := c.Get("X-CSRF-Token")
			if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(p.csrf)) != 1 {
				return &apiError{Status: fiber.StatusForbidden, Message: "missing or wrong X-CSRF-Token header: reload the page", Field: "X-CSRF-Token"}
			}
		}
		if r.access == admin && p.agent.Role != "admin" {
			return &apiError{Status: fiber.StatusForbidden, Message: "only an admin can do this"}
		}
		return r.handler(c, p)
	}
}

// startSession logs an agent in on this browser.
func (s *Server) startSession(c *fiber.Ctx, a *store.Agent) error {
	tok := randomToken()
	sess := &store.Session{TokenHash: hashToken(tok), AgentID: a.ID, CSRFToken: randomToken(), ExpiresAt: store.Now().Add(sessionTTL)}
	if err := s.desk.StartSession(c.UserContext(), sess); err != nil {
		return err
	}
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure: s.secureCookies(c), Expires: sess.ExpiresAt,
	})
	return c.JSON(meBody{Agent: a, CSRFToken: sess.CSRFToken})
}

type meBody struct {
	Agent     *store.Agent `json:"agent"`
	CSRFToken string       `json:"csrf_token,omitempty"`
	Presence  string       `json:"presence,omitempty"` // online | away, for live chat
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

func (s *Server) login(c *fiber.Ctx, _ *principal) error {
	var in credentials
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Email == "" {
		return fieldErr("email", "email is empty")
	}
	if in.Password == "" {
		return fieldErr("password", "password is empty")
	}
	a, err := s.desk.Authenticate(c.UserContext(), in.Email, in.Password)
	if errors.Is(err, desk.ErrBadLogin) {
		return &apiError{Status: fiber.StatusUnauthorized, Message: err.Error(), Sentence: i18n.SentenceOf(err)}
	}
	if err != nil {
		return err
	}
	return s.startSession(c, a)
}

func (s *Server) logout(c *fiber.Ctx, p *principal) error {
	if p.sessionHash != "" {
		if err := s.desk.EndSession(c.UserContext(), p.sessionHash); err != nil {
			return err
		}
	}
	c.Cookie(&fiber.Cookie{Name: sessionCookie, Value: "", Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure: s.secureCookies(c), Expires: time.Unix(1, 0)})
	return c.SendStatus(http.StatusNoContent)
}

func (s *Server) me(c *fiber.Ctx, p *principal) error {
	return c.JSON(meBody{Agent: p.agent, CSRFToken: p.csrf, Presence: s.presence(p.agent.ID)})
}

func (s *Server) presence(agentID int64) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isAway(agentID) {
		return "away"
	}
	return "online"
}

// setPresence is an agent's own online/away switch: away agents with the
// app open do not count as there to chat.
func (s *Server) setPresence(c *fiber.Ctx, p *principal) error {
	var in struct {
		Presence string `json:"presence"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Presence != "online" && in.Presence != "away" {
		return fieldErr("presence", "presence must be online or away")
	}
	s.mu.Lock()
	if in.Presence == "away" {
		s.away[p.agent.ID] = true
	} else {
		delete(s.away, p.agent.ID)
	}
	s.noteAwaySwitch(p.agent.ID, in.Presence == "away")
	s.mu.Unlock()
	return c.JSON(fiber.Map{"presence": in.Presence})
}

func (s *Server) updateMe(c *fiber.Ctx, p *principal) error {
	var in struct {
		Name     string `json:"name"`
		Language string `json:"language"`
		Timezone string `json:"timezone"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := s.desk.UpdateAgent(c.UserContext(), p.agent.ID, desk.AgentInput{
		Name: in.Name, Language: in.Language, Timezone: in.Timezone, Password: in.Password})
	if err != nil {
		return err
	}
	if in.Password != "" && p.sessionHash != "" {
		return s.startSession(c, a) // a new password ended every session, this one too
	}
	return c.JSON(meBody{Agent: a, CSRFToken: p.csrf})
}

func (s *Server) setupStatus(c *fiber.Ctx, _ *principal) error {
	n, err := s.db.CountAgents(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"needed": n == 0})
}

func (s *Server) setup(c *fiber.Ctx, _ *principal) error {
	var in credentials
	if err := decode(c, &in); err != nil {
		return err
	}
	a, err := s.desk.CreateFirstAdmin(c.UserContext(), desk.AgentInput{Email: in.Email, Name: in.Name, Password: in.Password})
	if err != nil {
		return err
	}
	c.Status(fiber.StatusCreated)
	return s.startSession(c, a)
}

func (s *Server) listTokens(c *fiber.Ctx, p *principal) error {
	list, err := s.db.APITokens(c.UserContext(), p.agent.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tokens": list})
}

func (s *Server) createToken(c *fiber.Ctx, p *principal) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	in.Name = strings.TrimSpace(in.Name)
	if in.Name == "" || len(in.Name) > 100 {
		return fieldErr("name", "give the token a name of 1 to 100 characters, like \"shop integration\"")
	}
	tok := tokenPrefix + randomToken()
	t := &store.APIToken{AgentID: p.agent.ID, Name: in.Name, TokenHash: hashToken(tok), CreatedAt: store.Now()}
	if err := s.desk.CreateAPIToken(c.UserContext(), t); err != nil {
		return err
	}
	c.Status(fiber.StatusCreated)
	// The token is shown this once; only its hash is kept.
	return c.JSON(struct {
		*store.APIToken
		Token string `json:"token"`
	}{t, tok})
}

func (s *Server) deleteToken(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.desk.RevokeAPIToken(c.UserContext(), p.agent.ID, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
