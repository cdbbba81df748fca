package ui

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/time/rate"

	"onedesk/desk"
)

// agentSocket is one agent's open /agent/ws connection. The fields
// after agentID are its presence (presence.go), guarded by Server.mu.
type agentSocket struct {
	cancel  context.CancelFunc
	bye     chan struct{} // closed when the server stops
	agentID int64
	credKey string  // what let it in (authenticateKey), guarded by Server.mu
	stores  []int64 // the agent's stores when it opened (empty: all)

	viewing     int64 // the ticket the app has open
	hidden      bool  // the app's tab is not visible (notify: the agent is away)
	typing      bool
	typingNote  bool
	typingGen   int         // which "typing" frame typingTimer ends
	typingTimer *time.Timer // ends typing when no frame renews it
	gone        bool
	dirty       map[int64]bool // tickets whose viewers to send
	wake        chan struct{}  // something is dirty
}

// Frames from the app: a small burst, then one a second on average.
const (
	agentFrameRate  = 2
	agentFrameBurst = 20
)

// agentBusBuffer is the hop from the bus to a socket's pump, which empties
// it at once; agentQueueMax bounds the changes a socket holds unsent
// (pointers to values the sockets share, so some hundred KB at most).
const (
	agentBusBuffer = 1024
	agentQueueMax  = 4096
)

// changeQueue holds the changes an agent socket has not sent yet. A
// ticket's newer snapshot replaces one still queued, so a busy ticket
// takes one place however often it changes.
type changeQueue struct {
	mu      sync.Mutex
	items   []desk.Change
	tickets map[int64]int // where each ticket's queued snapshot is
	behind  bool          // over max, or dropped by the bus: stop
	max     int
	ready   chan struct{} // something to take
}

func newChangeQueue(max int) *changeQueue {
	return &changeQueue{tickets: map[int64]int{}, max: max, ready: make(chan struct{}, 1)}
}

// pump moves changes from the bus to the queue until the bus closes the
// channel (unsubscribed, or dropped for falling behind after all).
func (q *changeQueue) pump(changes <-chan desk.Change, agentID int64, inStores func(desk.Change) bool) {
	for c := range changes {
		if c.Notification != nil && !slices.Contains(c.Notification.AgentIDs, agentID) {
			continue // for other agents
		}
		if inStores != nil && !inStores(c) {
			continue // another store's
		}
		if !q.push(c) {
			return
		}
	}
	q.mu.Lock()
	q.behind = true // harmless after unsubscribe: nobody takes any more
	q.mu.Unlock()
	q.signal()
}

// push queues c; false once the queue is over its bound.
func (q *changeQueue) push(c desk.Change) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.behind {
		return false
	}
	i, queued := q.tickets[c.TicketID]
	switch {
	case c.Type == "ticket" && c.Ticket != nil && queued:
		q.items[i] = c
		return true
	case len(q.items) >= q.max:
		q.behind = true
	case c.Type == "ticket" && c.Ticket != nil:
		q.tickets[c.TicketID] = len(q.items)
		fallthrough
	default:
		q.items = append(q.items, c)
	}
	q.signal()
	return !q.behind
}

func (q *changeQueue) signal() {
	select {
	case q.ready <- struct{}{}:
	default:
	}
}

// take empties the queue, telling whether the socket fell too far behind.
func (q *changeQueue) take() ([]desk.Change, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	list := q.items
	q.items = nil
	clear(q.tickets)
	return list, q.behind
}

