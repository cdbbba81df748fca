package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/ui"
)

// teammate adds an agent with a name and returns them logged in, with
// their id.
func (e *env) teammate(admin *client, email, name string) (*client, int64) {
	e.t.Helper()
	var a struct{ ID int64 }
	admin.must(201, "POST", "/api/agents", map[string]string{"email": email, "name": name, "password": "12345678", "role": "agent"}).json(e.t, &a)
	c := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	c.must(200, "POST", "/api/auth/login", map[string]string{"email": email, "password": "12345678"}).json(e.t, &me)
	c.csrf = me.CSRFToken
	return c, a.ID
}

// agentSocket is a test's end of one /agent/ws connection.
type agentSocket struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan map[string]any
	closed chan error // the read error that ended the socket
}

func (c *client) socket(ctx context.Context) *agentSocket {
	t := c.e.t
	t.Helper()
	url := "ws" + strings.TrimPrefix(c.e.srv.URL, "http") + "/agent/ws"
	opts := &websocket.DialOptions{HTTPClient: c.http}
	if c.token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + c.token}}
	}
	conn, _, err := websocket.Dial(ctx, url, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	s := &agentSocket{t: t, conn: conn, frames: make(chan map[string]any, 1000), closed: make(chan error, 1)}
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				s.closed <- err
				close(s.frames)
				return
			}
			var v map[string]any
			json.Unmarshal(b, &v)
			s.frames <- v
		}
	}()
	if hello := s.next(); hello["type"] != "hello" {
		t.Fatalf("first frame %v", hello)
	}
	return s
}

func (s *agentSocket) send(v any) {
	s.t.Helper()
	b, _ := json.Marshal(v)
	if err := s.conn.Write(context.Background(), websocket.MessageText, b); err != nil {
		s.t.Fatal(err)
	}
}

func (s *agentSocket) next() map[string]any {
	s.t.Helper()
	select {
	case v, ok := <-s.frames:
		if !ok {
			s.t.Fatalf("socket closed: %v", <-s.closed)
		}
		return v
	case <-time.After(patience):
		s.t.Fatal("no frame")
	}
	return nil
}

// viewers waits until a "viewers" frame of the ticket lists want, each
// as "agent id", "id:typing" or "id:typing:note" (frames may coalesce:
// the server sends the list as it is when it writes).
func (s *agentSocket) viewers(ticketID int64, want ...string) {
	s.t.Helper()
	var last []string
	deadline := time.After(patience)
	for {
		var v map[string]any
		select {
		case x, ok := <-s.frames:
			if !ok {
				s.t.Fatalf("socket closed waiting for viewers %v: %v", want, <-s.closed)
			}
			v = x
		case <-deadline:
			s.t.Fatalf("viewers of ticket %d: last %v, want %v", ticketID, last, want)
		}
		if v["type"] != "viewers" || v["ticket_id"].(float64) != float64(ticketID) {
			continue
		}
		last = []string{}
		for _, x := range v["viewers"].([]any) {
			w := x.(map[string]any)
			id := fmt.Sprint(w["agent_id"])
			if w["typing"] == true {
				id += ":typing"
				if w["note"] == true {
					id += ":note"
				}
			}
			last = append(last, id)
		}
		if slices.Equal(last, want) || (len(want) == 0 && len(last) == 0) {
			return
		}
	}
}

// quiet tells whether a socket gets no frame of a type for a moment.
func (s *agentSocket) quiet(typ string) bool {
	s.t.Helper()
	for {
		select {
		case v := <-s.frames:
			if v["type"] == typ {
				return false
			}
		case <-time.After(300 * time.Millisecond):
			return true
		}
	}
}

