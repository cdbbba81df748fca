package ui

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/audit"
	"onedesk/desk"
	"onedesk/store"
)

// POST /api/import: customers and tickets from another helpdesk (docs/import.md).
// Each customer and each ticket is its own write: one that is refused is
// reported by its index and field, and the rest land.

// Limits of one import request.
const (
	maxImportBody      = 25 << 20 // a batch with its files, as base64
	maxImportFile      = 10 << 20 // one file, decoded
	maxImportTickets   = 500
	maxImportCustomers = 2000
	importWorkers      = 4 // tickets imported at once
)

type importBody struct {
	Customers []json.RawMessage `json:"customers"`
	Tickets   []json.RawMessage `json:"tickets"`
}

type importCustomerBody struct {
	ExternalID string   `json:"external_id"`
	Name       string   `json:"name"`
	Email      string   `json:"email"`
	Emails     []string `json:"emails"`
	Phone      string   `json:"phone"`
	Phones     []string `json:"phones"`
	Notes      string   `json:"notes"`
	CreatedAt  string   `json:"created_at"`
}

type importPersonBody struct {
	ExternalID string `json:"external_id"`
	Email      string `json:"email"`
	Phone      string `json:"phone"`
	Name       string `json:"name"`
	Role       string `json:"role"`
}

type importFileBody struct {
	Filename    string `json:"filename"`
	ContentType string `json:"content_type"`
	Content     string `json:"content_base64"`
}

type importMessageBody struct {
	ExternalID  string           `json:"external_id"`
	Author      importPersonBody `json:"author"`
	Internal    bool             `json:"internal"`
	Body        string           `json:"body"`
	HTML        string           `json:"html"`
	CreatedAt   string           `json:"created_at"`
	Attachments []importFileBody `json:"attachments"`
}

type importTicketBody struct {
	ExternalID string              `json:"external_id"`
	Subject    string              `json:"subject"`
	Status     string              `json:"status"`
	Priority   string              `json:"priority"`
	Channel    string              `json:"channel"`
	StoreID    *int64              `json:"store_id"`
	Customer   importPersonBody    `json:"customer"`
	Assignee   string              `json:"assignee"` // an agent's email
	Tags       []string            `json:"tags"`
	Messages   []importMessageBody `json:"messages"`
}

// importItemError is one customer or ticket that was refused.
type importItemError struct {
	Index  int    `json:"index"`
	Error  string `json:"error"`
	Field  string `json:"field"`
	Status int    `json:"status"`
}

type importCounts struct {
	Created   int `json:"created"`
	Updated   int `json:"updated"`
	Unchanged int `json:"unchanged"`
	Failed    int `json:"failed"`
}

type importResult struct {
	Imported  int               `json:"imported"` // customers and tickets created or added to
	Skipped   int               `json:"skipped"`  // had nothing new
	Errors    []importItemError `json:"errors"`
	Customers importCounts      `json:"customers"`
	Tickets   importCounts      `json:"tickets"`
	Messages  struct {
		Added int `json:"added"`
		Known int `json:"known"`
	} `json:"messages"`
}

func (s *Server) importData(c *fiber.Ctx, p *principal) error {
	var b importBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if len(b.Tickets) > maxImportTickets {
		return fieldErr("tickets", "send at most %d tickets in one request", maxImportTickets)
	}
	if len(b.Customers) > maxImportCustomers {
		return fieldErr("customers", "send at most %d customers in one request", maxImportCustomers)
	}
	ctx := c.UserContext()
	res := importResult{Errors: []importItemError{}}
	fail := func(list string, i int, err error) {
		status, body := s.classify(c, err)
		field := fmt.Sprintf("%s[%d]", list, i)
		if body.Field != "" {
			field += "." + body.Field
		}
		res.Errors = append(res.Errors, importItemError{Index: i, Error: body.Error, Field: field, Status: status})
	}
	// Customers first: the tickets after them may name them.
	for i, raw := range b.Customers {
		in, err := importCustomerInput(raw)
		var done *desk.CustomerImported
		if err == nil {
			done, err = s.desk.ImportCustomer(ctx, in)
		}
		if err != nil {
			res.Customers.Failed++
			fail("customers", i, err)
			continue
		}
		switch done.Outcome {
		case desk.CustomerCreated:
			res.Customers.Created++
			res.Imported++
		case desk.CustomerUpdated:
			res.Customers.Updated++
			res.Imported++
		default:
			res.Customers.Unchanged++
			res.Skipped++
		}
	}
	// Several tickets at once: the writer commits what they write together
	// (one transaction each still, as savepoints of one commit).
	dones, errs := make([]*desk.TicketImported, len(b.Tickets)), make([]error, len(b.Tickets))
	next := make(chan int)
	var wg sync.WaitGroup
	for range importWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				in, err := importTicketInput(b.Tickets[i])
				if err == nil {
					dones[i], err = s.desk.ImportTicket(ctx, in)
				}
				errs[i] = err
			}
		}()
	}
	for i := range b.Tickets {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err // the caller went: what landed stays, and a rerun finds it
	}
	for i, done := range dones {
		if errs[i] != nil {
			res.Tickets.Failed++
			fail("tickets", i, errs[i])
			continue
		}
		res.Messages.Added += done.Added
		res.Messages.Known += done.Known
		switch {
		case done.Created:
			res.Tickets.Created++
			res.Imported++
		case done.Added > 0:
			res.Tickets.Updated++
			res.Imported++
		default:
			res.Tickets.Unchanged++
			res.Skipped++
		}
	}
	s.record(c, p, audit.ImportRan, "", map[string]any{
		"imported": res.Imported, "skipped": res.Skipped, "failed": len(res.Errors),
		"tickets": res.Tickets.Created + res.Tickets.Updated, "messages": res.Messages.Added,
	})
	return c.JSON(res)
}

