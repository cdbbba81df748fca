// Package macros applies saved sets of steps to tickets in one click
// (issue #28): a reply with placeholders (shown in the reply box to edit,
// or sent at once), status, priority, tags added and removed, an
// assignee or team, and an order action when the desk has them. Each
// step is recorded as the ticket event it makes, carrying the macro's
// name, and a "macro_applied" event closes the application. Macros are
// shared (by everyone, or a team's agents) or an agent's own; each
// agent's list comes most used first.
package macros

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// OrderActions carries out the order actions macros name. The order
// actions package registers one with SetOrderActions; without one, the
// macro editor offers none and a macro cannot name one.
//
// Money moves only once the agent has seen what will happen: applying a
// macro with an order action first answers a Confirmation (what the
// action does, in the order's money), and only a second apply carrying
// its token runs the action, then the macro's other steps.
type OrderActions interface {
	// Available lists the actions a macro may name.
	Available() []ActionInfo
	// Preview says what the action would do on the ticket's order for the
	// agent acting (its permission checked), without doing it.
	Preview(ctx context.Context, actor desk.Actor, ticketID int64, action store.MacroOrderAction) (*Confirmation, error)
	// Run does the action the agent confirmed with a preview's token. A
	// token whose preview no longer holds (the money changed since) is
	// answered with a fresh *Confirmation as the error; a token confirmed
	// before answers that action's outcome, with Repeat.
	Run(ctx context.Context, actor desk.Actor, ticketID int64, action store.MacroOrderAction, token string) (OrderOutcome, error)
}

// Confirmation is what a macro's order action would do, for the agent to
// confirm: Preview is shown (the action, the order, the amounts and
// currency), Token goes back with the confirmation. As an error, it says
// the macro waits for that confirmation.
type Confirmation struct {
	Preview any    `json:"preview"`
	Token   string `json:"token"`
	// Changed: the money changed since the preview the agent confirmed.
	Changed bool `json:"changed,omitempty"`
}

func (c *Confirmation) Error() string {
	return "the macro's order action waits for the agent's confirmation"
}

// OrderOutcome is how a confirmed order action ended.
type OrderOutcome struct {
	Done bool // the shop did it
	// Said is what it did in a few words ("#1001 4.90 EUR"), or the
	// shop's sentence when it refused.
	Said   string
	Repeat bool // confirmed before: nothing more was done
}

// ActionInfo describes an order action for the macro editor.
type ActionInfo struct {
	Name   string   `json:"name"`
	Label  string   `json:"label"`
	Params []string `json:"params,omitempty"`
}

// Service keeps macros and applies them.
type Service struct {
	d   *desk.Desk
	db  *store.DB
	log *slog.Logger

	mu     sync.RWMutex
	orders OrderActions
}

// New makes the macro service of d.
func New(d *desk.Desk, log *slog.Logger) *Service {
	return &Service{d: d, db: d.DB(), log: log}
}

// SetOrderActions plugs in what carries out order actions.
func (s *Service) SetOrderActions(oa OrderActions) {
	s.mu.Lock()
	s.orders = oa
	s.mu.Unlock()
}

func (s *Service) orderActions() OrderActions {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.orders
}

// Available lists the order actions a macro may name (none without an
// order actions implementation).
func (s *Service) Available() []ActionInfo {
	if oa := s.orderActions(); oa != nil {
		return oa.Available()
	}
	return []ActionInfo{}
}

// List is the macros an agent may apply, their most used first: the
// shared ones of no team or of their teams (of every team for those who
// manage shared macros) and their own.
func (s *Service) List(ctx context.Context, a *store.Agent) ([]*store.Macro, error) {
	return s.db.MacrosFor(ctx, a.ID, a.TeamIDs, desk.Can(a.Role, desk.PermMacrosShared))
}

// Get reads a macro the agent may see (others are not found).
func (s *Service) Get(ctx context.Context, a *store.Agent, id int64) (*store.Macro, error) {
	m, err := s.db.Macro(ctx, id)
	if err != nil {
		return nil, err
	}
	if !visible(m, a) {
		return nil, &store.NotFoundError{Thing: "macro", ID: id}
	}
	return m, nil
}

// visible is List's rule for one macro.
func visible(m *store.Macro, a *store.Agent) bool {
	if m.OwnerID != nil {
		return *m.OwnerID == a.ID
	}
	return m.TeamID == nil || slices.Contains(a.TeamIDs, *m.TeamID) || desk.Can(a.Role, desk.PermMacrosShared)
}

// MayEdit tells whether an agent may change or delete m: their own, or
// any shared one when they manage shared macros.
func MayEdit(m *store.Macro, a *store.Agent) bool {
	if m.OwnerID != nil {
		return *m.OwnerID == a.ID
	}
	return desk.Can(a.Role, desk.PermMacrosShared)
}

