package telegram_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onedesk/channels/telegram"
	"onedesk/channels/telegram/telegramtest"
	"onedesk/desk"
	"onedesk/store"
)

// logBuffer keeps the channel's log lines, to count them.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type env struct {
	t    testing.TB
	d    *desk.Desk
	db   *store.DB
	api  *telegramtest.Server
	ch   *telegram.Channel
	acct *store.SocialAccount
	log  *logBuffer
	stop context.CancelFunc
	done chan struct{}
}

// newEnv makes a desk with a store, a local Bot API server and the
// Telegram channel pointed at it (publicURL "" polls; https uses a
// webhook), connects the bot and starts the channel and the outbox.
func newEnv(t testing.TB, publicURL string) *env {
	t.Helper()
	return newEnvOpts(t, telegram.Options{PublicURL: publicURL})
}

// newEnvOpts is newEnv with the channel's options; plug adds parts to the
// desk (surveys) before it starts.
func newEnvOpts(t testing.TB, opts telegram.Options, plug ...func(*desk.Desk)) *env {
	t.Helper()
	db, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &logBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	d := desk.New(db, log)
	d.RetryBase, d.RetryMax = 100*time.Millisecond, 200*time.Millisecond
	api, err := telegramtest.New("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(api.Stop)
	opts.APIURL = api.URL
	ch := telegram.New(d, log, opts)
	ch.PollTimeout, ch.Backoff, ch.MaxBackoff, ch.WebhookCheck = 1, 50*time.Millisecond, 300*time.Millisecond, 100*time.Millisecond
	st, err := d.SaveStore(context.Background(), 0, desk.StoreInput{Name: "Shop", Slug: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := d.SaveSocialAccount(context.Background(), 0, desk.SocialAccountInput{Platform: "telegram",
		StoreID: desk.Optional[int64]{Set: true, Value: &st.ID}, Settings: map[string]string{"token": telegramtest.Token}})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, d: d, db: db, api: api, ch: ch, acct: acct, log: logs}
	for _, p := range plug {
		p(d)
	}
	e.start()
	t.Cleanup(e.halt)
	return e
}

func (e *env) start() {
	ctx, cancel := context.WithCancel(context.Background())
	e.stop, e.done = cancel, make(chan struct{})
	go func() {
		defer close(e.done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); e.d.RunOutbox(ctx) }()
		e.ch.Run(ctx)
		wg.Wait()
	}()
}

func (e *env) halt() {
	if e.stop != nil {
		e.stop()
		<-e.done
		e.stop = nil
	}
}

// waitFor polls cond until it holds (or fails the test after 60 s: a busy machine beside PostgreSQL).
func (e *env) waitFor(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s; log:\n%s", what, e.log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var ana = map[string]any{"id": 42, "is_bot": false, "first_name": "Ana", "last_name": "Silva", "username": "ana"}

func message(id int64, extra map[string]any) map[string]any {
	m := map[string]any{"message_id": id, "from": ana, "chat": map[string]any{"id": 42, "type": "private"}, "date": time.Now().Unix()}
	for k, v := range extra {
		m[k] = v
	}
	return m
}

// messages lists the messages of the one Telegram ticket (nil if none yet).
func (e *env) messages() []store.Message {
	e.t.Helper()
	list, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Channel: "telegram", Limit: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	if len(list) == 0 {
		return nil
	}
	if len(list) > 1 {
		e.t.Fatalf("%d tickets, want one", len(list))
	}
	ms, err := e.db.Messages(context.Background(), list[0].ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func (e *env) ticket() *store.Ticket {
	e.t.Helper()
	list, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Channel: "telegram", Limit: 10})
	if err != nil || len(list) != 1 {
		e.t.Fatalf("tickets: %v %v", list, err)
	}
	return &list[0]
}

func (e *env) attachment(id int64) []byte {
	e.t.Helper()
	a, _, err := e.d.DB().AttachmentData(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return a.Data
}

func TestInboundMediaAndReply(t *testing.T) {
	e := newEnv(t, "")
	small, big := e.api.AddFile([]byte("small jpeg")), e.api.AddFile([]byte("\xff\xd8\xff the large jpeg"))
	pdf := e.api.AddFile([]byte("%PDF-1.4 invoice"))
	voice := e.api.AddFile([]byte("OggS voice"))
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "Hello, where is order 1001?"})})
	e.api.Push(map[string]any{"message": message(2, map[string]any{"caption": "The box was broken", "photo": []map[string]any{
		{"file_id": small, "width": 90, "height": 60, "file_size": 10}, {"file_id": big, "width": 1280, "height": 960, "file_size": 20}}})})
	e.api.Push(map[string]any{"message": message(3, map[string]any{"document": map[string]any{"file_id": pdf, "file_name": "invoice.pdf", "mime_type": "application/pdf", "file_size": 16}})})
	e.api.Push(map[string]any{"message": message(4, map[string]any{"voice": map[string]any{"file_id": voice, "mime_type": "audio/ogg", "duration": 3, "file_size": 10}})})
	e.waitFor("four messages", func() bool { return len(e.messages()) == 4 })

	tk := e.ticket()
	if tk.StoreID == nil || *tk.StoreID != *e.acct.StoreID || tk.Channel != "telegram" {
		t.Fatalf("ticket %+v", tk)
	}
	ms := e.messages()
	if ms[0].Body != "Hello, where is order 1001?" || ms[0].From != "42" || ms[0].ExternalID != "tg:123456789:42:1" {
		t.Fatalf("first message %+v", ms[0])
	}
	if ms[1].Body != "The box was broken" || len(ms[1].Attachments) != 1 || string(e.attachment(ms[1].Attachments[0].ID)) != "\xff\xd8\xff the large jpeg" ||
		ms[1].Attachments[0].ContentType != "image/jpeg" {
		t.Fatalf("photo message %+v", ms[1])
	}
	if a := ms[2].Attachments; len(a) != 1 || a[0].Filename != "invoice.pdf" || a[0].ContentType != "application/pdf" {
		t.Fatalf("document %+v", ms[2])
	}
	if a := ms[3].Attachments; len(a) != 1 || a[0].Filename != "voice.ogg" || string(e.attachment(a[0].ID)) != "OggS voice" {
		t.Fatalf("voice note %+v", ms[3])
	}
	cu, err := e.db.Customer(context.Background(), tk.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if cu.Name != "Ana Silva (@ana)" || !slices.Contains(cu.Identities, store.Identity{Kind: "telegram", Value: "42"}) {
		t.Fatalf("customer %+v", cu)
	}
	var st store.SocialAccount
	e.waitFor("the offset saved", func() bool {
		a, err := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		st = *a
		return err == nil && a.State.Offset == 5
	})
	if st.State.Mode != "polling" || st.State.LastOKAt == nil || st.State.LastError != "" {
		t.Fatalf("state %+v", st.State)
	}

	// The agent answers with text and a file: sendMessage, then sendDocument, to chat 42.
	agent, err := e.d.CreateAgent(context.Background(), desk.AgentInput{Email: "a@shop.test", Name: "Agent", Password: "password123", Role: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	reply, err := e.d.Reply(context.Background(), desk.AgentActor(agent.ID), tk.ID, desk.ReplyInput{Body: "It left today.",
		Attachments: []store.Attachment{{Filename: "label.pdf", ContentType: "application/pdf", Size: 9, Data: []byte("%PDF-label")}}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reply sent", func() bool {
		m, _ := e.db.Message(context.Background(), reply.ID)
		return m.Delivery == "sent"
	})
	sends := e.api.Calls("sendMessage")
	if len(sends) != 1 || sends[0].Params["chat_id"] != float64(42) || sends[0].Params["text"] != "It left today." {
		t.Fatalf("sendMessage calls %+v", sends)
	}
	docs := e.api.Calls("sendDocument")
	if len(docs) != 1 || docs[0].Params["chat_id"] != "42" || string(docs[0].File) != "%PDF-label" || docs[0].Name != "label.pdf" {
		t.Fatalf("sendDocument calls %+v", docs)
	}
	m, _ := e.db.Message(context.Background(), reply.ID)
	if !strings.HasPrefix(m.ExternalID, "tg:123456789:42:") {
		t.Fatalf("reply's external id %q", m.ExternalID)
	}

	// A picture goes as a photo.
	pic, err := e.d.Reply(context.Background(), desk.AgentActor(agent.ID), tk.ID, desk.ReplyInput{Body: "See",
		Attachments: []store.Attachment{{Filename: "box.png", ContentType: "image/png", Size: 8, Data: []byte("\x89PNG....")}}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the picture sent", func() bool {
		m, _ := e.db.Message(context.Background(), pic.ID)
		return m.Delivery == "sent"
	})
	if ph := e.api.Calls("sendPhoto"); len(ph) != 1 || string(ph[0].File) != "\x89PNG...." {
		t.Fatalf("sendPhoto calls %+v", ph)
	}
}

func TestDuplicateUpdateStoredOnce(t *testing.T) {
	e := newEnv(t, "")
	id := e.api.Push(map[string]any{"message": message(7, map[string]any{"text": "Once"})})
	e.waitFor("the message", func() bool { return len(e.messages()) == 1 })
	e.waitFor("the offset saved", func() bool {
		a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		return a.State.Offset == id+1
	})
	// A crash before the offset was saved: the desk starts from the old
	// offset and Telegram delivers the same update again.
	e.halt()
	a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
	a.State.Offset = 0
	if err := e.d.SetSocialState(context.Background(), a.ID, a.State); err != nil {
		t.Fatal(err)
	}
	e.api.Redeliver(telegramtest.Update(id, "message", message(7, map[string]any{"text": "Once"})))
	next := e.api.Push(map[string]any{"message": message(8, map[string]any{"text": "Twice?"})})
	e.start()
	e.waitFor("the offset past both", func() bool {
		a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		return a.State.Offset == next+1
	})
	if ms := e.messages(); len(ms) != 2 || ms[0].Body != "Once" || ms[1].Body != "Twice?" {
		t.Fatalf("messages %+v", ms)
	}
}

func TestEditsNotedOnce(t *testing.T) {
	e := newEnv(t, "")
	e.api.Push(map[string]any{"message": message(3, map[string]any{"text": "Order 1001"})})
	e.waitFor("the message", func() bool { return len(e.messages()) == 1 })
	edit := message(3, map[string]any{"text": "Order 1002, sorry", "edit_date": 1700000000})
	e.api.Push(map[string]any{"edited_message": edit})
	e.api.Push(map[string]any{"edited_message": edit}) // delivered twice
	last := e.api.Push(map[string]any{"message": message(4, map[string]any{"text": "Thanks"})})
	e.waitFor("all taken", func() bool {
		a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		return a.State.Offset == last+1
	})
	tk := e.ticket()
	evs, err := e.db.Events(context.Background(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	var edits []store.Event
	for _, ev := range evs {
		if ev.Type == "message_edited" {
			edits = append(edits, ev)
		}
	}
	if len(edits) != 1 || !strings.Contains(string(edits[0].Data), "Order 1002, sorry") || edits[0].Actor != "customer" {
		t.Fatalf("edit events %+v", edits)
	}
	if ms := e.messages(); len(ms) != 2 || ms[0].Body != "Order 1001" {
		t.Fatalf("an edit is not a message: %+v", ms)
	}
}

func TestPollingSurvivesServerRestart(t *testing.T) {
	e := newEnv(t, "")
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "before"})})
	e.waitFor("the first message", func() bool { return len(e.messages()) == 1 })
	addr := e.api.Addr()
	e.api.Stop()
	time.Sleep(time.Second) // the poller fails and backs off meanwhile
	e.api.Push(map[string]any{"message": message(2, map[string]any{"text": "after"})})
	if err := e.api.Listen(addr); err != nil {
		t.Fatal(err)
	}
	e.waitFor("the message sent while the server was away", func() bool { return len(e.messages()) == 2 })
	e.waitFor("the error cleared", func() bool {
		a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		return a.State.LastError == "" && a.State.LastOKAt != nil
	})
	// Backing off, the failures were logged once, not on every retry.
	if n := strings.Count(e.log.String(), "bot failing"); n != 1 {
		t.Fatalf("%d failure lines in the log:\n%s", n, e.log.String())
	}
}