func importCustomerInput(raw json.RawMessage) (desk.ImportedCustomer, error) {
	var b importCustomerBody
	if err := decodeJSON(raw, &b); err != nil {
		return desk.ImportedCustomer{}, err
	}
	in := desk.ImportedCustomer{ExternalID: b.ExternalID, Name: b.Name, Notes: b.Notes,
		Emails: append(nonBlank(b.Email), b.Emails...), Phones: append(nonBlank(b.Phone), b.Phones...)}
	var err error
	if b.CreatedAt != "" {
		in.CreatedAt, err = importTime("created_at", b.CreatedAt)
	}
	return in, err
}

func importTicketInput(raw json.RawMessage) (desk.ImportedTicket, error) {
	var b importTicketBody
	if err := decodeJSON(raw, &b); err != nil {
		return desk.ImportedTicket{}, err
	}
	in := desk.ImportedTicket{
		ExternalID: b.ExternalID, Subject: b.Subject, Status: b.Status, Priority: b.Priority,
		Channel: b.Channel, StoreID: b.StoreID, Customer: b.Customer.person(), AssigneeEmail: b.Assignee, Tags: b.Tags,
	}
	for i, m := range b.Messages {
		at := fmt.Sprintf("messages[%d]", i)
		created, err := importTime(at+".created_at", m.CreatedAt)
		if err != nil {
			return in, err
		}
		msg := desk.ImportedMessage{ExternalID: m.ExternalID, Author: m.Author.person(), Internal: m.Internal,
			Text: m.Body, HTML: m.HTML, CreatedAt: created}
		for j, f := range m.Attachments {
			a, err := importFile(fmt.Sprintf("%s.attachments[%d]", at, j), f)
			if err != nil {
				return in, err
			}
			msg.Attachments = append(msg.Attachments, a)
		}
		in.Messages = append(in.Messages, msg)
	}
	return in, nil
}

func (p importPersonBody) person() desk.ImportPerson {
	return desk.ImportPerson{ExternalID: p.ExternalID, Email: p.Email, Phone: p.Phone, Name: p.Name, Role: p.Role}
}

// importTime reads an RFC 3339 time.
func importTime(field, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, fieldErr(field, "%s is missing", field)
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return time.Time{}, fieldErr(field, "%s is not an RFC 3339 time (2024-01-31T09:30:00Z): %q", field, v)
	}
	return t, nil
}

// importFile decodes one file, refusing one past maxImportFile.
func importFile(field string, f importFileBody) (store.Attachment, error) {
	name := strings.TrimSpace(f.Filename)
	if name == "" {
		return store.Attachment{}, fieldErr(field+".filename", "the file needs a name")
	}
	if base64.StdEncoding.DecodedLen(len(f.Content)) > maxImportFile+2 {
		return store.Attachment{}, apiErr(fiber.StatusRequestEntityTooLarge, field, "%s is larger than %d MB", name, maxImportFile>>20)
	}
	data, err := base64.StdEncoding.DecodeString(f.Content)
	if err != nil {
		return store.Attachment{}, fieldErr(field+".content_base64", "the content of %s is not base64", name)
	}
	if len(data) > maxImportFile {
		return store.Attachment{}, apiErr(fiber.StatusRequestEntityTooLarge, field, "%s is larger than %d MB", name, maxImportFile>>20)
	}
	ct := strings.TrimSpace(f.ContentType)
	if ct == "" {
		ct = "application/octet-stream"
	}
	return store.Attachment{Filename: name, ContentType: ct, Data: data, Size: int64(len(data))}, nil
}

func nonBlank(v string) []string {
	if strings.TrimSpace(v) == "" {
		return nil
	}
	return []string{v}
}
