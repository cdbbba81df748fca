package ui_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/channels/chat"
	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/orders/orderstest"
	"onedesk/store"
	"onedesk/ui"
)

// threadJSON is a ticket's thread as the agent's API shows it.
type threadJSON struct {
	Messages []struct {
		Kind, Body, Channel string
		Attachments         []struct{ Filename string }
	}
}

// portalLinkRE finds a portal link in a mail: the page and its token.
var portalLinkRE = regexp.MustCompile(`(http://[^\s]+/portal/[a-z0-9-]+/link\?lang=[a-z]+&t=)([A-Za-z0-9_-]+)`)

// portalMail waits for the n-th mail (from 1) of the sink that carries a
// portal link (others, such as agents' replies, go through it too) and
// returns it with the link.
func portalMail(t *testing.T, sink *emailtest.Sink, n int) (resetMail, string) {
	t.Helper()
	return linkMail(t, sink, n, "/portal/", portalLinkRE)
}

// linkMail is the nth mail that has marker in it, and the link in it that
// re finds.
func linkMail(t *testing.T, sink *emailtest.Sink, n int, marker string, re *regexp.Regexp) (resetMail, string) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		seen := 0
		for i, raw := range sink.Messages() {
			if !strings.Contains(raw, marker) {
				continue
			}
			if seen++; seen == n {
				m := waitResetMail(t, sink, i+1)
				l := re.FindString(m.Text)
				if l == "" {
					t.Fatalf("no link in mail:\n%s", m.Text)
				}
				return m, l
			}
		}
	}
	t.Fatalf("no mail %d with %s after 30 s", n, marker)
	return resetMail{}, ""
}

// portalClient is a customer's browser without JavaScript: cookies, form
// posts from the desk's own pages, redirects not followed.
type portalClient struct {
	e    *env
	http *http.Client
	lang string
}

func (e *env) portalClient() *portalClient {
	c := e.client()
	c.http.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &portalClient{e: e, http: c.http}
}

func (c *portalClient) send(req *http.Request) resp {
	c.e.t.Helper()
	req.Header.Set("Origin", c.e.srv.URL)
	if c.lang != "" {
		req.Header.Set("Accept-Language", c.lang)
	}
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, b, res.Header}
}

func (c *portalClient) get(status int, path string) resp {
	c.e.t.Helper()
	req, _ := http.NewRequest("GET", c.e.srv.URL+path, nil)
	r := c.send(req)
	if r.status != status {
		c.e.t.Fatalf("GET %s: status %d, want %d: %s", path, r.status, status, r.body)
	}
	return r
}

func (c *portalClient) post(status int, path string, form url.Values) resp {
	c.e.t.Helper()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r := c.send(req)
	if r.status != status {
		c.e.t.Fatalf("POST %s: status %d, want %d: %s", path, r.status, status, r.body)
	}
	return r
}

