// Package webhooks posts JSON to an integration's URL when tickets are
// created or change and when messages are written, and when a rule says
// so. It sits beside the desk: it hears of commits through the desk's one
// subscription (desk.Desk.Committed), and the desk does not know it.
//
// Nothing is added to the writes that make tickets and messages: a
// dispatcher keeps a cursor over the ticket events and messages tables
// (whose ids grow in commit order: one writer, no deletes) and, in one
// transaction, turns the rows past it into webhook_deliveries for the
// webhooks that subscribe and moves the cursor. A crash before that
// commit redoes it; after, the deliveries are on disk. Deliveries are
// sent outside any transaction and their outcome recorded after, so a
// crash in between sends one again (receivers dedupe by its id) rather
// than never.
//
// Webhooks are served in parallel, each one's deliveries in order: the
// oldest waits for its retry and the rest wait behind it. A failed post is
// tried again after 10 s, doubling up to an hour, until it is a day old;
// then it fails, with those behind it that are a day old too.
package webhooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/metrics"
	"onedesk/store"
)

// Events are the events a webhook can subscribe to. "ping" (a test) and
// "rule.webhook" (a rule's action) go to the webhook they name whatever
// it subscribes to.
var Events = []string{"ticket.created", "ticket.updated", "message.created", "ticket.rated"}

// Webhook delivery tuning.
const (
	hookTimeout    = 10 * time.Second
	hookRetryBase  = 10 * time.Second
	hookRetryMax   = time.Hour
	hookRetryFor   = 24 * time.Hour
	hookKeep       = 14 * 24 * time.Hour // finished deliveries are shown this long
	hookBatch      = 200                 // events and messages per cursor step
	hookWorkers    = 16                  // webhooks posting at once
	hookPoll       = 5 * time.Second     // look for new rows at least this often
	hookDebounce   = 200 * time.Millisecond
	maxWebhooks    = 100
	maxHookURL     = 2000
	hookSecretSize = 32 // bytes of a generated secret
)

// Hooks manages the webhooks of one database and posts their deliveries.
type Hooks struct {
	db    *store.DB
	log   *slog.Logger
	wake  chan struct{}       // the dispatcher looks now
	posts *metrics.CounterVec // posts, by outcome
}

// New returns the webhooks over db.
func New(db *store.DB, log *slog.Logger) *Hooks {
	return &Hooks{db: db, log: log, wake: make(chan struct{}, 1), posts: metrics.NewCounterVec("outcome")}
}

// Collect writes the webhooks' metrics.
func (h *Hooks) Collect(w *metrics.Writer) {
	h.posts.Write(w, "onedesk_webhook_posts_total", "Webhook posts, by outcome (delivered, retry, failed: given up).")
}

// ---- Managing webhooks

// Input creates or edits a webhook; nil fields keep what it has. A new
// webhook without a secret gets a generated one; RotateSecret makes a new
// one.
type Input struct {
	Name         *string
	URL          *string
	Events       *[]string
	Enabled      *bool
	Secret       *string
	RotateSecret bool
}

// Save creates (id 0) or edits a webhook. It returns the secret when it
// made one (or was given one on create), for the caller to show once; ""
// otherwise.
func (h *Hooks) Save(ctx context.Context, id int64, in Input) (*store.Webhook, string, error) {
	if id == 0 {
		all, err := h.db.Webhooks(ctx)
		if err != nil {
			return nil, "", err
		}
		if len(all) >= maxWebhooks {
			return nil, "", inputErr("name", "there are %d webhooks already, the most there can be", maxWebhooks)
		}
	}
	if in.URL != nil {
		// Checked before the write, so DNS is not waited on holding the writer.
		if u, err := url.Parse(strings.TrimSpace(*in.URL)); err == nil && u.Hostname() != "" {
			if err := desk.CheckOutboundHost(ctx, "url", u.Hostname()); err != nil {
				return nil, "", err
			}
		}
	}
	var w *store.Webhook
	var shown string
	err := h.db.Write(ctx, func(tx *store.Tx) error {
		now := store.Now()
		if id == 0 {
			w = &store.Webhook{Enabled: true, Events: []string{}, CreatedAt: now}
		} else {
			var err error
			if w, err = tx.Webhook(ctx, id); err != nil {
				return err
			}
		}
		shown = apply(w, in, id == 0)
		if err := checkWebhook(w); err != nil {
			return err
		}
		w.UpdatedAt = now
		return tx.SaveWebhook(ctx, w)
	})
	if err != nil {
		return nil, "", err
	}
	return w, shown, nil
}

