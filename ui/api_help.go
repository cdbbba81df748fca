package ui

import (
	"io"
	"strconv"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/helpcentre"
	"onedesk/store"
)

// The help centre's editing API (package helpcentre serves the public
// pages): categories, articles with drafts and publishing, pictures, the
// editor's preview and the report. An agent limited to some stores works
// on theirs only.

// helpStore reads ?store_id= (or a body's) and checks the agent works there.
func helpStore(p *principal, id int64) error {
	if id == 0 {
		return fieldErr("store_id", "store_id is required")
	}
	if !p.seesStore(&id) {
		return apiErr(fiber.StatusNotFound, "store_id", "store %d does not exist", id)
	}
	return nil
}

func queryStore(c *fiber.Ctx, p *principal) (int64, error) {
	id, _ := strconv.ParseInt(c.Query("store_id"), 10, 64)
	return id, helpStore(p, id)
}

func (s *Server) listHelpCategories(c *fiber.Ctx, p *principal) error {
	id, err := queryStore(c, p)
	if err != nil {
		return err
	}
	list, err := s.db.HelpCategories(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"categories": list})
}

func (s *Server) createHelpCategory(c *fiber.Ctx, p *principal) error {
	var in helpcentre.CategoryInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := helpStore(p, in.StoreID); err != nil {
		return err
	}
	cat, err := s.help.CreateCategory(c.UserContext(), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cat)
}

// helpCategory reads the category of :id, in one of the agent's stores.
func (s *Server) helpCategory(c *fiber.Ctx, p *principal) (*store.HelpCategory, error) {
	id, err := paramID(c)
	if err != nil {
		return nil, err
	}
	cat, err := s.db.HelpCategory(c.UserContext(), id)
	if err == nil && !p.seesStore(&cat.StoreID) {
		return nil, apiErr(fiber.StatusNotFound, "", "help category %d does not exist", id)
	}
	return cat, err
}

func (s *Server) updateHelpCategory(c *fiber.Ctx, p *principal) error {
	cat, err := s.helpCategory(c, p)
	if err != nil {
		return err
	}
	var in helpcentre.CategoryInput
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := s.help.UpdateCategory(c.UserContext(), cat.ID, in)
	if err != nil {
		return err
	}
	return c.JSON(out)
}

func (s *Server) deleteHelpCategory(c *fiber.Ctx, p *principal) error {
	cat, err := s.helpCategory(c, p)
	if err != nil {
		return err
	}
	if err := s.help.DeleteCategory(c.UserContext(), cat.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

func (s *Server) listHelpArticles(c *fiber.Ctx, p *principal) error {
	id, err := queryStore(c, p)
	if err != nil {
		return err
	}
	list, err := s.db.HelpArticles(c.UserContext(), id, c.Query("lang"))
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"articles": list})
}

// helpArticle reads the article of :id, in one of the agent's stores.
func (s *Server) helpArticle(c *fiber.Ctx, p *principal) (*store.HelpArticle, error) {
	id, err := paramID(c)
	if err != nil {
		return nil, err
	}
	a, err := s.db.HelpArticle(c.UserContext(), id)
	if err == nil && !p.seesStore(&a.StoreID) {
		return nil, apiErr(fiber.StatusNotFound, "", "help article %d does not exist", id)
	}
	return a, err
}

// articleJSON is an article with its published HTML, for the editor.
func articleJSON(a *store.HelpArticle) fiber.Map {
	return fiber.Map{"id": a.ID, "store_id": a.StoreID, "category_id": a.CategoryID, "lang": a.Lang, "slug": a.Slug,
		"position": a.Position, "title": a.Title, "body": a.Body, "published_title": a.PublishedTitle,
		"published_body": a.PublishedBody, "published_html": a.HTML, "published_at": a.PublishedAt, "status": a.Status,
		"helpful_yes": a.HelpfulYes, "helpful_no": a.HelpfulNo, "updated_by": a.UpdatedBy,
		"created_at": a.CreatedAt, "updated_at": a.UpdatedAt}
}

