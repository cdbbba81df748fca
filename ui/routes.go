package ui

import (
	"net/http"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/store"
)

// access is who may call a route: anyone, any signed-in agent (what they
// read is still limited to their stores), or an agent whose role has a
// permission (desk/roles.go). A route under /api/tickets/:id,
// /api/messages/:id, /api/attachments/:id or /api/customers/:id also
// needs the ticket or customer to be in one of the agent's stores (see
// storeRule): others answer 404 as if it did not exist.
type access string

const (
	public access = "public" // anyone (rate limited by address)
	agent  access = "agent"  // a signed-in agent or an API token, any role
	admin  access = "admin"  // the admin role alone (prefer a permission)

	ticketsReply     access = desk.PermTicketsReply
	ticketsNote      access = desk.PermTicketsNote
	ticketsEdit      access = desk.PermTicketsEdit
	ticketsMerge     access = desk.PermTicketsMerge
	customersEdit    access = desk.PermCustomersEdit
	customersMerge   access = desk.PermCustomersMerge
	reportsView      access = desk.PermReportsView
	settingsTeam     access = desk.PermSettingsTeam
	settingsRules    access = desk.PermSettingsRules
	settingsChannels access = desk.PermSettingsChannels
	settingsDesk     access = desk.PermSettingsDesk
	agentsManage     access = desk.PermAgentsManage
	orderActions     access = desk.PermOrderActions
)

// allows tells whether a signed-in agent may call a route that needs a
// (by their role, or a permission granted to them).
func (a access) allows(ag *store.Agent) bool {
	switch a {
	case public, agent:
		return true
	case admin:
		return ag.Role == desk.RoleAdmin
	}
	return desk.AgentCan(ag, string(a))
}

type route struct {
	method  string
	path    string
	access  access
	handler func(c *fiber.Ctx, p *principal) error
}

// uploadRoutes take files (multipart/form-data, up to maxUploadBody,
// read into temporary files); every other route takes a JSON body.
var uploadRoutes = map[string]bool{
	"POST /api/tickets/:id/messages": true,
	"PUT /api/me/avatar":             true,
	"POST /api/help/images":          true,
}

