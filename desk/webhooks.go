package desk

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"onedesk/i18n"
	"onedesk/store"
)

// Outgoing webhooks post JSON to an integration's URL when tickets are
// created or change and when messages are written, and when a rule says so.
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

// WebhookEvents are the events a webhook can subscribe to. "ping" (a
// test) and "rule.webhook" (a rule's action) go to the webhook they name
// whatever it subscribes to.
var WebhookEvents = []string{"ticket.created", "ticket.updated", "message.created"}

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

// hookClient posts deliveries; a redirect is an answer like any other
// non-2xx (following it would turn the POST into a GET).
var hookClient = &http.Client{
	Timeout:       hookTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// ---- Managing webhooks

// WebhookInput creates or edits a webhook; nil fields keep what it has.
// A new webhook without a secret gets a generated one; RotateSecret makes
// a new one.
type WebhookInput struct {
	Name         *string
	URL          *string
	Events       *[]string
	Enabled      *bool
	Secret       *string
	RotateSecret bool
}

// Webhooks lists every webhook by name.
func (d *Desk) Webhooks(ctx context.Context) ([]*store.Webhook, error) { return d.db.Webhooks(ctx) }

// Webhook reads one webhook.
func (d *Desk) Webhook(ctx context.Context, id int64) (*store.Webhook, error) {
	return d.db.Webhook(ctx, id)
}

// SaveWebhook creates (id 0) or edits a webhook. It returns the secret
// when it made one (or was given one on create), for the caller to show
// once; "" otherwise.
func (d *Desk) SaveWebhook(ctx context.Context, id int64, in WebhookInput) (*store.Webhook, string, error) {
	if id == 0 {
		all, err := d.db.Webhooks(ctx)
		if err != nil {
			return nil, "", err
		}
		if len(all) >= maxWebhooks {
			return nil, "", inputErr("name", "there are %d webhooks already, the most there can be", maxWebhooks)
		}
	}
	var w *store.Webhook
	var shown string
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		shown = ""
		now := store.Now()
		if id == 0 {
			w = &store.Webhook{Enabled: true, Events: []string{}, CreatedAt: now}
		} else {
			var err error
			if w, err = tx.Webhook(ctx, id); err != nil {
				return err
			}
		}
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
			if id == 0 {
				shown = w.Secret
			}
		}
		if w.Secret == "" || in.RotateSecret {
			w.Secret = newHookSecret()
			shown = w.Secret
		}
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
		if err := oneOf("events", e, WebhookEvents); err != nil {
			return err
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

// DeleteWebhook removes a webhook with its deliveries. Rules that name
// it skip that action from then on.
func (d *Desk) DeleteWebhook(ctx context.Context, id int64) error {
	return d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteWebhook(ctx, id) })
}

// WebhookDeliveries lists a webhook's latest deliveries, newest first.
func (d *Desk) WebhookDeliveries(ctx context.Context, id int64, limit int) ([]*store.Delivery, error) {
	if _, err := d.db.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return d.db.Deliveries(ctx, id, limit)
}

