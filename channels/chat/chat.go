// Package chat is the live chat channel: the storefront widget's
// websocket (/chat/ws), its configuration and offline messages, and the
// delivery of agents' replies to visitors.
package chat

import (
	"cmp"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"

	"onedesk/assets"
	"onedesk/channels"
	"onedesk/desk"
	"onedesk/httperr"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// Limits on what a visitor may send.
const (
	MaxText      = 4000     // characters in one message
	maxFrame     = 16 << 10 // bytes in one websocket frame
	maxRequest   = 32 << 10 // bytes in an HTTP request but a file upload
	historySize  = 50       // messages a returning visitor sees
	visitorBurst = 20       // messages and files a visitor may send at once...
	visitorRate  = 2        // ...and per second after that, over all its tabs
)

// Channel serves visitors and delivers agents' replies to them.
type Channel struct {
	desk *desk.Desk
	log  *slog.Logger

	// Online tells whether an agent is there to chat (set by the server
	// from the agents' websockets); nil means nobody is.
	Online func() bool
	// StoreOnline, when set, tells it per store (an agent who may work
	// the store is there): the server sets it through WatchPresence.
	StoreOnline func(storeID int64) bool
	// Now is the clock business hours are read by; nil is time.Now.
	Now func() time.Time
	// AckWait is how long a reply pushed to an open widget waits for the
	// widget's receipt before it goes by email instead (0: 15 s).
	AckWait time.Duration

	mu       sync.Mutex
	visitors map[int64]map[*visitor]struct{} // open sockets by customer id
	receipts map[int64]*receipt              // replies pushed, waiting for a widget's "got", by message id
	open     map[*visitor]struct{}           // every open socket
	closing  bool                            // shutting down: no new sockets or frames
	sessions sync.WaitGroup                  // sockets' readers running
	frames   sync.WaitGroup                  // frames being handled

	ipLimit      *limit.Limiter // connections and HTTP requests per address
	visitorLimit *limit.Limiter // messages and files per visitor token
	greetLimit   *limit.Limiter // greeting beacons per address, greeting and event (greet.go)

	presence presence // whether each store's team is online, pushed to widgets (presence.go)
}

// New returns the chat channel and installs its sender in the desk.
func New(d *desk.Desk, log *slog.Logger) *Channel {
	c := &Channel{desk: d, log: log, visitors: map[int64]map[*visitor]struct{}{}, open: map[*visitor]struct{}{}, receipts: map[int64]*receipt{},
		ipLimit: d.NewLimiter("chat address", 1, 30), visitorLimit: d.NewLimiter("chat visitor", visitorRate, visitorBurst),
		greetLimit: d.NewLimiter("chat greeting", 0.05, 3)}
	c.presence.kick = make(chan struct{}, 1)
	d.SetSender("chat", desk.SenderFunc(c.Send))
	d.RegisterAccounts(c)
	return c
}

// TicketChannel is "chat": its accounts are the stores' chat widgets.
func (c *Channel) TicketChannel() string { return "chat" }

// TestAccount: a store's chat settings reach nothing outside the desk, so
// only the store's being there is checked.
func (c *Channel) TestAccount(ctx context.Context, storeID int64) error {
	_, err := c.desk.DB().Store(ctx, storeID)
	return err
}

// live tells whether the widget offers live chat: an agent is online and
// the store is within its business hours.
func (c *Channel) live(st *store.Store) bool {
	now := time.Now
	if c.Now != nil {
		now = c.Now
	}
	return c.teamOnline(st.ID) && desk.ChatOpen(st, now())
}

// ServeHTTP answers /chat/ws, /chat/config, /chat/offline, /chat/upload
// Name is "chat".
func (c *Channel) Name() string { return "chat" }

// Routes: the widget's websocket, configuration, uploads and files.
func (c *Channel) Routes() []channels.Route { return []channels.Route{{Pattern: "/chat/", Handler: c}} }

// and /chat/file.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ip := clientIP(r)
	if !c.ipLimit.Allow(ip) {
		writeError(w, http.StatusTooManyRequests, text(r.URL.Query().Get("lang"), "err_fast"), "")
		return
	}
	if strings.HasPrefix(r.URL.Path, "/chat/avatar/") {
		c.serveAvatar(w, r) // a picture in an <img>: any page may show it
		return
	}
	if slug := pageSlug(r); slug != "" {
		c.servePage(w, r, slug) // the store's chat page on the desk (page.go)
		return
	}
	bodyLimit := int64(maxRequest)
	st, err := c.desk.DB().StoreBySlug(r.Context(), r.URL.Query().Get("store"))
	if err != nil {
		writeError(w, http.StatusNotFound, "no store by that name: check data-store in the snippet", "store")
		return
	}
	origin := r.Header.Get("Origin")
	if !desk.OriginAllowed(st, origin, r.Host) {
		writeError(w, http.StatusForbidden, "this site may not use the chat of "+st.Name+": add its origin to the store's allowed origins", "origin")
		return
	}
	if origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
	}
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if r.URL.Path == "/chat/upload" {
		bodyLimit = maxFileBytes(st) + 64<<10
	}
	r.Body = http.MaxBytesReader(w, r.Body, bodyLimit)
	switch r.URL.Path {
	case "/chat/ws":
		c.serveWS(w, r, st)
	case "/chat/config":
		c.serveConfig(w, r, st)
	case "/chat/offline":
		c.serveOffline(w, r, st)
	case "/chat/upload":
		c.serveUpload(w, r, st)
	case "/chat/file":
		c.serveFile(w, r, st)
	case "/chat/greet":
		c.serveGreet(w, r, st)
	default:
		writeError(w, http.StatusNotFound, "not found", "")
	}
}

