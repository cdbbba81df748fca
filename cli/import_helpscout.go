package cli

import (
	"encoding/json"
	"fmt"
	"strings"

	"onedesk/channels/email"
)

// Help Scout's export, as its Mailbox API 2.0 answers (saved one page a
// file): List Conversations, best with embed=threads
// ({"_embedded": {"conversations": [...]}}), List Threads of one
// conversation ({"_embedded": {"threads": [...]}} in a file named with the
// conversation's id, e.g. threads-123.json), List Customers and List
// Users (agents, whose replies are matched to agents here by email).

type hsPerson struct {
	ID    zid    `json:"id"`
	Type  string `json:"type"` // user or customer
	First string `json:"first"`
	Last  string `json:"last"`
	Email string `json:"email"`
}

type hsAttachment struct {
	ID       zid    `json:"id"`
	Filename string `json:"filename"`
	MimeType string `json:"mimeType"`
	Size     int64  `json:"size"`
	Links    struct {
		Data struct{ Href string } `json:"data"`
	} `json:"_links"`
}

type hsThread struct {
	ID        zid      `json:"id"`
	Type      string   `json:"type"` // customer, message, note, chat, phone, lineitem, forwardparent, forwardchild...
	State     string   `json:"state"`
	Body      string   `json:"body"`
	Customer  hsPerson `json:"customer"`
	CreatedBy hsPerson `json:"createdBy"`
	CreatedAt string   `json:"createdAt"`
	Embedded  struct {
		Attachments []hsAttachment `json:"attachments"`
	} `json:"_embedded"`
}

type hsConversation struct {
	ID              zid      `json:"id"`
	Number          int64    `json:"number"`
	Subject         string   `json:"subject"`
	Type            string   `json:"type"`
	Status          string   `json:"status"`
	State           string   `json:"state"`
	CreatedAt       string   `json:"createdAt"`
	PrimaryCustomer hsPerson `json:"primaryCustomer"`
	Assignee        hsPerson `json:"assignee"`
	Tags            []struct {
		Tag string `json:"tag"`
	} `json:"tags"`
	Embedded struct {
		Threads []hsThread `json:"threads"`
	} `json:"_embedded"`
}

type hsCustomer struct {
	ID         zid    `json:"id"`
	FirstName  string `json:"firstName"`
	LastName   string `json:"lastName"`
	CreatedAt  string `json:"createdAt"`
	Background string `json:"background"`
	Embedded   struct {
		Emails []struct{ Value string } `json:"emails"`
		Phones []struct{ Value string } `json:"phones"`
	} `json:"_embedded"`
}

type hsUser struct {
	ID        zid    `json:"id"`
	FirstName string `json:"firstName"`
	LastName  string `json:"lastName"`
	Email     string `json:"email"`
}

type helpScout struct {
	customers []hsCustomer
	users     map[zid]hsUser
	convs     map[zid]*hsConversation
	order     []zid
	threads   map[zid]map[zid]hsThread
}

func newHelpScout() *helpScout {
	return &helpScout{users: map[zid]hsUser{}, convs: map[zid]*hsConversation{}, threads: map[zid]map[zid]hsThread{}}
}

func (hs *helpScout) add(name string, doc map[string]json.RawMessage) error {
	var page struct {
		Embedded struct {
			Conversations []hsConversation `json:"conversations"`
			Threads       []hsThread       `json:"threads"`
			Customers     []hsCustomer     `json:"customers"`
			Users         []hsUser         `json:"users"`
		} `json:"_embedded"`
	}
	raw, _ := json.Marshal(doc)
	if err := json.Unmarshal(raw, &page); err != nil {
		return err
	}
	if _, one := doc["primaryCustomer"]; one { // a line of conversations
		var c hsConversation
		if err := json.Unmarshal(raw, &c); err != nil {
			return err
		}
		page.Embedded.Conversations = append(page.Embedded.Conversations, c)
	}
	e := page.Embedded
	hs.customers = append(hs.customers, e.Customers...)
	for _, u := range e.Users {
		hs.users[u.ID] = u
	}
	for _, c := range e.Conversations {
		if _, ok := hs.convs[c.ID]; !ok {
			hs.order = append(hs.order, c.ID)
		}
		c := c
		hs.convs[c.ID] = &c
		for _, t := range c.Embedded.Threads {
			hs.thread(c.ID, t)
		}
	}
	if len(e.Threads) > 0 {
		id := zid(idInName(name))
		if id == "" {
			return fmt.Errorf("a file of threads is one conversation's: name it with the conversation's id (threads-123.json)")
		}
		for _, t := range e.Threads {
			hs.thread(id, t)
		}
	}
	return nil
}

