package ui

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// Two-factor sign-in and the forgotten-password path over HTTP. A login
// of an agent with two-factor sign-in on answers a login token instead
// of a session: a short-lived, single-use ticket to the code step (kept
// hashed by desk, not a session: it opens nothing else). API tokens are
// not touched by any of it: a token is a credential of its own, made by
// an agent who signed in, and revoked by a new password.

// signinLimits bound the forgotten-password requests, by address asked
// for and by the caller's IP.
type signinLimits struct {
	resetByEmail *limit.Limiter
	resetByIP    *limit.Limiter
}

// newSigninLimits makes them shared by the nodes when there are several.
func newSigninLimits(d *desk.Desk) signinLimits {
	return signinLimits{
		resetByEmail: d.NewLimiter("reset-email", 3.0/3600, 3), // three mails an hour to one address
		resetByIP:    d.NewLimiter("reset-ip", 10.0/3600, 10),
	}
}

func (l signinLimits) sweep() {
	l.resetByEmail.Sweep(2 * time.Hour)
	l.resetByIP.Sweep(2 * time.Hour)
}

// setupRoutes are what a session may use while the desk requires
// two-factor sign-in and its agent has not turned it on: enough to set
// it up (or leave).
var setupRoutes = map[string]bool{
	"GET /api/me": true, "POST /api/auth/logout": true,
	"POST /api/me/two-factor/setup": true, "POST /api/me/two-factor/enable": true,
}

var errSetupTwoFactor = &apiError{Status: fiber.StatusForbidden, Field: "two_factor",
	Message: "this desk requires two-factor sign-in: set it up under My settings first"}

// twoFactorBlock refuses a session whose agent must set up two-factor
// sign-in before anything else (API tokens are not sessions: unaffected).
func (s *Server) twoFactorBlock(ctx context.Context, p *principal) error {
	if p.sessionHash == "" || p.twoFactor {
		return nil
	}
	st, err := s.desk.Settings(ctx)
	if err != nil {
		return err
	}
	if st.RequireTwoFactor {
		return errSetupTwoFactor
	}
	return nil
}

// twoFactorState is what the app shows of an agent's two-factor sign-in.
type twoFactorState struct {
	Enabled      bool `json:"enabled"`
	Required     bool `json:"required"`      // the desk requires it
	SetupNeeded  bool `json:"setup_needed"`  // required, and not on: set it up before anything else
	RecoveryLeft int  `json:"recovery_left"` // unused recovery codes
}

func (s *Server) twoFactorState(ctx context.Context, agentID int64) (*twoFactorState, error) {
	on, left, err := s.db.TwoFactorStatus(ctx, agentID)
	if err != nil {
		return nil, err
	}
	st, err := s.desk.Settings(ctx)
	if err != nil {
		return nil, err
	}
	return &twoFactorState{Enabled: on, Required: st.RequireTwoFactor, SetupNeeded: st.RequireTwoFactor && !on, RecoveryLeft: left}, nil
}

// loginChallenge answers a right password of an agent with two-factor
// sign-in on: a login token for the code step, no session.
func (s *Server) loginChallenge(c *fiber.Ctx, agentID int64) error {
	tok := randomToken()
	if err := s.desk.BeginLogin(c.UserContext(), agentID, hashToken(tok)); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"two_factor": true, "login_token": tok, "expires_in": int(desk.LoginChallengeTTL.Seconds())})
}

