package ui

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
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
	tokenID     int64  // set when authenticated by API token
	key         string // the credential's cache key (see authenticateKey)
	twoFactor   bool   // the agent signs in with a code (read for sessions only)
}

func randomToken() string { return desk.RandomToken() }

func hashToken(t string) string { return desk.HashToken(t) }

var errUnauthenticated = &apiError{Status: fiber.StatusUnauthorized, Message: "log in first, or send an API token as Authorization: Bearer <token>"}

// authenticate finds the agent behind a session cookie or bearer token:
// from the credential cache while nothing about agents, sessions or
// tokens has changed since it was read (see credCache), else from the
// database.
func (s *Server) authenticate(ctx context.Context, cookie, authorization string) (*principal, error) {
	var key string
	switch {
	case authorization != "":
		scheme, tok, _ := strings.Cut(authorization, " ")
		if !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(tok, tokenPrefix) {
			return nil, &apiError{Status: fiber.StatusUnauthorized, Message: "the Authorization header must be Bearer <token>"}
		}
		key = "t" + hashToken(strings.TrimSpace(tok))
	case cookie != "":
		key = "s" + hashToken(cookie)
	default:
		return nil, errUnauthenticated
	}
	return s.authenticateKey(ctx, key)
}

// authenticateKey is authenticate for a credential's cache key: "t" (a
// token) or "s" (a session) and the credential's hash.
func (s *Server) authenticateKey(ctx context.Context, key string) (*principal, error) {
	hash := key[1:]
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
	p := &principal{agent: &e.agent, csrf: e.csrf, tokenID: e.tokenID, key: key, twoFactor: e.twoFactor} // e is this request's copy
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
		if e.twoFactor, err = s.db.TwoFactorOn(ctx, agentID); err != nil {
			return e, err
		}
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
		c.Locals(principalKey, p)
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
		if !setupRoutes[r.method+" "+r.path] {
			if err := s.twoFactorBlock(c.UserContext(), p); err != nil {
				return err
			}
		}
		if !r.access.allows(p.agent) {
			return forbidden(r.access)
		}
		if err := s.checkStoreRule(c, p, r.path); err != nil {
			return err
		}
		return r.handler(c, p)
	}
}

// startSession logs an agent in on this browser.
func (s *Server) startSession(c *fiber.Ctx, a *store.Agent) error {
	tok, sess, err := s.newSession(c.UserContext(), a)
	if err != nil {
		return err
	}
	return s.sendSession(c, a, tok, sess)
}

// newSession stores a new session for a; tok is its cookie's value.
func (s *Server) newSession(ctx context.Context, a *store.Agent) (tok string, sess *store.Session, err error) {
	tok = randomToken()
	sess = &store.Session{TokenHash: hashToken(tok), AgentID: a.ID, CSRFToken: randomToken(), ExpiresAt: store.Now().Add(sessionTTL)}
	return tok, sess, s.desk.StartSession(ctx, sess)
}

// sendSession sets a new session's cookie and answers with its agent.
func (s *Server) sendSession(c *fiber.Ctx, a *store.Agent, tok string, sess *store.Session) error {
	c.Cookie(&fiber.Cookie{
		Name: sessionCookie, Value: tok, Path: "/", HTTPOnly: true, SameSite: "Lax",
		Secure: s.secureCookies(c), Expires: sess.ExpiresAt,
	})
	tf, err := s.twoFactorState(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(meBody{Agent: a, CSRFToken: sess.CSRFToken, Permissions: desk.AgentPermissions(a), TwoFactor: tf})
}

type meBody struct {
	Agent     *store.Agent    `json:"agent"`
	CSRFToken string          `json:"csrf_token,omitempty"`
	Presence  string          `json:"presence,omitempty"` // online | away, for live chat
	TwoFactor *twoFactorState `json:"two_factor,omitempty"`
	// AvatarURL is the agent's picture, shown to chat visitors ("": none).
	AvatarURL string `json:"avatar_url"`
	// Permissions are what the agent's role may do (desk/roles.go), so the
	// app offers only that.
	Permissions []string `json:"permissions"`
}

type credentials struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	Name     string `json:"name"`
}

