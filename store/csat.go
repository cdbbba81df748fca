package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Survey is one satisfaction question about one resolution of a ticket
// (the csat package asks it and records the answer).
type Survey struct {
	ID       int64  `json:"id"`
	TicketID int64  `json:"ticket_id"`
	StoreID  *int64 `json:"store_id"`
	AgentID  *int64 `json:"agent_id"`
	TeamID   *int64 `json:"team_id"`
	Channel  string `json:"channel"`   // the ticket's
	AskedVia string `json:"asked_via"` // the channel the question went by ("" until sent)
	Scale    string `json:"scale"`     // five or thumbs
	// Status: scheduled, sent, rated or skipped (SkipReason says why).
	Status      string     `json:"status"`
	SkipReason  string     `json:"skip_reason,omitempty"`
	MessageID   *int64     `json:"message_id"`
	DueAt       time.Time  `json:"due_at"`
	SentAt      *time.Time `json:"sent_at"`
	Rating      int        `json:"rating"` // 1-5 (thumbs: 1 or 5); 0 while unrated
	Comment     string     `json:"comment"`
	RatedAt     *time.Time `json:"rated_at"`
	CommentedAt *time.Time `json:"commented_at"`
	CreatedAt   time.Time  `json:"created_at"` // the resolution it asks about
}

const surveyCols = `id, ticket_id, store_id, agent_id, team_id, channel, asked_via, scale, status, skip_reason,
	message_id, due_at, sent_at, rating, comment, rated_at, commented_at, created_at`

func scanSurvey(sc interface{ Scan(...any) error }) (*Survey, error) {
	var s Survey
	var store, agent, team, msg, rating sql.NullInt64
	var due, created int64
	var sent, rated, commented sql.NullInt64
	err := sc.Scan(&s.ID, &s.TicketID, &store, &agent, &team, &s.Channel, &s.AskedVia, &s.Scale, &s.Status,
		&s.SkipReason, &msg, &due, &sent, &rating, &s.Comment, &rated, &commented, &created)
	if err != nil {
		return nil, err
	}
	s.StoreID, s.AgentID, s.TeamID, s.MessageID = fromNullID(store), fromNullID(agent), fromNullID(team), fromNullID(msg)
	s.DueAt, s.CreatedAt = fromMS(due), fromMS(created)
	s.SentAt, s.RatedAt, s.CommentedAt = fromNullMS(sent), fromNullMS(rated), fromNullMS(commented)
	s.Rating = int(rating.Int64)
	return &s, nil
}

func nullRating(r int) any {
	if r == 0 {
		return nil
	}
	return r
}

// InsertSurvey writes a new survey.
func (tx *Tx) InsertSurvey(ctx context.Context, s *Survey) error {
	res, err := tx.q.insert(ctx, `INSERT INTO csat_surveys (ticket_id, store_id, agent_id, team_id, channel, asked_via,
		scale, status, skip_reason, message_id, due_at, sent_at, rating, comment, rated_at, commented_at, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.TicketID, nullID(s.StoreID), nullID(s.AgentID), nullID(s.TeamID), s.Channel, s.AskedVia, s.Scale, s.Status,
		s.SkipReason, nullID(s.MessageID), ms(s.DueAt), nullMS(s.SentAt), nullRating(s.Rating), s.Comment,
		nullMS(s.RatedAt), nullMS(s.CommentedAt), ms(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("insert survey of ticket %d: %w", s.TicketID, err)
	}
	s.ID, err = res.LastInsertId()
	return err
}

// UpdateSurvey writes what changes of a survey as it is sent and answered.
func (tx *Tx) UpdateSurvey(ctx context.Context, s *Survey) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE csat_surveys SET asked_via = ?, status = ?, skip_reason = ?, message_id = ?,
		due_at = ?, sent_at = ?, rating = ?, comment = ?, rated_at = ?, commented_at = ? WHERE id = ?`,
		s.AskedVia, s.Status, s.SkipReason, nullID(s.MessageID), ms(s.DueAt), nullMS(s.SentAt), nullRating(s.Rating),
		s.Comment, nullMS(s.RatedAt), nullMS(s.CommentedAt), s.ID)
	if err != nil {
		return fmt.Errorf("update survey %d: %w", s.ID, err)
	}
	return nil
}