// Collision warning via two agent websockets: who views and types on a
// ticket reaches the other agents live, and leaves with the socket.
func TestPresenceOverAgentWebsockets(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ana, anaID := e.teammate(admin, "ana@shop.test", "Ana Silva")
	bruno, brunoID := e.teammate(admin, "bruno@shop.test", "Bruno Costa")
	tk := admin.newTicket("Broken zipper", "carla@shop.test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, b := ana.socket(ctx), bruno.socket(ctx)
	A, B := fmt.Sprint(anaID), fmt.Sprint(brunoID)

	a.send(map[string]any{"type": "viewing", "ticket_id": tk.ID})
	b.viewers(tk.ID, A)
	a.viewers(tk.ID, A)
	a.send(map[string]any{"type": "typing", "ticket_id": tk.ID})
	b.viewers(tk.ID, A+":typing")
	// Frames the server does not know, and bad ones, are ignored.
	a.send(map[string]any{"type": "dance", "ticket_id": tk.ID})
	a.send("not an object")
	// Bruno opens the ticket: he gets the list at once; both get the change.
	b.send(map[string]any{"type": "viewing", "ticket_id": tk.ID})
	b.viewers(tk.ID, A+":typing", B)
	a.viewers(tk.ID, A+":typing", B)
	// Ana switches to a note; when it is in, she is no longer typing.
	a.send(map[string]any{"type": "typing", "ticket_id": tk.ID, "note": true})
	b.viewers(tk.ID, A+":typing:note", B)
	ana.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "Checking the stock", "internal": true})
	b.viewers(tk.ID, A, B)
	// Typing again, then the app says she stopped (an emptied box).
	a.send(map[string]any{"type": "typing", "ticket_id": tk.ID})
	b.viewers(tk.ID, A+":typing", B)
	a.send(map[string]any{"type": "typing", "ticket_id": 0})
	b.viewers(tk.ID, A, B)
	// A second tab of Ana's: she is listed once, and stays when one closes.
	a2 := ana.socket(ctx)
	a2.send(map[string]any{"type": "viewing", "ticket_id": tk.ID})
	a2.viewers(tk.ID, A, B)
	if !b.quiet("viewers") {
		t.Fatal("a second tab of the same agent changed nothing, yet Bruno was told")
	}
	a2.conn.Close(websocket.StatusNormalClosure, "")
	if !b.quiet("viewers") {
		t.Fatal("closing one of Ana's two tabs changed nothing, yet Bruno was told")
	}
	// Bruno leaves the ticket; Ana's socket closes: the list empties.
	b.send(map[string]any{"type": "viewing", "ticket_id": 0})
	b.viewers(tk.ID, A)
	a.conn.Close(websocket.StatusNormalClosure, "")
	b.viewers(tk.ID)
}

// The agent socket takes small frames at a modest rate: a flood or a big
// frame ends it.
func TestAgentSocketLimits(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	closedWith := func(s *agentSocket) websocket.StatusCode {
		t.Helper()
		for range s.frames {
		}
		return websocket.CloseStatus(<-s.closed)
	}
	s := admin.socket(ctx)
	s.send(map[string]any{"type": "viewing", "ticket_id": 1, "pad": strings.Repeat("x", 2000)})
	if code := closedWith(s); code != websocket.StatusMessageTooBig {
		t.Fatalf("big frame: closed with %v", code)
	}
	s = admin.socket(ctx)
	for i := range 100 {
		b, _ := json.Marshal(map[string]any{"type": "viewing", "ticket_id": i + 1})
		if err := s.conn.Write(ctx, websocket.MessageText, b); err != nil {
			break // closed already
		}
	}
	if code := closedWith(s); code != websocket.StatusPolicyViolation {
		t.Fatalf("flood: closed with %v", code)
	}
}