// serveConfig tells the widget how to look and what to offer: the store's
// settings, in the visitor's language, and whether chat is live now.
func (c *Channel) serveConfig(w http.ResponseWriter, r *http.Request, st *store.Store) {
	if origin := r.Header.Get("Origin"); origin != "" && !sameHost(origin, r.Host) {
		c.desk.WidgetSeen(r.Context()) // the snippet is on a shop's site (first-run checklist)
	}
	lang := desk.PickLanguage(st.Language, r.URL.Query().Get("lang"))
	strs := assets.WidgetCatalog(lang)
	set := st.Chat
	color, position, prechat := cmp.Or(set.Color, "#2457d6"), cmp.Or(set.Position, "right"), cmp.Or(set.PreChat, "off")
	answer := map[string]any{
		"store": st.Name, "online": c.live(st), "language": lang, "strings": strs,
		"color": color, "position": position, "prechat": prechat,
		"launcher": cmp.Or(set.Launcher, strs["launcher"]), "greeting": cmp.Or(set.Greeting, strs["greeting"]),
		"files": set.Files, "max_file_mb": maxFileBytes(st) >> 20,
		"orders": st.Orders.ShopifyDomain != "" || st.Orders.LookupURL != "", // the widget offers "Where is my order?" (package portal)
		"help":   c.desk.DB().HasHelp(r.Context(), st.ID, lang),              // help search before a chat (assets/widget/help.js)
	}
	if list := c.widgetGreetings(r, st, lang); len(list) > 0 {
		answer["greetings"] = list // the widget then loads its greeting code
	}
	writeJSON(w, http.StatusOK, answer)
}

// visitorID is the identity a visitor token stands for. The token itself
// is a credential (it reads the conversation), so only its hash is stored
// and shown to agents.
func visitorID(token string) store.Identity {
	sum := sha256.Sum256([]byte(token))
	return store.Identity{Kind: "visitor", Value: "v" + hex.EncodeToString(sum[:12])}
}

func newToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func validToken(t string) bool {
	b, err := base64.RawURLEncoding.DecodeString(t)
	return err == nil && len(b) == 24
}

// frame is one websocket message, in either direction.
type frame struct {
	Type    string     `json:"type"`
	Token   string     `json:"token,omitempty"`
	Lang    string     `json:"lang,omitempty"` // the widget's language, for the texts of errors
	CID     string     `json:"cid,omitempty"`  // the widget's id for a message, for ack and resend
	ID      int64      `json:"id,omitempty"`
	Text    string     `json:"text,omitempty"`
	From    string     `json:"from,omitempty"` // visitor | agent
	Name    string     `json:"name,omitempty"`
	Avatar  string     `json:"avatar,omitempty"` // an agent's picture: /chat/avatar/{key}
	Email   string     `json:"email,omitempty"`
	Page    string     `json:"page,omitempty"`
	Locale  string     `json:"locale,omitempty"`
	At      *time.Time `json:"at,omitempty"`
	Online  *bool      `json:"online,omitempty"`
	History []frame    `json:"history,omitempty"`
	Files   []file     `json:"files,omitempty"`
	Code    string     `json:"code,omitempty"`  // what went wrong, for programs: err_fast, err_long, ...
	Error   string     `json:"error,omitempty"` // the same for people, in the widget's language
	Field   string     `json:"field,omitempty"`
	Ack     bool       `json:"ack,omitempty"` // on a reply in the history: say "got" once it is shown
	// Choices are the buttons under a message (a survey's ratings); the
	// widget sends a "choose" frame with the one pressed (Text: its data).
	Choices []choice `json:"choices,omitempty"`

	// Receipts, in a widget's hello: it says "got" for each reply it shows.
	// A widget from before receipts (a tab open across an upgrade, a
	// cached copy) never does, and its replies count as sent as they were.
	Receipts bool `json:"receipts,omitempty"`
}

// choice is a button under a message.
type choice struct {
	Label string `json:"label"`
	Data  string `json:"data"`
}

func choicesOf(list []desk.Choice) []choice {
	var out []choice
	for _, ch := range list {
		out = append(out, choice{Label: ch.Label, Data: ch.Data})
	}
	return out
}

// file describes an image or file on a message.
type file struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
	Type string `json:"type"`
	Size int64  `json:"size"`
}

