package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// MailboxOAuth is how a mailbox signs in with OAuth2 rather than a
// password: the admin's own app at a provider (google, microsoft, or a
// custom one with its URLs and scopes) and the tokens it granted. The
// client secret and the tokens never leave the server.
type MailboxOAuth struct {
	MailboxID    int64      `json:"-"`
	Provider     string     `json:"provider"`
	ClientID     string     `json:"client_id"`
	ClientSecret string     `json:"-"`
	Tenant       string     `json:"tenant"` // Microsoft's directory (tenant) id; "" is "common"
	AuthURL      string     `json:"auth_url"`
	TokenURL     string     `json:"token_url"`
	Scopes       string     `json:"scopes"` // custom: space-separated
	AccessToken  string     `json:"-"`
	RefreshToken string     `json:"-"`
	TokenExpiry  *time.Time `json:"-"`
	ConnectedAt  *time.Time `json:"connected_at"`
	// GrantError says why the grant stopped working (revoked, expired,
	// refused by the mail server): the mailbox needs Reconnect.
	GrantError     string `json:"grant_error"`
	GrantErrorI18n string `json:"-"` // GrantError as a stored sentence
}

// Connected tells whether the provider granted tokens that have not
// been found bad since.
func (o *MailboxOAuth) Connected() bool {
	return (o.RefreshToken != "" || o.AccessToken != "") && o.GrantError == ""
}

const mailboxOAuthCols = `mailbox_id, provider, client_id, client_secret, tenant, auth_url, token_url, scopes,
	access_token, refresh_token, token_expiry, connected_at, grant_error, grant_error_i18n`

func scanMailboxOAuth(row interface{ Scan(...any) error }, box *secretBox) (*MailboxOAuth, error) {
	var o MailboxOAuth
	var expiry, connected sql.NullInt64
	if err := row.Scan(&o.MailboxID, &o.Provider, &o.ClientID, &o.ClientSecret, &o.Tenant, &o.AuthURL, &o.TokenURL, &o.Scopes,
		&o.AccessToken, &o.RefreshToken, &expiry, &connected, &o.GrantError, &o.GrantErrorI18n); err != nil {
		return nil, err
	}
	o.TokenExpiry, o.ConnectedAt = fromNullMS(expiry), fromNullMS(connected)
	for _, f := range []struct {
		column string
		v      *string
	}{{"mailbox_oauth.client_secret", &o.ClientSecret}, {"mailbox_oauth.access_token", &o.AccessToken},
		{"mailbox_oauth.refresh_token", &o.RefreshToken}} {
		var err error
		if *f.v, err = box.open(f.column, *f.v); err != nil {
			return nil, err
		}
	}
	return &o, nil
}

// MailboxOAuth reads how a mailbox signs in with OAuth2; ErrNotFound
// when it signs in with a password.
func (db *DB) MailboxOAuth(ctx context.Context, mailboxID int64) (*MailboxOAuth, error) {
	o, err := scanMailboxOAuth(db.rq.QueryRowContext(ctx, "SELECT "+mailboxOAuthCols+" FROM mailbox_oauth WHERE mailbox_id = ?", mailboxID), db.secrets)
	return o, notFoundID(err, "oauth of mailbox", mailboxID)
}

// MailboxOAuth is DB.MailboxOAuth inside the transaction.
func (tx *Tx) MailboxOAuth(ctx context.Context, mailboxID int64) (*MailboxOAuth, error) {
	o, err := scanMailboxOAuth(tx.q.QueryRowContext(ctx, "SELECT "+mailboxOAuthCols+" FROM mailbox_oauth WHERE mailbox_id = ?", mailboxID), tx.secrets)
	return o, notFoundID(err, "oauth of mailbox", mailboxID)
}

// MailboxOAuths reads the OAuth2 sign-in of every mailbox that has one.
func (db *DB) MailboxOAuths(ctx context.Context) (map[int64]*MailboxOAuth, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+mailboxOAuthCols+" FROM mailbox_oauth")
	if err != nil {
		return nil, fmt.Errorf("list mailbox oauth: %w", err)
	}
	defer rows.Close()
	all := map[int64]*MailboxOAuth{}
	for rows.Next() {
		o, err := scanMailboxOAuth(rows, db.secrets)
		if err != nil {
			return nil, fmt.Errorf("list mailbox oauth: %w", err)
		}
		all[o.MailboxID] = o
	}
	return all, rows.Err()
}