// A reply written without seeing a colleague's newer reply is refused
// until confirmed; notes never are.
func TestReplyConflict(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ana, _ := e.teammate(admin, "ana@shop.test", "Ana Silva")
	bruno, brunoID := e.teammate(admin, "bruno@shop.test", "Bruno Costa")
	tk := admin.newTicket("Broken zipper", "carla@shop.test")
	path := fmt.Sprintf("/api/tickets/%d/messages", tk.ID)
	newest := func() int64 {
		var got ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
		return got.Messages[len(got.Messages)-1].ID
	}
	// Both open the ticket; Bruno answers first.
	seen := newest()
	bruno.must(201, "POST", path, map[string]any{"body": "We will send a new one.", "seen_message_id": seen})
	r := ana.must(409, "POST", path, map[string]any{"body": "Sorry, a refund is on its way.", "seen_message_id": seen})
	msg, field := r.err(t)
	if field != "seen_message_id" || msg != "Bruno Costa replied since you opened this ticket" {
		t.Fatalf("409: %q on %q", msg, field)
	}
	var body struct {
		Messages []struct {
			Body     string
			AuthorID int64 `json:"author_id"`
		}
	}
	r.json(t, &body)
	if len(body.Messages) != 1 || body.Messages[0].AuthorID != brunoID || body.Messages[0].Body != "We will send a new one." {
		t.Fatalf("the 409 shows %+v", body.Messages)
	}
	// Notes never conflict; a confirmed reply goes.
	ana.must(201, "POST", path, map[string]any{"body": "Bruno beat me to it", "internal": true, "seen_message_id": seen})
	ana.must(201, "POST", path, map[string]any{"body": "Sorry, a refund is on its way.", "seen_message_id": seen, "confirm": true})
	// One's own replies and notes do not conflict, nor customers' messages.
	seen = newest()
	ana.must(201, "POST", path, map[string]any{"body": "And a voucher.", "seen_message_id": seen})
	bruno.must(201, "POST", path, map[string]any{"body": "note from Bruno", "kind": "note"})
	admin.must(201, "POST", path, map[string]any{"body": "Thanks!", "kind": "customer"})
	ana.must(201, "POST", path, map[string]any{"body": "You are welcome.", "seen_message_id": seen})
	// Without seen_message_id (an integration) nothing is checked.
	bruno.must(201, "POST", path, map[string]any{"body": "Anything else?"})
	// The same through a multipart post (the app with files).
	r = ana.postForm(path, map[string]string{"body": "Here is the label.", "seen_message_id": fmt.Sprint(seen)})
	if r.status != 409 {
		t.Fatalf("multipart without confirm: %d %s", r.status, r.body)
	}
	if r = ana.postForm(path, map[string]string{"body": "Here is the label.", "seen_message_id": fmt.Sprint(seen), "confirm": "true"}); r.status != 201 {
		t.Fatalf("multipart with confirm: %d %s", r.status, r.body)
	}

	// An automatic reply by a rule counts too.
	admin.must(201, "POST", "/api/rules", map[string]any{"name": "Thanks", "trigger": "created",
		"actions": []any{map[string]any{"type": "auto_reply", "value": "We got your message."}}})
	tk = admin.newTicket("Wrong size", "dora@shop.test")
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	r = ana.must(409, "POST", fmt.Sprintf("/api/tickets/%d/messages", tk.ID), map[string]any{"body": "Hi", "seen_message_id": got.Messages[0].ID})
	if msg, _ := r.err(t); msg != "an automatic reply was sent since you opened this ticket" {
		t.Fatalf("automatic: %q", msg)
	}
}

// postForm posts a multipart form, as the app does with files.
func (c *client) postForm(path string, fields map[string]string) resp {
	c.e.t.Helper()
	return c.sendForm("POST", path, func(w *multipart.Writer) {
		for k, v := range fields {
			w.WriteField(k, v)
		}
	})
}

