package ui

import (
	"errors"
	"slices"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/orders"
	"onedesk/store"
)

func (s *Server) listCustomers(c *fiber.Ctx, p *principal) error {
	before, err := cursorParam(c)
	if err != nil {
		return err
	}
	list, err := s.desk.SearchCustomers(c.UserContext(), c.Query("q"), before, pageSize+1, p.stores()...)
	if err != nil {
		return err
	}
	list, next := page(list, func(x store.Customer) int64 { return x.ID })
	return c.JSON(fiber.Map{"customers": list, "next_cursor": next})
}

// getCustomer answers a customer's profile: identities, notes, tickets,
// events and who may be the same person. A customer merged away
// redirects to the one it was merged into.
func (s *Server) getCustomer(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	cust, err := s.db.Customer(ctx, id)
	if err != nil {
		return err
	}
	if cust.MergedInto != nil {
		return c.Redirect("/api/customers/"+itoa(*cust.MergedInto), fiber.StatusTemporaryRedirect)
	}
	tickets, _, err := s.db.ListTickets(ctx, store.TicketFilter{CustomerID: &id, Sort: "newest", Limit: 100, ViewerID: p.agent.ID,
		Stores: p.stores()})
	if err != nil {
		return err
	}
	events, err := s.db.CustomerEvents(ctx, id)
	if err != nil {
		return err
	}
	suggestions, err := s.db.Suggestions(ctx, id)
	if err != nil {
		return err
	}
	// Customers of other stores are not named to an agent of some stores.
	suggestions = slices.DeleteFunc(suggestions, func(sg store.Suggestion) bool {
		return s.visible(ctx, p, "customer", sg.CustomerID) != nil
	})
	return c.JSON(struct {
		*store.Customer
		Tickets     []store.Ticket        `json:"tickets"`
		Events      []store.CustomerEvent `json:"events"`
		Suggestions []store.Suggestion    `json:"suggestions"`
	}{cust, tickets, events, suggestions})
}

func (s *Server) updateCustomer(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b struct {
		Name  *string `json:"name"`
		Notes *string `json:"notes"`
	}
	if err := decode(c, &b); err != nil {
		return err
	}
	cust, err := s.desk.UpdateCustomer(c.UserContext(), id, desk.CustomerInput{Name: b.Name, Notes: b.Notes})
	if err != nil {
		return err
	}
	return c.JSON(cust)
}

type identityBody struct {
	Kind  string `json:"kind"`
	Value string `json:"value"`
}

func (s *Server) addIdentity(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b identityBody
	if err := decode(c, &b); err != nil {
		return err
	}
	cust, err := s.desk.AddIdentity(c.UserContext(), id, b.Kind, b.Value, desk.AgentActor(p.agent.ID))
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(cust)
}

// mergeCustomers merges customer_id into :id.
func (s *Server) mergeCustomers(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b struct {
		CustomerID int64 `json:"customer_id"`
	}
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.CustomerID <= 0 {
		return fieldErr("customer_id", "name the customer to merge into this one")
	}
	if err := s.visible(c.UserContext(), p, "customer", b.CustomerID); err != nil {
		return err
	}
	m, err := s.desk.MergeCustomers(c.UserContext(), id, b.CustomerID, desk.AgentActor(p.agent.ID))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) unmergeCustomer(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b identityBody
	if err := decode(c, &b); err != nil {
		return err
	}
	m, err := s.desk.UnmergeIdentity(c.UserContext(), id, store.Identity{Kind: b.Kind, Value: b.Value}, desk.AgentActor(p.agent.ID))
	if err != nil {
		return err
	}
	return c.JSON(m)
}

func (s *Server) dismissSuggestion(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b struct {
		CustomerID int64 `json:"customer_id"`
		identityBody
	}
	if err := decode(c, &b); err != nil {
		return err
	}
	if err := s.desk.DismissSuggestion(c.UserContext(), id, b.CustomerID, store.Identity{Kind: b.Kind, Value: b.Value}, desk.AgentActor(p.agent.ID)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}

// customerTimeline pages through every message of a customer's tickets,
// newest first.
func (s *Server) customerTimeline(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	before, err := cursorParam(c)
	if err != nil {
		return err
	}
	list, err := s.db.CustomerTimeline(c.UserContext(), id, before, pageSize+1, p.stores()...)
	if err != nil {
		return err
	}
	list, next := page(list, func(x store.TimelineItem) int64 { return x.ID })
	lang := requestLanguage(c)
	for i := range list {
		sayMessage(lang, &list[i].Message)
	}
	return c.JSON(fiber.Map{"items": list, "next_cursor": next})
}

// ticketOrders answers the orders beside a ticket: {"orders": [...]},
// with "not_configured" when the store has no order lookup, or a 502
// with the shop's failure in plain words.
//
// With the orders come what the order panel needs to act on them:
// "actions" (those the store's platform allows, when the agent may act),
// "platform" and "history" (the ticket's order actions, newest first).
func (s *Server) ticketOrders(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	ctx := c.UserContext()
	list, err := s.desk.TicketOrders(ctx, id)
	if err != nil {
		return ordersAnswer(c, list, err)
	}
	actions := []string{}
	if p.can(desk.PermOrderActions) {
		if actions, err = s.opts.OrderActions.Available(ctx, id); err != nil {
			return err
		}
	}
	history, err := s.opts.OrderActions.History(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"orders": list, "actions": actions, "history": history})
}

func (s *Server) customerOrders(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	storeID, err := queryID(c, "store")
	if err != nil {
		return err
	}
	if storeID == nil {
		return fieldErr("store", "name the store whose orders to look up (?store=ID)")
	}
	list, err := s.desk.CustomerOrders(c.UserContext(), id, *storeID)
	return ordersAnswer(c, list, err)
}

func ordersAnswer(c *fiber.Ctx, list []orders.Order, err error) error {
	var oe *orders.Error
	switch {
	case errors.Is(err, desk.ErrNoOrders):
		return c.JSON(fiber.Map{"orders": []orders.Order{}, "not_configured": true})
	case errors.As(err, &oe):
		return &apiError{Status: fiber.StatusBadGateway, Message: oe.Message, Sentence: oe.Sentence()}
	case err != nil:
		return err
	}
	return c.JSON(fiber.Map{"orders": list})
}

func (s *Server) mergeTickets(c *fiber.Ctx, p *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	var b struct {
		TicketID int64 `json:"ticket_id"`
	}
	if err := decode(c, &b); err != nil {
		return err
	}
	if b.TicketID <= 0 {
		return fieldErr("ticket_id", "name the ticket to merge into this one")
	}
	if err := s.visible(c.UserContext(), p, "ticket", b.TicketID); err != nil {
		return err
	}
	if err := s.desk.MergeTickets(c.UserContext(), id, b.TicketID, desk.AgentActor(p.agent.ID)); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusNoContent)
}
