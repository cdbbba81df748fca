package whatsapp_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onedesk/channels/whatsapp"
	"onedesk/channels/whatsapp/graphtest"
	"onedesk/desk"
	"onedesk/store"
)

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type env struct {
	t     *testing.T
	d     *desk.Desk
	db    *store.DB
	graph *graphtest.Server
	hook  *httptest.Server
	acct  *store.SocialAccount
	agent int64
	log   *syncBuffer
}

// newEnv makes a desk with a store, a local Graph API server, the
// WhatsApp channel pointed at it and serving /hooks/whatsapp, a connected
// number and an agent, and runs the channel and the outbox.
// plug adds parts to the desk (surveys) before it starts.
func newEnv(t *testing.T, plug ...func(*desk.Desk)) *env {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "d.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	d := desk.New(db, log)
	d.RetryBase, d.RetryMax = 50*time.Millisecond, 100*time.Millisecond
	g := graphtest.New()
	t.Cleanup(g.Stop)
	ch := whatsapp.New(d, log, whatsapp.Options{APIURL: g.URL, PublicURL: "https://desk.example.com"})
	hook := httptest.NewServer(ch)
	t.Cleanup(hook.Close)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shop", Slug: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	acct, err := d.SaveSocialAccount(ctx, 0, desk.SocialAccountInput{Platform: "whatsapp", StoreID: desk.Optional[int64]{Set: true, Value: &st.ID},
		Settings: map[string]string{"phone_number_id": graphtest.PhoneNumberID, "access_token": graphtest.Token, "app_secret": graphtest.AppSecret,
			"templates": "order_update | en_US | Hello {{1}}, your order {{2}} has news: reply to this message to talk to us."}})
	if err != nil {
		t.Fatal(err)
	}
	ag, err := d.CreateAgent(ctx, desk.AgentInput{Email: "a@shop.test", Name: "Agent", Password: "password123", Role: "agent"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plug {
		p(d)
	}
	rctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); ch.Run(rctx) }()
	go func() { defer wg.Done(); d.RunOutbox(rctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
	e := &env{t: t, d: d, db: db, graph: g, hook: hook, acct: acct, agent: ag.ID, log: logs}
	// The channel reads the connected numbers as it starts: until then a
	// delivery for the number is answered 200 and dropped (a number not
	// connected here), but the handshake with its verify token refused.
	token, _ := d.SocialSettings(acct)["verify_token"].(string)
	e.waitFor("the number taken", func() bool {
		res, err := http.Get(hook.URL + "/hooks/whatsapp?hub.mode=subscribe&hub.challenge=1&hub.verify_token=" + url.QueryEscape(token))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
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

// post delivers a webhook payload as Meta does and returns the status.
func (e *env) post(dl graphtest.Delivery) int {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.hook.URL+"/hooks/whatsapp", bytes.NewReader(dl.Body))
	req.Header.Set("Content-Type", "application/json")
	if dl.Signature != "" {
		req.Header.Set("X-Hub-Signature-256", dl.Signature)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode
}

func (e *env) tickets() []store.Ticket {
	e.t.Helper()
	list, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Channel: "whatsapp", Limit: 10})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func (e *env) messages(ticketID int64) []store.Message {
	e.t.Helper()
	ms, err := e.db.Messages(context.Background(), ticketID)
	if err != nil {
		e.t.Fatal(err)
	}
	return ms
}

func (e *env) message(id int64) *store.Message {
	e.t.Helper()
	m, err := e.db.Message(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return m
}

func text(from, wamid, body string) graphtest.Delivery {
	return graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret,
		graphtest.Message(from, "Ana Silva", wamid, time.Now(), graphtest.Text(body)))
}

func TestHandshake(t *testing.T) {
	e := newEnv(t)
	settings := e.d.SocialSettings(e.acct)
	token, _ := settings["verify_token"].(string)
	if !strings.HasPrefix(token, "onedesk-") || settings["access_token_set"] != true || settings["app_secret_set"] != true ||
		settings["webhook_url"] != "https://desk.example.com/hooks/whatsapp" {
		t.Fatalf("settings %v", settings)
	}
	for _, s := range []string{graphtest.Token, graphtest.AppSecret} {
		if strings.Contains(jsonString(settings), s) {
			t.Fatalf("a secret is shown: %v", settings)
		}
	}
	get := func(q string) (int, string) {
		res, err := http.Get(e.hook.URL + "/hooks/whatsapp?" + q)
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
	if code, body := get("hub.mode=subscribe&hub.verify_token=not-ours&hub.challenge=1158201444"); code != 403 || strings.Contains(body, "1158201444") {
		t.Fatalf("bad handshake: %d %q", code, body)
	}
}

func TestBadSignatureStoresNothing(t *testing.T) {
	e := newEnv(t)
	good := text("15551234567", "wamid.bad1", "Hello")
	forged := graphtest.Envelope(graphtest.PhoneNumberID, "not the app secret",
		graphtest.Message("15551234567", "Ana", "wamid.bad1", time.Now(), graphtest.Text("Hello")))
	if code := e.post(forged); code != 401 {
		t.Fatalf("forged signature: %d", code)
	}
	if code := e.post(graphtest.Delivery{Body: good.Body}); code != 401 {
		t.Fatalf("no signature: %d", code)
	}
	tampered := good
	tampered.Body = bytes.Replace(good.Body, []byte("Hello"), []byte("Hellx"), 1)
	if code := e.post(tampered); code != 401 {
		t.Fatalf("changed body: %d", code)
	}
	due, err := e.d.DB().DueSocialUpdates(context.Background(), "whatsapp", store.Now(), 10)
	if err != nil || len(due) != 0 || len(e.tickets()) != 0 {
		t.Fatalf("stored: %v %v, %d tickets", due, err, len(e.tickets()))
	}
	if !strings.Contains(e.log.String(), "webhook delivery refused") {
		t.Fatalf("not logged:\n%s", e.log.String())
	}
}

func TestInboundReplyAndStatuses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Ana is on record with her phone already (she ordered by phone).
	known, err := e.d.Ingest(ctx, desk.Inbound{Channel: "api", From: store.Identity{Kind: "phone", Value: "+1 555 123 4567"},
		Name: "Ana", Subject: "Phone order", Text: "Order by phone"})
	if err != nil {
		t.Fatal(err)
	}
	photo := e.graph.AddMedia([]byte("\xff\xd8\xff the box photo"), "image/jpeg")
	if code := e.post(text("15551234567", "wamid.in1", "Hi, where is order 1001?")); code != 200 {
		t.Fatalf("text: %d", code)
	}
	img := graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret, graphtest.Message("15551234567", "Ana Silva", "wamid.in2", time.Now(),
		map[string]any{"type": "image", "image": map[string]any{"id": photo, "mime_type": "image/jpeg", "caption": "It came broken"}}))
	if code := e.post(img); code != 200 {
		t.Fatalf("image: %d", code)
	}
	if code := e.post(img); code != 200 { // Meta retries
		t.Fatalf("image again: %d", code)
	}
	e.waitFor("two messages", func() bool { l := e.tickets(); return len(l) == 1 && len(e.messages(l[0].ID)) == 2 })
	time.Sleep(100 * time.Millisecond) // the repeat, if it were kept, lands meanwhile
	tk := e.tickets()[0]
	ms := e.messages(tk.ID)
	if len(ms) != 2 || tk.CustomerID != known.Ticket.CustomerID || tk.StoreID == nil || *tk.StoreID != *e.acct.StoreID {
		t.Fatalf("ticket %+v (customer %d), %d messages", tk, known.Ticket.CustomerID, len(ms))
	}
	if ms[0].Body != "Hi, where is order 1001?" || ms[0].ExternalID != "wamid.in1" || ms[1].Body != "It came broken" || len(ms[1].Attachments) != 1 {
		t.Fatalf("messages %+v", ms)
	}
	a, _, err := e.d.DB().AttachmentData(ctx, ms[1].Attachments[0].ID)
	if err != nil || string(a.Data) != "\xff\xd8\xff the box photo" || a.ContentType != "image/jpeg" {
		t.Fatalf("photo %+v %v", a, err)
	}
	cu, err := e.db.Customer(ctx, tk.CustomerID)
	if err != nil || !slices.Contains(cu.Identities, store.Identity{Kind: "whatsapp", Value: "+15551234567"}) ||
		!slices.Contains(cu.Identities, store.Identity{Kind: "phone", Value: "+15551234567"}) {
		t.Fatalf("customer %+v %v", cu, err)
	}
	w, err := e.d.ReplyWindow(ctx, &tk)
	if err != nil || w == nil || !w.Open || w.Until == nil || len(w.Templates) != 1 || w.Templates[0].Params != 2 {
		t.Fatalf("window %+v %v", w, err)
	}

	// The agent answers: the Graph server gets the text for Ana's number.
	reply, err := e.d.Reply(ctx, desk.AgentActor(e.agent), tk.ID, desk.ReplyInput{Body: "It left today.",
		Attachments: []store.Attachment{{Filename: "label.pdf", ContentType: "application/pdf", Size: 10, Data: []byte("%PDF-label")}}})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the reply sent", func() bool { return e.message(reply.ID).Delivery == "sent" })
	sends := e.graph.Calls("/messages")
	if len(sends) != 2 || sends[0].Body["to"] != "15551234567" || sends[0].Body["type"] != "text" ||
		sends[0].Body["text"].(map[string]any)["body"] != "It left today." || sends[0].Body["messaging_product"] != "whatsapp" {
		t.Fatalf("sends %+v", sends)
	}
	up := e.graph.Calls("/media")
	if len(up) != 1 || string(up[0].File) != "%PDF-label" || up[0].FileType != "application/pdf" || up[0].Body["messaging_product"] != "whatsapp" {
		t.Fatalf("uploads %+v", up)
	}
	if doc, _ := sends[1].Body["document"].(map[string]any); sends[1].Body["type"] != "document" || doc["filename"] != "label.pdf" || doc["id"] == "" {
		t.Fatalf("document send %+v", sends[1].Body)
	}
	wamid := e.message(reply.ID).ExternalID
	if !strings.HasPrefix(wamid, "wamid.") {
		t.Fatalf("external id %q", wamid)
	}

	// WhatsApp's statuses: delivered, then read.
	e.post(graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret, graphtest.Status(wamid, "15551234567", "delivered", time.Now(), 0, "")))
	e.waitFor("delivered", func() bool { return e.message(reply.ID).Delivery == "delivered" })
	readAt := time.Now().Add(time.Second).Truncate(time.Second)
	e.post(graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret, graphtest.Status(wamid, "15551234567", "read", readAt, 0, "")))
	e.waitFor("read", func() bool { return e.message(reply.ID).ReadAt != nil })
	if m := e.message(reply.ID); !m.ReadAt.Equal(readAt) || m.Delivery != "delivered" {
		t.Fatalf("read receipt %+v", m)
	}

	// A later failure status fails a reply with WhatsApp's reason.
	second, err := e.d.Reply(ctx, desk.AgentActor(e.agent), tk.ID, desk.ReplyInput{Body: "And the invoice?"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the second reply sent", func() bool { return e.message(second.ID).ExternalID != "" && e.message(second.ID).Delivery == "sent" })
	e.post(graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret, graphtest.Status(e.message(second.ID).ExternalID, "15551234567", "failed", time.Now(), 131026, "Message undeliverable")))
	e.waitFor("failed", func() bool { return e.message(second.ID).Delivery == "failed" })
	if m := e.message(second.ID); !strings.Contains(m.DeliveryError, "could not deliver") {
		t.Fatalf("failed status %+v", m)
	}
}

func TestSendErrorsAndTemplates(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.post(text("420601234567", "wamid.cz1", "Dobrý den"))
	e.waitFor("the ticket", func() bool { return len(e.tickets()) == 1 })
	tk := e.tickets()[0]

	// The window closed: WhatsApp refuses free text (131047).
	e.graph.Fail("420601234567", graphtest.Failure{Code: 131047, Message: "Re-engagement message"})
	r1, err := e.d.Reply(ctx, desk.AgentActor(e.agent), tk.ID, desk.ReplyInput{Body: "Hello again"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the closed-window failure", func() bool { return e.message(r1.ID).Delivery == "failed" })
	if m := e.message(r1.ID); !strings.Contains(m.DeliveryError, "24 hours") || !strings.Contains(m.DeliveryError, "template") {
		t.Fatalf("closed window: %q", m.DeliveryError)
	}

	// A template goes out with its values; the ticket keeps its text.
	if _, err := e.d.SendTemplate(ctx, desk.AgentActor(e.agent), tk.ID, desk.TemplateReply{Name: "order_update", Language: "en_US", Params: []string{"Jana"}}); err == nil {
		t.Fatal("a template with a value missing was taken")
	}
	tm, err := e.d.SendTemplate(ctx, desk.AgentActor(e.agent), tk.ID, desk.TemplateReply{Name: "order_update", Language: "en_US", Params: []string{"Jana", "1001"}})
	if err != nil {
		t.Fatal(err)
	}
	if tm.Body != "Hello Jana, your order 1001 has news: reply to this message to talk to us." {
		t.Fatalf("template text %q", tm.Body)
	}
	e.waitFor("the template sent", func() bool { return e.message(tm.ID).Delivery == "sent" })
	sends := e.graph.Calls("/messages")
	last := sends[len(sends)-1].Body
	tpl, _ := last["template"].(map[string]any)
	if last["type"] != "template" || tpl["name"] != "order_update" || tpl["language"].(map[string]any)["code"] != "en_US" ||
		!strings.Contains(jsonString(tpl["components"]), `"text":"1001"`) {
		t.Fatalf("template call %+v", last)
	}

	// An expired token fails the reply for good, in plain words.
	e.graph.Expire(true)
	r2, err := e.d.Reply(ctx, desk.AgentActor(e.agent), tk.ID, desk.ReplyInput{Body: "Still there?"})
	if err != nil {
		t.Fatal(err)
	}
	e.waitFor("the expired-token failure", func() bool { return e.message(r2.ID).Delivery == "failed" })
	if m := e.message(r2.ID); !strings.Contains(m.DeliveryError, "access token") || !strings.Contains(m.DeliveryError, "expired") {
		t.Fatalf("expired token: %q", m.DeliveryError)
	}
	e.graph.Expire(false)

	// Once the customer last wrote over 24 hours ago, a plain reply is
	// refused as it is written, and nothing is queued; a note still goes.
	if err := e.db.Write(ctx, func(tx *store.Tx) error {
		t, err := tx.Ticket(ctx, tk.ID)
		if err != nil {
			return err
		}
		yesterday := time.Now().Add(-25 * time.Hour)
		t.LastCustomerAt = &yesterday
		return tx.UpdateTicket(ctx, t)
	}); err != nil {
		t.Fatal(err)
	}
	before := len(e.messages(tk.ID))
	_, err = e.d.Reply(ctx, desk.AgentActor(e.agent), tk.ID, desk.ReplyInput{Body: "Are you there?"})
	var ie *desk.InputError
	if !errors.As(err, &ie) || ie.Field != "body" || !strings.Contains(ie.Message, "24 hours") || !strings.Contains(ie.Message, "template") {
		t.Fatalf("a plain reply after the window: %v", err)
	}
	if _, err := e.d.Reply(ctx, desk.AgentActor(e.agent), tk.ID, desk.ReplyInput{Body: "Call her instead", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.messages(tk.ID)); n != before+1 {
		t.Fatalf("%d messages after the refused reply and a note, want %d", n, before+1)
	}
}

func TestCheckRefusesWrongToken(t *testing.T) {
	e := newEnv(t)
	_, err := e.d.SaveSocialAccount(context.Background(), 0, desk.SocialAccountInput{Platform: "whatsapp",
		Settings: map[string]string{"phone_number_id": "106540352242999", "access_token": "EAAGwrong", "app_secret": "x"}})
	ie, ok := desk.IsInput(err)
	if !ok || ie.Field != "access_token" || !strings.Contains(ie.Message, "refused") {
		t.Fatalf("wrong token: %v", err)
	}
}
