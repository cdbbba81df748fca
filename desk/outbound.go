package desk

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"onedesk/i18n"
	"onedesk/store"
)

// Outbound is a reply to deliver with everything a channel needs to
// address it, read by the desk before the send: a sender works from it
// alone and never calls back into the desk.
type Outbound struct {
	Message    store.Message
	Ticket     store.Ticket
	Customer   store.Customer
	AuthorName string // the agent who wrote the reply
	// Others on the ticket (a colleague in Cc) who get the reply too.
	Participants []store.Customer
	// Claimed are addresses the customer typed that another customer
	// owns (a chat visitor's): a reply by email may go there when the
	// customer has none of their own.
	Claimed []store.Identity
	// Files are the reply's attachments with their bytes, in the order of
	// Message.Attachments.
	Files []store.Attachment
	// Template is the approved template the reply goes as (nil: plain
	// text), on a platform with a reply window.
	Template *TemplateReply
	// Opening: the reply is the ticket's first message (a conversation
	// an agent started), not an answer to anything.
	Opening bool
	// Choices are buttons the message offers (a satisfaction survey's),
	// shown the channel's way (choices.go); nil for a plain reply.
	Choices []Choice

	mail      *MailRoute
	mailErr   error
	social    *SocialRoute
	socialErr error
	sentAs    *string
	via       *string // the channel it left by when not its own (email)
	parts     *partLog
	byEmail   Sender
}

// partLog keeps which parts of a reply in several messages went out.
type partLog struct {
	db  *store.DB
	log *slog.Logger
}

// MailRoute is how a reply leaves by email: any channel's reply may (a
// chat visitor gone, a form, the API), so every Outbound carries it.
type MailRoute struct {
	// Mailbox is the one the ticket's mail came to or, for a ticket from
	// elsewhere, the store's (or the only) active mailbox.
	Mailbox *store.Mailbox
	// MessageID is derived from the reply, so every try sends the very
	// same message, which the recipient's server can recognise.
	MessageID string
	// ReplyTo is the ticket's plus-address when the mailbox takes them.
	ReplyTo string
	// To is the address the customer last wrote from on this ticket (or
	// an agent last wrote to), so a customer with several addresses is
	// answered where they are; "" for the customer's first address.
	To string
	// References and InReplyTo keep the reply in the customer's thread:
	// the mail ids before it (the first and the latest nine) and the
	// latest customer's.
	References []string
	InReplyTo  string
}

// SocialRoute is the chat a social ticket's replies go back to and the
// account they go through (nil when it was disconnected).
type SocialRoute struct {
	Thread  SocialThread
	Account *store.SocialAccount
}

// Mail is how the reply leaves by email, or why it cannot (no active
// mailbox: a permanent error naming where to add one).
func (o Outbound) Mail() (*MailRoute, error) {
	if o.mail == nil && o.mailErr == nil {
		return nil, Permanent(i18n.Errorf(NoMailboxReason))
	}
	return o.mail, o.mailErr
}

// ReplyAccount is the chat a social ticket's reply goes back to and the
// account it goes through, or a permanent error in plain words when there
// is none to send with: the ticket came another way, its account was
// disconnected or is switched off. where names the conversation ("a
// Telegram chat") and account the kind of account ("Telegram bot").
func (o Outbound) ReplyAccount(where, account string) (SocialThread, *store.SocialAccount, error) {
	switch {
	case o.socialErr != nil:
		return SocialThread{}, nil, o.socialErr
	case o.social == nil:
		return SocialThread{}, nil, Permanent(i18n.Errorf("this ticket did not come from %s, so there is no one to answer there", i18n.S(where)))
	case o.social.Account == nil:
		return o.social.Thread, nil, Permanent(i18n.Errorf("the %s of this conversation was disconnected: connect it again under Settings → Channels, then retry", i18n.S(account)))
	case !o.social.Account.Enabled:
		return o.social.Thread, nil, Permanent(i18n.Errorf("the %s %s is switched off under Settings → Channels", i18n.S(account), o.social.Account.Handle))
	}
	return o.social.Thread, o.social.Account, nil
}

// ByEmail is the sender that delivers the reply by email instead (a chat
// visitor gone, a form, the API), nil when the desk has no email channel.
func (o Outbound) ByEmail() Sender {
	if o.byEmail == nil {
		return nil
	}
	return SenderFunc(func(ctx context.Context, out Outbound) error {
		if o.via != nil {
			*o.via = "email" // the outbox counts the attempt as email's
		}
		return o.byEmail.Send(ctx, out)
	})
}

// SentAs tells the outbox the id the reply left with on its channel (an
// email's Message-ID, a platform's message id); it is recorded with the
// outcome. Only the outbox's Outbound values keep it.
func (o Outbound) SentAs(externalID string) {
	if o.sentAs != nil {
		*o.sentAs = externalID
	}
}

// SendParts sends a reply that leaves as n platform messages (its text
// in parts, then one message per file, numbered in that order) with send,
// resuming after the parts an earlier try got out: each part is written
// down the moment send returns its platform id, and a part written down
// is never sent again, so a reply that fails part-way (a 5xx, a timeout,
// throttling) or that an agent retries after it failed for good does not
// give the customer its first parts twice. A part that went out but could
// not be written down is logged and sent again on the next try, as before
// parts were kept. The first error stops it and is returned unchanged
// (Permanent stays permanent). first is the id of the first part (sent
// now or earlier), which the sender records as the reply's external id
// (SentAs). An Outbound not made by the desk keeps no parts.
func (o Outbound) SendParts(ctx context.Context, n int, send func(ctx context.Context, part int) (externalID string, err error)) (first string, err error) {
	done := map[int]string{}
	if o.parts != nil {
		if done, err = o.parts.db.ReplyParts(ctx, o.Message.ID); err != nil {
			return "", err
		}
	}
	ids := make([]string, n)
	for part := range n {
		if ext, ok := done[part]; ok {
			ids[part] = ext
			continue
		}
		ext, err := send(ctx, part)
		if err != nil {
			return "", err
		}
		ids[part] = ext
		if o.parts == nil {
			continue
		}
		// The part is out: its record must not be cut short by the send's
		// deadline or a shutdown.
		if err := o.parts.db.RecordReplyPart(context.WithoutCancel(ctx), o.Message.ID, part, ext); err != nil {
			o.parts.log.Warn("outbox: a part sent was not recorded; a retry sends it again", "message", o.Message.ID, "part", part, "err", err)
		}
	}
	for _, ext := range ids {
		if ext != "" {
			return ext, nil
		}
	}
	return "", nil
}