// visitor is one open widget. An idle one costs a goroutine (its reader)
// and its buffers, nothing more: frames queue already encoded and a writer
// goroutine lives only while there is something to write, so ten thousand
// open widgets fit in a small server. Keep-alive comes from the widget
// (a ping frame every 25 s, which also keeps proxies from closing the
// socket); dead peers are found by TCP keep-alive on the accepted socket.
type visitor struct {
	conn    *websocket.Conn
	gone    chan struct{} // closed when the socket is (no frame will reach the widget any more)
	mu      sync.Mutex
	queue   [][]byte
	writing bool
	closed  bool
	bye     bool // close with the restart status once the queue is written

	receipts atomic.Bool // the widget confirms the replies it shows

	storeID  int64 // the store whose widget it is
	online   int32 // what the widget was last told of its team: 0 nothing yet, 1 online, 2 not (guarded by Channel.mu)
	customer int64 // whose pushes it receives, 0: none yet (guarded by Channel.mu)
}

// maxQueue frames may wait for a visitor; one that reads slower than that
// is disconnected (the widget reconnects and gets the history).
const maxQueue = 64

// enqueue queues a frame for the visitor, in order, and reports whether
// the visitor is still there.
func (v *visitor) enqueue(b []byte) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed {
		return false
	}
	if len(v.queue) >= maxQueue {
		v.markClosed()
		v.conn.CloseNow()
		return false
	}
	v.queue = append(v.queue, b)
	if !v.writing {
		v.writing = true
		go v.drain()
	}
	return true
}

// drain writes the queue until it is empty.
func (v *visitor) drain() {
	for {
		v.mu.Lock()
		if len(v.queue) == 0 && v.bye && !v.closed {
			v.markClosed()
			v.writing = false
			v.mu.Unlock()
			v.conn.Close(websocket.StatusServiceRestart, RestartReason)
			return
		}
		if len(v.queue) == 0 || v.closed {
			v.writing = false
			v.queue = nil
			v.mu.Unlock()
			return
		}
		b := v.queue[0]
		v.queue = v.queue[1:]
		v.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := v.conn.Write(ctx, websocket.MessageText, b)
		cancel()
		if err != nil {
			v.close()
		}
	}
}

// goAway closes the socket with the restart status after what is queued
// (acks of messages just stored) is written.
func (v *visitor) goAway() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.closed || v.bye {
		return
	}
	v.bye = true
	if !v.writing {
		v.writing = true
		go v.drain()
	}
}

func (v *visitor) close() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.closed {
		v.markClosed()
		v.conn.CloseNow()
	}
}

// markClosed records that the socket is done; v.mu is held.
func (v *visitor) markClosed() {
	v.closed = true
	close(v.gone)
}

func (c *Channel) serveWS(w http.ResponseWriter, r *http.Request, st *store.Store) {
	// The origin was checked above against the store's list.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return
	}
	conn.SetReadLimit(maxFrame)
	s := &session{c: c, st: st, v: &visitor{conn: conn, gone: make(chan struct{}), storeID: st.ID}, browser: browserName(r.UserAgent()), lang: desk.PickLanguage(st.Language, "")}
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		conn.Close(websocket.StatusServiceRestart, RestartReason)
		return
	}
	c.open[s.v] = struct{}{}
	c.sessions.Add(1)
	c.mu.Unlock()
	// The socket is ours now (hijacked): it gets a fresh goroutine, with a
	// small stack, and net/http lets go of the request and its buffers.
	// Shutdown closes these sockets.
	go s.run(context.Background())
}

// RestartReason is the close reason (with status 1012, service restart)
// of the sockets Shutdown closes: the widget reconnects at once.
const RestartReason = "server restarting: reconnect"

// Shutdown stops taking visitors' frames, lets those being stored finish
// and their acks go out, then closes every widget's socket with the
// restart status and waits for them, until ctx ends (then cuts them).
// A frame that comes in meanwhile is left alone: the widget sends a
// message again, with the same id, until it is acknowledged.
func (c *Channel) Shutdown(ctx context.Context) error {
	c.mu.Lock()
	c.closing = true
	c.mu.Unlock()
	if !waitCtx(ctx, &c.frames) {
		c.log.Warn("chat: shutdown: visitors' messages still being stored were cut")
	}
	c.mu.Lock()
	list := make([]*visitor, 0, len(c.open))
	for v := range c.open {
		list = append(list, v)
	}
	c.mu.Unlock()
	for _, v := range list {
		v.goAway()
	}
	if !waitCtx(ctx, &c.sessions) {
		c.mu.Lock()
		n := len(c.open)
		for v := range c.open {
			v.close()
		}
		c.mu.Unlock()
		return fmt.Errorf("chat: %d visitors' sockets did not close in time and were cut", n)
	}
	return nil
}

// waitCtx waits for wg until ctx ends and tells whether wg finished.
func waitCtx(ctx context.Context, wg *sync.WaitGroup) bool {
	done := make(chan struct{})
	go func() {
		wg.Wait()
		close(done)
	}()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		return false
	}
}