// sameSite refuses a login or setup that another site's page made the
// browser send: the browser says where it comes from in Sec-Fetch-Site
// (every current browser) or Origin; a script or tool sends neither.
func sameSite(c *fiber.Ctx) error {
	refuse := apiErr(fiber.StatusForbidden, "", "log in from the onedesk page itself: this request came from another site")
	switch c.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return nil // the browser's own word, whatever a proxy did to Host
	case "":
	default:
		return refuse
	}
	origin := c.Get(fiber.HeaderOrigin)
	if origin == "" {
		return nil
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || !strings.EqualFold(u.Host, c.Hostname()) {
		return refuse
	}
	return nil
}

func (s *Server) login(c *fiber.Ctx, _ *principal) error {
	if err := sameSite(c); err != nil {
		return err
	}
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
	if on, err := s.db.TwoFactorOn(c.UserContext(), a.ID); err != nil {
		return err
	} else if on {
		return s.loginChallenge(c, a.ID)
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
	tf, err := s.twoFactorState(c.UserContext(), p.agent.ID)
	if err != nil {
		return err
	}
	key, err := s.db.AvatarKey(c.UserContext(), p.agent.ID)
	if err != nil {
		return err
	}
	return c.JSON(meBody{Agent: p.agent, CSRFToken: p.csrf, Presence: s.presence(p.agent.ID),
		Permissions: desk.AgentPermissions(p.agent), TwoFactor: tf, AvatarURL: avatarURL(key)})
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
	s.presenceMoved()
	s.mu.Unlock()
	return c.JSON(fiber.Map{"presence": in.Presence})
}

// updateMe edits the caller's own profile. A new password needs the
// current one (a stolen session must not become a takeover); it ends the
// agent's other sessions, sockets and API tokens, and moves this browser
// and its sockets to a new session.
func (s *Server) updateMe(c *fiber.Ctx, p *principal) error {
	var in struct {
		Name            string  `json:"name"`
		Language        string  `json:"language"`
		Timezone        string  `json:"timezone"`
		Password        string  `json:"password"`
		CurrentPassword string  `json:"current_password"`
		Signature       *string `json:"signature"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	change := desk.AgentInput{Name: in.Name, Language: in.Language, Timezone: in.Timezone, Password: in.Password, Signature: in.Signature}
	if in.Password == "" {
		a, err := s.desk.UpdateAgent(ctx, p.agent.ID, change)
		if err != nil {
			return err
		}
		return c.JSON(meBody{Agent: a, CSRFToken: p.csrf})
	}
	if err := s.checkCurrentPassword(ctx, p.agent.ID, in.CurrentPassword); err != nil {
		return err
	}
	s.sockAuth.moving.Lock()
	defer s.sockAuth.moving.Unlock()
	a, err := s.desk.UpdateAgent(ctx, p.agent.ID, change)
	if err != nil {
		return err
	}
	if p.sessionHash == "" {
		return c.JSON(meBody{Agent: a}) // an API token: revoked with the others
	}
	tok, sess, err := s.newSession(ctx, a)
	if err != nil {
		return err
	}
	s.moveSockets(p.sessionHash, sess.TokenHash)
	return s.sendSession(c, a, tok, sess)
}

// checkCurrentPassword refuses a password change without the agent's
// current password.
func (s *Server) checkCurrentPassword(ctx context.Context, agentID int64, current string) error {
	if current == "" {
		return fieldErr("current_password", "give your current password to set a new one")
	}
	err := s.desk.CheckPassword(ctx, agentID, current)
	if errors.Is(err, desk.ErrBadLogin) {
		return apiErr(fiber.StatusForbidden, "current_password", "the current password is wrong")
	}
	return err
}

func (s *Server) setupStatus(c *fiber.Ctx, _ *principal) error {
	n, err := s.db.CountAgents(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"needed": n == 0})
}

func (s *Server) setup(c *fiber.Ctx, _ *principal) error {
	if err := sameSite(c); err != nil {
		return err
	}
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
