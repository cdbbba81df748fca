package telegram_test

import (
	"bytes"
	"fmt"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"onedesk/channels/telegram"
)

// BenchmarkWebhookDelivery is one text message through the webhook, in
// process: its secret checked, the delivery committed, the 200 written
// (the message is made beside it). A thousand chats write in turn, so
// most messages follow up on a ticket.
func BenchmarkWebhookDelivery(b *testing.B) {
	e := newEnvOpts(b, telegram.Options{PublicURL: "https://desk.example.com", HookRate: -1})
	var secret string
	e.waitFor("the webhook set", func() bool { _, secret = e.api.Webhook(); return secret != "" })
	path := fmt.Sprintf("/hooks/telegram/%d", e.acct.ID)
	b.ResetTimer()
	for i := range b.N {
		chat := 1000 + i%1000
		body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"text":"Where is order %d?",`+
			`"from":{"id":%d,"first_name":"Customer"},"chat":{"id":%d,"type":"private"}}}`, i+1, i+1, i, chat, chat)
		req := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		w := httptest.NewRecorder()
		e.ch.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("delivery %d: %d %s", i, w.Code, w.Body)
		}
	}
}

// BenchmarkWebhookDeliveryParallel is the same with 32 deliveries in
// flight, as Telegram's (up to 40) connections make them.
func BenchmarkWebhookDeliveryParallel(b *testing.B) {
	e := newEnvOpts(b, telegram.Options{PublicURL: "https://desk.example.com", HookRate: -1})
	var secret string
	e.waitFor("the webhook set", func() bool { _, secret = e.api.Webhook(); return secret != "" })
	path := fmt.Sprintf("/hooks/telegram/%d", e.acct.ID)
	var n atomic.Int64
	b.SetParallelism(16)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			chat := 1000 + i%1000
			body := fmt.Sprintf(`{"update_id":%d,"message":{"message_id":%d,"date":1700000000,"text":"Where is order %d?",`+
				`"from":{"id":%d,"first_name":"Customer"},"chat":{"id":%d,"type":"private"}}}`, i, i, i, chat, chat)
			req := httptest.NewRequest("POST", path, bytes.NewReader([]byte(body)))
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
			w := httptest.NewRecorder()
			e.ch.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Errorf("delivery %d: %d %s", i, w.Code, w.Body)
				return
			}
		}
	})
}