// run reads the visitor's frames until the socket closes. Each frame is
// handled on a goroutine of its own: the database work grows a stack, and
// this one, parked in Read for hours, stays small.
func (s *session) run(ctx context.Context) {
	conn := s.v.conn
	defer s.c.sessions.Done()
	defer func() {
		s.c.mu.Lock()
		delete(s.c.open, s.v)
		s.c.mu.Unlock()
	}()
	defer s.v.close()
	defer s.c.detach(s.v)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			conn.Close(websocket.StatusNormalClosure, "")
			return
		}
		s.c.mu.Lock()
		closing := s.c.closing
		if !closing {
			s.c.frames.Add(1)
		}
		s.c.mu.Unlock()
		if closing {
			continue // read on until the widget answers the close
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			defer s.c.frames.Done()
			s.handle(ctx, data)
		}()
		<-done
	}
}

// session is one visitor's websocket after the handshake.
type session struct {
	c          *Channel
	st         *store.Store
	v          *visitor
	who        store.Identity
	page       string
	locale     string
	browser    string
	lang       string
	identified bool // the customer gave an email address
}

func (s *session) send(f frame) {
	b, _ := json.Marshal(f)
	s.v.enqueue(b)
}

func (s *session) fail(cid, code, field string) {
	s.send(frame{Type: "error", CID: cid, Code: code, Error: text(s.lang, code), Field: field})
}

// follow makes the session receive the pushes of a customer.
func (s *session) follow(customer int64) { s.c.attach(customer, s.v) }

// customer is the customer whose pushes the session receives (0: none
// yet); a merge moves it (rekey).
func (s *session) customer() int64 { return s.c.customerOf(s.v) }

func (s *session) handle(ctx context.Context, data []byte) {
	c, st := s.c, s.st
	var f frame
	if err := json.Unmarshal(data, &f); err != nil {
		s.send(frame{Type: "error", Code: "err_protocol", Error: "the message is not valid JSON"})
		return
	}
	if f.Type != "hello" && s.who.Value == "" {
		s.send(frame{Type: "error", Code: "err_protocol", Error: "say hello first"})
		return
	}
	switch f.Type {
	case "hello":
		if s.who.Value != "" {
			return
		}
		token := f.Token
		if !validToken(token) {
			token = newToken()
		}
		s.who, s.page, s.locale, s.lang = visitorID(token), clip(f.Page, 500), clip(f.Locale, 100), desk.PickLanguage(st.Language, f.Lang)
		s.v.receipts.Store(f.Receipts)
		t, history, err := c.desk.Conversation(ctx, s.who, "chat", historySize)
		if err != nil {
			c.log.Error("chat: history", "err", err)
		}
		online := c.live(st)
		c.told(s.v, online)
		welcome := frame{Type: "welcome", Token: token, Online: &online}
		authors := c.authors(ctx, history)
		for _, m := range history {
			f := messageFrame(m)
			authors.sign(&f, m)
			if m.Auto != "" && m.Kind == "agent" {
				if list, err := c.desk.Choices(ctx, &m); err == nil {
					f.Choices = choicesOf(list) // none once answered
				}
			}
			if m.Delivery == "waiting" && t != nil {
				// Left for the visitor: the widget's receipt makes it delivered.
				f.Ack = true
				c.mu.Lock()
				c.receipts[m.ID] = &receipt{customer: t.CustomerID, at: time.Now(), got: make(chan struct{})}
				c.mu.Unlock()
			}
			welcome.History = append(welcome.History, f)
		}
		if t != nil {
			s.follow(t.CustomerID)
		} else if id, err := c.desk.DB().CustomerByIdentity(ctx, s.who); err == nil {
			s.follow(id)
		}
		if cu := s.customer(); cu != 0 {
			welcome.Name, welcome.Email = c.contact(ctx, cu)
			s.identified = welcome.Email != ""
		}
		s.send(welcome)
	case "msg":
		if !c.visitorLimit.Allow(s.who.Value) {
			s.fail(f.CID, "err_fast", "")
			return
		}
		if st.Chat.PreChat == "required" && !s.identified {
			s.fail(f.CID, "err_details", "email")
			return
		}
		ack, customer, err := c.receive(ctx, st, s.who, message{cid: f.CID, text: f.Text, page: s.page, locale: s.locale, browser: s.browser,
			lang: visitorLanguage(st, s.lang, s.locale)})
		if err != nil {
			code, field := c.errorCode(err)
			s.fail(f.CID, code, field)
			return
		}
		if s.customer() == 0 {
			s.follow(customer)
		}
		s.send(ack)
		// The visitor's other devices and tabs (a chat continued on a
		// phone) show it too.
		c.pushOthers(customer, s.v, frame{Type: "msg", From: "visitor", CID: f.CID, ID: ack.ID, At: ack.At, Text: strings.TrimSpace(f.Text)})
	case "identify":
		email := strings.TrimSpace(f.Email)
		if email == "" && st.Chat.PreChat == "required" && !s.identified {
			s.fail("", "err_email_required", "email")
			return
		}
		id, err := c.desk.Identify(ctx, s.who, clip(f.Name, 200), email)
		if err != nil {
			code, field := c.errorCode(err)
			s.fail("", code, field)
			return
		}
		s.identified = s.identified || email != ""
		s.follow(id)
		s.send(frame{Type: "identified", Name: f.Name, Email: f.Email})
	case "typing":
		if t, _ := c.desk.CurrentTicket(ctx, s.who, "chat"); t != nil {
			c.desk.Bus().Publish(desk.Change{Type: "typing", TicketID: t.ID})
		}
	case "got":
		// The widget shows an agent's reply: it is delivered.
		c.received(ctx, f.ID, s.customer())
	case "choose":
		// A button under a message (a survey's rating): its data is signed,
		// so only a visitor who was shown it can send it.
		if !c.visitorLimit.Allow(s.who.Value) {
			s.fail("", "err_fast", "")
			return
		}
		reply, ok, err := c.desk.Choose(ctx, "chat", f.Text)
		var ie *desk.InputError
		switch {
		case !ok:
			s.send(frame{Type: "error", Code: "err_protocol", Error: "not a choice of this desk"})
		case errors.As(err, &ie):
			s.send(frame{Type: "chosen", ID: f.ID, Error: ie.In(s.lang)})
		case err != nil:
			c.log.Error("chat: record a choice", "err", err)
			s.send(frame{Type: "chosen", ID: f.ID, Code: "err_full", Error: text(s.lang, "err_full")})
		default:
			s.send(frame{Type: "chosen", ID: f.ID, Text: reply})
		}
	case "ping":
		s.send(frame{Type: "pong"})
	default:
		s.send(frame{Type: "error", Code: "err_protocol", Error: fmt.Sprintf("unknown message type %q", f.Type)})
	}
}