// agentWS pushes every committed ticket change to a logged-in agent. The
// browser sends its cookie; the default origin check (same host only)
// keeps other sites from riding on it.
func (s *Server) agentWS(w http.ResponseWriter, r *http.Request) {
	if ip, _, _ := net.SplitHostPort(r.RemoteAddr); !s.publicLimit.Allow(ip) {
		writeJSONError(w, http.StatusTooManyRequests, errTooMany.Message, "")
		return
	}
	cookie := ""
	if c, err := r.Cookie(sessionCookie); err == nil {
		cookie = c.Value
	}
	version, _ := s.db.AuthVersion() // before the check: a change meanwhile is seen below
	p, err := s.authenticate(r.Context(), cookie, r.Header.Get("Authorization"))
	if err == nil {
		err = s.twoFactorBlock(r.Context(), p)
	}
	if err != nil {
		var ae *apiError
		if errors.As(err, &ae) {
			writeJSONError(w, ae.Status, ae.Message, ae.Field)
		} else {
			writeJSONError(w, http.StatusInternalServerError, "something went wrong on the server", "")
		}
		return
	}
	// The app speaks the agent's saved language (it sets it before it
	// connects), so pushed sentences are said in it.
	lang := p.agent.Language
	conn, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept has answered the client
	}
	defer conn.CloseNow()
	conn.SetReadLimit(agentFrameMax)
	ctx, cancel := context.WithCancel(r.Context())
	sock := &agentSocket{cancel: cancel, bye: make(chan struct{}), agentID: p.agent.ID, credKey: p.key, stores: p.stores(),
		wake: make(chan struct{}, 1)}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		cancel()
		conn.Close(websocket.StatusServiceRestart, RestartReason)
		return
	}
	s.sockets[sock] = struct{}{}
	s.socketsWG.Add(1)
	s.presenceMoved()
	s.mu.Unlock()
	defer s.socketsWG.Done()
	// The bus drops a subscriber whose channel is full, so a pump drains it
	// at once into the socket's own queue, which coalesces and is bounded:
	// a socket behind by a burst or a slow link catches up, and only one
	// that stops reading (agentQueueMax unsent) is dropped.
	changes, unsubscribe := s.desk.Bus().Subscribe(agentBusBuffer)
	queue := newChangeQueue(agentQueueMax)
	go queue.pump(changes, p.agent.ID, s.storeFilter(ctx, p))
	defer func() {
		unsubscribe()
		cancel()
		s.dropSocket(sock)
	}()

	// The app says which ticket it views and when its agent types; reading
	// also keeps pings and closes flowing. The reader ends with the
	// connection (closed by this function's return at the latest).
	go func() {
		defer cancel()
		frames := rate.NewLimiter(agentFrameRate, agentFrameBurst)
		for {
			typ, b, err := conn.Read(ctx)
			if err != nil {
				return
			}
			if !frames.Allow() {
				conn.Close(websocket.StatusPolicyViolation, "too many frames")
				return
			}
			if typ == websocket.MessageText {
				s.onAgentFrame(sock, b)
			}
		}
	}()
	write := func(v any) error {
		b, err := json.Marshal(v)
		if err != nil {
			return err
		}
		wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
		defer wcancel()
		return conn.Write(wctx, websocket.MessageText, b)
	}
	if err := write(map[string]any{"type": "hello", "agent_id": p.agent.ID}); err != nil {
		return
	}
	viewersInStores := s.storeFilter(ctx, p) // the pump's own is its goroutine's
	ping := time.NewTicker(30 * time.Second)
	defer ping.Stop()
	recheck := time.NewTicker(authRecheckEvery)
	defer recheck.Stop()
	authChanged := s.authChanges()
	if now, _ := s.db.AuthVersion(); now != version && s.closeUnlessAllowed(ctx, conn, sock) {
		return
	}
	for {
		select {
		case <-authChanged:
			authChanged = s.authChanges()
			if s.closeUnlessAllowed(ctx, conn, sock) {
				return
			}
		case <-recheck.C:
			if s.closeUnlessAllowed(ctx, conn, sock) {
				return
			}
		case <-ctx.Done():
			conn.Close(websocket.StatusGoingAway, "server shutting down")
			return
		case <-sock.bye:
			// The reader goes on until the app answers the close.
			conn.Close(websocket.StatusServiceRestart, RestartReason)
			return
		case <-queue.ready:
			list, behind := queue.take()
			if behind {
				// Stopped reading: the app reconnects and refetches.
				conn.Close(websocket.StatusTryAgainLater, "too far behind, reconnect")
				return
			}
			for _, c := range list {
				if c.Message != nil && c.Message.AuthorID != nil && *c.Message.AuthorID == p.agent.ID {
					s.stopTyping(sock, c.TicketID) // what they typed is sent
				}
				if c.Message != nil && (c.Message.DeliveryErrorI18n != "" || c.Message.PartialI18n != "") {
					m := *c.Message // shared with the other sockets
					sayMessage(lang, &m)
					c.Message = &m
				}
				if err := write(c); err != nil {
					return
				}
			}
		case <-sock.wake:
			for _, f := range s.pendingViewers(sock) {
				if viewersInStores != nil && !viewersInStores(desk.Change{TicketID: f.TicketID}) {
					continue // who views another store's ticket
				}
				if err := write(f); err != nil {
					return
				}
			}
		case <-ping.C:
			pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				return
			}
		}
	}
}

