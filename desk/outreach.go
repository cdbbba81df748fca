package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"onedesk/store"
)

// Start is a conversation an agent starts: the ticket's first message is
// the agent's, sent through the outbox like any reply.
type Start struct {
	Channel string // "email" (the default) or "whatsapp"
	StoreID *int64
	// The customer: an existing one (CustomerID), an address or phone
	// (To) that finds or makes one by identity, or both (To is then added
	// to the customer when nobody owns it).
	CustomerID  int64
	To          string // email: the address; WhatsApp: the phone number
	Name        string // a new customer's name
	Subject     string
	Body        string         // email; on WhatsApp the template's text is the body
	MailboxID   int64          // email: the mailbox it leaves from (0: the store's)
	AccountID   int64          // WhatsApp: the number it leaves from (0: the store's, or the only one)
	Template    *TemplateReply // WhatsApp: an approved template (a first message can be nothing else)
	Status      string         // after sending: pending (the default: waiting for the customer), open or resolved
	Priority    string
	Tags        []string
	TeamID      *int64
	AssigneeID  *int64 // nil: the agent who writes
	Attachments []store.Attachment
	NoSignature bool
}

// startStatuses are what an agent-started ticket may be left as.
var startStatuses = []string{"pending", "open", "resolved"}

// StartConversation opens a ticket whose first message is the agent's,
// in one transaction: the customer (found by identity or made), the
// ticket (channel email or whatsapp, assigned to the agent), its created
// event (agent_started), the way its replies leave (the mailbox, or the
// WhatsApp number and chat), and the message queued in the outbox. The
// customer's answer threads into it: by our Message-ID on email, by the
// chat (their phone) on WhatsApp.
//
// The first message counts as the first response, so no first-response
// clock runs; the "ticket created" rules and round-robin do not run (they
// are written for customers' requests); the resolution clock and the
// rules on the customer's answer do.
func (d *Desk) StartConversation(ctx context.Context, actor Actor, in Start) (*store.Ticket, *store.Message, error) {
	if actor.Kind != "agent" {
		return nil, nil, inputErr("actor", "only an agent starts a conversation")
	}
	s, err := d.checkStart(ctx, actor, &in)
	if err != nil {
		return nil, nil, err
	}
	r := &reply{d: d, actor: actor, in: ReplyInput{Body: in.Body, Status: in.Status, Attachments: in.Attachments,
		Template: in.Template, NoSignature: in.NoSignature}}
	if err := r.check(ctx); err != nil {
		return nil, nil, err
	}
	if err := d.db.StageFiles(ctx, in.Attachments...); err != nil {
		return nil, nil, fmt.Errorf("start a conversation: %w", err)
	}
	var opened []Change
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		t, ev, err := d.openAgentTicket(ctx, tx, actor, agentTicket{
			channel: in.Channel, storeID: in.StoreID, customerID: in.CustomerID, ids: s.ids, name: in.Name,
			subject: in.Subject, priority: in.Priority, tags: in.Tags, teamID: in.TeamID, assigneeID: in.AssigneeID,
		})
		if err != nil {
			return err
		}
		opened = []Change{{Type: "event", TicketID: t.ID, Event: ev}}
		if s.mailbox != nil {
			if err := tx.SetTicketMailbox(ctx, t.ID, s.mailbox.ID); err != nil {
				return err
			}
		}
		if s.account != nil {
			if err := tx.SetSocialThread(ctx, t.ID, s.account.ID, strings.TrimPrefix(s.ids[0].Value, "+")); err != nil {
				return err
			}
		}
		r.tx, r.ticketID = tx, t.ID
		addressed := func(context.Context) error {
			if s.mailbox != nil {
				r.m.To = s.ids[0].Value
			}
			return nil
		}
		for _, step := range []func(context.Context) error{r.load, r.compose, addressed, r.insert, r.status, r.save} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("start a conversation: %w", err)
	}
	r.changes = append(opened, r.changes...)
	r.afterCommit(ctx)
	return r.t, r.m, nil
}

