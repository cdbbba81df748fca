package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/channels/chat"
	"onedesk/store"
	"onedesk/ui"
)

// startServe runs Serve on a free port and returns its address, the
// function that stops it and the channel with Serve's result.
func startServe(t *testing.T, cfg ServeConfig) (addr string, stop context.CancelFunc, done <-chan error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	errc := make(chan error, 1)
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	cfg.Ready = func(a string) { ready <- a }
	go func() {
		errc <- Serve(ctx, cfg)
		close(errc) // for the cleanup, when the test took the result
	}()
	select {
	case addr = <-ready:
	case err := <-errc:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	t.Cleanup(func() {
		cancel()
		<-errc
	})
	return addr, cancel, errc
}

// owner sets the desk up over HTTP and returns a client with the owner's
// session and its CSRF token.
func owner(t *testing.T, base string, hc *http.Client) (*http.Client, string) {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := *hc
	c.Jar = jar
	res, err := c.Post(base+"/api/setup", "application/json",
		strings.NewReader(`{"email":"owner@shop.test","name":"Olga","password":"correct horse"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&me); err != nil || res.StatusCode != 201 {
		t.Fatalf("setup: %d %v", res.StatusCode, err)
	}
	return &c, me.CSRF
}

func postJSON(t *testing.T, c *http.Client, url, csrf string, body any, out any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", url, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	rb, _ := io.ReadAll(res.Body)
	if res.StatusCode/100 != 2 {
		t.Fatalf("POST %s: %d %s", url, res.StatusCode, rb)
	}
	if out != nil {
		json.Unmarshal(rb, out)
	}
}

// TestGracefulStopUnderLoad stops a server while clients post tickets
// (over kept-alive and fresh connections) and visitors chat: no request
// it took fails (those after the stop find the port refusing), every
// ticket answered 2xx and every chat message acknowledged is in the
// database afterwards, websockets get the restart close, the log is
// checkpointed, all within the 10 s.
func TestGracefulStopUnderLoad(t *testing.T) {
	data := filepath.Join(t.TempDir(), "desk.db")
	addr, stop, done := startServe(t, ServeConfig{Data: data, APIRate: -1})
	base := "http://" + addr
	admin, csrf := owner(t, base, &http.Client{})
	var tok struct{ Token string }
	postJSON(t, admin, base+"/api/tokens", csrf, map[string]string{"name": "load"}, &tok)
	postJSON(t, admin, base+"/api/stores", csrf, map[string]string{"name": "Shop", "slug": "shop"}, nil)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	wsURL := "ws://" + addr
	agentWS, _, err := websocket.Dial(ctx, wsURL+"/agent/ws", &websocket.DialOptions{HTTPClient: admin})
	if err != nil {
		t.Fatal(err)
	}
	defer agentWS.CloseNow()

	var (
		mu       sync.Mutex
		failures []string
		tickets  []string // subjects answered 201
		acked    []string // chat cids acknowledged
		ok       atomic.Int64
		refused  atomic.Int64
		stopping atomic.Bool
	)
	fail := func(s string) {
		mu.Lock()
		failures = append(failures, s)
		mu.Unlock()
	}
	var wg sync.WaitGroup
	keepAlive := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	fresh := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for g := range 12 {
		hc := keepAlive
		if g%3 == 0 {
			hc = fresh
		}
		wg.Go(func() {
			for i := 0; ; i++ {
				subject := fmt.Sprintf("load %d-%d", g, i)
				body, _ := json.Marshal(map[string]any{"subject": subject, "body": "Where is my order?",
					"customer": map[string]string{"email": fmt.Sprintf("c%d@shop.test", g)}})
				req, _ := http.NewRequest("POST", base+"/api/tickets", bytes.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+tok.Token)
				req.Header.Set("Content-Type", "application/json")
				res, err := hc.Do(req)
				if errors.Is(err, syscall.ECONNREFUSED) {
					refused.Add(1)
					return // stopped: nobody there any more
				}
				// A kept-alive connection the stopping server closed as idle
				// while this request was on its way: HTTP's own race (the
				// client does not resend a POST), and the request was never
				// read, so never answered. Only once the stop has begun.
				if err != nil && stopping.Load() && (errors.Is(err, syscall.ECONNRESET) ||
					strings.Contains(err.Error(), "server closed idle connection")) {
					refused.Add(1)
					return
				}
				if err != nil {
					fail(fmt.Sprintf("%s: %v", subject, err))
					return
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					fail(fmt.Sprintf("%s: status %d", subject, res.StatusCode))
					return
				}
				mu.Lock()
				tickets = append(tickets, subject)
				mu.Unlock()
				ok.Add(1)
			}
		})
	}
	// Visitors chatting: each message is stored before its ack.
	closes := make(chan websocket.CloseError, 8)
	for v := range 4 {
		conn, _, err := websocket.Dial(ctx, wsURL+"/chat/ws?store=shop", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		conn.Write(ctx, websocket.MessageText, []byte(`{"type":"hello"}`))
		wg.Go(func() {
			for {
				_, b, err := conn.Read(ctx)
				var ce websocket.CloseError
				if errors.As(err, &ce) {
					closes <- ce
					return
				}
				if err != nil {
					fail(fmt.Sprintf("visitor %d: %v", v, err))
					return
				}
				var f struct{ Type, CID, Code string }
				json.Unmarshal(b, &f)
				switch f.Type {
				case "ack":
					mu.Lock()
					acked = append(acked, f.CID)
					mu.Unlock()
				case "error":
					if f.Code != "err_fast" { // the visitor's rate limit is fine
						fail(fmt.Sprintf("visitor %d: %s", v, b))
					}
				}
			}
		})
		wg.Go(func() {
			for i := 0; ; i++ {
				msg := fmt.Sprintf(`{"type":"msg","cid":"v%d-%d","text":"hello %d"}`, v, i, i)
				if conn.Write(ctx, websocket.MessageText, []byte(msg)) != nil {
					return
				}
				time.Sleep(40 * time.Millisecond)
			}
		})
	}

	for ok.Load() < 300 {
		time.Sleep(5 * time.Millisecond)
	}
	stopped := time.Now()
	stopping.Store(true)
	stop()
	for err == nil {
		_, _, err = agentWS.Read(ctx) // changes, then the close
	}
	if websocket.CloseStatus(err) != websocket.StatusServiceRestart || !strings.Contains(err.Error(), ui.RestartReason) {
		t.Errorf("agent websocket ended with %v, want 1012 %q", err, ui.RestartReason)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("Serve did not return")
	}
	took := time.Since(stopped)
	wg.Wait()
	close(closes)
	for ce := range closes {
		if ce.Code != websocket.StatusServiceRestart || ce.Reason != chat.RestartReason {
			t.Errorf("visitor socket closed with %v, want 1012 %q", ce, chat.RestartReason)
		}
	}
	if len(failures) > 0 {
		t.Fatalf("%d requests failed (of %d answered), e.g. %s", len(failures), ok.Load(), failures[0])
	}
	if took > shutdownTimeout {
		t.Fatalf("the stop took %s", took)
	}
	t.Logf("%d tickets and %d chat messages answered; stop took %s; %d clients then refused",
		len(tickets), len(acked), took.Round(time.Millisecond), refused.Load())
	if st, err := os.Stat(data + "-wal"); err == nil && st.Size() > 0 {
		t.Fatalf("the log was left with %d bytes", st.Size())
	}

	// Start again: everything answered is there.
	db, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	raw, err := sql.Open("sqlite", "file:"+data+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	stored := map[string]bool{}
	rows, err := raw.Query("SELECT subject FROM tickets")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		stored[s] = true
	}
	rows.Close()
	for _, s := range tickets {
		if !stored[s] {
			t.Fatalf("ticket %q was answered 201 but is not in the database", s)
		}
	}
	cids := map[string]bool{}
	rows, err = raw.Query("SELECT external_id FROM messages WHERE channel = 'chat'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var s string
		rows.Scan(&s)
		if _, cid, ok := strings.Cut(s, ":"); ok {
			cids[cid] = true
		}
	}
	rows.Close()
	if len(acked) == 0 {
		t.Fatal("no chat message was acknowledged")
	}
	for _, c := range acked {
		if !cids[c] {
			t.Fatalf("chat message %q was acknowledged but is not in the database", c)
		}
	}
}
