package ui

import (
	"context"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/store"
)

// can tells whether the agent's role has a permission (desk/roles.go).
func (p *principal) can(perm string) bool { return desk.AgentCan(p.agent, perm) }

// stores are the stores the agent works in; empty means every store.
func (p *principal) stores() []int64 { return p.agent.StoreIDs }

// limited tells whether the agent works in some stores only.
func (p *principal) limited() bool { return len(p.agent.StoreIDs) > 0 }

// seesStore tells whether the agent works in a ticket's store (id nil:
// a ticket of no store, which only agents of every store see).
func (p *principal) seesStore(id *int64) bool { return desk.WorksIn(p.agent, id) }

// forbidden is the answer to a role without the permission a request needs.
func forbidden(a access) error {
	if a == admin {
		return &apiError{Status: fiber.StatusForbidden, Message: "only an admin can do this"}
	}
	return apiErr(fiber.StatusForbidden, "", "your role may not do this: it needs the %s permission", string(a))
}

// need is forbidden(perm) unless the agent's role has it.
func (p *principal) need(perm string) error {
	if p.can(perm) {
		return nil
	}
	return forbidden(access(perm))
}

// storeRule is what a route's :id names, when it is a ticket, message,
// attachment or customer that must be in one of the agent's stores
// ("" for none).
func storeRule(path string) string {
	for _, r := range []struct{ prefix, kind string }{
		{"/api/tickets/:id", "ticket"},
		{"/api/messages/:id", "message"},
		{"/api/attachments/:id", "attachment"},
		{"/api/customers/:id", "customer"},
	} {
		if path == r.prefix || strings.HasPrefix(path, r.prefix+"/") {
			return r.kind
		}
	}
	return ""
}

// checkStoreRule answers 404 for a route's ticket, message, attachment or
// customer outside the agent's stores, as if it did not exist. An agent
// of every store pays nothing here.
func (s *Server) checkStoreRule(c *fiber.Ctx, p *principal, path string) error {
	kind := storeRule(path)
	if kind == "" || !p.limited() {
		return nil
	}
	id, err := paramID(c)
	if err != nil {
		return err
	}
	return s.visible(c.UserContext(), p, kind, id)
}

// visible is a not-found error unless the ticket, message, attachment or
// customer with that id is in one of the agent's stores.
func (s *Server) visible(ctx context.Context, p *principal, kind string, id int64) error {
	if !p.limited() {
		return nil
	}
	if kind == "customer" {
		ok, err := s.db.CustomerVisible(ctx, id, p.stores())
		if err != nil {
			return err
		}
		if !ok {
			return &store.NotFoundError{Thing: "customer", ID: id}
		}
		return nil
	}
	storeID, err := s.db.TicketStoreOf(ctx, kind, id)
	if err != nil {
		return err
	}
	if !p.seesStore(storeID) {
		return &store.NotFoundError{Thing: kind, ID: id}
	}
	return nil
}

// checkUpdate refuses what an update asks beyond the agent's role:
// giving tickets to someone else or to a team needs tickets.assign_others
// (taking them or letting them go, tickets.edit, which the route asks),
// and the new assignee must work in each ticket's store.
func (s *Server) checkUpdate(ctx context.Context, p *principal, ticketIDs []int64, u desk.Update) error {
	toOther := u.AssigneeID.Set && u.AssigneeID.Value != nil && *u.AssigneeID.Value != p.agent.ID
	if toOther || u.TeamID.Set {
		if err := p.need(desk.PermTicketsAssignOthers); err != nil {
			return err
		}
	}
	if !toOther {
		return nil
	}
	a, err := s.db.Agent(ctx, *u.AssigneeID.Value)
	if err != nil || len(a.StoreIDs) == 0 {
		return nil // a missing agent is the desk's to refuse
	}
	for _, id := range ticketIDs {
		storeID, err := s.db.TicketStoreOf(ctx, "ticket", id)
		if err != nil {
			return err
		}
		if !desk.WorksIn(a, storeID) {
			return fieldErr("assignee_id", "%s does not work in the store of ticket %d", a.Name, id)
		}
	}
	return nil
}

// checkNewTicket keeps a ticket an agent of some stores opens (or a call
// they log) in their stores: their only store when none is named, one of
// theirs else; and with a customer they can see (0: none named).
func (s *Server) checkNewTicket(ctx context.Context, p *principal, storeID **int64, customerID int64) error {
	if !p.limited() {
		return nil
	}
	if *storeID == nil && len(p.stores()) == 1 {
		id := p.stores()[0]
		*storeID = &id
	}
	if !p.seesStore(*storeID) {
		return fieldErr("store_id", "you work in some stores only: open the ticket in one of them")
	}
	if customerID != 0 {
		return s.visible(ctx, p, "customer", customerID)
	}
	return nil
}
