package sla_test

import (
	"context"

	"onedesk/desk/desktest"
)

var ctx = context.Background()

// The helpers shared with the tests of desk.
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
	rulesOf      = desktest.Rules
	slaOf        = desktest.SLA
)
