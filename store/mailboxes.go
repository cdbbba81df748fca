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
	LastErrorI18n  string     `json:"-"` // LastError as a stored sentence, "" if none
	LastPolledAt   *time.Time `json:"last_polled_at"`
	LastSuccessAt  *time.Time `json:"last_success_at"`
	CreatedAt      time.Time  `json:"created_at"`
	// How the mailbox has been failing: since when (nil while it works),
	// at which UID (0 when not at a message) and how many polls in a row
	// failed there.
	FailingSince  *time.Time `json:"failing_since"`
	FailingUID    uint32     `json:"failing_uid"`
	FailingCount  int        `json:"failing_count"`
	LastMessageID *int64     `json:"-"`

	// Where a new mailbox starts (StartNew, StartHistory, StartAll), the
	// date its history starts at, and its folder of sent mail ("" found
	// by its \Sent flag, "-" none).
	StartFrom    string     `json:"start_from"`
	HistorySince *time.Time `json:"history_since"`
	SentFolder   string     `json:"sent_folder"`
	// The history import: its state (HistoryPending, HistoryRunning,
	// HistoryDone, HistoryCancelled; "" none), error, and when it last
	// (re)started with how much was done then.
	HistoryState       string     `json:"history_state"`
	HistoryError       string     `json:"history_error"`
	HistoryErrorI18n   string     `json:"-"` // HistoryError as a stored sentence, "" if none
	HistoryResumedAt   *time.Time `json:"-"`
	HistoryResumedDone int        `json:"-"`
}

// Where a new mailbox starts reading.
const (
	StartNew     = "new"     // mail that arrives after the first connect
	StartHistory = "history" // that, and the history since a date, silently
	StartAll     = "all"     // every message in the folder, as new mail
)

// The states of a mailbox's history import.
const (
	HistoryPending   = "pending" // waits for the mailbox's first connect
	HistoryRunning   = "running"
	HistoryDone      = "done"
	HistoryCancelled = "cancelled"
)

const mailboxCols = `id, address, name, store_id, imap_host, imap_port, imap_security, imap_username, imap_password,
	imap_folder, smtp_host, smtp_port, smtp_security, smtp_username, smtp_password, poll_seconds, after_import,
	move_to, active, uid_validity, last_uid, last_error, last_polled_at, last_success_at, created_at,
	plus_addressing, auto_ack, auto_ack_text, max_message_mb, failing_since, failing_uid, failing_count, last_message_id, last_error_i18n,
	start_from, history_since, sent_folder, history_state, history_error, history_resumed_at, history_resumed_done, history_error_i18n`

func scanMailbox(row interface{ Scan(...any) error }, box *secretBox) (*Mailbox, error) {
	var m Mailbox
	var st, polled, success, failing, lastMsg, since, resumed sql.NullInt64
	var created int64
	err := row.Scan(&m.ID, &m.Address, &m.Name, &st, &m.IMAPHost, &m.IMAPPort, &m.IMAPSecurity, &m.IMAPUsername,
		&m.IMAPPassword, &m.IMAPFolder, &m.SMTPHost, &m.SMTPPort, &m.SMTPSecurity, &m.SMTPUsername, &m.SMTPPassword,
		&m.PollSeconds, &m.AfterImport, &m.MoveTo, &m.Active, &m.UIDValidity, &m.LastUID, &m.LastError, &polled, &success, &created,
		&m.PlusAddressing, &m.AutoAck, &m.AutoAckText, &m.MaxMessageMB, &failing, &m.FailingUID, &m.FailingCount, &lastMsg, &m.LastErrorI18n,
		&m.StartFrom, &since, &m.SentFolder, &m.HistoryState, &m.HistoryError, &resumed, &m.HistoryResumedDone, &m.HistoryErrorI18n)
	if err != nil {
		return nil, err
	}
	m.StoreID, m.LastPolledAt, m.LastSuccessAt, m.CreatedAt = fromNullID(st), fromNullMS(polled), fromNullMS(success), fromMS(created)
	m.FailingSince, m.LastMessageID = fromNullMS(failing), fromNullID(lastMsg)
	m.HistorySince, m.HistoryResumedAt = fromNullMS(since), fromNullMS(resumed)
	if m.IMAPPassword, err = box.open("mailboxes.imap_password", m.IMAPPassword); err != nil {
		return nil, err
	}
	if m.SMTPPassword, err = box.open("mailboxes.smtp_password", m.SMTPPassword); err != nil {
		return nil, err
	}
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
		m, err := scanMailbox(rows, db.secrets)
		if err != nil {
			return nil, fmt.Errorf("list mailboxes: %w", err)
		}
		list = append(list, m)
	}
	return list, rows.Err()
}

