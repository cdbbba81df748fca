package cli

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"onedesk/channels/email/emailtest"
	"onedesk/store"
	"onedesk/store/storetest"
)

// TestTwoNodesOnePostgres runs two onedesk processes on one PostgreSQL
// behind a small TCP proxy (round robin, skipping a node that refuses),
// with mail, chat and API load through both, and kills one with SIGKILL
// halfway: every accepted ticket, chat message and mail is stored once,
// the mailbox is polled by exactly one node before and after, an agent
// socket on the surviving node hears everything committed on either, and
// the socket of the killed node resumes on the other and hears
// everything committed after it said hello (what came before, the app
// refetches).
func TestTwoNodesOnePostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("two onedesk processes under load: not with -short")
	}
	pgURL := storetest.PostgresURL(t)
	bin := buildOnedesk(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()

	imapAddr := imapInbox(t)
	_, smtpAddr := emailtest.SMTP(t)

	// One node first, so that one process creates the schema.
	a := startNode(t, bin, pgURL, "a")
	b := startNode(t, bin, pgURL, "b")
	proxy := newRoundRobin(t, a.addr, b.addr)
	base := "http://" + proxy

	admin, csrf := owner(t, base, &http.Client{})
	var tok struct{ Token string }
	postJSON(t, admin, base+"/api/tokens", csrf, map[string]string{"name": "load"}, &tok)
	var shop struct{ ID int64 }
	postJSON(t, admin, base+"/api/stores", csrf, map[string]string{"name": "Shop", "slug": "shop"}, &shop)
	var mailbox struct{ ID int64 }
	imapHost, imapPort := splitHostPort(t, imapAddr)
	smtpHost, smtpPort := splitHostPort(t, smtpAddr)
	postJSON(t, admin, base+"/api/mailboxes", csrf, map[string]any{"address": "support@shop.test", "name": "Support",
		"store_id": shop.ID, "imap_host": imapHost, "imap_port": imapPort, "imap_security": "none",
		"imap_username": "support", "imap_password": "secret", "imap_folder": "INBOX",
		"smtp_host": smtpHost, "smtp_port": smtpPort, "smtp_security": "none", "poll_seconds": 5, "start_from": "all"}, &mailbox)
	lease := fmt.Sprintf("mailbox:%d", mailbox.ID) // its poller's (see email.Channel.Run)

	db, err := store.Open(ctx, pgURL) // the test's own look at the database
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	raw, err := sql.Open("pgx", pgURL)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	count := func(q string, args ...any) int {
		var n int
		if err := raw.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return n
	}
	holder := func() string {
		h, err := db.LeaseHolder(ctx, lease)
		if err != nil {
			t.Fatal(err) // more than one holder is an error too
		}
		return h
	}
	waitUntil(t, 60*time.Second, "a node polls the mailbox", func() bool { return holder() != "" })
	firstPoller := holder()
	// The node to kill is the one polling the mailbox: called a from here on.
	waitUntil(t, 30*time.Second, "a node's log says it polls", func() bool { return a.polling(lease) || b.polling(lease) })
	if b.polling(lease) {
		a, b = b, a
	}

	// Agents: one socket on each node.
	auth := http.Header{"Authorization": {"Bearer " + tok.Token}}
	sockA := dialAgent(t, ctx, "ws://"+a.addr, auth)
	// Presence holds across nodes: with the agent's app open on node a
	// only, the chat widget served by node b offers live chat.
	waitUntil(t, 30*time.Second, "node b knows an agent is online on node a", func() bool {
		res, err := http.Get("http://" + b.addr + "/chat/config?store=shop")
		if err != nil {
			return false
		}
		defer res.Body.Close()
		var cfg struct{ Online bool }
		json.NewDecoder(res.Body).Decode(&cfg)
		return cfg.Online
	})
	sockB := dialAgent(t, ctx, "ws://"+b.addr, auth)
	var startID int
	raw.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM messages").Scan(&startID)

	// A chat visitor on node b gets an agent's reply sent through node a,
	// whichever node runs the outbox.
	// Without an email address the reply is left waiting where the
	// visitor is; with one, the outbox may send it by email, and the
	// widget open on node b shows it too.
	var ticketID int64
	for i, identify := range []string{"", `{"type":"identify","name":"Ana","email":"ana@customer.test"}`} {
		v := dialVisitor(t, ctx, "ws://"+b.addr, "")
		if identify != "" {
			v.send(identify)
			v.next(t, "identified")
		}
		v.send(fmt.Sprintf(`{"type":"msg","cid":"hello-%d","text":"is anyone there?"}`, i))
		ack := v.next(t, "ack")
		raw.QueryRowContext(ctx, "SELECT ticket_id FROM messages WHERE id = $1", ack.ID).Scan(&ticketID)
		reply, _ := json.Marshal(map[string]any{"body": "Yes, here to help"})
		req, _ := http.NewRequest("POST", "http://"+a.addr+"/api/tickets/"+strconv.FormatInt(ticketID, 10)+"/messages", bytes.NewReader(reply))
		req.Header = auth.Clone()
		req.Header.Set("Content-Type", "application/json")
		if res, err := (&http.Client{Timeout: 15 * time.Second}).Do(req); err != nil || res.StatusCode != http.StatusCreated {
			t.Fatalf("reply through node a: %v %v", res, err)
		}
		if f := v.next(t, "msg"); f.From != "agent" || f.Text != "Yes, here to help" {
			t.Fatalf("the visitor on node b got %+v", f)
		}
		v.conn.CloseNow()
	}
	// Who views a ticket: the agent opens it on node a; node b's socket is told.
	sockA.conn.Write(ctx, websocket.MessageText, []byte(fmt.Sprintf(`{"type":"viewing","ticket_id":%d}`, ticketID)))
	waitUntil(t, 30*time.Second, "node b's socket hears who views the ticket on node a", func() bool {
		sockB.mu.Lock()
		defer sockB.mu.Unlock()
		return sockB.viewers[ticketID] == 1
	})

	// Load through the proxy: tickets by API, chat messages, mail.
	var (
		mu        sync.Mutex
		subjects  []string
		acked     = map[string]bool{}
		mails     []string
		stop      = make(chan struct{})
		wg        sync.WaitGroup
		afterAPI  atomic.Int64 // accepted since the kill
		afterChat atomic.Int64
		killed    atomic.Bool
	)
	fresh := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	for g := range 3 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				subject := fmt.Sprintf("node load %d-%d", g, i)
				body, _ := json.Marshal(map[string]any{"subject": subject, "body": "Where is my order?",
					"customer": map[string]string{"email": fmt.Sprintf("c%d@shop.test", g)}})
				req, _ := http.NewRequest("POST", base+"/api/tickets", bytes.NewReader(body))
				req.Header = auth.Clone()
				req.Header.Set("Content-Type", "application/json")
				res, err := fresh.Do(req)
				if err != nil {
					continue // cut by the kill: not accepted, so nothing promised
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode == http.StatusCreated {
					mu.Lock()
					subjects = append(subjects, subject)
					mu.Unlock()
					if killed.Load() {
						afterAPI.Add(1)
					}
				}
			}
		})
	}
	for v := range 3 {
		wg.Go(func() {
			token := ""
			var pending []string // sent, not acknowledged: sent again after a reconnect, as the widget does
			for n := 0; ; {
				select {
				case <-stop:
					return
				default:
				}
				w := dialVisitor(t, ctx, "ws://"+proxy, token)
				if w == nil {
					time.Sleep(100 * time.Millisecond)
					continue
				}
				token = w.token
				for _, cid := range pending {
					w.send(fmt.Sprintf(`{"type":"msg","cid":%q,"text":"again %s"}`, cid, cid))
				}
				for w.alive() {
					select {
					case <-stop:
						w.conn.CloseNow()
						return
					default:
					}
					cid := fmt.Sprintf("v%d-%d", v, n)
					n++
					pending = append(pending, cid)
					w.send(fmt.Sprintf(`{"type":"msg","cid":%q,"text":"hello %s"}`, cid, cid))
					time.Sleep(500 * time.Millisecond) // under the visitor rate limit (2 a second)
					for _, c := range w.acks() {
						mu.Lock()
						acked[c] = true
						mu.Unlock()
						if killed.Load() {
							afterChat.Add(1)
						}
					}
					mu.Lock()
					pending = deleteIf(pending, func(c string) bool { return acked[c] })
					mu.Unlock()
				}
			}
		})
	}
	wg.Go(func() {
		c, err := imapclient.DialInsecure(imapAddr, nil)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		if err := c.Login("support", "secret").Wait(); err != nil {
			t.Error(err)
			return
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-time.After(150 * time.Millisecond):
			}
			id := fmt.Sprintf("mail-%d@customer.test", i)
			msg := "From: Ana <ana@customer.test>\r\nTo: support@shop.test\r\nSubject: order " + strconv.Itoa(i) +
				"\r\nMessage-ID: <" + id + ">\r\nDate: Mon, 07 Dec 2026 10:00:00 +0000\r\n\r\nWhere is order " + strconv.Itoa(i) + "?\r\n"
			cmd := c.Append("INBOX", int64(len(msg)), nil)
			cmd.Write([]byte(msg))
			cmd.Close()
			if _, err := cmd.Wait(); err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			mails = append(mails, id)
			mu.Unlock()
		}
	})
	progress := func() (tickets, chats, imported int) {
		mu.Lock()
		tickets, chats = len(subjects), len(acked)
		mu.Unlock()
		return tickets, chats, count("SELECT count(*) FROM messages WHERE channel = 'email' AND kind = 'customer'")
	}
	waitUntil(t, 90*time.Second, "load through both nodes", func() bool {
		tk, ch, im := progress()
		return tk >= 60 && ch >= 30 && im >= 5
	})

	// Kill node a outright.
	a.kill(t)
	killedAt := time.Now()
	killed.Store(true)
	beforeKill, _, _ := progress()
	waitUntil(t, 60*time.Second, "node b takes the mailbox", func() bool {
		h := holder()
		return h != "" && h != firstPoller
	})
	takeover := time.Since(killedAt)
	sockA.conn.CloseNow() // cut with its node; the app reconnects, here through the proxy (now to b)
	sockA = dialAgent(t, ctx, "ws://"+proxy, auth)
	var resumedAfter int
	raw.QueryRowContext(ctx, "SELECT coalesce(max(id), 0) FROM messages").Scan(&resumedAfter)
	mailsAtKill := count("SELECT count(*) FROM messages WHERE channel = 'email' AND kind = 'customer'")
	waitUntil(t, 90*time.Second, "load through the surviving node", func() bool {
		_, _, im := progress()
		return afterAPI.Load() >= 40 && afterChat.Load() >= 10 && im >= mailsAtKill+5
	})
	close(stop)
	wg.Wait()

	// Everything accepted is stored once; every mail appended is imported once.
	waitUntil(t, 60*time.Second, "every mail imported", func() bool {
		mu.Lock()
		n := len(mails)
		mu.Unlock()
		return count("SELECT count(DISTINCT external_id) FROM messages WHERE channel = 'email' AND kind = 'customer'") == n
	})
	if n, d := count("SELECT count(*) FROM messages WHERE channel = 'email' AND kind = 'customer'"),
		count("SELECT count(DISTINCT external_id) FROM messages WHERE channel = 'email' AND kind = 'customer'"); n != d {
		t.Fatalf("%d mails stored for %d distinct ones", n, d)
	}
	for _, s := range subjects {
		if n := count("SELECT count(*) FROM tickets WHERE subject = $1", s); n != 1 {
			t.Fatalf("ticket %q answered 201 is stored %d times", s, n)
		}
	}
	for cid := range acked {
		if n := count("SELECT count(*) FROM messages WHERE channel = 'chat' AND external_id LIKE $1", "%:"+cid); n != 1 {
			t.Fatalf("chat message %q acknowledged is stored %d times", cid, n)
		}
	}
	if h := holder(); h == "" {
		t.Fatal("nobody polls the mailbox after the kill")
	}

	// The agents' sockets: b's heard every message committed on either
	// node; a's, resumed on b, every message after its hello.
	var all []int64
	rows, err := raw.QueryContext(ctx, "SELECT id FROM messages WHERE id > $1 ORDER BY id", startID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		all = append(all, id)
	}
	rows.Close()
	waitUntil(t, 60*time.Second, "the agent socket on node b hears every message", func() bool {
		return sockB.missing(all, 0) == 0
	})
	waitUntil(t, 60*time.Second, "the agent socket resumed on node b hears every message after its hello", func() bool {
		return sockA.missing(all, int64(resumedAfter)) == 0
	})
	tk, ch, im := progress()
	t.Logf("accepted %d tickets (%d before the kill), %d chat messages (%d after), %d mails imported; %d messages heard live on node b; mailbox taken over in %s",
		tk, beforeKill, ch, afterChat.Load(), im, len(all), takeover.Round(time.Millisecond))
}

