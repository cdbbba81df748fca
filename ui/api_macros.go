package ui

import (
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/macros"
	"onedesk/snooze"
	"onedesk/store"
)

// macroBody is a macro as the editor sends it, whole.
type macroBody struct {
	Name        string                  `json:"name"`
	Shared      bool                    `json:"shared"`
	TeamID      *int64                  `json:"team_id"`
	Reply       string                  `json:"reply"`
	SendReply   bool                    `json:"send_reply"`
	Status      string                  `json:"status"`
	Priority    string                  `json:"priority"`
	AddTags     []string                `json:"add_tags"`
	RemoveTags  []string                `json:"remove_tags"`
	AssignTo    string                  `json:"assign_to"`
	SetTeamID   *int64                  `json:"set_team_id"`
	OrderAction *store.MacroOrderAction `json:"order_action"`
}

func (b macroBody) macro() store.Macro {
	return store.Macro{Name: b.Name, TeamID: b.TeamID, Reply: b.Reply, SendReply: b.SendReply, Status: b.Status,
		Priority: b.Priority, AddTags: b.AddTags, RemoveTags: b.RemoveTags, AssignTo: b.AssignTo, SetTeamID: b.SetTeamID,
		OrderAction: b.OrderAction}
}

// listMacros answers the agent's macros (most used first), the order
// actions a macro may name (for an agent who may act on orders), and
// whether they may manage shared ones.
func (s *Server) listMacros(c *fiber.Ctx, p *principal) error {
	list, err := s.macros.List(c.UserContext(), p.agent)
	if err != nil {
		return err
	}
	type item struct {
		*store.Macro
		Editable bool `json:"editable"`
	}
	out := make([]item, len(list))
	for i, m := range list {
		out[i] = item{m, macros.MayEdit(m, p.agent)}
	}
	actions := []macros.ActionInfo{} // offered to those who may act on orders
	if p.can(desk.PermOrderActions) {
		actions = s.macros.Available()
	}
	return c.JSON(fiber.Map{"macros": out, "order_actions": actions,
		"can_share": desk.Can(p.agent.Role, desk.PermMacrosShared)})
}

