package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/assets"
	"onedesk/channels/email"
	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/limit"
	"onedesk/metrics"
	"onedesk/store"
	"onedesk/store/storetest"
)

type env struct {
	t     testing.TB
	desk  *desk.Desk
	db    *store.DB
	chat  *Channel
	srv   *httptest.Server
	store *store.Store
	agent *store.Agent
}

func newEnv(t testing.TB, origins ...string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, storetest.Data(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	d.RetryBase, d.RetryMax = 10*time.Millisecond, 50*time.Millisecond
	c := New(d, log)
	c.ipLimit = limit.New(1000, 1000)
	go d.RunOutbox(ctx)
	go c.Run(ctx)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "My Shop", Slug: "my-shop", AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: "ann@shop.test", Name: "Ann", Password: "password123"})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &env{t: t, desk: d, db: db, chat: c, srv: srv, store: st, agent: a}
}

// widget is a visitor's widget speaking the protocol over a real websocket.
type widget struct {
	t    testing.TB
	conn *websocket.Conn
	in   chan frame
	old  bool // a widget from before receipts: its hello does not offer them
}

func (e *env) dial(origin string) (*widget, error) {
	ctx, cancel := context.WithTimeout(context.Background(), patience)
	defer cancel()
	h := http.Header{}
	if origin != "" {
		h.Set("Origin", origin)
	}
	conn, res, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/chat/ws?store=my-shop", &websocket.DialOptions{HTTPHeader: h})
	if err != nil {
		if res != nil {
			return nil, fmt.Errorf("status %d", res.StatusCode)
		}
		return nil, err
	}
	w := &widget{t: e.t, conn: conn, in: make(chan frame, 100)}
	go func() {
		defer close(w.in)
		for {
			_, data, err := conn.Read(context.Background())
			if err != nil {
				return
			}
			var f frame
			json.Unmarshal(data, &f)
			w.in <- f
		}
	}()
	e.t.Cleanup(func() { conn.CloseNow() })
	return w, nil
}

func (w *widget) send(f frame) {
	w.t.Helper()
	if f.Type == "hello" && !w.old {
		f.Receipts = true // as widget.js says it
	}
	b, _ := json.Marshal(f)
	if err := w.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		w.t.Fatal(err)
	}
}

// next waits for the next frame of a type, skipping others; of any type
// when typ is "".
func (w *widget) next(typ string) frame {
	w.t.Helper()
	timeout := time.After(patience)
	for {
		select {
		case f, ok := <-w.in:
			if !ok {
				w.t.Fatalf("connection closed waiting for %s", typ)
			}
			if f.Type == typ || typ == "" {
				return f
			}
		case <-timeout:
			w.t.Fatalf("no %s frame", typ)
		}
	}
}

func (e *env) hello(token string) (*widget, frame) {
	e.t.Helper()
	w, err := e.dial("")
	if err != nil {
		e.t.Fatal(err)
	}
	w.send(frame{Type: "hello", Token: token, Page: "https://shop.test/p/shoes", Locale: "pt-PT"})
	return w, w.next("welcome")
}