// Survey reads one survey inside a write.
func (tx *Tx) Survey(ctx context.Context, id int64) (*Survey, error) {
	s, err := scanSurvey(tx.q.QueryRowContext(ctx, "SELECT "+surveyCols+" FROM csat_surveys WHERE id = ?", id))
	return s, notFound(err, "survey")
}

// Survey reads one survey.
func (db *DB) Survey(ctx context.Context, id int64) (*Survey, error) {
	s, err := scanSurvey(db.rq.QueryRowContext(ctx, "SELECT "+surveyCols+" FROM csat_surveys WHERE id = ?", id))
	return s, notFound(err, "survey")
}

// SurveyOfMessage reads the survey a message asks (ErrNotFound: none).
func (db *DB) SurveyOfMessage(ctx context.Context, messageID int64) (*Survey, error) {
	s, err := scanSurvey(db.rq.QueryRowContext(ctx, "SELECT "+surveyCols+" FROM csat_surveys WHERE message_id = ?", messageID))
	return s, notFound(err, "survey")
}

// LastSurvey reads a ticket's newest survey inside a write (ErrNotFound:
// none yet).
func (tx *Tx) LastSurvey(ctx context.Context, ticketID int64) (*Survey, error) {
	s, err := scanSurvey(tx.q.QueryRowContext(ctx, "SELECT "+surveyCols+
		" FROM csat_surveys WHERE ticket_id = ? ORDER BY id DESC LIMIT 1", ticketID))
	return s, notFound(err, "survey")
}

// LastSentSurvey reads the newest survey of a ticket that went out (sent
// or rated; ErrNotFound: none).
func (tx *Tx) LastSentSurvey(ctx context.Context, ticketID int64) (*Survey, error) {
	s, err := scanSurvey(tx.q.QueryRowContext(ctx, "SELECT "+surveyCols+
		" FROM csat_surveys WHERE ticket_id = ? AND sent_at IS NOT NULL ORDER BY id DESC LIMIT 1", ticketID))
	return s, notFound(err, "survey")
}

// LastRating is a ticket's newest rating inside a write (0: never rated).
func (tx *Tx) LastRating(ctx context.Context, ticketID int64) (int, error) {
	var r sql.NullInt64
	err := tx.q.QueryRowContext(ctx, `SELECT rating FROM csat_surveys WHERE ticket_id = ? AND rating IS NOT NULL
		ORDER BY rated_at DESC LIMIT 1`, ticketID).Scan(&r)
	if err == sql.ErrNoRows {
		return 0, nil
	}
	return int(r.Int64), err
}

// TicketSurveys lists a ticket's surveys, oldest first.
func (db *DB) TicketSurveys(ctx context.Context, ticketID int64) ([]*Survey, error) {
	return db.surveys(ctx, "SELECT "+surveyCols+" FROM csat_surveys WHERE ticket_id = ? ORDER BY id", ticketID)
}

// DueSurveys lists the ids of scheduled surveys due by now, oldest first.
func (db *DB) DueSurveys(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT id FROM csat_surveys WHERE status = 'scheduled' AND due_at <= ?
		ORDER BY due_at, id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due surveys: %w", err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// NextSurveyDue is when the next scheduled survey comes due (zero: none).
func (db *DB) NextSurveyDue(ctx context.Context) (time.Time, error) {
	var v sql.NullInt64
	err := db.rq.QueryRowContext(ctx, "SELECT MIN(due_at) FROM csat_surveys WHERE status = 'scheduled'").Scan(&v)
	if err != nil || !v.Valid {
		return time.Time{}, err
	}
	return fromMS(v.Int64), nil
}

// SentSurveys lists the surveys sent in [from, to), at most limit, for
// the report: newest first.
func (db *DB) SentSurveys(ctx context.Context, from, to time.Time, limit int) ([]*Survey, error) {
	return db.surveys(ctx, "SELECT "+surveyCols+` FROM csat_surveys
		WHERE sent_at IS NOT NULL AND sent_at >= ? AND sent_at < ? ORDER BY sent_at DESC, id DESC LIMIT ?`,
		ms(from), ms(to), limit)
}

func (db *DB) surveys(ctx context.Context, q string, args ...any) ([]*Survey, error) {
	rows, err := db.rq.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list surveys: %w", err)
	}
	defer rows.Close()
	var out []*Survey
	for rows.Next() {
		s, err := scanSurvey(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
