package ui_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// An agent socket behind by a burst on a slow link catches up instead of
// being dropped: what it has not sent waits in its queue, with a busy
// ticket's snapshots coalesced. A socket that stops reading is still
// dropped, once its queue is full, so memory stays bounded.
func TestAgentSocketCatchesUpAfterABurst(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	dial := func() *websocket.Conn {
		url := "ws" + strings.TrimPrefix(e.srv.URL, "http") + "/agent/ws"
		conn, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{HTTPClient: admin.http})
		if err != nil {
			t.Fatal(err)
		}
		conn.SetReadLimit(1 << 20)
		t.Cleanup(func() { conn.CloseNow() })
		if _, _, err := conn.Read(ctx); err != nil { // hello
			t.Fatal(err)
		}
		return conn
	}
	// Big enough that the socket's kernel buffers fill long before the
	// burst ends: the server's writer waits for the reader, as on a slow
	// link.
	body := strings.Repeat("x", 8<<10)
	burst := func(from, n int) {
		for i := from; i < from+n; i += 10 {
			var list []desk.Change
			for j := i; j < i+10; j++ {
				tid := int64(j%50 + 1)
				list = append(list,
					desk.Change{Type: "message", TicketID: tid, Message: &store.Message{ID: int64(j), TicketID: tid, Kind: "customer", Body: body}},
					desk.Change{Type: "ticket", TicketID: tid, Ticket: &store.Ticket{ID: tid, Subject: "after " + string(rune('0'+j%10))}})
			}
			e.desk.Bus().Publish(list...) // one commit's changes
			// Commits come one after another (20,000 changes a second
			// here, far above a busy desk's), not in one loop.
			time.Sleep(time.Millisecond)
		}
	}
	type frame struct {
		Type    string
		Message *struct{ ID int64 }
	}

	// 1. Live but slow: 3,000 messages (24 MB) and 3,000 snapshots of 50
	// tickets published while the app reads nothing, then it reads.
	conn := dial()
	burst(0, 3000)
	messages, tickets := 0, 0
	for messages < 3000 {
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatalf("dropped after %d of 3000 messages: %v", messages, err)
		}
		var f frame
		json.Unmarshal(b, &f)
		switch f.Type {
		case "message":
			messages++
		case "ticket":
			tickets++
		}
	}
	t.Logf("3000 messages arrived, with %d ticket snapshots of 3000 (coalesced)", tickets)

	// 2. Stuck: the app never reads again; the socket is dropped once its
	// queue is full, and says why.
	burst(3000, 6000)
	for {
		_, _, err := conn.Read(ctx)
		if err != nil {
			if code := websocket.CloseStatus(err); code != websocket.StatusTryAgainLater {
				t.Fatalf("stuck socket ended with %v", err)
			}
			break
		}
	}
}