// buildOnedesk builds the binary the test runs.
func buildOnedesk(t testing.TB) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "onedesk")
	build := exec.Command("go", "build", "-o", bin, "onedesk")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatalf("build: %v", err)
	}
	return bin
}

// node is one onedesk process.
type node struct {
	name string
	addr string
	cmd  *exec.Cmd
	log  *lockedBuffer
	done chan struct{}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// startNode starts onedesk serve on data and waits for /healthz.
func startNode(t *testing.T, bin, data, name string) *node {
	t.Helper()
	n := &node{name: name, addr: freeAddr(t), log: &lockedBuffer{}, done: make(chan struct{})}
	// The test's mail servers are on 127.0.0.1.
	n.cmd = exec.Command(bin, "serve", "--addr", n.addr, "--data", data, "--api-rate", "-1", "--log-level", "info",
		"--allow-private-networks")
	n.cmd.Stderr = n.log
	n.cmd.Stdout = n.log
	n.cmd.Dir = t.TempDir()
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		n.cmd.Wait()
		close(n.done)
	}()
	t.Cleanup(func() {
		n.cmd.Process.Signal(os.Interrupt)
		select {
		case <-n.done:
		case <-time.After(15 * time.Second):
			n.cmd.Process.Kill()
			<-n.done
		}
		if t.Failed() {
			t.Logf("node %s's log:\n%s", n.name, tail(n.log.String(), 4000))
		}
	})
	client := &http.Client{Timeout: time.Second}
	waitUntil(t, 60*time.Second, "node "+name+" answers /healthz", func() bool {
		select {
		case <-n.done:
			t.Fatalf("node %s stopped: %s", name, n.log.String())
		default:
		}
		res, err := client.Get("http://" + n.addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	})
	return n
}

// kill ends the process with SIGKILL: nothing of it runs after.
func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-n.done
}

