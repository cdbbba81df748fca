package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"
)

// Macro is a set of steps an agent applies to a ticket in one go: a
// reply (placeholders filled), ticket changes, an order action. Without
// an owner it is shared (with everyone, or with TeamID's agents);
// with one, it is that agent's own.
type Macro struct {
	ID         int64    `json:"id"`
	Name       string   `json:"name"`
	OwnerID    *int64   `json:"owner_id"`
	TeamID     *int64   `json:"team_id"`
	Reply      string   `json:"reply"`
	SendReply  bool     `json:"send_reply"` // send at once; else shown in the reply box to edit
	Status     string   `json:"status"`
	Priority   string   `json:"priority"`
	AddTags    []string `json:"add_tags"`
	RemoveTags []string `json:"remove_tags"`
	// AssignTo is "" (leave), "me" (who applies it), "nobody", or an
	// agent's id in decimal.
	AssignTo    string            `json:"assign_to"`
	SetTeamID   *int64            `json:"set_team_id"`
	OrderAction *MacroOrderAction `json:"order_action"`
	// Uses is how often the reading agent applied it.
	Uses      int       `json:"uses"`
	CreatedBy *int64    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// MacroOrderAction is an action a macro asks of the shop (a refund, a
// cancellation...), by name with its parameters.
type MacroOrderAction struct {
	Name   string         `json:"name"`
	Params map[string]any `json:"params,omitempty"`
}

const macroCols = `m.id, m.name, m.owner_id, m.team_id, m.reply, m.send_reply, m.status, m.priority,
	m.add_tags, m.remove_tags, m.assign_to, m.set_team_id, m.order_action, m.created_by, m.created_at, m.updated_at`

func scanMacro(row interface{ Scan(...any) error }, extra ...any) (*Macro, error) {
	var m Macro
	var owner, team, setTeam, by sql.NullInt64
	var add, remove, action string
	var created, updated int64
	dest := append([]any{&m.ID, &m.Name, &owner, &team, &m.Reply, &m.SendReply, &m.Status, &m.Priority,
		&add, &remove, &m.AssignTo, &setTeam, &action, &by, &created, &updated}, extra...)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	m.OwnerID, m.TeamID, m.SetTeamID, m.CreatedBy = fromNullID(owner), fromNullID(team), fromNullID(setTeam), fromNullID(by)
	m.AddTags, m.RemoveTags = []string{}, []string{}
	_ = jsonUnmarshal(add, &m.AddTags)
	_ = jsonUnmarshal(remove, &m.RemoveTags)
	if action != "" {
		m.OrderAction = &MacroOrderAction{}
		if err := jsonUnmarshal(action, m.OrderAction); err != nil {
			m.OrderAction = nil
		}
	}
	m.CreatedAt, m.UpdatedAt = fromMS(created), fromMS(updated)
	return &m, nil
}

func actionText(a *MacroOrderAction) string {
	if a == nil {
		return ""
	}
	b, _ := json.Marshal(a)
	return string(b)
}

// MacrosFor lists the macros an agent may apply: the shared ones (of no
// team or of one of teams; of any team with allTeams) and their own, the
// ones they used most first, then by name.
func (db *DB) MacrosFor(ctx context.Context, agentID int64, teams []int64, allTeams bool) ([]*Macro, error) {
	ofTeams, args := "FALSE", []any{agentID, agentID}
	switch {
	case allTeams:
		ofTeams = "TRUE"
	case len(teams) > 0:
		var ids []any
		ofTeams, ids = inStores("m.team_id", teams) // a list of ids, like stores'
		args = append(args, ids...)
	}
	rows, err := db.rq.QueryContext(ctx, `SELECT `+macroCols+`, COALESCE(u.uses, 0) FROM macros m
		LEFT JOIN macro_uses u ON u.macro_id = m.id AND u.agent_id = ?
		WHERE m.owner_id = ? OR (m.owner_id IS NULL AND (m.team_id IS NULL OR `+ofTeams+`))
		ORDER BY COALESCE(u.uses, 0) DESC, LOWER(m.name), m.id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list macros: %w", err)
	}
	defer rows.Close()
	list := []*Macro{}
	for rows.Next() {
		var uses int
		m, err := scanMacro(rows, &uses)
		if err != nil {
			return nil, fmt.Errorf("list macros: %w", err)
		}
		m.Uses = uses
		list = append(list, m)
	}
	return list, rows.Err()
}

// Macro reads one macro.
func (db *DB) Macro(ctx context.Context, id int64) (*Macro, error) {
	m, err := scanMacro(db.rq.QueryRowContext(ctx, "SELECT "+macroCols+" FROM macros m WHERE m.id = ?", id))
	return m, notFoundID(err, "macro", id)
}

// InsertMacro creates a macro and sets its id.
func (tx *Tx) InsertMacro(ctx context.Context, m *Macro) error {
	res, err := tx.q.insert(ctx, `INSERT INTO macros (name, owner_id, team_id, reply, send_reply, status, priority,
		add_tags, remove_tags, assign_to, set_team_id, order_action, created_by, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Name, nullID(m.OwnerID), nullID(m.TeamID), m.Reply, m.SendReply, m.Status, m.Priority,
		jsonText(m.AddTags, "[]"), jsonText(m.RemoveTags, "[]"), m.AssignTo, nullID(m.SetTeamID), actionText(m.OrderAction),
		nullID(m.CreatedBy), ms(m.CreatedAt), ms(m.UpdatedAt))
	if err != nil {
		return fmt.Errorf("insert macro: %w", err)
	}
	m.ID, err = res.LastInsertId()
	return err
}

// UpdateMacro writes a macro's steps and scope.
func (tx *Tx) UpdateMacro(ctx context.Context, m *Macro) error {
	res, err := tx.q.ExecContext(ctx, `UPDATE macros SET name = ?, owner_id = ?, team_id = ?, reply = ?, send_reply = ?,
		status = ?, priority = ?, add_tags = ?, remove_tags = ?, assign_to = ?, set_team_id = ?, order_action = ?, updated_at = ?
		WHERE id = ?`, m.Name, nullID(m.OwnerID), nullID(m.TeamID), m.Reply, m.SendReply, m.Status, m.Priority,
		jsonText(m.AddTags, "[]"), jsonText(m.RemoveTags, "[]"), m.AssignTo, nullID(m.SetTeamID), actionText(m.OrderAction),
		ms(m.UpdatedAt), m.ID)
	if err != nil {
		return fmt.Errorf("update macro %d: %w", m.ID, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "macro", ID: m.ID}
	}
	return nil
}

// DeleteMacro removes a macro and its counts.
func (tx *Tx) DeleteMacro(ctx context.Context, id int64) error {
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM macro_uses WHERE macro_id = ?", id); err != nil {
		return fmt.Errorf("delete macro %d: %w", id, err)
	}
	res, err := tx.q.ExecContext(ctx, "DELETE FROM macros WHERE id = ?", id)
	if err != nil {
		return fmt.Errorf("delete macro %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &NotFoundError{Thing: "macro", ID: id}
	}
	return nil
}

// UseMacro counts n applications of a macro by an agent.
func (tx *Tx) UseMacro(ctx context.Context, macroID, agentID int64, n int, at time.Time) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO macro_uses (macro_id, agent_id, uses, last_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (macro_id, agent_id) DO UPDATE SET uses = macro_uses.uses + excluded.uses, last_at = excluded.last_at`,
		macroID, agentID, n, ms(at))
	if err != nil {
		return fmt.Errorf("count macro %d: %w", macroID, err)
	}
	return nil
}

// Snooze is a ticket asleep until WakeAt, or (WakeAt nil) until its
// customer writes.
type Snooze struct {
	TicketID  int64      `json:"ticket_id"`
	WakeAt    *time.Time `json:"wake_at"`
	Actor     string     `json:"actor"`
	CreatedAt time.Time  `json:"created_at"`
}

// SetSnooze puts a ticket to sleep, replacing a snooze it had.
func (tx *Tx) SetSnooze(ctx context.Context, s Snooze) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO snoozes (ticket_id, wake_at, actor, created_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (ticket_id) DO UPDATE SET wake_at = excluded.wake_at, actor = excluded.actor, created_at = excluded.created_at`,
		s.TicketID, nullMS(s.WakeAt), s.Actor, ms(s.CreatedAt))
	if err != nil {
		return fmt.Errorf("snooze ticket %d: %w", s.TicketID, err)
	}
	tx.touched.ticket(s.TicketID)
	return nil
}

// EndSnooze wakes a ticket's snooze, returning it (nil: it had none).
func (tx *Tx) EndSnooze(ctx context.Context, ticketID int64) (*Snooze, error) {
	s, err := snoozeOf(ctx, tx.q, ticketID)
	if s == nil || err != nil {
		return nil, err
	}
	if _, err := tx.q.ExecContext(ctx, "DELETE FROM snoozes WHERE ticket_id = ?", ticketID); err != nil {
		return nil, fmt.Errorf("wake ticket %d: %w", ticketID, err)
	}
	return s, nil
}

// Snooze reads a ticket's snooze (nil: awake).
func (db *DB) Snooze(ctx context.Context, ticketID int64) (*Snooze, error) {
	return snoozeOf(ctx, db.rq, ticketID)
}

func snoozeOf(ctx context.Context, q querier, ticketID int64) (*Snooze, error) {
	s := Snooze{TicketID: ticketID}
	var wake sql.NullInt64
	var created int64
	err := q.QueryRowContext(ctx, "SELECT wake_at, actor, created_at FROM snoozes WHERE ticket_id = ?", ticketID).
		Scan(&wake, &s.Actor, &created)
	if err == sql.ErrNoRows {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("snooze of ticket %d: %w", ticketID, err)
	}
	if wake.Valid {
		t := fromMS(wake.Int64)
		s.WakeAt = &t
	}
	s.CreatedAt = fromMS(created)
	return &s, nil
}

// DueSnoozes lists the tickets whose wake time is by now, earliest first.
func (db *DB) DueSnoozes(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	ids, err := queryIDs(ctx, db.rq, `SELECT ticket_id FROM snoozes WHERE wake_at IS NOT NULL AND wake_at <= ?
		ORDER BY wake_at, ticket_id LIMIT ?`, ms(now), limit)
	if err != nil {
		return nil, fmt.Errorf("due snoozes: %w", err)
	}
	return ids, nil
}

// ScheduleReply makes a queued reply wait in the outbox until at, shown
// as scheduled.
func (tx *Tx) ScheduleReply(ctx context.Context, messageID int64, at time.Time) error {
	if _, err := tx.q.ExecContext(ctx, "UPDATE messages SET scheduled_at = ? WHERE id = ?", ms(at), messageID); err != nil {
		return fmt.Errorf("schedule message %d: %w", messageID, err)
	}
	if err := tx.Enqueue(ctx, messageID, at); err != nil {
		return err
	}
	tx.touched.message(messageID)
	return nil
}

// ScheduledReply reads a reply that waits for its time and is not due
// before notBefore, nil when there is none such (it went, or is about to).
func (tx *Tx) ScheduledReply(ctx context.Context, messageID int64, notBefore time.Time) (*Message, error) {
	var due int64
	err := tx.q.QueryRowContext(ctx, `SELECT o.next_attempt_at FROM outbox o JOIN messages m ON m.id = o.message_id
		WHERE o.message_id = ? AND o.attempts = 0 AND m.scheduled_at IS NOT NULL AND m.delivery = 'queued'`, messageID).Scan(&due)
	if err == sql.ErrNoRows || err == nil && due < ms(notBefore) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scheduled reply %d: %w", messageID, err)
	}
	return tx.Message(ctx, messageID)
}