// An @mention in a note notifies the agent it names, and only them.
func TestMentionsNotifyAgents(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ana, anaID := e.teammate(admin, "ana@shop.test", "Ana Silva")
	zoe, zoeID := e.teammate(admin, "zoe.k@shop.test", "Zoë Kovář")
	irina, irinaID := e.teammate(admin, "irina@shop.test", "Ирина Петрова")
	tk := admin.newTicket("Broken zipper", "carla@shop.test")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	sa, sz, si := ana.socket(ctx), zoe.socket(ctx), irina.socket(ctx)
	path := fmt.Sprintf("/api/tickets/%d/messages", tk.ID)

	ana.must(201, "POST", path, map[string]any{"body": "@zoë can you check the stock? Write to carla@shop.test, not irina@shop.test.", "internal": true})
	notified := func(s *agentSocket) map[string]any {
		t.Helper()
		for {
			select {
			case v := <-s.frames:
				if v["type"] == "notification" {
					return v["notification"].(map[string]any)
				}
			case <-time.After(500 * time.Millisecond):
				return nil
			}
		}
	}
	n := notified(sz)
	if n == nil || n["kind"] != "mention" || n["by"] != "Ana Silva" || n["ticket_id"].(float64) != float64(tk.ID) ||
		!strings.HasPrefix(n["text"].(string), "@zoë can you check") {
		t.Fatalf("Zoë's notification: %v", n)
	}
	if n := notified(sa); n != nil {
		t.Fatalf("the author was notified: %v", n)
	}
	if n := notified(si); n != nil {
		t.Fatalf("Irina was notified: %v", n)
	}
	var got ticketJSON
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	ev := got.Events[len(got.Events)-1]
	if ev.Type != "noted" || fmt.Sprint(ev.Data["mentions"]) != fmt.Sprintf("[%d]", zoeID) {
		t.Fatalf("event %+v", ev)
	}

	// Full names with spaces, in any case; a reply never mentions.
	ana.must(201, "POST", path, map[string]any{"body": "ИРИНА ПЕТРОВА and @Ирина Петрова, and @ana too", "internal": true})
	if n := notified(si); n == nil || n["kind"] != "mention" {
		t.Fatalf("Irina's notification: %v", n)
	}
	if n := notified(sa); n != nil {
		t.Fatalf("the author mentioning herself was notified: %v", n)
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
	ev = got.Events[len(got.Events)-1]
	if fmt.Sprint(ev.Data["mentions"]) != fmt.Sprint([]int64{anaID, irinaID}) {
		t.Fatalf("event %+v", ev)
	}
	ana.must(201, "POST", path, map[string]any{"body": "Hi @Zoë Kovář"})
	if n := notified(sz); n != nil {
		t.Fatalf("a reply notified: %v", n)
	}
}

// A reply on an unassigned ticket makes it the agent's, unless the desk
// setting is off; notes and assigned tickets are left alone.
func TestAssignOnReply(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	ana, anaID := e.teammate(admin, "ana@shop.test", "Ana Silva")
	_, brunoID := e.teammate(admin, "bruno@shop.test", "Bruno Costa")
	var st map[string]any
	admin.must(200, "GET", "/api/settings", nil).json(t, &st)
	if st["assign_on_reply"] != true {
		t.Fatalf("default settings %v", st)
	}
	ticket := func(id int64) ticketJSON {
		var got ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &got)
		return got
	}
	post := func(id int64, body map[string]any) {
		ana.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", id), body)
	}

	tk := admin.newTicket("Broken zipper", "carla@shop.test")
	post(tk.ID, map[string]any{"body": "Looking", "internal": true})
	if got := ticket(tk.ID); got.AssigneeID != nil {
		t.Fatalf("a note assigned the ticket to %d", *got.AssigneeID)
	}
	post(tk.ID, map[string]any{"body": "We will send a new one."})
	got := ticket(tk.ID)
	if got.AssigneeID == nil || *got.AssigneeID != anaID {
		t.Fatalf("after the reply: assignee %v", got.AssigneeID)
	}
	i := slices.IndexFunc(got.Events, func(ev struct {
		Type  string
		Actor string
		Data  map[string]any
	}) bool {
		return ev.Type == "assigned"
	})
	if i < 0 || got.Events[i].Actor != fmt.Sprint(anaID) || got.Events[i].Data["to"].(float64) != float64(anaID) || got.Events[i].Data["on_reply"] != true {
		t.Fatalf("events %+v", got.Events)
	}

	tk = admin.newTicket("Late parcel", "dora@shop.test")
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"assignee_id": brunoID})
	post(tk.ID, map[string]any{"body": "Bruno is on it, here is an update."})
	if got := ticket(tk.ID); *got.AssigneeID != brunoID {
		t.Fatalf("an assigned ticket moved to %d", *got.AssigneeID)
	}

	admin.must(200, "PATCH", "/api/settings", map[string]any{"assign_on_reply": false}).json(t, &st)
	if st["assign_on_reply"] != false || st["reopen_days"].(float64) != 30 {
		t.Fatalf("settings %v", st)
	}
	if r := ana.do("PATCH", "/api/settings", map[string]any{"assign_on_reply": true}); r.status != 403 {
		t.Fatalf("an agent changed the setting: %d", r.status)
	}
	tk = admin.newTicket("Wrong size", "erin@shop.test")
	post(tk.ID, map[string]any{"body": "Which size do you need?"})
	if got := ticket(tk.ID); got.AssigneeID != nil || slices.ContainsFunc(got.Events, func(ev struct {
		Type  string
		Actor string
		Data  map[string]any
	}) bool {
		return ev.Type == "assigned"
	}) {
		t.Fatalf("with the setting off: %+v", got)
	}
}
