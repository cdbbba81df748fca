package ui

import "github.com/gofiber/fiber/v2"

// getChecklist answers the first-run checklist, worked out from the
// desk's state (GET /api/checklist, admins).
func (s *Server) getChecklist(c *fiber.Ctx, _ *principal) error {
	list, err := s.desk.Checklist(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(list)
}

// dismissChecklist hides it (POST /api/checklist/dismiss, admins).
func (s *Server) dismissChecklist(c *fiber.Ctx, _ *principal) error {
	if err := s.desk.DismissChecklist(c.UserContext()); err != nil {
		return err
	}
	return s.getChecklist(c, nil)
}
