package ui

import (
	"bufio"
	"context"
	"strconv"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/audit"
	"onedesk/privacy"
)

// exportCustomer answers one ZIP of everything the desk holds about a
// customer (privacy.Export), streamed as it is written: its files are
// never held in memory whole. The export goes into the audit log once
// written, with its counts.
func (s *Server) exportCustomer(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	if _, err := s.db.Customer(ctx, id); err != nil {
		return err
	}
	// c is reused once the handler returns: the writer below, which runs
	// after, takes copies of what it needs.
	entry := s.auditEntry(c, p, audit.CustomerExport, audit.Target("customer", id), nil)
	c.Set(fiber.HeaderContentType, "application/zip")
	c.Set(fiber.HeaderContentDisposition, `attachment; filename="`+privacy.ExportName(id)+`"`)
	c.Set(fiber.HeaderCacheControl, "no-store")
	ctx = context.WithoutCancel(ctx)
	c.Context().SetBodyStreamWriter(func(w *bufio.Writer) {
		n, err := s.privacy.Export(ctx, id, w)
		if err != nil {
			// The answer has begun: the client gets a ZIP cut short, the
			// log the reason.
			s.log.Warn("customer export cut short", "customer", id, "err", err)
			entry.Data = map[string]any{"failed": true}
		} else {
			entry.Data = map[string]any{"tickets": n.Tickets, "files": n.Files, "bytes": n.Bytes}
		}
		s.auditLog.Record(ctx, entry)
	})
	return nil
}

// eraseCustomer erases a customer (privacy.Erase) once the body confirms
// which: {"confirm": "<their name, or one of their addresses>"}.
func (s *Server) eraseCustomer(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var in struct {
		Confirm string `json:"confirm"`
	}
	if err := decode(c, &in); err != nil {
		return err
	}
	cust, err := s.db.Customer(c.UserContext(), id)
	if err != nil {
		return err
	}
	if cust.MergedInto != nil {
		return apiErr(fiber.StatusConflict, "", "this customer was merged into customer %d: erase that one", *cust.MergedInto)
	}
	confirm := strings.TrimSpace(in.Confirm)
	ok := confirm != "" && (strings.EqualFold(confirm, strings.TrimSpace(cust.Name)) || confirm == strconv.FormatInt(id, 10))
	for _, ident := range cust.Identities {
		ok = ok || (confirm != "" && strings.EqualFold(confirm, ident.Value))
	}
	if !ok {
		return fieldErr("confirm", "type the customer's name or one of their addresses to confirm the erasure")
	}
	n, err := s.privacy.Erase(c.UserContext(), id)
	if err != nil {
		return err
	}
	s.record(c, p, audit.CustomerErase, audit.Target("customer", id), map[string]any{
		"customers": n.Customers, "tickets": n.Tickets, "messages": n.Messages,
		"attachments": n.Attachments, "files": n.Files, "identities": n.Identities,
	})
	return c.JSON(n)
}