// Outbound is the reply message as its sender gets it.
func (d *Desk) Outbound(ctx context.Context, messageID int64) (*Outbound, error) {
	m, err := d.db.Message(ctx, messageID)
	if err != nil {
		return nil, err
	}
	t, err := d.db.Ticket(ctx, m.TicketID)
	if err != nil {
		return nil, err
	}
	c, err := d.db.Customer(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	others, err := d.db.Participants(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out := &Outbound{Message: *m, Ticket: *t, Customer: *c, Participants: others,
		sentAs: new(string), via: new(string), parts: &partLog{db: d.db, log: d.log}, byEmail: d.senderOf("email")}
	if m.AuthorID != nil {
		if a, err := d.db.Agent(ctx, *m.AuthorID); err == nil {
			out.AuthorName = a.Name
		}
	}
	first, err := d.db.FirstMessageID(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	out.Opening = first == m.ID
	if out.Claimed, err = d.db.Claimed(ctx, c.ID); err != nil {
		return nil, err
	}
	for _, a := range m.Attachments {
		file, _, err := d.db.AttachmentData(ctx, a.ID)
		if err != nil {
			return nil, fmt.Errorf("attachment %s: %w", a.Filename, err)
		}
		out.Files = append(out.Files, *file)
	}
	if p := d.channels.platform(t.Channel); p != nil && p.Window() > 0 {
		if out.Template, err = d.replyTemplate(ctx, t.ID, m.ID); err != nil {
			return nil, err
		}
	}
	if out.Choices, err = d.Choices(ctx, m); err != nil {
		return nil, err
	}
	// A route that cannot be read fails only a send that takes it.
	out.mail, out.mailErr = d.mailRoute(ctx, t, m)
	out.social, out.socialErr = d.socialRoute(ctx, t.ID)
	return out, nil
}

// mailRoute is how a reply on t leaves by email (nil, nil: no mailbox).
func (d *Desk) mailRoute(ctx context.Context, t *store.Ticket, m *store.Message) (*MailRoute, error) {
	messageID := m.ID
	mb, err := d.replyMailbox(ctx, t)
	if mb == nil || err != nil {
		return nil, err
	}
	r := &MailRoute{Mailbox: mb}
	_, domain, _ := strings.Cut(mb.Address, "@")
	if r.MessageID, err = d.OutboundExternalID(ctx, t.ID, messageID, domain); err != nil {
		return nil, err
	}
	if mb.PlusAddressing {
		if r.ReplyTo, err = d.ReplyAddress(ctx, mb.Address, t.ID); err != nil {
			return nil, err
		}
	}
	refs, err := d.db.ThreadRefs(ctx, t.ID, messageID, "email")
	if err != nil {
		return nil, err
	}
	for _, ref := range refs {
		r.References = append(r.References, ref.ExternalID)
		if ref.Kind == "customer" {
			r.InReplyTo = ref.ExternalID
			if strings.Contains(ref.From, "@") && !strings.HasSuffix(ref.From, "@onedesk.invalid") {
				r.To = ref.From
			}
		} else if ref.To != "" {
			r.To = ref.To
		}
	}
	if m.To != "" {
		r.To = m.To
	}
	if len(r.References) > 10 { // the first and the latest carry the thread
		r.References = append(r.References[:1], r.References[len(r.References)-9:]...)
	}
	return r, nil
}

// replyMailbox is the mailbox the ticket's mail came to or, for tickets
// from elsewhere, the store's (or the only) active mailbox; nil when none
// is active.
func (d *Desk) replyMailbox(ctx context.Context, t *store.Ticket) (*store.Mailbox, error) {
	id, err := d.db.TicketMailbox(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	if id != 0 {
		return d.db.Mailbox(ctx, id)
	}
	return d.storeMailbox(ctx, t.StoreID)
}

// storeMailbox is the store's active mailbox, else any active one; nil
// when none is active.
func (d *Desk) storeMailbox(ctx context.Context, storeID *int64) (*store.Mailbox, error) {
	list, err := d.db.Mailboxes(ctx)
	if err != nil {
		return nil, err
	}
	var pick *store.Mailbox
	for _, mb := range list {
		if !mb.Active {
			continue
		}
		if pick == nil || storeID != nil && mb.StoreID != nil && *mb.StoreID == *storeID {
			pick = mb
		}
	}
	return pick, nil
}

// socialRoute is the chat a ticket's replies go back to (nil, nil: the
// ticket did not come from one).
func (d *Desk) socialRoute(ctx context.Context, ticketID int64) (*SocialRoute, error) {
	acc, chat, err := d.db.SocialThread(ctx, ticketID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	r := &SocialRoute{Thread: SocialThread{AccountID: acc, ChatID: chat}}
	a, err := d.db.SocialAccount(ctx, acc)
	if errors.Is(err, store.ErrNotFound) {
		return r, nil
	}
	if err != nil {
		return nil, err
	}
	r.Account = a
	return r, nil
}
