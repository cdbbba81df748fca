package meta_test

import (
	"bytes"
	"context"
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

	"onedesk/channels/meta"
	"onedesk/channels/meta/metatest"
	"onedesk/desk"
	"onedesk/store"
)

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
	t    *testing.T
	d    *desk.Desk
	db   *store.DB
	api  *metatest.Server
	ch   *meta.Channel
	hook *httptest.Server
	acct *store.SocialAccount
	log  *logBuffer
}

// newEnv makes a desk with a store, a local Graph server and the Meta
// channel pointed at it, connects the page and starts the channel, the
// outbox and the webhook.
// plug adds parts to the desk (surveys) before it starts.
func newEnv(t *testing.T, plug ...func(*desk.Desk)) *env {
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
	api := metatest.New()
	t.Cleanup(api.Close)
	ch := meta.New(d, log, meta.Options{APIURL: api.URL, PublicURL: "https://desk.example.com"})
	ch.Backoff = 50 * time.Millisecond
	st, err := d.SaveStore(context.Background(), 0, desk.StoreInput{Name: "Shop", Slug: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := d.SaveSocialAccount(context.Background(), 0, desk.SocialAccountInput{Platform: "meta",
		StoreID:  desk.Optional[int64]{Set: true, Value: &st.ID},
		Settings: map[string]string{"page_id": metatest.PageID, "access_token": metatest.Token, "app_secret": metatest.AppSecret}})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plug {
		p(d)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		wg.Add(1)
		go func() { defer wg.Done(); d.RunOutbox(ctx) }()
		ch.Run(ctx)
		wg.Wait()
	}()
	t.Cleanup(func() { cancel(); <-done })
	hook := httptest.NewServer(ch)
	t.Cleanup(hook.Close)
	e := &env{t: t, d: d, db: db, api: api, ch: ch, hook: hook, acct: acct, log: logs}
	e.waitFor("the page subscribed", func() bool { return len(api.Calls("POST", metatest.PageID+"/subscribed_apps")) == 1 })
	return e
}

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

// post sends a webhook delivery with a signature ("" for none).
func (e *env) post(body []byte, sig string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.hook.URL+"/hooks/meta", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func (e *env) deliver(body []byte) {
	e.t.Helper()
	if got := e.post(body, metatest.Sign(body)); got != 200 {
		e.t.Fatalf("delivery answered %d", got)
	}
}

func (e *env) tickets(channel string) []store.Ticket {
	e.t.Helper()
	list, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Channel: channel, Limit: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) messages(channel string) []store.Message {
	e.t.Helper()
	list := e.tickets(channel)
	if len(list) == 0 {
		return nil
	}
	ms, err := e.db.Messages(context.Background(), list[0].ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func (e *env) events(ticketID int64, typ string) []store.Event {
	e.t.Helper()
	evs, err := e.db.Events(context.Background(), ticketID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []store.Event
	for _, ev := range evs {
		if string(ev.Type) == typ {
			out = append(out, ev)
		}
	}
	return out
}

func (e *env) reply(ticketID int64, body string, files ...store.Attachment) *store.Message {
	e.t.Helper()
	m, err := e.d.Reply(context.Background(), desk.System, ticketID, desk.ReplyInput{Body: body, Attachments: files})
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func (e *env) delivery(id int64, want string) *store.Message {
	e.t.Helper()
	var m *store.Message
	e.waitFor("delivery "+want, func() bool {
		m, _ = e.db.Message(context.Background(), id)
		return m.Delivery == want
	})
	return m
}

func TestHandshake(t *testing.T) {
	e := newEnv(t)
	settings := e.d.SocialSettings(e.acct)
	token, _ := settings["verify_token"].(string)
	if len(token) < 20 || settings["webhook_url"] != "https://desk.example.com/hooks/meta" || settings["access_token_set"] != true ||
		settings["instagram_id"] != metatest.IGID || settings["access_token"] != nil || settings["app_secret"] != nil {
		t.Fatalf("settings %+v", settings)
	}
	get := func(query string) (int, string) {
		res, err := http.Get(e.hook.URL + "/hooks/meta?" + query)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("hub.mode=subscribe&hub.verify_token=" + token + "&hub.challenge=1158201444"); code != 200 || body != "1158201444" {
		t.Fatalf("good handshake: %d %q", code, body)
	}
	if code, _ := get("hub.mode=subscribe&hub.verify_token=wrong&hub.challenge=1"); code != 403 {
		t.Fatalf("wrong verify token: %d", code)
	}
}

func TestSignatureRequired(t *testing.T) {
	e := newEnv(t)
	body := metatest.Delivery("page", metatest.PageID, metatest.Message("5551", metatest.PageID, "m_1", map[string]any{"text": "hi"}))
	if got := e.post(body, ""); got != 401 {
		t.Fatalf("no signature: %d", got)
	}
	if got := e.post(body, "sha256=00"+metatest.Sign(body)[9:]); got != 401 {
		t.Fatalf("wrong signature: %d", got)
	}
	other := metatest.Delivery("page", "999999999", metatest.Message("5551", "999999999", "m_2", map[string]any{"text": "hi"}))
	if got := e.post(other, metatest.Sign(other)); got != 404 {
		t.Fatalf("a page not connected: %d", got)
	}
	time.Sleep(300 * time.Millisecond) // what was queued would be worked off by now
	if n := len(e.tickets("")); n != 0 || !strings.Contains(e.log.String(), "wrong signature") || !strings.Contains(e.log.String(), "no signature") {
		t.Fatalf("%d tickets after refused deliveries; log:\n%s", n, e.log.String())
	}
	if got := e.post(bytes.Repeat([]byte("x"), 2<<20), "sha256=00"); got != 413 {
		t.Fatalf("a 2 MB delivery: %d", got)
	}
}

// A Messenger text and an Instagram picture become tickets on their
// channels with their customers (named from their profiles); a reply goes
// back through the page's Send API; a repeated delivery is one message;
// delivery and read receipts mark the reply.
func TestMessengerAndInstagram(t *testing.T) {
	e := newEnv(t)
	e.api.AddProfile("5551", "Ana Silva", "")
	e.api.AddProfile("7771", "Bea Costa", "bea.c")
	text := metatest.Delivery("page", metatest.PageID, metatest.Message("5551", metatest.PageID, "m_ana1", map[string]any{"text": "Where is order 1001?"}))
	e.deliver(text)
	e.deliver(text) // Meta retrying
	pic := e.api.AddMedia("box.jpg", []byte("\xff\xd8\xff\xe0 a jpeg"))
	e.deliver(metatest.Delivery("instagram", metatest.IGID, metatest.Message("7771", metatest.IGID, "aWdfZAG1", map[string]any{
		"attachments": []map[string]any{{"type": "image", "payload": map[string]string{"url": pic}}}})))
	e.waitFor("two tickets", func() bool { return len(e.tickets("messenger")) == 1 && len(e.tickets("instagram")) == 1 })
	// The retried text once more, after the first was worked off.
	e.deliver(text)
	time.Sleep(200 * time.Millisecond)

	ms := e.messages("messenger")
	if len(ms) != 1 || ms[0].Body != "Where is order 1001?" || ms[0].ExternalID != "m_ana1" || ms[0].From != "5551" {
		t.Fatalf("messenger messages %+v", ms)
	}
	tk := e.tickets("messenger")[0]
	if tk.StoreID == nil || *tk.StoreID != *e.acct.StoreID {
		t.Fatalf("ticket %+v", tk)
	}
	ana, _ := e.db.Customer(context.Background(), tk.CustomerID)
	if ana.Name != "Ana Silva" || !slices.Contains(ana.Identities, store.Identity{Kind: "messenger", Value: "5551"}) {
		t.Fatalf("customer %+v", ana)
	}
	ig := e.messages("instagram")
	if len(ig) != 1 || len(ig[0].Attachments) != 1 || ig[0].Attachments[0].ContentType != "image/jpeg" || ig[0].Attachments[0].Filename != "box.jpg" {
		t.Fatalf("instagram messages %+v", ig)
	}
	bea, _ := e.db.Customer(context.Background(), e.tickets("instagram")[0].CustomerID)
	if bea.Name != "Bea Costa (@bea.c)" || !slices.Contains(bea.Identities, store.Identity{Kind: "instagram", Value: "7771"}) {
		t.Fatalf("instagram customer %+v", bea)
	}
	if n := len(e.api.Calls("GET", "5551")); n != 1 {
		t.Fatalf("the profile asked %d times", n)
	}

	// The agent answers: the page's Send API gets the text, then the file.
	r := e.reply(tk.ID, "It left today.", store.Attachment{Filename: "label.pdf", ContentType: "application/pdf", Size: 10, Data: []byte("%PDF-label")})
	sent := e.delivery(r.ID, "sent")
	sends := e.api.Calls("POST", metatest.PageID+"/messages")
	if len(sends) != 2 {
		t.Fatalf("%d sends", len(sends))
	}
	b := sends[0].Body
	if b["messaging_type"] != "RESPONSE" || b["recipient"].(map[string]any)["id"] != "5551" || b["message"].(map[string]any)["text"] != "It left today." {
		t.Fatalf("text send %+v", b)
	}
	att := sends[1].Body["message"].(map[string]any)["attachment"].(map[string]any)
	if att["type"] != "file" || string(sends[1].File) != "%PDF-label" || sends[1].FileName != "label.pdf" || sends[1].Body["recipient"].(map[string]any)["id"] != "5551" {
		t.Fatalf("file send %+v", sends[1])
	}
	if sent.ExternalID == "" {
		t.Fatal("no external id recorded")
	}
	// Meta echoes the page's message: not the customer's.
	e.deliver(metatest.Delivery("page", metatest.PageID, map[string]any{"sender": map[string]string{"id": metatest.PageID},
		"recipient": map[string]string{"id": "5551"}, "timestamp": time.Now().UnixMilli(),
		"message": map[string]any{"mid": sent.ExternalID, "text": "It left today.", "is_echo": true, "metadata": "onedesk"}}))
	// Delivered, then read (Messenger's watermark).
	e.deliver(metatest.Delivery("page", metatest.PageID, map[string]any{"sender": map[string]string{"id": "5551"},
		"recipient": map[string]string{"id": metatest.PageID}, "delivery": map[string]any{"mids": []string{sent.ExternalID}, "watermark": time.Now().UnixMilli()}}))
	e.delivery(r.ID, "delivered")
	readAt := time.Now().Add(time.Second).Truncate(time.Millisecond)
	e.deliver(metatest.Delivery("page", metatest.PageID, map[string]any{"sender": map[string]string{"id": "5551"},
		"recipient": map[string]string{"id": metatest.PageID}, "timestamp": readAt.UnixMilli(), "read": map[string]any{"watermark": readAt.UnixMilli()}}))
	e.waitFor("the reply read", func() bool { m, _ := e.db.Message(context.Background(), r.ID); return m.ReadAt != nil })
	if m, _ := e.db.Message(context.Background(), r.ID); !m.ReadAt.Equal(readAt) || m.Delivery != "delivered" {
		t.Fatalf("read receipt %+v", m)
	}
	if n := len(e.messages("messenger")); n != 2 {
		t.Fatalf("%d messenger messages after the echo, want the customer's and the reply", n)
	}

	// Instagram: the reply goes through the same page Send API; a read
	// names the message.
	itk := e.tickets("instagram")[0]
	ir := e.reply(itk.ID, "Thanks for the photo!")
	isent := e.delivery(ir.ID, "sent")
	if s := e.api.Calls("POST", metatest.PageID+"/messages"); s[len(s)-1].Body["recipient"].(map[string]any)["id"] != "7771" {
		t.Fatalf("instagram send %+v", s[len(s)-1])
	}
	e.deliver(metatest.Delivery("instagram", metatest.IGID, map[string]any{"sender": map[string]string{"id": "7771"},
		"recipient": map[string]string{"id": metatest.IGID}, "timestamp": time.Now().UnixMilli(), "read": map[string]any{"mid": isent.ExternalID}}))
	e.waitFor("the instagram reply read", func() bool { m, _ := e.db.Message(context.Background(), ir.ID); return m.ReadAt != nil })
}

func TestStoryReplyAndMention(t *testing.T) {
	e := newEnv(t)
	story := e.api.AddMedia("story.mp4", []byte("\x00\x00\x00\x18ftypmp42 story video"))
	e.deliver(metatest.Delivery("instagram", metatest.IGID, metatest.Message("7772", metatest.IGID, "aWdStory1", map[string]any{
		"text": "Is this jacket still available?", "reply_to": map[string]any{"story": map[string]string{"url": story, "id": "1789"}}})))
	mention := e.api.AddMedia("mention.jpg", []byte("\xff\xd8\xff\xe0 mention"))
	e.deliver(metatest.Delivery("instagram", metatest.IGID, metatest.Message("7772", metatest.IGID, "aWdMention1", map[string]any{
		"attachments": []map[string]any{{"type": "story_mention", "payload": map[string]string{"url": mention}}}})))
	e.waitFor("two messages", func() bool { return len(e.messages("instagram")) == 2 })
	tk := e.tickets("instagram")[0]
	e.waitFor("two story events", func() bool { return len(e.events(tk.ID, "story")) == 2 })
	evs := e.events(tk.ID, "story")
	ms := e.messages("instagram")
	if !strings.Contains(string(evs[0].Data), `"kind":"reply"`) || !strings.Contains(string(evs[0].Data), story) ||
		!strings.Contains(string(evs[1].Data), `"kind":"mention"`) || evs[0].Actor != "customer" {
		t.Fatalf("story events %+v", evs)
	}
	if ms[0].Body != "Is this jacket still available?" || len(ms[0].Attachments) != 1 || len(ms[1].Attachments) != 1 ||
		ms[1].Attachments[0].ContentType != "image/jpeg" {
		t.Fatalf("messages %+v", ms)
	}
	// The customer's name could not be read: no name, the message kept.
	cu, _ := e.db.Customer(context.Background(), tk.CustomerID)
	if cu.Name != "" {
		t.Fatalf("customer %+v", cu)
	}
}

func TestEditNotedOnce(t *testing.T) {
	e := newEnv(t)
	e.deliver(metatest.Delivery("page", metatest.PageID, metatest.Message("5553", metatest.PageID, "m_e1", map[string]any{"text": "Order 1001"})))
	e.waitFor("the message", func() bool { return len(e.messages("messenger")) == 1 })
	edit := metatest.Delivery("page", metatest.PageID, map[string]any{"sender": map[string]string{"id": "5553"},
		"recipient": map[string]string{"id": metatest.PageID}, "timestamp": time.Now().UnixMilli(),
		"message_edit": map[string]any{"mid": "m_e1", "text": "Order 1002, sorry", "num_edit": 1}})
	e.deliver(edit)
	tk := e.tickets("messenger")[0]
	e.waitFor("the edit", func() bool { return len(e.events(tk.ID, "message_edited")) == 1 })
	e.deliver(edit)
	time.Sleep(200 * time.Millisecond)
	if n := len(e.events(tk.ID, "message_edited")); n != 1 || len(e.messages("messenger")) != 1 {
		t.Fatalf("%d edit events", n)
	}
}

func TestSendErrors(t *testing.T) {
	e := newEnv(t)
	e.deliver(metatest.Delivery("page", metatest.PageID, metatest.Message("5554", metatest.PageID, "m_s1", map[string]any{"text": "hello"})))
	e.waitFor("the ticket", func() bool { return len(e.tickets("messenger")) == 1 })
	tk := e.tickets("messenger")[0]

	// Throttled (code 613, then 4): waited out, then sent.
	e.api.Fail(metatest.Failure{Status: 400, Code: 613, Message: "Calls to this api have exceeded the rate limit."},
		metatest.Failure{Status: 400, Code: 4, Message: "Application request limit reached"})
	r := e.reply(tk.ID, "One moment")
	e.delivery(r.ID, "sent")

	// An expired token fails the reply at once, in plain words.
	e.api.Fail(metatest.Failure{Status: 400, Code: 190, Subcode: 463, Message: "Error validating access token: Session has expired"})
	before := len(e.api.Calls("POST", metatest.PageID+"/messages"))
	m := e.delivery(e.reply(tk.ID, "Still there?").ID, "failed")
	if !strings.Contains(m.DeliveryError, "expired") || !strings.Contains(m.DeliveryError, "Settings → Channels") ||
		len(e.api.Calls("POST", metatest.PageID+"/messages")) != before+1 {
		t.Fatalf("expired token: %q", m.DeliveryError)
	}

	// Outside the 24-hour window.
	e.api.Fail(metatest.Failure{Status: 400, Code: 10, Subcode: 2018278, Message: "(#10) This message is sent outside of allowed window."})
	m = e.delivery(e.reply(tk.ID, "Hello again").ID, "failed")
	if !strings.Contains(m.DeliveryError, "24 hours") {
		t.Fatalf("window closed: %q", m.DeliveryError)
	}
}

func TestTokenChecked(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		settings map[string]string
		field    string
	}{
		{map[string]string{"page_id": metatest.PageID, "access_token": "EAAGexpired", "app_secret": "s"}, "access_token"},
		{map[string]string{"page_id": "not a page", "access_token": metatest.Token, "app_secret": "s"}, "page_id"},
		{map[string]string{"page_id": metatest.PageID, "access_token": metatest.Token}, "app_secret"},
		{map[string]string{"page_id": metatest.PageID, "access_token": metatest.Token, "app_secret": "s", "instagram_id": "12345678"}, "instagram_id"},
		{map[string]string{"page_id": metatest.PageID, "access_token": metatest.Token, "app_secret": "s"}, "page_id"}, // connected already
	} {
		_, err := e.d.SaveSocialAccount(context.Background(), 0, desk.SocialAccountInput{Platform: "meta", Settings: c.settings})
		if ie, ok := desk.IsInput(err); !ok || ie.Field != c.field {
			t.Fatalf("%v: %v", c.settings, err)
		}
	}
	if e.acct.Name != metatest.PageName || e.acct.Handle != metatest.PageName+" · @"+metatest.IGUsername || e.acct.ExternalID != metatest.PageID {
		t.Fatalf("account %+v", e.acct)
	}
	if err := e.d.DeleteSocialAccount(context.Background(), e.acct.ID); err != nil {
		t.Fatal(err)
	}
	if n := len(e.api.Calls("DELETE", metatest.PageID+"/subscribed_apps")); n != 1 {
		t.Fatalf("%d unsubscribes", n)
	}
}
