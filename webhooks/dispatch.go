package webhooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// Run turns new ticket events and messages into deliveries and posts
// them until ctx ends. It wakes when d commits a change (through its one
// subscription, desk.Desk.Committed), when a delivery is due, and every
// few seconds.
func (h *Hooks) Run(ctx context.Context, d *desk.Desk) {
	run := &hookRun{busy: map[int64]bool{}, slots: make(chan struct{}, hookWorkers), clock: store.Now}
	defer run.wg.Wait()
	go d.Committed(ctx, func(desk.Change) { h.wakeUp() })
	timer := time.NewTimer(0)
	defer timer.Stop()
	var last time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		case <-h.wake:
			// Changes come in bursts: gather them into one step.
			if wait := hookDebounce - time.Since(last); wait > 0 {
				timer.Stop()
				timer.Reset(wait)
				continue
			}
		}
		last = time.Now()
		wait := h.step(ctx, run)
		timer.Stop()
		timer.Reset(wait)
	}
}

// Deliver does one round of the dispatcher as of now, waiting for the
// posts it starts: new events and messages become deliveries, and each
// webhook sends what is due. Tests move now instead of waiting.
func (h *Hooks) Deliver(ctx context.Context, now time.Time) error {
	run := &hookRun{busy: map[int64]bool{}, slots: make(chan struct{}, hookWorkers), clock: func() time.Time { return now }}
	if err := h.collect(ctx, now); err != nil {
		return err
	}
	err := h.startDue(ctx, run, now)
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

func (h *Hooks) wakeUp() {
	select {
	case h.wake <- struct{}{}:
	default:
	}
}

// step is one round of Run; it returns how long to sleep.
func (h *Hooks) step(ctx context.Context, run *hookRun) time.Duration {
	now := run.clock()
	if err := h.collect(ctx, now); err != nil {
		if ctx.Err() == nil {
			h.log.Error("webhooks", "err", err)
		}
		return hookPoll
	}
	if err := h.startDue(ctx, run, now); err != nil && ctx.Err() == nil {
		h.log.Error("webhooks", "err", err)
		return hookPoll
	}
	if now.Sub(run.pruned) > time.Hour {
		run.pruned = now
		err := h.db.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.PruneDeliveries(ctx, now.Add(-hookKeep))
			return err
		})
		if err != nil && ctx.Err() == nil {
			h.log.Warn("webhooks: prune", "err", err)
		}
	}
	next, err := h.db.NextWebhookAt(ctx)
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
func (h *Hooks) startDue(ctx context.Context, run *hookRun, now time.Time) error {
	ids, err := h.db.DueWebhooks(ctx, now)
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
			err := h.drain(ctx, id, run.clock)
			run.mu.Lock()
			delete(run.busy, id)
			if err != nil && ctx.Err() == nil {
				h.log.Error("webhooks: deliver", "webhook", id, "err", err)
				run.errs = append(run.errs, err)
			}
			run.mu.Unlock()
			<-run.slots
			h.wakeUp()
		}()
	}
	return nil
}

// drain posts a webhook's due deliveries in order and stops at the first
// that fails (it waits for its retry) or is not due. Outcomes are recorded
// a batch at a time (a second's worth or 50 posts), in one write: a crash
// before it sends those again, with the same ids.
func (h *Hooks) drain(ctx context.Context, id int64, clock func() time.Time) error {
	w, err := h.db.Webhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil || !w.Enabled {
		return err
	}
	for {
		list, err := h.db.QueuedDeliveries(ctx, id, 50)
		if err != nil {
			return err
		}
		var done []outcome
		stop := len(list) < 50
		start := time.Now()
		for _, dl := range list {
			now := clock()
			if dl.NextAttemptAt.After(now) {
				stop = true
				break
			}
			body, err := h.body(ctx, w, dl)
			if err != nil {
				return errors.Join(err, h.record(context.WithoutCancel(ctx), w, done))
			}
			code, err := post(ctx, w, dl, body, now)
			if ctx.Err() != nil {
				stop = true // shutting down: this one stays queued
				break
			}
			done = append(done, outcome{dl, code, err, now})
			if err != nil {
				stop = true
				break
			}
			if time.Since(start) > time.Second {
				break
			}
		}
		if err := h.record(context.WithoutCancel(ctx), w, done); err != nil {
			return err
		}
		if stop || ctx.Err() != nil {
			return nil
		}
	}
}

// outcome is how one post went.
type outcome struct {
	dl   *store.Delivery
	code int
	err  error
	at   time.Time
}

// record writes the outcomes of posts to w (delivered, to be retried
// with backoff, or failed when its day is over), then counts and logs
// them.
func (h *Hooks) record(ctx context.Context, w *store.Webhook, done []outcome) error {
	if len(done) == 0 {
		return nil
	}
	final := make([]bool, len(done))
	err := h.db.Write(ctx, func(tx *store.Tx) error {
		for i, o := range done {
			var err error
			if final[i], err = recordOne(ctx, tx, w, o); err != nil {
				return err
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
			h.posts.Inc("delivered")
		case final[i]:
			h.posts.Inc("failed")
		default:
			h.posts.Inc("retry")
		}
		if o.err != nil {
			h.log.Warn("webhook post failed", "webhook", w.ID, "delivery", o.dl.ID, "attempt", o.dl.Attempts+1, "final", final[i], "err", o.err)
		}
	}
	return nil
}

// recordOne writes how one post went; it reports whether the delivery
// failed for good.
func recordOne(ctx context.Context, tx *store.Tx, w *store.Webhook, o outcome) (bool, error) {
	attempts := o.dl.Attempts + 1
	delay := retryDelay(attempts)
	final := o.err != nil && o.at.Add(delay).Sub(o.dl.CreatedAt) > hookRetryFor
	switch {
	case o.err == nil:
		return false, tx.FinishDelivery(ctx, o.dl.ID, "delivered", attempts, o.code, "", "", o.at)
	case final:
		if err := tx.FinishDelivery(ctx, o.dl.ID, "failed", attempts, o.code, o.err.Error(), i18n.Stored(o.err), o.at); err != nil {
			return true, err
		}
		// Those that waited behind it nearly as long would have no time
		// left for retries: they fail with it rather than each trying a
		// dead endpoint once more.
		reason := i18n.S("not sent: the webhook failed for a day (delivery %d)", o.dl.ID)
		_, err := tx.FailStaleDeliveries(ctx, w.ID, o.at.Add(hookRetryMax-hookRetryFor), reason.String(), reason.Encode(), o.at)
		return true, err
	}
	return false, tx.RetryDelivery(ctx, o.dl.ID, attempts, o.code, o.err.Error(), i18n.Stored(o.err), o.at.Add(delay))
}

// retryDelay is the wait before the next try after attempts tries: 10 s,
// doubling up to an hour.
func retryDelay(attempts int) time.Duration {
	delay := hookRetryBase << min(attempts-1, 20)
	if delay > hookRetryMax || delay <= 0 {
		delay = hookRetryMax
	}
	return delay
}
