package whatsapp_test

import (
	"context"
	"strings"
	"testing"

	"onedesk/desk"
)

// An agent writes first on WhatsApp with an approved template: it goes to
// the customer's number as a template, the ticket waits for them, and
// their answer (by phone number) lands on the same ticket.
func TestStartConversationWithTemplate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, _, err := e.d.StartConversation(ctx, desk.AgentActor(e.agent), desk.Start{Channel: "whatsapp", To: "+420 601 234 999"}); err == nil ||
		!strings.Contains(err.Error(), "template") {
		t.Fatalf("a first WhatsApp message without a template: %v", err)
	}
	tk, m, err := e.d.StartConversation(ctx, desk.AgentActor(e.agent), desk.Start{
		Channel: "whatsapp", To: "+420 601 234 999", Name: "Petr",
		Template: &desk.TemplateReply{Name: "order_update", Language: "en_US", Params: []string{"Petr", "1002"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Channel != "whatsapp" || tk.Status != "pending" || m.Body != "Hello Petr, your order 1002 has news: reply to this message to talk to us." || m.Signature != "" {
		t.Fatalf("started %+v, message %+v", tk, m)
	}
	e.waitFor("the template sent", func() bool { return e.message(m.ID).Delivery == "sent" })
	sends := e.graph.Calls("/messages")
	last := sends[len(sends)-1].Body
	if last["type"] != "template" || last["to"] != "420601234999" {
		t.Fatalf("template call %+v", last)
	}
	e.post(text("420601234999", "wamid.petr1", "Thanks, what news?"))
	e.waitFor("the answer on the same ticket", func() bool { return len(e.messages(tk.ID)) == 2 })
	if n := len(e.tickets()); n != 1 {
		t.Fatalf("%d WhatsApp tickets, want 1", n)
	}
	if got, _ := e.db.Ticket(ctx, tk.ID); got.Status != "open" {
		t.Fatalf("the answer left the ticket %s", got.Status)
	}
}
