package ui

import (
	"github.com/gofiber/fiber/v2"

	"onedesk/i18n"
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
