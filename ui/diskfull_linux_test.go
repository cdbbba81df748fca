package ui_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/ui"
)

// TestDiskFull puts the database on a small tmpfs, fills the disk and
// keeps writing: the write that does not fit is refused with 507 and a
// plain sentence, every ticket accepted before can still be read (and
// /healthz says what is wrong); once space is freed, writes go on and
// nothing was lost.
func TestDiskFull(t *testing.T) {
	storetest.SQLiteOnly(t, "a full disk under the SQLite file")
	dir := smallDisk(t)
	path := filepath.Join(dir, "onedesk.db")
	e := newEnvAt(t, path, ui.Options{APIRate: -1})
	api := e.admin().apiClient()
	body := strings.Repeat("The parcel never came and nobody answers the phone. ", 300) // 15 KB
	post := func(i int) resp {
		return api.do("POST", "/api/tickets", map[string]any{"subject": fmt.Sprintf("Order %d", i), "body": body,
			"customer": map[string]string{"email": fmt.Sprintf("c%d@x.test", i)}})
	}
	for i := range 20 { // the WAL grows to hold these first
		api.must(201, "POST", "/api/tickets", map[string]any{"subject": fmt.Sprintf("Warm %d", i), "body": body,
			"customer": map[string]string{"email": fmt.Sprintf("w%d@x.test", i)}})
	}

	filler := fillDisk(t, dir, "filler", 200<<10)
	var accepted []int64
	var refused resp
	for i := 0; ; i++ {
		r := post(i)
		if r.status != 201 {
			refused = r
			break
		}
		var tk ticketJSON
		r.json(t, &tk)
		accepted = append(accepted, tk.ID)
		if i > 500 {
			t.Fatal("500 tickets of 15 KB fit in 200 KB")
		}
	}
	msg, _ := refused.err(t)
	if refused.status != 507 || !strings.HasPrefix(msg, "the disk is full: ") {
		t.Fatalf("write on a full disk: %d %q", refused.status, msg)
	}
	t.Logf("%d tickets accepted before the disk was full; then: %d %s", len(accepted), refused.status, msg)

	// Reads go on.
	for _, id := range accepted {
		var tk ticketJSON
		api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", id), nil).json(t, &tk)
		if len(tk.Messages) == 0 || tk.Messages[0].Body != body {
			t.Fatalf("ticket %d read back wrong", id)
		}
	}
	api.must(200, "GET", "/api/tickets?status=new", nil)
	api.must(200, "GET", "/", nil)
	hr := api.do("GET", "/healthz", nil)
	if hr.status != 503 || !strings.Contains(string(hr.body), "the disk is full") {
		t.Fatalf("healthz on a full disk: %d %s", hr.status, hr.body)
	}

	// Space again: writes go on, and everything accepted is there.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	var tk ticketJSON
	post(9999).json(t, &tk)
	if tk.ID == 0 {
		t.Fatal("no write after space was freed")
	}
	var list struct {
		Tickets []ticketJSON
	}
	api.must(200, "GET", "/api/tickets?status=new&limit=200", nil).json(t, &list)
	if len(list.Tickets) != 20+len(accepted)+1 {
		t.Fatalf("%d tickets after the disk was full, want %d", len(list.Tickets), 20+len(accepted)+1)
	}
	if v, err := store.Verify(context.Background(), path, false); err != nil || !v.OK() {
		t.Fatalf("the database after a full disk: %+v %v", v, err)
	}
}

// smallDisk mounts a 12 MB tmpfs for the test, or skips it where that
// cannot be done.
func smallDisk(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "onedesk-full-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=12m", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		t.Skipf("cannot mount a small tmpfs here (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		exec.Command("umount", dir).Run()
		os.Remove(dir)
	})
	return dir
}

// fillDisk writes the file name in dir to leave only leave bytes free
// (a full disk may refuse the last bytes: that is full too).
func fillDisk(t *testing.T, dir, name string, leave int64) string {
	t.Helper()
	var fs syscall.Statfs_t
	if err := syscall.Statfs(dir, &fs); err != nil {
		t.Fatal(err)
	}
	free := int64(fs.Bavail) * int64(fs.Bsize)
	filler := filepath.Join(dir, name)
	if err := os.WriteFile(filler, make([]byte, max(free-leave, 0)), 0o600); err != nil && !errors.Is(err, syscall.ENOSPC) {
		t.Fatal(err)
	}
	return filler
}

