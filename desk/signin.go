package desk

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"image/png"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"onedesk/limit"
	"onedesk/store"
)

// Two-factor sign-in with an authenticator app (TOTP, RFC 6238), by
// github.com/pquerna/otp: the codes every app makes (SHA-1, 6 digits,
// 30 seconds), a secret of 160 bits, and the QR code as a PNG. A code is
// accepted for the step before, the step of and the step after now (a
// phone's clock drifts), and each step once: the last accepted step is
// kept. Recovery codes are 50 random bits each, kept as SHA-256 hashes
// (random codes need no slow hash), each good once.

const (
	totpPeriod = 30
	// LoginChallengeTTL is how long a right password waits for its code.
	LoginChallengeTTL = 5 * time.Minute
	// MaxCodeAttempts wrong codes end a login waiting for its code.
	MaxCodeAttempts = 5
	// RecoveryCodes is how many recovery codes an agent gets.
	RecoveryCodes = 10
	// ResetLinkTTL is how long a password reset link works.
	ResetLinkTTL = time.Hour
)

var totpOpts = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// TwoFactorSetup is what an authenticator app needs to make codes.
type TwoFactorSetup struct {
	Secret string // base32, to type in by hand
	URI    string // otpauth://totp/...
	QR     []byte // the URI as a QR code, PNG
}

// Errors of the second step, said to the agent.
var (
	ErrWrongCode     = InputErrorf("code", "wrong code: type the 6 digits your authenticator app shows now, or a recovery code")
	ErrCodeUsed      = InputErrorf("code", "this code was used already: wait for the next one your app shows")
	ErrLoginExpired  = InputErrorf("login_token", "the sign-in waited too long or had too many wrong codes: start again with your password")
	ErrTooManyCodes  = InputErrorf("code", "too many wrong codes for this account: wait a few minutes and try again")
	errTwoFactorOn   = InputErrorf("code", "two-factor sign-in is on already: turn it off first to set up another app")
	errTwoFactorOff  = InputErrorf("code", "two-factor sign-in is not on for this account")
	errNoPendingCode = InputErrorf("code", "start the setup first: scan the QR code, then type a code")
)

// codeLimiter bounds the codes tried for one agent, whatever the login
// or address they come from: 10 at once, then one every 90 seconds.
func newCodeLimiter() *limit.Limiter { return limit.New(1.0/90, 10) }

// LimitCodes sets how many codes may be tried for one agent: perSecond
// after a burst (a negative perSecond: no limit, for tests).
func (d *Desk) LimitCodes(perSecond float64, burst int) {
	d.mu.Lock()
	d.codeLimit = limit.New(perSecond, burst)
	d.mu.Unlock()
}

// allowCode takes one try of a code for an agent.
func (d *Desk) allowCode(agentID int64) bool {
	d.mu.RLock()
	l := d.codeLimit
	d.mu.RUnlock()
	return l.Allow(fmt.Sprint(agentID))
}

// StartTwoFactor makes a new secret for an agent who has no two-factor
// sign-in yet; it is on once EnableTwoFactor gets a code made from it.
func (d *Desk) StartTwoFactor(ctx context.Context, agentID int64) (*TwoFactorSetup, error) {
	a, err := d.db.Agent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "onedesk", AccountName: a.Email, Period: totpPeriod,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return nil, fmt.Errorf("make a two-factor secret: %w", err)
	}
	img, err := key.Image(240, 240)
	if err != nil {
		return nil, fmt.Errorf("draw the QR code: %w", err)
	}
	var qr bytes.Buffer
	if err := png.Encode(&qr, img); err != nil {
		return nil, fmt.Errorf("draw the QR code: %w", err)
	}
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		ok, err := tx.PutPendingTwoFactor(ctx, agentID, key.Secret())
		if err == nil && !ok {
			return errTwoFactorOn
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	return &TwoFactorSetup{Secret: key.Secret(), URI: key.URL(), QR: qr.Bytes()}, nil
}

// EnableTwoFactor turns two-factor sign-in on with a code from the app
// the agent just set up, and returns their recovery codes (shown once).
func (d *Desk) EnableTwoFactor(ctx context.Context, agentID int64, code string) ([]string, error) {
	if !d.allowCode(agentID) {
		return nil, ErrTooManyCodes
	}
	codes, hashes := newRecoveryCodes()
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		f, err := tx.TwoFactor(ctx, agentID)
		if errors.Is(err, store.ErrNotFound) {
			return errNoPendingCode
		}
		if err != nil {
			return err
		}
		if f.Enabled {
			return errTwoFactorOn
		}
		step, err := matchTOTP(f.Secret, code, f.LastStep, time.Now())
		if err != nil {
			return err
		}
		return tx.EnableTwoFactor(ctx, agentID, step, hashes)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// RegenerateRecoveryCodes replaces an agent's recovery codes; it takes
// their password and a code, as a stolen session must not read new ones.
func (d *Desk) RegenerateRecoveryCodes(ctx context.Context, agentID int64, password, code string) ([]string, error) {
	codes, hashes := newRecoveryCodes()
	err := d.withSecondFactor(ctx, agentID, password, code, func(tx *store.Tx) error {
		return tx.ReplaceRecoveryCodes(ctx, agentID, hashes)
	})
	if err != nil {
		return nil, err
	}
	return codes, nil
}

// DisableTwoFactor turns an agent's two-factor sign-in off; it takes
// their password and a code (or a recovery code).
func (d *Desk) DisableTwoFactor(ctx context.Context, agentID int64, password, code string) error {
	return d.withSecondFactor(ctx, agentID, password, code, func(tx *store.Tx) error {
		return tx.DeleteTwoFactor(ctx, agentID)
	})
}

// ResetTwoFactor is an admin's turning off of an agent's two-factor
// sign-in (a lost phone, no recovery code left).
func (d *Desk) ResetTwoFactor(ctx context.Context, agentID int64) error {
	if _, err := d.db.Agent(ctx, agentID); err != nil {
		return err
	}
	return d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteTwoFactor(ctx, agentID) })
}