func TestChatAckResendAndHistory(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w, welcome := e.hello("")
	if !validToken(welcome.Token) || len(welcome.History) != 0 || *welcome.Online {
		t.Fatalf("welcome %+v", welcome)
	}
	for i := range 5 {
		w.send(frame{Type: "msg", CID: fmt.Sprintf("c%d", i), Text: fmt.Sprintf("message %d", i)})
	}
	var ids []int64
	for i := range 5 {
		ack := w.next("ack")
		if ack.CID != fmt.Sprintf("c%d", i) || ack.ID == 0 {
			t.Fatalf("ack %d: %+v", i, ack)
		}
		ids = append(ids, ack.ID)
	}
	// The ack was lost: the widget resends with the same cid after a reconnect.
	w.conn.CloseNow()
	w2, again := e.hello(welcome.Token)
	if len(again.History) != 5 || again.History[4].CID != "c4" || again.History[0].From != "visitor" {
		t.Fatalf("history %+v", again.History)
	}
	w2.send(frame{Type: "msg", CID: "c4", Text: "message 4"})
	if ack := w2.next("ack"); ack.ID != ids[4] {
		t.Fatalf("resend stored anew: %d, first %d", ack.ID, ids[4])
	}
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10})
	if len(tickets) != 1 || tickets[0].Channel != "chat" {
		t.Fatalf("tickets %+v", tickets)
	}
	msgs, _ := e.db.Messages(ctx, tickets[0].ID)
	if len(msgs) != 5 {
		t.Fatalf("%d messages, want 5", len(msgs))
	}
	for i, m := range msgs {
		if m.Body != fmt.Sprintf("message %d", i) || m.ID != ids[i] {
			t.Fatalf("message %d: %q", i, m.Body)
		}
	}
	if !strings.Contains(string(tickets[0].Fields), "shoes") || !strings.Contains(string(tickets[0].Fields), "pt-PT") {
		t.Fatalf("fields %s", tickets[0].Fields)
	}

	// The visitor types: the agents' bus hears it.
	changes, stop := e.desk.Bus().Subscribe(16)
	w2.send(frame{Type: "typing"})
	select {
	case ch := <-changes:
		if ch.Type != "typing" || ch.TicketID != tickets[0].ID {
			t.Fatalf("change %+v", ch)
		}
	case <-time.After(patience):
		t.Fatal("visitor typing never reached the agents")
	}
	stop()

	// The agent answers: both open widgets get it live, typing first.
	e.desk.Bus().Publish(desk.Change{Type: "agent_typing", TicketID: tickets[0].ID, Ticket: &tickets[0]})
	if f := w2.next("typing"); f.From != "agent" {
		t.Fatalf("typing %+v", f)
	}
	reply, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "Hi! Size 42 is in stock."})
	if err != nil {
		t.Fatal(err)
	}
	f := w2.next("msg")
	if f.Text != "Hi! Size 42 is in stock." || f.From != "agent" || f.Name != "Ann" || f.ID != reply.ID {
		t.Fatalf("agent message %+v", f)
	}
	w2.send(frame{Type: "got", ID: f.ID})
	waitFor(t, "delivered", func() bool { m, _ := e.db.Message(ctx, reply.ID); return m.Delivery == "delivered" })

	// Visitor text is text: markup is stored and sent back as typed.
	w2.send(frame{Type: "msg", CID: "x", Text: "<img src=x onerror=alert(1)>"})
	w2.next("ack")
	msgs, _ = e.db.Messages(ctx, tickets[0].ID)
	if last := msgs[len(msgs)-1]; last.Body != "<img src=x onerror=alert(1)>" || last.HTML != "" {
		t.Fatalf("markup %+v", last)
	}

	// Bad input: clear errors, nothing stored, the socket stays.
	w2.send(frame{Type: "msg", CID: "e1", Text: "   "})
	if f := w2.next("error"); f.CID != "e1" || f.Field != "text" || f.Code != "err_empty" || f.Error != "The message is empty." {
		t.Fatalf("empty %+v", f)
	}
	w2.send(frame{Type: "msg", CID: "e2", Text: strings.Repeat("x", MaxText+1)})
	if f := w2.next("error"); f.CID != "e2" || f.Error != "A message may have at most 4000 characters." {
		t.Fatalf("long %+v", f)
	}
}