// postFiles posts a multipart form with files (name -> content).
func (c *portalClient) postFiles(status int, path string, form url.Values, files map[string]string) resp {
	c.e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	for name, content := range files {
		fw, _ := mw.CreateFormFile("files", name)
		io.WriteString(fw, content)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	r := c.send(req)
	if r.status != status {
		c.e.t.Fatalf("POST %s: status %d, want %d: %s", path, r.status, status, r.body)
	}
	return r
}

// api calls the widget's JSON endpoints as a shop page would.
func (c *portalClient) api(path string, body any) resp {
	c.e.t.Helper()
	j, _ := json.Marshal(body)
	req, _ := http.NewRequest("POST", c.e.srv.URL+path, bytes.NewReader(j))
	req.Header.Set("Content-Type", "application/json")
	return c.send(req)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func csrfOf(t *testing.T, page []byte) string {
	t.Helper()
	m := csrfRE.FindSubmatch(page)
	if m == nil {
		t.Fatalf("no csrf field in the page:\n%s", page)
	}
	return string(m[1])
}

// signInWith opens a mailed link as the customer would: the page (which
// spends nothing), then its button.
func (c *portalClient) signInWith(link string) resp {
	c.e.t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		c.e.t.Fatal(err)
	}
	page := c.get(200, u.RequestURI())
	if !bytes.Contains(page.body, []byte(u.Query().Get("t"))) {
		c.e.t.Fatalf("the link page has no button for the token:\n%s", page.body)
	}
	return c.post(303, u.Path+"?lang="+u.Query().Get("lang"), url.Values{"t": {u.Query().Get("t")}})
}

// visitorToken is a chat widget's visitor token and its identity.
func visitorToken(t *testing.T) (string, store.Identity) {
	b := make([]byte, 24)
	rand.Read(b)
	tok := base64.RawURLEncoding.EncodeToString(b)
	id, ok := chat.VisitorIdentity(tok)
	if !ok {
		t.Fatal("not a visitor token")
	}
	return tok, id
}

// portalShop is a store with a mailbox sending through an SMTP sink and a
// customer Rui with an email ticket (an agent's answer and an internal
// note on it) and a chat ticket from before his address was known, the
// two customers merged; and Ana, another customer.
type portalShop struct {
	e                          *env
	admin                      *client
	storeID                    int64
	shopURL                    string // a storefront with the chat widget
	sink                       *emailtest.Sink
	emailTicket, chatTicket    int64
	otherTicket                int64
	visitorToken               string
	visitor                    store.Identity
	note, answer, chatQuestion string
}

func newPortalShop(t *testing.T, e *env) *portalShop {
	ctx := context.Background()
	s := &portalShop{e: e, admin: e.admin(), note: "Internal: this customer is a VIP", answer: "Your parcel left today.",
		chatQuestion: "Do you ship to Madeira?"}
	s.shopURL = shoeShop(t, e, s.admin)
	var stores struct{ Stores []store.Store }
	s.admin.must(200, "GET", "/api/stores", nil).json(t, &stores)
	st := stores.Stores[0]
	s.storeID = st.ID
	s.sink = emailtest.Mailbox(t, e.desk, st.ID, "help@shoes.test", "Shoe Shop")
	res, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", StoreID: &st.ID, From: store.Identity{Kind: "email", Value: "rui@example.pt"},
		Name: "Rui", Subject: "Where are my shoes?", Text: "I ordered on Monday.", ExternalID: "m1@example.pt"})
	if err != nil {
		t.Fatal(err)
	}
	s.emailTicket = res.Ticket.ID
	s.admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", s.emailTicket), map[string]any{"body": s.note, "internal": true})
	s.admin.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", s.emailTicket), map[string]any{"body": s.answer})
	s.visitorToken, s.visitor = visitorToken(t)
	chatRes, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "chat", StoreID: &st.ID, From: s.visitor, Text: s.chatQuestion, ExternalID: s.visitor.Value + ":c1"})
	if err != nil {
		t.Fatal(err)
	}
	s.chatTicket = chatRes.Ticket.ID
	s.admin.must(200, "POST", fmt.Sprintf("/api/customers/%d/merge", res.Ticket.CustomerID), map[string]any{"customer_id": chatRes.Ticket.CustomerID})
	other, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", StoreID: &st.ID, From: store.Identity{Kind: "email", Value: "ana@example.com"},
		Subject: "Ana's secret question", Text: "Not Rui's business.", ExternalID: "m2@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	s.otherTicket = other.Ticket.ID
	return s
}

