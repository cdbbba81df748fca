package ui

import (
	"context"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
)

// socialBody is a social account as the API takes it. Each platform's
// secrets are write-only; an empty one keeps the stored one.
type socialBody struct {
	Platform string `json:"platform"`
	StoreID  *int64 `json:"store_id"`
	Enabled  *bool  `json:"enabled"`
	Token    string `json:"token"` // Telegram: the bot's token from @BotFather
}

// decodeSocial reads the body and which keys it named (to tell a null
// store_id from an absent one).
func decodeSocial(c *fiber.Ctx) (desk.SocialAccountInput, error) {
	var b socialBody
	if err := decode(c, &b); err != nil {
		return desk.SocialAccountInput{}, err
	}
	var keys map[string]any
	_ = jsonUnmarshal(c.Body(), &keys)
	_, named := keys["store_id"]
	in := desk.SocialAccountInput{Platform: b.Platform, StoreID: desk.Optional[int64]{Set: named, Value: b.StoreID},
		Enabled: b.Enabled, Settings: map[string]string{}}
	if b.Token != "" {
		in.Settings["token"] = b.Token
	}
	return in, nil
}

// checkTimeout bounds a save that asks the platform (getMe).
const checkTimeout = 30 * time.Second

func (s *Server) listSocialAccounts(c *fiber.Ctx, _ *principal) error {
	list, err := s.desk.SocialAccounts(c.UserContext(), c.Query("platform"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"social_accounts": list, "modes": s.desk.SocialModes()})
}

func (s *Server) getSocialAccount(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := s.desk.SocialAccount(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) createSocialAccount(c *fiber.Ctx, _ *principal) error {
	in, err := decodeSocial(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), checkTimeout)
	defer cancel()
	a, err := s.desk.SaveSocialAccount(ctx, 0, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(a)
}

func (s *Server) updateSocialAccount(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	in, err := decodeSocial(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), checkTimeout)
	defer cancel()
	a, err := s.desk.SaveSocialAccount(ctx, id, in)
	if err != nil {
		return err
	}
	return c.JSON(a)
}

func (s *Server) deleteSocialAccount(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), checkTimeout)
	defer cancel()
	if err := s.desk.DeleteSocialAccount(ctx, id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
