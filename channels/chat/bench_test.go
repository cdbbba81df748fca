package chat

import (
	"fmt"
	"testing"

	"onedesk/limit"
)

// BenchmarkVisitorMessage is one visitor message over the websocket until
// its ack: the ingest path the load test drives a thousand times a second.
func BenchmarkVisitorMessage(b *testing.B) {
	e := newEnv(b)
	e.chat.visitorLimit = limit.New(-1, 0) // one visitor here stands for many
	const visitors = 100
	ws := make([]*widget, visitors)
	for i := range ws {
		ws[i], _ = e.hello("")
	}
	b.ResetTimer()
	for i := range b.N {
		w := ws[i%visitors]
		w.send(frame{Type: "msg", CID: fmt.Sprint(i), Text: fmt.Sprintf("message %d about the blue shoes", i)})
		w.next("ack")
	}
}