// started is what checkStart found: the customer's identifiers, and the
// mailbox or WhatsApp number the message leaves from.
type started struct {
	ids     []store.Identity // the first is the one written to
	mailbox *store.Mailbox
	account *store.SocialAccount
}

// checkStart checks a Start and reads what it needs before the write.
func (d *Desk) checkStart(ctx context.Context, actor Actor, in *Start) (*started, error) {
	if in.Channel == "" {
		in.Channel = "email"
	}
	if err := oneOf("channel", in.Channel, []string{"email", "whatsapp"}); err != nil {
		return nil, err
	}
	if in.Status == "" {
		in.Status = "pending"
	}
	if err := oneOf("status", in.Status, startStatuses); err != nil {
		return nil, err
	}
	if in.AssigneeID == nil {
		in.AssigneeID = &actor.AgentID
	}
	in.Subject, in.To = cleanLine(in.Subject), strings.TrimSpace(in.To)
	if utf8.RuneCountInString(in.Subject) > MaxSubject {
		return nil, inputErr("subject", "subject is longer than %d characters", MaxSubject)
	}
	if in.CustomerID == 0 && in.To == "" {
		return nil, inputErr("to", "write to a customer: pick one, or type an address")
	}
	s := &started{}
	if in.Channel == "email" {
		return s, d.checkStartEmail(ctx, in, s)
	}
	return s, d.checkStartWhatsApp(ctx, in, s)
}

func (d *Desk) checkStartEmail(ctx context.Context, in *Start, s *started) error {
	if in.Subject == "" {
		return inputErr("subject", "subject is empty")
	}
	if in.Template != nil {
		return inputErr("template", "templates are for WhatsApp; an email is written freely")
	}
	to, err := d.startAddress(ctx, in, "email")
	if err != nil {
		return err
	}
	s.ids = []store.Identity{to}
	if in.MailboxID != 0 {
		mb, err := d.db.Mailbox(ctx, in.MailboxID)
		if errors.Is(err, store.ErrNotFound) {
			return inputErr("mailbox_id", "mailbox %d does not exist", in.MailboxID)
		}
		if err != nil {
			return err
		}
		if !mb.Active {
			return inputErr("mailbox_id", "the mailbox %s is switched off", mb.Address)
		}
		s.mailbox = mb
	} else if s.mailbox, err = d.storeMailbox(ctx, in.StoreID); err != nil {
		return err
	} else if s.mailbox == nil {
		return inputErr("mailbox_id", "%s", NoMailboxReason)
	}
	if in.StoreID == nil {
		in.StoreID = s.mailbox.StoreID
	}
	return nil
}

func (d *Desk) checkStartWhatsApp(ctx context.Context, in *Start, s *started) error {
	if in.Template == nil {
		return inputErr("template", "WhatsApp lets a business write first only with an approved template: pick one")
	}
	to, err := d.startAddress(ctx, in, "whatsapp")
	if err != nil {
		return err
	}
	s.ids = []store.Identity{to, {Kind: "phone", Value: to.Value}}
	if s.account, err = d.startAccount(ctx, in); err != nil {
		return err
	}
	p := d.channels.platform("whatsapp")
	if p == nil {
		return inputErr("account_id", "WhatsApp is not running on this desk")
	}
	if in.Body, err = fillTemplate(p.Templates(s.account), *in.Template); err != nil {
		return err
	}
	if in.StoreID == nil {
		in.StoreID = s.account.StoreID
	}
	return nil
}

