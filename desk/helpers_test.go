package desk_test

import (
	"errors"
	"testing"

	"onedesk/desk/desktest"
	"onedesk/store"
)

// skipWithoutSearch skips a test at its first search where the engine has
// none yet (PostgreSQL's full text is being built).
func skipWithoutSearch(t *testing.T, err error) {
	t.Helper()
	if errors.Is(err, store.ErrNoSearch) {
		t.Skip(err)
	}
}

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
