package webhooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"onedesk/store"
)

// Turning events and messages into deliveries.

// hookEvent is the webhook event of a ticket event: "" for replied and
// noted, whose message comes as message.created.
func hookEvent(typ store.EventType) string {
	switch typ {
	case store.EventCreated:
		return "ticket.created"
	case store.EventReplied, store.EventNoted:
		return ""
	case store.EventRated:
		return "ticket.rated" // its data has the rating and the comment
	}
	return "ticket.updated"
}

// collect moves the cursor over the ticket events and messages written
// since it last ran, queuing a delivery of each to every enabled webhook
// that subscribes to its event (and existed when it happened).
func (h *Hooks) collect(ctx context.Context, now time.Time) error {
	for {
		done, newest, err := h.db.WebhookCursor(ctx)
		if err != nil {
			return err
		}
		if done == newest {
			return nil
		}
		all, err := h.db.EnabledWebhooks(ctx)
		if err != nil {
			return err
		}
		hooks := slices.DeleteFunc(all, func(w *store.Webhook) bool { return len(w.Events) == 0 })
		to := newest
		var queue []*store.Delivery
		if len(hooks) > 0 {
			var evs, msgs []store.Occurrence
			if evs, msgs, to, err = h.rows(ctx, done, newest); err != nil {
				return err
			}
			queue = deliveries(hooks, evs, msgs, now)
		}
		err = h.db.Write(ctx, func(tx *store.Tx) error {
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

// rows reads a step of events and messages past the cursor, cut at the
// same moment so that they queue in the order they happened, and where
// the cursor goes after them.
func (h *Hooks) rows(ctx context.Context, done, newest store.WebhookCursor) ([]store.Occurrence, []store.Occurrence, store.WebhookCursor, error) {
	to := newest
	evs, err := h.db.EventsAfter(ctx, done.EventID, newest.EventID, hookBatch)
	if err != nil {
		return nil, nil, to, err
	}
	msgs, err := h.db.MessagesAfter(ctx, done.MessageID, newest.MessageID, hookBatch)
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

// occurrence is an event or message on its way to the webhooks.
type occurrence struct {
	store.Occurrence
	event string // the webhook event
	ref   string // the delivery's payload (a store.DeliveryRef)
}

// deliveries builds the deliveries of events and messages, in the order
// they happened (a ticket's created event before its first message).
func deliveries(hooks []*store.Webhook, evs, msgs []store.Occurrence, now time.Time) []*store.Delivery {
	var items []occurrence
	for _, e := range evs {
		if name := hookEvent(store.EventType(e.Type)); name != "" {
			items = append(items, occurrence{e, name, fmt.Sprintf(`{"event_id":%d}`, e.ID)})
		}
	}
	for _, m := range msgs {
		items = append(items, occurrence{m, "message.created", fmt.Sprintf(`{"message_id":%d}`, m.ID)})
	}
	slices.SortStableFunc(items, func(a, b occurrence) int { return a.CreatedAt.Compare(b.CreatedAt) })
	createdFirst(items)
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

// createdFirst moves each ticket's created event before its other items:
// times come from one clock read per row, so a ticket's first message may
// carry an earlier millisecond than its created event.
func createdFirst(items []occurrence) {
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
}
