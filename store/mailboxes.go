package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Mailbox is a support address: where its mail is fetched (IMAP) and how
// replies leave (SMTP). Passwords never leave the server.
type Mailbox struct {
	ID           int64  `json:"id"`
	Address      string `json:"address"`
	Name         string `json:"name"`
	StoreID      *int64 `json:"store_id"`
	IMAPHost     string `json:"imap_host"`
	IMAPPort     int    `json:"imap_port"`
	IMAPSecurity string `json:"imap_security"`
	IMAPUsername string `json:"imap_username"`
	IMAPPassword string `json:"-"`
	IMAPFolder   string `json:"imap_folder"`
	SMTPHost     string `json:"smtp_host"`
	SMTPPort     int    `json:"smtp_port"`
	SMTPSecurity string `json:"smtp_security"`
	SMTPUsername string `json:"smtp_username"`
	SMTPPassword string `json:"-"`
	PollSeconds  int    `json:"poll_seconds"`
	AfterImport  string `json:"after_import"`
	MoveTo       string `json:"move_to"`
	Active       bool   `json:"active"`
	// Replies carry a Reply-To of address+t<ticket>.<key>@domain, which
	// threads even when the customer's client drops every header.
	PlusAddressing bool       `json:"plus_addressing"`
	AutoAck        bool       `json:"auto_ack"`
	AutoAckText    string     `json:"auto_ack_text"`
	MaxMessageMB   int        `json:"max_message_mb"`
	UIDValidity    uint32     `json:"-"`
	LastUID        uint32     `json:"-"`
	LastError      string     `json:"last_error"`
	LastPolledAt   *time.Time `json:"last_polled_at"`
	LastSuccessAt  *time.Time `json:"last_success_at"`
	CreatedAt      time.Time  `json:"created_at"`
}

const mailboxCols = `id, address, name, store_id, imap_host, imap_port, imap_security, imap_username, imap_password,
	imap_folder, smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, poll_seconds, after_import,
	move_to, active, uid_validity, last_uid, last_error, last_polled_at, last_success_at, created_at,
	plus_addressing, auto_ack, auto_ack_text, max_message_mb`

func scanMailbox(row interface{ Scan(...any) error }) (*Mailbox, error) {
	var m Mailbox
	var st, polled, success sql.NullInt64
	var created int64
	err := row.Scan(&m.ID, &m.Address, &m.Name, &st, &m.IMAPHost, &m.IMAPPort, &m.IMAPSecurity, &m.IMAPUsername,
		&m.IMAPPassword, &m.IMAPFolder, &m.SMTPHost, &m.SMTPPort, &m.SMTPSecurity, &m.SMTPUsername, &m.SMTPPassword,
		&m.PollSeconds, &m.AfterImport, &m.MoveTo, &m.Active, &m.UIDValidity, &m.LastUID, &m.LastError, &polled, &success, &created,
		&m.PlusAddressing, &m.AutoAck, &m.AutoAckText, &m.MaxMessageMB)
	if err != nil {
		return nil, err
	}
	m.StoreID, m.LastPolledAt, m.LastSuccessAt, m.CreatedAt = fromNullID(st), fromNullMS(polled), fromNullMS(success), fromMS(created)
	return &m, nil
}