// A customer asks for a link (the same answer for an unknown address),
// gets it by mail from the store's mailbox, signs in with it once, sees
// the tickets of both channels of the merged customer and nobody else's,
// the thread without the internal note, answers with a file; a used or
// expired link is refused; asking too often is refused.
func TestPortalSignInByEmailLink(t *testing.T) {
	e := newEnv(t, ui.Options{})
	s := newPortalShop(t, e)
	rui := e.portalClient()

	home := rui.get(200, "/portal/shoe-shop")
	if !bytes.Contains(home.body, []byte(`action="/portal/shoe-shop/signin`)) || !bytes.Contains(home.body, []byte("Shoe Shop")) {
		t.Fatalf("sign-in page:\n%s", home.body)
	}
	rui.get(404, "/portal/no-such-shop")

	// The same answer whether the address is known or not.
	stranger := rui.post(200, "/portal/shoe-shop/signin", url.Values{"email": {"nobody@example.org"}})
	known := rui.post(200, "/portal/shoe-shop/signin", url.Values{"email": {"Rui@Example.pt"}})
	strip := regexp.MustCompile(`nonce="[^"]+"|'nonce-[^']+'`)
	if !bytes.Equal(strip.ReplaceAll(stranger.body, nil), strip.ReplaceAll(known.body, nil)) {
		t.Fatalf("answers differ:\n%s\n---\n%s", stranger.body, known.body)
	}
	m, link := portalMail(t, s.sink, 1)
	if !strings.Contains(m.To, "rui@example.pt") || !strings.Contains(m.From, "help@shoes.test") || !strings.Contains(m.Subject, "Shoe Shop") {
		t.Fatalf("mail %+v", m)
	}
	if !strings.HasPrefix(link, e.srv.URL+"/portal/shoe-shop/link?") {
		t.Fatalf("link %q is not the desk's", link)
	}

	signed := rui.signInWith(link)
	if loc := signed.header.Get("Location"); loc != "/portal/shoe-shop" {
		t.Fatalf("after sign-in: %q", loc)
	}
	cookie := ""
	for _, c := range signed.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "onedesk_portal=") {
			cookie = c
		}
	}
	for _, want := range []string{"onedesk_portal=", "HttpOnly", "SameSite=Lax", "Path=/portal/shoe-shop"} {
		if !strings.Contains(cookie, want) {
			t.Fatalf("session cookie %q lacks %q", cookie, want)
		}
	}
	list := rui.get(200, "/portal/shoe-shop")
	for _, want := range []string{"Where are my shoes?", s.chatQuestion, fmt.Sprintf("/tickets/%d", s.emailTicket), fmt.Sprintf("/tickets/%d", s.chatTicket)} {
		if !bytes.Contains(list.body, []byte(want)) {
			t.Fatalf("the list lacks %q:\n%s", want, list.body)
		}
	}
	if bytes.Contains(list.body, []byte("Ana&#39;s secret")) || bytes.Contains(list.body, []byte("Ana's secret")) {
		t.Fatal("another customer's ticket is listed")
	}
	rui.get(404, fmt.Sprintf("/portal/shoe-shop/tickets/%d", s.otherTicket))

	thread := rui.get(200, fmt.Sprintf("/portal/shoe-shop/tickets/%d", s.emailTicket))
	if !bytes.Contains(thread.body, []byte(s.answer)) || !bytes.Contains(thread.body, []byte("I ordered on Monday.")) {
		t.Fatalf("thread:\n%s", thread.body)
	}
	if bytes.Contains(thread.body, []byte("VIP")) {
		t.Fatal("an internal note reached the customer")
	}

	// A reply with a file lands on the ticket as the customer's message,
	// on the ticket's channel; the same form sent twice is stored once.
	form := url.Values{"csrf": {csrfOf(t, thread.body)}, "form_id": {"form-0123456789abcdef"}, "body": {"Here is the receipt <b>bold</b>"}}
	path := fmt.Sprintf("/portal/shoe-shop/tickets/%d?lang=en", s.emailTicket)
	rui.postFiles(303, path, form, map[string]string{"receipt.txt": "paid 89.90"})
	rui.postFiles(303, path, form, map[string]string{"receipt.txt": "paid 89.90"})
	var got threadJSON
	s.admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", s.emailTicket), nil).json(t, &got)
	var replies int
	for _, msg := range got.Messages {
		if msg.Body == "Here is the receipt <b>bold</b>" {
			replies++
			if msg.Kind != "customer" || msg.Channel != "email" || len(msg.Attachments) != 1 || msg.Attachments[0].Filename != "receipt.txt" {
				t.Fatalf("portal reply %+v", msg)
			}
		}
	}
	if replies != 1 {
		t.Fatalf("%d copies of the reply", replies)
	}
	after := rui.get(200, fmt.Sprintf("/portal/shoe-shop/tickets/%d?sent=1", s.emailTicket))
	if !bytes.Contains(after.body, []byte("Here is the receipt &lt;b&gt;bold&lt;/b&gt;")) || !bytes.Contains(after.body, []byte("receipt.txt")) {
		t.Fatalf("the reply is not shown as text:\n%s", after.body)
	}
	// Its file downloads for Rui, and for nobody else.
	fileRE := regexp.MustCompile(`/portal/shoe-shop/files/(\d+)`)
	fm := fileRE.FindSubmatch(after.body)
	if fm == nil {
		t.Fatal("no file link")
	}
	f := rui.get(200, string(fm[0]))
	if string(f.body) != "paid 89.90" || !strings.HasPrefix(f.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("file %q %v", f.body, f.header)
	}
	e.portalClient().get(404, string(fm[0]))

	// Forms without the session's token, or from another site, are refused.
	rui.postFiles(403, path, url.Values{"body": {"no token"}}, nil)
	req, _ := http.NewRequest("POST", e.srv.URL+"/portal/shoe-shop/signin", strings.NewReader("email=rui%40example.pt"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "https://evil.example")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 403 {
		t.Fatalf("a cross-site post: %v %v", res, err)
	}

	// The link worked once.
	again := e.portalClient()
	u, _ := url.Parse(link)
	used := again.post(410, u.Path, url.Values{"t": {u.Query().Get("t")}})
	if !bytes.Contains(used.body, []byte("This link does not work any more")) {
		t.Fatalf("a used link:\n%s", used.body)
	}
	for _, c := range used.header.Values("Set-Cookie") {
		if strings.HasPrefix(c, "onedesk_portal=") {
			t.Fatal("a used link signed in")
		}
	}
	// An expired one too.
	if err := e.db.InsertPortalLink(context.Background(), desk.HashToken("expired-token"), store.PortalLink{StoreID: s.storeID,
		Email: "rui@example.pt", ExpiresAt: store.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	again.post(410, "/portal/shoe-shop/link", url.Values{"t": {"expired-token"}})
	again.post(410, "/portal/shoe-shop/link", url.Values{"t": {"never-sent"}})

	// Signing out ends the session.
	rui.post(303, "/portal/shoe-shop/signout", url.Values{"csrf": {csrfOf(t, list.body)}})
	if page := rui.get(200, "/portal/shoe-shop"); bytes.Contains(page.body, []byte("Where are my shoes?")) {
		t.Fatal("still signed in after signing out")
	}

	// Three links an hour to one address; the fourth ask is refused.
	rui.post(200, "/portal/shoe-shop/signin", url.Values{"email": {"rui@example.pt"}})
	rui.post(200, "/portal/shoe-shop/signin", url.Values{"email": {"rui@example.pt"}})
	fast := rui.post(429, "/portal/shoe-shop/signin", url.Values{"email": {"rui@example.pt"}})
	if !bytes.Contains(fast.body, []byte("Too many tries")) {
		t.Fatalf("rate limited:\n%s", fast.body)
	}
	// In Portuguese, by the browser's language (a language picked on the
	// page, kept in a cookie, would win).
	pt := e.portalClient()
	pt.lang = "pt-PT,pt;q=0.9"
	if pt := pt.get(200, "/portal/shoe-shop"); !bytes.Contains(pt.body, []byte("Ver os seus pedidos")) || !bytes.Contains(pt.body, []byte(`lang="pt"`)) {
		t.Fatalf("not in Portuguese:\n%s", pt.body)
	}
	for _, raw := range s.sink.Messages() {
		if strings.Contains(raw, "nobody@example.org") {
			t.Fatal("a link went to an address no customer has")
		}
	}
}

// A visitor asks in the widget to continue on another device: the link
// mailed to them opens the desk's chat page of the store (or the store's
// own page, when it set one) with a one-time code in the fragment, which
// the widget there trades for a visitor token of its own, tied to the
// chat's customer: the same ticket, the whole thread. The code works once,
// for a limited time; a used, expired or unknown one is said plainly.
// Opening the link ties the visitor to the address (the customer it
// belongs to).
func TestPortalContinueChatOnAnotherDevice(t *testing.T) {
	e := newEnv(t, ui.Options{})
	s := newPortalShop(t, e)
	tok, visitor := visitorToken(t)
	ctx := context.Background()
	res, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "chat", StoreID: &s.storeID, From: visitor, Text: "Is size 44 back?", ExternalID: visitor.Value + ":c1"})
	if err != nil {
		t.Fatal(err)
	}
	phone := e.portalClient()
	if r := phone.api("/portal/shoe-shop/api/continue", map[string]string{"token": "not a token", "email": "rui@example.pt"}); r.status != 400 {
		t.Fatalf("a bad token: %d %s", r.status, r.body)
	}
	fresh, _ := visitorToken(t)
	if r := phone.api("/portal/shoe-shop/api/continue", map[string]string{"token": fresh, "email": "someone@example.pt"}); r.status != 400 {
		t.Fatalf("a visitor with no chat: %d %s", r.status, r.body)
	}
	r := phone.api("/portal/shoe-shop/api/continue", map[string]string{"token": tok, "email": "rui@example.pt", "lang": "pt"})
	if r.status != 200 || !strings.Contains(string(r.body), "A ligação funciona uma vez") {
		t.Fatalf("continue: %d %s", r.status, r.body)
	}
	m, link := continueMail(t, s.sink, 1)
	if !strings.Contains(m.Subject, "Continue o seu chat") || !strings.HasPrefix(link, e.srv.URL+"/chat/shoe-shop#onedesk-continue=") {
		t.Fatalf("mail %+v, link %s", m, link)
	}
	code := link[strings.Index(link, "=")+1:]
	// Only the hash of the code is kept.
	if err := e.db.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.PortalLink(ctx, code); !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("the code kept as it is: %v", err)
		}
		_, err := tx.PortalLink(ctx, desk.HashToken(code))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// The desk's chat page of the store, with the widget on it.
	page := phone.get(200, "/chat/shoe-shop")
	if !bytes.Contains(page.body, []byte(`src="/widget.js" data-store="shoe-shop"`)) {
		t.Fatalf("chat page:\n%s", page.body)
	}
	phone.get(404, "/chat/no-such-shop")

	open := func(code string) resp {
		return phone.api("/portal/shoe-shop/api/continue/open", map[string]string{"code": code, "lang": "en"})
	}
	r = open(code)
	var opened struct{ Token string }
	if r.status != 200 || json.Unmarshal(r.body, &opened) != nil || opened.Token == "" || opened.Token == tok {
		t.Fatalf("open: %d %s", r.status, r.body)
	}
	device, ok := chat.VisitorIdentity(opened.Token)
	if !ok {
		t.Fatalf("not a visitor token: %q", opened.Token)
	}
	// The device's token reads the same chat, whole.
	tk, msgs, err := e.desk.Conversation(ctx, device, "chat", 50)
	if err != nil || tk == nil || tk.ID != res.Ticket.ID || len(msgs) == 0 || msgs[0].Body != "Is size 44 back?" {
		t.Fatalf("the device's conversation: %v %+v %+v", err, tk, msgs)
	}
	// The visitor is Rui now.
	rui, err := e.db.CustomerByIdentity(ctx, store.Identity{Kind: "email", Value: "rui@example.pt"})
	if err != nil || ticketCustomer(t, e, res.Ticket.ID) != rui {
		t.Fatalf("the chat's customer %d, Rui %d (%v)", ticketCustomer(t, e, res.Ticket.ID), rui, err)
	}
	// Used, expired, unknown: each said plainly.
	if r := open(code); r.status != 410 || !strings.Contains(string(r.body), "used already") {
		t.Fatalf("the code again: %d %s", r.status, r.body)
	}
	old := "expired-code-0123456789abcdef"
	if err := e.db.InsertPortalLink(ctx, desk.HashToken(old), store.PortalLink{StoreID: s.storeID, Email: "rui@example.pt", Visitor: visitor.Value,
		ExpiresAt: store.Now().Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if r := open(old); r.status != 410 || !strings.Contains(string(r.body), "expired") {
		t.Fatalf("an expired code: %d %s", r.status, r.body)
	}
	if r := open("no-such-code"); r.status != 404 || !strings.Contains(string(r.body), "not valid") {
		t.Fatalf("an unknown code: %d %s", r.status, r.body)
	}
	// A store with a page of its own: the link opens there.
	s.admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", s.storeID), map[string]any{"chat": map[string]any{"page_url": s.shopURL + "/help#top"}})
	if r := phone.api("/portal/shoe-shop/api/continue", map[string]string{"token": opened.Token, "email": "rui@example.pt"}); r.status != 200 {
		t.Fatalf("continue again: %d %s", r.status, r.body)
	}
	if _, link := continueMail(t, s.sink, 2); !strings.HasPrefix(link, s.shopURL+"/help#onedesk-continue=") {
		t.Fatalf("the link with a page of the store's: %s", link)
	}
	s.admin.must(400, "PATCH", fmt.Sprintf("/api/stores/%d", s.storeID), map[string]any{"chat": map[string]any{"page_url": "javascript:alert(1)"}})

	// Erasing the customer ends their portal session with their address.
	phone.post(200, "/portal/shoe-shop/signin", url.Values{"email": {"rui@example.pt"}})
	_, signin := portalMail(t, s.sink, 1)
	phone.signInWith(signin)
	s.admin.must(200, "POST", fmt.Sprintf("/api/customers/%d/erase", rui), map[string]string{"confirm": "rui@example.pt"})
	if page := phone.get(200, "/portal/shoe-shop"); bytes.Contains(page.body, []byte("Sign out")) {
		t.Fatal("an erased customer's session goes on")
	}
}

var continueLinkRE = regexp.MustCompile(`http://[^\s]+#onedesk-continue=[A-Za-z0-9_-]+`)

// continueMail is the nth mail with a link that continues a chat.
func continueMail(t *testing.T, sink *emailtest.Sink, n int) (resetMail, string) {
	t.Helper()
	return linkMail(t, sink, n, "onedesk-continue=", continueLinkRE)
}

// ticketCustomer is the customer a ticket belongs to now.
func ticketCustomer(t *testing.T, e *env, ticketID int64) int64 {
	tk, err := e.db.Ticket(context.Background(), ticketID)
	if err != nil {
		t.Fatal(err)
	}
	return tk.CustomerID
}

// Order tracking: the right number with the email or phone it was placed
// with shows the order; a wrong address gets the very answer an unknown
// number gets; tries are limited by address and by number; help, asked
// for, opens a ticket with the order attached (a form ticket in the
// portal, the visitor's chat in the widget).
func TestPortalOrderTracking(t *testing.T) {
	e := newEnv(t, ui.Options{})
	s := newPortalShop(t, e)
	shop := ruiShop(t)
	s.admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", s.storeID), map[string]any{"orders": map[string]any{"shopify_domain": shop.URL, "shopify_token": "shpat_secret"}})
	var cfg map[string]any
	s.admin.must(200, "GET", "/chat/config?store=shoe-shop", nil).json(t, &cfg)
	if cfg["orders"] != true {
		t.Fatalf("the widget is not told orders can be tracked: %v", cfg["orders"])
	}

	c := e.portalClient()
	var ok struct {
		Order struct {
			Number, Fulfillment, Payment string
			Items                        []struct{ Title string }
			Tracking                     []struct{ Number, URL string }
		}
	}
	r := c.api("/portal/shoe-shop/api/order", map[string]string{"number": "1001", "contact": "RUI@example.pt", "lang": "pt"})
	if r.status != 200 {
		t.Fatalf("lookup: %d %s", r.status, r.body)
	}
	r.json(t, &ok)
	if ok.Order.Number != "#1001" || ok.Order.Fulfillment != "Enviada" || ok.Order.Payment != "Paga" || ok.Order.Items[0].Title != "Runner 42" ||
		ok.Order.Tracking[0].URL != "https://track.example/RR123456789PT" {
		t.Fatalf("order %+v", ok.Order)
	}
	// By phone, written as people write it.
	if r := c.api("/portal/shoe-shop/api/order", map[string]string{"number": "#1001", "contact": "912 345 678"}); r.status != 200 {
		t.Fatalf("by phone: %d %s", r.status, r.body)
	}
	wrong := c.api("/portal/shoe-shop/api/order", map[string]string{"number": "1001", "contact": "ana@example.com"})
	unknown := c.api("/portal/shoe-shop/api/order", map[string]string{"number": "2002", "contact": "ana@example.com"})
	wrongPhone := c.api("/portal/shoe-shop/api/order", map[string]string{"number": "1001", "contact": "+44 20 7946 0000"})
	if wrong.status != 404 || unknown.status != 404 || wrongPhone.status != 404 || !bytes.Equal(wrong.body, unknown.body) || !bytes.Equal(wrongPhone.body, unknown.body) {
		t.Fatalf("a wrong address is told apart from an unknown order:\n%d %s\n%d %s\n%d %s", wrong.status, wrong.body, unknown.status, unknown.body, wrongPhone.status, wrongPhone.body)
	}
	if !strings.Contains(string(unknown.body), "We could not find an order with this number and this email or phone") {
		t.Fatalf("refusal: %s", unknown.body)
	}

	// The page without JavaScript: the order, then help, asked for.
	page := c.post(200, "/portal/shoe-shop/order?lang=en", url.Values{"number": {"1001"}, "contact": {"rui@example.pt"}})
	for _, want := range []string{"Runner 42", `href="https://track.example/RR123456789PT"`, "Shipped", "Still need help with this order?"} {
		if !bytes.Contains(page.body, []byte(want)) {
			t.Fatalf("the order page lacks %q:\n%s", want, page.body)
		}
	}
	badPage := c.post(200, "/portal/shoe-shop/order?lang=en", url.Values{"number": {"1001"}, "contact": {"ana@example.com"}})
	if !bytes.Contains(badPage.body, []byte("We could not find an order")) || bytes.Contains(badPage.body, []byte("Runner")) {
		t.Fatalf("a wrong address on the page:\n%s", badPage.body)
	}
	var before struct{ Tickets []ticketJSON }
	s.admin.must(200, "GET", "/api/tickets?channel=form", nil).json(t, &before)
	if len(before.Tickets) != 0 {
		t.Fatal("a lookup alone made a ticket")
	}
	c.post(200, "/portal/shoe-shop/order/help?lang=en", url.Values{"number": {"1001"}, "contact": {"rui@example.pt"}, "message": {"The box was wet."}})
	var forms struct{ Tickets []ticketJSON }
	s.admin.must(200, "GET", "/api/tickets?channel=form", nil).json(t, &forms)
	if len(forms.Tickets) != 1 || forms.Tickets[0].Subject != "Help with order #1001" {
		t.Fatalf("help tickets %+v", forms.Tickets)
	}
	var orders struct{ Orders []struct{ Number string } }
	s.admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", forms.Tickets[0].ID), nil).json(t, &orders)
	if len(orders.Orders) == 0 || orders.Orders[0].Number != "#1001" {
		t.Fatalf("the order is not attached: %+v", orders)
	}

	// In the widget: the visitor's chat gets the question, with the order.
	tok, visitor := visitorToken(t)
	h := c.api("/portal/shoe-shop/api/order/help", map[string]string{"token": tok, "number": "1001", "contact": "rui@example.pt", "message": "Can I change the size?", "cid": "o1"})
	if h.status != 200 {
		t.Fatalf("widget help: %d %s", h.status, h.body)
	}
	ct, err := e.desk.CurrentTicket(context.Background(), visitor, "chat")
	if err != nil || ct == nil || !strings.Contains(string(ct.Fields), `"order":"#1001"`) {
		t.Fatalf("the chat ticket: %+v %v", ct, err)
	}
	if h := c.api("/portal/shoe-shop/api/order/help", map[string]string{"token": tok, "number": "1001", "contact": "ana@example.com", "message": "x"}); h.status != 400 {
		t.Fatalf("help with a wrong address: %d %s", h.status, h.body)
	}

	// Limits: ten tries of one number an hour, from anywhere; then
	// another number still answers, until the address has had its share.
	limited := e.portalClient()
	for i := 0; ; i++ {
		r := limited.api("/portal/shoe-shop/api/order", map[string]string{"number": "3003", "contact": fmt.Sprintf("guess%d@example.com", i)})
		if r.status == 429 {
			if i != 10 {
				t.Fatalf("number 3003 limited after %d tries", i)
			}
			break
		}
		if i > 10 {
			t.Fatal("number 3003 never limited")
		}
	}
	for i := 0; ; i++ {
		r := limited.api("/portal/shoe-shop/api/order", map[string]string{"number": fmt.Sprint(4000 + i), "contact": "guess@example.com"})
		if r.status == 429 {
			break
		}
		if i > 40 {
			t.Fatal("one address is never limited")
		}
	}
}

// "Where is my order?" on a WooCommerce shop whose order numbers a
// plugin makes ("WC-1001" for post 812): found by the number the
// customer sees, with the email or the billing phone as people write it;
// post 812's id is not a number anybody sees; a wrong email or phone
// gets, byte for byte, the answer of an unknown number.
func TestPortalOrderTrackingWooCommerce(t *testing.T) {
	e := newEnv(t, ui.Options{})
	s := newPortalShop(t, e)
	woo := orderstest.NewWoo(t, "ck_live", "cs_live",
		&orderstest.WooOrder{ID: 812, Number: "WC-1001", Status: "completed", Email: "rui@example.pt", Phone: "912 345 678",
			Currency: "EUR", CreatedAt: time.Now().Add(-48 * time.Hour), Country: "PT", Lines: []orderstest.WooLine{{ID: 41, Name: "Runner 42", Quantity: 1, Price: 89.9}}})
	s.admin.must(200, "PATCH", fmt.Sprintf("/api/stores/%d", s.storeID), map[string]any{"orders": map[string]any{"platform": "woocommerce",
		"woo_url": woo.URL, "woo_key": "ck_live", "woo_secret": "cs_live"}})
	c := e.portalClient()
	var ok struct {
		Order struct {
			Number, Fulfillment string
			Items               []struct{ Title string }
		}
	}
	for _, try := range []map[string]string{
		{"number": "WC-1001", "contact": "Rui@example.pt"},
		{"number": "#wc-1001", "contact": "+351 912 345 678"},
		{"number": "1001", "contact": "00351912345678"}, // the digits of the number shown
	} {
		r := c.api("/portal/shoe-shop/api/order", try)
		if r.status != 200 {
			t.Fatalf("%v: %d %s", try, r.status, r.body)
		}
		r.json(t, &ok)
		if ok.Order.Number != "#WC-1001" || ok.Order.Fulfillment != "Delivered" && ok.Order.Fulfillment != "Shipped" || ok.Order.Items[0].Title != "Runner 42" {
			t.Fatalf("%v: order %+v", try, ok.Order)
		}
	}
	unknown := c.api("/portal/shoe-shop/api/order", map[string]string{"number": "WC-2002", "contact": "rui@example.pt"})
	for _, try := range []map[string]string{
		{"number": "WC-1001", "contact": "ana@example.com"},
		{"number": "WC-1001", "contact": "+44 20 7946 0000"},
		{"number": "WC-1001", "contact": "345 678"},
		{"number": "812", "contact": "rui@example.pt"}, // the post id, which the customer never sees
	} {
		r := c.api("/portal/shoe-shop/api/order", try)
		if r.status != 404 || !bytes.Equal(r.body, unknown.body) {
			t.Fatalf("%v is told apart from an unknown order:\n%d %s\n%d %s", try, r.status, r.body, unknown.status, unknown.body)
		}
	}
	page := c.post(200, "/portal/shoe-shop/order?lang=en", url.Values{"number": {"WC-1001"}, "contact": {"912345678"}})
	if !bytes.Contains(page.body, []byte("Runner 42")) {
		t.Fatalf("the order page:\n%s", page.body)
	}
	if !slices.Contains(woo.Searches, "WC-1001") {
		t.Fatalf("searches %q", woo.Searches)
	}
}
