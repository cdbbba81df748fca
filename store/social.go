package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Platforms of social accounts: Telegram bots, WhatsApp Business numbers
// and Meta pages (Messenger and Instagram).
var Platforms = []string{"telegram", "whatsapp", "meta"}

// SocialAccount is one connected bot, number or page. Config holds its
// settings with the secrets and never leaves the server; State is what
// its channel keeps between runs.
type SocialAccount struct {
	ID         int64           `json:"id"`
	StoreID    *int64          `json:"store_id"`
	Platform   string          `json:"platform"`
	Name       string          `json:"name"`
	Handle     string          `json:"handle"`
	ExternalID string          `json:"external_id"`
	Config     json.RawMessage `json:"-"`
	State      SocialState     `json:"state"`
	Enabled    bool            `json:"enabled"`
	CreatedAt  time.Time       `json:"created_at"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// SocialState is how an account is doing, kept by its channel.
type SocialState struct {
	Mode       string `json:"mode"`                  // how messages arrive: "polling" or "webhook" ("" before the first run)
	WebhookURL string `json:"webhook_url,omitempty"` // where the platform posts, in webhook mode
	LastError  string `json:"last_error"`
	// LastErrorI18n is LastError as a stored sentence (i18n's JSON of its
	// format and arguments), "" when there is none.
	LastErrorI18n string     `json:"last_error_i18n,omitempty"`
	LastErrorAt   *time.Time `json:"last_error_at"`
	LastOKAt      *time.Time `json:"last_ok_at"`       // the last time the platform answered
	Offset        int64      `json:"offset,omitempty"` // Telegram: the next update to fetch
}

const socialCols = `id, store_id, platform, name, handle, external_id, config, state, enabled, created_at, updated_at`

func scanSocialAccount(row interface{ Scan(...any) error }, box *secretBox) (*SocialAccount, error) {
	var a SocialAccount
	var st sql.NullInt64
	var config, state string
	var created, updated int64
	if err := row.Scan(&a.ID, &st, &a.Platform, &a.Name, &a.Handle, &a.ExternalID, &config, &state, &a.Enabled, &created, &updated); err != nil {
		return nil, err
	}
	config, err := box.open("social_accounts.config", config)
	if err != nil {
		return nil, err
	}
	a.Config = json.RawMessage(config)
	_ = jsonUnmarshal(state, &a.State)
	a.StoreID, a.CreatedAt, a.UpdatedAt = fromNullID(st), fromMS(created), fromMS(updated)
	return &a, nil
}

// SocialAccounts lists the accounts of a platform ("" for all), by store and id.
func (db *DB) SocialAccounts(ctx context.Context, platform string) ([]*SocialAccount, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+socialCols+` FROM social_accounts
		WHERE ? = '' OR platform = ? ORDER BY store_id, id`, platform, platform)
	if err != nil {
		return nil, fmt.Errorf("list social accounts: %w", err)
	}
	defer rows.Close()
	list := []*SocialAccount{}
	for rows.Next() {
		a, err := scanSocialAccount(rows, db.secrets)
		if err != nil {
			return nil, fmt.Errorf("list social accounts: %w", err)
		}
		list = append(list, a)
	}
	return list, rows.Err()
}

// SocialAccount reads one account.
func (db *DB) SocialAccount(ctx context.Context, id int64) (*SocialAccount, error) {
	a, err := scanSocialAccount(db.rq.QueryRowContext(ctx, "SELECT "+socialCols+" FROM social_accounts WHERE id = ?", id), db.secrets)
	return a, notFoundID(err, "social account", id)
}

// SocialAccount reads one account inside the transaction.
func (tx *Tx) SocialAccount(ctx context.Context, id int64) (*SocialAccount, error) {
	a, err := scanSocialAccount(tx.q.QueryRowContext(ctx, "SELECT "+socialCols+" FROM social_accounts WHERE id = ?", id), tx.secrets)
	return a, notFoundID(err, "social account", id)
}

// SaveSocialAccount inserts (ID 0) or updates an account's settings; its
// state is the channel's and is left alone. ErrConflict: the platform's
// account is connected already.
func (tx *Tx) SaveSocialAccount(ctx context.Context, a *SocialAccount) error {
	config := string(a.Config)
	if config == "" {
		config = "{}"
	}
	args := []any{nullID(a.StoreID), a.Name, a.Handle, a.ExternalID, tx.sealer(ctx).seal("social_accounts.config", config), a.Enabled, ms(a.UpdatedAt)}
	var err error
	if a.ID == 0 {
		var res sql.Result
		res, err = tx.q.insert(ctx, `INSERT INTO social_accounts (store_id, name, handle, external_id, config, enabled, updated_at, platform, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`, append(args, a.Platform, ms(a.CreatedAt))...)
		if err == nil {
			a.ID, err = res.LastInsertId()
		}
	} else {
		_, err = tx.q.ExecContext(ctx, `UPDATE social_accounts SET store_id = ?, name = ?, handle = ?, external_id = ?, config = ?,
			enabled = ?, updated_at = ? WHERE id = ?`, append(args, a.ID)...)
	}
	if isUnique(err) {
		return fmt.Errorf("%s account %s: %w", a.Platform, a.ExternalID, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("save social account: %w", err)
	}
	return nil
}

// DeleteSocialAccount removes an account and the deliveries it had waiting.
func (tx *Tx) DeleteSocialAccount(ctx context.Context, id int64) error {
	res, err := tx.q.ExecContext(ctx, "DELETE FROM social_accounts WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete social account %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "social account", ID: id}
	}
	return nil
}

// SetSocialState records an account's state.
func (db *DB) SetSocialState(ctx context.Context, id int64, s SocialState) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	if _, err := db.exec(ctx, "UPDATE social_accounts SET state = ? WHERE id = ?", string(b), id); err != nil {
		return fmt.Errorf("social account %d state: %w", id, err)
	}
	return nil
}

// SetSocialThread records the chat a ticket is with (once: a ticket stays
// with its first chat).
func (tx *Tx) SetSocialThread(ctx context.Context, ticketID, accountID int64, chatID string) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO social_threads (ticket_id, account_id, chat_id) VALUES (?, ?, ?)
		ON CONFLICT (ticket_id) DO NOTHING`, ticketID, accountID, chatID)
	if err != nil {
		return fmt.Errorf("ticket %d chat: %w", ticketID, err)
	}
	return nil
}