// polling tells whether the node's log says it took a lease.
func (n *node) polling(lease string) bool {
	return strings.Contains(n.log.String(), "work="+lease)
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

// newRoundRobin is a TCP proxy handing each connection to the next
// backend that accepts it, as a load balancer with health checks would.
func newRoundRobin(t *testing.T, backends ...string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var next atomic.Int64
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer in.Close()
				var out net.Conn
				for range backends {
					addr := backends[int(next.Add(1))%len(backends)]
					if out, err = net.DialTimeout("tcp", addr, 2*time.Second); err == nil {
						break
					}
				}
				if out == nil {
					return
				}
				defer out.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(out, in); done <- struct{}{} }()
				go func() { io.Copy(in, out); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return ln.Addr().String()
}

// imapInbox is go-imap's in-memory IMAP server with the test mailbox.
func imapInbox(t *testing.T) string {
	t.Helper()
	mem := imapmemserver.New()
	u := imapmemserver.NewUser("support", "secret")
	u.Create("INBOX", nil)
	mem.AddUser(u)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		InsecureAuth: true,
		Logger:       quietLog{},
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

type quietLog struct{}

func (quietLog) Printf(string, ...any) {}

func splitHostPort(t *testing.T, addr string) (string, int) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	port, _ := strconv.Atoi(p)
	return host, port
}

// waitUntil polls cond until it holds, failing t after within.
func waitUntil(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %s", within, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func deleteIf(list []string, f func(string) bool) []string {
	out := list[:0]
	for _, s := range list {
		if !f(s) {
			out = append(out, s)
		}
	}
	return out
}

// agentSocket is an agent's /agent/ws, keeping the ids of the messages
// it heard.
type agentSocket struct {
	conn    *websocket.Conn
	mu      sync.Mutex
	heard   map[int64]bool
	viewers map[int64]int // ticket -> how many agents view it, as last told
}

func dialAgent(t *testing.T, ctx context.Context, base string, auth http.Header) *agentSocket {
	t.Helper()
	var conn *websocket.Conn
	waitUntil(t, 30*time.Second, "an agent socket at "+base, func() bool {
		c, _, err := websocket.Dial(ctx, base+"/agent/ws", &websocket.DialOptions{HTTPHeader: auth})
		conn = c
		return err == nil
	})
	conn.SetReadLimit(1 << 22)
	s := &agentSocket{conn: conn, heard: map[int64]bool{}, viewers: map[int64]int{}}
	hello := make(chan struct{})
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var c struct {
				Type     string
				TicketID int64 `json:"ticket_id"`
				Message  *struct{ ID int64 }
				Viewers  []struct{ AgentID int64 }
			}
			json.Unmarshal(b, &c)
			switch {
			case c.Type == "hello":
				close(hello)
			case c.Type == "viewers":
				s.mu.Lock()
				s.viewers[c.TicketID] = len(c.Viewers)
				s.mu.Unlock()
			case c.Message != nil:
				s.mu.Lock()
				s.heard[c.Message.ID] = true
				s.mu.Unlock()
			}
		}
	}()
	select {
	case <-hello:
	case <-time.After(30 * time.Second):
		t.Fatal("no hello on the agent socket")
	}
	return s
}

