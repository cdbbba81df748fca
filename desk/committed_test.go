package desk_test

import (
	"context"
	"testing"
	"time"

	"onedesk/desk"
)

// Committed hands each published change to its subscriber and, when the
// subscriber falls behind and is dropped, says so with a zero Change and
// subscribes again.
func TestCommittedResubscribesWhenDropped(t *testing.T) {
	d, _ := newDesk(t)
	c, cancel := context.WithCancel(ctx)
	got := make(chan desk.Change, 1000)
	holding, release := make(chan struct{}), make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		first := true
		d.Committed(c, func(ch desk.Change) {
			if first {
				first = false
				close(holding)
				<-release // fall behind while the bus fills up
			}
			got <- ch
		})
	}()
	wait := func(what string, ok func(desk.Change) bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		for {
			select {
			case ch := <-got:
				if ok(ch) {
					return
				}
			case <-deadline:
				t.Fatalf("no %s in 20 s", what)
			}
		}
	}
	// The first change to arrive (once subscribed) holds the subscriber;
	// then it is dropped (a full buffer of 64 and one more).
	for subscribed := false; !subscribed; {
		d.Bus().Publish(desk.Change{Type: "ticket", TicketID: 1})
		select {
		case <-holding:
			subscribed = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	for i := range 200 {
		d.Bus().Publish(desk.Change{Type: "ticket", TicketID: int64(i + 2)})
	}
	close(release)
	wait("sign of missed changes", func(ch desk.Change) bool { return ch == (desk.Change{}) })
	// Subscribed again: a change published now arrives.
	res := ingest(t, d, desk.Inbound{From: email("a@example.com"), Subject: "After", Text: "one"})
	wait("change after the drop", func(ch desk.Change) bool { return ch.TicketID == res.Ticket.ID })
	cancel()
	<-done
}
