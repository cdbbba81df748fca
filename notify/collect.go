package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"onedesk/i18n"
	"onedesk/store"
)

// What happened that may call for a notification, and to whom.

// happening is one thing to tell some agents of.
type happening struct {
	kind     string
	ticket   *store.Ticket
	to       []int64 // the agents it is for (nil: everyone who sees the ticket)
	actor    int64   // the agent who did it (never told of their own act)
	text     string  // a line of what was written, if anything
	at       time.Time
	customer string
}

// payload is what a push carries to the service worker.
type payload struct {
	Kind     string `json:"kind"`
	TicketID int64  `json:"ticket_id,omitempty"`
	Title    string `json:"title"`
	Body     string `json:"body"`
	URL      string `json:"url"`
	Tag      string `json:"tag"`
}

func (p payload) json() string {
	b, _ := json.Marshal(p)
	return string(b)
}

func jsonText(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

// collect reads what is new past the cursor and the signals, and queues
// the pushes and digest items they call for, moving the cursor in the
// same transaction. It returns whether there may be more.
func (n *Notifier) collect(ctx context.Context, now time.Time) (bool, error) {
	done, newest, err := n.db.NotifyCursor(ctx)
	if err != nil {
		return false, err
	}
	signals, err := n.db.NotifySignals(ctx, collectBatch)
	if err != nil {
		return false, err
	}
	if done == newest && len(signals) == 0 {
		return false, nil
	}
	evs, err := n.db.EventsAfter(ctx, done.EventID, newest.EventID, collectBatch)
	if err != nil {
		return false, err
	}
	msgs, err := n.db.MessagesAfter(ctx, done.MessageID, newest.MessageID, collectBatch)
	if err != nil {
		return false, err
	}
	to := newest
	more := len(signals) == collectBatch
	if len(evs) == collectBatch {
		to.EventID, more = evs[len(evs)-1].ID, true
	}
	if len(msgs) == collectBatch {
		to.MessageID, more = msgs[len(msgs)-1].ID, true
	}
	var list []happening
	for _, e := range evs {
		h, err := n.fromEvent(ctx, e)
		if err != nil {
			return false, err
		}
		list = append(list, h...)
	}
	for _, m := range msgs {
		h, err := n.fromMessage(ctx, m)
		if err != nil {
			return false, err
		}
		list = append(list, h...)
	}
	for _, s := range signals {
		h, err := n.fromSignal(ctx, s)
		if err != nil {
			return false, err
		}
		list = append(list, h...)
	}
	// In the order they happened (a ticket's events and messages are
	// read apart).
	slices.SortStableFunc(list, func(a, b happening) int { return a.at.Compare(b.at) })
	plan, err := n.plan(ctx, list, now)
	if err != nil {
		return false, err
	}
	err = n.db.Write(ctx, func(tx *store.Tx) error {
		for _, p := range plan.pushes {
			if err := tx.QueuePush(ctx, p.sub, p.ticket, p.body, p.topic, now); err != nil {
				return err
			}
		}
		for _, m := range plan.mails {
			if err := tx.QueueNotifyMail(ctx, m); err != nil {
				return err
			}
		}
		if len(signals) > 0 {
			if err := tx.DeleteNotifySignals(ctx, signals[len(signals)-1].ID); err != nil {
				return err
			}
		}
		return tx.SetNotifyCursor(ctx, to)
	})
	if err != nil {
		return false, fmt.Errorf("queue notifications: %w", err)
	}
	return more, nil
}

// ticket reads a ticket with its customer's name; nil when it is gone.
func (n *Notifier) ticket(ctx context.Context, id int64) (*store.Ticket, string, error) {
	t, err := n.db.Ticket(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, "", nil
	}
	if err != nil {
		return nil, "", err
	}
	name := ""
	if c, err := n.db.Customer(ctx, t.CustomerID); err == nil {
		name = c.Name
		if name == "" && len(c.Identities) > 0 {
			name = c.Identities[0].Value
		}
	}
	return t, name, nil
}

func actorID(actor string) int64 {
	id, _ := strconv.ParseInt(actor, 10, 64)
	return id
}

// fromEvent is what an event calls for: a new chat, an assignment, a
// mention.
func (n *Notifier) fromEvent(ctx context.Context, o store.Occurrence) ([]happening, error) {
	switch store.EventType(o.Type) {
	case store.EventCreated, store.EventAssigned, store.EventNoted:
	default:
		return nil, nil
	}
	e, err := n.db.Event(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	data, err := e.Payload()
	if err != nil {
		return nil, nil // an event this code cannot read calls for nothing
	}
	t, customer, err := n.ticket(ctx, e.TicketID)
	if t == nil || err != nil {
		return nil, err
	}
	h := happening{ticket: t, actor: actorID(e.Actor), at: e.CreatedAt, customer: customer}
	switch d := data.(type) {
	case *store.CreatedData:
		if d.Channel != "chat" || d.AgentStarted {
			return nil, nil
		}
		h.kind = KindNewChat
		if id, err := n.db.FirstMessageID(ctx, t.ID); err == nil && id != 0 {
			if m, err := n.db.Message(ctx, id); err == nil {
				h.text = m.Body
			}
		}
	case *store.AssignedData:
		if d.To == nil || *d.To == h.actor {
			return nil, nil
		}
		h.kind, h.to = KindAssigned, []int64{*d.To}
	case *store.NotedData:
		if len(d.Mentions) == 0 {
			return nil, nil
		}
		h.kind, h.to = KindMention, d.Mentions
		if m, err := n.db.Message(ctx, d.MessageID); err == nil {
			h.text = m.Body
		}
	default:
		return nil, nil
	}
	return []happening{h}, nil
}

// fromMessage is what a customer's message calls for: a reply on a
// ticket assigned to someone (a ticket's first message is its new chat
// or new ticket, not a reply).
func (n *Notifier) fromMessage(ctx context.Context, o store.Occurrence) ([]happening, error) {
	m, err := n.db.Message(ctx, o.ID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if m.Kind != "customer" || m.Auto != "" {
		return nil, nil
	}
	t, customer, err := n.ticket(ctx, m.TicketID)
	if t == nil || err != nil || t.AssigneeID == nil {
		return nil, err
	}
	first, err := n.db.FirstMessageID(ctx, t.ID)
	if err != nil || first == m.ID {
		return nil, err
	}
	return []happening{{kind: KindCustomerReply, ticket: t, to: []int64{*t.AssigneeID}, text: m.Body, at: m.CreatedAt,
		customer: customer}}, nil
}

// fromSignal is an SLA about to breach: for the assignee, else the
// ticket's team, else everyone who sees it.
func (n *Notifier) fromSignal(ctx context.Context, s store.NotifySignal) ([]happening, error) {
	if s.Kind != KindSLARisk {
		return nil, nil
	}
	t, customer, err := n.ticket(ctx, s.TicketID)
	if t == nil || err != nil {
		return nil, err
	}
	h := happening{kind: KindSLARisk, ticket: t, at: s.CreatedAt, customer: customer}
	if t.AssigneeID != nil {
		h.to = []int64{*t.AssigneeID}
	} else if t.TeamID != nil {
		agents, err := n.db.Agents(ctx)
		if err != nil {
			return nil, err
		}
		for _, a := range agents {
			if slices.Contains(a.TeamIDs, *t.TeamID) {
				h.to = append(h.to, a.ID)
			}
		}
	}
	return []happening{h}, nil
}

// planned is what to write for a step: pushes to devices and digest items.
type planned struct {
	pushes []plannedPush
	mails  []*store.NotifyMail
}

type plannedPush struct {
	sub, ticket int64
	body, topic string
}

// plan decides, for each agent a happening is for, by their preferences,
// presence and quiet hours, what goes to their devices and digest.
func (n *Notifier) plan(ctx context.Context, list []happening, now time.Time) (planned, error) {
	var out planned
	if len(list) == 0 {
		return out, nil
	}
	agents, err := n.db.Agents(ctx)
	if err != nil {
		return out, err
	}
	allPrefs, err := n.db.NotifyPrefs(ctx)
	if err != nil {
		return out, err
	}
	withPush, err := n.db.AgentsWithPush(ctx)
	if err != nil {
		return out, err
	}
	names := map[int64]string{}
	for _, a := range agents {
		names[a.ID] = a.Name
	}
	devices := map[int64][]*store.PushSubscription{}
	presence := map[int64]bool{}
	for _, h := range list {
		for _, a := range agents {
			if !a.Active || a.ID == h.actor || (h.to != nil && !slices.Contains(h.to, a.ID)) || !sees(a, h.ticket) {
				continue
			}
			p := parsePrefs(allPrefs[a.ID])
			ch := p.Events[h.kind]
			if !ch.Push && !ch.Email {
				continue
			}
			here, asked := presence[a.ID]
			if !asked {
				here = n.present(a.ID)
				presence[a.ID] = here
			}
			title, body := words(a, h, names[h.actor])
			if ch.Push && withPush[a.ID] && (!here || p.PushWhen == "always") && !p.quietAt(a, now) {
				subs, ok := devices[a.ID]
				if !ok {
					if subs, err = n.db.PushSubscriptions(ctx, a.ID); err != nil {
						return out, err
					}
					devices[a.ID] = subs
				}
				pl := payload{Kind: h.kind, TicketID: h.ticket.ID, Title: title, Body: body, URL: n.link(h.ticket.ID),
					Tag: fmt.Sprintf("ticket-%d", h.ticket.ID)}
				for _, s := range subs {
					out.pushes = append(out.pushes, plannedPush{s.ID, h.ticket.ID, pl.json(), fmt.Sprintf("t%d", h.ticket.ID)})
				}
			}
			if ch.Email && !here {
				line := title
				if body != "" {
					line += ": " + body
				}
				out.mails = append(out.mails, &store.NotifyMail{AgentID: a.ID, Kind: h.kind, TicketID: h.ticket.ID, Text: line,
					CreatedAt: now, DueAt: now.Add(time.Duration(p.EmailDelay) * time.Minute)})
			}
		}
	}
	return out, nil
}

// sees tells whether an agent works on the ticket's store.
func sees(a *store.Agent, t *store.Ticket) bool {
	return len(a.StoreIDs) == 0 || (t.StoreID != nil && slices.Contains(a.StoreIDs, *t.StoreID))
}

// words are a notification's title and body in the agent's language.
func words(a *store.Agent, h happening, by string) (string, string) {
	t := h.ticket
	body := snippet(h.text)
	who := h.customer
	if who == "" {
		who = "#" + strconv.FormatInt(t.ID, 10)
	}
	switch h.kind {
	case KindNewChat:
		return i18n.S("New chat from %s", who).In(a.Language), body
	case KindCustomerReply:
		return i18n.S("%s wrote on #%d", who, t.ID).In(a.Language), body
	case KindAssigned:
		if by != "" {
			return i18n.S("%s assigned #%d to you", by, t.ID).In(a.Language), snippet(t.Subject)
		}
		return i18n.S("#%d was assigned to you", t.ID).In(a.Language), snippet(t.Subject)
	case KindMention:
		return i18n.S("%s mentioned you on #%d", by, t.ID).In(a.Language), body
	case KindSLARisk:
		return i18n.S("#%d is about to miss its SLA target", t.ID).In(a.Language), snippet(t.Subject)
	}
	return "#" + strconv.FormatInt(t.ID, 10), body
}

// snippet is the start of a text on one line.
func snippet(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 140 {
		s = string(r[:139]) + "…"
	}
	return s
}
