package ui

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"onedesk/notify"
)

// An agent's own notifications: preferences, the devices that take push
// (each browser subscribes with the desk's VAPID public key), a test.

func (s *Server) myNotifications(c *fiber.Ctx, p *principal) error {
	ctx := c.UserContext()
	prefs, err := s.notify.Prefs(ctx, p.agent.ID)
	if err != nil {
		return err
	}
	devices, err := s.notify.Devices(ctx, p.agent.ID)
	if err != nil {
		return err
	}
	key, err := s.notify.PublicKey(ctx)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"prefs": prefs, "devices": devices, "vapid_public_key": key, "kinds": notify.Kinds,
		"sounds": notify.Sounds, "timezone": p.agent.Timezone})
}

func (s *Server) setMyNotifications(c *fiber.Ctx, p *principal) error {
	var in notify.Prefs
	if err := decode(c, &in); err != nil {
		return err
	}
	prefs, err := s.notify.SetPrefs(c.UserContext(), p.agent.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"prefs": prefs})
}

func (s *Server) subscribePush(c *fiber.Ctx, p *principal) error {
	var in notify.Subscription
	if err := decode(c, &in); err != nil {
		return err
	}
	sub, err := s.notify.Subscribe(c.UserContext(), p.agent.ID, in)
	if err != nil {
		return err
	}
	return c.Status(http.StatusCreated).JSON(sub)
}

func (s *Server) unsubscribePush(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.notify.Unsubscribe(c.UserContext(), p.agent.ID, id, ""); err != nil {
		return err
	}
	return c.SendStatus(http.StatusNoContent)
}

func (s *Server) testPush(c *fiber.Ctx, p *principal) error {
	n, err := s.notify.Test(c.UserContext(), p.agent)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"devices": n})
}
