package ui

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
)

// bulkUpdate changes many tickets in one request: {"ids": [...]} and the
// fields of a ticket change. Each ticket changes all or nothing; the
// answer names those updated and those refused, with why.
func (s *Server) bulkUpdate(c *fiber.Ctx, p *principal) error {
	var raw map[string]json.RawMessage
	if err := decode(c, &raw); err != nil {
		return err
	}
	var ids []int64
	if v, ok := raw["ids"]; !ok {
		return fieldErr("ids", "ids lists the tickets to change")
	} else if err := json.Unmarshal(v, &ids); err != nil {
		return fieldErr("ids", "ids must be a list of ticket ids")
	}
	delete(raw, "ids")
	u, err := readUpdate(raw, "ids, ")
	if err != nil {
		return err
	}
	for _, id := range ids {
		if err := s.visible(c.UserContext(), p, "ticket", id); err != nil {
			return err
		}
	}
	if err := s.checkUpdate(c.UserContext(), p, ids, u); err != nil {
		return err
	}
	res, err := s.desk.UpdateTickets(c.UserContext(), desk.AgentActor(p.agent.ID), ids, u)
	if err != nil {
		return err
	}
	sayFailed(requestLanguage(c), res.Failed)
	return c.JSON(res)
}

type handoverBody struct {
	TeamID     *int64 `json:"team_id"`
	AssigneeID *int64 `json:"assignee_id"`
	Note       string `json:"note"`
}

// handover answers what a handover moved: {"moved": N, "ticket_ids":
// [...], "failed": [...]}.
func (s *Server) handover(c *fiber.Ctx, p *principal, agentID int64) error {
	var in handoverBody
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.TeamID != nil || in.AssigneeID != nil && *in.AssigneeID != agentID {
		if err := p.need(desk.PermTicketsAssignOthers); err != nil {
			return err
		}
	}
	res, err := s.desk.HandOver(c.UserContext(), desk.AgentActor(p.agent.ID), agentID,
		desk.Handover{TeamID: in.TeamID, AssigneeID: in.AssigneeID, Note: in.Note})
	if err != nil {
		return err
	}
	sayFailed(requestLanguage(c), res.Failed)
	return c.JSON(fiber.Map{"moved": len(res.Updated), "ticket_ids": res.Updated, "failed": res.Failed})
}

// toHandOver answers how many tickets a handover would move now.
func (s *Server) toHandOver(c *fiber.Ctx, agentID int64) error {
	n, err := s.desk.ToHandOver(c.UserContext(), agentID)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"tickets": n})
}

func (s *Server) myHandoverCount(c *fiber.Ctx, p *principal) error {
	return s.toHandOver(c, p.agent.ID)
}

func (s *Server) myHandover(c *fiber.Ctx, p *principal) error { return s.handover(c, p, p.agent.ID) }

func (s *Server) agentHandoverCount(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	return s.toHandOver(c, id)
}

func (s *Server) agentHandover(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	return s.handover(c, p, id)
}
