package desk

import (
	"context"
	"encoding/json"
	"errors"

	"onedesk/store"
)

// queueRuleWebhook queues a rule's "webhook" action inside the rule's
// transaction: the post carries the ticket, the rule and the message that
// fired it, if any (package webhooks sends it). It returns nil when the
// webhook is gone or off.
func (rr *ruleRun) queueRuleWebhook(ctx context.Context, r *rule, id int64) (*store.Delivery, *store.Webhook, error) {
	w, err := rr.tx.Webhook(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil, nil
	}
	if err != nil || !w.Enabled {
		return nil, nil, err
	}
	ref := store.DeliveryRef{Rule: &store.Named{ID: r.ID, Name: r.Name}}
	if rr.msg != nil {
		ref.MessageID = rr.msg.ID
	}
	payload, err := json.Marshal(ref)
	if err != nil {
		return nil, nil, err
	}
	dl := &store.Delivery{WebhookID: w.ID, Event: "rule.webhook", TicketID: &rr.t.ID, Payload: payload, CreatedAt: rr.now}
	return dl, w, rr.tx.QueueDelivery(ctx, dl)
}
