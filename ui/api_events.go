package ui

import (
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/store"
)

// eventTypes serves the one list of ticket event types and the one of
// customer event types to the app, keyed the way the app spells them
// (status_changed as StatusChanged), so the app names each through the
// list instead of repeating the string.
func (s *Server) eventTypes(c *fiber.Ctx, _ *principal) error {
	return c.JSON(fiber.Map{"event_types": typeKeys(store.EventTypes), "customer_event_types": typeKeys(store.CustomerEventTypes)})
}

func typeKeys[T ~string](types []T) map[string]T {
	keys := make(map[string]T, len(types))
	for _, typ := range types {
		var key strings.Builder
		for _, word := range strings.Split(string(typ), "_") {
			key.WriteString(strings.ToUpper(word[:1]) + word[1:])
		}
		keys[key.String()] = typ
	}
	return keys
}
