package ui

import (
	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
)

// sendTemplate answers a ticket with one of its WhatsApp number's approved
// templates ({"name", "language", "params": [...]}), which WhatsApp carries
// outside the 24-hour window; the reply keeps the filled-in text.
func (s *Server) sendTemplate(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in desk.TemplateReply
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Params == nil {
		in.Params = []string{}
	}
	m, err := s.desk.SendTemplate(c.UserContext(), desk.AgentActor(p.agent.ID), id, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}