// A visitor typing an address another customer has is not made that
// customer (anyone can type an address, and would then read their
// chats): the address is claimed, and agents see a suggestion.
func TestChatIdentifyClaimsAKnownAddress(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	earlier, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: "rui@example.pt"},
		Subject: "Order 1001", Text: "where is it?", ExternalID: "r1@example.pt"})
	if err != nil {
		t.Fatal(err)
	}
	w, welcome := e.hello("")
	w.send(frame{Type: "msg", CID: "1", Text: "hello, about order 1001"})
	w.next("ack")
	w.send(frame{Type: "identify", Name: "Rui", Email: "RUI@example.pt"})
	w.next("identified")
	chat, err := e.desk.CurrentTicket(ctx, visitorID(welcome.Token), "chat")
	if err != nil || chat == nil {
		t.Fatalf("chat ticket %v %v", chat, err)
	}
	if chat.CustomerID == earlier.Ticket.CustomerID {
		t.Fatal("the visitor became the email customer by typing the address")
	}
	sugg, err := e.db.Suggestions(ctx, earlier.Ticket.CustomerID)
	if err != nil || len(sugg) != 1 || sugg[0].CustomerID != chat.CustomerID || sugg[0].Reason != "claimed" || sugg[0].Identity.Value != "rui@example.pt" {
		t.Fatalf("suggestions %+v %v", sugg, err)
	}
	visitor, _ := e.db.Customer(ctx, chat.CustomerID)
	if visitor.Name != "Rui" || len(visitor.Identities) != 1 {
		t.Fatalf("visitor %+v", visitor)
	}
	w.send(frame{Type: "identify", Email: "not an address"})
	if f := w.next("error"); f.Field != "email" {
		t.Fatalf("bad email %+v", f)
	}
}

func TestChatOriginsAndLimits(t *testing.T) {
	e := newEnv(t, "https://shop.example.com")
	if _, err := e.dial("https://evil.example.net"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Fatalf("foreign origin: %v", err)
	}
	w, err := e.dial("https://shop.example.com")
	if err != nil {
		t.Fatal(err)
	}
	w.send(frame{Type: "msg", CID: "early", Text: "hi"})
	if f := w.next("error"); !strings.Contains(f.Error, "hello") {
		t.Fatalf("before hello %+v", f)
	}
	w.send(frame{Type: "hello"})
	w.next("welcome")
	// The burst is the limit under test: a refill this slow cannot give
	// tokens back while a busy machine stores the flood.
	e.chat.visitorLimit = limit.New(0.001, visitorBurst)
	for i := range visitorBurst + 5 {
		w.send(frame{Type: "msg", CID: fmt.Sprint(i), Text: "flood"})
	}
	if f := w.next("error"); !strings.Contains(f.Error, "too fast") {
		t.Fatalf("a flood: %+v", f)
	}
	// A frame over the size cap closes the socket.
	w.send(frame{Type: "msg", CID: "big", Text: strings.Repeat("x", maxFrame)})
	for range w.in {
	}
	// Per-address limit on connections and posts.
	e.chat.ipLimit = limit.New(0.001, 2)
	for i := range 3 {
		res, err := http.Get(e.srv.URL + "/chat/config?store=my-shop")
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if want := map[bool]int{true: 429, false: 200}[i == 2]; res.StatusCode != want {
			t.Fatalf("request %d: %d", i, res.StatusCode)
		}
	}
	res, _ := http.Get(e.srv.URL + "/chat/config?store=nope")
	if res.StatusCode != 429 && res.StatusCode != 404 {
		t.Fatalf("unknown store: %d", res.StatusCode)
	}
}

