package ui

import (
	"encoding/json"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/store"
)

func (s *Server) listForms(c *fiber.Ctx, _ *principal) error {
	list, err := s.db.Forms(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"forms": list})
}

func (s *Server) getForm(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	f, err := s.db.Form(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(f)
}

func (s *Server) createForm(c *fiber.Ctx, _ *principal) error {
	f := &store.Form{Enabled: true}
	if err := decode(c, f); err != nil {
		return err
	}
	f.ID = 0
	f, err := s.desk.SaveForm(c.UserContext(), f)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(f)
}

// updateForm changes the parts of a form the body names; a part named is
// replaced whole (all the fields, all the routing).
func (s *Server) updateForm(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	f, err := s.db.Form(c.UserContext(), id)
	if err != nil {
		return err
	}
	var parts map[string]json.RawMessage
	if json.Unmarshal(c.Body(), &parts) == nil {
		if _, ok := parts["fields"]; ok {
			f.Fields = nil
		}
		if _, ok := parts["translations"]; ok {
			f.Translations = nil
		}
		if _, ok := parts["routing"]; ok {
			f.Routing = store.FormRouting{}
		}
		if _, ok := parts["store_id"]; ok {
			f.StoreID = nil
		}
	}
	if err := decode(c, f); err != nil {
		return err
	}
	f.ID = id
	if f, err = s.desk.SaveForm(c.UserContext(), f); err != nil {
		return err
	}
	return c.JSON(f)
}

func (s *Server) deleteForm(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := s.desk.DeleteForm(c.UserContext(), id); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// previewForm renders a form as the editor has it (saved or not), for
// the app's live preview: {"form": {...}, "lang": "pt"}.
func (s *Server) previewForm(c *fiber.Ctx, _ *principal) error {
	var in struct {
		Form store.Form `json:"form"`
		Lang string     `json:"lang"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	if s.opts.FormPreview == nil {
		return &apiError{Status: fiber.StatusNotImplemented, Message: "forms are off in this server"}
	}
	st := &store.Store{Language: "en", AllowedOrigins: []string{}}
	if in.Form.StoreID != nil {
		if found, err := s.db.Store(c.UserContext(), *in.Form.StoreID); err == nil {
			st = found
		}
	}
	if in.Form.Title == "" {
		in.Form.Title = "Untitled form"
	}
	c.Set("Content-Type", "text/html; charset=utf-8")
	return c.Send(s.opts.FormPreview(c.UserContext(), &in.Form, st, desk.PickLanguage(st.Language, in.Lang)))
}
