package ui

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"time"
)

// Presence across nodes: on several nodes behind a load balancer, an
// agent's socket is on one of them, and a chat visitor, the round robin
// or a colleague viewing the same ticket on another. Each node shares a
// small snapshot of its presence (agents with the app open, who views
// and types on which ticket, the away switches made there) with the
// others through the store's signals (PostgreSQL NOTIFY), when it changes
// (looked at every presenceEvery) and every presenceBeat anyway; a node
// not heard of for presenceStale is taken for gone, with its agents. On
// SQLite, one process, none of this runs.
const (
	presenceEvery = time.Second
	presenceBeat  = 5 * time.Second
	presenceStale = 15 * time.Second
	presenceMax   = 7000 // bytes of a snapshot; past it, viewers are left out
)

// peerPresence is what this server knows of the other nodes' presence;
// guarded by Server.mu.
type peerPresence struct {
	id       string
	nodes    map[string]*nodePresence
	switches map[int64]awaySwitch // the away switches made on this node
}

// nodePresence is one node's snapshot.
type nodePresence struct {
	Node     string               `json:"node"`
	Online   []int64              `json:"online"`
	Stores   map[int64][]int64    `json:"stores,omitempty"`   // of the agents in Online who work some stores only
	Watching []int64              `json:"watching,omitempty"` // agents with a visible tab of the app
	Switches map[int64]awaySwitch `json:"switches,omitempty"`
	Viewers  map[int64][]viewer   `json:"viewers,omitempty"`
	heard    time.Time
}

// awaySwitch is an agent's online/away switch and when it was made: the
// latest made on any node wins.
type awaySwitch struct {
	Away bool  `json:"away"`
	At   int64 `json:"at"` // unix ms
}

// noteAwaySwitch records a switch made here. s.mu is held.
func (s *Server) noteAwaySwitch(agentID int64, away bool) {
	if s.peers.switches == nil {
		s.peers.switches = map[int64]awaySwitch{}
	}
	s.peers.switches[agentID] = awaySwitch{Away: away, At: time.Now().UnixMilli()}
}

// isAway tells whether an agent set themselves away, here or on another
// node (the latest switch). s.mu is held.
func (s *Server) isAway(agentID int64) bool {
	away, at := s.away[agentID], s.peers.switches[agentID].At
	for _, n := range s.peers.nodes {
		if sw, ok := n.Switches[agentID]; ok && sw.At > at {
			away, at = sw.Away, sw.At
		}
	}
	return away
}

// onlineElsewhere tells whether an agent (any, for 0) not away has the
// app open on another node. s.mu is held.
func (s *Server) onlineElsewhere(agentID int64) bool {
	for _, n := range s.peers.nodes {
		for _, id := range n.Online {
			if (agentID == 0 || id == agentID) && !s.isAway(id) {
				return true
			}
		}
	}
	return false
}

// viewersOf lists the agents on a ticket on every node, each once
// (typing if any of their sockets is), by agent id. s.mu is held.
func (s *Server) viewersOf(ticketID int64) []viewer {
	list := s.localViewersOf(ticketID)
	if ticketID == 0 || len(s.peers.nodes) == 0 {
		return list
	}
	for _, n := range s.peers.nodes {
		for _, v := range n.Viewers[ticketID] {
			i := slices.IndexFunc(list, func(w viewer) bool { return w.AgentID == v.AgentID })
			switch {
			case i < 0:
				list = append(list, v)
			case v.Typing && (!list[i].Typing || !v.Note):
				list[i].Typing, list[i].Note = true, v.Note
			}
		}
	}
	slices.SortFunc(list, func(a, b viewer) int { return int(a.AgentID - b.AgentID) })
	return list
}

// sharePresence shares this node's presence and hears the others' until
// ctx ends; it returns at once on a single node.
func (s *Server) sharePresence(ctx context.Context) {
	if !s.desk.Multinode() {
		return
	}
	b := make([]byte, 8)
	rand.Read(b)
	s.mu.Lock()
	s.peers.id = hex.EncodeToString(b)
	s.mu.Unlock()
	s.desk.OnPresence(s.heardPresence)
	defer s.desk.OnPresence(nil)
	tick := time.NewTicker(presenceEvery)
	defer tick.Stop()
	var last []byte
	var sent time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		snap := s.presenceSnapshot()
		if !slices.Equal(snap, last) || time.Since(sent) >= presenceBeat {
			s.desk.SharePresence(snap)
			last, sent = snap, time.Now()
		}
		s.forgetStaleNodes()
	}
}

// presenceSnapshot is this node's presence, encoded.
func (s *Server) presenceSnapshot() []byte {
	s.mu.Lock()
	p := nodePresence{Node: s.peers.id, Switches: maps.Clone(s.peers.switches), Viewers: map[int64][]viewer{}}
	for sock := range s.sockets {
		if !slices.Contains(p.Online, sock.agentID) {
			p.Online = append(p.Online, sock.agentID)
			if len(sock.stores) > 0 {
				if p.Stores == nil {
					p.Stores = map[int64][]int64{}
				}
				p.Stores[sock.agentID] = sock.stores
			}
		}
		if !sock.hidden && !slices.Contains(p.Watching, sock.agentID) {
			p.Watching = append(p.Watching, sock.agentID)
		}
		if sock.viewing != 0 && p.Viewers[sock.viewing] == nil {
			p.Viewers[sock.viewing] = s.localViewersOf(sock.viewing)
		}
	}
	s.mu.Unlock()
	slices.Sort(p.Online)
	b, _ := json.Marshal(p)
	if len(b) > presenceMax {
		p.Viewers = nil // a very busy node: who is online still counts most
		b, _ = json.Marshal(p)
	}
	return b
}

// heardPresence takes another node's snapshot and has the sockets here
// send the viewers of each ticket that changed.
func (s *Server) heardPresence(raw json.RawMessage) {
	var p nodePresence
	if json.Unmarshal(raw, &p) != nil || p.Node == "" {
		return
	}
	p.heard = time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.Node == s.peers.id {
		return
	}
	if s.peers.nodes == nil {
		s.peers.nodes = map[string]*nodePresence{}
	}
	old := s.peers.nodes[p.Node]
	s.peers.nodes[p.Node] = &p
	s.viewersMoved(old, &p)
	if old == nil || !slices.Equal(old.Online, p.Online) || !maps.Equal(old.Switches, p.Switches) {
		s.presenceMoved()
	}
}

// forgetStaleNodes drops the nodes not heard of for presenceStale.
func (s *Server) forgetStaleNodes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, n := range s.peers.nodes {
		if time.Since(n.heard) > presenceStale {
			delete(s.peers.nodes, id)
			s.viewersMoved(n, nil)
			s.presenceMoved()
		}
	}
}

// viewersMoved marks, on every socket here, the tickets whose viewers on
// one node went from old to now (either may be nil). s.mu is held.
func (s *Server) viewersMoved(old, now *nodePresence) {
	var before, after map[int64][]viewer
	if old != nil {
		before = old.Viewers
	}
	if now != nil {
		after = now.Viewers
	}
	changed := map[int64]bool{}
	for id, list := range before {
		if !slices.Equal(list, after[id]) {
			changed[id] = true
		}
	}
	for id, list := range after {
		if !slices.Equal(list, before[id]) {
			changed[id] = true
		}
	}
	for id := range changed {
		for sock := range s.sockets {
			sock.mark(id)
		}
	}
}
