package desk

import (
	"slices"

	"onedesk/store"
)

// Permissions are the named things a role may do beyond reading the
// tickets and customers of the agent's stores, which every role may.
// Each route of the HTTP API names the one it needs (ui/routes.go).
const (
	PermTicketsReply        = "tickets.reply"         // reply to customers, send templates, open tickets, retry sends
	PermTicketsNote         = "tickets.note"          // add internal notes
	PermTicketsEdit         = "tickets.edit"          // status, priority, tags, taking a ticket; bulk edits
	PermTicketsAssignOthers = "tickets.assign_others" // assign to someone else, transfer to a team
	PermTicketsMerge        = "tickets.merge"         // merge tickets
	PermCustomersEdit       = "customers.edit"        // names, notes, identities of customers
	PermCustomersMerge      = "customers.merge"       // merge and unmerge customers
	PermCustomersExport     = "customers.export"      // a customer's data as a download (GDPR)
	PermReportsView         = "reports.view"          // the reports
	PermOrderActions        = "order_actions"         // refunds, cancellations... in the shop: admin and supervisor, granted to others one by one
	PermMacrosShared        = "macros.shared"         // add, change and delete the macros shared by the desk or a team
	PermSettingsTeam        = "settings.team"         // teams and their assignment
	PermSettingsRules       = "settings.rules"        // rules and SLA policies
	PermSettingsChannels    = "settings.channels"     // mailboxes, social accounts, forms, stores, webhooks
	PermSettingsDesk        = "settings.desk"         // desk settings, backups, metrics, the checklist
	PermAgentsManage        = "agents.manage"         // add agents, change their roles, stores and passwords
)

// Permissions lists every permission, in the order the app shows them.
var Permissions = []string{
	PermTicketsReply, PermTicketsNote, PermTicketsEdit, PermTicketsAssignOthers, PermTicketsMerge,
	PermCustomersEdit, PermCustomersMerge, PermCustomersExport, PermReportsView, PermOrderActions, PermMacrosShared,
	PermSettingsTeam, PermSettingsRules, PermSettingsChannels, PermSettingsDesk, PermAgentsManage,
}

// The built-in roles, from most to least: what a small shop needs
// without designing permission sets. "admin" and "agent" are the roles
// onedesk had before, and mean what they meant.
const (
	RoleAdmin      = "admin"      // everything, every store; the desk keeps at least one
	RoleSupervisor = "supervisor" // runs the floor: tickets, customers, reports, teams, rules
	RoleAgent      = "agent"      // works tickets and customers
	RoleLight      = "light"      // reads and writes internal notes, never to customers
)

// Roles lists the roles an agent can have.
var Roles = []string{RoleAdmin, RoleSupervisor, RoleAgent, RoleLight}

var agentPermissions = []string{
	PermTicketsReply, PermTicketsNote, PermTicketsEdit, PermTicketsAssignOthers, PermTicketsMerge,
	PermCustomersEdit, PermCustomersMerge, PermReportsView,
}

// Grantable are the permissions an admin may give one agent beyond their
// role: money moves with an order action, so an agent acts on orders
// only once trusted with it.
var Grantable = []string{PermOrderActions}

// grantRoles are the roles that may hold each grant. A light agent never
// writes to customers, so never moves their money either; admins and
// supervisors hold order actions by their role already.
var grantRoles = map[string][]string{PermOrderActions: {RoleAgent, RoleSupervisor, RoleAdmin}}

// MayHold tells whether an agent of role may be granted perm.
func MayHold(role, perm string) bool {
	return slices.Contains(Grantable, perm) && slices.Contains(grantRoles[perm], role)
}

var rolePermissions = map[string][]string{
	RoleAdmin:      Permissions,
	RoleSupervisor: append(slices.Clone(agentPermissions), PermOrderActions, PermCustomersExport, PermMacrosShared, PermSettingsTeam, PermSettingsRules),
	RoleAgent:      agentPermissions,
	RoleLight:      {PermTicketsNote},
}

// WorksIn tells whether an agent works in a ticket's store (nil: a ticket
// of no store, which only agents of every store see).
func WorksIn(a *store.Agent, storeID *int64) bool {
	return len(a.StoreIDs) == 0 || storeID != nil && slices.Contains(a.StoreIDs, *storeID)
}

// RolePermissions lists what a role may do (nothing for an unknown role).
func RolePermissions(role string) []string {
	return slices.Clone(rolePermissions[role])
}

// Can tells whether an agent with role may do perm.
func Can(role, perm string) bool {
	return slices.Contains(rolePermissions[role], perm)
}

// AgentPermissions lists what an agent may do: their role's permissions
// and their grants.
func AgentPermissions(a *store.Agent) []string {
	list := RolePermissions(a.Role)
	for _, g := range a.Grants {
		if MayHold(a.Role, g) && !slices.Contains(list, g) {
			list = append(list, g)
		}
	}
	return list
}

// AgentCan tells whether an agent may do perm: by their role, or by a
// grant of theirs that their role may hold (a grant kept from an older
// role counts for nothing).
func AgentCan(a *store.Agent, perm string) bool {
	return a != nil && (Can(a.Role, perm) || slices.Contains(a.Grants, perm) && MayHold(a.Role, perm))
}
