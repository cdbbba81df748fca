// Command chatload is the chat channel's load test. It starts onedesk as
// a second process on a fresh data folder, opens thousands of visitor
// websockets (idle), then lets some of them chat: each active visitor
// sends one message a second, an agent's websocket watches them arrive,
// and an agent answers through the API. It prints the server's memory
// and the delivery latencies both ways.
//
//	go build -o onedesk . && go run ./perf/chatload -onedesk ./onedesk
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"onedesk/perf/loadtest"
)

func main() {
	bin := flag.String("onedesk", "./onedesk", "the onedesk binary to start")
	idle := flag.Int("idle", 10000, "visitor websockets to open")
	active := flag.Int("active", 1000, "of those, how many chat (one message a second each)")
	duration := flag.Duration("duration", 30*time.Second, "how long the active visitors chat")
	replyEvery := flag.Int("reply-every", 1, "the agent answers every n-th visitor message")
	perIP := flag.Int("per-ip", 25, "visitor sockets per loopback source address (the server limits connections per address)")
	flag.Parse()
	if err := run(*bin, *idle, *active, *duration, *replyEvery, *perIP); err != nil {
		fmt.Fprintln(os.Stderr, "chatload:", err)
		os.Exit(1)
	}
}

func run(bin string, idle, active int, duration time.Duration, replyEvery, perIP int) error {
	if active > idle {
		return errors.New("-active may not be more than -idle")
	}
	srv, err := loadtest.Start(bin, "chatload")
	if err != nil {
		return err
	}
	defer srv.Stop()
	addr, base := srv.Addr, srv.Base
	fmt.Printf("onedesk pid %d on %s; RSS at start %s\n", srv.PID(), addr, srv.RSS())

	token, err := setup(base)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	api := &apiClient{base: base, token: token, http: &http.Client{Timeout: 30 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 64}}}
	if err := api.do("POST", "/api/stores", map[string]any{"name": "Load Shop", "slug": "load"}, nil); err != nil {
		return err
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dialAgent := func() (*websocket.Conn, error) {
		agent, _, err := websocket.Dial(ctx, "ws://"+addr+"/agent/ws", &websocket.DialOptions{
			HTTPHeader: http.Header{"Authorization": {"Bearer " + token}}})
		if err != nil {
			return nil, fmt.Errorf("agent websocket: %w", err)
		}
		agent.SetReadLimit(1 << 20)
		return agent, nil
	}
	agent, err := dialAgent()
	if err != nil {
		return err
	}

	// Open the visitors, each from one of many loopback addresses.
	start := time.Now()
	visitors := make([]*visitor, idle)
	var wg sync.WaitGroup
	var failed atomic.Int64
	sem := make(chan struct{}, 64)
	for i := range visitors {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			v, err := dialVisitor(ctx, addr, i, perIP)
			if err != nil {
				if failed.Add(1) <= 3 {
					fmt.Fprintf(os.Stderr, "visitor %d: %v\n", i, err)
				}
				return
			}
			visitors[i] = v
		}(i)
	}
	wg.Wait()
	if n := failed.Load(); n > 0 {
		return fmt.Errorf("%d of %d visitors could not connect", n, idle)
	}
	fmt.Printf("%d idle visitor websockets open in %s\n", idle, time.Since(start).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // let the server settle
	fmt.Printf("server RSS with %d idle visitors: %s\n", idle, srv.RSS())

	// The active phase.
	lat := &latencies{}
	sent := sync.Map{} // text -> time sent
	var replies, inbound atomic.Int64
	replyQueue := make(chan reply, 100000)
	var drops atomic.Int64
	go watchAgent(ctx, agent, dialAgent, &drops, &sent, lat, &inbound, replyEvery, replyQueue)
	for range 16 {
		go func() {
			for {
				var r reply
				select {
				case r = <-replyQueue:
				case <-ctx.Done():
					return
				}
				text := fmt.Sprintf("re %s", r.text)
				sent.Store(text, time.Now())
				if err := api.do("POST", fmt.Sprintf("/api/tickets/%d/messages", r.ticket), map[string]any{"body": text}, nil); err != nil {
					fmt.Fprintln(os.Stderr, "reply:", err)
				}
				replies.Add(1)
			}
		}()
	}
	for _, v := range visitors {
		go v.read(ctx, &sent, lat)
	}
	actx, acancel := context.WithTimeout(ctx, duration)
	defer acancel()
	var outbound atomic.Int64
	for i := range active {
		go visitors[i].chat(actx, time.Duration(i)*time.Second/time.Duration(active), &sent, &outbound)
	}
	<-actx.Done()
	time.Sleep(2 * time.Second) // the last deliveries
	fmt.Printf("active phase: %d visitors for %s, %d messages sent, %d seen by the agent, %d replies posted\n",
		active, duration, outbound.Load(), inbound.Load(), replies.Load())
	// On a busy machine messages can still be on their way after those 2 s:
	// a count that stops there reads late as lost. Wait for the rest.
	seenAt2s := inbound.Load()
	late, progress, last := time.Now(), time.Now(), inbound.Load()+lat.acks.Load()
	for (inbound.Load() < outbound.Load() || lat.acks.Load() < outbound.Load()) && time.Since(progress) < 10*time.Second {
		time.Sleep(100 * time.Millisecond)
		if n := inbound.Load() + lat.acks.Load(); n != last {
			progress, last = time.Now(), n
		}
	}
	fmt.Printf("acknowledged (stored) to the visitors: %d of %d, %s after the active phase\n",
		lat.acks.Load(), outbound.Load(), (2*time.Second + time.Since(late)).Round(100*time.Millisecond))
	fmt.Printf("agent socket dropped as too far behind and reopened: %d times\n", drops.Load())
	fmt.Printf("later: %d more seen by the agent within %s; %d never seen\n",
		inbound.Load()-seenAt2s, time.Since(late).Round(100*time.Millisecond), outbound.Load()-inbound.Load())
	// What the agent's socket missed (the server drops a socket that falls
	// too far behind) may still be stored: count what the desk holds.
	if stored, err := storedVisitorMessages(api); err != nil {
		fmt.Fprintln(os.Stderr, "count stored messages:", err)
	} else {
		fmt.Printf("stored: %d visitor messages in the desk (of %d sent)\n", stored, outbound.Load())
	}
	fmt.Printf("server RSS after the active phase: %s (peak %s)\n", srv.RSS(), srv.Peak())
	lat.print()
	return nil
}