func (hs *helpScout) thread(conv zid, t hsThread) {
	if hs.threads[conv] == nil {
		hs.threads[conv] = map[zid]hsThread{}
	}
	hs.threads[conv][t.ID] = t
}

var helpScoutStatus = map[string]string{"active": "open", "open": "open", "pending": "pending", "closed": "resolved"}

var helpScoutChannel = map[string]string{"email": "email", "chat": "chat", "phone": "phone"}

func (hs *helpScout) person(p hsPerson) importPerson {
	out := importPerson{Email: p.Email, Name: fullName(p.First, p.Last)}
	switch p.Type {
	case "user", "team", "system_user":
		out.Role = "agent"
		if u, ok := hs.users[p.ID]; ok && out.Email == "" {
			out.Email, out.Name = u.Email, fullName(u.FirstName, u.LastName)
		}
	default:
		if p.ID != "" {
			out.ExternalID = "helpscout:customer:" + string(p.ID)
		}
	}
	if out.Name == "" && out.Email == "" && out.ExternalID == "" {
		out.Name = "Help Scout"
	}
	return out
}

func (hs *helpScout) result() *importSet {
	set := &importSet{}
	for _, c := range hs.customers {
		out := importCustomer{ExternalID: "helpscout:customer:" + string(c.ID), Name: fullName(c.FirstName, c.LastName),
			Notes: c.Background, CreatedAt: c.CreatedAt}
		for _, e := range c.Embedded.Emails {
			out.Emails = append(out.Emails, e.Value)
		}
		for _, p := range c.Embedded.Phones {
			out.Phones = append(out.Phones, p.Value)
		}
		if len(out.Emails)+len(out.Phones) == 0 {
			continue
		}
		set.Customers = append(set.Customers, out)
	}
	for _, id := range hs.order {
		c := hs.convs[id]
		status, ok := helpScoutStatus[c.Status]
		if !ok || c.State == "draft" || c.State == "deleted" {
			set.Warnings = append(set.Warnings, fmt.Sprintf("conversation %s left out: %s %s", id, c.Status, c.State))
			continue
		}
		channel := helpScoutChannel[c.Type]
		if channel == "" {
			channel = "email"
		}
		out := importTicket{ExternalID: "helpscout:" + string(id), Subject: c.Subject, Status: status, Channel: channel,
			Customer: hs.person(hsPerson{ID: c.PrimaryCustomer.ID, First: c.PrimaryCustomer.First, Last: c.PrimaryCustomer.Last,
				Email: c.PrimaryCustomer.Email, Type: "customer"}),
			Assignee: c.Assignee.Email, created: c.CreatedAt}
		for _, tag := range c.Tags {
			out.Tags = append(out.Tags, tag.Tag)
		}
		for _, t := range inOrder(hs.threads[id], func(t hsThread) string { return t.CreatedAt }) {
			if t.State != "" && t.State != "published" {
				continue // drafts, and threads held back
			}
			switch t.Type {
			case "lineitem", "forwardparent", "forwardchild", "":
				continue // activity lines: "Assigned to Ann", "Forwarded"
			}
			m := importMessage{ExternalID: "helpscout:thread:" + string(t.ID), Author: hs.person(t.CreatedBy),
				Internal: t.Type == "note" || t.Type == "phone", HTML: t.Body, Body: email.TextFromHTML(t.Body), CreatedAt: t.CreatedAt}
			if t.Type == "customer" && t.CreatedBy.Type == "" {
				m.Author = hs.person(hsPerson{ID: t.Customer.ID, First: t.Customer.First, Last: t.Customer.Last, Email: t.Customer.Email, Type: "customer"})
			}
			for _, a := range t.Embedded.Attachments {
				m.Attachments = append(m.Attachments, importFile{Filename: a.Filename, ContentType: a.MimeType, url: a.Links.Data.Href, size: a.Size})
			}
			if strings.TrimSpace(m.Body) == "" && len(m.Attachments) == 0 {
				continue
			}
			out.Messages = append(out.Messages, m)
		}
		if len(out.Messages) == 0 {
			set.Warnings = append(set.Warnings, fmt.Sprintf("conversation %s left out: no threads (export it with embed=threads, or its threads-%s.json)", id, id))
			continue
		}
		set.Tickets = append(set.Tickets, out)
	}
	return set
}