// The offline form makes a ticket; the agent's answer goes by email and
// the customer's email answer joins the same ticket.
func TestOfflineMessageAnsweredByEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sink := emailtest.Mailbox(t, e.desk, e.store.ID, "help@shop.test", "My Shop")

	post := func(body string) (int, map[string]any) {
		res, err := http.Post(e.srv.URL+"/chat/offline?store=my-shop", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	if code, out := post(`{"name":"Zoe","message":"hi"}`); code != 400 || out["field"] != "email" {
		t.Fatalf("no email: %d %v", code, out)
	}
	if code, out := post(`{"email":"zoe@example.com","message":" "}`); code != 400 || out["field"] != "message" {
		t.Fatalf("no message: %d %v", code, out)
	}
	if code, out := post(`{"email":"zoe@","message":"hi"}`); code != 400 || out["field"] != "email" {
		t.Fatalf("bad email: %d %v", code, out)
	}
	// An address no answer can reach, refused in the visitor's language.
	for _, addr := range []string{"tom@bad", "joana@gmail"} {
		if code, out := post(`{"email":"` + addr + `","message":"hi","lang":"pt"}`); code != 400 || out["field"] != "email" ||
			out["error"] != assets.WidgetCatalog("pt")["err_email_domain"] {
			t.Fatalf("%s: %d %v", addr, code, out)
		}
	}
	if code, _ := post(`{"email":"zoe@example.com","message":"` + strings.Repeat("x", 40<<10) + `"}`); code != 413 {
		t.Fatalf("too big: %d", code)
	}
	code, out := post(`{"name":"Zoe","email":"zoe@example.com","message":"Do you ship to Brno?","page":"https://shop.test/"}`)
	if code != 201 {
		t.Fatalf("offline: %d %v", code, out)
	}
	id := int64(out["ticket_id"].(float64))
	reply, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), id, desk.ReplyInput{Body: "Yes, in two days."})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "reply by email", func() bool { m, _ := e.db.Message(ctx, reply.ID); return m.Delivery == "sent" })
	got := sink.Messages()
	if len(got) != 1 || !strings.Contains(got[0], "Yes, in two days.") || !strings.Contains(got[0], "To: <zoe@example.com>") {
		t.Fatalf("mail %q", got)
	}
	m, _ := e.db.Message(ctx, reply.ID)
	// Zoe answers by email: the reply's Message-ID threads it.
	in, err := email.Parse([]byte(fmt.Sprintf("From: zoe@example.com\r\nSubject: Re: hi\r\nMessage-ID: <z2@example.com>\r\nIn-Reply-To: <%s>\r\n\r\nGreat, ordering now.\r\n", m.ExternalID)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := e.desk.Ingest(ctx, in)
	if err != nil || res.Ticket.ID != id {
		t.Fatalf("email answer on ticket %v, want %d (%v)", res, id, err)
	}
}

// patience is how long a test waits for what should happen (a frame, a
// reply sent): on a loaded 2-core machine beside PostgreSQL that can take
// seconds; a passing run returns as soon as it happened.
const patience = 60 * time.Second

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	start := time.Now()
	for !cond() {
		if time.Since(start) > patience {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if took := time.Since(start); took > patience/6 {
		t.Logf("slow wait %q: %v", what, took.Round(time.Millisecond)) // near its deadline on a busy machine?
	}
}

// A reply is delivered over the socket only when the widget says it got
// it. One that meets a closing socket (the frame is written, the visitor
// is gone) or a widget that never answers goes by email, once; it is never
// lost, and no outbox worker waits for the receipt meanwhile.
func TestReplyWithoutReceiptGoesByEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.chat.AckWait = 300 * time.Millisecond
	sink := emailtest.Mailbox(t, e.desk, e.store.ID, "help@shop.test", "My Shop")
	w, _ := e.hello("")
	w.send(frame{Type: "msg", CID: "1", Text: "Do you have size 43?"})
	w.next("ack")
	w.send(frame{Type: "identify", Name: "Rui", Email: "rui@example.pt"})
	w.next("identified")
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10})
	reply := func(body string) *store.Message {
		t.Helper()
		m, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: body})
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	mailed := func(body string) int {
		n := 0
		for _, m := range sink.Messages() {
			if strings.Contains(m, body) && strings.Contains(m, "rui@example.pt") {
				n++
			}
		}
		return n
	}
	delivery := func(id int64) string { m, _ := e.db.Message(ctx, id); return m.Delivery }
	queued := func(id int64) bool {
		items, _ := e.db.DueOutbox(ctx, time.Now().Add(24*time.Hour), 100)
		for _, it := range items {
			if it.MessageID == id {
				return true
			}
		}
		return false
	}

	// 1. The widget says it got it: delivered live, no email, out of the
	// outbox.
	r1 := reply("Yes, we have 43.")
	w.send(frame{Type: "got", ID: w.next("msg").ID})
	waitFor(t, "live reply delivered", func() bool { return delivery(r1.ID) == "delivered" && !queued(r1.ID) })

	// 2. The widget is open but never answers: by email after AckWait. A
	// receipt that comes after the email went changes nothing: no second
	// email, and the reply shows sent (by email).
	r2 := reply("It ships today.")
	if got := w.next("msg"); got.ID != r2.ID {
		t.Fatalf("pushed %+v", got)
	}
	waitFor(t, "unanswered reply mailed", func() bool { return mailed("It ships today.") == 1 && delivery(r2.ID) == "sent" && !queued(r2.ID) })
	w.send(frame{Type: "got", ID: r2.ID})
	w.send(frame{Type: "ping"})
	// The receipt was handled, and no reply was pushed again meanwhile:
	// recording one sent (handed over, or emailed) is no reason to push
	// it once more.
	for f := w.next(""); f.Type != "pong"; f = w.next("") {
		if f.Type == "msg" {
			t.Fatalf("pushed again: %+v", f)
		}
	}
	if n := mailed("It ships today."); n != 1 || delivery(r2.ID) != "sent" {
		t.Fatalf("after a late receipt: mailed %d times, delivery %q", n, delivery(r2.ID))
	}

	// 3. The reply reaches a socket as it closes: the frame is read, the
	// visitor leaves without a receipt, and the reply goes by email at
	// once (long before AckWait).
	e.chat.AckWait = time.Hour
	r3 := reply("Tracking: PT123.")
	if got := w.next("msg"); got.ID != r3.ID {
		t.Fatalf("pushed %+v", got)
	}
	w.conn.Close(websocket.StatusNormalClosure, "")
	waitFor(t, "reply to a closing socket mailed", func() bool { return mailed("Tracking: PT123.") == 1 && delivery(r3.ID) == "sent" && !queued(r3.ID) })
	if mailed("Yes, we have 43.") != 0 {
		t.Fatal("the reply the widget got went by email too")
	}

	// Each reply is counted once per channel it left by: three handed to
	// the widget, two of them emailed after.
	if got := e.sends(); got["chat/sent"] != 3 || got["email/sent"] != 2 || len(got) != 2 {
		t.Fatalf("/metrics sends %v, want chat/sent 3 and email/sent 2", got)
	}
}