func (s *Server) getHelpArticle(c *fiber.Ctx, p *principal) error {
	a, err := s.helpArticle(c, p)
	if err != nil {
		return err
	}
	return c.JSON(articleJSON(a))
}

func (s *Server) createHelpArticle(c *fiber.Ctx, p *principal) error {
	var in helpcentre.ArticleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	if err := helpStore(p, in.StoreID); err != nil {
		return err
	}
	a, err := s.help.CreateArticle(c.UserContext(), in, p.agent.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(articleJSON(a))
}

func (s *Server) updateHelpArticle(c *fiber.Ctx, p *principal) error {
	a, err := s.helpArticle(c, p)
	if err != nil {
		return err
	}
	var in helpcentre.ArticleInput
	if err := decode(c, &in); err != nil {
		return err
	}
	out, err := s.help.UpdateArticle(c.UserContext(), a.ID, in, p.agent.ID)
	if err != nil {
		return err
	}
	return c.JSON(articleJSON(out))
}

func (s *Server) publishHelpArticle(c *fiber.Ctx, p *principal) error {
	a, err := s.helpArticle(c, p)
	if err != nil {
		return err
	}
	out, err := s.help.Publish(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(articleJSON(out))
}

func (s *Server) unpublishHelpArticle(c *fiber.Ctx, p *principal) error {
	a, err := s.helpArticle(c, p)
	if err != nil {
		return err
	}
	out, err := s.help.Unpublish(c.UserContext(), a.ID)
	if err != nil {
		return err
	}
	return c.JSON(articleJSON(out))
}

func (s *Server) deleteHelpArticle(c *fiber.Ctx, p *principal) error {
	a, err := s.helpArticle(c, p)
	if err != nil {
		return err
	}
	if err := s.help.DeleteArticle(c.UserContext(), a.ID); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// previewHelp renders Markdown as the published page will show it (the
// editor's live preview).
func (s *Server) previewHelp(c *fiber.Ctx, _ *principal) error {
	var in struct {
		Body string `json:"body"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	html, _ := helpcentre.Render(in.Body)
	return c.JSON(fiber.Map{"html": html})
}

// uploadHelpImage stores a picture (multipart: store_id and file) and
// answers its URL and the Markdown that shows it.
func (s *Server) uploadHelpImage(c *fiber.Ctx, p *principal) error {
	form, err := multipartForm(c)
	if err != nil {
		return err
	}
	var storeID int64
	if v := form.Value["store_id"]; len(v) > 0 {
		storeID, _ = strconv.ParseInt(v[0], 10, 64)
	}
	if err := helpStore(p, storeID); err != nil {
		return err
	}
	if len(form.File["file"]) != 1 {
		return fieldErr("file", "send one picture as file")
	}
	fh := form.File["file"][0]
	f, err := fh.Open()
	if err != nil {
		return fieldErr("file", "the file could not be read: %v", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, 5<<20+1))
	if err != nil {
		return fieldErr("file", "the file could not be read: %v", err)
	}
	img, url, err := s.help.AddImage(c.UserContext(), storeID, fh.Filename, data)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"id": img.ID, "url": url, "content_type": img.ContentType, "size": img.Size,
		"markdown": "![" + img.Filename + "](" + url + ")"})
}

// helpReport is a store's searches that found nothing, its deflection
// and its articles' votes over ?range=7d|30d|90d (30d by default).
func (s *Server) helpReport(c *fiber.Ctx, p *principal) error {
	id, err := queryStore(c, p)
	if err != nil {
		return err
	}
	days := map[string]int{"7d": 7, "30d": 30, "90d": 90, "": 30}
	n, ok := days[c.Query("range")]
	if !ok {
		return fieldErr("range", "range must be 7d, 30d or 90d")
	}
	// The end is exclusive and times are kept in whole milliseconds: a
	// visit of this very millisecond belongs in the report.
	to := time.Now().Truncate(time.Millisecond).Add(time.Millisecond)
	r, err := s.help.Report(c.UserContext(), id, to.AddDate(0, 0, -n), to)
	if err != nil {
		return err
	}
	return c.JSON(r)
}