// Mailboxes lists every mailbox by address.
func (db *DB) Mailboxes(ctx context.Context) ([]*Mailbox, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes ORDER BY address")
	if err != nil {
		return nil, fmt.Errorf("list mailboxes: %w", err)
	}
	defer rows.Close()
	list := []*Mailbox{}
	for rows.Next() {
		m, err := scanMailbox(rows)
		if err != nil {
			return nil, fmt.Errorf("list mailboxes: %w", err)
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// Mailbox reads one mailbox.
func (db *DB) Mailbox(ctx context.Context, id int64) (*Mailbox, error) {
	m, err := scanMailbox(db.rq.QueryRowContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE id = ?", id))
	return m, notFound(err, fmt.Sprintf("mailbox %d", id))
}

// Mailbox reads one mailbox inside the transaction.
func (tx *Tx) Mailbox(ctx context.Context, id int64) (*Mailbox, error) {
	m, err := scanMailbox(tx.q.QueryRowContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE id = ?", id))
	return m, notFound(err, fmt.Sprintf("mailbox %d", id))
}

// SaveMailbox inserts (ID 0) or updates a mailbox's settings; the cursor
// and poll status are left alone.
func (tx *Tx) SaveMailbox(ctx context.Context, m *Mailbox) error {
	args := []any{m.Address, m.Name, nullID(m.StoreID), m.IMAPHost, m.IMAPPort, m.IMAPSecurity, m.IMAPUsername, m.IMAPPassword,
		m.IMAPFolder, m.SMTPHost, m.SMTPPort, m.SMTPSecurity, m.SMTPUsername, m.SMTPPassword, m.PollSeconds, m.AfterImport,
		m.MoveTo, m.Active, m.PlusAddressing, m.AutoAck, m.AutoAckText, m.MaxMessageMB}
	if m.ID == 0 {
		res, err := tx.q.ExecContext(ctx, `INSERT INTO mailboxes (address, name, store_id, imap_host, imap_port, imap_security,
			imap_username, imap_password, imap_folder, smtp_host, smtp_port, smtp_security, smtp_username, smtp_password,
			poll_seconds, after_import, move_to, active, plus_addressing, auto_ack, auto_ack_text, max_message_mb, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append(args, ms(m.CreatedAt))...)
		if isUnique(err) {
			return fmt.Errorf("mailbox %s: %w", m.Address, ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert mailbox: %w", err)
		}
		m.ID, err = res.LastInsertId()
		return err
	}
	_, err := tx.q.ExecContext(ctx, `UPDATE mailboxes SET address = ?, name = ?, store_id = ?, imap_host = ?, imap_port = ?,
		imap_security = ?, imap_username = ?, imap_password = ?, imap_folder = ?, smtp_host = ?, smtp_port = ?, smtp_security = ?,
		smtp_username = ?, smtp_password = ?, poll_seconds = ?, after_import = ?, move_to = ?, active = ?,
		plus_addressing = ?, auto_ack = ?, auto_ack_text = ?, max_message_mb = ? WHERE id = ?`,
		append(args, m.ID)...)
	if isUnique(err) {
		return fmt.Errorf("mailbox %s: %w", m.Address, ErrConflict)
	}
	if err != nil {
		return fmt.Errorf("update mailbox %d: %w", m.ID, err)
	}
	return nil
}

// SetMailboxCursor records the last imported UID (with the folder's
// UIDVALIDITY) in the same transaction as the imported message.
func (tx *Tx) SetMailboxCursor(ctx context.Context, id int64, uidValidity, lastUID uint32) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE mailboxes SET uid_validity = ?, last_uid = max(CASE WHEN uid_validity = ? THEN last_uid ELSE 0 END, ?)
		WHERE id = ?`, uidValidity, uidValidity, lastUID, id)
	if err != nil {
		return fmt.Errorf("mailbox %d cursor: %w", id, err)
	}
	return nil
}

// SetMailboxPolled records the outcome of a poll: "" for success.
func (db *DB) SetMailboxPolled(ctx context.Context, id int64, pollErr string) error {
	now := ms(Now())
	var err error
	if pollErr == "" {
		_, err = db.exec(ctx, "UPDATE mailboxes SET last_error = '', last_polled_at = ?, last_success_at = ? WHERE id = ?", now, now, id)
	} else {
		_, err = db.exec(ctx, "UPDATE mailboxes SET last_error = ?, last_polled_at = ? WHERE id = ?", pollErr, now, id)
	}
	return err
}

// SetMessageExternalID records the id a channel gave an outbound message
// (an email's Message-ID), so replies to it thread.
func (db *DB) SetMessageExternalID(ctx context.Context, messageID int64, externalID string) error {
	_, err := db.exec(ctx, "UPDATE messages SET external_id = ? WHERE id = ? AND external_id = ''", externalID, messageID)
	return err
}

// SetMessageSource links a message to its mailbox and raw source (stored
// as a blob), inside the transaction that stores the message.
// The source is raw or, when rawPath is set, the file there.
func (tx *Tx) SetMessageSource(ctx context.Context, messageID, mailboxID int64, raw []byte, rawPath string) error {
	var sha any
	if len(raw) > 0 || rawPath != "" {
		h, _, err := tx.putBlob(ctx, raw, rawPath)
		if err != nil {
			return err
		}
		sha = h
	}
	_, err := tx.q.ExecContext(ctx, "UPDATE messages SET mailbox_id = ?, raw_sha256 = ? WHERE id = ?", mailboxID, sha, messageID)
	return err
}

// SetTicketMailbox records which mailbox a ticket's replies leave from.
func (tx *Tx) SetTicketMailbox(ctx context.Context, ticketID, mailboxID int64) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE tickets SET mailbox_id = ? WHERE id = ? AND mailbox_id IS NULL", mailboxID, ticketID)
	return err
}

// TicketMailbox returns the mailbox a ticket's replies leave from (0 if none).
func (db *DB) TicketMailbox(ctx context.Context, ticketID int64) (int64, error) {
	var id sql.NullInt64
	err := db.rq.QueryRowContext(ctx, "SELECT mailbox_id FROM tickets WHERE id = ?", ticketID).Scan(&id)
	return id.Int64, notFound(err, fmt.Sprintf("ticket %d", ticketID))
}

// MessageSource returns the raw source of an inbound message.
func (db *DB) MessageSource(ctx context.Context, messageID int64) ([]byte, error) {
	var sha string
	err := db.rq.QueryRowContext(ctx, `SELECT raw_sha256 FROM messages WHERE id = ? AND raw_sha256 IS NOT NULL`, messageID).Scan(&sha)
	if err != nil {
		return nil, notFound(err, fmt.Sprintf("source of message %d", messageID))
	}
	return blobData(ctx, db.rq, sha)
}
