package ui

import (
	"io"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/greetings"
	"onedesk/store"
)

// greetingsBody is a store's proactive chat greetings with what each did
// in the last 30 days (the settings screen shows both).
type greetingsBody struct {
	Greetings []store.Greeting     `json:"greetings"`
	Stats     []store.GreetingStat `json:"stats"`
}

func (s *Server) greetingsOf(c *fiber.Ctx, storeID int64) error {
	ctx := c.UserContext()
	list, err := s.db.Greetings(ctx, storeID)
	if err != nil {
		return err
	}
	now := time.Now()
	stats, err := s.db.GreetingStats(ctx, []int64{storeID}, now.AddDate(0, 0, -30), now)
	if err != nil {
		return err
	}
	return c.JSON(greetingsBody{Greetings: list, Stats: stats})
}

// listGreetings answers GET /api/stores/{id}/greetings.
func (s *Server) listGreetings(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if !p.seesStore(&id) {
		return &store.NotFoundError{Thing: "store", ID: id}
	}
	if _, err := s.db.Store(c.UserContext(), id); err != nil {
		return err
	}
	return s.greetingsOf(c, id)
}

// saveGreetings answers PUT /api/stores/{id}/greetings: {"greetings":
// [...]} in the order the widget tries them replaces the store's list.
func (s *Server) saveGreetings(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if !p.seesStore(&id) {
		return &store.NotFoundError{Thing: "store", ID: id}
	}
	var in struct {
		Greetings []store.Greeting `json:"greetings"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if in.Greetings == nil {
		return fieldErr("greetings", "send the store's greetings as a list (empty for none)")
	}
	if _, err := greetings.Save(c.UserContext(), s.db, id, in.Greetings); err != nil {
		return err
	}
	return s.greetingsOf(c, id)
}

// setMyAvatar answers PUT /api/me/avatar: a picture (multipart, field
// "avatar") becomes the agent's profile picture, shown to chat visitors.
func (s *Server) setMyAvatar(c *fiber.Ctx, p *principal) error {
	form, err := multipartForm(c)
	if err != nil {
		return err
	}
	files := form.File["avatar"]
	if len(files) != 1 {
		return fieldErr("avatar", "send one picture as the field avatar")
	}
	if files[0].Size > desk.MaxAvatarBytes {
		return fieldErr("avatar", "a picture may be at most %d MB", desk.MaxAvatarBytes>>20)
	}
	f, err := files[0].Open()
	if err != nil {
		return err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, desk.MaxAvatarBytes+1))
	if err != nil {
		return err
	}
	key, err := s.desk.SetAvatar(c.UserContext(), p.agent.ID, data)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"avatar_url": avatarURL(key)})
}

// removeMyAvatar answers DELETE /api/me/avatar.
func (s *Server) removeMyAvatar(c *fiber.Ctx, p *principal) error {
	if err := s.desk.RemoveAvatar(c.UserContext(), p.agent.ID); err != nil {
		return err
	}
	return c.JSON(fiber.Map{"avatar_url": ""})
}

// avatarURL is where a picture is served (by the chat channel: public).
func avatarURL(key string) string {
	if key == "" {
		return ""
	}
	return "/chat/avatar/" + key
}