// EditScheduledReply changes the text and time of a scheduled reply.
func (tx *Tx) EditScheduledReply(ctx context.Context, messageID int64, body string, at time.Time) error {
	if _, err := tx.q.ExecContext(ctx, "UPDATE messages SET body = ?, scheduled_at = ? WHERE id = ?", body, ms(at), messageID); err != nil {
		return fmt.Errorf("edit scheduled message %d: %w", messageID, err)
	}
	if _, err := tx.q.ExecContext(ctx, "UPDATE outbox SET next_attempt_at = ? WHERE message_id = ?", ms(at), messageID); err != nil {
		return fmt.Errorf("edit scheduled message %d: %w", messageID, err)
	}
	tx.touched.message(messageID)
	return nil
}

// DeleteScheduledReply removes a scheduled reply that never went: out of
// the outbox, its attachments and the message itself.
func (tx *Tx) DeleteScheduledReply(ctx context.Context, messageID int64) error {
	for _, q := range []string{
		"DELETE FROM outbox WHERE message_id = ?",
		"DELETE FROM attachments WHERE message_id = ?",
		"DELETE FROM reply_parts WHERE message_id = ?",
		"DELETE FROM messages WHERE id = ?",
	} {
		if _, err := tx.q.ExecContext(ctx, q, messageID); err != nil {
			return fmt.Errorf("cancel scheduled message %d: %w", messageID, err)
		}
	}
	return nil
}
