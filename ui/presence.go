package ui

import (
	"encoding/json"
	"slices"
	"time"
)

// Who is viewing and typing on which ticket lives here, per agent
// socket, so that two tabs of one agent each count and a closed socket
// takes its part away. The app says what it does in small frames on
// /agent/ws; every agent socket hears, in "viewers" frames, whenever a
// ticket's set of viewers changes.

const (
	typingFor     = 6 * time.Second // typing ends this long after the last "typing" frame
	agentFrameMax = 512             // bytes in one frame from the app
)

// agentFrame is what the app sends: {"type": "viewing", "ticket_id": N}
// (0 = none), {"type": "typing", "ticket_id": N, "note": false}
// (0 = stopped) or {"type": "visibility", "hidden": true} (the tab went
// out of sight, or back).
type agentFrame struct {
	Type     string `json:"type"`
	TicketID int64  `json:"ticket_id"`
	Note     bool   `json:"note"`
	Hidden   bool   `json:"hidden"`
}

// viewer is one agent on a ticket, in "viewers" frames.
type viewer struct {
	AgentID int64 `json:"agent_id"`
	Typing  bool  `json:"typing"`
	Note    bool  `json:"note,omitempty"` // typing an internal note, not a reply
}

type viewersFrame struct {
	Type     string   `json:"type"` // "viewers"
	TicketID int64    `json:"ticket_id"`
	Viewers  []viewer `json:"viewers"`
}

// onAgentFrame applies one frame from sock's app; unknown frames are
// ignored.
func (s *Server) onAgentFrame(sock *agentSocket, b []byte) {
	var f agentFrame
	if json.Unmarshal(b, &f) != nil || f.TicketID < 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if sock.gone {
		return
	}
	switch f.Type {
	case "visibility":
		sock.hidden = f.Hidden
	case "viewing":
		same := f.TicketID == sock.viewing
		s.placeSocket(sock, f.TicketID, same && sock.typing, same && sock.typingNote)
		if f.TicketID != 0 {
			sock.mark(f.TicketID) // the current list, even when it did not change
		}
	case "typing":
		if f.TicketID == 0 {
			s.placeSocket(sock, sock.viewing, false, false)
			return
		}
		s.placeSocket(sock, f.TicketID, true, f.Note)
		sock.typingGen++
		gen := sock.typingGen
		if sock.typingTimer != nil {
			sock.typingTimer.Stop()
		}
		sock.typingTimer = time.AfterFunc(typingFor, func() { s.typingExpired(sock, gen) })
	}
}

// typingExpired ends sock's typing when no frame renewed it.
func (s *Server) typingExpired(sock *agentSocket, gen int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sock.typingGen == gen && !sock.gone {
		s.placeSocket(sock, sock.viewing, false, false)
	}
}

// stopTyping ends sock's typing on a ticket (its agent's message there
// is in).
func (s *Server) stopTyping(sock *agentSocket, ticketID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if sock.typing && sock.viewing == ticketID && !sock.gone {
		s.placeSocket(sock, sock.viewing, false, false)
	}
}

// dropSocket forgets a closing socket, and with it its viewing and typing.
func (s *Server) dropSocket(sock *agentSocket) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.placeSocket(sock, 0, false, false)
	sock.gone = true
	if sock.typingTimer != nil {
		sock.typingTimer.Stop()
	}
	delete(s.sockets, sock)
	s.presenceMoved()
}

// placeSocket sets what sock views and whether it types and, for each
// ticket whose viewers that changes, has every socket send the new list.
// s.mu is held.
func (s *Server) placeSocket(sock *agentSocket, viewing int64, typing, note bool) {
	tickets := []int64{sock.viewing}
	if viewing != sock.viewing {
		tickets = append(tickets, viewing)
	}
	before := make([][]viewer, len(tickets))
	for i, id := range tickets {
		before[i] = s.viewersOf(id)
	}
	sock.viewing, sock.typing, sock.typingNote = viewing, typing, note && typing
	for i, id := range tickets {
		if id == 0 || slices.Equal(before[i], s.viewersOf(id)) {
			continue
		}
		for other := range s.sockets {
			other.mark(id)
		}
	}
}

// localViewersOf lists the agents on a ticket on this node, each once
// (typing if any of their sockets is), by agent id; viewersOf adds the
// other nodes' (nodes.go). s.mu is held.
func (s *Server) localViewersOf(ticketID int64) []viewer {
	if ticketID == 0 {
		return nil
	}
	var list []viewer
	for sock := range s.sockets {
		if sock.viewing != ticketID {
			continue
		}
		i := slices.IndexFunc(list, func(v viewer) bool { return v.AgentID == sock.agentID })
		if i < 0 {
			list = append(list, viewer{AgentID: sock.agentID})
			i = len(list) - 1
		}
		if sock.typing && (!list[i].Typing || !sock.typingNote) { // a reply outweighs a note
			list[i].Typing, list[i].Note = true, sock.typingNote
		}
	}
	slices.SortFunc(list, func(a, b viewer) int { return int(a.AgentID - b.AgentID) })
	return list
}

// mark asks sock's writer to send a ticket's viewers. s.mu is held.
func (sock *agentSocket) mark(ticketID int64) {
	if sock.dirty == nil {
		sock.dirty = map[int64]bool{}
	}
	sock.dirty[ticketID] = true
	select {
	case sock.wake <- struct{}{}:
	default: // already woken
	}
}

// pendingViewers takes the viewers frames sock has to send.
func (s *Server) pendingViewers(sock *agentSocket) []viewersFrame {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []viewersFrame
	for id := range sock.dirty {
		out = append(out, viewersFrame{Type: "viewers", TicketID: id, Viewers: append([]viewer{}, s.viewersOf(id)...)})
	}
	clear(sock.dirty)
	return out
}
