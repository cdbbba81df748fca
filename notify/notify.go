// Package notify tells agents what needs them when they are not looking:
// Web Push to each device they turned it on for (RFC 8030 with VAPID,
// RFC 8292, payloads encrypted per RFC 8291 by
// github.com/SherClockHolmes/webpush-go), and an email digest of the
// mentions and assignments they missed while away. Each agent chooses
// per kind and channel, with quiet hours in their time zone; the app
// plays their chosen sound itself.
//
// It sits beside the desk like the webhooks: it keeps its own cursor over
// the ticket events and messages (ids grow in commit order), woken by the
// desk's one subscription to committed events, and turns what is new into
// queued pushes and digest items in one transaction with the cursor move:
// nothing is lost in a crash, and a restart goes on from the cursor. What
// is not an event (an SLA about to breach) comes through the desk's hook
// point, written in the transaction that found it. One node does this
// work on PostgreSQL (cli runs it under a lease).
//
// Away: an agent is away when no tab of the app is open and visible on
// any device (no connected socket, or every one of them hidden: another
// tab in front, the window minimized, the phone locked). The open app
// shows what happens itself; "always" pushes to the agent's devices
// anyway.
package notify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/SherClockHolmes/webpush-go"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/metrics"
	"onedesk/netguard"
	"onedesk/store"
)

// Tuning.
const (
	pushTTL        = 24 * 60 * 60 // seconds a push service keeps an undelivered message
	pushTimeout    = 15 * time.Second
	pushAttempts   = 5                // tries of one push before it is dropped
	pushRetryBase  = 10 * time.Second // then doubling
	pushBatch      = 100
	collectBatch   = 200
	poll           = 5 * time.Second
	debounce       = 100 * time.Millisecond
	mailRetry      = 5 * time.Minute
	mailKeep       = 3 * 24 * time.Hour // digest items older than this are dropped unsent
	maxDevices     = 20                 // per agent
	maxEndpointLen = 2000
	maxKeyLen      = 200
)

// Options configure a Notifier.
type Options struct {
	// PublicURL is the app's address, for links in pushes and mail and
	// the VAPID subject ("" : links are relative).
	PublicURL string
	// Present tells whether an agent has the app open and visible
	// (nil: never, everyone is away).
	Present func(agentID int64) bool
	// Client sends pushes (nil: through netguard, as every outbound call).
	Client webpush.HTTPClient
}

// Notifier sends the agents' notifications.
type Notifier struct {
	d    *desk.Desk
	db   *store.DB
	log  *slog.Logger
	opts Options
	wake chan struct{}

	keyMu         sync.Mutex
	public, priv  string
	pushes, mails *metrics.CounterVec
	mailWait      map[int64]time.Time // agent → next try of a failed digest
	mu            sync.Mutex
}

// New returns the notifier of d, plugged into its ticket changes (for
// an SLA about to breach). Add it before the desk takes work.
func New(d *desk.Desk, log *slog.Logger, opts Options) *Notifier {
	if opts.Client == nil {
		opts.Client = netguard.Default.Client(pushTimeout)
	}
	n := &Notifier{d: d, db: d.DB(), log: log, opts: opts, wake: make(chan struct{}, 1),
		pushes: metrics.NewCounterVec("outcome"), mails: metrics.NewCounterVec("outcome"), mailWait: map[int64]time.Time{}}
	d.AddTxHook(n)
	return n
}

// SetPresent sets how presence is told (the server is made after the
// notifier).
func (n *Notifier) SetPresent(f func(agentID int64) bool) {
	n.mu.Lock()
	n.opts.Present = f
	n.mu.Unlock()
}

// SetPublicURL sets the app's address for links (known once listening).
func (n *Notifier) SetPublicURL(u string) {
	n.mu.Lock()
	n.opts.PublicURL = u
	n.mu.Unlock()
}

func (n *Notifier) publicURL() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.opts.PublicURL
}