// Save creates (id 0) or replaces a macro for agent a. Shared (no owner)
// needs the shared macros permission; a personal one is always a's own.
func (s *Service) Save(ctx context.Context, a *store.Agent, id int64, m store.Macro, shared bool) (*store.Macro, error) {
	if shared && !desk.Can(a.Role, desk.PermMacrosShared) {
		return nil, desk.InputErrorf("shared", "only admins and supervisors manage shared macros: make it your own")
	}
	if id != 0 {
		was, err := s.Get(ctx, a, id)
		if err != nil {
			return nil, err
		}
		if !MayEdit(was, a) {
			return nil, desk.InputErrorf("shared", "only admins and supervisors manage shared macros")
		}
	}
	m.OwnerID = nil
	if !shared {
		m.OwnerID, m.TeamID = &a.ID, nil
	}
	if err := s.check(&m); err != nil {
		return nil, err
	}
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		for _, team := range []*int64{m.TeamID, m.SetTeamID} {
			if team != nil {
				if _, err := tx.Team(ctx, *team); err != nil {
					return desk.InputErrorf("team_id", "team %d does not exist", *team)
				}
			}
		}
		if agentID, err := strconv.ParseInt(m.AssignTo, 10, 64); err == nil {
			if _, err := tx.Agent(ctx, agentID); err != nil {
				return desk.InputErrorf("assign_to", "agent %d does not exist", agentID)
			}
		}
		m.UpdatedAt = store.Now()
		if id == 0 {
			m.CreatedBy, m.CreatedAt = &a.ID, m.UpdatedAt
			return tx.InsertMacro(ctx, &m)
		}
		m.ID = id
		return tx.UpdateMacro(ctx, &m)
	})
	if err != nil {
		return nil, err
	}
	return s.Get(ctx, a, m.ID)
}

// check refuses a macro that cannot be applied, and cleans it.
func (s *Service) check(m *store.Macro) error {
	m.Name = strings.Join(strings.Fields(m.Name), " ")
	if m.Name == "" || utf8.RuneCountInString(m.Name) > 100 {
		return desk.InputErrorf("name", "a macro needs a name of at most 100 characters")
	}
	if len(m.Reply) > desk.MaxTemplateText {
		return desk.InputErrorf("reply", "the reply is longer than %d characters", desk.MaxTemplateText)
	}
	m.Reply = strings.TrimSpace(m.Reply)
	if m.Reply == "" {
		m.SendReply = false
	}
	if m.Status != "" && !slices.Contains(store.Statuses, m.Status) {
		return desk.InputErrorf("status", "status must be one of %v, not %q", store.Statuses, m.Status)
	}
	if m.Priority != "" && !slices.Contains(store.Priorities, m.Priority) {
		return desk.InputErrorf("priority", "priority must be one of %v, not %q", store.Priorities, m.Priority)
	}
	var err error
	if m.AddTags, err = desk.CleanTags(m.AddTags); err != nil {
		return desk.InputErrorf("add_tags", "%s", err)
	}
	if m.RemoveTags, err = desk.CleanTags(m.RemoveTags); err != nil {
		return desk.InputErrorf("remove_tags", "%s", err)
	}
	for _, tag := range m.AddTags {
		if slices.Contains(m.RemoveTags, tag) {
			return desk.InputErrorf("remove_tags", "tag %q is both added and removed", tag)
		}
	}
	switch m.AssignTo {
	case "", "me", "nobody":
	default:
		if id, err := strconv.ParseInt(m.AssignTo, 10, 64); err != nil || id <= 0 {
			return desk.InputErrorf("assign_to", `assign_to is "", "me", "nobody" or an agent's id, not %q`, m.AssignTo)
		}
	}
	if m.OrderAction != nil {
		known := slices.ContainsFunc(s.Available(), func(i ActionInfo) bool { return i.Name == m.OrderAction.Name })
		if !known {
			return desk.InputErrorf("order_action", "this desk has no order action %q", m.OrderAction.Name)
		}
	}
	if m.Reply == "" && m.Status == "" && m.Priority == "" && len(m.AddTags) == 0 && len(m.RemoveTags) == 0 &&
		m.AssignTo == "" && m.SetTeamID == nil && m.OrderAction == nil {
		return desk.InputErrorf("reply", "a macro needs at least one step: a reply or a change")
	}
	return nil
}

// Delete removes a macro the agent may edit.
func (s *Service) Delete(ctx context.Context, a *store.Agent, id int64) error {
	m, err := s.Get(ctx, a, id)
	if err != nil {
		return err
	}
	if !MayEdit(m, a) {
		return desk.InputErrorf("shared", "only admins and supervisors manage shared macros")
	}
	return s.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteMacro(ctx, id) })
}