// storeFilter is, for an agent of some stores, what tells whether a
// change is of a ticket in one of them (nil for an agent of every store,
// whose feed is not filtered). A ticket's store never changes, so each
// ticket's is read once per socket: from the change's ticket when it has
// one, else from the database.
func (s *Server) storeFilter(ctx context.Context, p *principal) func(desk.Change) bool {
	if !p.limited() {
		return nil
	}
	const remember = 10000 // tickets; past it the socket starts over
	seen := map[int64]bool{}
	return func(c desk.Change) bool {
		if c.TicketID == 0 {
			return true // not about a ticket
		}
		if c.Ticket != nil {
			seen[c.TicketID] = p.seesStore(c.Ticket.StoreID)
		}
		ok, known := seen[c.TicketID]
		if !known {
			storeID, err := s.db.TicketStoreOf(ctx, "ticket", c.TicketID)
			ok = err == nil && p.seesStore(storeID) // unreadable: not sent
			if len(seen) >= remember {
				clear(seen)
			}
			seen[c.TicketID] = ok
		}
		return ok
	}
}

// AgentsOnline tells whether an agent who is not away has the app open:
// the chat widget then offers live chat.
func (s *Server) AgentsOnline() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sock := range s.sockets {
		if !s.isAway(sock.agentID) {
			return true
		}
	}
	return s.onlineElsewhere(0)
}

// StoreOnline tells whether an agent who may work a store's tickets has
// the app open and is not away: the store's chat widget then says its
// team is online.
func (s *Server) StoreOnline(storeID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sock := range s.sockets {
		if (len(sock.stores) == 0 || slices.Contains(sock.stores, storeID)) && !s.isAway(sock.agentID) {
			return true
		}
	}
	for _, n := range s.peers.nodes {
		for _, id := range n.Online {
			if stores := n.Stores[id]; (len(stores) == 0 || slices.Contains(stores, storeID)) && !s.isAway(id) {
				return true
			}
		}
	}
	return false
}

// presenceMoved tells the channels that watch agents' presence (the chat
// widget's header) that it may have changed. s.mu is held; the watchers
// never block.
func (s *Server) presenceMoved() {
	for _, changed := range s.presenceWatchers {
		changed()
	}
}

// AgentOnline tells whether an agent has the app open and is not away:
// round-robin assignment gives tickets only to them.
func (s *Server) AgentOnline(agentID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.isAway(agentID) {
		return false
	}
	for sock := range s.sockets {
		if sock.agentID == agentID {
			return true
		}
	}
	return s.onlineElsewhere(agentID)
}

// AgentWatching tells whether an agent has a tab of the app open and
// visible, on this node or another: what notify calls present (every
// other agent is away, and gets pushes and digests).
func (s *Server) AgentWatching(agentID int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sock := range s.sockets {
		if sock.agentID == agentID && !sock.hidden {
			return true
		}
	}
	for _, n := range s.peers.nodes {
		if slices.Contains(n.Watching, agentID) {
			return true
		}
	}
	return false
}

// RestartReason is the close reason of websockets the server closes when
// it stops (with status 1012, service restart): the agent app and the chat
// widget reconnect at once, without backing off.
const RestartReason = "server restarting: reconnect"

// closeSockets closes every agent websocket with the restart status and
// waits for their handlers, until ctx ends (then they are cut).
func (s *Server) closeSockets(ctx context.Context) {
	s.mu.Lock()
	s.closing = true
	for sock := range s.sockets {
		close(sock.bye)
	}
	s.mu.Unlock()
	done := make(chan struct{})
	go func() {
		s.socketsWG.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
		s.mu.Lock()
		n := len(s.sockets)
		for sock := range s.sockets {
			sock.cancel()
		}
		s.mu.Unlock()
		s.log.Warn("shutdown: agent websockets cut", "sockets", n)
	}
}
