package ui

import (
	"encoding/json"
	"slices"

	"github.com/gofiber/fiber/v2"

	"onedesk/store"
)

// ---- Rules

func (s *Server) listRules(c *fiber.Ctx, _ *principal) error {
	list, err := s.opts.Rules.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"rules": list})
}

func (s *Server) rule(c *fiber.Ctx) (*store.Rule, error) {
	id, err := paramID(c)
	if err != nil {
		return nil, err
	}
	list, err := s.opts.Rules.List(c.UserContext())
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(r *store.Rule) bool { return r.ID == id })
	if i < 0 {
		return nil, &apiError{Status: fiber.StatusNotFound, Message: "no such rule"}
	}
	return list[i], nil
}

func (s *Server) getRule(c *fiber.Ctx, _ *principal) error {
	r, err := s.rule(c)
	if err != nil {
		return err
	}
	return c.JSON(r)
}

func (s *Server) createRule(c *fiber.Ctx, _ *principal) error {
	r := store.Rule{Enabled: true}
	if err := decode(c, &r); err != nil {
		return err
	}
	saved, err := s.opts.Rules.Save(c.UserContext(), 0, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(saved)
}

// updateRule changes what the body names; conditions and actions are
// replaced whole.
func (s *Server) updateRule(c *fiber.Ctx, _ *principal) error {
	r, err := s.rule(c)
	if err != nil {
		return err
	}
	var parts map[string]json.RawMessage
	if json.Unmarshal(c.Body(), &parts) == nil {
		if _, ok := parts["conditions"]; ok {
			r.Conditions = nil
		}
		if _, ok := parts["actions"]; ok {
			r.Actions = nil
		}
	}
	id := r.ID
	if err := decode(c, r); err != nil {
		return err
	}
	saved, err := s.opts.Rules.Save(c.UserContext(), id, *r) // the path names the rule, not the body
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

func (s *Server) deleteRule(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.opts.Rules.Delete(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// ---- Saved replies

// listSavedReplies lists them all, or with ticket_id those that fit the
// ticket (shared ones and its store's and team's).
func (s *Server) listSavedReplies(c *fiber.Ctx, _ *principal) error {
	var storeID, teamID *int64
	tid, err := queryID(c, "ticket_id")
	if err != nil {
		return err
	}
	if tid != nil {
		t, err := s.db.Ticket(c.UserContext(), *tid)
		if err != nil {
			return err
		}
		var none int64 // matches no store or team: only shared replies
		storeID, teamID = &none, &none
		if t.StoreID != nil {
			storeID = t.StoreID
		}
		if t.TeamID != nil {
			teamID = t.TeamID
		}
	}
	list, err := s.db.SavedReplies(c.UserContext(), storeID, teamID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"saved_replies": list})
}

type savedReplyBody struct {
	Title   *string `json:"title"`
	Body    *string `json:"body"`
	StoreID *int64  `json:"store_id"`
	TeamID  *int64  `json:"team_id"`
}

func (b savedReplyBody) apply(r *store.SavedReply, parts map[string]json.RawMessage) {
	if b.Title != nil {
		r.Title = *b.Title
	}
	if b.Body != nil {
		r.Body = *b.Body
	}
	if _, ok := parts["store_id"]; ok {
		r.StoreID = b.StoreID
	}
	if _, ok := parts["team_id"]; ok {
		r.TeamID = b.TeamID
	}
}

func (s *Server) createSavedReply(c *fiber.Ctx, p *principal) error {
	var b savedReplyBody
	if err := decode(c, &b); err != nil {
		return err
	}
	var parts map[string]json.RawMessage
	_ = json.Unmarshal(c.Body(), &parts)
	r := store.SavedReply{CreatedBy: &p.agent.ID}
	b.apply(&r, parts)
	saved, err := s.desk.SaveSavedReply(c.UserContext(), 0, r)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(saved)
}

func (s *Server) updateSavedReply(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	r, err := s.db.SavedReply(c.UserContext(), id)
	if err != nil {
		return err
	}
	var b savedReplyBody
	if err := decode(c, &b); err != nil {
		return err
	}
	var parts map[string]json.RawMessage
	_ = json.Unmarshal(c.Body(), &parts)
	b.apply(r, parts)
	saved, err := s.desk.SaveSavedReply(c.UserContext(), id, *r)
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

func (s *Server) deleteSavedReply(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.desk.DeleteSavedReply(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// renderSavedReply answers the text with the ticket's values filled in:
// {"ticket_id": N} -> {"body": "..."}.
func (s *Server) renderSavedReply(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		TicketID int64 `json:"ticket_id"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.TicketID <= 0 {
		return fieldErr("ticket_id", "ticket_id names the ticket the reply is for")
	}
	if err := s.visible(c.UserContext(), p, "ticket", in.TicketID); err != nil {
		return err
	}
	body, err := s.desk.RenderSavedReply(c.UserContext(), id, in.TicketID, p.agent)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"body": body})
}
