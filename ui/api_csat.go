package ui

import (
	"github.com/gofiber/fiber/v2"

	"onedesk/csat"
	"onedesk/i18n"
)

// Satisfaction surveys: a store's settings, a ticket's ratings. The
// report is /api/reports/csat (plugged into the reports), the customers'
// rating pages /csat/ (netRoutes).

// csatSettingsBody is a store's survey settings with the catalog's
// question in each language, for the form to show as placeholders.
type csatSettingsBody struct {
	csat.Settings
	DefaultQuestions map[string]string `json:"default_questions"`
}

func (s *Server) getCSATSettings(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if s.opts.CSAT == nil {
		return fiber.ErrNotFound
	}
	if _, err := s.db.Store(c.UserContext(), id); err != nil {
		return err
	}
	st, err := s.opts.CSAT.Settings(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(withDefaults(st))
}

func withDefaults(st csat.Settings) csatSettingsBody {
	defs := map[string]string{}
	for _, l := range i18n.Languages {
		defs[l] = csat.DefaultQuestion(l)
	}
	return csatSettingsBody{Settings: st, DefaultQuestions: defs}
}

func (s *Server) putCSATSettings(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if s.opts.CSAT == nil {
		return fiber.ErrNotFound
	}
	in, err := s.opts.CSAT.Settings(c.UserContext(), id)
	if err != nil {
		return err
	}
	if err := decode(c, &in); err != nil { // absent keys keep their values
		return err
	}
	st, err := s.opts.CSAT.SaveSettings(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(withDefaults(st))
}

// ticketCSAT lists a ticket's surveys: asked, skipped, rated, commented.
func (s *Server) ticketCSAT(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if s.opts.CSAT == nil {
		return c.JSON([]any{})
	}
	list, err := s.opts.CSAT.Surveys(c.UserContext(), id)
	if err != nil {
		return err
	}
	if list == nil {
		return c.JSON([]any{})
	}
	return c.JSON(list)
}
