package whatsapp_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"onedesk/channels/whatsapp/graphtest"
	"onedesk/csat"
	"onedesk/desk"
	"onedesk/store"
)

// While the 24-hour window is open, a resolved ticket's question goes as
// an interactive message with reply buttons; the button's reply records
// the rating (not a message on the ticket) and the customer is thanked.
// With the window closed and no email address, the question is skipped.
func TestSurveyInteractiveButtons(t *testing.T) {
	ctx := context.Background()
	var svc *csat.Service
	e := newEnv(t, func(d *desk.Desk) {
		svc = csat.New(d, slog.New(slog.DiscardHandler), func() string { return "https://desk.example.com" })
	})
	if _, err := svc.SaveSettings(ctx, *e.acct.StoreID, csat.Settings{Enabled: true, Scale: "thumbs"}); err != nil {
		t.Fatal(err)
	}
	if code := e.post(text("15551234567", "wamid.in1", "Where is my order?")); code != 200 {
		t.Fatalf("post %d", code)
	}
	e.waitFor("the ticket", func() bool { return len(e.tickets()) == 1 })
	tk := e.tickets()[0]
	if _, err := e.d.SetStatus(ctx, desk.System, tk.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.SendDue(ctx, store.Now()); err != nil || n != 1 {
		t.Fatalf("sent %d: %v", n, err)
	}
	var buttons []any
	e.waitFor("the question", func() bool {
		for _, c := range e.graph.Calls("/messages") {
			if c.Body["type"] == "interactive" {
				in, _ := c.Body["interactive"].(map[string]any)
				action, _ := in["action"].(map[string]any)
				buttons, _ = action["buttons"].([]any)
				return in["type"] == "button"
			}
		}
		return false
	})
	if len(buttons) != 2 {
		t.Fatalf("buttons %v", buttons)
	}
	down := buttons[1].(map[string]any)["reply"].(map[string]any)
	if down["title"] != "👎" {
		t.Fatalf("second button %v", down)
	}
	reply := func(wamid string) int {
		return e.post(graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret,
			graphtest.Message("15551234567", "Ana Silva", wamid, time.Now(), map[string]any{"type": "interactive",
				"interactive": map[string]any{"type": "button_reply", "button_reply": map[string]any{"id": down["id"], "title": "👎"}}})))
	}
	if code := reply("wamid.in2"); code != 200 {
		t.Fatalf("post %d", code)
	}
	e.waitFor("the rating", func() bool {
		list, err := svc.Surveys(ctx, tk.ID)
		return err == nil && len(list) == 1 && list[0].Rating == 1
	})
	e.waitFor("the thanks", func() bool {
		for _, c := range e.graph.Calls("/messages") {
			if txt, ok := c.Body["text"].(map[string]any); ok && txt["body"] == "Thank you for your rating!" {
				return true
			}
		}
		return false
	})
	reply("wamid.in3") // again: refused, nothing changes
	for _, m := range e.messages(tk.ID) {
		if m.Kind == "customer" && m.ExternalID != "wamid.in1" {
			t.Errorf("a button reply became a message: %+v", m)
		}
	}
	if list, _ := svc.Surveys(ctx, tk.ID); list[0].Rating != 1 {
		t.Errorf("rating %d after a second reply", list[0].Rating)
	}

	// The window closed (the customer wrote two days ago), no email: skipped.
	if code := e.post(text("15557654321", "wamid.in4", "Hello")); code != 200 {
		t.Fatalf("post %d", code)
	}
	e.waitFor("the second ticket", func() bool { return len(e.tickets()) == 2 })
	var other int64
	for _, x := range e.tickets() {
		if x.ID != tk.ID {
			other = x.ID
		}
	}
	if err := e.db.Write(ctx, func(tx *store.Tx) error {
		x, err := tx.Ticket(ctx, other)
		if err != nil {
			return err
		}
		old := store.Now().Add(-48 * time.Hour)
		x.LastCustomerAt = &old
		return tx.UpdateTicket(ctx, x)
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.d.SetStatus(ctx, desk.System, other, "resolved"); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.SendDue(ctx, store.Now()); err != nil || n != 1 {
		t.Fatalf("sent %d: %v", n, err)
	}
	if list, _ := svc.Surveys(ctx, other); len(list) != 1 || list[0].Status != "skipped" || list[0].SkipReason != "window_closed" {
		t.Errorf("closed window: %+v", list[0])
	}
}
