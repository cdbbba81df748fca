package whatsapp_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/channels/social"
	"onedesk/channels/whatsapp/graphtest"
	"onedesk/desk"
	"onedesk/store"
)

// WhatsApp fails the second of a reply's three messages with a 500: the
// outbox tries again from that part, so the customer gets each part once,
// in order; the reply keeps the first message's wamid, and WhatsApp's
// status for the second message marks it delivered.
func TestReplyResumesAfterPartFailed(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.post(text("15551234567", "wamid.in1", "Where is my parcel?"))
	e.waitFor("the ticket", func() bool { return len(e.tickets()) == 1 })
	body := strings.Repeat("Your parcel left our store today. ", 80) + "\n" + strings.Repeat("Tracking follows by mail. ", 80)
	parts := social.SplitText(body, 4096)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	e.graph.Fail("15551234567", graphtest.Failure{Status: 500, Code: 2, Message: "Service temporarily unavailable", After: 1})
	r, err := e.d.Reply(ctx, desk.AgentActor(e.agent), e.tickets()[0].ID, desk.ReplyInput{Body: body,
		Attachments: []store.Attachment{{Filename: "label.pdf", ContentType: "application/pdf", Size: 10, Data: []byte("%PDF-label")}}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reply sent", func() bool { return e.message(r.ID).Delivery == "sent" })
	var got []string
	for _, c := range e.graph.Calls("/messages") {
		switch c.Body["type"] {
		case "text":
			i := slices.Index(parts, c.Body["text"].(map[string]any)["body"].(string))
			got = append(got, fmt.Sprintf("text %d", i+1))
		case "document":
			got = append(got, "file:"+c.Body["document"].(map[string]any)["filename"].(string))
		default:
			got = append(got, fmt.Sprint(c.Body["type"]))
		}
	}
	if want := []string{"text 1", "text 2", "text 2", "file:label.pdf"}; !slices.Equal(got, want) {
		t.Fatalf("sends %q, want %q", got, want)
	}
	if up := e.graph.Calls("/media"); len(up) != 1 {
		t.Fatalf("%d uploads", len(up))
	}
	ids, err := e.db.ReplyParts(ctx, r.ID)
	if err != nil || len(ids) != 3 {
		t.Fatalf("parts %v %v", ids, err)
	}
	if m := e.message(r.ID); m.ExternalID != ids[0] || !strings.HasPrefix(m.ExternalID, "wamid.") {
		t.Fatalf("the reply's id %q, parts %v", m.ExternalID, ids)
	}
	e.post(graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret, graphtest.Status(ids[1], "15551234567", "delivered", time.Now(), 0, "")))
	e.waitFor("delivered by the second message's status", func() bool { return e.message(r.ID).Delivery == "delivered" })
}