// sends is the desk's onedesk_outbox_sends_total as /metrics shows it, by
// "channel/outcome".
func (e *env) sends() map[string]float64 {
	var buf bytes.Buffer
	w := metrics.NewWriter(&buf)
	if err := e.desk.Collect(context.Background(), w); err != nil {
		e.t.Fatal(err)
	}
	w.Flush()
	series, err := metrics.Parse(&buf)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]float64{}
	re := regexp.MustCompile(`^onedesk_outbox_sends_total\{channel="([^"]*)",outcome="([^"]*)"\}$`)
	for k, v := range series {
		if m := re.FindStringSubmatch(k); m != nil {
			out[m[1]+"/"+m[2]] = v
		}
	}
	return out
}

// A reply pushed to a widget stays in the outbox until its receipt: when
// the process stops before it comes (the pushed replies it remembered are
// gone), the outbox hands the reply over again when the wait is over, and
// with the visitor gone it goes by email.
func TestPushedReplyIsSentAfterARestart(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.chat.AckWait = 500 * time.Millisecond
	sink := emailtest.Mailbox(t, e.desk, e.store.ID, "help@shop.test", "My Shop")
	w, _ := e.hello("")
	w.send(frame{Type: "msg", CID: "1", Text: "Where is my parcel?"})
	w.next("ack")
	w.send(frame{Type: "identify", Name: "Rui", Email: "rui@example.pt"})
	w.next("identified")
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10})
	// The receipts the first process waited for die with it: a new chat
	// channel (no sockets, nothing remembered) takes over the desk's sends.
	restarted := New(e.desk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	restarted.AckWait = time.Hour
	e.desk.SetSender("chat", desk.SenderFunc(e.chat.Send))
	r, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "It left today."})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.next("msg"); got.ID != r.ID {
		t.Fatalf("pushed %+v", got)
	}
	waitFor(t, "pushed reply shown sent", func() bool { m, _ := e.db.Message(ctx, r.ID); return m.Delivery == "sent" })
	e.desk.SetSender("chat", desk.SenderFunc(restarted.Send)) // the restart
	waitFor(t, "reply mailed after the restart", func() bool {
		n := 0
		for _, m := range sink.Messages() {
			if strings.Contains(m, "It left today.") {
				n++
			}
		}
		return n == 1
	})
}