// SaveMailboxOAuth writes a mailbox's OAuth2 sign-in (settings and
// tokens as o has them); a sign-in under way is left alone.
func (tx *Tx) SaveMailboxOAuth(ctx context.Context, o *MailboxOAuth) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO mailbox_oauth (mailbox_id, provider, client_id, client_secret, tenant, auth_url,
		token_url, scopes, access_token, refresh_token, token_expiry, connected_at, grant_error, grant_error_i18n)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mailbox_id) DO UPDATE SET provider = excluded.provider, client_id = excluded.client_id,
		client_secret = excluded.client_secret, tenant = excluded.tenant, auth_url = excluded.auth_url,
		token_url = excluded.token_url, scopes = excluded.scopes, access_token = excluded.access_token,
		refresh_token = excluded.refresh_token, token_expiry = excluded.token_expiry, connected_at = excluded.connected_at,
		grant_error = excluded.grant_error, grant_error_i18n = excluded.grant_error_i18n`,
		o.MailboxID, o.Provider, o.ClientID, tx.secrets.seal("mailbox_oauth.client_secret", o.ClientSecret), o.Tenant,
		o.AuthURL, o.TokenURL, o.Scopes, tx.secrets.seal("mailbox_oauth.access_token", o.AccessToken),
		tx.secrets.seal("mailbox_oauth.refresh_token", o.RefreshToken), nullMS(o.TokenExpiry), nullMS(o.ConnectedAt),
		o.GrantError, o.GrantErrorI18n)
	if err != nil {
		return fmt.Errorf("save oauth of mailbox %d: %w", o.MailboxID, err)
	}
	return nil
}

// DeleteMailboxOAuth makes a mailbox sign in with its password again;
// the tokens go with the row.
func (tx *Tx) DeleteMailboxOAuth(ctx context.Context, mailboxID int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM mailbox_oauth WHERE mailbox_id = ?", mailboxID); err != nil {
		return fmt.Errorf("delete oauth of mailbox %d: %w", mailboxID, err)
	}
	return nil
}

// StartMailboxOAuth notes a sign-in under way: the hash of its state,
// its PKCE verifier (sealed) and the session that started it. A newer
// one replaces it.
func (db *DB) StartMailboxOAuth(ctx context.Context, mailboxID int64, stateHash, verifier, session string) error {
	res, err := db.exec(ctx, `UPDATE mailbox_oauth SET pending_state = ?, pending_verifier = ?, pending_session = ?, pending_at = ?
		WHERE mailbox_id = ?`, stateHash, db.secrets.seal("mailbox_oauth.pending_verifier", verifier), session, ms(Now()), mailboxID)
	if err != nil {
		return fmt.Errorf("start oauth of mailbox %d: %w", mailboxID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "oauth of mailbox", ID: mailboxID}
	}
	return nil
}

// PendingOAuth is a sign-in under way, as TakeMailboxOAuth hands it over.
type PendingOAuth struct {
	MailboxID int64
	Verifier  string
	Session   string
	StartedAt time.Time
}

// TakeMailboxOAuth finds the sign-in whose state hashes to stateHash and
// ends it (a state is good once); ErrNotFound when none is under way.
func (db *DB) TakeMailboxOAuth(ctx context.Context, stateHash string) (*PendingOAuth, error) {
	if stateHash == "" {
		return nil, &NotFoundError{Thing: "sign-in"}
	}
	var p PendingOAuth
	err := db.Write(ctx, func(tx *Tx) error {
		var at int64
		err := tx.q.QueryRowContext(ctx, `SELECT mailbox_id, pending_verifier, pending_session, pending_at FROM mailbox_oauth
			WHERE pending_state = ?`, stateHash).Scan(&p.MailboxID, &p.Verifier, &p.Session, &at)
		if err != nil {
			return notFound(err, "sign-in")
		}
		p.StartedAt = fromMS(at)
		if p.Verifier, err = tx.secrets.open("mailbox_oauth.pending_verifier", p.Verifier); err != nil {
			return err
		}
		_, err = tx.q.ExecContext(ctx, `UPDATE mailbox_oauth SET pending_state = '', pending_verifier = '', pending_session = '',
			pending_at = NULL WHERE mailbox_id = ?`, p.MailboxID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ConnectMailboxOAuth stores the tokens a sign-in was granted; the grant
// works again.
func (db *DB) ConnectMailboxOAuth(ctx context.Context, mailboxID int64, access, refresh string, expiry *time.Time) error {
	_, err := db.exec(ctx, `UPDATE mailbox_oauth SET access_token = ?, refresh_token = ?, token_expiry = ?, connected_at = ?,
		grant_error = '', grant_error_i18n = '' WHERE mailbox_id = ?`,
		db.secrets.seal("mailbox_oauth.access_token", access), db.secrets.seal("mailbox_oauth.refresh_token", refresh),
		nullMS(expiry), ms(Now()), mailboxID)
	if err != nil {
		return fmt.Errorf("connect oauth of mailbox %d: %w", mailboxID, err)
	}
	return nil
}

// RefreshMailboxOAuth stores a refreshed access token (and the new
// refresh token, when the provider rotated it). Of two nodes refreshing
// at once, the access token that lasts longer stays; the refresh token
// written last (the newest issued) stays.
func (db *DB) RefreshMailboxOAuth(ctx context.Context, mailboxID int64, access, refresh string, expiry *time.Time) error {
	return db.Write(ctx, func(tx *Tx) error {
		if refresh != "" {
			// A rotated refresh token is the newest the provider gave and
			// may be the only one it still takes: kept whatever the expiry.
			if _, err := tx.q.ExecContext(ctx, `UPDATE mailbox_oauth SET refresh_token = ? WHERE mailbox_id = ?`,
				db.secrets.seal("mailbox_oauth.refresh_token", refresh), mailboxID); err != nil {
				return fmt.Errorf("refresh oauth of mailbox %d: %w", mailboxID, err)
			}
		}
		q := `UPDATE mailbox_oauth SET access_token = ?, token_expiry = ? WHERE mailbox_id = ?`
		args := []any{db.secrets.seal("mailbox_oauth.access_token", access), nullMS(expiry), mailboxID}
		if expiry != nil {
			q += ` AND (token_expiry IS NULL OR token_expiry < ?)`
			args = append(args, ms(*expiry))
		}
		if _, err := tx.q.ExecContext(ctx, q, args...); err != nil {
			return fmt.Errorf("refresh oauth of mailbox %d: %w", mailboxID, err)
		}
		return nil
	})
}

// SetMailboxOAuthGrantError records why a mailbox's grant stopped
// working (and its stored sentence); the app offers Reconnect.
func (db *DB) SetMailboxOAuthGrantError(ctx context.Context, mailboxID int64, why, sentence string) error {
	_, err := db.exec(ctx, `UPDATE mailbox_oauth SET grant_error = ?, grant_error_i18n = ? WHERE mailbox_id = ?`, why, sentence, mailboxID)
	if err != nil {
		return fmt.Errorf("oauth of mailbox %d: %w", mailboxID, err)
	}
	return nil
}

// EmailOutboxDueNow makes every queued email reply due at once: a
// mailbox's sign-in works again, and what waited for it may leave.
func (db *DB) EmailOutboxDueNow(ctx context.Context) error {
	now := ms(Now())
	_, err := db.exec(ctx, `UPDATE outbox SET next_attempt_at = ? WHERE next_attempt_at > ?
		AND message_id IN (SELECT id FROM messages WHERE channel = 'email')`, now, now)
	if err != nil {
		return fmt.Errorf("email replies due now: %w", err)
	}
	return nil
}

// resealMailboxOAuth seals the OAuth2 secrets of every mailbox again
// (a key rotation): again opens one with the old key and seals it with
// the new.
func resealMailboxOAuth(ctx context.Context, tx *Tx, again func(column, v string) (string, error)) error {
	type row struct {
		id     int64
		values [4]string
	}
	columns := [4]string{"client_secret", "access_token", "refresh_token", "pending_verifier"}
	rows, err := tx.q.QueryContext(ctx, "SELECT mailbox_id, client_secret, access_token, refresh_token, pending_verifier FROM mailbox_oauth")
	if err != nil {
		return fmt.Errorf("read mailbox_oauth: %w", err)
	}
	var all []row
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.values[0], &r.values[1], &r.values[2], &r.values[3]); err != nil {
			rows.Close()
			return fmt.Errorf("read mailbox_oauth: %w", err)
		}
		all = append(all, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read mailbox_oauth: %w", err)
	}
	for _, r := range all {
		for i, column := range columns {
			if r.values[i], err = again("mailbox_oauth."+column, r.values[i]); err != nil {
				return fmt.Errorf("mailbox_oauth.%s of mailbox %d: %w", column, r.id, err)
			}
		}
		if _, err := tx.q.ExecContext(ctx, `UPDATE mailbox_oauth SET client_secret = ?, access_token = ?, refresh_token = ?,
			pending_verifier = ? WHERE mailbox_id = ?`, r.values[0], r.values[1], r.values[2], r.values[3], r.id); err != nil {
			return fmt.Errorf("seal mailbox_oauth: %w", err)
		}
	}
	return nil
}