// message is what a visitor sends: text or files, and where they are.
type message struct {
	cid                   string
	text                  string
	files                 []store.Attachment
	page, locale, browser string
	lang                  string // the visitor's language, when known (visitorLanguage)
}

// visitorLanguage is the language a visitor reads, for their customer
// record ("" when not known): the widget's, when the browser asked for it
// (a widget in the store's own language may be showing it only because
// the browser's is one onedesk does not speak).
func visitorLanguage(st *store.Store, widget, browser string) string {
	if !i18n.Supported(widget) {
		return ""
	}
	if widget != st.Language || i18n.Negotiate(browser) == widget {
		return widget
	}
	return ""
}

// receive commits a visitor's message and returns its ack. The ack goes
// out only after the commit; a resend with the same cid (after a lost
// ack) finds the stored message and is acked again, not stored twice.
func (c *Channel) receive(ctx context.Context, st *store.Store, who store.Identity, m message) (frame, int64, error) {
	text := strings.TrimSpace(m.text)
	if text == "" && len(m.files) == 0 {
		return frame{}, 0, desk.InputErrorf("text", "the message is empty")
	}
	if utf8.RuneCountInString(text) > MaxText {
		return frame{}, 0, desk.InputErrorf("text", "a message may have at most %d characters", MaxText)
	}
	if m.cid == "" || len(m.cid) > 64 {
		return frame{}, 0, desk.InputErrorf("cid", "each message needs its own cid of at most 64 characters")
	}
	in := desk.Inbound{Channel: "chat", StoreID: &st.ID, From: who, Text: text, Attachments: m.files,
		ExternalID: who.Value + ":" + m.cid, Language: m.lang}
	if t, err := c.desk.CurrentTicket(ctx, who, "chat"); err != nil {
		return frame{}, 0, err
	} else if t != nil {
		in.TicketID = t.ID
	} else {
		fields, _ := json.Marshal(map[string]string{"page": m.page, "browser": clip(m.browser, 300), "locale": m.locale})
		in.Fields = fields
	}
	res, err := c.desk.Ingest(ctx, in)
	if err != nil {
		return frame{}, 0, err
	}
	at := res.Message.CreatedAt
	ack := frame{Type: "ack", CID: m.cid, ID: res.Message.ID, At: &at}
	if len(m.files) > 0 {
		if stored, err := c.desk.DB().Message(ctx, res.Message.ID); err == nil {
			ack.Files = files(stored.Attachments) // with their ids
		}
	}
	return ack, res.Ticket.CustomerID, nil
}

// errorCode turns an error of the desk into a catalog key (the widget
// shows its text) and the field at fault.
func (c *Channel) errorCode(err error) (code, field string) {
	ie, ok := desk.IsInput(err)
	if !ok {
		c.log.Error("chat: save", "err", err)
		if kind, _ := store.Fault(err); kind == store.ErrDiskFull {
			return "err_full", "" // not sent: the widget keeps it to send again
		}
		return "err_save", ""
	}
	switch ie.Field {
	case "text", "body", "message":
		if strings.Contains(ie.Message, "empty") {
			return "err_empty", "text"
		}
		return "err_long", "text"
	case "email", "from":
		if ie.Reason == desk.ReasonEmailDomain {
			return "err_email_domain", "email"
		}
		return "err_email_invalid", "email"
	case "name":
		return "err_name_long", "name"
	}
	return "err_save", ie.Field
}

