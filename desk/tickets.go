package desk

import (
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/i18n"
	"onedesk/store"
)

// Limits on what a ticket may hold.
const (
	MaxSubject = 500
	MaxBody    = 256 << 10
	MaxTags    = 20
	MaxTag     = 50
	snippetLen = 160
)

// transitions lists the statuses each status may move to. Closed is final:
// a customer writing again opens a follow-up ticket.
var transitions = map[string][]string{
	"new":      {"open", "pending", "resolved", "closed"},
	"open":     {"pending", "resolved", "closed"},
	"pending":  {"open", "resolved", "closed"},
	"resolved": {"open", "closed"},
	"closed":   {},
}

// NoTextBody is the text stored for a message that came without any (a
// subject alone): a marker, which the app says in each agent's language
// (assets/app/people.js), so it is never a customer's words.
const NoTextBody = "[onedesk: the message has no text]"

// Inbound is a customer message arriving from a channel (or created
// through the API on the customer's behalf).
type Inbound struct {
	Channel     string
	StoreID     *int64
	From        store.Identity   // who wrote; normalized by Ingest
	Identities  []store.Identity // more identifiers of the same person
	Name        string
	Subject     string
	Text        string
	HTML        string // sanitized by the channel
	Attachments []store.Attachment
	ExternalID  string   // the channel's id for dedupe ("" = none)
	ThreadRefs  []string // external ids this message answers
	TicketID    int64    // the ticket, when the channel knows it
	TicketHint  int64    // a ticket named by the message (a subject token): used when the thread is not found and the sender owns it
	Auto        string   // "", auto_reply, bounce, bulk
	Fields      json.RawMessage
	CC          []Contact // others the message was written to: they join the ticket as participants
	// Language is the language the sender reads or wrote in, when the
	// channel knows it (a widget's, a mail's Content-Language or text): it
	// becomes the customer's. "" or a language onedesk does not speak
	// leaves the customer's as it was.
	Language string

	// AckText, when set, is an acknowledgement sent back when the message
	// opens a ticket (not to machine mail, at most maxAcks an hour per
	// customer). {{ticket}}, {{name}} and {{subject}} are filled in.
	AckText string

	// Mail is where an email came from (zero for other channels).
	Mail MailSource

	// Social messages (Telegram...): the account and chat they came
	// through. The chat's newest ticket continues (by the reopen rules),
	// and a new ticket is tied to the chat so replies go back there.
	Social *SocialThread

	// Partial, when set, says in sentences what of the message could not
	// be read (a header that would not parse, a structure past the limits,
	// a parse that ran out of time): the message is kept with what could
	// be read, its source beside it, and counted as partly read. The notes
	// are kept as sentences so that each agent reads them in their own
	// language; a message with notes may have no text of its own.
	Partial i18n.Sentences

	// Historic marks a message of the past (a mailbox's history import):
	// it is stored at its Date, opens a resolved ticket, and is silent: no
	// rule, SLA clock, acknowledgement, round robin, reopening, webhook or
	// push to the agents' app runs for it.
	Historic bool
	Date     time.Time // when a historic message was written
	// SentBy, on a historic message, is our address that sent it (a
	// message of the Sent folder): it is stored as a reply, by the agent
	// with that address (else by nobody: the mailbox), and From is the
	// customer it was sent to.
	SentBy string
	// As, on a historic message imported from another helpdesk (see
	// Import), is who wrote it when it was not the customer From names:
	// an agent's reply or note, or someone else kept by name. The ticket
	// TicketID names is joined whatever its status.
	As *Author
	// Status is the status a historic message opens its ticket with
	// ("": resolved, as a mailbox's history is).
	Status string

	// Applied when the message opens a new ticket.
	Priority   string
	Tags       []string
	AssigneeID *int64
	TeamID     *int64
}

// Author is who wrote an imported message other than its customer: Kind
// agent or note (by AgentID, else by nobody we know) or customer (someone
// on the customer's side), with From the name or address kept as text.
type Author struct {
	Kind    string
	AgentID *int64
	From    string
}

// Contact is a person named by a message besides its sender.
type Contact struct {
	Identity store.Identity
	Name     string
}

// maxCC bounds how many people one message adds to a ticket.
const maxCC = 10

// maxAcks is how many acknowledgements one customer gets in an hour.
const maxAcks = 3

// Cursor is a mailbox position: the folder's UIDVALIDITY and a UID.
type Cursor struct {
	UIDValidity uint32
	UID         uint32
}

// Ingested tells what Ingest did.
type Ingested struct {
	Ticket    *store.Ticket
	Message   *store.Message
	Created   bool // a new ticket was opened
	Duplicate bool // the channel had delivered this message before
}

// Ingest commits an inbound message in one transaction: dedupe, customer
// by identity, ticket by thread (or a new one), the message and events.
func (d *Desk) Ingest(ctx context.Context, in Inbound) (*Ingested, error) {
	g := &ingest{d: d, in: in}
	if err := g.check(ctx); err != nil {
		return nil, err
	}
	g.reopenLimit = d.reopenLimit(ctx)
	// Files going to a file store are sent before the write, not in it.
	if err := d.db.StageFiles(ctx, append(slices.Clone(in.Attachments), store.Attachment{Data: in.Mail.Raw, Path: in.Mail.RawPath})...); err != nil {
		return nil, fmt.Errorf("ingest %s message: %w", in.Channel, err)
	}
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		g.tx = tx
		return g.commit(ctx)
	})
	if err != nil {
		return nil, fmt.Errorf("ingest %s message: %w", g.in.Channel, err)
	}
	g.afterCommit(ctx)
	return &g.res, nil
}

// ingest is one inbound message on its way in: what the steps of Ingest
// share, from the checked message to what is published once committed.
type ingest struct {
	d           *Desk
	in          Inbound
	partial     string    // the notes of a partly read message, as one line
	cc          []Contact // the checked Cc list
	reopenLimit time.Time

	tx         *store.Tx
	customerID int64
	now        time.Time
	t          *store.Ticket
	m          *store.Message
	res        Ingested
	changes    []Change
	ran        *TicketTx
	acked      bool
	authorID   *int64 // the agent who sent a historic reply
}

// commit runs the steps inside the write transaction, in order.
func (g *ingest) commit(ctx context.Context) error {
	if g.in.Historic {
		g.tx.Historic(g.in.Date)
	}
	if dup, err := g.dedupe(ctx); err != nil || dup {
		return err
	}
	steps := []func(context.Context) error{
		g.checkRefs, g.bounce, g.customer, g.thread, g.openTicket,
		g.participants, g.appendMessage, g.ticketState, g.hooks, g.acknowledge,
	}
	for _, step := range steps {
		if err := step(ctx); err != nil {
			return err
		}
	}
	return nil
}

