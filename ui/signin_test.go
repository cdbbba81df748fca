package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"onedesk/ui"
)

// totpCode is the code an authenticator app shows steps 30-second steps
// from now for secret.
func totpCode(t *testing.T, secret string, steps int) string {
	t.Helper()
	code, err := totp.GenerateCodeCustom(secret, time.Now().Add(time.Duration(steps)*30*time.Second),
		totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// enableTwoFactor turns two-factor sign-in on for c's agent and returns
// the secret and the recovery codes.
func (c *client) enableTwoFactor() (secret string, codes []string) {
	t := c.e.t
	t.Helper()
	var setup struct{ Secret, URI, QR string }
	c.must(200, "POST", "/api/me/two-factor/setup", map[string]any{}).json(t, &setup)
	if setup.Secret == "" || !strings.HasPrefix(setup.URI, "otpauth://totp/") || !strings.HasPrefix(setup.QR, "data:image/png;base64,") {
		t.Fatalf("setup: %+v", setup)
	}
	var on struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	c.must(200, "POST", "/api/me/two-factor/enable", map[string]string{"code": totpCode(t, setup.Secret, 0)}).json(t, &on)
	if len(on.RecoveryCodes) != 10 {
		t.Fatalf("recovery codes: %v", on.RecoveryCodes)
	}
	return setup.Secret, on.RecoveryCodes
}

// passwordStep logs in with a password and expects the code step.
func (e *env) passwordStep(email, password string) (*client, string) {
	e.t.Helper()
	c := e.client()
	r := c.must(200, "POST", "/api/auth/login", map[string]string{"email": email, "password": password})
	var ch struct {
		TwoFactor  bool   `json:"two_factor"`
		LoginToken string `json:"login_token"`
	}
	r.json(e.t, &ch)
	if !ch.TwoFactor || ch.LoginToken == "" || r.header.Get("Set-Cookie") != "" {
		e.t.Fatalf("password step: %s (cookie %q)", r.body, r.header.Get("Set-Cookie"))
	}
	return c, ch.LoginToken
}

// codeStep sends the code of a login and, on success, keeps the CSRF token.
func (c *client) codeStep(status int, loginToken, code string) resp {
	c.e.t.Helper()
	r := c.must(status, "POST", "/api/auth/login/code", map[string]string{"login_token": loginToken, "code": code})
	if status == 200 {
		var me struct {
			CSRFToken string `json:"csrf_token"`
		}
		r.json(c.e.t, &me)
		c.csrf = me.CSRFToken
	}
	return r
}

func TestTwoFactorSignIn(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	ann, annID := e.teammate(admin, "ann@shop.test", "Ann")
	e.desk.LimitCodes(-1, 0)  // many codes below; the limit is tried at the end
	annAPI := ann.apiClient() // made before two-factor sign-in: stays good

	// A wrong code does not turn it on.
	var setup struct{ Secret string }
	ann.must(200, "POST", "/api/me/two-factor/setup", map[string]any{}).json(t, &setup)
	if msg, field := ann.must(400, "POST", "/api/me/two-factor/enable", map[string]string{"code": "000000"}).err(t); field != "code" {
		t.Fatalf("wrong code: %s %s", msg, field)
	}
	secret, codes := ann.enableTwoFactor()
	if secret == setup.Secret {
		t.Fatal("a new setup kept the old secret")
	}
	annAPI.must(200, "GET", "/api/me", nil)
	annAPI.must(400, "POST", "/api/me/two-factor/setup", map[string]any{})

	// The password alone gives no session; the code does, once.
	c, tok := e.passwordStep("ann@shop.test", "12345678")
	c.must(401, "GET", "/api/me", nil)
	used := totpCode(t, secret, 0) // the step that turned it on
	if msg, _ := c.codeStep(401, tok, used).err(t); !strings.Contains(msg, "used already") {
		t.Fatalf("code of the setup step: %s", msg)
	}
	next := totpCode(t, secret, 1)
	c.codeStep(200, tok, next)
	var me struct {
		TwoFactor struct {
			Enabled      bool
			RecoveryLeft int `json:"recovery_left"`
		} `json:"two_factor"`
	}
	c.must(200, "GET", "/api/me", nil).json(t, &me)
	if !me.TwoFactor.Enabled || me.TwoFactor.RecoveryLeft != 10 {
		t.Fatalf("me: %+v", me)
	}
	// The login token was good once; the code too.
	if _, field := e.client().codeStep(401, tok, next).err(t); field != "login_token" {
		t.Fatalf("login token used twice: field %q", field)
	}
	c2, tok2 := e.passwordStep("ann@shop.test", "12345678")
	if msg, _ := c2.codeStep(401, tok2, next).err(t); !strings.Contains(msg, "used already") {
		t.Fatalf("a code used twice: %s", msg)
	}
	// A recovery code, once.
	c2.codeStep(200, tok2, strings.ToUpper(codes[0]))
	c3, tok3 := e.passwordStep("ann@shop.test", "12345678")
	c3.codeStep(401, tok3, codes[0])
	// Wrong codes end the login after five.
	for i := 0; i < 3; i++ {
		c3.codeStep(401, tok3, "123456")
	}
	if msg, field := c3.codeStep(401, tok3, "654321").err(t); field != "login_token" {
		t.Fatalf("fifth wrong code: %s %s", msg, field)
	}
	c3.codeStep(401, tok3, codes[1]) // a right code is too late
	if c3.do("GET", "/api/me", nil).status != 401 {
		t.Fatal("a session after the login ended")
	}

	// New recovery codes need the password and a code; the old ones end.
	if _, field := c.must(400, "POST", "/api/me/two-factor/recovery-codes", map[string]string{"password": "nope", "code": codes[1]}).err(t); field != "password" {
		t.Fatalf("wrong password: field %q", field)
	}
	var fresh struct {
		RecoveryCodes []string `json:"recovery_codes"`
	}
	c.must(200, "POST", "/api/me/two-factor/recovery-codes", map[string]string{"password": "12345678", "code": codes[1]}).json(t, &fresh)
	c4, tok4 := e.passwordStep("ann@shop.test", "12345678")
	c4.codeStep(401, tok4, codes[2])
	c4.codeStep(200, tok4, fresh.RecoveryCodes[0])

	// Turning it off takes the password and a code.
	c.must(400, "POST", "/api/me/two-factor/disable", map[string]string{"password": "12345678", "code": "111111"})
	c.must(204, "POST", "/api/me/two-factor/disable", map[string]string{"password": "12345678", "code": fresh.RecoveryCodes[1]})
	e.login("ann@shop.test", "12345678")

	// An admin resets an agent's (a lost phone).
	ann.enableTwoFactor()
	e.passwordStep("ann@shop.test", "12345678")
	ann.must(403, "DELETE", fmt.Sprint("/api/agents/", annID, "/two-factor"), nil)
	admin.must(204, "DELETE", fmt.Sprint("/api/agents/", annID, "/two-factor"), nil)
	e.login("ann@shop.test", "12345678")
	annAPI.must(200, "GET", "/api/me", nil)

	// However many logins, an agent's codes are limited.
	ann.enableTwoFactor()
	e.desk.LimitCodes(1.0/3600, 2)
	for i := 0; i < 2; i++ {
		c, tok := e.passwordStep("ann@shop.test", "12345678")
		c.codeStep(401, tok, "000000")
	}
	c5, tok5 := e.passwordStep("ann@shop.test", "12345678")
	if msg, _ := c5.codeStep(429, tok5, "000000").err(t); !strings.Contains(msg, "too many wrong codes") {
		t.Fatalf("limit: %s", msg)
	}
}

func TestTwoFactorRequiredByAdmin(t *testing.T) {
	e := newEnv(t, ui.Options{LoginRate: 6000})
	admin := e.admin()
	bob, _ := e.teammate(admin, "bob@shop.test", "Bob")
	bobAPI := bob.apiClient()

	// An admin without it cannot require it (no lock-out of oneself).
	if _, field := admin.must(400, "PATCH", "/api/settings", map[string]any{"require_two_factor": true}).err(t); field != "require_two_factor" {
		t.Fatalf("field %q", field)
	}
	secret, _ := admin.enableTwoFactor()
	admin.must(200, "PATCH", "/api/settings", map[string]any{"require_two_factor": true})
	var me0 struct{ Agent struct{ ID int64 } }
	admin.must(200, "GET", "/api/me", nil).json(t, &me0)
	admin.must(400, "DELETE", fmt.Sprint("/api/agents/", me0.Agent.ID, "/two-factor"), nil) // one's own: My settings

	// Bob's open session may now only set it up.
	if _, field := bob.must(403, "GET", "/api/tickets", nil).err(t); field != "two_factor" {
		t.Fatalf("field %q", field)
	}
	// A fresh login says so, and leads nowhere else.
	b := e.login("bob@shop.test", "12345678")
	var me struct {
		TwoFactor struct {
			Required    bool
			SetupNeeded bool `json:"setup_needed"`
		} `json:"two_factor"`
	}
	b.must(200, "GET", "/api/me", nil).json(t, &me)
	if !me.TwoFactor.Required || !me.TwoFactor.SetupNeeded {
		t.Fatalf("me: %+v", me)
	}
	b.must(403, "POST", "/api/tokens", map[string]string{"name": "sneaky"})
	b.must(403, "GET", "/api/agents", nil)
	// API tokens are unaffected.
	bobAPI.must(200, "GET", "/api/tickets", nil)
	// Set up, Bob works again; turning it off is refused while required.
	b.enableTwoFactor()
	b.must(200, "GET", "/api/tickets", nil)
	b.must(409, "POST", "/api/me/two-factor/disable", map[string]string{"password": "12345678", "code": "x"})

	// The admin signs in with a code too.
	c, tok := e.passwordStep("owner@shop.test", "correct horse")
	c.codeStep(200, tok, totpCode(t, secret, 1))
}
