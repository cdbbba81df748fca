package cli

import (
	"encoding/json"
	"fmt"
	"strings"
)

// Zendesk's export, as its public API answers (saved one page a file):
// the Users API or incremental user export ({"users": [...]}), the
// Tickets API or incremental ticket export ({"tickets": [...]}, a ticket
// may carry its "comments"), the Ticket Comments API of one ticket
// ({"comments": [...]} in a file named with the ticket's id, e.g.
// comments-123.json), and the incremental ticket event export with
// comment_events ({"ticket_events": [...]}). A JSON-lines file holds one
// such document (or one ticket) a line.

// zid is a Zendesk id: a number, or a string holding one.
type zid string

func (z *zid) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "null" {
		s = ""
	}
	*z = zid(s)
	return nil
}

type zUser struct {
	ID        zid    `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Phone     string `json:"phone"`
	Role      string `json:"role"` // end-user, agent, admin
	Notes     string `json:"notes"`
	Details   string `json:"details"`
	CreatedAt string `json:"created_at"`
}

type zAttachment struct {
	FileName    string `json:"file_name"`
	ContentURL  string `json:"content_url"`
	ContentType string `json:"content_type"`
	Size        int64  `json:"size"`
}

type zComment struct {
	ID          zid           `json:"id"`
	Type        string        `json:"type"`
	EventType   string        `json:"event_type"`
	AuthorID    zid           `json:"author_id"`
	Body        string        `json:"body"`
	PlainBody   string        `json:"plain_body"`
	HTMLBody    string        `json:"html_body"`
	Public      *bool         `json:"public"`
	CreatedAt   string        `json:"created_at"`
	Attachments []zAttachment `json:"attachments"`
}

type zTicket struct {
	ID          zid                      `json:"id"`
	Subject     string                   `json:"subject"`
	RawSubject  string                   `json:"raw_subject"`
	Description string                   `json:"description"`
	Status      string                   `json:"status"`
	Priority    string                   `json:"priority"`
	RequesterID zid                      `json:"requester_id"`
	AssigneeID  zid                      `json:"assignee_id"`
	Tags        []string                 `json:"tags"`
	CreatedAt   string                   `json:"created_at"`
	Via         struct{ Channel string } `json:"via"`
	Comments    []zComment               `json:"comments"`
}

type zTicketEvent struct {
	TicketID    zid        `json:"ticket_id"`
	CreatedAt   string     `json:"created_at"`
	Timestamp   int64      `json:"timestamp"`
	UpdaterID   zid        `json:"updater_id"`
	ChildEvents []zComment `json:"child_events"`
}

type zendesk struct {
	users    map[zid]zUser
	userList []zid
	tickets  map[zid]*zTicket
	order    []zid
	comments map[zid]map[zid]zComment // by ticket, by comment id
}

func newZendesk() *zendesk {
	return &zendesk{users: map[zid]zUser{}, tickets: map[zid]*zTicket{}, comments: map[zid]map[zid]zComment{}}
}

func (z *zendesk) add(name string, doc map[string]json.RawMessage) error {
	read := func(key string, v any) error {
		if raw, ok := doc[key]; ok {
			if err := json.Unmarshal(raw, v); err != nil {
				return fmt.Errorf("%q: %w", key, err)
			}
		}
		return nil
	}
	var users []zUser
	var tickets []zTicket
	var comments []zComment
	var events []zTicketEvent
	for key, v := range map[string]any{"users": &users, "tickets": &tickets, "comments": &comments, "ticket_events": &events} {
		if err := read(key, v); err != nil {
			return err
		}
	}
	var one zTicket
	if _, isTicket := doc["requester_id"]; isTicket { // a line of tickets
		raw, _ := json.Marshal(doc)
		if err := json.Unmarshal(raw, &one); err != nil {
			return err
		}
		tickets = append(tickets, one)
	}
	for _, u := range users {
		if _, ok := z.users[u.ID]; !ok {
			z.userList = append(z.userList, u.ID)
		}
		z.users[u.ID] = u
	}
	for _, t := range tickets {
		if _, ok := z.tickets[t.ID]; !ok {
			z.order = append(z.order, t.ID)
		}
		t := t
		z.tickets[t.ID] = &t
		for _, c := range t.Comments {
			z.comment(t.ID, c)
		}
	}
	if len(comments) > 0 {
		id := zid(idInName(name))
		if id == "" {
			return fmt.Errorf("a file of comments is one ticket's: name it with the ticket's id (comments-123.json)")
		}
		for _, c := range comments {
			z.comment(id, c)
		}
	}
	for _, ev := range events {
		for _, c := range ev.ChildEvents {
			if c.Type != "Comment" && c.EventType != "Comment" {
				continue
			}
			if c.CreatedAt == "" {
				c.CreatedAt = ev.CreatedAt
			}
			if c.AuthorID == "" {
				c.AuthorID = ev.UpdaterID
			}
			z.comment(ev.TicketID, c)
		}
	}
	return nil
}

func (z *zendesk) comment(ticket zid, c zComment) {
	if z.comments[ticket] == nil {
		z.comments[ticket] = map[zid]zComment{}
	}
	z.comments[ticket][c.ID] = c
}

var zendeskStatus = map[string]string{"new": "new", "open": "open", "pending": "pending", "hold": "pending", "solved": "resolved", "closed": "closed"}

var zendeskChannel = map[string]string{"email": "email", "web": "form", "chat": "chat", "native_messaging": "chat", "voice": "phone",
	"api": "api", "facebook": "messenger", "whatsapp": "whatsapp", "instagram_dm": "instagram"}

func (z *zendesk) person(id zid) importPerson {
	p := importPerson{ExternalID: "zendesk:user:" + string(id)}
	u, ok := z.users[id]
	switch {
	case !ok && (id == "" || id == "-1"):
		p.ExternalID, p.Name = "", "Zendesk"
	case !ok:
		p.Name = "Zendesk user " + string(id)
	default:
		p.Email, p.Name = u.Email, u.Name
		if u.Role == "agent" || u.Role == "admin" {
			p.Role = "agent"
		}
	}
	return p
}

func (z *zendesk) result() *importSet {
	set := &importSet{}
	for _, id := range z.userList {
		u := z.users[id]
		if u.Role == "agent" || u.Role == "admin" {
			continue // authors of replies, matched to agents here by email
		}
		if u.Email == "" && u.Phone == "" {
			continue // a customer without an address can only be text on its messages
		}
		c := importCustomer{ExternalID: "zendesk:user:" + string(id), Name: u.Name, Notes: strings.TrimSpace(u.Notes + "\n" + u.Details), CreatedAt: u.CreatedAt}
		if u.Email != "" {
			c.Emails = []string{u.Email}
		}
		if u.Phone != "" {
			c.Phones = []string{u.Phone}
		}
		set.Customers = append(set.Customers, c)
	}
	for _, id := range z.order {
		t := z.tickets[id]
		status, ok := zendeskStatus[t.Status]
		if !ok {
			set.Warnings = append(set.Warnings, fmt.Sprintf("ticket %s left out: its status is %q", id, t.Status))
			continue
		}
		subject := t.Subject
		if subject == "" {
			subject = t.RawSubject
		}
		channel := zendeskChannel[t.Via.Channel]
		if channel == "" {
			channel = "api"
		}
		priority := t.Priority
		if priority != "low" && priority != "normal" && priority != "high" && priority != "urgent" {
			priority = ""
		}
		out := importTicket{ExternalID: "zendesk:" + string(id), Subject: subject, Status: status, Priority: priority, Channel: channel,
			Customer: z.person(t.RequesterID), Tags: t.Tags, created: t.CreatedAt}
		out.Customer.Role = ""
		if a, ok := z.users[t.AssigneeID]; ok {
			out.Assignee = a.Email
		}
		for _, c := range inOrder(z.comments[id], func(c zComment) string { return c.CreatedAt }) {
			m := importMessage{ExternalID: "zendesk:comment:" + string(c.ID), Author: z.person(c.AuthorID),
				Internal: c.Public != nil && !*c.Public, Body: c.PlainBody, HTML: c.HTMLBody, CreatedAt: c.CreatedAt}
			if m.Body == "" {
				m.Body = c.Body
			}
			for _, a := range c.Attachments {
				m.Attachments = append(m.Attachments, importFile{Filename: a.FileName, ContentType: a.ContentType, url: a.ContentURL, size: a.Size})
			}
			out.Messages = append(out.Messages, m)
		}
		if len(out.Messages) == 0 && t.Description != "" {
			// Without its comments, a ticket keeps what the customer first wrote.
			out.Messages = append(out.Messages, importMessage{ExternalID: "zendesk:" + string(id) + ":description",
				Author: z.person(t.RequesterID), Body: t.Description, CreatedAt: t.CreatedAt})
		}
		if len(out.Messages) == 0 {
			set.Warnings = append(set.Warnings, fmt.Sprintf("ticket %s left out: no comments and no description", id))
			continue
		}
		set.Tickets = append(set.Tickets, out)
	}
	return set
}