func TestRetryAfterHonoured(t *testing.T) {
	e := newEnv(t, "")
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "hi"})})
	e.waitFor("the message", func() bool { return len(e.messages()) == 1 })
	e.api.Fail("sendMessage", telegramtest.Failure{Status: 429, Description: "Too Many Requests: retry after 1", RetryAfter: 1})
	r, err := e.d.Reply(context.Background(), desk.System, e.ticket().ID, desk.ReplyInput{Body: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reply sent", func() bool {
		m, _ := e.db.Message(context.Background(), r.ID)
		return m.Delivery == "sent"
	})
	calls := e.api.Calls("sendMessage")
	if len(calls) != 2 {
		t.Fatalf("%d sendMessage calls, want 2", len(calls))
	}
	if gap := calls[1].At.Sub(calls[0].At); gap < time.Second {
		t.Fatalf("asked again after %s, before retry_after's second", gap)
	}
}

func TestBlockedBotFailsReply(t *testing.T) {
	e := newEnv(t, "")
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "hi"})})
	e.waitFor("the message", func() bool { return len(e.messages()) == 1 })
	e.api.Fail("sendMessage", telegramtest.Failure{Status: 403, Description: "Forbidden: bot was blocked by the user"})
	r, err := e.d.Reply(context.Background(), desk.System, e.ticket().ID, desk.ReplyInput{Body: "Hello"})
	if err != nil {
		t.Fatal(err)
	}
	var m *store.Message
	e.waitFor("the reply failed", func() bool {
		m, _ = e.db.Message(context.Background(), r.ID)
		return m.Delivery == "failed"
	})
	if !strings.Contains(m.DeliveryError, "blocked the bot") || len(e.api.Calls("sendMessage")) != 1 {
		t.Fatalf("failed with %q after %d tries", m.DeliveryError, len(e.api.Calls("sendMessage")))
	}
}