// loginCode is the code step of a login: the login token and a code from
// the agent's app (or a recovery code) start the session.
func (s *Server) loginCode(c *fiber.Ctx, _ *principal) error {
	if err := sameSite(c); err != nil {
		return err
	}
	var in struct {
		LoginToken string `json:"login_token"`
		Code       string `json:"code"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.LoginToken == "" {
		return fieldErr("login_token", "the login token is missing: start again with your password")
	}
	if strings.TrimSpace(in.Code) == "" {
		return fieldErr("code", "type the code your authenticator app shows")
	}
	a, err := s.desk.FinishLogin(c.UserContext(), hashToken(in.LoginToken), in.Code)
	if err != nil {
		return codeError(err)
	}
	return s.startSession(c, a)
}

// codeError gives a wrong or spent code 401 and too many 429; the rest
// stays as it is.
func codeError(err error) error {
	switch {
	case errors.Is(err, desk.ErrTooManyCodes):
		return withStatus(err, fiber.StatusTooManyRequests)
	case errors.Is(err, desk.ErrWrongCode), errors.Is(err, desk.ErrCodeUsed), errors.Is(err, desk.ErrLoginExpired):
		return withStatus(err, fiber.StatusUnauthorized)
	case errors.Is(err, desk.ErrBadLogin):
		return &apiError{Status: fiber.StatusUnauthorized, Message: err.Error(), Sentence: i18n.SentenceOf(err)}
	}
	return err
}

// withStatus answers a desk's input error with status instead of 400.
func withStatus(err error, status int) error {
	var ie *desk.InputError
	if errors.As(err, &ie) {
		return &apiError{Status: status, Field: ie.Field, Message: ie.Message, Sentence: ie.Sentence}
	}
	return &apiError{Status: status, Message: err.Error(), Sentence: i18n.SentenceOf(err)}
}

func (s *Server) myTwoFactor(c *fiber.Ctx, p *principal) error {
	st, err := s.twoFactorState(c.UserContext(), p.agent.ID)
	if err != nil {
		return err
	}
	return c.JSON(st)
}

// needSession refuses an API token: two-factor sign-in is set up from
// the app, by the agent in person.
func needSession(p *principal) error {
	if p.sessionHash == "" {
		return apiErr(fiber.StatusBadRequest, "", "two-factor sign-in is set up from the app, not with an API token")
	}
	return nil
}

func (s *Server) startTwoFactor(c *fiber.Ctx, p *principal) error {
	if err := needSession(p); err != nil {
		return err
	}
	setup, err := s.desk.StartTwoFactor(c.UserContext(), p.agent.ID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"secret": setup.Secret, "uri": setup.URI,
		"qr": "data:image/png;base64," + base64.StdEncoding.EncodeToString(setup.QR)})
}

func (s *Server) enableTwoFactor(c *fiber.Ctx, p *principal) error {
	if err := needSession(p); err != nil {
		return err
	}
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	codes, err := s.desk.EnableTwoFactor(c.UserContext(), p.agent.ID, in.Code)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recovery_codes": codes})
}

type passwordAndCode struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (s *Server) newRecoveryCodes(c *fiber.Ctx, p *principal) error {
	if err := needSession(p); err != nil {
		return err
	}
	var in passwordAndCode
	if err := decode(c, &in); err != nil {
		return err
	}
	codes, err := s.desk.RegenerateRecoveryCodes(c.UserContext(), p.agent.ID, in.Password, in.Code)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"recovery_codes": codes})
}

func (s *Server) disableTwoFactor(c *fiber.Ctx, p *principal) error {
	if err := needSession(p); err != nil {
		return err
	}
	var in passwordAndCode
	if err := decode(c, &in); err != nil {
		return err
	}
	st, err := s.desk.Settings(c.UserContext())
	if err != nil {
		return err
	}
	if st.RequireTwoFactor {
		return apiErr(fiber.StatusConflict, "", "this desk requires two-factor sign-in: it cannot be turned off (an admin can reset it)")
	}
	if err := s.desk.DisableTwoFactor(c.UserContext(), p.agent.ID, in.Password, in.Code); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// resetAgentTwoFactor is an admin's turning off of an agent's two-factor
// sign-in (a lost phone).
func (s *Server) resetAgentTwoFactor(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if id == p.agent.ID {
		// One's own takes the password and a code: a stolen session
		// must not strip its agent's second factor.
		return fieldErr("id", "turn your own two-factor sign-in off under My settings, with your password and a code")
	}
	if err := s.desk.ResetTwoFactor(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// forgotPassword mails a reset link. The answer is the same whether an
// agent has the address or not.
func (s *Server) forgotPassword(c *fiber.Ctx, _ *principal) error {
	if err := sameSite(c); err != nil {
		return err
	}
	var in struct {
		Email string `json:"email"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	email := strings.TrimSpace(in.Email)
	if email == "" || !strings.Contains(email, "@") {
		return fieldErr("email", "type the email address you sign in with")
	}
	if !s.signin.resetByIP.Allow(c.IP()) || !s.signin.resetByEmail.Allow(strings.ToLower(email)) {
		return &apiError{Status: fiber.StatusTooManyRequests, Field: "email",
			Message: "too many reset mails asked for: wait an hour, or ask an admin to set your password"}
	}
	base, err := s.linkBase(c)
	if err != nil {
		return err
	}
	err = s.desk.RequestPasswordReset(c.UserContext(), email, func(token string) string { return base + "/#/reset/" + token })
	if errors.Is(err, desk.ErrNoSystemMail) {
		return withStatus(err, fiber.StatusServiceUnavailable)
	}
	if err != nil {
		return err
	}
	c.Status(fiber.StatusAccepted)
	return c.JSON(fiber.Map{"sent": true})
}

// linkBase is where a link in a mail points: the public URL, or (on a
// desk without one) this request's address when it is a loopback one.
// Never another host a request names: a reset link sent to an agent must
// not lead to whoever wrote the Host header.
func (s *Server) linkBase(c *fiber.Ctx) (string, error) {
	if s.opts.PublicURL != "" {
		return strings.TrimRight(s.opts.PublicURL, "/"), nil
	}
	host := c.Hostname()
	name := host
	if h, _, err := net.SplitHostPort(host); err == nil {
		name = h
	}
	ip := net.ParseIP(strings.Trim(name, "[]"))
	if name == "localhost" || ip != nil && ip.IsLoopback() {
		u := url.URL{Scheme: "http", Host: host}
		if s.secureCookies(c) {
			u.Scheme = "https"
		}
		return u.String(), nil
	}
	return "", apiErr(fiber.StatusServiceUnavailable, "",
		"this desk does not know its public address, so it cannot mail links: an admin starts onedesk with --public-url")
}

// resetPassword sets a new password with a reset link's token; every
// session, socket and API token of the agent ends.
func (s *Server) resetPassword(c *fiber.Ctx, _ *principal) error {
	if err := sameSite(c); err != nil {
		return err
	}
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Token == "" {
		return desk.ErrResetLinkUnknown
	}
	err := s.desk.ResetPassword(c.UserContext(), in.Token, in.Password)
	if errors.Is(err, desk.ErrResetLinkExpired) || errors.Is(err, desk.ErrResetLinkUsed) || errors.Is(err, desk.ErrResetLinkUnknown) {
		return withStatus(err, fiber.StatusGone)
	}
	if err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) getSystemMail(c *fiber.Ctx, _ *principal) error {
	sm, err := s.desk.SystemMailSettings(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(sm)
}

func (s *Server) updateSystemMail(c *fiber.Ctx, _ *principal) error {
	var in store.SystemMail
	if err := decode(c, &in); err != nil {
		return err
	}
	sm, err := s.desk.SaveSystemMail(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.JSON(sm)
}