// socialTicket reads the newest ticket of a chat off social_threads_chat
// (every social message makes this read).
const socialTicket = `SELECT ticket_id FROM social_threads WHERE account_id = ? AND chat_id = ? ORDER BY ticket_id DESC LIMIT 1`

// SocialTicket is the newest ticket of an account's chat (ErrNotFound when
// the chat has none).
func (tx *Tx) SocialTicket(ctx context.Context, accountID int64, chatID string) (int64, error) {
	var id int64
	err := tx.q.QueryRowContext(ctx, socialTicket, accountID, chatID).Scan(&id)
	return id, notFound(err, fmt.Sprintf("ticket of chat %s", chatID))
}

// SocialThread is the account and chat a ticket's replies go to.
func (db *DB) SocialThread(ctx context.Context, ticketID int64) (accountID int64, chatID string, err error) {
	err = db.rq.QueryRowContext(ctx, "SELECT account_id, chat_id FROM social_threads WHERE ticket_id = ?", ticketID).Scan(&accountID, &chatID)
	return accountID, chatID, notFoundID(err, "chat of ticket", ticketID)
}

// MessageByExternalID reads the message a channel delivered with that id.
func (db *DB) MessageByExternalID(ctx context.Context, channel, externalID string) (*Message, error) {
	m, err := scanMessage(db.rq.QueryRowContext(ctx, messageByExternalID, channel, externalID))
	return m, notFound(err, fmt.Sprintf("%s message %s", channel, externalID))
}

