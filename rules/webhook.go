package rules

import (
	"context"
	"encoding/json"
	"errors"

	"onedesk/store"
)

// queueWebhook queues a rule's "webhook" action inside the rule's
// transaction: the delivery holds a store.DeliveryRef to the rule and the
// message that fired it, if any, and package webhooks makes the body and
// sends it. It returns nil when the webhook is gone or off.
func (rr *ruleRun) queueWebhook(ctx context.Context, r *rule, webhookID int64) (*store.Delivery, *store.Webhook, error) {
	c := rr.c
	w, err := c.Tx.Webhook(ctx, webhookID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil || !w.Enabled {
		return nil, nil, err
	}
	ref := store.DeliveryRef{Rule: &store.Named{ID: r.ID, Name: r.Name}}
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
