package telegram_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"onedesk/channels/social"
	"onedesk/channels/telegram/telegramtest"
	"onedesk/desk"
	"onedesk/store"
)

// longReply is a reply Telegram takes in two messages, and its parts.
func longReply(t *testing.T) (string, []string) {
	t.Helper()
	body := strings.Repeat("Your parcel left our store today. ", 80) + "\n" + strings.Repeat("Tracking follows by mail. ", 80)
	parts := social.SplitText(body, 4096)
	if len(parts) != 2 {
		t.Fatalf("%d parts, want 2", len(parts))
	}
	return body, parts
}

// sends lists the server's sending calls in order, a text as "text N"
// when it is part N of parts, a file as "file:" and its name.
func (e *env) sends(parts []string) []string {
	var out []string
	for _, c := range e.api.Calls("") {
		switch c.Method {
		case "sendMessage":
			text, _ := c.Params["text"].(string)
			if i := slices.Index(parts, text); i >= 0 {
				out = append(out, fmt.Sprintf("text %d", i+1))
			} else {
				out = append(out, fmt.Sprintf("%.40q", text))
			}
		case "sendDocument", "sendPhoto":
			out = append(out, "file:"+c.Name)
		}
	}
	return out
}

func (e *env) replyWithParts(body string) *store.Message {
	e.t.Helper()
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "Where is my parcel?"})})
	e.waitFor("the message", func() bool { return len(e.messages()) == 1 })
	r, err := e.d.Reply(context.Background(), desk.System, e.ticket().ID, desk.ReplyInput{Body: body,
		Attachments: []store.Attachment{{Filename: "label.pdf", ContentType: "application/pdf", Size: 10, Data: []byte("%PDF-label")}}})
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// Telegram fails the second of a reply's three messages with a 502: the
// outbox tries again from that part, so the customer gets each part once,
// in order, and the reply keeps the first message's id.
func TestReplyResumesAfterPartFailed(t *testing.T) {
	e := newEnv(t, "")
	body, parts := longReply(t)
	e.api.Fail("sendMessage", telegramtest.Failure{Status: 502, Description: "Bad Gateway", After: 1})
	r := e.replyWithParts(body)
	var m *store.Message
	e.waitFor("the reply sent", func() bool {
		m, _ = e.db.Message(context.Background(), r.ID)
		return m.Delivery == "sent"
	})
	// The 502 was answered to the second call; the others went through.
	if got, want := e.sends(parts), []string{"text 1", "text 2", "text 2", "file:label.pdf"}; !slices.Equal(got, want) {
		t.Fatalf("calls %q", got)
	}
	if m.ExternalID != "tg:123456789:42:1001" {
		t.Fatalf("the reply's id %q, want the first message's", m.ExternalID)
	}
}

// The file of a reply is refused for good after its text went out: the
// reply fails; when the agent retries, only the file goes out.
func TestRetriedReplySendsOnlyMissingParts(t *testing.T) {
	e := newEnv(t, "")
	body, parts := longReply(t)
	e.api.Fail("sendDocument", telegramtest.Failure{Status: 400, Description: "Bad Request: wrong file identifier/HTTP URL specified"})
	r := e.replyWithParts(body)
	var m *store.Message
	e.waitFor("the reply failed", func() bool {
		m, _ = e.db.Message(context.Background(), r.ID)
		return m.Delivery == "failed"
	})
	if got, want := e.sends(parts), []string{"text 1", "text 2", "file:label.pdf"}; !slices.Equal(got, want) {
		t.Fatalf("calls %q", got)
	}
	if _, err := e.d.Retry(context.Background(), desk.System, r.ID); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reply sent", func() bool {
		m, _ = e.db.Message(context.Background(), r.ID)
		return m.Delivery == "sent"
	})
	if got, want := e.sends(parts), []string{"text 1", "text 2", "file:label.pdf", "file:label.pdf"}; !slices.Equal(got, want) {
		t.Fatalf("calls %q", got)
	}
	if m.ExternalID != "tg:123456789:42:1001" {
		t.Fatalf("the reply's id %q, want the first message's", m.ExternalID)
	}
}