// startAddress is the identifier the first message goes to: To, else the
// customer's own (their first email; their WhatsApp number or phone).
func (d *Desk) startAddress(ctx context.Context, in *Start, kind string) (store.Identity, error) {
	if in.To != "" {
		id, err := d.normalize(ctx, kind, in.To, in.StoreID)
		if err != nil {
			return id, inputErr("to", "%s", errorText(err))
		}
		return id, nil
	}
	c, err := d.db.Customer(ctx, in.CustomerID)
	if errors.Is(err, store.ErrNotFound) {
		return store.Identity{}, inputErr("customer_id", "customer %d does not exist", in.CustomerID)
	}
	if err != nil {
		return store.Identity{}, err
	}
	for _, want := range []string{kind, "phone"} {
		for _, id := range c.Identities {
			if id.Kind == want && (want == kind || kind == "whatsapp") {
				return store.Identity{Kind: kind, Value: id.Value}, nil
			}
		}
	}
	if kind == "email" {
		return store.Identity{}, inputErr("to", "the customer has no email address: type one")
	}
	return store.Identity{}, inputErr("to", "the customer has no phone number: type one")
}

// startAccount is the WhatsApp number a conversation starts from.
func (d *Desk) startAccount(ctx context.Context, in *Start) (*store.SocialAccount, error) {
	list, err := d.db.SocialAccounts(ctx, "whatsapp")
	if err != nil {
		return nil, err
	}
	var pick *store.SocialAccount
	for _, a := range list {
		switch {
		case !a.Enabled:
		case in.AccountID != 0:
			if a.ID == in.AccountID {
				pick = a
			}
		case pick == nil || in.StoreID != nil && a.StoreID != nil && *a.StoreID == *in.StoreID:
			pick = a
		}
	}
	if pick == nil {
		return nil, inputErr("account_id", "no WhatsApp number is connected and switched on: an admin adds one under Settings → Channels")
	}
	return pick, nil
}

// fillTemplate is a template's text with the values filled in, or why the
// template cannot be sent.
func fillTemplate(list []Template, tr TemplateReply) (string, error) {
	i := slices.IndexFunc(list, func(x Template) bool { return x.Name == tr.Name && x.Language == tr.Language })
	if i < 0 {
		return "", inputErr("template", "%q (%s) is not one of this number's templates: an admin lists them under Settings → Channels", tr.Name, tr.Language)
	}
	tpl := list[i]
	if len(tr.Params) != tpl.Params {
		return "", inputErr("params", "the template %q takes %d values, not %d", tpl.Name, tpl.Params, len(tr.Params))
	}
	body := tpl.Body
	for n, v := range tr.Params {
		if strings.TrimSpace(v) == "" {
			return "", inputErr("params", "value {{%d}} of the template is empty", n+1)
		}
		body = strings.ReplaceAll(body, fmt.Sprintf("{{%d}}", n+1), v)
	}
	return body, nil
}

// errorText is an input error's message without its field.
func errorText(err error) string {
	if ie, ok := IsInput(err); ok {
		return ie.Message
	}
	return err.Error()
}

// agentTicket is a ticket an agent opens (a conversation, a call).
type agentTicket struct {
	channel    string
	storeID    *int64
	customerID int64
	ids        []store.Identity // found or added to the customer
	name       string
	subject    string
	priority   string
	tags       []string
	teamID     *int64
	assigneeID *int64
}

// openAgentTicket finds or makes the customer and inserts the ticket
// with its created event (agent_started), inside tx.
func (d *Desk) openAgentTicket(ctx context.Context, tx *store.Tx, actor Actor, a agentTicket) (*store.Ticket, *store.Event, error) {
	for _, ref := range []struct {
		table, field string
		id           *int64
	}{{"stores", "store_id", a.storeID}, {"agents", "assignee_id", a.assigneeID}, {"teams", "team_id", a.teamID}} {
		if err := exists(ctx, tx, ref.table, ref.field, ref.id); err != nil {
			return nil, nil, err
		}
	}
	if a.priority == "" {
		a.priority = "normal"
	}
	if err := oneOf("priority", a.priority, store.Priorities); err != nil {
		return nil, nil, err
	}
	tags, err := CleanTags(a.tags)
	if err != nil {
		return nil, nil, err
	}
	cid, err := d.agentCustomer(ctx, tx, a)
	if err != nil {
		return nil, nil, err
	}
	now := store.Now()
	t := &store.Ticket{Subject: a.subject, Status: "new", Priority: a.priority, Channel: a.channel,
		StoreID: a.storeID, CustomerID: cid, AssigneeID: a.assigneeID, TeamID: a.teamID, Tags: tags,
		CreatedAt: now, UpdatedAt: now}
	if err := tx.InsertTicket(ctx, t); err != nil {
		return nil, nil, err
	}
	ev, err := addEvent(ctx, tx, t.ID, actor, store.CreatedData{AgentStarted: true, Channel: a.channel})
	return t, ev, err
}

