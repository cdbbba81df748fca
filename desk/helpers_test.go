package desk_test

import "onedesk/desk/desktest"

// The helpers shared with the tests of rules and sla.
var (
	newDesk      = desktest.New
	newDeskRaw   = desktest.NewRaw
	exec         = desktest.Exec
	email        = desktest.Email
	ptr          = desktest.Ptr
	ingest       = desktest.Ingest
	ticketEvents = desktest.TicketEvents
	events       = desktest.Events
	agent        = desktest.Agent
	ticket       = desktest.Ticket
	fieldOf      = desktest.FieldOf
	saveRule     = desktest.SaveRule
	cond         = desktest.Cond
	action       = desktest.Action
	ruleEvents   = desktest.RuleEvents
	savePolicy   = desktest.SavePolicy
)

var (
	rulesOf = desktest.Rules
	slaOf   = desktest.SLA
)