// withSecondFactor runs fn in the transaction that spends the agent's
// code, once their password is checked.
func (d *Desk) withSecondFactor(ctx context.Context, agentID int64, password, code string, fn func(*store.Tx) error) error {
	if password == "" {
		return inputErr("password", "give your password")
	}
	if err := d.CheckPassword(ctx, agentID, password); err != nil {
		if errors.Is(err, ErrBadLogin) {
			return inputErr("password", "the password is wrong")
		}
		return err
	}
	if !d.allowCode(agentID) {
		return ErrTooManyCodes
	}
	return d.db.Write(ctx, func(tx *store.Tx) error {
		if err := d.spendCode(ctx, tx, agentID, code); err != nil {
			return err
		}
		return fn(tx)
	})
}

// spendCode accepts an authenticator code (once per step) or a recovery
// code (once) of an agent with two-factor sign-in on.
func (d *Desk) spendCode(ctx context.Context, tx *store.Tx, agentID int64, code string) error {
	f, err := tx.TwoFactor(ctx, agentID)
	if errors.Is(err, store.ErrNotFound) || err == nil && !f.Enabled {
		return errTwoFactorOff
	}
	if err != nil {
		return err
	}
	code = normalizeCode(code)
	if len(code) == recoveryCodeLen {
		ok, err := tx.UseRecoveryCode(ctx, agentID, hashCode(code))
		if err == nil && !ok {
			return ErrWrongCode
		}
		return err
	}
	step, err := matchTOTP(f.Secret, code, f.LastStep, time.Now())
	if err != nil {
		return err
	}
	ok, err := tx.UseTOTPStep(ctx, agentID, step)
	if err == nil && !ok {
		return ErrCodeUsed // another request took this step meanwhile
	}
	return err
}

// matchTOTP is the step whose code code is, of the steps around now; a
// step at or before lastStep was used already.
func matchTOTP(secret, code string, lastStep int64, now time.Time) (int64, error) {
	code = normalizeCode(code)
	if len(code) != 6 {
		return 0, ErrWrongCode
	}
	current := now.Unix() / totpPeriod
	for _, step := range []int64{current, current - 1, current + 1} {
		want, err := totp.GenerateCodeCustom(secret, time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, fmt.Errorf("make a code to compare: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			if step <= lastStep {
				return 0, ErrCodeUsed
			}
			return step, nil
		}
	}
	return 0, ErrWrongCode
}

// normalizeCode drops what people type between digits and groups.
func normalizeCode(code string) string {
	return strings.ToLower(strings.NewReplacer(" ", "", "-", "", "\t", "").Replace(strings.TrimSpace(code)))
}

const (
	recoveryCodeLen = 10
	// recoveryAlphabet has no 0/o, 1/l/i: codes are read off paper.
	recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"
)

// newRecoveryCodes makes RecoveryCodes codes, as shown (xxxxx-xxxxx) and
// as kept (hashes).
func newRecoveryCodes() (codes, hashes []string) {
	for range RecoveryCodes {
		b := make([]byte, recoveryCodeLen)
		rand.Read(b)
		for i := range b {
			b[i] = recoveryAlphabet[int(b[i])%len(recoveryAlphabet)]
		}
		c := string(b)
		codes = append(codes, c[:5]+"-"+c[5:])
		hashes = append(hashes, hashCode(c))
	}
	return codes, hashes
}

func hashCode(c string) string {
	sum := sha256.Sum256([]byte(c))
	return hex.EncodeToString(sum[:])
}

// BeginLogin keeps a login whose password was right until its code
// comes; tokenHash is the hash of the token the browser holds meanwhile.
func (d *Desk) BeginLogin(ctx context.Context, agentID int64, tokenHash string) error {
	return d.db.InsertLoginChallenge(ctx, tokenHash, agentID, store.Now().Add(LoginChallengeTTL))
}

// FinishLogin takes the code of a login waiting for it: the agent, and
// the login ends (it is good once); a wrong code counts against the
// login (MaxCodeAttempts) and the agent.
func (d *Desk) FinishLogin(ctx context.Context, tokenHash, code string) (*store.Agent, error) {
	var agentID int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var attempts int
		var err error
		agentID, attempts, err = tx.LoginChallenge(ctx, tokenHash)
		if errors.Is(err, store.ErrNotFound) || err == nil && attempts >= MaxCodeAttempts {
			return ErrLoginExpired
		}
		if err != nil {
			return err
		}
		if !d.allowCode(agentID) {
			return ErrTooManyCodes
		}
		if err := d.spendCode(ctx, tx, agentID, code); err != nil {
			return err
		}
		return tx.DeleteLoginChallenge(ctx, tokenHash)
	})
	if errors.Is(err, ErrWrongCode) || errors.Is(err, ErrCodeUsed) {
		left, ferr := d.db.FailLoginChallenge(ctx, tokenHash, MaxCodeAttempts)
		if ferr != nil {
			return nil, ferr
		}
		if left == 0 {
			return nil, ErrLoginExpired
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	a, err := d.db.Agent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	if !a.Active {
		return nil, ErrBadLogin
	}
	return a, nil
}