// apply puts what in sets into w, and returns the secret to show: one
// made now, or given on create.
func apply(w *store.Webhook, in Input, create bool) (shown string) {
	if in.Name != nil {
		w.Name = cleanLine(*in.Name)
	}
	if in.URL != nil {
		w.URL = strings.TrimSpace(*in.URL)
	}
	if in.Events != nil {
		w.Events = *in.Events
	}
	if in.Enabled != nil {
		w.Enabled = *in.Enabled
	}
	if in.Secret != nil && *in.Secret != "" {
		w.Secret = *in.Secret
		if create {
			shown = w.Secret
		}
	}
	if w.Secret == "" || in.RotateSecret {
		w.Secret = newHookSecret()
		shown = w.Secret
	}
	return shown
}

func newHookSecret() string {
	b := make([]byte, hookSecretSize)
	rand.Read(b)
	return "whsec_" + hex.EncodeToString(b)
}

func checkWebhook(w *store.Webhook) error {
	if w.Name == "" || utf8.RuneCountInString(w.Name) > 100 {
		return inputErr("name", "a webhook needs a name of at most 100 characters")
	}
	u, err := url.Parse(w.URL)
	switch {
	case w.URL == "":
		return inputErr("url", "url is empty")
	case len(w.URL) > maxHookURL:
		return inputErr("url", "url is longer than %d characters", maxHookURL)
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "":
		return inputErr("url", "%q is not an http:// or https:// address", w.URL)
	case u.Fragment != "":
		return inputErr("url", "the address has a #fragment, which is never sent: leave it out")
	}
	var events []string
	for _, e := range w.Events {
		if !slices.Contains(Events, e) {
			return inputErr("events", "%s must be one of %v, not %q", "events", Events, e)
		}
		if !slices.Contains(events, e) {
			events = append(events, e)
		}
	}
	w.Events = events
	if w.Events == nil {
		w.Events = []string{}
	}
	if n := len(w.Secret); n < 16 || n > 200 {
		return inputErr("secret", "a secret has 16 to 200 characters")
	}
	for _, r := range w.Secret {
		if r <= ' ' || r > '~' {
			return inputErr("secret", "a secret is letters, digits and punctuation, without spaces")
		}
	}
	return nil
}

// Delete removes a webhook with its deliveries. Rules that name it skip
// that action from then on.
func (h *Hooks) Delete(ctx context.Context, id int64) error {
	return h.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteWebhook(ctx, id) })
}

// Deliveries lists a webhook's latest deliveries, newest first.
func (h *Hooks) Deliveries(ctx context.Context, id int64, limit int) ([]*store.Delivery, error) {
	if _, err := h.db.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return h.db.Deliveries(ctx, id, limit)
}

// Test queues a "ping" delivery to a webhook.
func (h *Hooks) Test(ctx context.Context, id int64) (*store.Delivery, error) {
	var dl *store.Delivery
	err := h.db.Write(ctx, func(tx *store.Tx) error {
		w, err := tx.Webhook(ctx, id)
		if err != nil {
			return err
		}
		if !w.Enabled {
			return inputErr("enabled", "the webhook is off: turn it on to send a test")
		}
		dl = &store.Delivery{WebhookID: w.ID, Event: "ping", CreatedAt: store.Now()}
		return tx.QueueDelivery(ctx, dl)
	})
	if err != nil {
		return nil, err
	}
	h.wakeUp()
	return dl, nil
}

func inputErr(field, format string, args ...any) error {
	return desk.InputErrorf(field, format, args...)
}

// cleanLine folds a line's runs of white space into single spaces.
func cleanLine(s string) string { return strings.Join(strings.Fields(s), " ") }
