package meta_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"onedesk/channels/meta/metatest"
	"onedesk/channels/social"
	"onedesk/store"
)

// The Send API fails the second of a Messenger reply's three messages
// with a 500: the outbox tries again from that part, so the customer gets
// each part once, in order; the reply keeps the first message's id, and a
// delivery naming the second message marks it delivered.
func TestReplyResumesAfterPartFailed(t *testing.T) {
	e := newEnv(t)
	e.deliver(metatest.Delivery("page", metatest.PageID, metatest.Message("5556", metatest.PageID, "m_p1", map[string]any{"text": "Where is my parcel?"})))
	e.waitFor("the ticket", func() bool { return len(e.tickets("messenger")) == 1 })
	body := strings.Repeat("Your parcel left our store today. ", 40) + "\n" + strings.Repeat("Tracking follows by mail. ", 40)
	parts := social.SplitText(body, 2000)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	e.api.Fail(metatest.Failure{Status: 500, Code: 2, Message: "An unexpected error has occurred. Please retry your request later.", After: 1})
	r := e.reply(e.tickets("messenger")[0].ID, body, store.Attachment{Filename: "label.pdf", ContentType: "application/pdf", Size: 10, Data: []byte("%PDF-label")})
	sent := e.delivery(r.ID, "sent")
	var got []string
	for _, c := range e.api.Calls("POST", metatest.PageID+"/messages") {
		msg, _ := c.Body["message"].(map[string]any)
		if text, ok := msg["text"].(string); ok {
			got = append(got, fmt.Sprintf("text %d", slices.Index(parts, text)+1))
		} else {
			got = append(got, "file:"+c.FileName)
		}
	}
	if want := []string{"text 1", "text 2", "text 2", "file:label.pdf"}; !slices.Equal(got, want) {
		t.Fatalf("sends %q, want %q", got, want)
	}
	ids, err := e.db.ReplyParts(context.Background(), r.ID)
	if err != nil || len(ids) != 3 || sent.ExternalID != ids[0] || sent.ExternalID == "" {
		t.Fatalf("the reply's id %q, parts %v %v", sent.ExternalID, ids, err)
	}
	e.deliver(metatest.Delivery("page", metatest.PageID, map[string]any{"sender": map[string]string{"id": "5556"},
		"recipient": map[string]string{"id": metatest.PageID}, "delivery": map[string]any{"mids": []string{ids[1]}}}))
	e.delivery(r.ID, "delivered")
}