// Mailbox reads one mailbox.
func (db *DB) Mailbox(ctx context.Context, id int64) (*Mailbox, error) {
	m, err := scanMailbox(db.rq.QueryRowContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE id = ?", id), db.secrets)
	return m, notFoundID(err, "mailbox", id)
}

// Mailbox reads one mailbox inside the transaction.
func (tx *Tx) Mailbox(ctx context.Context, id int64) (*Mailbox, error) {
	m, err := scanMailbox(tx.q.QueryRowContext(ctx, "SELECT "+mailboxCols+" FROM mailboxes WHERE id = ?", id), tx.secrets)
	return m, notFoundID(err, "mailbox", id)
}

// SaveMailbox inserts (ID 0) or updates a mailbox's settings; the cursor
// and poll status are left alone.
func (tx *Tx) SaveMailbox(ctx context.Context, m *Mailbox) error {
	args := []any{m.Address, m.Name, nullID(m.StoreID), m.IMAPHost, m.IMAPPort, m.IMAPSecurity, m.IMAPUsername,
		tx.sealer(ctx).seal("mailboxes.imap_password", m.IMAPPassword), m.IMAPFolder, m.SMTPHost, m.SMTPPort, m.SMTPSecurity,
		m.SMTPUsername, tx.sealer(ctx).seal("mailboxes.smtp_password", m.SMTPPassword), m.PollSeconds, m.AfterImport,
		m.MoveTo, m.Active, m.PlusAddressing, m.AutoAck, m.AutoAckText, m.MaxMessageMB,
		m.StartFrom, nullMS(m.HistorySince), m.SentFolder, m.HistoryState}
	if m.ID == 0 {
		res, err := tx.q.insert(ctx, `INSERT INTO mailboxes (address, name, store_id, imap_host, imap_port, imap_security,
			imap_username, imap_password, imap_folder, smtp_host, smtp_port, smtp_security, smtp_username, smtp_password,
			poll_seconds, after_import, move_to, active, plus_addressing, auto_ack, auto_ack_text, max_message_mb,
			start_from, history_since, sent_folder, history_state, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
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
		plus_addressing = ?, auto_ack = ?, auto_ack_text = ?, max_message_mb = ?,
		start_from = ?, history_since = ?, sent_folder = ?, history_state = ? WHERE id = ?`,
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
	_, err := tx.q.ExecContext(ctx, `UPDATE mailboxes SET uid_validity = ?, last_uid = `+greatest(tx.postgres)+`(CASE WHEN uid_validity = ? THEN last_uid ELSE 0 END, ?)
		WHERE id = ?`, uidValidity, uidValidity, lastUID, id)
	if err != nil {
		return fmt.Errorf("mailbox %d cursor: %w", id, err)
	}
	return nil
}

// SetMailboxPolled records the outcome of a poll: "" for success, else
// the error and the UID it failed at (0 when not at a message), which
// counts the polls in a row that failed at that same UID.
func (db *DB) SetMailboxPolled(ctx context.Context, id int64, pollErr string, uid uint32) error {
	return db.SetMailboxPollError(ctx, id, pollErr, "", uid)
}

// SetMailboxPollError is SetMailboxPolled with the error also as a stored
// sentence (see Mailbox.LastErrorI18n).
func (db *DB) SetMailboxPollError(ctx context.Context, id int64, pollErr, sentence string, uid uint32) error {
	now := ms(Now())
	var err error
	if pollErr == "" {
		_, err = db.exec(ctx, `UPDATE mailboxes SET last_error = '', last_error_i18n = '', last_polled_at = ?, last_success_at = ?,
			failing_since = NULL, failing_uid = 0, failing_count = 0 WHERE id = ?`, now, now, id)
	} else {
		_, err = db.exec(ctx, `UPDATE mailboxes SET last_error = ?, last_error_i18n = ?, last_polled_at = ?, failing_since = coalesce(failing_since, ?),
			failing_count = CASE WHEN ? <> 0 AND failing_uid = ? THEN failing_count + 1 ELSE 1 END, failing_uid = ?
			WHERE id = ?`, pollErr, sentence, now, now, uid, uid, uid, id)
	}
	return err
}

// MailboxIntake is what a mailbox has imported: its last message and the
// messages that came in only partly read (the newest few, and how many).
type MailboxIntake struct {
	Last         *IntakeMessage  `json:"last_message"`
	PartialCount int             `json:"partial_count"`
	Partial      []IntakeMessage `json:"partial"`
}

// IntakeMessage is an imported message as a mailbox's status names it.
type IntakeMessage struct {
	MessageID   int64     `json:"message_id"`
	TicketID    int64     `json:"ticket_id"`
	Subject     string    `json:"subject"`
	Partial     string    `json:"partial,omitempty"`
	PartialI18n string    `json:"-"` // Partial as stored sentences, "" if none
	ImportedAt  time.Time `json:"imported_at"`
}

// MailboxIntake reads a mailbox's last import and its partly read
// messages, the newest limit of them.
func (db *DB) MailboxIntake(ctx context.Context, id int64, limit int) (*MailboxIntake, error) {
	in := &MailboxIntake{Partial: []IntakeMessage{}}
	const cols = `SELECT m.id, m.ticket_id, t.subject, m.partial, m.partial_i18n, m.created_at FROM messages m JOIN tickets t ON t.id = m.ticket_id`
	scan := func(row interface{ Scan(...any) error }) (IntakeMessage, error) {
		var im IntakeMessage
		var at int64
		err := row.Scan(&im.MessageID, &im.TicketID, &im.Subject, &im.Partial, &im.PartialI18n, &at)
		im.ImportedAt = fromMS(at)
		return im, err
	}
	last, err := scan(db.rq.QueryRowContext(ctx, cols+` WHERE m.id = (SELECT last_message_id FROM mailboxes WHERE id = ?)`, id))
	switch {
	case err == nil:
		in.Last = &last
	case err != sql.ErrNoRows:
		return nil, fmt.Errorf("mailbox %d last import: %w", id, err)
	}
	if err := db.rq.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE mailbox_id = ? AND partial <> ''`, id).Scan(&in.PartialCount); err != nil {
		return nil, fmt.Errorf("mailbox %d partial count: %w", id, err)
	}
	rows, err := db.rq.QueryContext(ctx, cols+` WHERE m.mailbox_id = ? AND m.partial <> '' ORDER BY m.id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("mailbox %d partial messages: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		im, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("mailbox %d partial messages: %w", id, err)
		}
		in.Partial = append(in.Partial, im)
	}
	return in, rows.Err()
}

// PartialCounts is how many partly read messages each mailbox has.
func (db *DB) PartialCounts(ctx context.Context) (map[int64]int, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT mailbox_id, count(*) FROM messages WHERE mailbox_id IS NOT NULL AND partial <> '' GROUP BY mailbox_id`)
	if err != nil {
		return nil, fmt.Errorf("partial counts: %w", err)
	}
	defer rows.Close()
	counts := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, fmt.Errorf("partial counts: %w", err)
		}
		counts[id] = n
	}
	return counts, rows.Err()
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
	if _, err := tx.q.ExecContext(ctx, "UPDATE messages SET mailbox_id = ?, raw_sha256 = ? WHERE id = ?", mailboxID, sha, messageID); err != nil {
		return fmt.Errorf("message %d source: %w", messageID, err)
	}
	if _, err := tx.q.ExecContext(ctx, "UPDATE mailboxes SET last_message_id = ? WHERE id = ?", messageID, mailboxID); err != nil {
		return fmt.Errorf("mailbox %d last message: %w", mailboxID, err)
	}
	return nil
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
	return id.Int64, notFoundID(err, "ticket", ticketID)
}

// MessageSource returns the raw source of an inbound message.
func (db *DB) MessageSource(ctx context.Context, messageID int64) ([]byte, error) {
	var sha string
	err := db.rq.QueryRowContext(ctx, `SELECT raw_sha256 FROM messages WHERE id = ? AND raw_sha256 IS NOT NULL`, messageID).Scan(&sha)
	if err != nil {
		return nil, notFoundID(err, "source of message", messageID)
	}
	return db.blobData(ctx, db.rq, sha)
}
