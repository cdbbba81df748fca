package ui

import (
	"encoding/json"
	"slices"

	"github.com/gofiber/fiber/v2"

	"onedesk/store"
)

// ---- SLA policies

func (s *Server) listSLAPolicies(c *fiber.Ctx, _ *principal) error {
	list, err := s.opts.SLA.Policies(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"sla_policies": list})
}

func (s *Server) slaPolicy(c *fiber.Ctx) (*store.SLAPolicy, error) {
	id, err := paramID(c)
	if err != nil {
		return nil, err
	}
	list, err := s.opts.SLA.Policies(c.UserContext())
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(list, func(p *store.SLAPolicy) bool { return p.ID == id })
	if i < 0 {
		return nil, &apiError{Status: fiber.StatusNotFound, Message: "no such SLA policy"}
	}
	return list[i], nil
}

func (s *Server) getSLAPolicy(c *fiber.Ctx, _ *principal) error {
	p, err := s.slaPolicy(c)
	if err != nil {
		return err
	}
	return c.JSON(p)
}

func (s *Server) createSLAPolicy(c *fiber.Ctx, _ *principal) error {
	p := store.SLAPolicy{Enabled: true, BusinessHours: true}
	if err := decode(c, &p); err != nil {
		return err
	}
	saved, err := s.opts.SLA.SavePolicy(c.UserContext(), 0, p)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(saved)
}

// updateSLAPolicy changes what the body names; targets are replaced whole.
func (s *Server) updateSLAPolicy(c *fiber.Ctx, _ *principal) error {
	p, err := s.slaPolicy(c)
	if err != nil {
		return err
	}
	var parts map[string]json.RawMessage
	if json.Unmarshal(c.Body(), &parts) == nil {
		if _, ok := parts["targets"]; ok {
			p.Targets = nil
		}
	}
	id := p.ID
	if err := decode(c, p); err != nil {
		return err
	}
	saved, err := s.opts.SLA.SavePolicy(c.UserContext(), id, *p) // the path names the policy, not the body
	if err != nil {
		return err
	}
	return c.JSON(saved)
}

func (s *Server) deleteSLAPolicy(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.opts.SLA.DeletePolicy(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
