package ui

import (
	"net/http"

	"github.com/gofiber/fiber/v2"
)

// access is who may call a route.
type access int

const (
	public access = iota // anyone (rate limited by address)
	agent                // a logged-in agent or an API token
	admin                // an admin agent
)

type route struct {
	method  string
	path    string
	access  access
	handler func(c *fiber.Ctx, p *principal) error
}

// uploadRoutes take files (multipart/form-data, up to maxUploadBody,
// read into temporary files); every other route takes a JSON body.
var uploadRoutes = map[string]bool{"POST /api/tickets/:id/messages": true}

// routes is the whole HTTP surface with who may call each route, but for
// the static app and /widget.js (public) and what net/http serves beside
// Fiber (netRoutes).
func (s *Server) routes() []route {
	return []route{
		{"GET", "/healthz", public, s.healthz},
		{"GET", "/metrics", s.metricsAccess(), s.metrics}, // admin, or public with --metrics-public
		{"GET", "/api/backups", admin, s.listBackups},
		{"POST", "/api/backups", admin, s.startBackup},

		{"GET", "/api/setup", public, s.setupStatus},
		{"POST", "/api/setup", public, s.setup},
		{"POST", "/api/auth/login", public, s.login},
		{"POST", "/api/auth/logout", agent, s.logout},
		{"GET", "/api/me", agent, s.me},
		{"PATCH", "/api/me", agent, s.updateMe},
		{"PUT", "/api/me/presence", agent, s.setPresence},
		{"GET", "/api/me/handover", agent, s.myHandoverCount},
		{"POST", "/api/me/handover", agent, s.myHandover},

		{"GET", "/api/tokens", agent, s.listTokens},
		{"POST", "/api/tokens", agent, s.createToken},
		{"DELETE", "/api/tokens/:id", agent, s.deleteToken},

		{"GET", "/api/tickets", agent, s.listTickets},
		{"GET", "/api/views/unread", agent, s.unreadCounts},
		{"POST", "/api/tickets", agent, s.createTicket},
		{"POST", "/api/tickets/bulk", agent, s.bulkUpdate},
		{"GET", "/api/tickets/:id", agent, s.getTicket},
		{"PATCH", "/api/tickets/:id", agent, s.updateTicket},
		{"POST", "/api/tickets/:id/messages", agent, s.postMessage},
		{"POST", "/api/tickets/:id/template", agent, s.sendTemplate},
		{"POST", "/api/tickets/:id/calls", agent, s.logTicketCall},
		{"POST", "/api/calls", agent, s.logCall},
		{"GET", "/api/start-options", agent, s.startOptions},
		{"POST", "/api/tickets/:id/read", agent, s.markRead},
		{"POST", "/api/tickets/:id/typing", agent, s.agentTyping},
		{"POST", "/api/tickets/:id/merge", agent, s.mergeTickets},
		{"GET", "/api/tickets/:id/orders", agent, s.ticketOrders},
		{"POST", "/api/messages/:id/retry", agent, s.retryMessage},
		{"GET", "/api/messages/:id/html", agent, s.messageHTML},
		{"GET", "/api/attachments/:id", agent, s.attachment},

		{"GET", "/api/customers", agent, s.listCustomers},
		{"GET", "/api/customers/:id", agent, s.getCustomer},
		{"PATCH", "/api/customers/:id", agent, s.updateCustomer},
		{"POST", "/api/customers/:id/identities", agent, s.addIdentity},
		{"POST", "/api/customers/:id/merge", agent, s.mergeCustomers},
		{"POST", "/api/customers/:id/unmerge", agent, s.unmergeCustomer},
		{"POST", "/api/customers/:id/dismiss", agent, s.dismissSuggestion},
		{"GET", "/api/customers/:id/timeline", agent, s.customerTimeline},
		{"GET", "/api/customers/:id/orders", agent, s.customerOrders},
		{"GET", "/api/customers/:id/export", admin, s.exportCustomer},
		{"POST", "/api/customers/:id/erase", admin, s.eraseCustomer},
		{"GET", "/api/audit", admin, s.listAudit},

		{"GET", "/api/event-types", agent, s.eventTypes},
		{"GET", "/api/agents", agent, s.listAgents},
		{"POST", "/api/agents", admin, s.createAgent},
		{"PATCH", "/api/agents/:id", admin, s.updateAgent},
		{"GET", "/api/agents/:id/handover", admin, s.agentHandoverCount},
		{"POST", "/api/agents/:id/handover", admin, s.agentHandover},

		{"GET", "/api/teams", agent, s.listTeams},
		{"POST", "/api/teams", admin, s.createTeam},
		{"PATCH", "/api/teams/:id", admin, s.updateTeam},

		{"GET", "/api/mailboxes", admin, s.listMailboxes},
		{"POST", "/api/mailboxes", admin, s.createMailbox},
		{"PATCH", "/api/mailboxes/:id", admin, s.updateMailbox},
		{"POST", "/api/mailboxes/:id/test", admin, s.testMailbox},
		{"POST", "/api/mailboxes/:id/connect", admin, s.connectMailbox},
		{"GET", oauthCallbackPath, admin, s.oauthCallback},
		{"GET", "/api/messages/:id/source", agent, s.messageSource},

		{"GET", "/api/checklist", admin, s.getChecklist},
		{"POST", "/api/checklist/dismiss", admin, s.dismissChecklist},
		{"GET", "/api/settings", agent, s.getSettings},
		{"PATCH", "/api/settings", admin, s.updateSettings},

		{"GET", "/api/stores", agent, s.listStores},
		{"POST", "/api/stores", admin, s.createStore},
		{"PATCH", "/api/stores/:id", admin, s.updateStore},

		{"GET", "/api/forms", agent, s.listForms},
		{"POST", "/api/forms", admin, s.createForm},
		{"POST", "/api/forms/preview", admin, s.previewForm},
		{"GET", "/api/forms/:id", agent, s.getForm},
		{"PATCH", "/api/forms/:id", admin, s.updateForm},
		{"DELETE", "/api/forms/:id", admin, s.deleteForm},

		{"GET", "/api/rules", agent, s.listRules},
		{"POST", "/api/rules", admin, s.createRule},
		{"GET", "/api/rules/:id", agent, s.getRule},
		{"PATCH", "/api/rules/:id", admin, s.updateRule},
		{"DELETE", "/api/rules/:id", admin, s.deleteRule},

		{"GET", "/api/webhooks", admin, s.listWebhooks},
		{"POST", "/api/webhooks", admin, s.createWebhook},
		{"GET", "/api/webhooks/:id", admin, s.getWebhook},
		{"PATCH", "/api/webhooks/:id", admin, s.updateWebhook},
		{"DELETE", "/api/webhooks/:id", admin, s.deleteWebhook},
		{"POST", "/api/webhooks/:id/test", admin, s.testWebhook},
		{"GET", "/api/webhooks/:id/deliveries", admin, s.webhookDeliveries},

		{"GET", "/api/social-accounts", admin, s.listSocialAccounts},
		{"POST", "/api/social-accounts", admin, s.createSocialAccount},
		{"GET", "/api/social-accounts/:id", admin, s.getSocialAccount},
		{"PATCH", "/api/social-accounts/:id", admin, s.updateSocialAccount},
		{"DELETE", "/api/social-accounts/:id", admin, s.deleteSocialAccount},

		{"GET", "/api/reports/:name", agent, s.report},

		{"GET", "/api/sla-policies", agent, s.listSLAPolicies},
		{"POST", "/api/sla-policies", admin, s.createSLAPolicy},
		{"GET", "/api/sla-policies/:id", agent, s.getSLAPolicy},
		{"PATCH", "/api/sla-policies/:id", admin, s.updateSLAPolicy},
		{"DELETE", "/api/sla-policies/:id", admin, s.deleteSLAPolicy},

		{"GET", "/api/saved-replies", agent, s.listSavedReplies},
		{"POST", "/api/saved-replies", agent, s.createSavedReply},
		{"PATCH", "/api/saved-replies/:id", agent, s.updateSavedReply},
		{"DELETE", "/api/saved-replies/:id", agent, s.deleteSavedReply},
		{"POST", "/api/saved-replies/:id/render", agent, s.renderSavedReply},
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
// chat's /chat/ws, /chat/config, /chat/offline, /chat/upload and
// /chat/file (origin checked per store); the forms' /f/{slug}; Telegram's
// /hooks/telegram/{account id} (a secret per bot); WhatsApp's
// /hooks/whatsapp and Meta's /hooks/meta (GET: Meta's verify handshake;
// POST: X-Hub-Signature-256 checked with the app secret of the number or
// page each entry is for).
func (s *Server) netRoutes() []netRoute {
	list := []netRoute{{"/agent/ws", agent, http.HandlerFunc(s.agentWS)}}
	for _, ch := range s.opts.Channels {
		for _, r := range ch.Routes() {
			list = append(list, netRoute{r.Pattern, public, r.Handler})
		}
	}
	return list
}
