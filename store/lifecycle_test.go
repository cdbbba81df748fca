package store_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"onedesk/store"
)

// A ticket's life through the store, on both engines: customers and
// identities, a ticket with tags and fields, messages with a file, events,
// the outbox, participants, claims, a customer merge and its undo.
func TestTicketLifecycle(t *testing.T) { store.ForEachEngine(t, testTicketLifecycle) }

func testTicketLifecycle(t *testing.T) {
	db := open(t)
	ctx := context.Background()
	now := store.Now()
	anna := &store.Customer{Name: "Anna", CreatedAt: now}
	bob := &store.Customer{Name: "Bob", CreatedAt: now}
	var ticket store.Ticket
	var reply store.Message
	err := db.Write(ctx, func(tx *store.Tx) error {
		for _, c := range []*store.Customer{anna, bob} {
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
		}
		if err := tx.AddIdentity(ctx, anna.ID, store.Identity{Kind: "email", Value: "anna@shop.test"}); err != nil {
			return err
		}
		if err := tx.AddIdentity(ctx, bob.ID, store.Identity{Kind: "phone", Value: "+351911111111"}); err != nil {
			return err
		}
		ticket = store.Ticket{Subject: "Where is my parcel?", Status: "open", Priority: "normal", Channel: "email",
			CustomerID: anna.ID, Tags: []string{"late", "vip"}, Fields: json.RawMessage(`{"order":"1001","gift":true}`),
			CreatedAt: now, UpdatedAt: now, LastCustomerAt: &now}
		if err := tx.InsertTicket(ctx, &ticket); err != nil {
			return err
		}
		in := store.Message{TicketID: ticket.ID, Kind: "customer", Channel: "email", Body: "It is late", ExternalID: "<m1@shop.test>",
			CreatedAt: now, Attachments: []store.Attachment{{Filename: "a.txt", ContentType: "text/plain", Data: []byte("hello")}}}
		if err := tx.InsertMessage(ctx, &in); err != nil {
			return err
		}
		reply = store.Message{TicketID: ticket.ID, Kind: "agent", Channel: "email", Body: "On its way", Delivery: "queued", CreatedAt: now}
		if err := tx.InsertMessage(ctx, &reply); err != nil {
			return err
		}
		if err := tx.Enqueue(ctx, reply.ID, now); err != nil {
			return err
		}
		if err := tx.InsertEvent(ctx, &store.Event{TicketID: ticket.ID, Type: "replied", Actor: "1", CreatedAt: now}); err != nil {
			return err
		}
		if _, err := tx.AddParticipant(ctx, ticket.ID, bob.ID); err != nil {
			return err
		}
		return tx.AddClaim(ctx, bob.ID, store.Identity{Kind: "email", Value: "anna@shop.test"})
	})
	if err != nil {
		t.Fatal(err)
	}

	// The same external id twice is a conflict, and the write that tried
	// it leaves nothing behind while the transaction goes on.
	err = db.Write(ctx, func(tx *store.Tx) error {
		return tx.InsertMessage(ctx, &store.Message{TicketID: ticket.ID, Kind: "customer", Channel: "email", Body: "again",
			ExternalID: "<m1@shop.test>", CreatedAt: now})
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("duplicate message: %v", err)
	}
	msgs, err := db.Messages(ctx, ticket.ID)
	if err != nil || len(msgs) != 2 || len(msgs[0].Attachments) != 1 {
		t.Fatalf("messages: %+v %v", msgs, err)
	}
	if a, _, err := db.AttachmentData(ctx, msgs[0].Attachments[0].ID); err != nil || string(a.Data) != "hello" {
		t.Fatalf("attachment: %+v %v", a, err)
	}
	for _, f := range []store.TicketFilter{
		{Tags: []string{"vip"}},
		{Fields: map[string]string{"order": "1001"}},
		{Fields: map[string]string{"gift": "1"}},
		{CustomerID: &anna.ID, Statuses: []string{"open"}},
	} {
		list, _, err := db.ListTickets(ctx, f)
		if err != nil || len(list) != 1 || list[0].ID != ticket.ID || list[0].CustomerName != "Anna" {
			t.Fatalf("list %+v: %+v %v", f, list, err)
		}
	}
	if list, _, err := db.ListTickets(ctx, store.TicketFilter{Tags: []string{"refund"}}); err != nil || len(list) != 0 {
		t.Fatalf("list by a tag nobody has: %+v %v", list, err)
	}
	due, err := db.DueOutbox(ctx, now.Add(time.Second), 10)
	if err != nil || len(due) != 1 || due[0].MessageID != reply.ID {
		t.Fatalf("outbox: %+v %v", due, err)
	}
	if events, err := db.Events(ctx, ticket.ID); err != nil || len(events) != 1 || string(events[0].Data) != "{}" {
		t.Fatalf("events: %+v %v", events, err)
	}

	// Merge Bob into Anna, then undo it.
	var merge *store.Merge
	err = db.Write(ctx, func(tx *store.Tx) error {
		var err error
		merge, err = tx.MergeCustomers(ctx, anna.ID, bob.ID, "1")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	kept, err := db.Customer(ctx, anna.ID)
	if err != nil || len(kept.Identities) != 2 {
		t.Fatalf("kept customer: %+v %v", kept, err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		m, err := tx.MergeOf(ctx, anna.ID, store.Identity{Kind: "phone", Value: "+351911111111"})
		if err != nil {
			return err
		}
		if m.ID != merge.ID {
			t.Errorf("merge of the phone: %d, want %d", m.ID, merge.ID)
		}
		return tx.UndoMerge(ctx, m)
	})
	if err != nil {
		t.Fatal(err)
	}
	back, err := db.Customer(ctx, bob.ID)
	if err != nil || back.MergedInto != nil || len(back.Identities) != 1 {
		t.Fatalf("customer after undo: %+v %v", back, err)
	}
	if _, err := db.CustomerTimeline(ctx, anna.ID, 0, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Suggestions(ctx, anna.ID); err != nil {
		t.Fatal(err)
	}
}