// UpdateOf is the ticket changes of a macro applied by agent a.
func UpdateOf(m *store.Macro, a *store.Agent) desk.Update {
	u := desk.Update{Status: m.Status, Priority: m.Priority, AddTags: slices.Clone(m.AddTags), RemoveTags: slices.Clone(m.RemoveTags)}
	switch m.AssignTo {
	case "":
	case "me":
		u.AssigneeID = desk.Optional[int64]{Set: true, Value: &a.ID}
	case "nobody":
		u.AssigneeID = desk.Optional[int64]{Set: true}
	default:
		id, _ := strconv.ParseInt(m.AssignTo, 10, 64)
		u.AssigneeID = desk.Optional[int64]{Set: true, Value: &id}
	}
	if m.SetTeamID != nil {
		u.TeamID = desk.Optional[int64]{Set: true, Value: m.SetTeamID}
	}
	return u
}

func changes(u desk.Update) bool {
	return u.Status != "" || u.Priority != "" || len(u.AddTags) > 0 || len(u.RemoveTags) > 0 || u.AssigneeID.Set || u.TeamID.Set
}

// Applied is what applying a macro to one ticket did.
type Applied struct {
	Ticket *store.Ticket `json:"ticket"`
	// Reply is the macro's reply with the ticket's placeholders filled,
	// for the reply box, when the macro does not send it ("" else).
	Reply string `json:"reply"`
	// Sent is the reply sent, when the macro sends it.
	Sent        *store.Message `json:"sent,omitempty"`
	OrderResult string         `json:"order_result,omitempty"`
	OrderError  string         `json:"order_error,omitempty"`
	// Stopped: the shop refused the order action (OrderError is its
	// sentence), so the macro's other steps were not applied.
	Stopped bool `json:"stopped,omitempty"`
	// Repeat: this confirmation was applied before; nothing more was done.
	Repeat bool `json:"repeat,omitempty"`
}

// ErrOrderActionsNotAllowed refuses a macro with an order action to an
// agent without the order actions permission, before any step applies.
var ErrOrderActionsNotAllowed = i18n.Errorf("this macro acts on a shop order: an admin can give you the order actions permission")

// Apply applies macro id to a ticket as agent a: the order action first,
// when the macro has one, then the ticket changes (one transaction) and
// the reply (sent at once, or filled for the reply box), each step an
// event naming the macro.
//
// A macro with an order action applies in two requests: without confirm
// it answers a *Confirmation error (what the action does in money) and
// changes nothing; with the token of that confirmation it runs the
// action, and only once the shop has done it the other steps. A refused
// (or failed) action stops the macro there: a reply such as "your refund
// is on its way" is not sent, nor the status set, and Applied.OrderError
// holds the shop's sentence.
func (s *Service) Apply(ctx context.Context, a *store.Agent, id, ticketID int64, confirm string) (*Applied, error) {
	m, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	actor := desk.Actor{Kind: "agent", AgentID: a.ID, Macro: m.Name}
	res := &Applied{}
	ev := store.MacroAppliedData{Macro: m.Name, MacroID: m.ID}
	if m.OrderAction != nil {
		oa := s.orderActions()
		switch {
		case oa == nil:
			return nil, ErrNoOrderActions
		case !desk.AgentCan(a, desk.PermOrderActions):
			return nil, ErrOrderActionsNotAllowed
		case confirm == "":
			c, err := oa.Preview(ctx, actor, ticketID, *m.OrderAction)
			if err != nil {
				return nil, err
			}
			return nil, c
		}
		out, err := oa.Run(ctx, actor, ticketID, *m.OrderAction, confirm)
		if err != nil {
			return nil, err
		}
		ev.OrderAction = m.OrderAction.Name
		if out.Done {
			res.OrderResult, ev.OrderResult = out.Said, out.Said
		} else {
			res.OrderError, ev.OrderError, res.Stopped = out.Said, out.Said, true
		}
		if out.Repeat || res.Stopped {
			res.Repeat = out.Repeat
			if !out.Repeat {
				if err := s.record(ctx, a, m, []int64{ticketID}, ev); err != nil {
					return nil, err
				}
			}
			if res.Ticket, err = s.db.Ticket(ctx, ticketID); err != nil {
				return nil, err
			}
			return res, nil
		}
	}
	reply := ""
	if m.Reply != "" {
		values, err := s.d.Placeholders(ctx, ticketID, a.Name)
		if err != nil {
			return nil, err
		}
		reply = desk.FillPlaceholders(m.Reply, values)
	}
	u := UpdateOf(m, a)
	// A reply cannot go on a closed ticket: it goes before a macro closes.
	replyFirst := m.SendReply && u.Status == "closed"
	if replyFirst {
		if res.Sent, err = s.d.Reply(ctx, actor, ticketID, desk.ReplyInput{Body: reply}); err != nil {
			return nil, err
		}
	}
	if changes(u) {
		if res.Ticket, err = s.d.UpdateTicket(ctx, actor, ticketID, u); err != nil {
			return nil, err
		}
	}
	switch {
	case m.SendReply && !replyFirst:
		if res.Sent, err = s.d.Reply(ctx, actor, ticketID, desk.ReplyInput{Body: reply}); err != nil {
			return nil, err
		}
	case !m.SendReply:
		res.Reply = reply
	}
	if err := s.record(ctx, a, m, []int64{ticketID}, ev); err != nil {
		return nil, err
	}
	if res.Ticket, err = s.db.Ticket(ctx, ticketID); err != nil {
		return nil, err
	}
	return res, nil
}