// storedVisitorMessages counts the visitors' messages the desk holds,
// through the API, ticket by ticket.
func storedVisitorMessages(api *apiClient) (int, error) {
	var ids []int64
	cursor := ""
	for {
		var page struct {
			Tickets []struct {
				ID int64 `json:"id"`
			} `json:"tickets"`
			NextCursor string `json:"next_cursor"`
		}
		if err := api.do("GET", "/api/tickets?channel=chat&limit=200&cursor="+url.QueryEscape(cursor), nil, &page); err != nil {
			return 0, err
		}
		for _, t := range page.Tickets {
			ids = append(ids, t.ID)
		}
		if page.NextCursor == "" || len(page.Tickets) == 0 {
			break
		}
		cursor = page.NextCursor
	}
	n := 0
	for _, id := range ids {
		var t struct {
			Messages []struct{ Kind, Body string } `json:"messages"`
		}
		if err := api.do("GET", fmt.Sprintf("/api/tickets/%d", id), nil, &t); err != nil {
			return 0, err
		}
		for _, m := range t.Messages {
			if m.Kind == "customer" {
				n++
			}
		}
	}
	return n, nil
}

type reply struct {
	ticket int64
	text   string
}

// setup creates the admin account and an API token.
func setup(base string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	body, _ := json.Marshal(map[string]string{"email": "load@shop.test", "name": "Load Agent", "password": "load test password"})
	res, err := c.Post(base+"/api/setup", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()
	if res.StatusCode != 201 {
		return "", fmt.Errorf("setup: status %d", res.StatusCode)
	}
	req, _ := http.NewRequest("POST", base+"/api/tokens", strings.NewReader(`{"name":"chatload"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", me.CSRF)
	res, err = c.Do(req)
	if err != nil {
		return "", err
	}
	defer res.Body.Close()
	var tok struct {
		Token string `json:"token"`
	}
	json.NewDecoder(res.Body).Decode(&tok)
	if tok.Token == "" {
		return "", fmt.Errorf("token: status %d", res.StatusCode)
	}
	return tok.Token, nil
}

type apiClient struct {
	base, token string
	http        *http.Client
}

func (a *apiClient) do(method, path string, in, out any) error {
	b, _ := json.Marshal(in)
	req, _ := http.NewRequest(method, a.base+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+a.token)
	res, err := a.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("%s %s: %d %s", method, path, res.StatusCode, data)
	}
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

type visitor struct {
	n    int
	conn *websocket.Conn
	mu   sync.Mutex
}

// dialVisitor opens visitor n's websocket from 127.1.x.y, perIP visitors
// to an address, and waits for its welcome.
func dialVisitor(ctx context.Context, addr string, n, perIP int) (*visitor, error) {
	ip := n/perIP + 1
	local := &net.TCPAddr{IP: net.IPv4(127, 1, byte(ip>>8), byte(ip))}
	dialer := &net.Dialer{LocalAddr: local, Timeout: 10 * time.Second}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	var conn *websocket.Conn
	var err error
	for attempt := range 20 {
		dctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		var res *http.Response
		conn, res, err = websocket.Dial(dctx, "ws://"+addr+"/chat/ws?store=load", &websocket.DialOptions{HTTPClient: client})
		cancel()
		if err == nil {
			break
		}
		if res != nil && res.StatusCode == http.StatusTooManyRequests {
			time.Sleep(time.Duration(attempt+1) * time.Second)
			continue
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"hello","receipts":true}`)); err != nil {
		return nil, err
	}
	_, data, err := conn.Read(ctx)
	if err != nil {
		return nil, err
	}
	if !bytes.Contains(data, []byte(`"welcome"`)) {
		return nil, fmt.Errorf("no welcome: %s", data)
	}
	return &visitor{n: n, conn: conn}, nil
}

// chat sends one message a second, starting after offset.
func (v *visitor) chat(ctx context.Context, offset time.Duration, sent *sync.Map, count *atomic.Int64) {
	select {
	case <-time.After(offset):
	case <-ctx.Done():
		return
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for seq := 0; ; seq++ {
		text := fmt.Sprintf("v%d m%d", v.n, seq)
		msg, _ := json.Marshal(map[string]string{"type": "msg", "cid": strconv.Itoa(seq), "text": text})
		sent.Store(text, time.Now())
		v.mu.Lock()
		err := v.conn.Write(ctx, websocket.MessageText, msg)
		v.mu.Unlock()
		if err != nil {
			return
		}
		count.Add(1)
		select {
		case <-tick.C:
		case <-ctx.Done():
			return
		}
	}
}

// read times the agent's replies as they reach the visitor.
func (v *visitor) read(ctx context.Context, sent *sync.Map, lat *latencies) {
	for {
		_, data, err := v.conn.Read(ctx)
		if err != nil {
			return
		}
		var f struct {
			Type, From, Text, Code, Error string
			ID                            int64
		}
		json.Unmarshal(data, &f)
		switch {
		case f.Type == "msg" && f.From == "agent":
			// As the widget does: the receipt makes the reply delivered.
			got, _ := json.Marshal(map[string]any{"type": "got", "id": f.ID})
			v.conn.Write(ctx, websocket.MessageText, got)
			if at, ok := sent.LoadAndDelete(f.Text); ok {
				lat.add(&lat.toVisitor, time.Since(at.(time.Time)))
			}
		case f.Type == "ack":
			lat.acks.Add(1) // stored: the server acknowledges only what it committed
		case f.Type == "error":
			lat.errors.Add(1)
			if lat.errors.Load() <= 3 {
				fmt.Fprintf(os.Stderr, "visitor %d error: %s %s\n", v.n, f.Code, f.Error)
			}
		}
	}
}

// watchAgent times visitors' messages as they reach the agent's
// websocket, and queues the agent's answers.
// The server drops an agent's socket that falls too far behind (the app
// reconnects and refetches): so does this, and the messages published
// meanwhile are missed (the stored count shows them).
func watchAgent(ctx context.Context, conn *websocket.Conn, redial func() (*websocket.Conn, error), drops *atomic.Int64, sent *sync.Map, lat *latencies, count *atomic.Int64, every int, replies chan<- reply) {
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if drops.Add(1) <= 3 {
				fmt.Fprintln(os.Stderr, "agent websocket:", err)
			}
			if conn, err = redial(); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return
			}
			continue
		}
		var c struct {
			Type     string
			TicketID int64 `json:"ticket_id"`
			Message  *struct{ Kind, Body string }
		}
		if json.Unmarshal(data, &c) != nil || c.Type != "message" || c.Message == nil || c.Message.Kind != "customer" {
			continue
		}
		if at, ok := sent.LoadAndDelete(c.Message.Body); ok {
			lat.add(&lat.toAgent, time.Since(at.(time.Time)))
			if n := count.Add(1); n%int64(every) == 0 {
				select {
				case replies <- reply{ticket: c.TicketID, text: c.Message.Body}:
				default:
				}
			}
		}
	}
}

type latencies struct {
	mu                 sync.Mutex
	toAgent, toVisitor []time.Duration
	errors             atomic.Int64
	acks               atomic.Int64
}

func (l *latencies) add(list *[]time.Duration, d time.Duration) {
	l.mu.Lock()
	*list = append(*list, d)
	l.mu.Unlock()
}

func (l *latencies) print() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range []struct {
		name string
		list []time.Duration
	}{{"visitor → agent", l.toAgent}, {"agent → visitor", l.toVisitor}} {
		if len(s.list) == 0 {
			fmt.Printf("%s: no deliveries\n", s.name)
			continue
		}
		slices.Sort(s.list)
		q := func(p float64) time.Duration {
			return s.list[min(len(s.list)-1, int(p*float64(len(s.list))))].Round(10 * time.Microsecond)
		}
		fmt.Printf("%s: %d deliveries, p50 %s, p90 %s, p99 %s, max %s\n", s.name, len(s.list), q(.5), q(.9), q(.99), s.list[len(s.list)-1].Round(10*time.Microsecond))
	}
	fmt.Printf("errors sent to visitors: %d\n", l.errors.Load())
}
