package social

import (
	"net/http"
	"strings"

	"onedesk/limit"
	"onedesk/netguard"
)

// Options configure a social channel; every platform takes the same.
type Options struct {
	// APIURL is the platform API's base URL; "" is the platform's own
	// (tests point it at a local server).
	APIURL string
	// PublicURL is where the desk is reached from outside: the webhook
	// address shown to the admin (and, for Telegram, an https URL makes
	// bots receive messages by webhook instead of long polling).
	PublicURL string
	// HTTP is the client for the platform's API and media; nil is one of
	// the channel's own.
	HTTP *http.Client
	// HookRate is how many webhook deliveries per second one account may
	// post (bursts of twice that); 0 is 1,000.
	HookRate float64
}

// Resolved are Options with their defaults filled in.
type Resolved struct {
	API       string
	PublicURL string // without a trailing /
	HTTP      *http.Client
	HookLimit *limit.Limiter // webhook deliveries per account
}

// Resolve fills in the defaults, defaultAPI being the platform's API.
func (o Options) Resolve(defaultAPI string) Resolved {
	r := Resolved{API: o.APIURL, PublicURL: strings.TrimRight(o.PublicURL, "/"), HTTP: o.HTTP}
	if r.API == "" {
		r.API = defaultAPI
	}
	if r.HTTP == nil {
		// No overall timeout: long polls and large media set their own
		// deadlines through their contexts. Connections go through
		// netguard: media URLs come in webhooks, and none may lead into
		// the desk's own network.
		r.HTTP = netguard.Default.Client(0)
	}
	rate := o.HookRate
	if rate == 0 {
		rate = 1000
	}
	r.HookLimit = limit.New(rate, int(max(2*rate, 1)))
	return r
}
