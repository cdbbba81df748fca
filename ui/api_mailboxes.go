package ui

import (
	"context"
	"errors"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// mailboxBody is a mailbox as the API takes it; passwords are write-only
// and an empty one keeps the stored password.
type mailboxBody struct {
	Address      *string `json:"address"`
	Name         *string `json:"name"`
	StoreID      *int64  `json:"store_id"`
	IMAPHost     *string `json:"imap_host"`
	IMAPPort     *int    `json:"imap_port"`
	IMAPSecurity *string `json:"imap_security"`
	IMAPUsername *string `json:"imap_username"`
	IMAPPassword string  `json:"imap_password"`
	IMAPFolder   *string `json:"imap_folder"`
	SMTPHost     *string `json:"smtp_host"`
	SMTPPort     *int    `json:"smtp_port"`
	SMTPSecurity *string `json:"smtp_security"`
	SMTPUsername *string `json:"smtp_username"`
	SMTPPassword string  `json:"smtp_password"`
	PollSeconds  *int    `json:"poll_seconds"`
	AfterImport  *string `json:"after_import"`
	MoveTo       *string `json:"move_to"`
	Active       *bool   `json:"active"`

	PlusAddressing *bool   `json:"plus_addressing"`
	AutoAck        *bool   `json:"auto_ack"`
	AutoAckText    *string `json:"auto_ack_text"`
	MaxMessageMB   *int    `json:"max_message_mb"`

	oauthBody

	StartFrom    *string `json:"start_from"`
	HistorySince *string `json:"history_since"` // a day (2024-01-31) or an RFC 3339 time
	SentFolder   *string `json:"sent_folder"`
}

// historySince reads the day a history starts at: a date alone is that
// day's start in UTC.
func (b mailboxBody) historySince() (*time.Time, error) {
	if b.HistorySince == nil || *b.HistorySince == "" {
		return nil, nil
	}
	for _, layout := range []string{time.DateOnly, time.RFC3339} {
		if t, err := time.Parse(layout, *b.HistorySince); err == nil {
			return &t, nil
		}
	}
	return nil, fieldErr("history_since", "history_since must be a date like 2024-01-31")
}

func (b mailboxBody) input(raw map[string]bool) desk.MailboxInput {
	in := desk.MailboxInput{Address: b.Address, Name: b.Name, StoreID: desk.Optional[int64]{Set: raw["store_id"], Value: b.StoreID},
		IMAPHost: b.IMAPHost, IMAPPort: b.IMAPPort, IMAPSecurity: b.IMAPSecurity, IMAPUsername: b.IMAPUsername,
		IMAPPassword: b.IMAPPassword, IMAPFolder: b.IMAPFolder, SMTPHost: b.SMTPHost, SMTPPort: b.SMTPPort,
		SMTPSecurity: b.SMTPSecurity, SMTPUsername: b.SMTPUsername, SMTPPassword: b.SMTPPassword,
		PollSeconds: b.PollSeconds, AfterImport: b.AfterImport, MoveTo: b.MoveTo, Active: b.Active,
		PlusAddressing: b.PlusAddressing, AutoAck: b.AutoAck, AutoAckText: b.AutoAckText, MaxMessageMB: b.MaxMessageMB,
		StartFrom: b.StartFrom, SentFolder: b.SentFolder}
	b.oauthBody.input(&in)
	return in
}

// decodeMailbox reads the body and which keys it named (to tell a null
// store_id from an absent one).
func decodeMailbox(c *fiber.Ctx) (desk.MailboxInput, error) {
	var b mailboxBody
	if err := decode(c, &b); err != nil {
		return desk.MailboxInput{}, err
	}
	var keys map[string]any
	_ = jsonUnmarshal(c.Body(), &keys)
	named := map[string]bool{}
	for k := range keys {
		named[k] = true
	}
	in := b.input(named)
	var err error
	if in.HistorySince, err = b.historySince(); err != nil {
		return desk.MailboxInput{}, err
	}
	return in, nil
}

// mailboxStatus is a mailbox with how its intake is doing: its last
// import, the messages read only in part, and why it is stuck if it is.
type mailboxStatus struct {
	*store.Mailbox
	*store.MailboxIntake
	Stuck string `json:"stuck"`
	// Auth is "password" or "oauth2", with the sign-in in OAuth.
	Auth    string                 `json:"auth"`
	OAuth   *oauthStatus           `json:"oauth"`
	History *store.HistoryProgress `json:"history"` // its history import, null when none
}

// partialListed is how many of a mailbox's partly read messages its
// card lists (all are counted).
const partialListed = 10

func (s *Server) listMailboxes(c *fiber.Ctx, _ *principal) error {
	ctx := c.UserContext()
	list, err := s.db.Mailboxes(ctx)
	if err != nil {
		return err
	}
	oauths, err := s.db.MailboxOAuths(ctx)
	if err != nil {
		return err
	}
	now := time.Now()
	lang := requestLanguage(c)
	out := make([]mailboxStatus, 0, len(list))
	for _, m := range list {
		intake, err := s.db.MailboxIntake(ctx, m.ID, partialListed)
		if err != nil {
			return err
		}
		history, err := s.desk.HistoryProgress(ctx, m)
		if err != nil {
			return err
		}
		sayMailbox(lang, m)
		sayIntake(lang, intake)
		if history != nil {
			history.Error = i18n.Restore(lang, history.Error, history.ErrorI18n)
		}
		st := mailboxStatus{Mailbox: m, MailboxIntake: intake, Stuck: desk.MailboxStuck(m, now), History: history}
		st.Auth, st.OAuth = mailboxAuth(lang, oauths[m.ID])
		out = append(out, st)
	}
	return c.JSON(fiber.Map{"mailboxes": out, "oauth_redirect_url": s.oauthRedirectURL(c)})
}

func (s *Server) createMailbox(c *fiber.Ctx, _ *principal) error {
	in, err := decodeMailbox(c)
	if err != nil {
		return err
	}
	if in.Address == nil {
		return fieldErr("address", "address is empty")
	}
	m, err := s.desk.SaveMailbox(c.UserContext(), 0, in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

func (s *Server) updateMailbox(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	in, err := decodeMailbox(c)
	if err != nil {
		return err
	}
	m, err := s.desk.SaveMailbox(c.UserContext(), id, in)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// cancelHistory stops a mailbox's history import (what it imported
// stays) and answers the mailbox.
func (s *Server) cancelHistory(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	m, err := s.desk.CancelHistory(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(m)
}

// testMailbox logs in to the mailbox's IMAP and SMTP servers with its
// saved settings and answers {"ok": true} or {"ok": false, "error":
// "why", "field": "imap_host" or "smtp_host"}.
func (s *Server) testMailbox(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if _, err := s.db.Mailbox(c.UserContext(), id); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.UserContext(), 30*time.Second)
	defer cancel()
	if err := s.desk.TestAccount(ctx, "email", id); errors.Is(err, desk.ErrNoAccountSettings) {
		return &apiError{Status: fiber.StatusNotImplemented, Message: "testing mailboxes is not available in this build"}
	} else if err != nil {
		field := ""
		var fe interface{ TestField() string }
		if errors.As(err, &fe) {
			field = fe.TestField()
		}
		return c.JSON(fiber.Map{"ok": false, "error": i18n.SentenceOf(err).In(requestLanguage(c)), "field": field})
	}
	return c.JSON(fiber.Map{"ok": true})
}

// messageSource downloads the raw source of an inbound email.
func (s *Server) messageSource(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	raw, err := s.db.MessageSource(c.UserContext(), id)
	if err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "message/rfc822")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="message-`+itoa(id)+`.eml"`)
	c.Set("Content-Security-Policy", "sandbox; default-src 'none'")
	return c.Send(raw)
}
