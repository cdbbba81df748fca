// Package channels is what every channel is to the rest of onedesk; its
// sub-packages are the channels (email, chat, forms, telegram, whatsapp,
// meta) and what some of them share (social, graph, metahook).
//
// A channel turns the outside world into desk.Inbound values and the
// desk's replies (desk.Outbound, which carries all a sender needs) back
// into the outside world. It reads and writes through desk's API only.
package channels

import (
	"context"
	"net/http"

	"onedesk/desk"
)

// Channel is one way customers reach the desk. Its New installs its
// sender in the desk (desk.SetSender, under each ticket channel it
// carries) and, for a social platform, the account settings it checks
// (desk.RegisterSocial); cli then runs every channel in one loop and
// mounts its routes.
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
}

// Route is an endpoint of a channel: an http.ServeMux pattern and the
// handler that answers it (which bounds its requests' bodies itself).
type Route struct {
	Pattern string
	Handler http.Handler
}
