package ui

import (
	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
)

// startTicket is POST /api/tickets with "direction": "outbound": the
// agent writes first, by email (to customer.email, or the customer's
// own address) or on WhatsApp by an approved template (to
// customer.phone), and the message leaves through the outbox.
func (s *Server) startTicket(c *fiber.Ctx, p *principal, in newTicket) error {
	if in.ExternalID != "" || len(in.Fields) > 0 {
		return fieldErr("external_id", "external_id and fields go with tickets made on the customer's behalf, not with a conversation an agent starts")
	}
	to := in.Customer.Email
	if in.Channel == "whatsapp" {
		to = in.Customer.Phone
	}
	t, _, err := s.desk.StartConversation(c.UserContext(), desk.AgentActor(p.agent.ID), desk.Start{
		Channel: in.Channel, StoreID: in.StoreID, CustomerID: in.CustomerID, To: to, Name: in.Customer.Name,
		Subject: in.Subject, Body: in.Body, MailboxID: in.MailboxID, AccountID: in.AccountID, Template: in.Template,
		Status: in.Status, Priority: in.Priority, Tags: in.Tags, TeamID: in.TeamID, AssigneeID: in.AssigneeID,
		NoSignature: in.Signature != nil && !*in.Signature,
	})
	if err != nil {
		if ie, ok := desk.IsInput(err); ok && ie.Field == "to" {
			field := "customer.email"
			if in.Channel == "whatsapp" {
				field = "customer.phone"
			}
			return &desk.InputError{Field: field, Message: ie.Message, Sentence: ie.Sentence}
		}
		return err
	}
	d, err := s.detail(c, t.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// callBody is a phone call to log: POST /api/calls (a new ticket) or
// POST /api/tickets/:id/calls.
type callBody struct {
	CustomerID int64        `json:"customer_id"`
	Customer   customerBody `json:"customer"`
	StoreID    *int64       `json:"store_id"`
	Subject    string       `json:"subject"`
	Direction  string       `json:"direction"`
	Duration   int          `json:"duration_s"`
	Outcome    string       `json:"outcome"`
	Notes      string       `json:"notes"`
	Status     string       `json:"status"`
	Priority   string       `json:"priority"`
	Tags       []string     `json:"tags"`
	TeamID     *int64       `json:"team_id"`
	AssigneeID *int64       `json:"assignee_id"`
}

func (b callBody) input() desk.CallInput {
	return desk.CallInput{CustomerID: b.CustomerID, Phone: b.Customer.Phone, Email: b.Customer.Email, Name: b.Customer.Name,
		StoreID: b.StoreID, Subject: b.Subject, Direction: b.Direction, Duration: b.Duration, Outcome: b.Outcome,
		Notes: b.Notes, Status: b.Status, Priority: b.Priority, Tags: b.Tags, TeamID: b.TeamID, AssigneeID: b.AssigneeID}
}

// logCall opens a ticket of channel phone for a call.
func (s *Server) logCall(c *fiber.Ctx, p *principal) error {
	var b callBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if err := s.checkNewTicket(c.UserContext(), p, &b.StoreID, b.CustomerID); err != nil {
		return err
	}
	t, _, err := s.desk.LogCall(c.UserContext(), desk.AgentActor(p.agent.ID), b.input())
	if err != nil {
		return prefixField(err, "customer.", "email", "phone", "customer")
	}
	d, err := s.detail(c, t.ID)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(d)
}

// logTicketCall logs a call on a ticket; it answers the call's message.
func (s *Server) logTicketCall(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b callBody
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.CustomerID != 0 || b.Customer.Email != "" || b.Customer.Phone != "" || b.Customer.Name != "" {
		return fieldErr("customer", "a call on a ticket is with the ticket's customer")
	}
	in := b.input()
	in.TicketID = id
	_, m, err := s.desk.LogCall(c.UserContext(), desk.AgentActor(p.agent.ID), in)
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(m)
}

// startOptions answers what an agent may start a conversation from.
func (s *Server) startOptions(c *fiber.Ctx, _ *principal) error {
	o, err := s.desk.StartOptions(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(o)
}