func (n *Notifier) present(agentID int64) bool {
	n.mu.Lock()
	f := n.opts.Present
	n.mu.Unlock()
	return f != nil && f(agentID)
}

// Collect writes the notifier's metrics.
func (n *Notifier) Collect(w *metrics.Writer) {
	n.pushes.Write(w, "onedesk_push_sent_total", "Web Push messages, by outcome (sent, retry, gone: device removed, failed: given up).")
	n.mails.Write(w, "onedesk_notify_digests_total", "Notification digests mailed to agents, by outcome.")
}

// ---- The hook point: what is not an event

// TicketChanged records an SLA about to breach for the notifier.
func (n *Notifier) TicketChanged(ctx context.Context, c *desk.TicketTx, trigger string) error {
	if trigger == "sla_at_risk" {
		if err := c.Tx.AddNotifySignal(ctx, KindSLARisk, c.Ticket.ID, c.Now); err != nil {
			return err
		}
		n.wakeUp()
	}
	return nil
}

// TicketSaving does nothing: the notifier acts on committed changes.
func (n *Notifier) TicketSaving(context.Context, *desk.TicketTx) error { return nil }

// ---- VAPID keys

// PublicKey is the desk's VAPID public key (base64url, uncompressed
// P-256 point), which a browser needs to subscribe; made and kept on
// first use.
func (n *Notifier) PublicKey(ctx context.Context) (string, error) {
	pub, _, err := n.keys(ctx)
	return pub, err
}

// keys reads the key pair, making one on the first start.
func (n *Notifier) keys(ctx context.Context) (string, string, error) {
	n.keyMu.Lock()
	defer n.keyMu.Unlock()
	if n.public != "" {
		return n.public, n.priv, nil
	}
	pub, priv, err := n.db.VAPIDKeys(ctx)
	if errors.Is(err, store.ErrNotFound) {
		newPriv, newPub, gerr := webpush.GenerateVAPIDKeys()
		if gerr != nil {
			return "", "", fmt.Errorf("make VAPID keys: %w", gerr)
		}
		pub, priv, err = n.db.InitVAPIDKeys(ctx, newPub, newPriv)
	}
	if err != nil {
		return "", "", fmt.Errorf("VAPID keys: %w", err)
	}
	n.public, n.priv = pub, priv
	return pub, priv, nil
}

// Start makes the VAPID keys if the desk has none yet, so that the first
// start makes them rather than the first subscription.
func (n *Notifier) Start(ctx context.Context) error {
	_, _, err := n.keys(ctx)
	return err
}

// ---- Devices

// Subscription is a browser's push subscription as the Push API gives it.
type Subscription struct {
	Endpoint string `json:"endpoint"`
	Keys     struct {
		P256dh string `json:"p256dh"`
		Auth   string `json:"auth"`
	} `json:"keys"`
	Device string `json:"device"` // what the agent calls the device ("Phone")
}

