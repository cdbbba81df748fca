package ui

import (
	"context"
	"encoding/json"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// socialBody is a social account as the API takes it: platform,
// store_id and enabled, and the platform's settings by name (Telegram's
// token; Meta's page_id, access_token, app_secret, instagram_id...),
// which its channel checks. Secrets are write-only; an empty setting
// keeps the stored one.
type socialBody struct {
	Platform string `json:"platform"`
	StoreID  *int64 `json:"store_id"`
	Enabled  *bool  `json:"enabled"`
}

// socialAccount is an account as the API answers it: with the settings
// its platform shows (never a secret, only whether each is set).
type socialAccount struct {
	*store.SocialAccount
	Settings map[string]any `json:"settings,omitempty"`
}

// socialView is an account as the app shows it, its last error said in
// the request's language.
func (s *Server) socialView(c *fiber.Ctx, a *store.SocialAccount) socialAccount {
	shown := *a
	shown.State.LastError = i18n.Restore(requestLanguage(c), a.State.LastError, a.State.LastErrorI18n)
	shown.State.LastErrorI18n = ""
	return socialAccount{&shown, s.desk.SocialSettings(a)}
}

// decodeSocial reads the body and which keys it named (to tell a null
// store_id from an absent one).
func decodeSocial(c *fiber.Ctx) (desk.SocialAccountInput, error) {
	var keys map[string]json.RawMessage
	if err := decode(c, &keys); err != nil {
		return desk.SocialAccountInput{}, err
	}
	var b socialBody
	settings := map[string]string{}
	for k, v := range keys {
		var err error
		switch k {
		case "platform":
			err = json.Unmarshal(v, &b.Platform)
		case "store_id":
			err = json.Unmarshal(v, &b.StoreID)
		case "enabled":
			err = json.Unmarshal(v, &b.Enabled)
		default:
			// A setting: text as it is, a list or an object as its JSON.
			var text string
			if json.Unmarshal(v, &text) != nil {
				text = string(v)
			}
			if text != "" && text != "null" {
				settings[k] = text
			}
		}
		if err != nil {
			switch k {
			case "platform":
				return desk.SocialAccountInput{}, fieldErr(k, "this is not a platform name")
			case "store_id":
				return desk.SocialAccountInput{}, fieldErr(k, "this is not a store id")
			}
			return desk.SocialAccountInput{}, fieldErr(k, "this is not true or false")
		}
	}
	_, named := keys["store_id"]
	return desk.SocialAccountInput{Platform: b.Platform, StoreID: desk.Optional[int64]{Set: named, Value: b.StoreID},
		Enabled: b.Enabled, Settings: settings}, nil
}

// checkTimeout bounds a save that asks the platform (getMe).
const checkTimeout = 30 * time.Second

func (s *Server) listSocialAccounts(c *fiber.Ctx, _ *principal) error {
	list, err := s.db.SocialAccounts(c.UserContext(), c.Query("platform"))
	if err != nil {
		return err
	}
	views := make([]socialAccount, len(list))
	for i, a := range list {
		views[i] = s.socialView(c, a)
	}
	return c.JSON(fiber.Map{"social_accounts": views, "modes": s.desk.SocialModes()})
}

func (s *Server) getSocialAccount(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	a, err := s.db.SocialAccount(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(s.socialView(c, a))
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
	return c.Status(fiber.StatusCreated).JSON(s.socialView(c, a))
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
	return c.JSON(s.socialView(c, a))
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