// TestDiskFullChatAndForms fills the disk under the public channels: a
// form post is refused with 507 and the agent API's sentence (the page
// without script comes back with what was typed and a sentence for the
// customer), a chat message gets an error frame on a socket that stays
// open, and the hosted form, the chat's history and the agent API still
// read. Once space is freed the refused chat message goes again with the
// same id, and everything accepted before is there once.
func TestDiskFullChatAndForms(t *testing.T) {
	storetest.SQLiteOnly(t, "a full disk under the SQLite file")
	dir := smallDisk(t)
	e := newEnvAt(t, filepath.Join(dir, "onedesk.db"), ui.Options{APIRate: -1})
	admin := e.admin()
	api := admin.apiClient()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"})
	admin.must(201, "POST", "/api/forms", map[string]any{"store_id": 1, "slug": "contact", "title": "Contact", "fields": []map[string]any{
		{"name": "email", "label": "Email", "type": "email", "required": true},
		{"name": "message", "label": "Message", "type": "textarea", "required": true}}})
	body := strings.Repeat("The parcel never came and nobody answers the phone. ", 300) // 15 KB

	for i := range 20 { // the WAL grows to hold these first
		api.must(201, "POST", "/api/tickets", map[string]any{"subject": fmt.Sprintf("Warm %d", i), "body": body,
			"customer": map[string]string{"email": fmt.Sprintf("w%d@x.test", i)}})
	}
	formPost := func(text string) resp {
		return api.do("POST", "/f/contact", map[string]string{"email": "rui@example.pt", "message": text})
	}
	var formTicket struct {
		TicketID int64 `json:"ticket_id"`
	}
	if r := formPost("Where is order 1001?"); r.status != 201 {
		t.Fatalf("form post: %d %s", r.status, r.body)
	} else {
		r.json(t, &formTicket)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	visitor := dialChat(t, ctx, e)
	visitor.send(map[string]any{"type": "hello"})
	token, _ := visitor.next("welcome")["token"].(string)
	visitor.send(map[string]any{"type": "msg", "cid": "c1", "text": "Hello, is anyone there?"})
	if f := visitor.next("ack", "error"); f["type"] != "ack" {
		t.Fatalf("first chat message: %v", f)
	}

	// Fill the disk: the agent API until it refuses, then whatever is left.
	fillers := []string{fillDisk(t, dir, "filler", 100<<10)}
	for i := 0; ; i++ {
		r := api.do("POST", "/api/tickets", map[string]any{"subject": fmt.Sprintf("Order %d", i), "body": body,
			"customer": map[string]string{"email": fmt.Sprintf("c%d@x.test", i)}})
		if r.status == 507 {
			break
		}
		if r.status != 201 || i > 100 {
			t.Fatalf("filling the disk: %d %s", r.status, r.body)
		}
	}
	fillers = append(fillers, fillDisk(t, dir, "filler2", 0))

	// A chat message: refused, said plainly, the socket stays open.
	accepted := []string{"c1"}
	long := strings.Repeat("Größe 43 bitte, nicht 42. ", 150) // 3,900 characters
	var refused map[string]any
	for i := 2; refused == nil; i++ {
		cid := fmt.Sprintf("c%d", i)
		visitor.send(map[string]any{"type": "msg", "cid": cid, "text": long})
		if f := visitor.next("ack", "error"); f["type"] == "ack" {
			accepted = append(accepted, cid) // the WAL still had room
		} else {
			refused = f
		}
		if i > 15 {
			t.Fatal("15 chat messages of 4 KB fit on a full disk")
		}
	}
	if refused["code"] != "err_full" || refused["cid"] == "" || !strings.Contains(refused["error"].(string), "not sent") {
		t.Fatalf("chat message on a full disk: %v", refused)
	}
	visitor.send(map[string]any{"type": "ping"})
	visitor.next("pong")

	// Each of the writes below may still fit where a refused, larger one
	// left room in the log: each goes again (a few times at most) until
	// refused, and what was taken is counted.
	forms := 1
	refusedAfter := func(what string, tries int, try func() bool) {
		t.Helper()
		for range tries {
			if try() {
				return
			}
		}
		t.Fatalf("%s: %d fit on a full disk", what, tries)
	}

	// The chat's offline form over HTTP: 507 with the visitor's sentence.
	refusedAfter("offline chat messages", 5, func() bool {
		r := e.client().do("POST", "/chat/offline?store=shoe-shop", map[string]string{"email": "ana@example.pt", "message": long, "lang": "pt"})
		if r.status == 201 {
			return false
		}
		if msg, _ := r.err(t); r.status != 507 || !strings.Contains(msg, "não foi enviada") {
			t.Fatalf("offline message on a full disk: %d %s", r.status, r.body)
		}
		return true
	})

	// A form post as JSON: 507 and the agent API's sentence.
	refusedAfter("form posts", 3, func() bool {
		r := formPost(long)
		if r.status == 201 {
			forms++
			return false
		}
		if msg, _ := r.err(t); r.status != 507 || !strings.HasPrefix(msg, "the disk is full: ") {
			t.Fatalf("form post on a full disk: %d %s", r.status, r.body)
		}
		return true
	})
	// The same without script: the page again, with what was typed.
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	refusedAfter("form posts without script", 3, func() bool {
		res, err := noFollow.PostForm(e.srv.URL+"/f/contact", url.Values{"email": {"rui@example.pt"}, "message": {"My size is 43 & not 42. " + long}})
		if err != nil {
			t.Fatal(err)
		}
		page, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			forms++
			return false
		}
		if res.StatusCode != 507 || !strings.Contains(string(page), "your message was not sent") ||
			!strings.Contains(string(page), "My size is 43 &amp; not 42") || !strings.Contains(string(page), `value="rui@example.pt"`) {
			t.Fatalf("form page on a full disk: %d %s", res.StatusCode, page)
		}
		return true
	})

	// Reads go on: the hosted form, the chat's history, the agent API.
	e.client().must(200, "GET", "/f/contact", nil)
	e.client().must(200, "GET", "/chat/config?store=shoe-shop", nil)
	again := dialChat(t, ctx, e)
	again.send(map[string]any{"type": "hello", "token": token})
	history, _ := again.next("welcome")["history"].([]any)
	if len(history) != len(accepted) {
		t.Fatalf("history on a full disk: %d messages, want %d", len(history), len(accepted))
	}
	api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", formTicket.TicketID), nil)

	// Space again: the widget sends the refused message again, with its id.
	for _, f := range fillers {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	visitor.send(map[string]any{"type": "msg", "cid": refused["cid"], "text": long})
	if f := visitor.next("ack", "error"); f["type"] != "ack" || f["cid"] != refused["cid"] {
		t.Fatalf("the refused message sent again: %v", f)
	}
	accepted = append(accepted, refused["cid"].(string))
	if r := formPost("Sent again: size 43."); r.status != 201 {
		t.Fatalf("form post after space was freed: %d %s", r.status, r.body)
	}
	again.send(map[string]any{"type": "ping"})
	again.next("pong")
	third := dialChat(t, ctx, e)
	third.send(map[string]any{"type": "hello", "token": token})
	history, _ = third.next("welcome")["history"].([]any)
	var cids []string
	for _, m := range history {
		cids = append(cids, m.(map[string]any)["cid"].(string))
	}
	if strings.Join(cids, " ") != strings.Join(accepted, " ") {
		t.Fatalf("the chat after the disk was full: %v, want %v", cids, accepted)
	}
	var list struct{ Tickets []ticketJSON }
	api.must(200, "GET", "/api/tickets?channel=form", nil).json(t, &list)
	if len(list.Tickets) != forms+1 {
		t.Fatalf("%d form tickets, want %d (%d taken before the last refusal, one after)", len(list.Tickets), forms+1, forms)
	}
}

// chatConn is a visitor's websocket to /chat/ws, spoken as the widget does.
type chatConn struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

func dialChat(t *testing.T, ctx context.Context, e *env) *chatConn {
	t.Helper()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(e.srv.URL, "http")+"/chat/ws?store=shoe-shop", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.CloseNow() })
	return &chatConn{t, ctx, conn}
}

func (c *chatConn) send(v map[string]any) {
	c.t.Helper()
	b, _ := json.Marshal(v)
	if err := c.conn.Write(c.ctx, websocket.MessageText, b); err != nil {
		c.t.Fatal(err)
	}
}

// next reads frames until one of the types comes.
func (c *chatConn) next(types ...string) map[string]any {
	c.t.Helper()
	for {
		_, b, err := c.conn.Read(c.ctx)
		if err != nil {
			c.t.Fatalf("waiting for %v: %v", types, err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			c.t.Fatal(err)
		}
		if slices.Contains(types, f["type"].(string)) {
			return f
		}
	}
}