// routes is the whole HTTP surface with who may call each route, but for
// the static app and /widget.js (public) and what net/http serves beside
// Fiber (netRoutes).
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz},
		{"POST", "/hooks/orders/:id", public, s.orderWebhook},
		{"GET", "/metrics", s.metricsAccess(), s.metrics}, // settings.desk, or public with --metrics-public
		{"GET", "/api/backups", settingsDesk, s.listBackups},
		{"POST", "/api/backups", settingsDesk, s.startBackup},

		{"GET", "/api/setup", public, s.setupStatus},
		{"POST", "/api/setup", public, s.setup},
		{"POST", "/api/auth/login", public, s.login},
		{"POST", "/api/auth/login/code", public, s.loginCode},
		{"POST", "/api/auth/password-reset", public, s.forgotPassword},
		{"POST", "/api/auth/password-reset/confirm", public, s.resetPassword},
		{"POST", "/api/auth/logout", agent, s.logout},
		{"GET", "/api/me", agent, s.me},
		{"PATCH", "/api/me", agent, s.updateMe},
		{"PUT", "/api/me/presence", agent, s.setPresence},
		{"PUT", "/api/me/avatar", agent, s.setMyAvatar},
		{"DELETE", "/api/me/avatar", agent, s.removeMyAvatar},
		{"GET", "/api/me/notifications", agent, s.myNotifications},
		{"PUT", "/api/me/notifications", agent, s.setMyNotifications},
		{"POST", "/api/me/push-subscriptions", agent, s.subscribePush},
		{"DELETE", "/api/me/push-subscriptions/:id", agent, s.unsubscribePush},
		{"POST", "/api/me/push-subscriptions/test", agent, s.testPush},
		{"GET", "/api/me/handover", agent, s.myHandoverCount},
		{"POST", "/api/me/handover", ticketsEdit, s.myHandover},
		{"GET", "/api/me/two-factor", agent, s.myTwoFactor},
		{"POST", "/api/me/two-factor/setup", agent, s.startTwoFactor},
		{"POST", "/api/me/two-factor/enable", agent, s.enableTwoFactor},
		{"POST", "/api/me/two-factor/recovery-codes", agent, s.newRecoveryCodes},
		{"POST", "/api/me/two-factor/disable", agent, s.disableTwoFactor},

		{"GET", "/api/tokens", agent, s.listTokens},
		{"POST", "/api/tokens", agent, s.createToken},
		{"DELETE", "/api/tokens/:id", agent, s.deleteToken},

		{"GET", "/api/tickets", agent, s.listTickets},
		{"GET", "/api/views/unread", agent, s.unreadCounts},
		{"POST", "/api/tickets", ticketsReply, s.createTicket},
		{"POST", "/api/tickets/bulk", ticketsEdit, s.bulkUpdate},
		{"GET", "/api/tickets/:id", agent, s.getTicket},
		{"GET", "/api/tickets/:id/csat", agent, s.ticketCSAT},
		{"PATCH", "/api/tickets/:id", ticketsEdit, s.updateTicket},
		{"POST", "/api/tickets/:id/messages", ticketsNote, s.postMessage},
		{"POST", "/api/tickets/:id/template", ticketsReply, s.sendTemplate},
		{"POST", "/api/tickets/:id/calls", ticketsReply, s.logTicketCall},
		{"POST", "/api/calls", ticketsReply, s.logCall},
		{"GET", "/api/start-options", agent, s.startOptions},
		{"POST", "/api/tickets/:id/read", agent, s.markRead},
		{"POST", "/api/tickets/:id/typing", agent, s.agentTyping},
		{"POST", "/api/tickets/:id/merge", ticketsMerge, s.mergeTickets},
		{"GET", "/api/tickets/:id/orders", agent, s.ticketOrders},
		{"GET", "/api/tickets/:id/order-actions", agent, s.orderActionHistory},
		{"POST", "/api/tickets/:id/order-actions/preview", orderActions, s.previewOrderAction},
		{"POST", "/api/tickets/:id/order-actions", orderActions, s.takeOrderAction},
		{"POST", "/api/messages/:id/retry", ticketsReply, s.retryMessage},
		{"GET", "/api/messages/:id/html", agent, s.messageHTML},
		{"GET", "/api/attachments/:id", agent, s.attachment},

		{"GET", "/api/customers", agent, s.listCustomers},
		{"POST", "/api/customers/import/preview", customersEdit, s.previewCustomersCSV},
		{"POST", "/api/customers/import", customersEdit, s.importCustomersCSV},
		{"GET", "/api/customers/:id", agent, s.getCustomer},
		{"PATCH", "/api/customers/:id", customersEdit, s.updateCustomer},
		{"POST", "/api/customers/:id/identities", customersEdit, s.addIdentity},
		{"POST", "/api/customers/:id/merge", customersMerge, s.mergeCustomers},
		{"POST", "/api/customers/:id/unmerge", customersMerge, s.unmergeCustomer},
		{"POST", "/api/customers/:id/dismiss", customersEdit, s.dismissSuggestion},
		{"GET", "/api/customers/:id/timeline", agent, s.customerTimeline},
		{"GET", "/api/customers/:id/orders", agent, s.customerOrders},
		{"GET", "/api/customers/:id/export", admin, s.exportCustomer},
		{"POST", "/api/customers/:id/erase", admin, s.eraseCustomer},
		{"GET", "/api/audit", admin, s.listAudit},
		{"POST", "/api/import", admin, s.importData},

		{"GET", "/api/event-types", agent, s.eventTypes},
		{"GET", "/api/agents", agent, s.listAgents},
		{"GET", "/api/roles", agent, s.listRoles},
		{"POST", "/api/agents", agentsManage, s.createAgent},
		{"PATCH", "/api/agents/:id", agentsManage, s.updateAgent},
		{"GET", "/api/agents/:id/handover", agentsManage, s.agentHandoverCount},
		{"POST", "/api/agents/:id/handover", agentsManage, s.agentHandover},
		{"DELETE", "/api/agents/:id/two-factor", agentsManage, s.resetAgentTwoFactor},

		{"GET", "/api/teams", agent, s.listTeams},
		{"POST", "/api/teams", settingsTeam, s.createTeam},
		{"PATCH", "/api/teams/:id", settingsTeam, s.updateTeam},

		{"GET", "/api/mailboxes", settingsChannels, s.listMailboxes},
		{"POST", "/api/mailboxes", settingsChannels, s.createMailbox},
		{"PATCH", "/api/mailboxes/:id", settingsChannels, s.updateMailbox},
		{"POST", "/api/mailboxes/:id/test", settingsChannels, s.testMailbox},
		{"POST", "/api/mailboxes/:id/connect", settingsChannels, s.connectMailbox},
		{"GET", oauthCallbackPath, settingsChannels, s.oauthCallback},
		{"POST", "/api/mailboxes/:id/history/cancel", settingsChannels, s.cancelHistory},
		{"GET", "/api/messages/:id/source", agent, s.messageSource},

		{"GET", "/api/checklist", settingsDesk, s.getChecklist},
		{"POST", "/api/checklist/dismiss", settingsDesk, s.dismissChecklist},
		{"GET", "/api/settings", agent, s.getSettings},
		{"PATCH", "/api/settings", settingsDesk, s.updateSettings},
		{"GET", "/api/settings/system-mail", settingsDesk, s.getSystemMail},
		{"PUT", "/api/settings/system-mail", settingsDesk, s.updateSystemMail},

		{"GET", "/api/stores", agent, s.listStores},
		{"POST", "/api/stores", settingsChannels, s.createStore},
		{"PATCH", "/api/stores/:id", settingsChannels, s.updateStore},
		{"GET", "/api/stores/:id/greetings", settingsChannels, s.listGreetings},
		{"PUT", "/api/stores/:id/greetings", settingsChannels, s.saveGreetings},
		{"GET", "/api/stores/:id/csat", settingsChannels, s.getCSATSettings},
		{"PUT", "/api/stores/:id/csat", settingsChannels, s.putCSATSettings},

		{"GET", "/api/forms", agent, s.listForms},
		{"POST", "/api/forms", settingsChannels, s.createForm},
		{"POST", "/api/forms/preview", settingsChannels, s.previewForm},
		{"GET", "/api/forms/:id", agent, s.getForm},
		{"PATCH", "/api/forms/:id", settingsChannels, s.updateForm},
		{"DELETE", "/api/forms/:id", settingsChannels, s.deleteForm},

		{"GET", "/api/rules", agent, s.listRules},
		{"POST", "/api/rules", settingsRules, s.createRule},
		{"GET", "/api/rules/:id", agent, s.getRule},
		{"PATCH", "/api/rules/:id", settingsRules, s.updateRule},
		{"DELETE", "/api/rules/:id", settingsRules, s.deleteRule},

		{"GET", "/api/webhooks", settingsChannels, s.listWebhooks},
		{"POST", "/api/webhooks", settingsChannels, s.createWebhook},
		{"GET", "/api/webhooks/:id", settingsChannels, s.getWebhook},
		{"PATCH", "/api/webhooks/:id", settingsChannels, s.updateWebhook},
		{"DELETE", "/api/webhooks/:id", settingsChannels, s.deleteWebhook},
		{"POST", "/api/webhooks/:id/test", settingsChannels, s.testWebhook},
		{"GET", "/api/webhooks/:id/deliveries", settingsChannels, s.webhookDeliveries},

		{"GET", "/api/social-accounts", settingsChannels, s.listSocialAccounts},
		{"POST", "/api/social-accounts", settingsChannels, s.createSocialAccount},
		{"GET", "/api/social-accounts/:id", settingsChannels, s.getSocialAccount},
		{"PATCH", "/api/social-accounts/:id", settingsChannels, s.updateSocialAccount},
		{"DELETE", "/api/social-accounts/:id", settingsChannels, s.deleteSocialAccount},

		{"GET", "/api/reports/:name", reportsView, s.report},

		{"GET", "/api/sla-policies", agent, s.listSLAPolicies},
		{"POST", "/api/sla-policies", settingsRules, s.createSLAPolicy},
		{"GET", "/api/sla-policies/:id", agent, s.getSLAPolicy},
		{"PATCH", "/api/sla-policies/:id", settingsRules, s.updateSLAPolicy},
		{"DELETE", "/api/sla-policies/:id", settingsRules, s.deleteSLAPolicy},

		{"GET", "/api/saved-replies", agent, s.listSavedReplies},
		{"POST", "/api/saved-replies", agent, s.createSavedReply},
		{"PATCH", "/api/saved-replies/:id", agent, s.updateSavedReply},
		{"DELETE", "/api/saved-replies/:id", agent, s.deleteSavedReply},
		{"POST", "/api/saved-replies/:id/render", agent, s.renderSavedReply},

		{"GET", "/api/help/categories", agent, s.listHelpCategories},
		{"POST", "/api/help/categories", settingsChannels, s.createHelpCategory},
		{"PATCH", "/api/help/categories/:id", settingsChannels, s.updateHelpCategory},
		{"DELETE", "/api/help/categories/:id", settingsChannels, s.deleteHelpCategory},
		{"GET", "/api/help/articles", agent, s.listHelpArticles},
		{"POST", "/api/help/articles", settingsChannels, s.createHelpArticle},
		{"GET", "/api/help/articles/:id", agent, s.getHelpArticle},
		{"PATCH", "/api/help/articles/:id", settingsChannels, s.updateHelpArticle},
		{"POST", "/api/help/articles/:id/publish", settingsChannels, s.publishHelpArticle},
		{"POST", "/api/help/articles/:id/unpublish", settingsChannels, s.unpublishHelpArticle},
		{"DELETE", "/api/help/articles/:id", settingsChannels, s.deleteHelpArticle},
		{"POST", "/api/help/preview", agent, s.previewHelp},
		{"POST", "/api/help/images", settingsChannels, s.uploadHelpImage},
		{"GET", "/api/help/report", reportsView, s.helpReport},
		// Macros: an agent manages their own; shared ones need macros.shared
		// (checked by the macros package on the macro saved).
		{"GET", "/api/macros", agent, s.listMacros},
		{"POST", "/api/macros", agent, s.createMacro},
		{"PATCH", "/api/macros/:id", agent, s.updateMacro},
		{"DELETE", "/api/macros/:id", agent, s.deleteMacro},
		{"POST", "/api/macros/:id/apply", ticketsEdit, s.applyMacro},
		{"POST", "/api/macros/:id/bulk", ticketsEdit, s.applyMacroBulk},
		{"POST", "/api/tickets/:id/snooze", ticketsEdit, s.snoozeTicket},
		{"DELETE", "/api/tickets/:id/snooze", ticketsEdit, s.wakeTicket},
		{"PATCH", "/api/messages/:id", ticketsReply, s.editScheduled},
		{"DELETE", "/api/messages/:id", ticketsReply, s.cancelScheduled},
	}
}