// check normalizes the sender and checks the message before anything is
// written.
func (g *ingest) check(ctx context.Context) error {
	in := &g.in
	if err := oneOf("channel", in.Channel, store.Channels); err != nil {
		return err
	}
	if err := g.normalizeSender(ctx); err != nil {
		return err
	}
	in.Subject = cleanLine(in.Subject)
	in.Partial = cleanSentences(in.Partial)
	g.partial = truncateRunes(cleanLine(in.Partial.String()), maxPartial)
	in.HTML = SanitizeHTML(in.HTML)
	// A message whose notes say what could not be read need not have any
	// text: the notes stand in for it, in the reader's language.
	if len(in.Partial) == 0 || in.Text != "" || in.HTML != "" {
		if err := checkText("body", in.Text, in.HTML, len(in.Attachments)); err != nil {
			return err
		}
	}
	if utf8.RuneCountInString(in.Subject) > MaxSubject {
		return inputErr("subject", "subject is longer than %d characters", MaxSubject)
	}
	if (in.SentBy != "" || in.As != nil || in.Status != "") && !in.Historic {
		return inputErr("sent_by", "only a historic message may be one we sent")
	}
	if in.Status != "" {
		if err := oneOf("status", in.Status, store.Statuses); err != nil {
			return err
		}
	}
	if in.As != nil {
		if err := oneOf("kind", in.As.Kind, []string{"agent", "note", "customer"}); err != nil {
			return err
		}
	}
	if in.Historic && in.Mail.Cursor != nil && in.Mail.HistoryFolder == "" {
		// It would move the live cursor, perhaps to another folder's UIDs.
		return fmt.Errorf("ingest: historic mail names no history folder")
	}
	if in.Historic {
		if in.Date.IsZero() || in.Date.After(store.Now()) {
			in.Date = store.Now() // a message from the future is dated when it came
		}
		in.Date = in.Date.UTC().Truncate(time.Millisecond)
		if in.SentBy != "" {
			a, err := g.d.db.AgentByEmail(ctx, strings.ToLower(in.SentBy))
			if err == nil && a.Active {
				g.authorID = &a.ID
			} else if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	if in.Priority == "" {
		in.Priority = "normal"
	}
	if err := oneOf("priority", in.Priority, store.Priorities); err != nil {
		return err
	}
	var err error
	if in.Tags, err = CleanTags(in.Tags); err != nil {
		return err
	}
	if len(in.Fields) > 0 && (in.Fields[0] != '{' || !json.Valid(in.Fields)) {
		return inputErr("fields", "fields must be a JSON object")
	}
	for _, c := range in.CC {
		id, err := NormalizeIdentity(c.Identity.Kind, c.Identity.Value)
		if err != nil || id == in.From || len(g.cc) == maxCC {
			continue // a bad Cc address is not worth refusing the message
		}
		g.cc = append(g.cc, Contact{Identity: id, Name: c.Name})
	}
	return nil
}

// normalizeSender normalizes the sender's identifiers.
func (g *ingest) normalizeSender(ctx context.Context) error {
	d, in := g.d, &g.in
	from, err := d.normalize(ctx, in.From.Kind, in.From.Value, in.StoreID)
	if err != nil && in.Channel == "email" && in.From.Kind == "email" {
		// A mail server delivered it: the message is kept, and a reply
		// goes back the way it came, even to a host without a dot.
		var addr string
		if addr, err = mailSender(in.From.Value); err == nil {
			from = store.Identity{Kind: "email", Value: addr}
		}
	}
	if err != nil {
		return err
	}
	in.From = from
	for i, id := range in.Identities {
		if in.Identities[i], err = d.normalize(ctx, id.Kind, id.Value, in.StoreID); err != nil {
			return err
		}
	}
	return nil
}

// dedupe moves the mailbox cursor past the message and reports a message
// the channel delivered before (res then names it).
func (g *ingest) dedupe(ctx context.Context) (bool, error) {
	tx, in := g.tx, &g.in
	switch {
	case in.Mail.Cursor != nil && in.Mail.HistoryFolder != "":
		if err := tx.SetHistoryCursor(ctx, in.Mail.MailboxID, in.Mail.HistoryFolder, in.Mail.Cursor.UIDValidity, in.Mail.Cursor.UID); err != nil {
			return false, err
		}
	case in.Mail.Cursor != nil:
		if err := tx.SetMailboxCursor(ctx, in.Mail.MailboxID, in.Mail.Cursor.UIDValidity, in.Mail.Cursor.UID); err != nil {
			return false, err
		}
	}
	if in.ExternalID == "" {
		return false, nil
	}
	m, err := tx.MessageByExternalID(ctx, in.Channel, in.ExternalID)
	if err == nil {
		t, err := tx.Ticket(ctx, m.TicketID)
		g.res = Ingested{Ticket: t, Message: m, Duplicate: true}
		return true, err
	}
	if !errors.Is(err, store.ErrNotFound) {
		return false, err
	}
	return false, nil
}

// checkRefs checks that the store, assignee and team named exist.
func (g *ingest) checkRefs(ctx context.Context) error {
	tx, in := g.tx, &g.in
	if err := exists(ctx, tx, "stores", "store_id", in.StoreID); err != nil {
		return err
	}
	if err := exists(ctx, tx, "agents", "assignee_id", in.AssigneeID); err != nil {
		return err
	}
	return exists(ctx, tx, "teams", "team_id", in.TeamID)
}

// bounce marks the reply a bounce names as failed; the bounce then goes
// on that reply's ticket.
func (g *ingest) bounce(ctx context.Context) error {
	d, tx, in := g.d, g.tx, &g.in
	if in.Auto != "bounce" || in.Mail.BounceOf == "" || in.Historic {
		return nil // an old bounce is about an old delivery: it is kept, not acted on
	}
	ev, err := d.markBounced(ctx, tx, *in)
	if err != nil {
		return err
	}
	if ev != nil {
		g.changes = append(g.changes, Change{Type: "event", TicketID: ev.TicketID, Event: ev})
		in.TicketID = ev.TicketID // the bounce goes on the reply's ticket
	}
	return nil
}

// customer finds or makes the customer who wrote.
func (g *ingest) customer(ctx context.Context) (err error) {
	g.customerID, err = g.d.resolveCustomer(ctx, g.tx, g.in)
	return err
}

// thread finds the ticket the message continues, if any; a message
// answering a thread from another customer's address may be theirs too.
func (g *ingest) thread(ctx context.Context) error {
	d, tx, in, customerID := g.d, g.tx, &g.in, g.customerID
	t, answered, err := d.findThread(ctx, tx, *in, customerID)
	if err != nil {
		return err
	}
	g.t = t
	if t != nil && answered && customerID != t.CustomerID && in.Auto == "" && !in.Historic {
		evs, merged, err := d.verifyClaim(ctx, tx, t, in.From, customerID)
		if err != nil {
			return err
		}
		if merged {
			g.changes = append(g.changes, evs...)
		}
	}
	return nil
}

// openTicket opens a ticket when the message continues none, or one that
// is closed or long resolved (the new one follows it up).
func (g *ingest) openTicket(ctx context.Context) error {
	tx, in, t, customerID := g.tx, &g.in, g.t, g.customerID
	g.now = store.Now()
	if in.Historic {
		g.now = in.Date
	}
	now := g.now
	var follows *int64
	if in.Historic {
		// History joins its thread whatever became of it, unless closed.
		if t != nil && t.Status == "closed" && in.As == nil {
			follows, t = &t.ID, nil
		}
	} else if t != nil && (t.Status == "closed" ||
		t.Status == "resolved" && in.Auto == "" && t.ResolvedAt != nil && t.ResolvedAt.Before(g.reopenLimit)) {
		// Closed is final, and a long-resolved ticket is history: the
		// customer's new message starts a ticket linked to the old one.
		follows, t = &t.ID, nil
	}
	if t != nil {
		return nil
	}
	subject := in.Subject
	if subject == "" {
		subject = firstLine(in.Text)
	}
	t = &store.Ticket{
		Subject: subject, Status: "new", Priority: in.Priority, Channel: in.Channel,
		StoreID: in.StoreID, CustomerID: customerID, AssigneeID: in.AssigneeID, TeamID: in.TeamID,
		Tags: in.Tags, Fields: in.Fields, CreatedAt: now, UpdatedAt: now,
	}
	opened := "resolved"
	if in.Status != "" {
		opened = in.Status
	}
	if in.Historic && opened != "new" {
		moveStatus(t, opened, now)
	}
	if err := tx.InsertTicket(ctx, t); err != nil {
		return err
	}
	g.t = t
	opener, ours := Customer, in.SentBy != ""
	authorID := g.authorID
	if in.As != nil && in.As.Kind != "customer" {
		ours, authorID = true, in.As.AgentID
	}
	if ours {
		opener = System // we wrote first; who, the message says
		if authorID != nil {
			opener = AgentActor(*authorID)
		}
	}
	ev, err := addEvent(ctx, tx, t.ID, opener, store.CreatedData{AgentStarted: ours, Channel: in.Channel, FollowUpOf: follows})
	if err != nil {
		return err
	}
	g.res.Created = true
	if in.Historic && opened != "new" {
		// Resolved as it was opened: reports count the history created
		// and resolved in its own period (the time to resolve is read from
		// the ticket's resolved_at, its last message).
		if _, err := addEvent(ctx, tx, t.ID, System, store.StatusChangedData{From: "new", To: opened}); err != nil {
			return err
		}
	}
	g.changes = append(g.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
	return nil
}

// participants adds whoever else the message involves to the ticket.
func (g *ingest) participants(ctx context.Context) error {
	d, tx, in, t := g.d, g.tx, &g.in, g.t
	// Someone other than the customer writing on the ticket (a colleague
	// answering a thread), and whoever the message was also sent to, join
	// it as participants: they are kept in the loop, never made its customer.
	joining := g.cc
	if g.customerID != t.CustomerID {
		joining = append([]Contact{{Identity: in.From}}, g.cc...)
	}
	for _, c := range joining {
		evs, err := d.addParticipant(ctx, tx, t, c)
		if err != nil {
			return err
		}
		for _, ev := range evs {
			g.changes = append(g.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
		}
	}
	return nil
}

// appendMessage writes the message, and where it came from.
func (g *ingest) appendMessage(ctx context.Context) error {
	tx, in, t, now := g.tx, &g.in, g.t, g.now
	m := &store.Message{
		TicketID: t.ID, Kind: "customer", Channel: in.Channel, Body: in.Text, HTML: in.HTML,
		From: in.From.Value, ExternalID: in.ExternalID, Auto: in.Auto, Attachments: in.Attachments,
		Partial: g.partial, PartialI18n: in.Partial.Encode(), CreatedAt: now,
	}
	if in.SentBy != "" {
		m.Kind, m.From, m.AuthorID, m.Delivery = "agent", strings.ToLower(in.SentBy), g.authorID, "sent"
	}
	if in.As != nil {
		m.Kind, m.AuthorID = in.As.Kind, in.As.AgentID
		if in.As.From != "" {
			m.From = in.As.From
		}
		if m.Kind == "agent" {
			m.Delivery = "sent"
		}
	}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	g.m = m
	if in.Social != nil {
		if err := tx.SetSocialThread(ctx, t.ID, in.Social.AccountID, in.Social.ChatID); err != nil {
			return err
		}
	}
	if in.Mail.MailboxID != 0 {
		if err := tx.SetMessageSource(ctx, m.ID, in.Mail.MailboxID, in.Mail.Raw, in.Mail.RawPath); err != nil {
			return err
		}
		if err := tx.SetTicketMailbox(ctx, t.ID, in.Mail.MailboxID); err != nil {
			return err
		}
	}
	return nil
}

// ticketState marks the ticket unread and reopens it when the customer
// speaks.
func (g *ingest) ticketState(ctx context.Context) error {
	tx, in, t, now := g.tx, &g.in, g.t, g.now
	if in.Historic {
		g.historicState()
		return nil
	}
	t.UpdatedAt = now
	if in.Auto != "" {
		// Machine mail is kept on the ticket but is not the customer
		// speaking: it neither marks the ticket unread nor reopens it.
		return nil
	}
	t.LastCustomerAt = &now
	t.Snippet = snippet(in.Text)
	// A customer writing again reopens the ticket; machine mail never does.
	if t.Status == "pending" || t.Status == "resolved" {
		ev, err := setStatus(ctx, tx, t, "open", Customer)
		if err != nil {
			return err
		}
		g.changes = append(g.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
	}
	return nil
}

// hooks lets the hooks act on the ticket, assigns a new one by round
// robin, and writes the ticket.
func (g *ingest) hooks(ctx context.Context) error {
	d, tx, t, m := g.d, g.tx, g.t, g.m
	if g.in.Historic {
		// History sets nothing off: no hook (rules, SLA) and no round robin.
		g.res.Ticket, g.res.Message = t, m
		return tx.UpdateTicket(ctx, t)
	}
	trigger := TriggerCustomerReplied
	if g.res.Created {
		trigger = TriggerCreated
	}
	g.ran = d.TicketTx(tx, t, m, g.now)
	if err := g.ran.Changed(ctx, trigger); err != nil {
		return err
	}
	g.changes = append(g.changes, g.ran.take()...)
	if g.res.Created {
		ev, err := d.roundRobin(ctx, tx, t, 0)
		if err != nil {
			return err
		}
		if ev != nil {
			g.changes = append(g.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
		}
	}
	if err := g.ran.Save(ctx); err != nil {
		return err
	}
	g.changes = append(g.changes, g.ran.take()...)
	g.res.Ticket, g.res.Message = t, m
	g.changes = append(g.changes, Change{Type: "message", TicketID: t.ID, Message: m})
	return nil
}

// acknowledge queues the automatic answer to a message that opened a
// ticket, when the channel asks for one.
func (g *ingest) acknowledge(ctx context.Context) error {
	in, t := &g.in, g.t
	if !g.res.Created || in.Auto != "" || in.AckText == "" || in.Historic {
		return nil
	}
	ack, err := g.d.acknowledge(ctx, g.tx, t, *in)
	if err != nil || ack == nil {
		return err
	}
	g.acked = true
	g.changes = append(g.changes, Change{Type: "message", TicketID: t.ID, Message: ack})
	return nil
}

// afterCommit counts the message and publishes what it changed.
func (g *ingest) afterCommit(ctx context.Context) {
	d, in := g.d, &g.in
	if !g.res.Duplicate {
		d.stats.ingested.Inc(in.Channel)
		if in.Mail.MailboxID != 0 {
			mailbox := strconv.FormatInt(in.Mail.MailboxID, 10)
			d.stats.mailImported.Inc(mailbox)
			if len(in.Partial) > 0 {
				d.stats.mailPartial.Inc(mailbox)
			}
		}
		if !in.Historic {
			d.publishAll(ctx, g.changes) // history is not news: the app finds it when it looks
		}
	}
	if g.ran != nil {
		g.ran.finish() // its changes went with the rest
	}
	if g.acked {
		d.Wake()
	}
}

// historicState places a message of the past on its ticket: the ticket's
// times move only forward (a live ticket stays as it is), a resolved one
// is resolved at its last message, and nothing reopens.
func (g *ingest) historicState() {
	in, t, at := &g.in, g.t, g.now
	later := func(p **time.Time) {
		if *p == nil || (*p).Before(at) {
			*p = &at
		}
	}
	kind := "customer"
	if in.SentBy != "" {
		kind = "agent"
	} else if in.As != nil {
		kind = in.As.Kind
	}
	if at.After(t.UpdatedAt) {
		t.UpdatedAt = at
		if in.Auto == "" && kind != "note" {
			t.Snippet = snippet(in.Text)
		}
	}
	switch {
	case kind == "note":
	case kind == "agent":
		later(&t.LastAgentAt)
		if t.FirstResponseAt == nil || t.FirstResponseAt.After(at) {
			t.FirstResponseAt = &at
		}
	case in.Auto == "":
		later(&t.LastCustomerAt)
	}
	if t.Status == "resolved" && t.ResolvedAt != nil && t.ResolvedAt.Before(at) {
		t.ResolvedAt = &at
	}
}

// addParticipant makes the owner of c's identifier (a new customer if
// nobody owns it) a participant of t, unless it is t's customer.
func (d *Desk) addParticipant(ctx context.Context, tx *store.Tx, t *store.Ticket, c Contact) ([]*store.Event, error) {
	cid, err := tx.CustomerByIdentity(ctx, c.Identity)
	if errors.Is(err, store.ErrNotFound) {
		cust := &store.Customer{Name: cleanLine(c.Name), CreatedAt: store.Now()}
		if err := tx.InsertCustomer(ctx, cust); err != nil {
			return nil, err
		}
		if err := tx.AddIdentity(ctx, cust.ID, c.Identity); err != nil {
			return nil, err
		}
		cid = cust.ID
	} else if err != nil {
		return nil, err
	}
	if cid == t.CustomerID {
		return nil, nil
	}
	added, err := tx.AddParticipant(ctx, t.ID, cid)
	if err != nil || !added {
		return nil, err
	}
	ev, err := addEvent(ctx, tx, t.ID, Customer, store.ParticipantAddedData{CustomerID: cid, Identity: c.Identity.Value})
	if err != nil {
		return nil, err
	}
	return []*store.Event{ev}, nil
}

// acknowledge queues the automatic answer to a message that opened t,
// unless the customer had maxAcks of them in the last hour (two robots
// answering each other stop here). It returns nil when none was sent.
func (d *Desk) acknowledge(ctx context.Context, tx *store.Tx, t *store.Ticket, in Inbound) (*store.Message, error) {
	n, err := tx.RecentAcks(ctx, t.CustomerID, store.Now().Add(-time.Hour))
	if err != nil || n >= maxAcks {
		return nil, err
	}
	name := cleanLine(in.Name)
	if name == "" {
		name, _, _ = strings.Cut(in.From.Value, "@")
	}
	body := strings.NewReplacer("{{ticket}}", strconv.FormatInt(t.ID, 10), "{{name}}", name,
		"{{subject}}", t.Subject).Replace(in.AckText)
	now := store.Now()
	m := &store.Message{TicketID: t.ID, Kind: "agent", Channel: t.Channel, Body: body, Auto: "auto_reply",
		Delivery: "queued", CreatedAt: now}
	if err := tx.InsertMessage(ctx, m); err != nil {
		return nil, err
	}
	if err := tx.Enqueue(ctx, m.ID, now); err != nil {
		return nil, err
	}
	return m, nil
}

// markBounced marks our reply named by a bounce as failed, with the
// reason, and returns the event (nil when the bounce is not about ours).
func (d *Desk) markBounced(ctx context.Context, tx *store.Tx, in Inbound) (*store.Event, error) {
	m, err := tx.MessageByExternalID(ctx, in.Channel, in.Mail.BounceOf)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil || m.Kind != "agent" {
		return nil, err
	}
	// The remote server's reason stays in its words, inside our sentence.
	why := any(in.Mail.BounceReason)
	if in.Mail.BounceReason == "" {
		why = i18n.S("the customer's mail server returned it")
	}
	sentence := i18n.S("bounced: %s", why)
	reason := sentence.String()
	if err := tx.SetDeliveryFailure(ctx, m.ID, "failed", reason, sentence.Encode()); err != nil {
		return nil, err
	}
	return addEvent(ctx, tx, m.TicketID, System, store.DeliveryFailedData{MessageID: m.ID, Error: reason})
}

// resolveCustomer finds the customer who owns the sender's identifier, or
// creates one, and links the other identifiers nobody owns yet.
func (d *Desk) resolveCustomer(ctx context.Context, tx *store.Tx, in Inbound) (int64, error) {
	cid, err := tx.CustomerByIdentity(ctx, in.From)
	if errors.Is(err, store.ErrNotFound) {
		// Any other identifier given may already belong to someone.
		for _, id := range in.Identities {
			if cid, err = tx.CustomerByIdentity(ctx, id); err == nil {
				break
			} else if !errors.Is(err, store.ErrNotFound) {
				return 0, err
			}
		}
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return 0, err
	}
	if cid == 0 {
		c := &store.Customer{Name: cleanLine(in.Name), CreatedAt: store.Now()}
		if err := tx.InsertCustomer(ctx, c); err != nil {
			return 0, err
		}
		cid = c.ID
	} else if name := cleanLine(in.Name); name != "" {
		if err := tx.SetCustomerName(ctx, cid, name); err != nil {
			return 0, err
		}
	}
	if in.Language != "" && !in.Historic && i18n.Supported(in.Language) {
		if err := tx.SetCustomerLanguage(ctx, cid, in.Language); err != nil {
			return 0, err
		}
	}
	for _, id := range append([]store.Identity{in.From}, in.Identities...) {
		if _, err := tx.CustomerByIdentity(ctx, id); errors.Is(err, store.ErrNotFound) {
			if err := tx.AddIdentity(ctx, cid, id); err != nil {
				return 0, err
			}
		} else if err != nil {
			return 0, err
		}
	}
	return cid, nil
}

// findThread returns the ticket an inbound message continues, or nil,
// and whether the message proves it answers one of ours: it names a keyed
// Message-ID of our reply, or came to the ticket's keyed reply address,
// which only those who received the reply know. A ticket merged into
// another leads to that one.
func (d *Desk) findThread(ctx context.Context, tx *store.Tx, in Inbound, customerID int64) (*store.Ticket, bool, error) {
	t, answered, err := d.threadOf(ctx, tx, in, customerID)
	for hops := 0; t != nil && err == nil && t.Status == "closed" && hops < 5; hops++ {
		into, err := tx.TicketMergedInto(ctx, t.ID)
		if err != nil || into == 0 {
			return t, answered, err
		}
		if t, err = tx.Ticket(ctx, into); err != nil {
			return nil, false, err
		}
	}
	return t, answered, err
}

func (d *Desk) threadOf(ctx context.Context, tx *store.Tx, in Inbound, customerID int64) (*store.Ticket, bool, error) {
	if in.Social != nil && in.TicketID == 0 {
		// Read in the transaction: two messages of a new chat arriving
		// together make one ticket.
		id, err := tx.SocialTicket(ctx, in.Social.AccountID, in.Social.ChatID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return nil, false, err
		}
		in.TicketID = id
	}
	if in.TicketID != 0 {
		t, err := tx.Ticket(ctx, in.TicketID)
		if err != nil {
			return nil, false, err
		}
		// Only the email channel names a ticket from a keyed reply address.
		return t, in.Channel == "email", nil
	}
	for i := len(in.ThreadRefs) - 1; i >= 0; i-- { // the nearest reference first
		ours, proven := d.ticketOfExternalID(ctx, in.ThreadRefs[i])
		m, err := tx.MessageByExternalID(ctx, in.Channel, in.ThreadRefs[i])
		if errors.Is(err, store.ErrNotFound) {
			// Our own ids name their ticket, in case the reply was recorded
			// under another id or not at all.
			if ours != 0 {
				if t, err := tx.Ticket(ctx, ours); err == nil {
					return t, proven, nil
				}
			}
			continue
		}
		if err != nil {
			return nil, false, err
		}
		t, err := tx.Ticket(ctx, m.TicketID)
		return t, proven && m.Kind == "agent", err
	}
	if in.TicketHint != 0 {
		// A token anyone can type: honoured only for the ticket's own customer.
		t, err := tx.Ticket(ctx, in.TicketHint)
		if errors.Is(err, store.ErrNotFound) {
			return nil, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if t.CustomerID == customerID {
			return t, false, nil
		}
		if ok, err := tx.IsParticipant(ctx, t.ID, customerID); ok || err != nil {
			return t, false, err
		}
	}
	return d.replyBySubject(ctx, tx, in, customerID)
}

// subjectThreadWindow is how recent a ticket must be for a reply that
// names no message to join it by its subject.
const subjectThreadWindow = 7 * 24 * time.Hour

// replyBySubject finds the ticket an email answers when it carries no
// In-Reply-To or References at all (old Outlook Express, Foxmail, some
// phones): a "Re:" of the subject of a recent ticket of the same
// customer. Never by subject alone: the sender must own the ticket, and
// mail filed under a mailbox's unknown sender never joins this way.
func (d *Desk) replyBySubject(ctx context.Context, tx *store.Tx, in Inbound, customerID int64) (*store.Ticket, bool, error) {
	if in.Channel != "email" || len(in.ThreadRefs) > 0 || customerID == 0 || strings.HasSuffix(in.From.Value, ".invalid") {
		return nil, false, nil
	}
	subject, ok := ReplySubject(in.Subject)
	if !ok || subject == "" {
		return nil, false, nil
	}
	recent, err := tx.RecentTicketsOfCustomer(ctx, customerID, time.Now().Add(-subjectThreadWindow), 20)
	if err != nil {
		return nil, false, err
	}
	for _, t := range recent {
		if theirs, _ := ReplySubject(t.Subject); strings.EqualFold(theirs, subject) {
			t, err := tx.Ticket(ctx, t.ID) // read for writing
			return t, false, err
		}
	}
	return nil, false, nil
}

// replyPrefix is a reply marker in the languages a shop's customers
// write in: Re, Aw (German), Sv/Vs (Nordic), Odp (Polish), Ynt/Cvp
// (Turkish), Отв/Ответ (Russian), Res (Portuguese), with counters such as
// "Re[2]:" or "Re^3:"; and tags in brackets before them, such as a
// ticket token "[#123]" or a mailing list's "[shop-help]".
var replyPrefix = regexp.MustCompile(`(?i)^\s*(?:(?:re|aw|sv|vs|odp|ynt|cvp|cevap|res|отв|ответ)(?:\[\d+\]|\^\d+|\(\d+\))?\s*[:：]|\[[^\[\]]{1,40}\])\s*`)

// ReplySubject is a subject without its reply markers, and whether it had
// any (a reply's subject). Whitespace runs become one space.
func ReplySubject(subject string) (string, bool) {
	marked := false
	for {
		loc := replyPrefix.FindStringIndex(subject)
		if loc == nil {
			break
		}
		if !strings.HasPrefix(strings.TrimSpace(subject[loc[0]:loc[1]]), "[") {
			marked = true
		}
		subject = subject[loc[1]:]
	}
	subject = ticketTokens.ReplaceAllString(subject, " ")
	return strings.Join(strings.Fields(subject), " "), marked
}

var ticketTokens = regexp.MustCompile(`\[#\d+\]`)

// OutboundExternalID is the id (an email's Message-ID) a reply goes out
// with: the same on every retry, naming its ticket so that answers thread
// even when the id was never recorded, and keyed so that an answer naming
// it proves its writer received the reply (an id can not be guessed).
func (d *Desk) OutboundExternalID(ctx context.Context, ticketID, messageID int64, domain string) (string, error) {
	k, err := d.Sign(ctx, fmt.Sprintf("message-id:%d.%d", ticketID, messageID))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("onedesk.t%d.m%d.k%s@%s", ticketID, messageID, k[:12], domain), nil
}

// ticketOfExternalID reads the ticket out of an id made by
// OutboundExternalID (or by its keyless form of earlier versions), and
// whether its key is right.
func (d *Desk) ticketOfExternalID(ctx context.Context, id string) (int64, bool) {
	local, _, ok := strings.Cut(id, "@")
	rest, found := strings.CutPrefix(local, "onedesk.t")
	if !ok || !found {
		return 0, false
	}
	tpart, rest, _ := strings.Cut(rest, ".m")
	mpart, key, keyed := strings.Cut(rest, ".k")
	t, err1 := strconv.ParseInt(tpart, 10, 64)
	m, err2 := strconv.ParseInt(mpart, 10, 64)
	if err1 != nil || err2 != nil || t <= 0 {
		return 0, false
	}
	if !keyed {
		return t, false
	}
	want, err := d.Sign(ctx, fmt.Sprintf("message-id:%d.%d", t, m))
	return t, err == nil && hmac.Equal([]byte(key), []byte(want[:12]))
}

// AdvanceCursor moves a mailbox's cursor past a message it does not
// import (mail from one of our own addresses).
func (d *Desk) AdvanceCursor(ctx context.Context, mailboxID int64, c Cursor) error {
	return d.db.Write(ctx, func(tx *store.Tx) error {
		return tx.SetMailboxCursor(ctx, mailboxID, c.UIDValidity, c.UID)
	})
}

// ReplyInput is an agent's reply or internal note.
type ReplyInput struct {
	Body        string
	Internal    bool   // an internal note, never sent
	Status      string // status to set with the reply ("" = automatic)
	Attachments []store.Attachment
	// SeenMessageID, when set, is the newest message the agent had seen
	// while writing: a reply (never a note) is refused with a
	// *ReplyConflict when someone else replied after it, unless Confirm.
	SeenMessageID *int64
	Confirm       bool
	// Template, on a social ticket, sends the reply as that approved
	// template (SendTemplate): its "replied" event names it.
	Template *TemplateReply
	// NoSignature sends an emailed reply without the agent's and the
	// store's signature (a quick "thanks!").
	NoSignature bool
	// SendAt, when set, schedules the reply: it waits in the outbox until
	// then (shown "scheduled"), and may be edited or cancelled until then.
	SendAt *time.Time
}

// ReplyConflict refuses a reply written without seeing the replies sent
// on the ticket since: the agent reads them and confirms to send anyway.
type ReplyConflict struct {
	Replies []store.Message // the replies not seen, oldest first
	By      string          // who wrote the newest: an agent's name, "" when it was automatic
}

func (e *ReplyConflict) Error() string { return e.Sentence().String() }

// Sentence is the conflict said for the reader's language.
func (e *ReplyConflict) Sentence() i18n.Sentence {
	if e.By == "" {
		return i18n.S("an automatic reply was sent since you opened this ticket")
	}
	return i18n.S("%s replied since you opened this ticket", e.By)
}

// Reply adds an agent's reply (queued for sending) or internal note to a
// ticket in one transaction with its events. A reply on an unassigned
// ticket makes it the agent's (the assign_on_reply setting); a note
// notifies the agents it mentions.
func (d *Desk) Reply(ctx context.Context, actor Actor, ticketID int64, in ReplyInput) (*store.Message, error) {
	r := &reply{d: d, actor: actor, ticketID: ticketID, in: in}
	if err := r.check(ctx); err != nil {
		return nil, err
	}
	if err := d.db.StageFiles(ctx, in.Attachments...); err != nil {
		return nil, fmt.Errorf("reply to ticket %d: %w", ticketID, err)
	}
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		r.tx = tx
		for _, step := range []func(context.Context) error{r.load, r.compose, r.insert, r.assignOnReply, r.status, r.save} {
			if err := step(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reply to ticket %d: %w", ticketID, err)
	}
	r.afterCommit(ctx)
	return r.m, nil
}

// reply is one agent's reply or note on its way in: what the steps of
// Reply share.
type reply struct {
	d        *Desk
	actor    Actor
	ticketID int64
	in       ReplyInput
	settings Settings
	mentions []int64 // agents a note mentions
	author   string  // the name of the agent writing a note that mentions

	tx      *store.Tx
	t       *store.Ticket
	m       *store.Message
	now     time.Time
	evType  store.EventType // the event the message makes: noted or replied
	changes []Change
}

// check checks the reply and reads what it needs before the transaction:
// the settings, and for a note the agents it mentions.
func (r *reply) check(ctx context.Context) error {
	d, in, actor, ticketID := r.d, &r.in, r.actor, r.ticketID
	if err := checkText("body", in.Body, "", len(in.Attachments)); err != nil {
		return err
	}
	if in.Status != "" {
		if err := oneOf("status", in.Status, store.Statuses); err != nil {
			return err
		}
	}
	if in.SendAt != nil {
		if err := checkSendAt(*in.SendAt, in.Internal, in.Template != nil); err != nil {
			return err
		}
	}
	settings, err := d.Settings(ctx)
	if err != nil {
		d.log.Warn("settings", "err", err)
	}
	r.settings = settings
	if in.Internal && strings.Contains(in.Body, "@") {
		agents, err := d.db.Agents(ctx)
		if err != nil {
			return fmt.Errorf("note on ticket %d: %w", ticketID, err)
		}
		r.mentions = Mentions(in.Body, agents)
		for _, a := range agents {
			if actor.Kind == "agent" && a.ID == actor.AgentID {
				r.author = a.Name
			}
		}
	}
	return nil
}

// load reads the ticket and refuses a reply written without seeing the
// replies sent since.
func (r *reply) load(ctx context.Context) error {
	tx, in, actor := r.tx, &r.in, r.actor
	t, err := tx.Ticket(ctx, r.ticketID)
	if err != nil {
		return err
	}
	r.t = t
	if !in.Internal && in.SeenMessageID != nil && !in.Confirm {
		if err := unseenReplies(ctx, tx, t.ID, *in.SeenMessageID, actor); err != nil {
			return err
		}
	}
	return nil
}

// compose makes the message, and marks the ticket answered by a reply.
func (r *reply) compose(ctx context.Context) error {
	d, in, actor, t := r.d, &r.in, r.actor, r.t
	r.now = store.Now()
	now := r.now
	r.m = &store.Message{TicketID: t.ID, Channel: t.Channel, Body: in.Body, Attachments: in.Attachments, CreatedAt: now}
	m := r.m
	if actor.Kind == "agent" {
		m.AuthorID = &actor.AgentID
	}
	evType := store.EventNoted
	if in.Internal {
		m.Kind = "note"
	} else {
		if t.Status == "closed" {
			return inputErr("ticket", "ticket %d is closed: open a new ticket to write to the customer", t.ID)
		}
		if in.Template == nil {
			if err := d.windowClosed(t, now); err != nil {
				return err
			}
		}
		m.Kind, m.Delivery, evType = "agent", "queued", store.EventReplied
		if actor.Kind == "agent" && !in.NoSignature {
			// Kept on the message: a retry sends what the agent saw.
			sig, err := signatureOf(ctx, r.tx, actor.AgentID, t)
			if err != nil {
				return err
			}
			m.Signature = sig
		}
		if in.SendAt == nil { // a scheduled reply has not answered yet
			if t.FirstResponseAt == nil {
				t.FirstResponseAt = &now
			}
			t.LastAgentAt = &now
		}
		t.Snippet = snippet(in.Body)
	}
	t.UpdatedAt = now
	r.evType = evType
	return nil
}

// insert writes the message, queues a reply for sending, and adds the
// event.
func (r *reply) insert(ctx context.Context) error {
	tx, in, actor, t, m, now := r.tx, &r.in, r.actor, r.t, r.m, r.now
	evType := r.evType
	if err := tx.InsertMessage(ctx, m); err != nil {
		return err
	}
	scheduled := ""
	switch {
	case in.SendAt != nil:
		if err := tx.ScheduleReply(ctx, m.ID, *in.SendAt); err != nil {
			return err
		}
		at := in.SendAt.UTC()
		m.ScheduledAt, m.Delivery = &at, "scheduled" // as it reads back
		scheduled = in.SendAt.UTC().Format(time.RFC3339)
	case !in.Internal:
		if err := tx.Enqueue(ctx, m.ID, now); err != nil {
			return err
		}
	}
	var data store.EventData = store.NotedData{MessageID: m.ID, Mentions: r.mentions}
	if evType == store.EventReplied {
		data = store.RepliedData{MessageID: m.ID, Mentions: r.mentions, ScheduledAt: scheduled, Template: in.Template.ref()}
	}
	ev, err := addEvent(ctx, tx, t.ID, actor, data)
	if err != nil {
		return err
	}
	r.changes = append(r.changes, Change{Type: "message", TicketID: t.ID, Message: m}, Change{Type: "event", TicketID: t.ID, Event: ev})
	return nil
}

// assignOnReply makes an unassigned ticket the replying agent's, when
// the settings say so.
func (r *reply) assignOnReply(ctx context.Context) error {
	tx, in, actor, t := r.tx, &r.in, r.actor, r.t
	if !in.Internal && actor.Kind == "agent" && t.AssigneeID == nil && r.settings.AssignOnReply {
		ev, err := addEvent(ctx, tx, t.ID, actor, store.AssignedData{To: &actor.AgentID, OnReply: true})
		if err != nil {
			return err
		}
		t.AssigneeID = &actor.AgentID
		r.changes = append(r.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
	}
	return nil
}

// status sets the status the reply asks for; a first reply opens a new
// ticket.
func (r *reply) status(ctx context.Context) error {
	tx, in, actor, t := r.tx, &r.in, r.actor, r.t
	next := in.Status
	if next == "" && !in.Internal && t.Status == "new" {
		next = "open" // someone is on it
	}
	if next != "" && next != t.Status {
		if !slices.Contains(transitions[t.Status], next) {
			return statusTransitionErr(t.Status, next)
		}
		ev, err := setStatus(ctx, tx, t, next, actor)
		if err != nil {
			return err
		}
		r.changes = append(r.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
	}
	return nil
}

// save lets the hooks have their say and writes the ticket.
func (r *reply) save(ctx context.Context) error {
	more, err := r.d.saveTicket(ctx, r.tx, r.t, r.now)
	r.changes = append(r.changes, more...)
	return err
}

// afterCommit publishes the reply, wakes the outbox for it, and tells the
// agents a note mentions.
func (r *reply) afterCommit(ctx context.Context) {
	d, in, actor, ticketID := r.d, &r.in, r.actor, r.ticketID
	d.publish(ctx, ticketID, r.changes)
	if !in.Internal {
		d.Wake()
	}
	if notify := slices.DeleteFunc(r.mentions, func(id int64) bool { return actor.Kind == "agent" && id == actor.AgentID }); len(notify) > 0 {
		d.bus.Publish(Change{Type: "notification", TicketID: ticketID, Notification: &Notification{
			AgentIDs: notify, TicketID: ticketID, Kind: "mention", Text: snippet(in.Body), By: r.author}})
	}
}

// unseenReplies refuses a reply when someone else replied on the ticket
// after message seen.
func unseenReplies(ctx context.Context, tx *store.Tx, ticketID, seen int64, actor Actor) error {
	notBy := int64(0)
	if actor.Kind == "agent" {
		notBy = actor.AgentID
	}
	replies, err := tx.RepliesAfter(ctx, ticketID, seen, notBy)
	if err != nil || len(replies) == 0 {
		return err
	}
	conflict := &ReplyConflict{Replies: replies}
	if last := replies[len(replies)-1]; last.AuthorID != nil {
		a, err := tx.Agent(ctx, *last.AuthorID)
		if err != nil {
			return err
		}
		conflict.By = a.Name
	}
	return conflict
}

// Optional is a field of an update that may be absent, null or set.
type Optional[T any] struct {
	Set   bool
	Value *T // nil = set to null
}

// Update is a change an agent makes to a ticket; unset fields stay.
type Update struct {
	Status     string
	Priority   string
	AssigneeID Optional[int64]
	TeamID     Optional[int64]
	Tags       *[]string
	AddTags    []string // tags to add to the ticket's own (not with Tags)
	RemoveTags []string // tags to take off it (not with Tags)
	Note       string   // handoff note that goes with a transfer
	// NotTo is an agent round robin passes over: the one handing over.
	NotTo int64
}

// check refuses a bad update before any ticket is read, and cleans its tags.
func (u *Update) check() error {
	if u.Status != "" {
		if err := oneOf("status", u.Status, store.Statuses); err != nil {
			return err
		}
	}
	if u.Priority != "" {
		if err := oneOf("priority", u.Priority, store.Priorities); err != nil {
			return err
		}
	}
	if u.Tags != nil {
		tags, err := CleanTags(*u.Tags)
		if err != nil {
			return err
		}
		u.Tags = &tags
		if len(u.AddTags) > 0 || len(u.RemoveTags) > 0 {
			return inputErr("tags", "set the tags, or add and remove some, not both")
		}
	}
	for _, list := range []struct {
		field string
		tags  *[]string
	}{{"add_tags", &u.AddTags}, {"remove_tags", &u.RemoveTags}} {
		tags, err := CleanTags(*list.tags)
		if ie, ok := IsInput(err); ok {
			return inputErr(list.field, "%s", ie.Message)
		}
		*list.tags = tags
	}
	for _, tag := range u.AddTags {
		if slices.Contains(u.RemoveTags, tag) {
			return inputErr("remove_tags", "tag %q is both added and removed", tag)
		}
	}
	if len(u.Note) > MaxBody {
		return inputErr("note", "note is longer than %d bytes", MaxBody)
	}
	if strings.TrimSpace(u.Note) != "" && !u.TeamID.Set && !u.AssigneeID.Set {
		return inputErr("note", "a handoff note goes with a transfer: set team_id or assignee_id")
	}
	return nil
}

// UpdateTicket applies an update in one transaction: all of it or, when
// any part is refused, none of it. Each change becomes an event.
func (d *Desk) UpdateTicket(ctx context.Context, actor Actor, ticketID int64, u Update) (*store.Ticket, error) {
	if err := u.check(); err != nil {
		return nil, err
	}
	var up *ticketUpdate
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		t, err := tx.Ticket(ctx, ticketID)
		if err != nil {
			return err
		}
		up, err = d.applyUpdate(ctx, tx, actor, t, u)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("update ticket %d: %w", ticketID, err)
	}
	d.published(ctx, up)
	return up.t, nil
}

// ticketUpdate is what an update did to one ticket, to publish once committed.
type ticketUpdate struct {
	t       *store.Ticket
	changes []Change
	ran     *TicketTx // the hooks' part
}

// applyUpdate applies a checked update to t inside tx, with an event for
// each change and what the hooks do on "updated", and writes t. The
// steps: assignee → team → priority → tags → status, then (when anything
// changed) the hooks, the round-robin and the save.
func (d *Desk) applyUpdate(ctx context.Context, tx *store.Tx, actor Actor, t *store.Ticket, u Update) (*ticketUpdate, error) {
	r := &updateRun{tx: tx, actor: actor, up: &ticketUpdate{t: t}}
	for _, step := range []func(context.Context, Update) error{r.assignee, r.team, r.priority, r.tags, r.status} {
		if err := step(ctx, u); err != nil {
			return nil, err
		}
	}
	if len(r.up.changes) == 0 {
		return r.up, nil
	}
	if err := d.afterUpdate(ctx, tx, r.up, u); err != nil {
		return nil, err
	}
	return r.up, nil
}

// updateRun is one update being applied to one ticket (applyUpdate's steps).
type updateRun struct {
	tx    *store.Tx
	actor Actor
	up    *ticketUpdate
}

// event records one change on the ticket.
func (r *updateRun) event(ctx context.Context, data store.EventData) error {
	ev, err := addEvent(ctx, r.tx, r.up.t.ID, r.actor, data)
	if err == nil {
		r.up.changes = append(r.up.changes, Change{Type: "event", TicketID: r.up.t.ID, Event: ev})
	}
	return err
}

func (r *updateRun) assignee(ctx context.Context, u Update) error {
	t := r.up.t
	if !u.AssigneeID.Set || sameID(u.AssigneeID.Value, t.AssigneeID) {
		return nil
	}
	if u.AssigneeID.Value != nil {
		a, err := r.tx.Agent(ctx, *u.AssigneeID.Value)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !a.Active) {
			return inputErr("assignee_id", "agent %d does not exist or is deactivated", *u.AssigneeID.Value)
		}
		if err != nil {
			return err
		}
	}
	data := store.AssignedData{From: t.AssigneeID, To: u.AssigneeID.Value, Note: u.Note}
	t.AssigneeID = u.AssigneeID.Value
	return r.event(ctx, data)
}

func (r *updateRun) team(ctx context.Context, u Update) error {
	t := r.up.t
	if !u.TeamID.Set || sameID(u.TeamID.Value, t.TeamID) {
		return nil
	}
	if err := exists(ctx, r.tx, "teams", "team_id", u.TeamID.Value); err != nil {
		return err
	}
	data := store.TransferredData{From: t.TeamID, To: u.TeamID.Value, Note: u.Note}
	t.TeamID = u.TeamID.Value
	return r.event(ctx, data)
}

func (r *updateRun) priority(ctx context.Context, u Update) error {
	t := r.up.t
	if u.Priority == "" || u.Priority == t.Priority {
		return nil
	}
	if err := r.event(ctx, store.PriorityChangedData{From: t.Priority, To: u.Priority}); err != nil {
		return err
	}
	t.Priority = u.Priority
	return nil
}

// tags sets the tags, or adds and removes some.
func (r *updateRun) tags(ctx context.Context, u Update) error {
	t := r.up.t
	tags := u.Tags
	if len(u.AddTags) > 0 || len(u.RemoveTags) > 0 {
		next, err := CleanTags(slices.DeleteFunc(append(slices.Clone(t.Tags), u.AddTags...),
			func(tag string) bool { return slices.Contains(u.RemoveTags, tag) }))
		if err != nil {
			return err
		}
		tags = &next
	}
	if tags == nil || slices.Equal(*tags, t.Tags) {
		return nil
	}
	if err := r.event(ctx, store.TagsChangedData{From: t.Tags, To: *tags}); err != nil {
		return err
	}
	t.Tags = *tags
	return nil
}

// status moves the ticket along one of its allowed transitions.
func (r *updateRun) status(ctx context.Context, u Update) error {
	t := r.up.t
	if u.Status == "" || u.Status == t.Status {
		return nil
	}
	if !slices.Contains(transitions[t.Status], u.Status) {
		return statusTransitionErr(t.Status, u.Status)
	}
	ev, err := setStatus(ctx, r.tx, t, u.Status, r.actor)
	if err != nil {
		return err
	}
	r.up.changes = append(r.up.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
	return nil
}

// afterUpdate runs the hooks on "updated", gives a ticket sent to a
// round-robin team to its next agent, and writes the ticket.
func (d *Desk) afterUpdate(ctx context.Context, tx *store.Tx, up *ticketUpdate, u Update) error {
	t := up.t
	t.UpdatedAt = store.Now()
	up.ran = d.TicketTx(tx, t, nil, t.UpdatedAt)
	if err := up.ran.Changed(ctx, TriggerUpdated); err != nil {
		return err
	}
	up.changes = append(up.changes, up.ran.take()...)
	if u.TeamID.Set {
		ev, err := d.roundRobin(ctx, tx, t, u.NotTo)
		if err != nil {
			return err
		}
		if ev != nil {
			up.changes = append(up.changes, Change{Type: "event", TicketID: t.ID, Event: ev})
		}
	}
	err := up.ran.Save(ctx)
	up.changes = append(up.changes, up.ran.take()...)
	return err
}

// published sends what a committed update did.
func (d *Desk) published(ctx context.Context, up *ticketUpdate) {
	d.publish(ctx, up.t.ID, up.changes)
	if up.ran != nil {
		up.ran.finish() // its changes went with the rest
	}
}

// Assign gives a ticket to an agent (nil = unassign).
func (d *Desk) Assign(ctx context.Context, actor Actor, ticketID int64, agentID *int64) (*store.Ticket, error) {
	return d.UpdateTicket(ctx, actor, ticketID, Update{AssigneeID: Optional[int64]{Set: true, Value: agentID}})
}

// Transfer moves a ticket to a team with a handoff note for the next agent.
func (d *Desk) Transfer(ctx context.Context, actor Actor, ticketID int64, teamID *int64, note string) (*store.Ticket, error) {
	return d.UpdateTicket(ctx, actor, ticketID, Update{TeamID: Optional[int64]{Set: true, Value: teamID}, Note: note})
}

// SetStatus moves a ticket along new → open → pending → resolved → closed.
func (d *Desk) SetStatus(ctx context.Context, actor Actor, ticketID int64, status string) (*store.Ticket, error) {
	if status == "" {
		return nil, inputErr("status", "status is empty")
	}
	return d.UpdateTicket(ctx, actor, ticketID, Update{Status: status})
}

// setStatus changes t.Status in memory, keeps resolved_at, and records
// the event; the caller writes t.
func setStatus(ctx context.Context, tx *store.Tx, t *store.Ticket, to string, actor Actor) (*store.Event, error) {
	from := t.Status
	moveStatus(t, to, store.Now())
	return addEvent(ctx, tx, t.ID, actor, store.StatusChangedData{From: from, To: to})
}

// moveStatus sets t's status and keeps resolved_at with it.
func moveStatus(t *store.Ticket, to string, now time.Time) {
	t.Status = to
	switch to {
	case "resolved":
		t.ResolvedAt = &now
	case "open", "pending", "new":
		t.ResolvedAt = nil
	}
}

// addEvent records an event of data's type on a ticket.
func addEvent(ctx context.Context, tx *store.Tx, ticketID int64, actor Actor, data store.EventData) (*store.Event, error) {
	raw, err := json.Marshal(data)
	if err != nil {
		return nil, fmt.Errorf("%s event data: %w", data.EventType(), err)
	}
	if actor.Macro != "" && len(raw) > 2 && raw[0] == '{' {
		// The step of a macro: its name goes with the step's own data.
		name, _ := json.Marshal(actor.Macro)
		raw = append(append(append([]byte(`{"macro":`), name...), ','), raw[1:]...)
	}
	e := &store.Event{TicketID: ticketID, Type: data.EventType(), Actor: actor.String(), Data: raw, CreatedAt: store.Now()}
	return e, tx.InsertEvent(ctx, e)
}

// publish sends the committed changes, led by the ticket's new state.
func (d *Desk) publish(ctx context.Context, ticketID int64, changes []Change) {
	if len(changes) == 0 {
		return
	}
	t, err := d.db.Ticket(ctx, ticketID)
	if err != nil {
		d.log.Warn("publish: reread ticket", "ticket", ticketID, "err", err)
		d.bus.Publish(changes...)
		return
	}
	d.bus.Publish(append([]Change{{Type: "ticket", TicketID: ticketID, Ticket: t}}, changes...)...)
}

func sameID(a, b *int64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func checkText(field, text, html string, attachments int) error {
	if strings.TrimSpace(text) == "" && strings.TrimSpace(html) == "" && attachments == 0 {
		return inputErr(field, "%s is empty", field)
	}
	if len(text) > MaxBody || len(html) > 4*MaxBody {
		return inputErr(field, "%s is longer than %d KB", field, MaxBody>>10)
	}
	if !utf8.ValidString(text) {
		return inputErr(field, "%s is not valid UTF-8 text", field)
	}
	return nil
}

// CleanTags lower-cases, trims, dedupes and sorts tags. Commas are
// refused: lists of tags are written comma-separated (the inbox filter).
func CleanTags(in []string) ([]string, error) {
	out := []string{}
	for _, tag := range in {
		tag = strings.ToLower(strings.Join(strings.Fields(tag), "-"))
		if tag == "" {
			continue
		}
		if strings.Contains(tag, ",") {
			return nil, inputErr("tags", "tag %q has a comma; a tag is a word or words without commas", tag)
		}
		if utf8.RuneCountInString(tag) > MaxTag {
			return nil, inputErr("tags", "tag %q is longer than %d characters", tag, MaxTag)
		}
		if !slices.Contains(out, tag) {
			out = append(out, tag)
		}
	}
	if len(out) > MaxTags {
		return nil, inputErr("tags", "a ticket has at most %d tags", MaxTags)
	}
	slices.Sort(out)
	return out, nil
}

// cleanLine folds whitespace (newlines included) into single spaces.
func cleanLine(s string) string { return strings.Join(strings.Fields(s), " ") }

func firstLine(s string) string {
	s = cleanLine(s)
	if utf8.RuneCountInString(s) > 80 {
		s = string([]rune(s)[:80]) + "…"
	}
	if s == "" {
		s = "(no subject)"
	}
	return s
}

func snippet(s string) string {
	s = cleanLine(s)
	if utf8.RuneCountInString(s) > snippetLen {
		s = string([]rune(s)[:snippetLen]) + "…"
	}
	return s
}

// maxPartial bounds the sentence saying what of a message could not be read.
const maxPartial = 1000

// maxPartialNotes and maxPartialArg bound the notes kept as sentences: the
// parser's are few, but their arguments can quote the message.
const (
	maxPartialNotes = 20
	maxPartialArg   = 200
)

// cleanSentences bounds notes and makes their text arguments one clean
// line each, as the English note is.
func cleanSentences(notes i18n.Sentences) i18n.Sentences {
	if len(notes) > maxPartialNotes {
		notes = notes[:maxPartialNotes]
	}
	out := make(i18n.Sentences, 0, len(notes))
	for _, s := range notes {
		out = append(out, cleanSentence(s))
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

func cleanSentence(s i18n.Sentence) i18n.Sentence {
	args := make([]any, len(s.Args))
	for i, a := range s.Args {
		switch v := a.(type) {
		case string:
			args[i] = truncateRunes(cleanLine(v), maxPartialArg)
		case i18n.Sentence:
			args[i] = cleanSentence(v)
		case error:
			args[i] = cleanSentence(i18n.SentenceOf(v)) // translated when it is a sentence
		default:
			args[i] = a
		}
	}
	return i18n.Sentence{Format: s.Format, Args: args}
}

// truncateRunes cuts s to at most n characters.
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n-1]) + "…"
}