// ErrNoOrderActions says a macro names an order action the desk cannot run.
var ErrNoOrderActions = desk.InputErrorf("order_action", "order actions are not available on this desk")

// record writes the macro_applied event on each ticket and counts the
// uses for the agent.
func (s *Service) record(ctx context.Context, a *store.Agent, m *store.Macro, ticketIDs []int64, data store.MacroAppliedData) error {
	var done []*desk.TicketTx
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		done = done[:0]
		now := store.Now()
		for _, id := range ticketIDs {
			t, err := tx.Ticket(ctx, id)
			if err != nil {
				return err
			}
			c := s.d.TicketTx(tx, t, nil, now)
			if _, err := c.Event(ctx, desk.AgentActor(a.ID), data); err != nil {
				return err
			}
			done = append(done, c)
		}
		return tx.UseMacro(ctx, m.ID, a.ID, len(ticketIDs), now)
	})
	if err != nil {
		return fmt.Errorf("record macro %d: %w", m.ID, err)
	}
	for _, c := range done {
		c.Publish(ctx)
	}
	return nil
}

// BulkResult is what a macro applied to many tickets did.
type BulkResult struct {
	desk.BulkResult
	// Sent counts the replies sent.
	Sent int `json:"sent"`
}

// ApplyBulk applies a macro to many tickets from the inbox's bulk bar:
// the changes as a bulk update, then the reply to each ticket changed,
// sent (there is no reply box to edit it in). A macro with an order
// action is refused in bulk: each order's money is confirmed by the agent
// on its own ticket.
func (s *Service) ApplyBulk(ctx context.Context, a *store.Agent, id int64, ids []int64) (*BulkResult, error) {
	m, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if m.OrderAction != nil {
		return nil, desk.InputErrorf("macro", "a macro with an order action applies to one ticket at a time")
	}
	if len(ids) == 0 || len(ids) > desk.MaxBulk {
		return nil, desk.InputErrorf("ids", "choose between 1 and %d tickets", desk.MaxBulk)
	}
	actor := desk.Actor{Kind: "agent", AgentID: a.ID, Macro: m.Name}
	u := UpdateOf(m, a)
	res := &BulkResult{}
	if changes(u) {
		r, err := s.d.UpdateTickets(ctx, actor, ids, u)
		if err != nil {
			return nil, err
		}
		res.BulkResult = *r
	} else {
		res.BulkResult = desk.BulkResult{Updated: unique(ids), Failed: []desk.Failed{}}
	}
	var ok []int64
	for _, tid := range res.Updated {
		if m.Reply != "" {
			values, err := s.d.Placeholders(ctx, tid, a.Name)
			if err == nil {
				_, err = s.d.Reply(ctx, actor, tid, desk.ReplyInput{Body: desk.FillPlaceholders(m.Reply, values)})
			}
			if ie, isInput := desk.IsInput(err); isInput {
				res.Failed = append(res.Failed, desk.Failed{ID: tid, Error: ie.Message, Field: ie.Field, Sentence: ie.Sentence})
				continue
			} else if errors.Is(err, store.ErrNotFound) {
				res.Failed = append(res.Failed, desk.Failed{ID: tid, Error: fmt.Sprintf("ticket %d does not exist", tid), Field: "ids"})
				continue
			} else if err != nil {
				return nil, err
			}
			res.Sent++
		}
		ok = append(ok, tid)
	}
	if len(ok) > 0 {
		if err := s.record(ctx, a, m, ok, store.MacroAppliedData{Macro: m.Name, MacroID: m.ID}); err != nil {
			return nil, err
		}
	}
	return res, nil
}

func unique(ids []int64) []int64 {
	var out []int64
	for _, id := range ids {
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
