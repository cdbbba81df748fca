package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Two-factor sign-in, login challenges (a right password waiting for its
// code), password reset links and the system mail settings. Secrets are
// sealed like every other secret (secrets.go); codes, challenges and
// links are kept as hashes only. Writes that change whether an agent has
// two-factor sign-in move AuthVersion: the credential cache holds it.

// TwoFactor is an agent's authenticator secret and its state.
type TwoFactor struct {
	AgentID  int64
	Secret   string // base32, as the authenticator app takes it
	Enabled  bool   // confirmed with a code
	LastStep int64  // the last 30-second step a code was accepted for
}

const twoFactorSecretColumn = "agent_two_factor.secret"

// TwoFactor reads an agent's two-factor secret (ErrNotFound: none).
func (tx *Tx) TwoFactor(ctx context.Context, agentID int64) (*TwoFactor, error) {
	return readTwoFactor(ctx, tx.q, tx.secrets, agentID)
}

// TwoFactor reads an agent's two-factor secret (ErrNotFound: none).
func (db *DB) TwoFactor(ctx context.Context, agentID int64) (*TwoFactor, error) {
	return readTwoFactor(ctx, db.rq, db.secrets, agentID)
}

func readTwoFactor(ctx context.Context, q querier, box *secretBox, agentID int64) (*TwoFactor, error) {
	f := TwoFactor{AgentID: agentID}
	var enabled sql.NullInt64
	err := q.QueryRowContext(ctx, "SELECT secret, enabled_at, last_step FROM agent_two_factor WHERE agent_id = ?",
		agentID).Scan(&f.Secret, &enabled, &f.LastStep)
	if err != nil {
		return nil, notFound(err, "two-factor secret")
	}
	f.Enabled = enabled.Valid
	if f.Secret, err = box.open(twoFactorSecretColumn, f.Secret); err != nil {
		return nil, err
	}
	return &f, nil
}

// TwoFactorStatus tells whether an agent signs in with a code and how
// many unused recovery codes they have.
func (db *DB) TwoFactorStatus(ctx context.Context, agentID int64) (enabled bool, codesLeft int, err error) {
	err = db.rq.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM agent_two_factor WHERE agent_id = ? AND enabled_at IS NOT NULL),
		(SELECT COUNT(*) FROM agent_recovery_codes WHERE agent_id = ? AND used_at IS NULL)`,
		agentID, agentID).Scan(&enabled, &codesLeft)
	if err != nil {
		return false, 0, fmt.Errorf("two-factor status of agent %d: %w", agentID, err)
	}
	return enabled, codesLeft, nil
}

// TwoFactorOn tells whether an agent signs in with a code (one indexed
// read: it is part of reading a session's credential).
func (db *DB) TwoFactorOn(ctx context.Context, agentID int64) (bool, error) {
	var on bool
	err := db.rq.QueryRowContext(ctx, "SELECT EXISTS (SELECT 1 FROM agent_two_factor WHERE agent_id = ? AND enabled_at IS NOT NULL)",
		agentID).Scan(&on)
	if err != nil {
		return false, fmt.Errorf("two-factor sign-in of agent %d: %w", agentID, err)
	}
	return on, nil
}

// TwoFactorAgents are the agents who sign in with a code.
func (db *DB) TwoFactorAgents(ctx context.Context) (map[int64]bool, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT agent_id FROM agent_two_factor WHERE enabled_at IS NOT NULL")
	if err != nil {
		return nil, fmt.Errorf("list two-factor agents: %w", err)
	}
	defer rows.Close()
	ids := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids[id] = true
	}
	return ids, rows.Err()
}

// PutPendingTwoFactor keeps a new secret for an agent who has not turned
// two-factor sign-in on; false when it is on already.
func (tx *Tx) PutPendingTwoFactor(ctx context.Context, agentID int64, secret string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `INSERT INTO agent_two_factor (agent_id, secret, enabled_at, last_step, created_at)
		VALUES (?, ?, NULL, 0, ?)
		ON CONFLICT (agent_id) DO UPDATE SET secret = excluded.secret, last_step = 0, created_at = excluded.created_at
		WHERE agent_two_factor.enabled_at IS NULL`,
		agentID, tx.secrets.seal(twoFactorSecretColumn, secret), ms(Now()))
	if err != nil {
		return false, fmt.Errorf("keep a two-factor secret: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// EnableTwoFactor turns an agent's pending secret on, with step as the
// step of the code that confirmed it, and gives them recovery codes.
func (tx *Tx) EnableTwoFactor(ctx context.Context, agentID, step int64, codeHashes []string) error {
	tx.authChanged = true
	res, err := tx.q.ExecContext(ctx, `UPDATE agent_two_factor SET enabled_at = ?, last_step = ?
		WHERE agent_id = ? AND enabled_at IS NULL`, ms(Now()), step, agentID)
	if err != nil {
		return fmt.Errorf("turn two-factor sign-in on: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrConflict
	}
	return tx.ReplaceRecoveryCodes(ctx, agentID, codeHashes)
}

// UseTOTPStep records that a code of step was accepted; false when a
// code of that step (or a later one) was accepted already.
func (tx *Tx) UseTOTPStep(ctx context.Context, agentID, step int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE agent_two_factor SET last_step = ?
		WHERE agent_id = ? AND last_step < ?`, step, agentID, step)
	if err != nil {
		return false, fmt.Errorf("record a two-factor code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// UseRecoveryCode spends one of an agent's recovery codes; false when it
// is not theirs or was spent.
func (tx *Tx) UseRecoveryCode(ctx context.Context, agentID int64, hash string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE agent_recovery_codes SET used_at = ?
		WHERE agent_id = ? AND code_hash = ? AND used_at IS NULL`, ms(Now()), agentID, hash)
	if err != nil {
		return false, fmt.Errorf("use a recovery code: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// ReplaceRecoveryCodes gives an agent new recovery codes in place of all
// earlier ones.
func (tx *Tx) ReplaceRecoveryCodes(ctx context.Context, agentID int64, hashes []string) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM agent_recovery_codes WHERE agent_id = ?", agentID); err != nil {
		return fmt.Errorf("replace recovery codes: %w", err)
	}
	for _, h := range hashes {
		if _, err := tx.q.ExecContext(ctx, "INSERT INTO agent_recovery_codes (agent_id, code_hash) VALUES (?, ?)",
			agentID, h); err != nil {
			return fmt.Errorf("replace recovery codes: %w", err)
		}
	}
	return nil
}

// DeleteTwoFactor turns an agent's two-factor sign-in off: the secret,
// the recovery codes and any login waiting for a code go.
func (tx *Tx) DeleteTwoFactor(ctx context.Context, agentID int64) error {
	tx.authChanged = true
	for _, q := range []string{"DELETE FROM agent_two_factor WHERE agent_id = ?",
		"DELETE FROM agent_recovery_codes WHERE agent_id = ?", "DELETE FROM login_challenges WHERE agent_id = ?"} {
		if _, err := tx.q.ExecContext(ctx, q, agentID); err != nil {
			return fmt.Errorf("turn two-factor sign-in off: %w", err)
		}
	}
	return nil
}

// InsertLoginChallenge keeps a login whose password was right until its
// code comes (or expires), and drops expired ones.
func (db *DB) InsertLoginChallenge(ctx context.Context, hash string, agentID int64, expires time.Time) error {
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM login_challenges WHERE expires_at <= ?", ms(Now())); err != nil {
			return err
		}
		_, err := tx.q.ExecContext(ctx, "INSERT INTO login_challenges (token_hash, agent_id, expires_at) VALUES (?, ?, ?)",
			hash, agentID, ms(expires))
		return err
	})
}

// LoginChallenge is the agent of a login waiting for its code, and how
// many wrong codes it had (ErrNotFound: unknown or expired).
func (tx *Tx) LoginChallenge(ctx context.Context, hash string) (agentID int64, attempts int, err error) {
	err = tx.q.QueryRowContext(ctx, "SELECT agent_id, attempts FROM login_challenges WHERE token_hash = ? AND expires_at > ?",
		hash, ms(Now())).Scan(&agentID, &attempts)
	return agentID, attempts, notFound(err, "login")
}

// DeleteLoginChallenge ends a login waiting for its code.
func (tx *Tx) DeleteLoginChallenge(ctx context.Context, hash string) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM login_challenges WHERE token_hash = ?", hash)
	return err
}

// FailLoginChallenge counts a wrong code; at max wrong codes the login
// ends. left is how many tries remain.
func (db *DB) FailLoginChallenge(ctx context.Context, hash string, max int) (left int, err error) {
	err = db.Write(ctx, func(tx *Tx) error {
		var attempts int
		err := tx.q.QueryRowContext(ctx, "UPDATE login_challenges SET attempts = attempts + 1 WHERE token_hash = ? RETURNING attempts",
			hash).Scan(&attempts)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if left = max - attempts; left <= 0 {
			left = 0
			return tx.DeleteLoginChallenge(ctx, hash)
		}
		return nil
	})
	return left, err
}

// PasswordReset is a link sent for a forgotten password.
type PasswordReset struct {
	AgentID   int64
	ExpiresAt time.Time
	Used      bool // used, or replaced by a newer link
}

// InsertPasswordReset keeps a new reset link of an agent; the agent's
// earlier links stop working, and links a day old are forgotten.
func (db *DB) InsertPasswordReset(ctx context.Context, hash string, agentID int64, expires time.Time) error {
	now := ms(Now())
	return db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM password_resets WHERE expires_at <= ?", now-int64(24*time.Hour/time.Millisecond)); err != nil {
			return err
		}
		if _, err := tx.q.ExecContext(ctx, "UPDATE password_resets SET used_at = ? WHERE agent_id = ? AND used_at IS NULL",
			now, agentID); err != nil {
			return err
		}
		_, err := tx.q.ExecContext(ctx, "INSERT INTO password_resets (token_hash, agent_id, created_at, expires_at) VALUES (?, ?, ?, ?)",
			hash, agentID, now, ms(expires))
		return err
	})
}

// PasswordReset reads a reset link (ErrNotFound: unknown, or forgotten).
func (tx *Tx) PasswordReset(ctx context.Context, hash string) (*PasswordReset, error) {
	var r PasswordReset
	var exp int64
	var used sql.NullInt64
	err := tx.q.QueryRowContext(ctx, "SELECT agent_id, expires_at, used_at FROM password_resets WHERE token_hash = ?",
		hash).Scan(&r.AgentID, &exp, &used)
	if err != nil {
		return nil, notFound(err, "password reset link")
	}
	r.ExpiresAt, r.Used = fromMS(exp), used.Valid
	return &r, nil
}

// UsePasswordReset spends a reset link; false when it was spent already.
func (tx *Tx) UsePasswordReset(ctx context.Context, hash string) (bool, error) {
	res, err := tx.q.ExecContext(ctx, "UPDATE password_resets SET used_at = ? WHERE token_hash = ? AND used_at IS NULL",
		ms(Now()), hash)
	if err != nil {
		return false, fmt.Errorf("use a password reset link: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SystemMail is the SMTP server the desk sends its own mail through
// (password reset links); unset, the first store's mailbox is used.
type SystemMail struct {
	Host     string `json:"host"`
	Port     int    `json:"port"`
	Security string `json:"security"` // tls | starttls | none
	Username string `json:"username"`
	Password string `json:"password"`
	From     string `json:"from"`
	FromName string `json:"from_name"`
}

const (
	systemMailSetting  = "system_mail"
	systemMailPassword = "settings.system_mail.password"
)

// SystemMail reads the system mail settings (zero when unset).
func (db *DB) SystemMail(ctx context.Context) (SystemMail, error) {
	var m SystemMail
	raw, err := db.Setting(ctx, systemMailSetting)
	if err != nil || raw == "" {
		return m, err
	}
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return SystemMail{}, fmt.Errorf("read the system mail settings: %w", err)
	}
	if m.Password, err = db.secrets.open(systemMailPassword, m.Password); err != nil {
		return SystemMail{}, err
	}
	return m, nil
}

// SaveSystemMail stores the system mail settings, the password sealed.
func (db *DB) SaveSystemMail(ctx context.Context, m SystemMail) error {
	m.Password = db.secrets.seal(systemMailPassword, m.Password)
	raw, err := json.Marshal(m)
	if err != nil {
		return err
	}
	return db.SetSetting(ctx, systemMailSetting, string(raw))
}

// resealSignin is key rotation's part here: the agents' authenticator
// secrets and the system mail password, each opened and sealed again.
func resealSignin(ctx context.Context, tx *Tx, again func(column, v string) (string, error)) error {
	rows, err := tx.q.QueryContext(ctx, "SELECT agent_id, secret FROM agent_two_factor")
	if err != nil {
		return fmt.Errorf("read two-factor secrets: %w", err)
	}
	secrets := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			rows.Close()
			return fmt.Errorf("read two-factor secrets: %w", err)
		}
		secrets[id] = v
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read two-factor secrets: %w", err)
	}
	for id, v := range secrets {
		sealed, err := again(twoFactorSecretColumn, v)
		if err != nil {
			return fmt.Errorf("%s of agent %d: %w", twoFactorSecretColumn, id, err)
		}
		if _, err := tx.q.ExecContext(ctx, "UPDATE agent_two_factor SET secret = ? WHERE agent_id = ?", sealed, id); err != nil {
			return fmt.Errorf("seal %s: %w", twoFactorSecretColumn, err)
		}
	}
	var raw string
	err = tx.q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", systemMailSetting).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) || err == nil && raw == "" {
		return nil
	}
	if err != nil {
		return fmt.Errorf("read the system mail settings: %w", err)
	}
	var m SystemMail
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		return fmt.Errorf("read the system mail settings: %w", err)
	}
	if m.Password, err = again(systemMailPassword, m.Password); err != nil {
		return fmt.Errorf("%s: %w", systemMailPassword, err)
	}
	_, err = tx.q.ExecContext(ctx, "UPDATE settings SET value = ? WHERE key = ?", jsonText(m, "{}"), systemMailSetting)
	return err
}
