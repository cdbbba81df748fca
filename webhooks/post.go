package webhooks

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"onedesk/i18n"
	"onedesk/netguard"
	"onedesk/store"
)

// client posts deliveries; a redirect is an answer like any other non-2xx
// (following it would turn the POST into a GET).
// Its connections go through netguard: a webhook URL may not lead into
// the desk's own network.
var client = &http.Client{
	Transport:     netguard.Default.Transport(),
	Timeout:       hookTimeout,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// body is the JSON posted for a delivery: id, event and created_at, then
// the ticket as it is now with its customer, and the change, message,
// rule or webhook it is about.
func (h *Hooks) body(ctx context.Context, w *store.Webhook, dl *store.Delivery) ([]byte, error) {
	var ref store.DeliveryRef
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
		Rule      *store.Named    `json:"rule,omitempty"`
		Webhook   *store.Named    `json:"webhook,omitempty"`
	}{ID: dl.ID, Event: dl.Event, CreatedAt: dl.CreatedAt, Rule: ref.Rule}
	// What is gone (a ticket merged away and purged, say) is left out
	// rather than holding up the webhook.
	gone := func(err error) bool { return errors.Is(err, store.ErrNotFound) }
	var err error
	if dl.TicketID != nil {
		if body.Ticket, err = h.db.Ticket(ctx, *dl.TicketID); err == nil {
			body.Customer, err = h.db.Customer(ctx, body.Ticket.CustomerID)
		}
		if err != nil && !gone(err) {
			return nil, err
		}
	}
	if ref.EventID != 0 {
		if body.Change, err = h.db.Event(ctx, ref.EventID); err != nil && !gone(err) {
			return nil, err
		}
	}
	if ref.MessageID != 0 {
		if body.Message, err = h.db.Message(ctx, ref.MessageID); err != nil && !gone(err) {
			return nil, err
		}
	}
	if dl.Event == "ping" {
		body.Webhook = &store.Named{ID: w.ID, Name: w.Name}
	}
	return json.Marshal(body)
}

// Sign is the X-Onedesk-Signature value of a body sent at unix time ts:
// "sha256=" and the hex HMAC-SHA256, keyed with the webhook's secret, of
// the timestamp, a dot and the body.
func Sign(secret string, ts int64, body []byte) string {
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
	req.Header.Set("X-Onedesk-Signature", Sign(w.Secret, ts, body))
	res, err := client.Do(req)
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
	// Only the status code is told: what the server wrote (its body, its
	// status text, a redirect's target) is not repeated, so a webhook
	// cannot be used to read what a server says.
	io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	status := fmt.Sprintf("%d %s", res.StatusCode, http.StatusText(res.StatusCode))
	if res.StatusCode >= 300 && res.StatusCode < 400 {
		return res.StatusCode, i18n.Errorf("the server answered %s (a redirect: give the final address)", status)
	}
	return res.StatusCode, i18n.Errorf("the server answered %s", status)
}
