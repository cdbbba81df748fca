package notify

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/SherClockHolmes/webpush-go"

	"onedesk/desk"
	"onedesk/store"
)

// Run turns what the desk commits into notifications and sends them
// until ctx ends. It wakes when d commits a change (through its one
// subscription, desk.Desk.Committed), when a push or digest is due, and
// every few seconds.
func (n *Notifier) Run(ctx context.Context, d *desk.Desk) {
	if err := n.Start(ctx); err != nil && ctx.Err() == nil {
		n.log.Error("notify: VAPID keys", "err", err)
	}
	go d.Committed(ctx, func(desk.Change) { n.wakeUp() })
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-n.wake:
			// Changes come in bursts: gather them into one step.
			timer.Stop()
			select {
			case <-ctx.Done():
				return
			case <-time.After(debounce):
			}
		}
		wait := n.step(ctx, store.Now())
		timer.Stop()
		timer.Reset(wait)
	}
}

// Step does one round as of now: what is new becomes queued pushes and
// digest items, then what is due is sent. Tests move now instead of
// waiting.
func (n *Notifier) Step(ctx context.Context, now time.Time) error {
	for {
		more, err := n.collect(ctx, now)
		if err != nil {
			return err
		}
		if !more {
			break
		}
	}
	return errors.Join(n.sendDue(ctx, now), n.mailDue(ctx, now))
}

// step is one round of Run; it returns how long to sleep.
func (n *Notifier) step(ctx context.Context, now time.Time) time.Duration {
	if err := n.Step(ctx, now); err != nil && ctx.Err() == nil {
		n.log.Error("notify", "err", err)
		return poll
	}
	// A push's retry may be due before the next poll; digests are looked
	// at each poll (a due one may wait for its agent to leave the app, or
	// for the mail server: it must not spin the loop).
	wait := poll
	if at, err := n.db.NextPushAt(ctx); err == nil && !at.IsZero() {
		wait = min(wait, max(at.Sub(store.Now()), 10*time.Millisecond))
	}
	return wait
}

// ---- Push

// sendDue sends the pushes due by now, a batch at a time.
func (n *Notifier) sendDue(ctx context.Context, now time.Time) error {
	for {
		list, err := n.db.DuePushes(ctx, now, pushBatch)
		if err != nil || len(list) == 0 {
			return err
		}
		for _, p := range list {
			if ctx.Err() != nil {
				return nil
			}
			if err := n.send(ctx, p, now); err != nil {
				return err
			}
		}
		if len(list) < pushBatch {
			return nil
		}
	}
}

// send posts one push and records how it went: sent; the device gone
// (404 or 410: removed with what was queued for it); or failed, tried
// again with backoff up to pushAttempts times when the service may take
// it later (no answer, 429, 5xx), dropped otherwise.
func (n *Notifier) send(ctx context.Context, p *store.QueuedPush, now time.Time) error {
	code, err := n.post(ctx, p)
	if ctx.Err() != nil {
		return nil // shutting down: it stays queued
	}
	var outcome string
	werr := n.db.Write(context.WithoutCancel(ctx), func(tx *store.Tx) error {
		switch {
		case err == nil:
			outcome = "sent"
			return tx.PushSent(ctx, p, now)
		case code == http.StatusNotFound || code == http.StatusGone:
			outcome = "gone"
			return tx.PushGone(ctx, p.Sub.ID)
		case (code == 0 || code == http.StatusTooManyRequests || code >= 500) && p.Attempts+1 < pushAttempts:
			outcome = "retry"
			return tx.PushFailed(ctx, p, err.Error(), now.Add(pushRetryBase<<p.Attempts))
		default:
			outcome = "failed"
			return tx.PushFailed(ctx, p, err.Error(), time.Time{})
		}
	})
	if werr != nil {
		return fmt.Errorf("record push %d: %w", p.ID, werr)
	}
	n.pushes.Inc(outcome)
	if err != nil {
		n.log.Warn("push not sent", "agent", p.Sub.AgentID, "device", p.Sub.ID, "attempt", p.Attempts+1, "outcome", outcome, "err", err)
	}
	return nil
}

// post encrypts and posts one push; it returns the HTTP status (0: no
// answer) and why it did not count as sent.
func (n *Notifier) post(ctx context.Context, p *store.QueuedPush) (int, error) {
	pub, priv, err := n.keys(ctx)
	if err != nil {
		return 0, err
	}
	sub := &webpush.Subscription{Endpoint: p.Sub.Endpoint, Keys: webpush.Keys{Auth: p.Sub.Auth, P256dh: p.Sub.P256dh}}
	res, err := webpush.SendNotificationWithContext(ctx, []byte(p.Payload), sub, &webpush.Options{
		HTTPClient: n.opts.Client, Subscriber: n.subscriber(), Topic: p.Topic, TTL: pushTTL, Urgency: webpush.UrgencyHigh,
		VAPIDPublicKey: pub, VAPIDPrivateKey: priv, RecordSize: 2048,
	})
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return 0, err
	}
	defer res.Body.Close()
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return res.StatusCode, nil
	}
	return res.StatusCode, fmt.Errorf("the push service answered %d %s", res.StatusCode, http.StatusText(res.StatusCode))
}

// subscriber is the VAPID subject: the desk's https address, else a
// mailto: of its host (push services use it to reach whoever runs it).
func (n *Notifier) subscriber() string {
	public := n.publicURL()
	if strings.HasPrefix(public, "https://") {
		return strings.TrimRight(public, "/")
	}
	host := "localhost"
	if u, err := url.Parse(public); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return "onedesk@" + host
}
