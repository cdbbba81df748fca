package telegram_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"testing"

	"onedesk/channels/telegram"
	"onedesk/csat"
	"onedesk/desk"
	"onedesk/store"
)

// A resolved ticket's satisfaction question goes as a message with one
// inline button per rating; a pressed button (callback_query) records the
// rating, is answered with thanks, and is not a message on the ticket;
// pressed again it is refused.
func TestSurveyInlineButtons(t *testing.T) {
	ctx := context.Background()
	var svc *csat.Service
	e := newEnvOpts(t, telegram.Options{}, func(d *desk.Desk) {
		svc = csat.New(d, slog.New(slog.DiscardHandler), func() string { return "https://desk.example.com" })
	})
	if _, err := svc.SaveSettings(ctx, *e.acct.StoreID, csat.Settings{Enabled: true, Scale: "five"}); err != nil {
		t.Fatal(err)
	}
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "My parcel is late"})})
	e.waitFor("the ticket", func() bool { return len(e.messages()) == 1 })
	tk := e.ticket()
	if _, err := e.d.SetStatus(ctx, desk.System, tk.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	if n, err := svc.SendDue(ctx, store.Now()); err != nil || n != 1 {
		t.Fatalf("sent %d: %v", n, err)
	}
	var buttons []map[string]any
	e.waitFor("the question", func() bool {
		for _, c := range e.api.Calls("sendMessage") {
			if rm, ok := c.Params["reply_markup"]; ok {
				b, _ := json.Marshal(rm)
				var kb struct {
					Rows [][]map[string]any `json:"inline_keyboard"`
				}
				json.Unmarshal(b, &kb)
				if len(kb.Rows) == 1 {
					buttons = kb.Rows[0]
				}
				return c.Params["text"] == csat.DefaultQuestion("en")
			}
		}
		return false
	})
	if len(buttons) != 5 || buttons[4]["text"] != "5 😀" {
		t.Fatalf("buttons %v", buttons)
	}
	press := func(id string) {
		e.api.Push(map[string]any{"callback_query": map[string]any{"id": id, "from": ana, "data": buttons[4]["callback_data"],
			"message": message(99, map[string]any{"text": csat.DefaultQuestion("en")})}})
	}
	answer := func(id string) string {
		for _, c := range e.api.Calls("answerCallbackQuery") {
			if c.Params["callback_query_id"] == id {
				s, _ := c.Params["text"].(string)
				return s
			}
		}
		return ""
	}
	press("cb1")
	e.waitFor("the thanks", func() bool { return answer("cb1") != "" })
	if got := answer("cb1"); got != "Thank you for your rating!" {
		t.Errorf("answer %q", got)
	}
	list, err := svc.Surveys(ctx, tk.ID)
	if err != nil || len(list) != 1 || list[0].Rating != 5 || list[0].AskedVia != "telegram" {
		t.Fatalf("surveys %+v %v", list, err)
	}
	press("cb2")
	e.waitFor("the refusal", func() bool { return answer("cb2") != "" })
	if got := answer("cb2"); got != "this conversation was rated already: thank you" {
		t.Errorf("pressed again: %q", got)
	}
	// The ticket has the question and the customer's first message only,
	// and is still resolved.
	if ms := e.messages(); len(ms) != 2 || ms[1].Auto != "csat" {
		t.Errorf("messages %+v", ms)
	}
	if st := e.ticket().Status; st != "resolved" {
		t.Errorf("status %s", st)
	}
}