// TestWebhook queues a "ping" delivery to a webhook.
func (d *Desk) TestWebhook(ctx context.Context, id int64) (*store.Delivery, error) {
	var dl *store.Delivery
	err := d.db.Write(ctx, func(tx *store.Tx) error {
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
	d.wakeHooks()
	return dl, nil
}

// QueueRuleWebhook queues a rule's "webhook" action inside the rule's
// transaction: the post carries the ticket, the rule and the message that
// fired it, if any. It returns nil when the webhook is gone or off.
func (c *TicketTx) QueueRuleWebhook(ctx context.Context, ruleID int64, ruleName string, webhookID int64) (*store.Delivery, *store.Webhook, error) {
	w, err := c.Tx.Webhook(ctx, webhookID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil || !w.Enabled {
		return nil, nil, err
	}
	ref := hookRef{Rule: &hookRule{ruleID, ruleName}}
	if c.Message != nil {
		ref.MessageID = c.Message.ID
	}
	payload, err := json.Marshal(ref)
	if err != nil {
		return nil, nil, err
	}
	dl := &store.Delivery{WebhookID: w.ID, Event: "rule.webhook", TicketID: &c.Ticket.ID, Payload: payload, CreatedAt: c.Now}
	return dl, w, c.Tx.QueueDelivery(ctx, dl)
}

// ---- The body and its signature

// hookRef is what a delivery stores of its body: the ticket event or
// message it is about, or the rule that sent it. The body is made when it
// is sent, so a delivery row stays small.
type hookRef struct {
	EventID   int64     `json:"event_id,omitempty"`
	MessageID int64     `json:"message_id,omitempty"`
	Rule      *hookRule `json:"rule,omitempty"`
}

type hookRule struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

// hookBody is the JSON posted for a delivery: id, event and created_at,
// then the ticket as it is now with its customer, and the change, message,
// rule or webhook it is about.
func (d *Desk) hookBody(ctx context.Context, w *store.Webhook, dl *store.Delivery) ([]byte, error) {
	var ref hookRef
	if err := json.Unmarshal(dl.Payload, &ref); err != nil {
		return nil, fmt.Errorf("delivery %d: %w", dl.ID, err)
	}
	body := struct {
		ID        int64           `json:"id"`
		Event     string          `json:"event"`
		CreatedAt time.Time       `json:"created_at"`
		Ticket    *store.Ticket   `json:"ticket,omitempty"`
		Customer  *store.Customer `json:"customer,omitempty"`
		Change    *store.Event    `json:"change,omitempty"`
		Message   *store.Message  `json:"message,omitempty"`
		Rule      *hookRule       `json:"rule,omitempty"`
		Webhook   *hookRule       `json:"webhook,omitempty"`
	}{ID: dl.ID, Event: dl.Event, CreatedAt: dl.CreatedAt, Rule: ref.Rule}
	// What is gone (a ticket merged away and purged, say) is left out
	// rather than holding up the webhook.
	gone := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	var err error
	if dl.TicketID != nil {
		if body.Ticket, err = d.db.Ticket(ctx, *dl.TicketID); err == nil {
			body.Customer, err = d.db.Customer(ctx, body.Ticket.CustomerID)
		}
		if err != nil && !gone(err) {
			return nil, err
		}
	}
	if ref.EventID != 0 {
		if body.Change, err = d.db.Event(ctx, ref.EventID); err != nil && !gone(err) {
			return nil, err
		}
	}
	if ref.MessageID != 0 {
		if body.Message, err = d.db.Message(ctx, ref.MessageID); err != nil && !gone(err) {
			return nil, err
		}
	}
	if dl.Event == "ping" {
		body.Webhook = &hookRule{w.ID, w.Name}
	}
	return json.Marshal(body)
}

// SignWebhook is the X-Onedesk-Signature value of a body sent at unix
// time ts: "sha256=" and the hex HMAC-SHA256, keyed with the webhook's
// secret, of the timestamp, a dot and the body.
func SignWebhook(secret string, ts int64, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// post sends one delivery and returns the HTTP status (0 when there was
// no answer) and why it did not count as delivered.
func post(ctx context.Context, w *store.Webhook, dl *store.Delivery, body []byte, now time.Time) (int, error) {
	req, err := http.NewRequestWithContext(ctx, "POST", w.URL, bytes.NewReader(body))
	if err != nil {
		return 0, err
	}
	ts := now.Unix()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "onedesk-webhooks")
	req.Header.Set("X-Onedesk-Event", dl.Event)
	req.Header.Set("X-Onedesk-Delivery", strconv.FormatInt(dl.ID, 10))
	req.Header.Set("X-Onedesk-Timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("X-Onedesk-Signature", SignWebhook(w.Secret, ts, body))
	res, err := hookClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the URL is shown beside it already
		}
		return 0, err
	}
	defer res.Body.Close()
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
		return res.StatusCode, nil
	}
	// The server's own words stay as it wrote them, inside our sentence.
	text, _ := io.ReadAll(io.LimitReader(res.Body, 300))
	if loc := res.Header.Get("Location"); loc != "" && res.StatusCode >= 300 && res.StatusCode < 400 {
		return res.StatusCode, i18n.Errorf("the server answered %s (a redirect to %s: give the final address)", res.Status, loc)
	} else if s := cleanLine(strings.ToValidUTF8(string(text), "")); s != "" {
		return res.StatusCode, i18n.Errorf("the server answered %s: %s", res.Status, s)
	}
	return res.StatusCode, i18n.Errorf("the server answered %s", res.Status)
}

// ---- The dispatcher

// RunWebhooks turns new ticket events and messages into deliveries and
// posts them until ctx ends. It wakes when the desk publishes a change,
// when a delivery is due, and every few seconds.
func (d *Desk) RunWebhooks(ctx context.Context) {
	run := &hookRun{busy: map[int64]bool{}, slots: make(chan struct{}, hookWorkers), clock: store.Now}
	defer run.wg.Wait()
	go d.wakeOnChanges(ctx)
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-d.hookWake:
			// Changes come in bursts: gather them into one step.
			if wait := hookDebounce - time.Since(last); wait > 0 {
				timer.Stop()
				timer.Reset(wait)
				continue
			}
		}
		last = time.Now()
		wait := d.hookStep(ctx, run)
		timer.Stop()
		timer.Reset(wait)
	}
}

