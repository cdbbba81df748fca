package ui

import (
	"strconv"

	"github.com/gofiber/fiber/v2"

	"onedesk/i18n"
	"onedesk/store"
	"onedesk/webhooks"
)

// webhookBody is a webhook as the API takes it. The secret is write-only:
// answered only by the POST that made it (or a PATCH with rotate_secret).
type webhookBody struct {
	Name         *string   `json:"name"`
	URL          *string   `json:"url"`
	Events       *[]string `json:"events"`
	Enabled      *bool     `json:"enabled"`
	Secret       *string   `json:"secret"`
	RotateSecret bool      `json:"rotate_secret"`
}

// webhookAnswer is a webhook with its secret when it is shown once.
type webhookAnswer struct {
	*store.Webhook
	Secret string `json:"secret,omitempty"`
}

func (s *Server) listWebhooks(c *fiber.Ctx, _ *principal) error {
	list, err := s.db.Webhooks(c.UserContext())
	if err != nil {
		return err
	}
	lang := requestLanguage(c)
	for _, w := range list {
		w.LastError = i18n.Restore(lang, w.LastError, w.LastErrorI18n)
	}
	return c.JSON(fiber.Map{"webhooks": list, "events": webhooks.Events})
}

func (s *Server) getWebhook(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	w, err := s.db.Webhook(c.UserContext(), id)
	if err != nil {
		return err
	}
	w.LastError = i18n.Restore(requestLanguage(c), w.LastError, w.LastErrorI18n)
	return c.JSON(w)
}

func (s *Server) saveWebhook(c *fiber.Ctx, id int64) (*webhookAnswer, error) {
	var b webhookBody
	if err := decode(c, &b); err != nil {
		return nil, err
	}
	if id != 0 && b.Secret != nil && b.RotateSecret {
		return nil, fieldErr("secret", "give a secret or ask for a new one, not both")
	}
	w, secret, err := s.hooks.Save(c.UserContext(), id, webhooks.Input{Name: b.Name, URL: b.URL, Events: b.Events,
		Enabled: b.Enabled, Secret: b.Secret, RotateSecret: b.RotateSecret})
	if err != nil {
		return nil, err
	}
	return &webhookAnswer{Webhook: w, Secret: secret}, nil
}

func (s *Server) createWebhook(c *fiber.Ctx, _ *principal) error {
	w, err := s.saveWebhook(c, 0)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(w)
}

func (s *Server) updateWebhook(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	w, err := s.saveWebhook(c, id)
	if err != nil {
		return err
	}
	return c.JSON(w)
}

func (s *Server) deleteWebhook(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.hooks.Delete(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// testWebhook queues a ping; its outcome shows in the deliveries.
func (s *Server) testWebhook(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	d, err := s.hooks.Test(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusAccepted).JSON(d)
}

// webhookDeliveries lists the latest deliveries (limit 1-200, default 50).
func (s *Server) webhookDeliveries(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	limit := 50
	if v := c.Query("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 200 {
			return fieldErr("limit", "limit must be a number from 1 to 200")
		}
		limit = n
	}
	list, err := s.hooks.Deliveries(c.UserContext(), id, limit)
	if err != nil {
		return err
	}
	lang := requestLanguage(c)
	for _, d := range list {
		d.LastError = i18n.Restore(lang, d.LastError, d.LastErrorI18n)
	}
	return c.JSON(fiber.Map{"deliveries": list})
}