// EventWithKey tells whether a ticket has an event of that type whose
// data has that "key" (an edit noted once, however often it is delivered).
func (tx *Tx) EventWithKey(ctx context.Context, ticketID int64, typ EventType, key string) (bool, error) {
	var one int
	err := tx.q.QueryRowContext(ctx, `SELECT 1 FROM ticket_events WHERE ticket_id = ? AND type = ? AND `+jsonGet(tx.postgres, "data", "key")+` = ?`,
		ticketID, typ, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// SocialUpdate is a webhook delivery waiting for its slow work.
type SocialUpdate struct {
	ID        int64
	AccountID int64
	Key       string
	Payload   []byte
	Attempts  int
}

// QueueSocialUpdate keeps a webhook delivery to work off later; a
// delivery queued already (the platform retrying) is kept once.
func (db *DB) QueueSocialUpdate(ctx context.Context, accountID int64, key string, payload []byte) error {
	now := ms(Now())
	_, err := db.exec(ctx, `INSERT INTO social_inbox (account_id, key, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (account_id, key) DO NOTHING`, accountID, key, string(payload), now, now)
	if err != nil {
		return fmt.Errorf("queue update %s of account %d: %w", key, accountID, err)
	}
	return nil
}

// QueueSocialUpdates keeps the parts of one webhook delivery (its
// events, each with its account and key) in one write; a part queued
// already is kept once.
func (db *DB) QueueSocialUpdates(ctx context.Context, list []SocialUpdate) error {
	now := ms(Now())
	return db.Write(ctx, func(tx *Tx) error {
		for _, u := range list {
			_, err := tx.q.ExecContext(ctx, `INSERT INTO social_inbox (account_id, key, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (account_id, key) DO NOTHING`, u.AccountID, u.Key, string(u.Payload), now, now)
			if err != nil {
				return fmt.Errorf("queue update %s of account %d: %w", u.Key, u.AccountID, err)
			}
		}
		return nil
	})
}

// DueSocialUpdates lists up to limit queued deliveries of a platform's
// accounts that are due, oldest first.
func (db *DB) DueSocialUpdates(ctx context.Context, platform string, now time.Time, limit int) ([]SocialUpdate, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT i.id, i.account_id, i.key, i.payload, i.attempts FROM social_inbox i
		JOIN social_accounts a ON a.id = i.account_id
		WHERE i.next_attempt_at <= ? AND a.platform = ? ORDER BY i.id LIMIT ?`, ms(now), platform, limit)
	if err != nil {
		return nil, fmt.Errorf("due social updates: %w", err)
	}
	defer rows.Close()
	var list []SocialUpdate
	for rows.Next() {
		var u SocialUpdate
		var payload string
		if err := rows.Scan(&u.ID, &u.AccountID, &u.Key, &payload, &u.Attempts); err != nil {
			return nil, fmt.Errorf("due social updates: %w", err)
		}
		u.Payload = []byte(payload)
		list = append(list, u)
	}
	return list, rows.Err()
}

// NextSocialUpdateAt is when the next queued delivery is due (zero: none).
func (db *DB) NextSocialUpdateAt(ctx context.Context) (time.Time, error) {
	var next sql.NullInt64
	if err := db.rq.QueryRowContext(ctx, "SELECT min(next_attempt_at) FROM social_inbox").Scan(&next); err != nil {
		return time.Time{}, err
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromMS(next.Int64), nil
}

// FinishSocialUpdates drops deliveries that were worked off, in one write.
func (db *DB) FinishSocialUpdates(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	return db.Write(ctx, func(tx *Tx) error {
		for _, id := range ids {
			if _, err := tx.q.ExecContext(ctx, "DELETE FROM social_inbox WHERE id = ?", id); err != nil {
				return fmt.Errorf("drop queued delivery %d: %w", id, err)
			}
		}
		return nil
	})
}

// RetrySocialUpdate puts a delivery off until next, with the reason.
func (db *DB) RetrySocialUpdate(ctx context.Context, id int64, attempts int, next time.Time, reason string) error {
	_, err := db.exec(ctx, "UPDATE social_inbox SET attempts = ?, next_attempt_at = ?, last_error = ? WHERE id = ?",
		attempts, ms(next), reason, id)
	return err
}

// namedReply is the ids of the messages of a channel (?) a platform's id
// (?, twice) names: the message that has it as its external id, or the
// reply one of whose parts went out with it (a reply in several parts
// keeps its first part's id; a receipt may name any part).
const namedReply = `(SELECT id FROM messages WHERE channel = ? AND external_id = ? AND external_id <> ''
	UNION SELECT message_id FROM reply_parts WHERE external_id = ? AND external_id <> '')`

// ReceiptReplies lists the agent replies a platform's receipt is about,
// that it still changes (not failed; not read yet, or for a delivery
// receipt not delivered yet): those of a channel with the given external
// ids (a reply's own, or one of its parts'), and, when chatID is set,
// those on the chat's tickets written up to upTo (Messenger's watermark:
// everything before it was delivered or read), or when upTo is zero up to
// the newest of the named replies (an Instagram read names the last
// message seen).
func (tx *Tx) ReceiptReplies(ctx context.Context, channel string, externalIDs []string, accountID int64, chatID string, upTo time.Time, read bool) ([]int64, error) {
	pending := "m.delivery = 'sent'"
	if read {
		pending = "m.delivery IN ('sent', 'delivered') AND m.read_at IS NULL"
	}
	if chatID != "" && upTo.IsZero() {
		for _, ext := range externalIDs {
			var at sql.NullInt64
			err := tx.q.QueryRowContext(ctx, `SELECT max(created_at) FROM messages WHERE channel = ? AND id IN `+namedReply,
				channel, channel, ext, ext).Scan(&at)
			if err != nil {
				return nil, fmt.Errorf("reply of receipt %s: %w", ext, err)
			}
			if t := fromMS(at.Int64); at.Valid && at.Int64 != 0 && t.After(upTo) {
				upTo = t
			}
		}
		if upTo.IsZero() {
			chatID = "" // about nothing onedesk sent
		}
	}
	var ids []int64
	for _, ext := range externalIDs {
		got, err := queryIDs(ctx, tx.q, `SELECT m.id FROM messages m WHERE m.channel = ? AND m.id IN `+namedReply+`
			AND m.kind = 'agent' AND `+pending, channel, channel, ext, ext)
		if err != nil {
			return nil, fmt.Errorf("replies of receipt %s: %w", ext, err)
		}
		ids = append(ids, got...)
	}
	if chatID != "" {
		got, err := queryIDs(ctx, tx.q, `SELECT m.id FROM social_threads s JOIN messages m ON m.ticket_id = s.ticket_id
			WHERE s.account_id = ? AND s.chat_id = ? AND m.kind = 'agent' AND m.created_at <= ? AND `+pending,
			accountID, chatID, ms(upTo))
		if err != nil {
			return nil, fmt.Errorf("replies of chat %s up to %s: %w", chatID, upTo, err)
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// SetReceipt marks a reply delivered and, with read set, read then (a
// time recorded already is kept).
func (tx *Tx) SetReceipt(ctx context.Context, messageID int64, read *time.Time) error {
	var at any
	if read != nil {
		at = ms(*read)
	}
	_, err := tx.q.ExecContext(ctx, `UPDATE messages SET delivery = 'delivered', delivery_error = '', delivery_error_i18n = '', read_at = coalesce(read_at, ?)
		WHERE id = ?`, at, messageID)
	if err != nil {
		return fmt.Errorf("message %d receipt: %w", messageID, err)
	}
	tx.touched.message(messageID)
	return nil
}