func (s *Server) createMacro(c *fiber.Ctx, p *principal) error {
	var in macroBody
	if err := decode(c, &in); err != nil {
		return err
	}
	m, err := s.macros.Save(c.UserContext(), p.agent, 0, in.macro(), in.Shared)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

// updateMacro replaces a macro with the body.
func (s *Server) updateMacro(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in macroBody
	if err := decode(c, &in); err != nil {
		return err
	}
	m, err := s.macros.Save(c.UserContext(), p.agent, id, in.macro(), in.Shared)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) deleteMacro(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.macros.Delete(c.UserContext(), p.agent, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// checkMacro checks that p may do what macro id does to the tickets.
func (s *Server) checkMacro(c *fiber.Ctx, p *principal, id int64, ticketIDs []int64) (*store.Macro, error) {
	ctx := c.UserContext()
	m, err := s.macros.Get(ctx, p.agent, id)
	if err != nil {
		return nil, err
	}
	for _, tid := range ticketIDs {
		if err := s.visible(ctx, p, "ticket", tid); err != nil {
			return nil, err
		}
	}
	if m.OrderAction != nil {
		if err := p.need(desk.PermOrderActions); err != nil {
			return nil, err
		}
	}
	if m.SendReply || m.Reply != "" && len(ticketIDs) > 1 {
		if err := p.need(desk.PermTicketsReply); err != nil {
			return nil, err
		}
	}
	return m, s.checkUpdate(ctx, p, ticketIDs, macros.UpdateOf(m, p.agent))
}

// applyMacro applies a macro to one ticket: {"ticket_id": N}. A macro
// with an order action answers 409 with what the action does in money
// ({"needs_confirmation": true, "preview": {...}, "token": "..."}) and
// changes nothing, until the request carries that token as "confirm";
// then the action runs, and the macro's other steps once the shop has
// done it (a refusal answers 422 with the shop's sentence, the other
// steps not applied).
func (s *Server) applyMacro(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		TicketID int64  `json:"ticket_id"`
		Confirm  string `json:"confirm"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.TicketID <= 0 {
		return fieldErr("ticket_id", "ticket_id names the ticket to apply the macro to")
	}
	m, err := s.checkMacro(c, p, id, []int64{in.TicketID})
	if err != nil {
		return err
	}
	res, err := s.macros.Apply(c.UserContext(), p.agent, id, in.TicketID, in.Confirm)
	var confirm *macros.Confirmation
	switch {
	case errors.As(err, &confirm):
		say := i18n.S("confirm what the macro %q does to the order", m.Name)
		if confirm.Changed {
			say = i18n.S("the order's money changed since the confirmation: confirm again")
		}
		return c.Status(fiber.StatusConflict).JSON(fiber.Map{"error": say.In(requestLanguage(c)), "field": "confirm",
			"needs_confirmation": true, "changed": confirm.Changed, "preview": confirm.Preview, "token": confirm.Token,
			"macro": fiber.Map{"id": m.ID, "name": m.Name}})
	case errors.Is(err, macros.ErrOrderActionsNotAllowed):
		return &apiError{Status: fiber.StatusForbidden, Message: err.Error(), Sentence: i18n.SentenceOf(err)}
	case err != nil:
		return orderActionErr(err)
	case res.Stopped:
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": res.OrderError, "field": "order_action",
			"order_error": res.OrderError, "stopped": true, "ticket": res.Ticket})
	}
	return c.JSON(res)
}

// applyMacroBulk applies a macro to many tickets: {"ids": [...]}.
func (s *Server) applyMacroBulk(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		IDs []int64 `json:"ids"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if len(in.IDs) == 0 || len(in.IDs) > desk.MaxBulk {
		return fieldErr("ids", "choose between 1 and %d tickets", desk.MaxBulk)
	}
	if _, err := s.checkMacro(c, p, id, in.IDs); err != nil {
		return err
	}
	res, err := s.macros.ApplyBulk(c.UserContext(), p.agent, id, in.IDs)
	if err != nil {
		return err
	}
	sayFailed(requestLanguage(c), res.Failed)
	return c.JSON(res)
}

// snoozeTicket puts a ticket to sleep: {"preset": "later_today" |
// "tomorrow" | "next_week" | "customer_reply"} or {"until": RFC 3339}.
func (s *Server) snoozeTicket(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Preset string `json:"preset"`
		Until  string `json:"until"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	ctx := c.UserContext()
	var wake *time.Time
	switch {
	case in.Preset != "" && in.Until != "":
		return fieldErr("until", "give a preset or a time, not both")
	case in.Preset != "":
		t, err := s.db.Ticket(ctx, id)
		if err != nil {
			return err
		}
		if wake, err = snooze.WakeTime(in.Preset, store.Now(), s.snooze.Zone(ctx, t)); err != nil {
			return err
		}
	default:
		if wake, err = optionalTime("until", in.Until); err != nil {
			return err
		}
		if wake == nil {
			return fieldErr("until", "give a preset or a time to wake the ticket at")
		}
	}
	t, err := s.snooze.Snooze(ctx, desk.AgentActor(p.agent.ID), id, wake)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// wakeTicket wakes a snoozed ticket now.
func (s *Server) wakeTicket(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if _, err := s.snooze.Wake(c.UserContext(), desk.AgentActor(p.agent.ID), id); err != nil {
		return err
	}
	t, err := s.db.Ticket(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(t)
}

// editScheduled changes a scheduled reply: {"body", "send_at"}.
func (s *Server) editScheduled(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Body   string `json:"body"`
		SendAt string `json:"send_at"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	at, err := optionalTime("send_at", in.SendAt)
	if err != nil {
		return err
	}
	if at == nil {
		return fieldErr("send_at", "send_at is when the reply goes")
	}
	m, err := s.desk.EditScheduledReply(c.UserContext(), desk.AgentActor(p.agent.ID), id, in.Body, *at)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// cancelScheduled cancels a scheduled reply before it goes.
func (s *Server) cancelScheduled(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.desk.CancelScheduledReply(c.UserContext(), desk.AgentActor(p.agent.ID), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// optionalTime reads an RFC 3339 time ("" is none).
func optionalTime(field, v string) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, fieldErr(field, "%s must be a time like 2026-05-01T09:00:00Z, not %q", field, v)
	}
	t = t.UTC()
	return &t, nil
}