// writeSaveError answers an HTTP request whose save failed: 400 with the
// field at fault for bad input (the message text named as the request
// names it), 507 on a full disk, 500 otherwise.
func (c *Channel) writeSaveError(w http.ResponseWriter, lang string, err error, textField string) {
	code, field := c.errorCode(err)
	status := http.StatusBadRequest
	switch code {
	case "err_save":
		status = http.StatusInternalServerError
	case "err_full":
		status = http.StatusInsufficientStorage
	}
	if field == "text" {
		field = textField
	}
	writeError(w, status, text(lang, code), field)
}

// contact is the name and email address a customer gave.
func (c *Channel) contact(ctx context.Context, customer int64) (name, email string) {
	cu, claimed, _ := c.desk.Contact(ctx, customer) // claims that cannot be read now are left out
	if cu == nil {
		return "", ""
	}
	return cu.Name, emailOf(cu, claimed)
}

// emailOf is the address to write to a customer at: their own, or one
// they claimed that another customer has (the answer from that inbox is
// what proves the claim).
func emailOf(cu *store.Customer, claimed []store.Identity) string {
	for _, id := range cu.Identities {
		if id.Kind == "email" {
			return id.Value
		}
	}
	for _, id := range claimed {
		if id.Kind == "email" {
			return id.Value
		}
	}
	return ""
}

func messageFrame(m store.Message) frame {
	f := frame{Type: "msg", ID: m.ID, Text: m.Body, At: &m.CreatedAt, From: "agent", Files: files(m.Attachments)}
	if m.Kind == "customer" {
		f.From = "visitor"
		if _, cid, ok := strings.Cut(m.ExternalID, ":"); ok {
			f.CID = cid
		}
	}
	return f
}

// attach makes a widget receive the pushes of a customer (and no more
// those of the one it had).
func (c *Channel) attach(customer int64, v *visitor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.detachLocked(v)
	if c.visitors[customer] == nil {
		c.visitors[customer] = map[*visitor]struct{}{}
	}
	c.visitors[customer][v] = struct{}{}
	v.customer = customer
}

func (c *Channel) detach(v *visitor) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.detachLocked(v)
}

func (c *Channel) detachLocked(v *visitor) {
	if v.customer == 0 {
		return
	}
	delete(c.visitors[v.customer], v)
	if len(c.visitors[v.customer]) == 0 {
		delete(c.visitors, v.customer)
	}
	v.customer = 0
}

func (c *Channel) customerOf(v *visitor) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return v.customer
}

// rekey moves the open widgets of a customer merged into another to that
// one (a chat continued on a phone from an address another customer had):
// the replies to the kept customer reach them.
func (c *Channel) rekey(away, keep int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for v := range c.visitors[away] {
		if c.visitors[keep] == nil {
			c.visitors[keep] = map[*visitor]struct{}{}
		}
		c.visitors[keep][v] = struct{}{}
		v.customer = keep
	}
	delete(c.visitors, away)
}

// push hands a frame to every open widget of a customer and reports
// whether any took it.
func (c *Channel) push(customer int64, f frame) bool { return c.pushOthers(customer, nil, f) }

// pushOthers hands a frame to every open widget of a customer but one
// (the one it came from) and reports whether any took it.
func (c *Channel) pushOthers(customer int64, except *visitor, f frame) bool {
	c.mu.Lock()
	list := make([]*visitor, 0, len(c.visitors[customer]))
	for v := range c.visitors[customer] {
		if v != except {
			list = append(list, v)
		}
	}
	c.mu.Unlock()
	if len(list) == 0 {
		return false
	}
	b, _ := json.Marshal(f)
	sent := false
	for _, v := range list {
		sent = v.enqueue(b) || sent
	}
	return sent
}

// receipt is a reply pushed to a customer's widgets, waiting for one of
// them to say it got it. No outbox worker waits for it: the outbox keeps
// the reply, due again when the wait is over (or at once when every
// widget it went to has closed), and calls Send once more.
type receipt struct {
	customer  int64
	at        time.Time
	got       chan struct{} // closed when a widget says it got the reply
	confirmed bool          // got, but the desk could not record it yet
}

// ackWait is how long a pushed reply waits for the widget's receipt.
func (c *Channel) ackWait() time.Duration {
	if c.AckWait > 0 {
		return c.AckWait
	}
	return 15 * time.Second
}

// received records the receipt of a reply when the widget that says it got
// it belongs to the reply's customer and the reply still waits for it. A
// receipt that comes after Send looked again (and sent the reply by email
// or left it in the conversation) changes nothing: the visitor then has
// the reply twice, once on each path, never twice on one.
func (c *Channel) received(ctx context.Context, message, customer int64) {
	c.mu.Lock()
	r := c.receipts[message]
	if r == nil || r.customer != customer || r.confirmed {
		c.mu.Unlock()
		return
	}
	r.confirmed = true
	close(r.got)
	c.mu.Unlock()
	if err := c.desk.Delivered(ctx, "chat", message); err != nil {
		// The outbox still holds it: Send, called again, sees it confirmed.
		c.log.Error("chat: receipt", "message", message, "err", err)
		return
	}
	c.mu.Lock()
	if c.receipts[message] == r {
		delete(c.receipts, message)
	}
	c.mu.Unlock()
}

