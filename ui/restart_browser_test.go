package ui_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/channels"
	"onedesk/channels/chat"
	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// TestAppReconnectsAfterRestart stops the server under an open agent app
// (its socket is closed with 1012) and starts a new one on the same
// address: the app is live again at once and shows what the new server
// publishes.
func TestAppReconnectsAfterRestart(t *testing.T) {
	ctx := browser(t)
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	addr := "127.0.0.1:0"
	start := func() (stop func()) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		addr = ln.Addr().String()
		ch := chat.New(d, log)
		srv := ui.New(d, log, ui.Options{Channels: []channels.Channel{ch}})
		ch.Online, d.Online = srv.AgentsOnline, srv.AgentOnline
		sctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(sctx, ln) }()
		return func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("stop: %v", err)
			}
		}
	}
	stop := start()
	base := "http://" + addr
	res, err := http.Post(base+"/api/setup", "application/json",
		strings.NewReader(`{"email":"owner@shop.test","name":"Olga Owner","password":"correct horse"}`))
	if err != nil || res.StatusCode != 201 {
		t.Fatalf("setup: %v %v", res, err)
	}
	res.Body.Close()
	run(t, ctx, "login",
		chromedp.Navigate(base),
		chromedp.WaitVisible("#f-email", chromedp.ByID),
		chromedp.SendKeys("#f-email", "owner@shop.test", chromedp.ByID),
		chromedp.SendKeys("#f-password", "correct horse", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible("#live.live", chromedp.ByQuery))

	stop()
	restarted := time.Now()
	stop = start()
	defer func() { stop() }()
	run(t, ctx, "live again", chromedp.WaitVisible("#live.live", chromedp.ByQuery))
	if took := time.Since(restarted); took > 3*time.Second {
		t.Fatalf("the app took %s to reconnect", took)
	}
	// The new socket carries the new server's changes.
	if _, err := d.Ingest(context.Background(), desk.Inbound{Channel: "email", Subject: "After the restart", Text: "Hello again",
		From: store.Identity{Kind: "email", Value: "carla@shop.test"}}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "ticket shows live", chromedp.WaitVisible(`//*[contains(text(), "After the restart")]`, chromedp.BySearch))
	shot(t, ctx, "60-after-restart")
}