func TestWebhookSecretAndQueue(t *testing.T) {
	e := newEnv(t, "https://desk.example.com")
	var hook, secret string
	e.waitFor("the webhook set", func() bool { hook, secret = e.api.Webhook(); return hook != "" })
	want := fmt.Sprintf("https://desk.example.com/hooks/telegram/%d", e.acct.ID)
	if hook != want || len(secret) < 32 {
		t.Fatalf("webhook %q secret %q", hook, secret)
	}
	srv := httptest.NewServer(e.ch)
	t.Cleanup(srv.Close)
	post := func(secret string, body json.RawMessage) int {
		req, _ := http.NewRequest("POST", srv.URL+"/hooks/telegram/"+fmt.Sprint(e.acct.ID), bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if secret != "" {
			req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		return res.StatusCode
	}
	text := telegramtest.Update(1, "message", message(1, map[string]any{"text": "by webhook"}))
	if got := post("wrong", text); got != 401 {
		t.Fatalf("wrong secret: %d", got)
	}
	if got := post("", text); got != 401 {
		t.Fatalf("no secret: %d", got)
	}
	if e.messages() != nil || !strings.Contains(e.log.String(), "wrong secret token") {
		t.Fatalf("a refused delivery was stored or not logged:\n%s", e.log.String())
	}
	if got := post(secret, text); got != 200 {
		t.Fatalf("good secret: %d", got)
	}
	e.waitFor("the message", func() bool { return len(e.messages()) == 1 })
	if ms := e.messages(); ms[0].Body != "by webhook" {
		t.Fatalf("messages %+v", ms)
	}
	if got := post(secret, text); got != 200 { // Telegram retrying
		t.Fatalf("a retried delivery: %d", got)
	}
	// A photo is answered at once; the file is fetched after.
	file := e.api.AddFile([]byte("\xff\xd8\xff photo"))
	photo := telegramtest.Update(2, "message", message(2, map[string]any{"photo": []map[string]any{{"file_id": file, "width": 10, "height": 10, "file_size": 9}}}))
	if got := post(secret, photo); got != 200 {
		t.Fatalf("photo: %d", got)
	}
	e.waitFor("the photo", func() bool { ms := e.messages(); return len(ms) == 2 && len(ms[1].Attachments) == 1 })
	if len(e.messages()) != 2 { // the retried text is still one message
		t.Fatalf("messages %+v", e.messages())
	}
	if got := post(secret, bytes.Repeat([]byte("x"), 2<<20)); got != 413 {
		t.Fatalf("a 2 MB delivery: %d", got)
	}
	// Telegram failing to reach the desk shows on the bot.
	e.api.WebhookError("Connection timed out")
	e.waitFor("the delivery error shown", func() bool {
		a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		return strings.Contains(a.State.LastError, "cannot deliver") && strings.Contains(a.State.LastError, "Connection timed out")
	})
	e.api.WebhookError("")
	e.waitFor("the error cleared", func() bool {
		a, _ := e.d.DB().SocialAccount(context.Background(), e.acct.ID)
		return a.State.LastError == ""
	})
	// Removing the bot removes its webhook.
	if err := e.d.DeleteSocialAccount(context.Background(), e.acct.ID); err != nil {
		t.Fatal(err)
	}
	if hook, _ := e.api.Webhook(); hook != "" {
		t.Fatalf("webhook %q left after the bot was removed", hook)
	}
}

func TestTokenChecked(t *testing.T) {
	e := newEnv(t, "")
	for _, token := range []string{"nonsense", "987654321:AAEhBP0av28wrongTokenForTests_no"} {
		_, err := e.d.SaveSocialAccount(context.Background(), 0, desk.SocialAccountInput{Platform: "telegram", Settings: map[string]string{"token": token}})
		ie, ok := desk.IsInput(err)
		if !ok || ie.Field != "token" {
			t.Fatalf("token %q: %v", token, err)
		}
	}
	_, err := e.d.SaveSocialAccount(context.Background(), 0, desk.SocialAccountInput{Platform: "telegram", Settings: map[string]string{"token": telegramtest.Token}})
	if ie, ok := desk.IsInput(err); !ok || ie.Field != "token" || !strings.Contains(ie.Message, "connected already") {
		t.Fatalf("the same bot twice: %v", err)
	}
	if e.acct.Handle != "@shop_bot" || e.acct.Name != "Shop Support" || e.acct.ExternalID != "123456789" {
		t.Fatalf("account %+v", e.acct)
	}
}

// The chat's next message goes on its ticket, reopening it once resolved;
// after the ticket is closed it starts a follow-up, and replies to that
// one reach the same chat.
func TestChatFollowsItsTicket(t *testing.T) {
	e := newEnv(t, "")
	e.api.Push(map[string]any{"message": message(1, map[string]any{"text": "first"})})
	e.waitFor("the ticket", func() bool { return len(e.messages()) == 1 })
	first := e.ticket()
	if _, err := e.d.SetStatus(context.Background(), desk.System, first.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	e.api.Push(map[string]any{"message": message(2, map[string]any{"text": "one more thing"})})
	e.waitFor("the ticket reopened", func() bool { tk := e.ticket(); return tk.Status == "open" && len(e.messages()) == 2 })
	if _, err := e.d.SetStatus(context.Background(), desk.System, first.ID, "closed"); err != nil {
		t.Fatal(err)
	}
	e.api.Push(map[string]any{"message": message(3, map[string]any{"text": "a new question"})})
	var list []store.Ticket
	e.waitFor("a follow-up ticket", func() bool {
		list, _, _ = e.db.ListTickets(context.Background(), store.TicketFilter{Channel: "telegram", Limit: 10})
		return len(list) == 2
	})
	next := list[0]
	if next.ID == first.ID || next.CustomerID != first.CustomerID || next.Status != "new" {
		t.Fatalf("follow-up %+v of %+v", next, first)
	}
	r, err := e.d.Reply(context.Background(), desk.System, next.ID, desk.ReplyInput{Body: "Sure"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reply sent", func() bool { m, _ := e.db.Message(context.Background(), r.ID); return m.Delivery == "sent" })
	if s := e.api.Calls("sendMessage"); len(s) != 1 || s[0].Params["chat_id"] != float64(42) {
		t.Fatalf("sendMessage %+v", s)
	}
}

// TestAccountSettingsPart: a bot's saved settings are tested through the
// desk's one account test, as any channel's would be: a token Telegram
// still knows passes, a revoked one fails on "token", and an account that
// is not there, or of a channel the desk lacks, says so.
func TestAccountSettingsPart(t *testing.T) {
	e := newEnv(t, "")
	ctx := context.Background()
	if err := e.d.TestAccount(ctx, "telegram", e.acct.ID); err != nil {
		t.Fatalf("a working bot: %v", err)
	}
	e.api.Fail("getMe", telegramtest.Failure{Status: 401, Description: "Unauthorized"})
	err := e.d.TestAccount(ctx, "telegram", e.acct.ID)
	if ie, ok := desk.IsInput(err); !ok || ie.Field != "token" {
		t.Fatalf("a revoked token: %v", err)
	}
	if err := e.d.TestAccount(ctx, "telegram", e.acct.ID+100); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no such account: %v", err)
	}
	if err := e.d.TestAccount(ctx, "email", 1); !errors.Is(err, desk.ErrNoAccountSettings) {
		t.Fatalf("a channel the desk lacks: %v", err)
	}
}