// pushed is what became of a reply handed to a customer's widgets.
type pushed int

const (
	pushNone        pushed = iota // no widget open, or all closing
	pushUnconfirmed               // only widgets that send no receipts took it
	pushConfirmable               // a widget that says "got" took it
)

// pushReply hands a reply to the customer's open widgets and reports
// whether any took it. A socket that is closing can take a frame and never
// show it: only the widget's receipt proves the visitor has the reply, so
// a watcher (a goroutine, not an outbox worker) makes the reply due again
// at once when every socket that took it has closed without one.
func (c *Channel) pushReply(customer int64, f frame) pushed {
	r := &receipt{customer: customer, at: time.Now(), got: make(chan struct{})}
	c.mu.Lock()
	c.receipts[f.ID] = r // before the frame leaves: the receipt can be quick
	list := make([]*visitor, 0, len(c.visitors[customer]))
	for v := range c.visitors[customer] {
		list = append(list, v)
	}
	c.mu.Unlock()
	b, _ := json.Marshal(f)
	var took []*visitor
	for _, v := range list {
		if v.enqueue(b) {
			took = append(took, v)
		}
	}
	confirms := slices.ContainsFunc(took, func(v *visitor) bool { return v.receipts.Load() })
	if !confirms {
		c.mu.Lock()
		if c.receipts[f.ID] == r {
			delete(c.receipts, f.ID)
		}
		c.mu.Unlock()
		if len(took) == 0 {
			return pushNone
		}
		return pushUnconfirmed
	}
	go func() {
		timer := time.NewTimer(c.ackWait())
		defer timer.Stop()
		for _, v := range took {
			select {
			case <-v.gone:
			case <-r.got:
				return
			case <-timer.C:
				return // the outbox looks again now anyway
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := c.desk.SendAgainNow(ctx, f.ID); err != nil {
			c.log.Warn("chat: a pushed reply whose sockets closed waits its full time", "message", f.ID, "err", err)
		}
	}()
	return pushConfirmable
}

// Send delivers an agent's reply: live to the visitor's open widgets,
// delivered once a widget says it got it; by email when none did (none
// open, the socket was closing, no receipt in time) and the customer gave
// an address; otherwise it waits in the conversation, which the widget
// shows when the visitor is back.
//
// The first call pushes and returns at once (desk.Awaiting); the outbox
// calls again when the wait is over, unless the receipt came first. A
// call for a reply this process never pushed (it restarted meanwhile)
// pushes it again; the widget shows a reply once by its id.
func (c *Channel) Send(ctx context.Context, out desk.Outbound) error {
	if out.Message.Kind != "agent" {
		return nil
	}
	c.mu.Lock()
	r := c.receipts[out.Message.ID]
	if r != nil {
		delete(c.receipts, out.Message.ID)
	}
	c.mu.Unlock()
	switch {
	case r != nil && r.confirmed:
		return nil // got, but not recorded: it is now
	case r == nil:
		f := messageFrame(out.Message)
		f.Choices = choicesOf(out.Choices)
		if out.AuthorName != "" {
			f.Name = out.AuthorName
		}
		if out.Message.AuthorID != nil {
			f.Avatar = c.avatarPath(ctx, *out.Message.AuthorID)
		}
		switch c.pushReply(out.Customer.ID, f) {
		case pushConfirmable:
			return desk.Awaiting(time.Now().Add(c.ackWait()))
		case pushUnconfirmed:
			return nil // an old widget showed it, as replies were before receipts
		}
	}
	if addr := emailOf(&out.Customer, out.Claimed); addr != "" {
		if email := out.ByEmail(); email != nil {
			if !slices.Contains(out.Customer.Identities, store.Identity{Kind: "email", Value: addr}) {
				out.Customer.Identities = append(slices.Clone(out.Customer.Identities), store.Identity{Kind: "email", Value: addr})
			}
			return email.Send(ctx, out)
		}
	}
	return desk.Waiting // shown when the visitor is back
}

// forgetReceipts drops the receipts waited for longer than the outbox can
// take to look again (its reply was deleted, or the desk stopped sending).
func (c *Channel) forgetReceipts(older time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, r := range c.receipts {
		if time.Since(r.at) > older {
			delete(c.receipts, id)
		}
	}
}

// Run forwards agents' typing to the visitors of those tickets and
// applies the stores' inactivity rules, until ctx ends.
func (c *Channel) Run(ctx context.Context) {
	changes, stop := c.desk.Bus().Subscribe(1024)
	defer stop()
	sweep := time.NewTicker(time.Minute)
	defer sweep.Stop()
	var last *store.Ticket // the latest ticket change of another node's, which leads its messages
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.presence.kick:
			c.presence.due(presenceDebounce)
		case <-c.presence.fired:
			c.presence.fired = nil
			c.pushPresence()
		case <-sweep.C:
			c.pushPresence() // business hours open and close
			c.greetLimit.Sweep(30 * time.Minute)
			c.ipLimit.Sweep(30 * time.Minute)
			c.visitorLimit.Sweep(30 * time.Minute)
			c.forgetReceipts(10*time.Minute + 4*c.ackWait())
			if n, err := c.desk.CloseIdleChats(ctx, time.Now()); err != nil {
				c.log.Error("chat: inactivity rule", "err", err)
			} else if n > 0 {
				c.log.Info("chat: idle chats closed", "tickets", n)
			}
		case ch, ok := <-changes:
			if !ok {
				changes, stop = c.desk.Bus().Subscribe(1024)
				continue
			}
			if ch.Type == "agent_typing" && ch.Ticket != nil {
				c.push(ch.Ticket.CustomerID, frame{Type: "typing", From: "agent"})
			}
			// Only another node's replies: this node's own went to its
			// widgets as they were sent (pushed again, one sent or left
			// waiting here would reach an open widget twice).
			if ch.Type == "message" && ch.FromOtherNode {
				c.pushWaiting(last, ch.Message)
			}
			if ch.Type == "event" && ch.Event != nil && ch.Event.Type == store.EventMerged {
				var m store.MergedData
				if json.Unmarshal(ch.Event.Data, &m) == nil && m.CustomerID != 0 && m.MergedID != 0 {
					c.rekey(m.MergedID, m.CustomerID)
				}
			}
			if ch.Type == "ticket" {
				last = nil
				if ch.FromOtherNode {
					last = ch.Ticket
				}
			}
		}
	}
}

