package desk_test

import (
	"context"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// A platform can report a reply delivered before the outbox has written
// down that it was sent: a recent receipt naming no recorded reply is an
// error, so its queued delivery is tried again; one about a message the
// desk has, an old one, or one without a time is let go.
func TestReceiptOvertakingItsReply(t *testing.T) {
	ctx := context.Background()
	d, _ := newDesk(t)
	if _, err := d.Ingest(ctx, desk.Inbound{Channel: "whatsapp", ExternalID: "wamid.in1", Name: "Ana",
		From: store.Identity{Kind: "whatsapp", Value: "+15551234567"}, Text: "Hi"}); err != nil {
		t.Fatal(err)
	}
	now := store.Now()
	for _, c := range []struct {
		name  string
		r     desk.Receipt
		retry bool
	}{
		{"a reply not recorded yet", desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{"wamid.out1"}, At: now}, true},
		{"the same read", desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{"wamid.out1"}, Read: true, At: now}, true},
		{"a message the desk has", desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{"wamid.in1"}, At: now}, false},
		{"an old one", desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{"wamid.out1"}, At: now.Add(-3 * time.Minute)}, false},
		{"one without a time", desk.Receipt{Channel: "whatsapp", ExternalIDs: []string{"wamid.out1"}}, false},
	} {
		if err := d.NoteReceipt(ctx, c.r); (err != nil) != c.retry {
			t.Errorf("%s: %v, want an error to retry: %v", c.name, err, c.retry)
		}
	}
}
