package ui

import (
	"sync"
	"time"

	"onedesk/store"
)

// credCache remembers whom a session cookie or API token belongs to, so
// that a request does not pay two database reads before its own. An entry
// is used only while the store's AuthVersion is the one it was read under:
// any committed change to agents, sessions or tokens (a logout, a revoked
// token, a deactivated agent, a new password) makes every entry stale
// before the request that made it is answered. Entries also age out after
// credTTL, for changes made by another process on the same file (onedesk
// user add). On PostgreSQL, which several nodes may share, nothing is
// cached.
type credCache struct {
	mu      sync.Mutex
	entries map[string]*credEntry
}

type credEntry struct {
	version  uint64
	readAt   time.Time
	agent    store.Agent
	tokenID  int64
	lastUsed time.Time // the token's last recorded use (see authenticate)
	csrf     string
	expires  time.Time // the session's expiry
	// twoFactor: the session's agent signs in with a code (a change to it
	// moves AuthVersion, like any change to credentials).
	twoFactor bool
}

const (
	credTTL        = 30 * time.Second
	credCacheLimit = 10000 // entries; past it the cache starts over
)

// get is the entry for key if it is still current.
func (c *credCache) get(key string, version uint64, now time.Time) (credEntry, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[key]
	if !ok {
		return credEntry{}, false
	}
	if e.version != version || now.Sub(e.readAt) > credTTL {
		delete(c.entries, key)
		return credEntry{}, false
	}
	return *e, true
}

// put remembers an entry read under e.version.
func (c *credCache) put(key string, e credEntry) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil || len(c.entries) >= credCacheLimit {
		c.entries = map[string]*credEntry{}
	}
	c.entries[key] = &e
}

// touched records a token's use in its entry.
func (c *credCache) touched(key string, at time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.entries[key]; ok {
		e.lastUsed = at
	}
}