// DeliverWebhooks does one round of the dispatcher as of now, waiting for
// the posts it starts: new events and messages become deliveries, and each
// webhook sends what is due. Tests move now instead of waiting.
func (d *Desk) DeliverWebhooks(ctx context.Context, now time.Time) error {
	run := &hookRun{busy: map[int64]bool{}, slots: make(chan struct{}, hookWorkers), clock: func() time.Time { return now }}
	if err := d.collectHooks(ctx, now); err != nil {
		return err
	}
	err := d.startDue(ctx, run, now)
	run.wg.Wait()
	return errors.Join(err, run.err())
}

// hookRun is the dispatcher's state: the webhooks being posted to.
type hookRun struct {
	mu     sync.Mutex
	busy   map[int64]bool
	slots  chan struct{}
	wg     sync.WaitGroup
	clock  func() time.Time
	errs   []error
	pruned time.Time
}

func (r *hookRun) err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return errors.Join(r.errs...)
}

func (d *Desk) wakeHooks() {
	select {
	case d.hookWake <- struct{}{}:
	default:
	}
}

// wakeOnChanges wakes the dispatcher whenever the desk publishes.
func (d *Desk) wakeOnChanges(ctx context.Context) {
	for ctx.Err() == nil {
		ch, stop := d.bus.Subscribe(64)
		for open := true; open; {
			select {
			case <-ctx.Done():
				stop()
				return
			case _, open = <-ch:
				d.wakeHooks()
			}
		}
		stop() // dropped for falling behind: subscribe again
	}
}

// hookStep is one round of RunWebhooks; it returns how long to sleep.
func (d *Desk) hookStep(ctx context.Context, run *hookRun) time.Duration {
	now := run.clock()
	if err := d.collectHooks(ctx, now); err != nil {
		if ctx.Err() == nil {
			d.log.Error("webhooks", "err", err)
		}
		return hookPoll
	}
	if err := d.startDue(ctx, run, now); err != nil && ctx.Err() == nil {
		d.log.Error("webhooks", "err", err)
		return hookPoll
	}
	if now.Sub(run.pruned) > time.Hour {
		run.pruned = now
		err := d.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.PruneDeliveries(ctx, now.Add(-hookKeep))
			return err
		})
		if err != nil && ctx.Err() == nil {
			d.log.Warn("webhooks: prune", "err", err)
		}
	}
	next, err := d.db.NextWebhookAt(ctx)
	if err != nil || next.IsZero() {
		return hookPoll
	}
	// Due but busy (a finishing webhook wakes us), or due later.
	if wait := next.Sub(now); wait > 0 {
		return min(wait, hookPoll)
	}
	return hookPoll
}

// startDue starts posting for each enabled webhook whose next delivery is
// due and that is not posting already.
func (d *Desk) startDue(ctx context.Context, run *hookRun, now time.Time) error {
	ids, err := d.db.DueWebhooks(ctx, now)
	if err != nil {
		return err
	}
	run.mu.Lock()
	defer run.mu.Unlock()
	for _, id := range ids {
		if run.busy[id] {
			continue
		}
		select {
		case run.slots <- struct{}{}:
		default:
			return nil // every worker is busy; one that ends wakes us
		}
		run.busy[id] = true
		run.wg.Add(1)
		go func() {
			defer run.wg.Done()
			err := d.drainWebhook(ctx, id, run.clock)
			run.mu.Lock()
			delete(run.busy, id)
			if err != nil && ctx.Err() == nil {
				d.log.Error("webhooks: deliver", "webhook", id, "err", err)
				run.errs = append(run.errs, err)
			}
			run.mu.Unlock()
			<-run.slots
			d.wakeHooks()
		}()
	}
	return nil
}

