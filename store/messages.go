package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Message is one entry of a ticket's thread.
type Message struct {
	ID       int64  `json:"id"`
	TicketID int64  `json:"ticket_id"`
	Kind     string `json:"kind"` // customer, agent, note, system
	Channel  string `json:"channel"`
	Body     string `json:"body"`
	HTML     string `json:"html,omitempty"`
	AuthorID *int64 `json:"author_id"`
	From     string `json:"from"`
	// To is where an agent's email went when not to the customer's first
	// address (a conversation started to another of theirs); "" otherwise.
	To            string       `json:"to,omitempty"`
	ExternalID    string       `json:"external_id"`
	Auto          string       `json:"auto"`
	Attachments   []Attachment `json:"attachments"`
	Delivery      string       `json:"delivery,omitempty"` // queued, scheduled, sent, waiting (for the customer to come back), failed, delivered
	DeliveryError string       `json:"delivery_error,omitempty"`
	ReadAt        *time.Time   `json:"read_at,omitempty"` // when the platform said the customer read the reply
	// DeliveryErrorI18n is DeliveryError as a stored sentence (JSON of its
	// format and arguments) for the reader's language; "" when there is none.
	DeliveryErrorI18n string `json:"-"`
	// Partial says what of an inbound message could not be read (it was
	// stored with the rest, its source beside it); "" when all was read.
	Partial string `json:"partial,omitempty"`
	// PartialI18n is Partial as stored sentences (i18n.Sentences' JSON)
	// for the reader's language; "" when there are none.
	PartialI18n string `json:"-"`
	// Signature is what an emailed reply was signed with (placeholders
	// filled), sent below its text; "" when none.
	Signature string `json:"signature,omitempty"`
	// Call is a phone call's details: a call an agent logged is a note
	// carrying them.
	Call *Call `json:"call,omitempty"`
	// ScheduledAt is when a reply scheduled by an agent goes (or went):
	// until then it is queued in SQL and reads as Delivery "scheduled".
	ScheduledAt *time.Time `json:"scheduled_at,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
}

// Call is a phone call an agent logged: its body is the agent's notes.
type Call struct {
	Direction string `json:"direction"` // in or out
	Duration  int    `json:"duration_s"`
	Outcome   string `json:"outcome"` // answered, no_answer, voicemail, busy
}

// CallDirections and CallOutcomes are what a logged call may say.
var (
	CallDirections = []string{"in", "out"}
	CallOutcomes   = []string{"answered", "no_answer", "voicemail", "busy"}
)

// Attachment describes a file on a message; Data is set only when the
// file is being stored.
type Attachment struct {
	ID          int64  `json:"id"`
	MessageID   int64  `json:"-"`
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
	ContentID   string `json:"content_id,omitempty"` // how the message's HTML names it (cid:)
	SHA256      string `json:"-"`
	Data        []byte `json:"-"`
	Path        string `json:"-"` // instead of Data: a file holding a large one
}

const messageCols = `id, ticket_id, kind, channel, body, html, author_id, from_addr, external_id,
	auto, delivery, delivery_error, created_at, read_at, partial, delivery_error_i18n, waiting, partial_i18n,
	signature, call_info, to_addr, scheduled_at`

func scanMessage(row interface{ Scan(...any) error }) (*Message, error) {
	var m Message
	var author sql.NullInt64
	var created int64
	var read sql.NullInt64
	var waiting bool
	var call string
	var scheduled sql.NullInt64
	err := row.Scan(&m.ID, &m.TicketID, &m.Kind, &m.Channel, &m.Body, &m.HTML, &author, &m.From,
		&m.ExternalID, &m.Auto, &m.Delivery, &m.DeliveryError, &created, &read, &m.Partial, &m.DeliveryErrorI18n, &waiting, &m.PartialI18n,
		&m.Signature, &call, &m.To, &scheduled)
	if err != nil {
		return nil, err
	}
	if call != "" {
		m.Call = &Call{}
		_ = jsonUnmarshal(call, m.Call)
	}
	if waiting && m.Delivery == "sent" {
		m.Delivery = "waiting"
	}
	if scheduled.Valid {
		at := fromMS(scheduled.Int64)
		m.ScheduledAt = &at
		if m.Delivery == "queued" {
			m.Delivery = "scheduled" // 'queued' in SQL: it waits in the outbox for its time
		}
	}
	m.AuthorID = fromNullID(author)
	m.CreatedAt = fromMS(created)
	if read.Valid {
		t := fromMS(read.Int64)
		m.ReadAt = &t
	}
	m.Attachments = []Attachment{}
	return &m, nil
}

// InsertMessage stores m and its attachments (bytes content-addressed)
// and sets the IDs. A message whose channel + external id is already
// stored is refused with ErrConflict.
func (tx *Tx) InsertMessage(ctx context.Context, m *Message) error {
	res, err := tx.q.insert(ctx, `INSERT INTO messages (ticket_id, kind, channel, body, html, author_id,
		from_addr, external_id, auto, delivery, delivery_error, created_at, partial, partial_i18n, signature, call_info, to_addr, historic)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.TicketID, m.Kind, m.Channel, m.Body, m.HTML, nullID(m.AuthorID), m.From, m.ExternalID,
		m.Auto, m.Delivery, m.DeliveryError, ms(m.CreatedAt), m.Partial, m.PartialI18n, m.Signature, callText(m.Call), m.To,
		!tx.historicAt.IsZero())
	if err != nil {
		if isUnique(err) {
			return fmt.Errorf("message %s/%s: %w", m.Channel, m.ExternalID, ErrConflict)
		}
		return fmt.Errorf("insert message: %w", err)
	}
	if m.ID, err = res.LastInsertId(); err != nil {
		return err
	}
	tx.touched.message(m.ID)
	for i := range m.Attachments {
		a := &m.Attachments[i]
		sha, size, err := tx.putBlob(ctx, a.Data, a.Path)
		if err != nil {
			return fmt.Errorf("store attachment %q: %w", a.Filename, err)
		}
		a.SHA256, a.Size, a.MessageID = sha, size, m.ID
		res, err := tx.q.insert(ctx, `INSERT INTO attachments (message_id, sha256, filename, content_type, size, content_id)
			VALUES (?, ?, ?, ?, ?, ?)`, m.ID, a.SHA256, a.Filename, a.ContentType, a.Size, a.ContentID)
		if err != nil {
			return fmt.Errorf("store attachment %q: %w", a.Filename, err)
		}
		if a.ID, err = res.LastInsertId(); err != nil {
			return err
		}
	}
	return nil
}