// netRoute is an endpoint net/http serves beside Fiber: an http.ServeMux
// pattern, who may call it, and the handler, which checks that itself.
type netRoute struct {
	pattern string
	access  access
	handler http.Handler
}

// netRoutes are the endpoints net/http serves beside Fiber: the agent
// websocket (agent: its session or token is checked on the upgrade), then
// every channel's endpoints as its Routes give them. Those are public:
// customers and platforms call them, and each channel bounds bodies,
// rate-limits by address and checks what it needs itself. Today: the
// chat's /chat/ws, /chat/config, /chat/offline, /chat/upload,
// /chat/file and /chat/greet (origin checked per store) and
// /chat/avatar/{key} (agents' pictures, for any page); the forms' /f/{slug}; Telegram's
// /hooks/telegram/{account id} (a secret per bot); WhatsApp's
// /hooks/whatsapp and Meta's /hooks/meta (GET: Meta's verify handshake;
// POST: X-Hub-Signature-256 checked with the app secret of the number or
// page each entry is for). Then the public pages (Options.Pages): the
// customer portal's /portal/ (package portal: sign-in links by email,
// sessions, CSRF and rate limits of its own).
func (s *Server) netRoutes() []netRoute {
	list := []netRoute{{"/agent/ws", agent, http.HandlerFunc(s.agentWS)}}
	for _, r := range s.help.Routes() { // the public help centre (package helpcentre)
		list = append(list, netRoute{r.Pattern, public, r.Handler})
	}
	for _, ch := range s.opts.Channels {
		for _, r := range ch.Routes() {
			list = append(list, netRoute{r.Pattern, public, r.Handler})
		}
	}
	for _, r := range s.opts.Pages {
		list = append(list, netRoute{r.Pattern, public, r.Handler})
	}
	if s.opts.CSAT != nil {
		list = append(list, netRoute{"/csat/", public, s.opts.CSAT.Handler()})
	}
	return list
}