// drainWebhook posts a webhook's due deliveries in order and stops at the
// first that fails (it waits for its retry) or is not due. Outcomes are
// recorded a batch at a time (a second's worth or 50 posts), in one write:
// a crash before it sends those again, with the same ids.
func (d *Desk) drainWebhook(ctx context.Context, id int64, clock func() time.Time) error {
	w, err := d.db.Webhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || !w.Enabled {
		return err
	}
	for {
		list, err := d.db.QueuedDeliveries(ctx, id, 50)
		if err != nil {
			return err
		}
		var done []hookOutcome
		stop := len(list) < 50
		start := time.Now()
		for _, dl := range list {
			now := clock()
			if dl.NextAttemptAt.After(now) {
				stop = true
				break
			}
			body, err := d.hookBody(ctx, w, dl)
			if err != nil {
				return errors.Join(err, d.recordOutcomes(context.WithoutCancel(ctx), w, done))
			}
			code, err := post(ctx, w, dl, body, now)
			if ctx.Err() != nil {
				stop = true // shutting down: this one stays queued
				break
			}
			done = append(done, hookOutcome{dl, code, err, now})
			if err != nil {
				stop = true
				break
			}
			if time.Since(start) > time.Second {
				break
			}
		}
		if err := d.recordOutcomes(context.WithoutCancel(ctx), w, done); err != nil {
			return err
		}
		if stop || ctx.Err() != nil {
			return nil
		}
	}
}

// hookOutcome is how one post went.
type hookOutcome struct {
	dl   *store.Delivery
	code int
	err  error
	at   time.Time
}

// recordOutcomes writes the outcomes of posts to w: delivered, to be
// retried with backoff, or failed when its day is over.
func (d *Desk) recordOutcomes(ctx context.Context, w *store.Webhook, done []hookOutcome) error {
	if len(done) == 0 {
		return nil
	}
	final := make([]bool, len(done))
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		for i, o := range done {
			attempts := o.dl.Attempts + 1
			delay := backoff(hookRetryBase, hookRetryMax, attempts)
			final[i] = o.err != nil && o.at.Add(delay).Sub(o.dl.CreatedAt) > hookRetryFor
			switch {
			case o.err == nil:
				if err := tx.FinishDelivery(ctx, o.dl.ID, "delivered", attempts, o.code, "", "", o.at); err != nil {
					return err
				}
			case final[i]:
				if err := tx.FinishDelivery(ctx, o.dl.ID, "failed", attempts, o.code, o.err.Error(), i18n.Stored(o.err), o.at); err != nil {
					return err
				}
				// Those that waited behind it nearly as long would have no
				// time left for retries: they fail with it rather than each
				// trying a dead endpoint once more.
				reason := i18n.S("not sent: the webhook failed for a day (delivery %d)", o.dl.ID)
				if _, err := tx.FailStaleDeliveries(ctx, w.ID, o.at.Add(hookRetryMax-hookRetryFor), reason.String(), reason.Encode(), o.at); err != nil {
					return err
				}
			default:
				if err := tx.RetryDelivery(ctx, o.dl.ID, attempts, o.code, o.err.Error(), i18n.Stored(o.err), o.at.Add(delay)); err != nil {
					return err
				}
			}
		}
		last := done[len(done)-1]
		if last.err != nil {
			return tx.SetWebhookOutcome(ctx, w.ID, "failed", last.err.Error(), i18n.Stored(last.err), last.at)
		}
		return tx.SetWebhookOutcome(ctx, w.ID, "ok", "", "", last.at)
	})
	if err != nil {
		return fmt.Errorf("record deliveries of webhook %d: %w", w.ID, err)
	}
	for i, o := range done {
		switch {
		case o.err == nil:
			d.stats.hookPosts.Inc("delivered")
		case final[i]:
			d.stats.hookPosts.Inc("failed")
		default:
			d.stats.hookPosts.Inc("retry")
		}
		if o.err != nil {
			d.log.Warn("webhook post failed", "webhook", w.ID, "delivery", o.dl.ID, "attempt", o.dl.Attempts+1, "final", final[i], "err", o.err)
		}
	}
	return nil
}

// ---- Turning events and messages into deliveries

// hookEvent is the webhook event of a ticket event: "" for replied and
// noted, whose message comes as message.created.
func hookEvent(typ string) string {
	switch typ {
	case "created":
		return "ticket.created"
	case "replied", "noted":
		return ""
	}
	return "ticket.updated"
}

// collectHooks moves the cursor over the ticket events and messages
// written since it last ran, queuing a delivery of each to every enabled
// webhook that subscribes to its event (and existed when it happened).
func (d *Desk) collectHooks(ctx context.Context, now time.Time) error {
	for {
		done, newest, err := d.db.WebhookCursor(ctx)
		if err != nil {
			return err
		}
		if done == newest {
			return nil
		}
		all, err := d.db.EnabledWebhooks(ctx)
		if err != nil {
			return err
		}
		hooks := slices.DeleteFunc(all, func(w *store.Webhook) bool { return len(w.Events) == 0 })
		to := newest
		var queue []*store.Delivery
		if len(hooks) > 0 {
			var evs, msgs []store.Occurrence
			if evs, msgs, to, err = d.hookRows(ctx, done, newest); err != nil {
				return err
			}
			queue = hookDeliveries(hooks, evs, msgs, now)
		}
		err = d.db.Write(ctx, func(tx *store.Tx) error {
			for _, dl := range queue {
				if err := tx.QueueDelivery(ctx, dl); err != nil {
					return err
				}
			}
			return tx.SetWebhookCursor(ctx, to)
		})
		if err != nil {
			return fmt.Errorf("queue webhook deliveries: %w", err)
		}
		if to == newest {
			return nil
		}
	}
}