// Replies pushed to open widgets hold no outbox worker while they wait for
// receipts: an email reply queued behind a burst of them to 50 widgets
// that never answer goes out at once (before, each of those held one of
// the outbox's 32 workers for the whole wait).
func TestReplyBurstToOpenWidgetsDoesNotHoldEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.chat.AckWait = time.Hour
	sink := emailtest.Mailbox(t, e.desk, e.store.ID, "help@shop.test", "My Shop")
	var widgets []*widget
	for i := range 50 {
		w, _ := e.hello("")
		w.send(frame{Type: "msg", CID: "1", Text: fmt.Sprintf("visitor %d here", i)})
		w.next("ack")
		widgets = append(widgets, w)
	}
	chats, _, err := e.db.ListTickets(ctx, store.TicketFilter{Limit: 100})
	if err != nil || len(chats) != 50 {
		t.Fatalf("%d chat tickets, %v", len(chats), err)
	}
	mail, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", StoreID: &e.store.ID, Subject: "Order 1001",
		From: store.Identity{Kind: "email", Value: "eva@example.cz"}, Text: "Where is it?", ExternalID: "eva1@example.cz"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range chats {
		if _, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tk.ID, desk.ReplyInput{Body: "On it."}); err != nil {
			t.Fatal(err)
		}
	}
	for _, w := range widgets {
		w.next("msg") // pushed; the widget keeps quiet
	}
	queued := time.Now()
	if _, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), mail.Ticket.ID, desk.ReplyInput{Body: "It ships today, Eva."}); err != nil {
		t.Fatal(err)
	}
	mailed := func() bool {
		for _, m := range sink.Messages() {
			if strings.Contains(m, "It ships today, Eva.") {
				return true
			}
		}
		return false
	}
	// Held, it would wait for the receipts' hour; free, it leaves within
	// a busy machine's seconds.
	waitFor(t, "the email reply", mailed)
	t.Logf("email out %s after it was queued behind 50 unconfirmed chat replies", time.Since(queued).Round(time.Millisecond))
}

// A reply to an anonymous visitor who has gone waits in the conversation
// and says so (not "sent"); when the visitor is back, the widget shows it
// with the history and its receipt makes it delivered.
func TestReplyToAGoneVisitorWaitsUntilShown(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w, welcome := e.hello("")
	w.send(frame{Type: "msg", CID: "1", Text: "Is the blue one back?"})
	w.next("ack")
	w.conn.Close(websocket.StatusNormalClosure, "")
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10})
	waitFor(t, "the visitor's socket gone", func() bool {
		e.chat.mu.Lock()
		defer e.chat.mu.Unlock()
		return len(e.chat.visitors[tickets[0].CustomerID]) == 0
	})
	r, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "Yes, since Monday."})
	if err != nil {
		t.Fatal(err)
	}
	delivery := func() string { m, _ := e.db.Message(ctx, r.ID); return m.Delivery }
	waitFor(t, "reply waiting for the visitor", func() bool { return delivery() == "waiting" })

	back, again := e.hello(welcome.Token)
	var shown *frame
	for i := range again.History {
		if again.History[i].ID == r.ID {
			shown = &again.History[i]
		}
	}
	if shown == nil || !shown.Ack || shown.Text != "Yes, since Monday." {
		t.Fatalf("history %+v", again.History)
	}
	back.send(frame{Type: "got", ID: r.ID})
	waitFor(t, "reply delivered once shown", func() bool { return delivery() == "delivered" })
}