// serveOffline takes the offline form: name, email and message become a
// ticket; the reply goes out by email.
func (c *Channel) serveOffline(w http.ResponseWriter, r *http.Request, st *store.Store) {
	if r.Method != http.MethodPost {
		writeError(w, http.StatusMethodNotAllowed, "use POST", "")
		return
	}
	var body struct {
		Name    string `json:"name"`
		Email   string `json:"email"`
		Message string `json:"message"`
		Token   string `json:"token"`
		Page    string `json:"page"`
		Lang    string `json:"lang"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(&body)
	lang := desk.PickLanguage(st.Language, body.Lang)
	fail := func(status int, code, field string) { writeError(w, status, text(lang, code), field) }
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			fail(http.StatusRequestEntityTooLarge, "err_long", "message")
			return
		}
		writeError(w, http.StatusBadRequest, "the request is not valid JSON", "")
		return
	}
	if validToken(body.Token) && !c.visitorLimit.Allow(visitorID(body.Token).Value) {
		fail(http.StatusTooManyRequests, "err_fast", "")
		return
	}
	msg := strings.TrimSpace(body.Message)
	switch {
	case strings.TrimSpace(body.Email) == "":
		fail(http.StatusBadRequest, "err_email_required", "email")
		return
	case msg == "":
		fail(http.StatusBadRequest, "err_empty", "message")
		return
	case utf8.RuneCountInString(msg) > MaxText:
		fail(http.StatusBadRequest, "err_long", "message")
		return
	}
	in := desk.Inbound{Channel: "chat", StoreID: &st.ID, Name: body.Name, Text: msg,
		From:     store.Identity{Kind: "email", Value: strings.TrimSpace(body.Email)},
		Language: visitorLanguage(st, lang, r.Header.Get("Accept-Language"))}
	if validToken(body.Token) {
		in.Identities = []store.Identity{visitorID(body.Token)}
	}
	fields, _ := json.Marshal(map[string]string{"page": clip(body.Page, 500), "browser": browserName(r.UserAgent()), "offline": "yes"})
	in.Fields = fields
	res, err := c.desk.Ingest(r.Context(), in)
	if err != nil {
		c.writeSaveError(w, lang, err, "message")
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"ticket_id": res.Ticket.ID})
}

// clientIP is the address a request came from.
func clientIP(r *http.Request) string {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	return ip
}

// sameHost tells whether an Origin is the desk's own address (the
// settings preview), not a shop's site.
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, host)
}

func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) > n {
		s = strings.ToValidUTF8(s[:n], "")
	}
	return s
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, msg, field string) {
	httperr.Write(w, status, msg, field)
}

// text is a catalog sentence in lang, with {max} filled in.
func text(lang, key string) string {
	s := assets.WidgetCatalog(desk.PickLanguage("", lang))[key]
	if s == "" {
		s = assets.WidgetCatalog("en")[key]
	}
	return strings.ReplaceAll(s, "{max}", strconv.Itoa(MaxText))
}

// VisitorIdentity is the identity a widget's visitor token stands for,
// for the parts beside the chat that the widget calls with it (the
// portal); false when it is not a token.
func VisitorIdentity(token string) (store.Identity, bool) {
	if !validToken(token) {
		return store.Identity{}, false
	}
	return visitorID(token), true
}

// NewVisitor makes a visitor token and the identity it stands for: a new
// device continuing a chat (the portal's continue link) gets one of its
// own, tied to the chat's customer, so no device's token leaves it.
func NewVisitor() (token string, id store.Identity) {
	token = newToken()
	return token, visitorID(token)
}