func callText(c *Call) string {
	if c == nil {
		return ""
	}
	return jsonText(c, "")
}

// FirstMessageID is the id of a ticket's first message (0: none).
func (db *DB) FirstMessageID(ctx context.Context, ticketID int64) (int64, error) {
	var id sql.NullInt64
	err := db.rq.QueryRowContext(ctx, "SELECT min(id) FROM messages WHERE ticket_id = ?", ticketID).Scan(&id)
	return id.Int64, err
}

// The "<> ”" lets SQLite use the partial index messages_external, which
// it cannot prove a bound parameter satisfies.
const messageByExternalID = "SELECT " + messageCols + " FROM messages WHERE channel = ? AND external_id = ? AND external_id <> ''"

// MessageByExternalID finds the message a channel already delivered, or
// returns ErrNotFound.
func (tx *Tx) MessageByExternalID(ctx context.Context, channel, externalID string) (*Message, error) {
	m, err := scanMessage(tx.q.QueryRowContext(ctx, messageByExternalID, channel, externalID))
	return m, notFound(err, "message "+externalID)
}

// Message reads one message with its attachments.
func (db *DB) Message(ctx context.Context, id int64) (*Message, error) {
	m, err := scanMessage(db.rq.QueryRowContext(ctx, "SELECT "+messageCols+" FROM messages WHERE id = ?", id))
	if err != nil {
		return nil, notFoundID(err, "message", id)
	}
	list := []Message{*m}
	if err := attachAttachments(ctx, db.rq, list); err != nil {
		return nil, err
	}
	return &list[0], nil
}

// ThreadRef is a message of a thread as a reply names it: its id on its
// channel and who wrote it.
type ThreadRef struct {
	ExternalID string
	Kind       string
	From       string // the sender's address (a customer's mail)
	To         string // where an agent's mail went, when recorded
}

// ThreadRefs lists the messages of a ticket before message before that
// came or left through channel with an id of their own (internal notes
// left out), oldest first: what a reply names to keep its thread.
func (db *DB) ThreadRefs(ctx context.Context, ticketID, before int64, channel string) ([]ThreadRef, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT external_id, kind, from_addr, to_addr FROM messages
		WHERE ticket_id = ? AND id < ? AND channel = ? AND external_id <> '' AND kind <> 'note' ORDER BY id`, ticketID, before, channel)
	if err != nil {
		return nil, fmt.Errorf("thread of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var list []ThreadRef
	for rows.Next() {
		var r ThreadRef
		if err := rows.Scan(&r.ExternalID, &r.Kind, &r.From, &r.To); err != nil {
			return nil, fmt.Errorf("thread of ticket %d: %w", ticketID, err)
		}
		list = append(list, r)
	}
	return list, rows.Err()
}

// Messages lists a ticket's thread, oldest first, with attachments.
func (db *DB) Messages(ctx context.Context, ticketID int64) ([]Message, error) {
	rows, err := db.rq.QueryContext(ctx, "SELECT "+messageCols+" FROM messages WHERE ticket_id = ? ORDER BY created_at, id", ticketID) // history comes in out of order
	if err != nil {
		return nil, fmt.Errorf("messages of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	list := []Message{}
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("messages of ticket %d: %w", ticketID, err)
		}
		list = append(list, *m)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, attachAttachments(ctx, db.rq, list)
}

func attachAttachments(ctx context.Context, q querier, list []Message) error {
	if len(list) == 0 {
		return nil
	}
	index := map[int64]int{}
	ids := make([]string, len(list))
	for i, m := range list {
		index[m.ID] = i
		ids[i] = fmt.Sprint(m.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT id, message_id, sha256, filename, content_type, size, content_id FROM attachments
		WHERE message_id IN (`+strings.Join(ids, ",")+`) ORDER BY id`)
	if err != nil {
		return fmt.Errorf("attachments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.ID, &a.MessageID, &a.SHA256, &a.Filename, &a.ContentType, &a.Size, &a.ContentID); err != nil {
			return fmt.Errorf("attachments: %w", err)
		}
		m := &list[index[a.MessageID]]
		m.Attachments = append(m.Attachments, a)
	}
	return rows.Err()
}

