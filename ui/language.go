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

// principalKey holds, in a request's locals, who is signed in (for what
// a response shows the viewer only: their reply signature).
const principalKey = "principal"

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

// sayMessage writes a message's delivery error and its notes on what could
// not be read in lang, from their stored sentences (a remote server's own
// words stay as it wrote them).
func sayMessage(lang string, m *store.Message) {
	if m.DeliveryErrorI18n != "" {
		m.DeliveryError = i18n.Restore(lang, m.DeliveryError, m.DeliveryErrorI18n)
	}
	m.Partial = sayPartial(lang, m.Partial, m.PartialI18n)
}

// sayPartial is a message's notes on what could not be read in lang, the
// English as stored when there are no stored sentences (older messages).
func sayPartial(lang, english, stored string) string {
	if notes := i18n.DecodeSentences(stored); len(notes) > 0 {
		return notes.In(lang)
	}
	return english
}

// sayIntake writes the notes of a mailbox's imports in lang.
func sayIntake(lang string, in *store.MailboxIntake) {
	if in.Last != nil {
		in.Last.Partial = sayPartial(lang, in.Last.Partial, in.Last.PartialI18n)
	}
	for i := range in.Partial {
		in.Partial[i].Partial = sayPartial(lang, in.Partial[i].Partial, in.Partial[i].PartialI18n)
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
