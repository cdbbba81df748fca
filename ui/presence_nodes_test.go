package ui_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/channels"
	"onedesk/channels/chat"
	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/ui"
)

// servingNode is one onedesk node serving for real (Serve: presence is
// shared between nodes only there), with its chat channel.
func servingNode(t *testing.T, url string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	ch := chat.New(d, log)
	srv := ui.New(d, log, ui.Options{Channels: []channels.Channel{ch}})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go d.FollowNodes(ctx)
	go ch.Run(ctx)
	done := make(chan struct{})
	go func() { srv.Serve(ctx, ln); close(done) }()
	t.Cleanup(func() { cancel(); <-done; db.Close() })
	return "http://" + ln.Addr().String()
}

// TestWidgetPresenceAcrossNodes: on two nodes of one PostgreSQL desk, an
// agent's app open on one node makes the widget open on the other say the
// team is online, live, and away again once the app closes.
func TestWidgetPresenceAcrossNodes(t *testing.T) {
	url := storetest.PostgresURL(t)
	a, b := servingNode(t, url), servingNode(t, url)
	jar, _ := cookiejar.New(nil)
	owner := &http.Client{Jar: jar}
	post := func(path, body, csrf string) *http.Response {
		req, _ := http.NewRequest("POST", a+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := owner.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	res := post("/api/setup", `{"email":"owner@shop.test","name":"Olga Owner","password":"correct horse"}`, "")
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if res = post("/api/stores", `{"name":"Shoe Shop","slug":"shoe-shop"}`, me.CSRFToken); res.StatusCode != 201 {
		t.Fatalf("store: %d", res.StatusCode)
	}
	res.Body.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	widget, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(b, "http")+"/chat/ws?store=shoe-shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer widget.CloseNow()
	widget.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","receipts":true}`))
	online := func(want string) {
		t.Helper()
		for {
			_, data, err := widget.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", want, err)
			}
			var f struct {
				Type   string
				Online *bool
			}
			json.Unmarshal(data, &f)
			if (f.Type == "welcome" || f.Type == "presence") && f.Online != nil {
				if got := map[bool]string{true: "online", false: "away"}[*f.Online]; got == want {
					return
				} else if f.Type == "presence" {
					t.Fatalf("widget told %s, want %s", got, want)
				}
			}
		}
	}
	online("away")
	began := time.Now()
	app, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(a, "http")+"/agent/ws", &websocket.DialOptions{HTTPClient: owner, HTTPHeader: http.Header{"Origin": {a}}})
	if err != nil {
		t.Fatal(err)
	}
	online("online")
	t.Logf("the widget on node b heard the app open on node a after %s", time.Since(began).Round(time.Millisecond))
	app.Close(websocket.StatusNormalClosure, "")
	online("away")
}