// missing counts the ids above after that the socket did not hear.
func (s *agentSocket) missing(ids []int64, after int64) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, id := range ids {
		if id > after && !s.heard[id] {
			n++
		}
	}
	return n
}

// visitorSocket is a chat widget's /chat/ws.
type visitorSocket struct {
	conn   *websocket.Conn
	token  string
	frames chan visitorFrame
	closed chan struct{}
	mu     sync.Mutex
	acked  []string
}

type visitorFrame struct {
	Type, CID, From, Text, Token, Code string
	ID                                 int64
}

// dialVisitor opens a widget's socket and says hello (nil: refused).
func dialVisitor(t *testing.T, ctx context.Context, base, token string) *visitorSocket {
	conn, _, err := websocket.Dial(ctx, base+"/chat/ws?store=shop", nil)
	if err != nil {
		return nil
	}
	w := &visitorSocket{conn: conn, frames: make(chan visitorFrame, 1024), closed: make(chan struct{})}
	hello, _ := json.Marshal(map[string]any{"type": "hello", "token": token, "receipts": true})
	w.send(string(hello))
	go func() {
		defer close(w.closed)
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			var f visitorFrame
			json.Unmarshal(b, &f)
			switch f.Type {
			case "welcome":
				w.mu.Lock()
				w.token = f.Token
				w.mu.Unlock()
			case "ack":
				w.mu.Lock()
				w.acked = append(w.acked, f.CID)
				w.mu.Unlock()
			case "msg":
				if f.From == "agent" {
					w.send(fmt.Sprintf(`{"type":"got","id":%d}`, f.ID))
				}
			}
			select {
			case w.frames <- f:
			default:
			}
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		w.mu.Lock()
		tk := w.token
		w.mu.Unlock()
		if tk != "" {
			w.token = tk
			return w
		}
		select {
		case <-w.closed:
			return nil
		case <-time.After(10 * time.Millisecond):
		}
	}
	conn.CloseNow()
	return nil
}

func (w *visitorSocket) send(s string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	w.conn.Write(ctx, websocket.MessageText, []byte(s))
}

func (w *visitorSocket) alive() bool {
	select {
	case <-w.closed:
		return false
	default:
		return true
	}
}

// acks takes the cids acknowledged so far.
func (w *visitorSocket) acks() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := w.acked
	w.acked = nil
	return out
}

// next waits for the next frame of a type.
func (w *visitorSocket) next(t *testing.T, typ string) visitorFrame {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case f := <-w.frames:
			if f.Type == typ {
				return f
			}
		case <-timeout:
			t.Fatalf("no %s frame within 30 s", typ)
		}
	}
}
