package ui

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/coder/websocket"
)

// An agent socket is let in by its credential once, at the upgrade; it
// must not outlive it. Every committed change to agents, sessions or
// tokens (store.AuthVersion: a logout, a deactivation, a new password, a
// revoked token) has each open socket check its credential again, and a
// socket whose credential no longer holds is closed with
// StatusSessionEnded, which the app answers with its login screen.

// StatusSessionEnded closes an agent socket whose session or token has
// ended (a private status in the 4000s, HTTP's 401 after the 4).
const StatusSessionEnded websocket.StatusCode = 4401

// SessionEndedReason is the close reason sent with StatusSessionEnded.
const SessionEndedReason = "session ended: log in again"

const (
	// authWatchEvery is how often the watcher looks at AuthVersion: a
	// socket closes within about this long of the change.
	authWatchEvery = 200 * time.Millisecond
	// authSharedEvery has sockets check on PostgreSQL, where other nodes
	// change credentials without this process seeing a version move.
	authSharedEvery = 5 * time.Second
	// authRecheckEvery is each socket's own safety net, for changes no
	// version shows (another process on the same SQLite file).
	authRecheckEvery = 30 * time.Second
)

// socketAuth tells open agent sockets when credentials changed.
type socketAuth struct {
	mu       sync.Mutex // taken before Server.mu, never inside it
	changed  chan struct{}
	watching bool
	// moving is held for writing while a password change replaces the
	// caller's session, so that no socket checks the old session between
	// its end and its socket being moved to the new one.
	moving sync.RWMutex
}

// authChanges is a channel closed at the next credential change; it
// starts the watcher when none runs.
func (s *Server) authChanges() <-chan struct{} {
	a := &s.sockAuth
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.changed == nil {
		a.changed = make(chan struct{})
	}
	if !a.watching {
		a.watching = true
		// The version to compare with is read here, not when the
		// watcher's goroutine first runs: a change committed in between
		// (the caller has already checked its credential) would
		// otherwise become the watcher's starting point and go unseen.
		last, _ := s.db.AuthVersion()
		go s.watchAuth(last)
	}
	return a.changed
}

// watchAuth closes the changed channel whenever AuthVersion moves from
// last (and, on PostgreSQL, every authSharedEvery), until no agent socket
// is open.
func (s *Server) watchAuth(last uint64) {
	a := &s.sockAuth
	lastShared := time.Now()
	t := time.NewTicker(authWatchEvery)
	defer t.Stop()
	for now := range t.C {
		v, local := s.db.AuthVersion()
		a.mu.Lock()
		if v != last || (!local && now.Sub(lastShared) >= authSharedEvery) {
			close(a.changed)
			a.changed = make(chan struct{})
			last, lastShared = v, now
		}
		s.mu.Lock()
		idle := len(s.sockets) == 0
		s.mu.Unlock()
		if idle {
			a.watching = false
			a.mu.Unlock()
			return
		}
		a.mu.Unlock()
	}
}

// closeUnlessAllowed checks sock's credential again and closes conn when
// it no longer lets the socket in (StatusSessionEnded), or when the
// agent's stores changed: the feed was filtered for the old ones, so the
// app reconnects at once (StatusServiceRestart) and refetches. An error
// that is not an answer about the credential (the database is busy)
// keeps the socket: the next check decides. It tells whether it closed.
func (s *Server) closeUnlessAllowed(ctx context.Context, conn *websocket.Conn, sock *agentSocket) bool {
	s.sockAuth.moving.RLock()
	defer s.sockAuth.moving.RUnlock()
	s.mu.Lock()
	key := sock.credKey
	s.mu.Unlock()
	p, err := s.authenticateKey(ctx, key)
	if err == nil {
		// The desk began to require two-factor sign-in of an agent
		// without it: the app's next login leads to its setup.
		if errors.Is(s.twoFactorBlock(ctx, p), errSetupTwoFactor) {
			conn.Close(StatusSessionEnded, SessionEndedReason)
			return true
		}
	}
	var ae *apiError
	switch {
	case errors.As(err, &ae) && ae.Status == http.StatusUnauthorized:
		conn.Close(StatusSessionEnded, SessionEndedReason)
		return true
	case err != nil:
		if ctx.Err() == nil {
			s.log.Warn("agent socket: check credential", "agent", sock.agentID, "err", err)
		}
	case !slices.Equal(p.stores(), sock.stores):
		conn.Close(websocket.StatusServiceRestart, "your stores changed: reconnect")
		return true
	}
	return false
}

// moveSockets gives the sockets opened with session oldHash the session
// newHash (the caller's browser got it with a new password).
func (s *Server) moveSockets(oldHash, newHash string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for sock := range s.sockets {
		if sock.credKey == "s"+oldHash {
			sock.credKey = "s" + newHash
		}
	}
}
