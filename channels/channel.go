// Package channels is what every channel is to the rest of onedesk; its
// sub-packages are the channels (email, chat, forms, telegram, whatsapp,
// meta) and what some of them share (social, graph, metahook).
//
// A channel turns the outside world into desk.Inbound values and the
// desk's replies (desk.Outbound, which carries all a sender needs) back
// into the outside world. Like ui, it writes through desk's methods only
// (their checks and events) and reads plain data straight from the store
// (desk.DB), never through a desk method that only forwards.
package channels

import (
	"context"
	"net/http"

	"onedesk/desk"
)

// Channel is one way customers reach the desk. Its New installs its
// sender and its account settings in the desk (desk.SetSender and
// desk.RegisterAccounts, or desk.RegisterSocial for a social platform,
// under the ticket channel it carries); cli then runs every channel in one
// loop and ui mounts its routes.
type Channel interface {
	// Name names the channel in logs and in the list of background work.
	Name() string
	// Send delivers one reply (desk.Sender).
	Send(ctx context.Context, out desk.Outbound) error
	// Run does the channel's background work (polling, queued webhook
	// deliveries, timers) until ctx ends.
	Run(ctx context.Context)
	// Routes are the HTTP endpoints the channel answers (nil: none).
	Routes() []Route
	// AccountSettings is its part in its accounts' settings: the ticket
	// channel they carry and a test of one against the outside world.
	desk.AccountSettings
}

// Route is an endpoint of a channel: an http.ServeMux pattern and the
// handler that answers it (which bounds its requests' bodies itself).
type Route struct {
	Pattern string
	Handler http.Handler
}
