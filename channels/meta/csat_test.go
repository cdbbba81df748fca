package meta_test

import (
	"context"
	"log/slog"
	"testing"

	"onedesk/channels/meta/metatest"
	"onedesk/csat"
	"onedesk/desk"
	"onedesk/store"
)

// On Messenger the question goes with quick replies; the one tapped
// records the rating (not a message on the ticket) and is thanked.
func TestSurveyQuickReplies(t *testing.T) {
	ctx := context.Background()
	var svc *csat.Service
	e := newEnv(t, func(d *desk.Desk) {
		svc = csat.New(d, slog.New(slog.DiscardHandler), func() string { return "https://desk.example.com" })
	})
	if _, err := svc.SaveSettings(ctx, *e.acct.StoreID, csat.Settings{Enabled: true, Scale: "five"}); err != nil {
		t.Fatal(err)
	}
	e.api.AddProfile("5551", "Ana Silva", "")
	e.deliver(metatest.Delivery("page", metatest.PageID, metatest.Message("5551", metatest.PageID, "m_ana1", map[string]any{"text": "Where is order 1001?"})))
	e.waitFor("the ticket", func() bool { return len(e.tickets("messenger")) == 1 })
	tk := e.tickets("messenger")[0]
	if _, err := e.d.SetStatus(ctx, desk.System, tk.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.SendDue(ctx, store.Now()); err != nil || n != 1 {
		t.Fatalf("sent %d: %v", n, err)
	}
	var replies []any
	e.waitFor("the question", func() bool {
		for _, c := range e.api.Calls("POST", metatest.PageID+"/messages") {
			msg, _ := c.Body["message"].(map[string]any)
			if qr, ok := msg["quick_replies"].([]any); ok {
				replies = qr
				return true
			}
		}
		return false
	})
	if len(replies) != 5 {
		t.Fatalf("quick replies %v", replies)
	}
	three := replies[2].(map[string]any)
	e.deliver(metatest.Delivery("page", metatest.PageID, metatest.Message("5551", metatest.PageID, "m_ana2",
		map[string]any{"text": three["title"], "quick_reply": map[string]any{"payload": three["payload"]}})))
	e.waitFor("the rating", func() bool {
		list, err := svc.Surveys(ctx, tk.ID)
		return err == nil && len(list) == 1 && list[0].Rating == 3 && list[0].AskedVia == "messenger"
	})
	e.waitFor("the thanks", func() bool {
		for _, c := range e.api.Calls("POST", metatest.PageID+"/messages") {
			if msg, _ := c.Body["message"].(map[string]any); msg["text"] == "Thank you for your rating!" {
				return true
			}
		}
		return false
	})
	for _, m := range e.messages("messenger") {
		if m.Kind == "customer" && m.ExternalID != "m_ana1" {
			t.Errorf("a quick reply became a message: %+v", m)
		}
	}
}
