package ui

import (
	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// agentLanguageKey holds, in a request's locals, the signed-in agent's
// saved language.
const agentLanguageKey = "agent_language"

// requestLanguage is the language an answer is written in: the one the
// request asks for (the app sends the agent's choice as Accept-Language),
// else the signed-in agent's saved language, else English.
func requestLanguage(c *fiber.Ctx) string {
	if lang := i18n.Negotiate(c.Get(fiber.HeaderAcceptLanguage)); lang != "" {
		return lang
	}
	if lang, _ := c.Locals(agentLanguageKey).(string); i18n.Supported(lang) {
		return lang
	}
	return "en"
}

// sayDelivery writes a message's delivery error in lang, from its stored
// sentence (a remote server's own words stay as it wrote them).
func sayDelivery(lang string, m *store.Message) {
	if m.DeliveryErrorI18n != "" {
		m.DeliveryError = i18n.Restore(lang, m.DeliveryError, m.DeliveryErrorI18n)
	}
}

// sayMailbox writes a mailbox's last poll error in lang.
func sayMailbox(lang string, m *store.Mailbox) {
	if m.LastErrorI18n != "" {
		m.LastError = i18n.Restore(lang, m.LastError, m.LastErrorI18n)
	}
}

// sayFailed writes why each ticket of a many-ticket change was left as it
// was in lang.
func sayFailed(lang string, list []desk.Failed) {
	for i := range list {
		if !list[i].Sentence.IsZero() {
			list[i].Error = list[i].Sentence.In(lang)
		}
	}
}
