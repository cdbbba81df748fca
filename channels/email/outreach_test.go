package email

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-message/mail"

	"onedesk/desk"
	"onedesk/store"
)

// An agent writes first: the mail reaches the SMTP server with the
// agent's and the store's signatures in both parts and no "Re:", and the
// customer's answer, read over IMAP, threads into the same ticket.
func TestAgentStartedMailIsSignedAndTheAnswerThreads(t *testing.T) {
	r := newRig(t)
	ctx := context.Background()
	sig := "{agent_first_name} — {store_name} support"
	st, err := r.desk.SaveStore(ctx, 0, desk.StoreInput{Name: "Blue Shop", Signature: &sig})
	if err != nil {
		t.Fatal(err)
	}
	mine := "Cheers,\n{agent_name}"
	a, err := r.desk.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann Lee", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.desk.UpdateAgent(ctx, a.ID, desk.AgentInput{Signature: &mine}); err != nil {
		t.Fatal(err)
	}
	tk, m, err := r.desk.StartConversation(ctx, desk.AgentActor(a.ID), desk.Start{
		StoreID: &st.ID, To: "Greta@Example.com", Name: "Greta", Subject: "Your parcel came back",
		Body: "Your parcel was returned to us: which address should we use?",
	})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Status != "pending" || tk.Channel != "email" || tk.AssigneeID == nil || *tk.AssigneeID != a.ID || m.Kind != "agent" {
		t.Fatalf("started ticket %+v, message %+v", tk, m)
	}
	wantSig := "Cheers,\nAnn Lee\n\nAnn — Blue Shop support"
	if m.Signature != wantSig {
		t.Fatalf("signature kept on the message: %q", m.Signature)
	}
	r.waitFor("first message sent", func() bool { m, _ := r.db.Message(ctx, m.ID); return m.Delivery == "sent" })
	got := r.sink.messages()
	if len(got) != 1 {
		t.Fatalf("SMTP server got %d messages", len(got))
	}
	mr, err := mail.CreateReader(bytes.NewReader(got[0]))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := mr.Header.Subject()
	to, _ := mr.Header.AddressList("To")
	msgID, _ := mr.Header.MessageID()
	if subject != fmt.Sprintf("Your parcel came back [#%d]", tk.ID) || len(to) != 1 || to[0].Address != "greta@example.com" {
		t.Fatalf("first message headers: subject %q, to %v", subject, to)
	}
	var text, html string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p.Body)
		if h, ok := p.Header.(*mail.InlineHeader); ok {
			ct, _, _ := h.ContentType()
			switch ct {
			case "text/plain":
				text = strings.ReplaceAll(string(b), "\r\n", "\n")
			case "text/html":
				html = string(b)
			}
		}
	}
	if !strings.Contains(text, "which address should we use?\n\n-- \nCheers,\nAnn Lee\n\nAnn — Blue Shop support") {
		t.Fatalf("text part without the signature:\n%s", text)
	}
	if !strings.Contains(html, `class="onedesk-signature"`) || !strings.Contains(html, "Ann Lee") || !strings.Contains(html, "Blue Shop support") {
		t.Fatalf("HTML part without the signature:\n%s", html)
	}

	// Greta answers from her mail program.
	appendMail(t, r.imapAddr, "INBOX", fmt.Sprintf("From: Greta <greta@example.com>\nTo: support@shop.test\nSubject: Re: Your parcel came back\nMessage-ID: <g1@example.com>\nIn-Reply-To: <%s>\nReferences: <%s>\n\nPlease send it to my office.\n", msgID, msgID))
	r.waitFor("the answer threaded", func() bool { return len(r.messages(tk.ID)) == 2 })
	if n := len(r.tickets()); n != 1 {
		t.Fatalf("the answer opened another ticket: %d tickets", n)
	}
	after, _ := r.db.Ticket(ctx, tk.ID)
	if after.Status != "open" {
		t.Fatalf("the customer's answer left the ticket %s", after.Status)
	}

	// A reply with the signature switched off, and a reply on a chat
	// ticket, go without one.
	plain, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), tk.ID, desk.ReplyInput{Body: "Done!", NoSignature: true})
	if err != nil || plain.Signature != "" {
		t.Fatalf("reply without signature: %+v, %v", plain, err)
	}
	chat, err := r.desk.Ingest(ctx, desk.Inbound{Channel: "chat", StoreID: &st.ID, From: store.Identity{Kind: "visitor", Value: "v-1"}, Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	cm, err := r.desk.Reply(ctx, desk.AgentActor(a.ID), chat.Ticket.ID, desk.ReplyInput{Body: "Hello!"})
	if err != nil || cm.Signature != "" {
		t.Fatalf("chat reply signed: %+v, %v", cm, err)
	}

	// A second conversation to another address of Greta's goes there,
	// not to the first address on her record.
	tk2, m2, err := r.desk.StartConversation(ctx, desk.AgentActor(a.ID), desk.Start{
		StoreID: &st.ID, CustomerID: tk.CustomerID, To: "greta@office.example", Subject: "Your new parcel", Body: "It left today.",
	})
	if err != nil {
		t.Fatal(err)
	}
	if tk2.CustomerID != tk.CustomerID {
		t.Fatalf("second conversation on customer %d, want %d", tk2.CustomerID, tk.CustomerID)
	}
	r.waitFor("second first message sent", func() bool { m, _ := r.db.Message(ctx, m2.ID); return m.Delivery == "sent" })
	// The reply "Done!" may leave after it: find the mail by its subject.
	var sentTo []*mail.Address
	for _, raw := range r.sink.messages() {
		mr, err := mail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if subject, _ := mr.Header.Subject(); strings.HasPrefix(subject, "Your new parcel") {
			sentTo, _ = mr.Header.AddressList("To")
		}
	}
	if len(sentTo) != 1 || sentTo[0].Address != "greta@office.example" {
		t.Fatalf("second conversation went to %v, want greta@office.example", sentTo)
	}
}
