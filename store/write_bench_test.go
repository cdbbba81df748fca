package store_test

import (
	"context"
	"path/filepath"
	"testing"

	"onedesk/store"
)

// BenchmarkWriteTicket is the ingest's statements for a new conversation
// (customer, ticket, message, event) as one write, one after another on a
// fresh file: what RETURNING id and the engine checks cost a write.
func BenchmarkWriteTicket(b *testing.B) {
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(b.TempDir(), "w.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	b.ResetTimer()
	for range b.N {
		err := db.Write(ctx, func(tx *store.Tx) error {
			now := store.Now()
			c := &store.Customer{Name: "Anna", CreatedAt: now}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			tk := &store.Ticket{Subject: "Where is my parcel?", Status: "new", Priority: "normal", Channel: "email",
				CustomerID: c.ID, CreatedAt: now, UpdatedAt: now, LastCustomerAt: &now}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			m := &store.Message{TicketID: tk.ID, Kind: "customer", Channel: "email", Body: "It is late", CreatedAt: now}
			if err := tx.InsertMessage(ctx, m); err != nil {
				return err
			}
			return tx.InsertEvent(ctx, &store.Event{TicketID: tk.ID, Type: "created", Actor: "customer", CreatedAt: now})
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