// Subscribe keeps a device of an agent. The endpoint is the push
// service's URL: it must be https (or http on a desk that may reach
// private networks: tests, a LAN) and lead to a public host.
func (n *Notifier) Subscribe(ctx context.Context, agentID int64, s Subscription) (*store.PushSubscription, error) {
	u, err := url.Parse(s.Endpoint)
	switch {
	case s.Endpoint == "" || len(s.Endpoint) > maxEndpointLen:
		return nil, desk.InputErrorf("endpoint", "a push subscription needs its endpoint (up to %d characters)", maxEndpointLen)
	case err != nil || u.Host == "" || (u.Scheme != "https" && !(u.Scheme == "http" && netguard.PrivateNetworksAllowed())):
		return nil, desk.InputErrorf("endpoint", "the endpoint must be an https:// address")
	case s.Keys.P256dh == "" || len(s.Keys.P256dh) > maxKeyLen:
		return nil, desk.InputErrorf("keys.p256dh", "the subscription's p256dh key is missing")
	case s.Keys.Auth == "" || len(s.Keys.Auth) > maxKeyLen:
		return nil, desk.InputErrorf("keys.auth", "the subscription's auth secret is missing")
	}
	if err := desk.CheckOutboundHost(ctx, "endpoint", u.Hostname()); err != nil {
		return nil, err
	}
	list, err := n.db.PushSubscriptions(ctx, agentID)
	if err != nil {
		return nil, err
	}
	known := false
	for _, d := range list {
		known = known || d.Endpoint == s.Endpoint
	}
	if !known && len(list) >= maxDevices {
		return nil, desk.InputErrorf("endpoint", "you have %d devices with push already, the most there can be: remove one first", maxDevices)
	}
	device := strings.Join(strings.Fields(s.Device), " ")
	if utf8.RuneCountInString(device) > 100 {
		device = string([]rune(device)[:100])
	}
	sub := &store.PushSubscription{AgentID: agentID, Endpoint: s.Endpoint, P256dh: s.Keys.P256dh, Auth: s.Keys.Auth,
		Device: device, CreatedAt: store.Now()}
	if err := n.db.SavePushSubscription(ctx, sub); err != nil {
		return nil, err
	}
	return sub, nil
}

// Devices lists an agent's devices.
func (n *Notifier) Devices(ctx context.Context, agentID int64) ([]*store.PushSubscription, error) {
	list, err := n.db.PushSubscriptions(ctx, agentID)
	if list == nil {
		list = []*store.PushSubscription{}
	}
	return list, err
}

// Unsubscribe removes an agent's device by id or endpoint.
func (n *Notifier) Unsubscribe(ctx context.Context, agentID, id int64, endpoint string) error {
	ok, err := n.db.DeletePushSubscription(ctx, agentID, id, endpoint)
	if err == nil && !ok {
		return fmt.Errorf("push subscription: %w", store.ErrNotFound)
	}
	return err
}

// Test queues a test push to each of an agent's devices, now.
func (n *Notifier) Test(ctx context.Context, a *store.Agent) (int, error) {
	list, err := n.db.PushSubscriptions(ctx, a.ID)
	if err != nil {
		return 0, err
	}
	if len(list) == 0 {
		return 0, desk.InputErrorf("endpoint", "no device of yours takes push yet: turn it on on this device first")
	}
	p := payload{Kind: "test", Title: i18n.S("onedesk notifications work").In(a.Language),
		Body: i18n.S("This device will tell you what needs you.").In(a.Language), URL: n.link(0), Tag: "test"}
	now := store.Now()
	err = n.db.Write(ctx, func(tx *store.Tx) error {
		for _, s := range list {
			if err := tx.QueuePush(ctx, s.ID, 0, p.json(), "", now); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		n.wakeUp()
	}
	return len(list), err
}

// ---- Preferences

// Prefs reads an agent's preferences.
func (n *Notifier) Prefs(ctx context.Context, agentID int64) (Prefs, error) {
	raw, err := n.db.AgentNotifyPrefs(ctx, agentID)
	if err != nil {
		return Prefs{}, err
	}
	return parsePrefs(raw), nil
}

// SetPrefs checks and keeps an agent's preferences (kinds left out keep
// their defaults).
func (n *Notifier) SetPrefs(ctx context.Context, agentID int64, p Prefs) (Prefs, error) {
	if err := p.Check(); err != nil {
		return Prefs{}, err
	}
	full := Defaults()
	for k, c := range p.Events {
		full.Events[k] = c
	}
	p.Events = full.Events
	raw, err := jsonText(p)
	if err != nil {
		return Prefs{}, err
	}
	return p, n.db.SetNotifyPrefs(ctx, agentID, raw)
}

func (n *Notifier) wakeUp() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// link is the app's address of a ticket (0: the inbox).
func (n *Notifier) link(ticketID int64) string {
	base := strings.TrimRight(n.publicURL(), "/") + "/"
	if ticketID == 0 {
		return base
	}
	return fmt.Sprintf("%s#/open/t/%d", base, ticketID)
}
