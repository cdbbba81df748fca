package webhooks_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/metrics"
)

// Collect counts the posts by outcome: a retry, then the delivery.
func TestCollectCountsPosts(t *testing.T) {
	d, _, h := newHooks(t)
	r := newReceiver(t, func(n int) int {
		if n == 1 {
			return 503
		}
		return 200
	})
	addWebhook(t, h, r, "ticket.created")
	desktest.Ingest(t, d, desk.Inbound{From: desktest.Email("a@example.com"), Subject: "Counted", Text: "one"})
	now := time.Now()
	deliver(t, h, now)
	deliver(t, h, now.Add(time.Minute))
	var buf bytes.Buffer
	w := metrics.NewWriter(&buf)
	h.Collect(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`onedesk_webhook_posts_total{outcome="retry"} 1`, `onedesk_webhook_posts_total{outcome="delivered"} 1`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("no %s in\n%s", want, buf.String())
		}
	}
}