// A widget from before receipts (a tab open across an upgrade, a cached
// copy) shows replies but never says "got": its replies count as sent the
// moment it takes them, as they did before, and are not mailed as well.
func TestReplyToWidgetWithoutReceiptsIsSentOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.chat.AckWait = 200 * time.Millisecond
	sink := emailtest.Mailbox(t, e.desk, e.store.ID, "help@shop.test", "My Shop")
	w, err := e.dial("")
	if err != nil {
		t.Fatal(err)
	}
	w.old = true
	w.send(frame{Type: "hello"})
	w.next("welcome")
	w.send(frame{Type: "msg", CID: "1", Text: "Is it waterproof?"})
	w.next("ack")
	w.send(frame{Type: "identify", Name: "Eva", Email: "eva@example.cz"})
	w.next("identified")
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10})
	m, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "Yes, fully."})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.next("msg"); got.ID != m.ID {
		t.Fatalf("pushed %+v", got)
	}
	waitFor(t, "reply sent", func() bool { r, _ := e.db.Message(ctx, m.ID); return r.Delivery == "sent" })
	// Well past the wait for a receipt: still sent, never mailed, and out
	// of the outbox.
	time.Sleep(4 * e.chat.AckWait) // a wait for nothing to happen: a fixed time is the only way to see an absence
	items, _ := e.db.DueOutbox(ctx, time.Now().Add(24*time.Hour), 100)
	for _, it := range items {
		if it.MessageID == m.ID {
			t.Fatal("the reply is still in the outbox")
		}
	}
	for _, mail := range sink.Messages() {
		if strings.Contains(mail, "Yes, fully.") {
			t.Fatal("a reply an old widget showed was mailed too")
		}
	}
}

// TestChatWidgetTellsTheVisitorsLanguage: a widget showing the language the
// browser asked for makes it the customer's; one showing the store's only
// because the browser's is not spoken tells nothing.
func TestChatWidgetTellsTheVisitorsLanguage(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	language := func(locale, lang string) string {
		t.Helper()
		w, err := e.dial("")
		if err != nil {
			t.Fatal(err)
		}
		defer w.conn.CloseNow()
		w.send(frame{Type: "hello", Locale: locale, Lang: lang})
		w.next("welcome")
		w.send(frame{Type: "msg", CID: "1", Text: "Hello"})
		ack := w.next("ack")
		m, err := e.db.Message(ctx, ack.ID)
		if err != nil {
			t.Fatal(err)
		}
		tk, err := e.db.Ticket(ctx, m.TicketID)
		if err != nil {
			t.Fatal(err)
		}
		cu, err := e.db.Customer(ctx, tk.CustomerID)
		if err != nil {
			t.Fatal(err)
		}
		return cu.Language
	}
	if got := language("cs-CZ", "cs"); got != "cs" {
		t.Errorf("a Czech browser's widget: customer language %q", got)
	}
	if got := language("en-GB", "en"); got != "en" {
		t.Errorf("an English browser's widget: customer language %q", got)
	}
	if got := language("de-DE", "en"); got != "" {
		t.Errorf("a German browser's widget in the store's English: customer language %q, want none", got)
	}
}