// hookRows reads a step of events and messages past the cursor, cut at
// the same moment so that they queue in the order they happened, and
// where the cursor goes after them.
func (d *Desk) hookRows(ctx context.Context, done, newest store.WebhookCursor) ([]store.Occurrence, []store.Occurrence, store.WebhookCursor, error) {
	to := newest
	evs, err := d.db.EventsAfter(ctx, done.EventID, newest.EventID, hookBatch)
	if err != nil {
		return nil, nil, to, err
	}
	msgs, err := d.db.MessagesAfter(ctx, done.MessageID, newest.MessageID, hookBatch)
	if err != nil {
		return nil, nil, to, err
	}
	var cut time.Time // zero: both read to the newest
	if len(evs) == hookBatch {
		cut = evs[len(evs)-1].CreatedAt
	}
	if len(msgs) == hookBatch && (cut.IsZero() || msgs[len(msgs)-1].CreatedAt.Before(cut)) {
		cut = msgs[len(msgs)-1].CreatedAt
	}
	if !cut.IsZero() {
		cutEvs, lastEv := until(evs, cut)
		cutMsgs, lastMsg := until(msgs, cut)
		if lastEv > 0 || lastMsg > 0 {
			evs, msgs = cutEvs, cutMsgs
			to.EventID, to.MessageID = max(lastEv, done.EventID), max(lastMsg, done.MessageID)
		} else {
			// Times out of id order (a sweep's rows carry its start time, or
			// the clock stepped back) cut nothing: take both batches whole
			// rather than stand still.
			if len(evs) == hookBatch {
				to.EventID = evs[len(evs)-1].ID
			}
			if len(msgs) == hookBatch {
				to.MessageID = msgs[len(msgs)-1].ID
			}
		}
	}
	return evs, msgs, to, nil
}

// until is the leading rows of list up to time cut, and the last one's id.
func until(list []store.Occurrence, cut time.Time) ([]store.Occurrence, int64) {
	n := 0
	for n < len(list) && !list[n].CreatedAt.After(cut) {
		n++
	}
	if n == 0 {
		return nil, 0
	}
	return list[:n], list[n-1].ID
}

// hookDeliveries builds the deliveries of events and messages, in the
// order they happened (a ticket's created event before its first message).
func hookDeliveries(hooks []*store.Webhook, evs, msgs []store.Occurrence, now time.Time) []*store.Delivery {
	type item struct {
		store.Occurrence
		event string
		ref   string
	}
	var items []item
	for _, e := range evs {
		if name := hookEvent(e.Type); name != "" {
			items = append(items, item{e, name, fmt.Sprintf(`{"event_id":%d}`, e.ID)})
		}
	}
	for _, m := range msgs {
		items = append(items, item{m, "message.created", fmt.Sprintf(`{"message_id":%d}`, m.ID)})
	}
	slices.SortStableFunc(items, func(a, b item) int { return a.CreatedAt.Compare(b.CreatedAt) })
	// Times come from one clock read per row, so a ticket's first message
	// may carry an earlier millisecond than its created event: that event
	// goes first.
	first := map[int64]int{} // ticket → index of its first item
	for i := 0; i < len(items); i++ {
		f, seen := first[items[i].TicketID]
		if !seen {
			first[items[i].TicketID] = i
		} else if items[i].event == "ticket.created" {
			it := items[i]
			copy(items[f+1:i+1], items[f:i])
			items[f] = it
			for t, j := range first {
				if j > f && j <= i {
					first[t] = j + 1
				}
			}
		}
	}
	var queue []*store.Delivery
	for _, it := range items {
		for _, w := range hooks {
			if slices.Contains(w.Events, it.event) && !it.CreatedAt.Before(w.CreatedAt) {
				tid := it.TicketID
				queue = append(queue, &store.Delivery{WebhookID: w.ID, Event: it.event, TicketID: &tid,
					Payload: json.RawMessage(it.ref), CreatedAt: now})
			}
		}
	}
	return queue
}
