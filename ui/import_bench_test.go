package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/ui"
)

// BenchmarkImportAPI measures POST /api/import over HTTP (on a SQLite
// file, then on PostgreSQL): each run is one request of 100 tickets of 5 messages (a customer
// message, agent replies, a note, a colleague kept by name; one small
// file a ticket), all new. Reported: tickets and messages a second.
//
//	go test ./ui -run '^$' -bench ImportAPI -benchtime 20x
func BenchmarkImportAPI(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, storetest.Data(b)) // a SQLite file, or PostgreSQL on that pass
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	srv := httptest.NewServer(ui.New(d, log, ui.Options{APIRate: -1}).Handler())
	defer srv.Close()
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	csrf := ""
	post := func(path string, body []byte) []byte {
		req, _ := http.NewRequest("POST", srv.URL+path, bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		out, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			b.Fatalf("%s: %d %s", path, res.StatusCode, out)
		}
		return out
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	json.Unmarshal(post("/api/setup", []byte(`{"email":"owner@shop.test","name":"Olga","password":"correct horse"}`)), &me)
	csrf = me.CSRF
	post("/api/agents", []byte(`{"email":"ann@shop.test","name":"Ann","role":"agent","password":"12345678"}`))
	const perBatch = 100
	day := time.Date(2022, 1, 1, 9, 0, 0, 0, time.UTC)
	batch := func(n int) []byte {
		tickets := make([]any, perBatch)
		for i := range tickets {
			id := fmt.Sprintf("bench:%d:%d", n, i)
			at := func(h int) string {
				return day.Add(time.Duration(n*perBatch+i)*time.Hour + time.Duration(h)*time.Minute).Format(time.RFC3339)
			}
			cust := map[string]any{"email": fmt.Sprintf("c%d@example.com", (n*perBatch+i)%5000), "name": "Customer"}
			tickets[i] = map[string]any{"external_id": id, "subject": "Order question " + id, "status": "resolved", "channel": "email",
				"tags": []string{"imported"}, "customer": cust,
				"messages": []any{
					map[string]any{"external_id": id + ":1", "author": cust, "body": "Where is my order? It has been a week.", "created_at": at(0),
						"attachments": []any{map[string]any{"filename": "receipt.txt", "content_type": "text/plain", "content_base64": "UmVjZWlwdCAxMDAx"}}},
					map[string]any{"external_id": id + ":2", "author": map[string]any{"email": "ann@shop.test"}, "body": "It ships today, tracking follows.", "created_at": at(10)},
					map[string]any{"external_id": id + ":3", "author": map[string]any{"email": "ann@shop.test"}, "internal": true, "body": "Checked with the warehouse.", "created_at": at(11)},
					map[string]any{"external_id": id + ":4", "author": map[string]any{"name": "Warehouse Bot", "role": "agent"}, "body": "Tracking: RR123456789PT", "created_at": at(20)},
					map[string]any{"external_id": id + ":5", "author": cust, "body": "Got it, thank you!", "created_at": at(60)},
				}}
		}
		raw, _ := json.Marshal(map[string]any{"tickets": tickets})
		return raw
	}
	bodies := make([][]byte, b.N)
	for i := range bodies {
		bodies[i] = batch(i)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		var a struct {
			Imported int
			Errors   []any
		}
		json.Unmarshal(post("/api/import", bodies[i]), &a)
		if a.Imported != perBatch || len(a.Errors) != 0 {
			b.Fatalf("batch %d: %d imported, errors %v", i, a.Imported, a.Errors)
		}
	}
	took := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N*perBatch)/took.Seconds(), "tickets/s")
	b.ReportMetric(float64(b.N*perBatch*5)/took.Seconds(), "messages/s")
}