// AttachmentData reads one attachment with its bytes.
func (db *DB) AttachmentData(ctx context.Context, id int64) (*Attachment, int64, error) {
	var a Attachment
	var ticketID int64
	err := db.rq.QueryRowContext(ctx, `SELECT a.id, a.message_id, a.sha256, a.filename, a.content_type, a.size, a.content_id, m.ticket_id
		FROM attachments a JOIN messages m ON m.id = a.message_id
		WHERE a.id = ?`, id).Scan(&a.ID, &a.MessageID, &a.SHA256, &a.Filename, &a.ContentType, &a.Size, &a.ContentID, &ticketID)
	if err != nil {
		return nil, 0, notFoundID(err, "attachment", id)
	}
	if a.Data, err = db.blobData(ctx, db.rq, a.SHA256); err != nil {
		return nil, 0, err
	}
	return &a, ticketID, nil
}

// SetDelivery records the delivery state of an outbound message.
func (tx *Tx) SetDelivery(ctx context.Context, messageID int64, delivery, deliveryError string) error {
	return tx.SetDeliveryFailure(ctx, messageID, delivery, deliveryError, "")
}

// SetDeliveryFailure records the delivery state with the error both in
// English and as a stored sentence (see Message.DeliveryErrorI18n).
func (tx *Tx) SetDeliveryFailure(ctx context.Context, messageID int64, delivery, deliveryError, sentence string) error {
	_, err := tx.q.ExecContext(ctx, "UPDATE messages SET delivery = ?, delivery_error = ?, delivery_error_i18n = ? WHERE id = ?",
		delivery, deliveryError, sentence, messageID)
	if err != nil {
		return fmt.Errorf("message %d delivery: %w", messageID, err)
	}
	tx.touched.message(messageID)
	return nil
}

// MarkSent records that a reply went out, unless a receipt already said
// it was delivered (a receipt can overtake the outbox's record); it tells
// whether the reply changed.
func (tx *Tx) MarkSent(ctx context.Context, messageID int64) (bool, error) {
	res, err := tx.q.ExecContext(ctx, `UPDATE messages SET delivery = 'sent', delivery_error = '', delivery_error_i18n = '', waiting = 0
		WHERE id = ? AND delivery <> 'delivered'`, messageID)
	if err != nil {
		return false, fmt.Errorf("message %d sent: %w", messageID, err)
	}
	tx.touched.message(messageID)
	n, err := res.RowsAffected()
	return n > 0, err
}

// MarkWaiting records that a reply was left where the customer sees it
// when back (read as Delivery "waiting"; 'sent' in SQL, so counts of
// replies sent include it).
func (tx *Tx) MarkWaiting(ctx context.Context, messageID int64) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE messages SET delivery = 'sent', delivery_error = '', delivery_error_i18n = '', waiting = 1
		WHERE id = ? AND delivery <> 'delivered'`, messageID)
	if err != nil {
		return fmt.Errorf("message %d waiting: %w", messageID, err)
	}
	tx.touched.message(messageID)
	return nil
}

// Message reads one message inside the transaction.
func (tx *Tx) Message(ctx context.Context, id int64) (*Message, error) {
	m, err := scanMessage(tx.q.QueryRowContext(ctx, "SELECT "+messageCols+" FROM messages WHERE id = ?", id))
	if err != nil {
		return nil, notFoundID(err, "message", id)
	}
	return m, nil
}

// RepliesAfter lists the replies to the customer (kind agent: an agent's
// or an automatic one) on a ticket after message afterID, oldest first,
// leaving out those written by agent notBy.
func (tx *Tx) RepliesAfter(ctx context.Context, ticketID, afterID, notBy int64) ([]Message, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT "+messageCols+` FROM messages
		WHERE ticket_id = ? AND id > ? AND kind = 'agent' AND (author_id IS NULL OR author_id <> ?) ORDER BY id`,
		ticketID, afterID, notBy)
	if err != nil {
		return nil, fmt.Errorf("replies on ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var list []Message
	for rows.Next() {
		m, err := scanMessage(rows)
		if err != nil {
			return nil, fmt.Errorf("replies on ticket %d: %w", ticketID, err)
		}
		list = append(list, *m)
	}
	return list, rows.Err()
}

func isUnique(err error) bool {
	var coded interface{ Code() int }
	if errors.As(err, &coded) {
		// SQLITE_CONSTRAINT_UNIQUE and SQLITE_CONSTRAINT_PRIMARYKEY
		return coded.Code() == 2067 || coded.Code() == 1555
	}
	return pgCode(err) == pgUniqueViolation
}
