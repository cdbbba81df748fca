package chat

import (
	"context"
	"encoding/json"
	"time"

	"onedesk/store"
)

// Live presence for the widget (#29): a visitor sees whether the store's
// team is online, in the header, and it changes as agents come and go.
// The server tells the channel when agents' presence may have changed
// (a socket opened or closed, an away switch, another node's snapshot);
// the channel waits presenceDebounce for the burst to settle, then sends
// {"type": "presence", "online": bool} to each open widget whose answer
// changed, and nothing to the others.

// presenceDebounce is how long a change waits for the ones after it.
const presenceDebounce = time.Second

// presence is the debounce; kick is written by anyone, fired is the Run
// goroutine's alone (nil while no wait runs).
type presence struct {
	kick  chan struct{}
	fired <-chan time.Time
}

// due starts the wait unless one runs: a burst of changes is one push.
func (p *presence) due(d time.Duration) {
	if p.fired == nil {
		p.fired = time.After(d)
	}
}

// WatchPresence is how the server hands the channel its knowledge of
// agents: online tells whether a store's team is there (an agent who may
// work the store has the app open and is not away); the function returned
// is called whenever that may have changed. It never blocks.
func (c *Channel) WatchPresence(online func(storeID int64) bool) (changed func()) {
	c.mu.Lock()
	c.StoreOnline = online
	c.mu.Unlock()
	return c.PresenceChanged
}

// PresenceChanged tells the channel that agents' presence may have
// changed: open widgets are told within presenceDebounce.
func (c *Channel) PresenceChanged() {
	select {
	case c.presence.kick <- struct{}{}:
	default: // already told
	}
}

// teamOnline tells whether a store's team is there to chat, business
// hours aside.
func (c *Channel) teamOnline(storeID int64) bool {
	c.mu.Lock()
	perStore := c.StoreOnline
	c.mu.Unlock()
	if perStore != nil {
		return perStore(storeID)
	}
	return c.Online != nil && c.Online()
}

// told records what a widget was told of its team in its welcome.
func (c *Channel) told(v *visitor, online bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v.online = 2
	if online {
		v.online = 1
	}
}

// pushPresence tells each open widget (past its welcome) whether its
// store's team is online, when that changed since it was last told.
func (c *Channel) pushPresence() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c.mu.Lock()
	byStore := map[int64][]*visitor{}
	for v := range c.open {
		if v.online != 0 {
			byStore[v.storeID] = append(byStore[v.storeID], v)
		}
	}
	c.mu.Unlock()
	for storeID, list := range byStore {
		st, err := c.desk.DB().Store(ctx, storeID)
		if err != nil {
			continue // deleted meanwhile: its widgets are told nothing new
		}
		online := c.live(st)
		state := int32(2)
		if online {
			state = 1
		}
		b, _ := json.Marshal(frame{Type: "presence", Online: &online})
		for _, v := range list {
			c.mu.Lock()
			changed := v.online != state
			v.online = state
			c.mu.Unlock()
			if changed {
				v.enqueue(b)
			}
		}
	}
}

// authorSet is the names and pictures of the agents who wrote some
// replies, read once for a conversation.
type authorSet map[int64]frame

// authors reads the writers of the agents' replies in a conversation.
func (c *Channel) authors(ctx context.Context, msgs []store.Message) authorSet {
	set := authorSet{}
	for _, m := range msgs {
		if m.Kind != "agent" || m.AuthorID == nil {
			continue
		}
		if _, ok := set[*m.AuthorID]; ok {
			continue
		}
		var f frame
		if a, err := c.desk.DB().Agent(ctx, *m.AuthorID); err == nil {
			f.Name = a.Name
		}
		f.Avatar = c.avatarPath(ctx, *m.AuthorID)
		set[*m.AuthorID] = f
	}
	return set
}

// sign puts the name and picture of a reply's writer on its frame.
func (a authorSet) sign(f *frame, m store.Message) {
	if m.Kind != "agent" || m.AuthorID == nil {
		return
	}
	who := a[*m.AuthorID]
	f.Name, f.Avatar = who.Name, who.Avatar
}

// avatarPath is the address of an agent's picture ("" when they have
// none: the widget shows their initials).
func (c *Channel) avatarPath(ctx context.Context, agentID int64) string {
	key, err := c.desk.DB().AvatarKey(ctx, agentID)
	if err != nil || key == "" {
		return ""
	}
	return "/chat/avatar/" + key
}