// agentCustomer is the customer an agent's ticket is with: the one named
// (its identifiers added when nobody owns them), the owner of an
// identifier given, or a new one.
func (d *Desk) agentCustomer(ctx context.Context, tx *store.Tx, a agentTicket) (int64, error) {
	if a.customerID == 0 && len(a.ids) > 0 {
		return d.resolveCustomer(ctx, tx, Inbound{From: a.ids[0], Identities: a.ids[1:], Name: a.name})
	}
	if a.customerID == 0 {
		name := cleanLine(a.name)
		if name == "" {
			return 0, inputErr("customer", "name the customer, or give their phone or email")
		}
		c := &store.Customer{Name: name, CreatedAt: store.Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return 0, err
		}
		return c.ID, nil
	}
	if ok, err := tx.Exists(ctx, "customers", a.customerID); err != nil || !ok {
		if err == nil {
			err = inputErr("customer_id", "customer %d does not exist", a.customerID)
		}
		return 0, err
	}
	for i, id := range a.ids {
		owner, err := tx.CustomerByIdentity(ctx, id)
		switch {
		case errors.Is(err, store.ErrNotFound):
			if err := tx.AddIdentity(ctx, a.customerID, id); err != nil {
				return 0, err
			}
		case err != nil:
			return 0, err
		case owner != a.customerID && i == 0:
			return 0, inputErr("to", "%s belongs to another customer: write to them from their page, or merge the two", id.Value)
		}
	}
	return a.customerID, nil
}

// StartFrom is what an agent may start a conversation from: the active
// mailboxes, and the WhatsApp numbers switched on with their templates.
type StartFrom struct {
	Mailboxes []StartMailbox `json:"mailboxes"`
	WhatsApp  []StartNumber  `json:"whatsapp"`
}

// StartMailbox is a mailbox a first email may leave from.
type StartMailbox struct {
	ID      int64  `json:"id"`
	Address string `json:"address"`
	Name    string `json:"name"`
	StoreID *int64 `json:"store_id"`
}

// StartNumber is a WhatsApp number a first message may leave from.
type StartNumber struct {
	ID        int64      `json:"id"`
	Handle    string     `json:"handle"`
	Name      string     `json:"name"`
	StoreID   *int64     `json:"store_id"`
	Templates []Template `json:"templates"`
}

// StartOptions lists what conversations can start from (no secrets: any
// agent reads it).
func (d *Desk) StartOptions(ctx context.Context) (*StartFrom, error) {
	out := &StartFrom{Mailboxes: []StartMailbox{}, WhatsApp: []StartNumber{}}
	boxes, err := d.db.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	for _, mb := range boxes {
		if mb.Active {
			out.Mailboxes = append(out.Mailboxes, StartMailbox{ID: mb.ID, Address: mb.Address, Name: mb.Name, StoreID: mb.StoreID})
		}
	}
	p := d.channels.platform("whatsapp")
	if p == nil {
		return out, nil
	}
	numbers, err := d.db.SocialAccounts(ctx, "whatsapp")
	if err != nil {
		return nil, err
	}
	for _, a := range numbers {
		if a.Enabled {
			out.WhatsApp = append(out.WhatsApp, StartNumber{ID: a.ID, Handle: a.Handle, Name: a.Name, StoreID: a.StoreID, Templates: p.Templates(a)})
		}
	}
	return out, nil
}
