package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"onedesk/i18n"
	"onedesk/store"
)

// SocialPlatform is a social channel (Telegram, WhatsApp, Meta) as the
// desk sees it: how it takes part in its accounts' settings (checked with
// the platform before they are saved, shown without secrets, let go of
// when removed) and in replies (a reply window, approved templates). Its
// TicketChannel is the platform's name.
type SocialPlatform interface {
	AccountSettings
	// Check checks the settings given for an account with the platform
	// (over old's, when an existing account is edited: empty settings
	// keep old's) and returns what to keep. A wrong setting is an
	// *InputError naming it.
	Check(ctx context.Context, old *store.SocialAccount, settings map[string]string) (*SocialCheck, error)
	// Disconnect undoes what the channel set up at the platform (a
	// webhook) for an account being removed.
	Disconnect(ctx context.Context, a *store.SocialAccount) error
	// Mode is how the platform's messages arrive: "polling" or "webhook".
	Mode() string
	// Settings shows an account's settings: those not secret (a page id,
	// the verify token to paste at the platform) and, for each secret,
	// whether it is set ("app_secret_set"); nil shows none.
	Settings(a *store.SocialAccount) map[string]any
	// Window is how long after the customer last wrote the platform
	// carries free-form replies (WhatsApp's 24-hour customer-service
	// window), templates being carried at any time; 0: always.
	Window() time.Duration
	// Templates are the approved templates an account may send when its
	// window is closed (nil for a platform without one).
	Templates(a *store.SocialAccount) []Template
}

// SocialSettings is what an account's settings show (nil when its
// platform shows none).
func (d *Desk) SocialSettings(a *store.SocialAccount) map[string]any {
	if p := d.channels.platform(a.Platform); p != nil {
		return p.Settings(a)
	}
	return nil
}

// SocialCheck is a checked account: its config (secrets included) and
// who it is on the platform.
type SocialCheck struct {
	Config     json.RawMessage
	Name       string // the platform's display name
	Handle     string // how customers find it: @shop_bot
	ExternalID string // the platform's id of the account
	KeyField   string // the setting that names the account (for "connected already")
}

// SocialAccountInput connects or edits a social account. On edit, nil
// fields and empty settings keep what the account has.
type SocialAccountInput struct {
	Platform string
	StoreID  Optional[int64]
	Enabled  *bool
	Settings map[string]string // the platform's settings with secrets, write-only
}

// SocialThread is the account and chat a social message came through;
// its ticket's replies go back there.
type SocialThread struct {
	AccountID int64
	ChatID    string
}

// channelHub holds what the channels registered: every channel's account
// settings and the social platforms, by ticket channel.
type channelHub struct {
	mu        sync.Mutex
	accounts  map[string]AccountSettings
	platforms map[string]SocialPlatform
}

func (h *channelHub) platform(name string) SocialPlatform {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.platforms[name]
}

// RegisterSocial installs the channel of a social platform: its account
// settings (RegisterAccounts) and the rest of its part.
func (d *Desk) RegisterSocial(p SocialPlatform) {
	d.RegisterAccounts(p)
	d.channels.mu.Lock()
	defer d.channels.mu.Unlock()
	if d.channels.platforms == nil {
		d.channels.platforms = map[string]SocialPlatform{}
	}
	d.channels.platforms[p.TicketChannel()] = p
}

// SocialModes tells, per platform with a channel, how its messages arrive.
func (d *Desk) SocialModes() map[string]string {
	d.channels.mu.Lock()
	defer d.channels.mu.Unlock()
	modes := map[string]string{}
	for name, p := range d.channels.platforms {
		modes[name] = p.Mode()
	}
	return modes
}

// SaveSocialAccount connects (id 0) or edits a social account. New
// settings are checked with the platform first (a Telegram token with
// getMe), outside any transaction.
func (d *Desk) SaveSocialAccount(ctx context.Context, id int64, in SocialAccountInput) (*store.SocialAccount, error) {
	old, p, err := d.socialPlatformOf(ctx, id, &in)
	if err != nil {
		return nil, err
	}
	var checked *SocialCheck
	changed := old == nil || slices.ContainsFunc(mapValues(in.Settings), func(v string) bool { return v != "" })
	if changed {
		if checked, err = p.Check(ctx, old, in.Settings); err != nil {
			return nil, err
		}
	}
	var a *store.SocialAccount
	err = d.db.Write(ctx, func(tx *store.Tx) error {
		now := store.Now()
		if old == nil {
			a = &store.SocialAccount{Platform: in.Platform, Enabled: true, CreatedAt: now}
		} else {
			var err error
			if a, err = tx.SocialAccount(ctx, id); err != nil {
				return err
			}
		}
		if checked != nil {
			a.Config, a.Name, a.Handle, a.ExternalID = checked.Config, checked.Name, checked.Handle, checked.ExternalID
		}
		if in.StoreID.Set {
			a.StoreID = in.StoreID.Value
		}
		if in.Enabled != nil {
			a.Enabled = *in.Enabled
		}
		if err := exists(ctx, tx, "stores", "store_id", a.StoreID); err != nil {
			return err
		}
		a.UpdatedAt = now
		return tx.SaveSocialAccount(ctx, a)
	})
	if errors.Is(err, store.ErrConflict) {
		field := "platform"
		if checked != nil && checked.KeyField != "" {
			field = checked.KeyField
		}
		return nil, inputErr(field, "%s is connected already", a.Handle)
	}
	if err != nil {
		return nil, fmt.Errorf("save %s account: %w", in.Platform, err)
	}
	d.notifyAccounts(a.Platform)
	return d.db.SocialAccount(ctx, a.ID)
}

// socialPlatformOf reads the account being edited (none when id is 0)
// and the platform the input is for, which an edit keeps.
func (d *Desk) socialPlatformOf(ctx context.Context, id int64, in *SocialAccountInput) (*store.SocialAccount, SocialPlatform, error) {
	var old *store.SocialAccount
	if id != 0 {
		var err error
		if old, err = d.db.SocialAccount(ctx, id); err != nil {
			return nil, nil, err
		}
		if in.Platform != "" && in.Platform != old.Platform {
			return nil, nil, inputErr("platform", "an account stays on its platform: remove it and connect a %s account instead", in.Platform)
		}
		in.Platform = old.Platform
	} else if err := oneOf("platform", in.Platform, store.Platforms); err != nil {
		return nil, nil, err
	}
	p := d.channels.platform(in.Platform)
	if p == nil {
		return nil, nil, inputErr("platform", "%s accounts cannot be connected in this version of onedesk", in.Platform)
	}
	return old, p, nil
}

func mapValues(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

// DeleteSocialAccount disconnects an account: its channel undoes what it
// set up at the platform (a failure there is logged, not fatal: the
// account goes anyway) and deliveries it had waiting are dropped. Its
// tickets stay; replies to them fail with the reason.
func (d *Desk) DeleteSocialAccount(ctx context.Context, id int64) error {
	a, err := d.db.SocialAccount(ctx, id)
	if err != nil {
		return err
	}
	if p := d.channels.platform(a.Platform); p != nil {
		if err := p.Disconnect(ctx, a); err != nil {
			d.log.Warn("social: disconnect at the platform", "account", id, "platform", a.Platform, "err", err)
		}
	}
	if err := d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteSocialAccount(ctx, id) }); err != nil {
		return err
	}
	d.notifyAccounts(a.Platform)
	return nil
}

// SetSocialState records how an account is doing (its channel's).
func (d *Desk) SetSocialState(ctx context.Context, id int64, s store.SocialState) error {
	return d.db.SetSocialState(ctx, id, s)
}

// Received tells whether a channel has delivered a message already (so
// that a repeat is not downloaded again).
func (d *Desk) Received(ctx context.Context, channel, externalID string) (bool, error) {
	_, err := d.db.MessageByExternalID(ctx, channel, externalID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// NoteEdit records that a customer edited a message they had sent: a
// message_edited event on its ticket with the new text, once per edit
// (key) however often the platform delivers it. ErrNotFound: the message
// was never received.
func (d *Desk) NoteEdit(ctx context.Context, channel, externalID, key, text string) error {
	if len(text) > MaxBody || !utf8.ValidString(text) {
		return inputErr("body", "the edited text is longer than %d KB or not UTF-8", MaxBody>>10)
	}
	err := d.noteOnMessage(ctx, channel, externalID, key, func(messageID int64) store.EventData {
		return store.MessageEditedData{Key: key, MessageID: messageID, Text: text}
	})
	if err != nil {
		return fmt.Errorf("note an edit of %s message %s: %w", channel, externalID, err)
	}
	return nil
}

// NoteStory records that a customer's message was about a story: a reply
// to one of the account's stories (kind "reply") or the customer's story
// mentioning the account ("mention"), with the story's link; a story
// event on the message's ticket, shown with the message, once.
func (d *Desk) NoteStory(ctx context.Context, channel, externalID, kind, url string) error {
	if len(url) > 4096 {
		url = ""
	}
	err := d.noteOnMessage(ctx, channel, externalID, kind, func(messageID int64) store.EventData {
		return store.StoryData{Key: kind, Kind: kind, MessageID: messageID, URL: url}
	})
	if err != nil {
		return fmt.Errorf("note the story of %s message %s: %w", channel, externalID, err)
	}
	return nil
}

// noteOnMessage adds a customer's event about a message they sent to its
// ticket (data makes its payload, with the message's id and key), unless
// one with that key is there already.
func (d *Desk) noteOnMessage(ctx context.Context, channel, externalID, key string, data func(messageID int64) store.EventData) error {
	var changes []Change
	var ticketID int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		changes = nil
		m, err := tx.MessageByExternalID(ctx, channel, externalID)
		if err != nil {
			return err
		}
		ticketID = m.TicketID
		payload := data(m.ID)
		if dup, err := tx.EventWithKey(ctx, m.TicketID, payload.EventType(), key); err != nil || dup {
			return err
		}
		ev, err := addEvent(ctx, tx, m.TicketID, Customer, payload)
		if err != nil {
			return err
		}
		changes = append(changes, Change{Type: "event", TicketID: m.TicketID, Event: ev})
		return nil
	})
	if err != nil {
		return err
	}
	d.publish(ctx, ticketID, changes)
	return nil
}

// CustomerName is the name of whoever owns an identifier, and whether
// anyone does (a channel asks the platform for a name only for someone
// new, or someone still without one).
func (d *Desk) CustomerName(ctx context.Context, id store.Identity) (string, bool, error) {
	cid, err := d.db.CustomerByIdentity(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	c, err := d.db.Customer(ctx, cid)
	if err != nil {
		return "", false, err
	}
	return c.Name, true, nil
}

// QueueSocialUpdate commits a webhook delivery before the platform is
// answered; the channel works it off after (DueSocialUpdates), so the
// answer never waits for file downloads or a busy desk.
func (d *Desk) QueueSocialUpdate(ctx context.Context, accountID int64, key string, payload []byte) error {
	return d.db.QueueSocialUpdate(ctx, accountID, key, payload)
}

// QueueSocialUpdates commits the parts of one webhook delivery (a Meta
// delivery carries events of several chats and pages) in one write.
func (d *Desk) QueueSocialUpdates(ctx context.Context, list []store.SocialUpdate) error {
	return d.db.QueueSocialUpdates(ctx, list)
}

// FinishSocialUpdates records the outcomes of queued deliveries (outcomes
// in list's order): those done (nil) are dropped in one write; a failed
// one is tried again later with the outbox's backoff, and after
// MaxAttempts dropped with a log line.
func (d *Desk) FinishSocialUpdates(ctx context.Context, list []store.SocialUpdate, outcomes []error) error {
	var done []int64
	for i, u := range list {
		failure := outcomes[i]
		attempts := u.Attempts + 1
		switch {
		case failure == nil:
			done = append(done, u.ID)
		case attempts >= d.MaxAttempts:
			d.log.Error("social: a webhook delivery failed for good and is dropped", "account", u.AccountID, "key", u.Key, "err", failure)
			done = append(done, u.ID)
		default:
			next := store.Now().Add(backoff(d.RetryBase, d.RetryMax, attempts))
			if err := d.db.RetrySocialUpdate(ctx, u.ID, attempts, next, failure.Error()); err != nil {
				return err
			}
		}
	}
	return d.db.FinishSocialUpdates(ctx, done)
}

// Receipt is what a platform said about agent replies it carried: that
// they reached the customer (delivered) or that the customer read them.
type Receipt struct {
	Channel string
	// ExternalIDs names the replies (a WhatsApp status, Messenger's
	// delivery mids, the Instagram message read).
	ExternalIDs []string
	// Thread and UpTo, when Thread is set: every reply to that chat
	// written up to UpTo (Messenger's watermark), or with UpTo zero up to
	// the newest reply ExternalIDs names (an Instagram read).
	Thread *SocialThread
	UpTo   time.Time
	Read   bool
	At     time.Time // when it was read (Read only)
}

// NoteReceipt moves the replies a receipt names to delivered, and with
// Read records when they were read (once). Each reply changed goes on the
// bus, so the app shows it at once. A receipt about nothing onedesk sent,
// or repeated, changes nothing.
func (d *Desk) NoteReceipt(ctx context.Context, r Receipt) error {
	var chat string
	var account int64
	if r.Thread != nil {
		account, chat = r.Thread.AccountID, r.Thread.ChatID
	}
	var read *time.Time
	if r.Read {
		at := r.At
		if at.IsZero() {
			at = store.Now()
		}
		read = &at
	}
	var ids []int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		var err error
		if ids, err = tx.ReceiptReplies(ctx, r.Channel, r.ExternalIDs, account, chat, r.UpTo, r.Read); err != nil {
			return err
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		for _, id := range ids {
			if err := tx.SetReceipt(ctx, id, read); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil && len(ids) == 0 {
		err = d.receiptOvertook(ctx, r)
	}
	if err != nil {
		return fmt.Errorf("note a %s receipt: %w", r.Channel, err)
	}
	var changes []Change
	for _, id := range ids {
		if m, err := d.db.Message(ctx, id); err == nil {
			changes = append(changes, Change{Type: "message", TicketID: m.TicketID, Message: m})
		}
	}
	d.bus.Publish(changes...)
	return nil
}

// receiptWait is how long a receipt naming a reply onedesk has not
// recorded as sent yet is kept for another try.
const receiptWait = 2 * time.Minute

// errReplyNotRecorded: a receipt overtook its reply.
var errReplyNotRecorded = errors.New("the reply it names is not recorded as sent yet; trying again")

// receiptOvertook is an error (so that the queued delivery is tried again
// with the queue's backoff) when a recent receipt names replies none of
// which is recorded as sent yet: the platform can report a reply (or the
// first parts of a reply in several) delivered before the outbox has
// written down that it was sent. A receipt for a reply onedesk never sent
// (written in the platform's own app) or an old one is let go.
func (d *Desk) receiptOvertook(ctx context.Context, r Receipt) error {
	if len(r.ExternalIDs) == 0 || r.At.IsZero() || store.Now().Sub(r.At) > receiptWait {
		return nil
	}
	for _, ext := range r.ExternalIDs {
		m, err := d.db.MessageByExternalID(ctx, r.Channel, ext)
		if errors.Is(err, store.ErrNotFound) {
			m, err = d.db.ReplyByPart(ctx, r.Channel, ext)
		}
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return err
		case m.Delivery != "queued":
			return nil // known, and past sending: the receipt changed what it could
		}
	}
	return errReplyNotRecorded
}

// Template is a message template a platform approved (WhatsApp's), the
// only kind of message it carries outside the reply window. Body is its
// text with {{1}}, {{2}}... where Params values go.
type Template struct {
	Name     string `json:"name"`
	Language string `json:"language"`
	Body     string `json:"body"`
	Params   int    `json:"params"`
}

// TemplateReply is a template sent as a reply: the platform gets the
// name, language and values; the ticket keeps the filled-in text.
type TemplateReply struct {
	Name     string   `json:"name"`
	Language string   `json:"language"`
	Params   []string `json:"params"`
}

// ReplyWindow tells whether a social ticket can be answered freely now:
// until when (the customer's last message + the platform's window), and
// the templates its account may send when it is closed.
type ReplyWindow struct {
	Open      bool       `json:"open"`
	Until     *time.Time `json:"until"` // nil: the customer never wrote
	Templates []Template `json:"templates"`
}

// ReplyWindow is the reply window of a ticket, nil when its channel has
// none.
func (d *Desk) ReplyWindow(ctx context.Context, t *store.Ticket) (*ReplyWindow, error) {
	p := d.channels.platform(t.Channel)
	if p == nil || p.Window() <= 0 {
		return nil, nil
	}
	w := &ReplyWindow{Templates: []Template{}}
	if acc, _, err := d.db.SocialThread(ctx, t.ID); err == nil {
		if a, err := d.db.SocialAccount(ctx, acc); err == nil {
			w.Templates = p.Templates(a)
		}
	} else if !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if t.LastCustomerAt != nil {
		until := t.LastCustomerAt.Add(p.Window())
		w.Until, w.Open = &until, store.Now().Before(until)
	}
	return w, nil
}

// windowClosed refuses a plain reply on a ticket whose platform carries
// only templates now (its reply window closed), so the agent learns it
// while the text is still in the reply box, not from a failed delivery.
func (d *Desk) windowClosed(t *store.Ticket, now time.Time) error {
	p := d.channels.platform(t.Channel)
	if p == nil || p.Window() <= 0 || t.LastCustomerAt == nil || now.Before(t.LastCustomerAt.Add(p.Window())) {
		return nil
	}
	return inputErr("body", "the customer last wrote more than %d hours ago, so only an approved template can be sent until they write again: pick one above the reply box",
		int(p.Window()/time.Hour))
}

// SendTemplate replies on a social ticket with one of its account's
// templates (allowed when the reply window is closed): the reply's text
// is the template's with the values filled in, and its "replied" event
// names the template, which is what the channel sends.
func (d *Desk) SendTemplate(ctx context.Context, actor Actor, ticketID int64, tr TemplateReply) (*store.Message, error) {
	t, err := d.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	w, err := d.ReplyWindow(ctx, t)
	if err != nil {
		return nil, err
	}
	if w == nil {
		return nil, inputErr("template", "%s tickets are answered with plain replies, not templates", t.Channel)
	}
	body, err := fillTemplate(w.Templates, tr)
	if err != nil {
		return nil, err
	}
	return d.Reply(ctx, actor, ticketID, ReplyInput{Body: body, Template: &tr})
}

// replyTemplate is the template a reply is to be sent as (nil: a plain
// reply), as its "replied" event names it.
func (d *Desk) replyTemplate(ctx context.Context, ticketID, messageID int64) (*TemplateReply, error) {
	events, err := d.db.Events(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	for _, ev := range events {
		if ev.Type != store.EventReplied {
			continue
		}
		var data store.RepliedData
		if json.Unmarshal(ev.Data, &data) == nil && data.MessageID == messageID {
			return templateReply(data.Template), nil
		}
	}
	return nil, nil
}

// NoteFailedDelivery marks a reply the platform could not deliver after
// all (a WhatsApp status "failed", naming the reply or any of its parts)
// as failed with the reason, with a delivery_failed event, and publishes
// both. The part named is forgotten as sent, so that retrying the reply
// sends it again. A reply not found, or failed already, changes nothing
// more.
func (d *Desk) NoteFailedDelivery(ctx context.Context, channel, externalID, reason string) error {
	return d.NoteFailedDeliveryOf(ctx, channel, externalID, i18n.Sentence{Format: reason})
}

// NoteFailedDeliveryOf is NoteFailedDelivery with the reason as a sentence,
// kept for the reader's language.
func (d *Desk) NoteFailedDeliveryOf(ctx context.Context, channel, externalID string, why i18n.Sentence) error {
	reason := why.String()
	var changes []Change
	var failed int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		changes, failed = nil, 0
		m, err := tx.MessageByExternalID(ctx, channel, externalID)
		if errors.Is(err, store.ErrNotFound) {
			m, err = tx.ReplyByPart(ctx, channel, externalID)
		}
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil || m.Kind != "agent" {
			return err
		}
		if err := tx.ForgetReplyPart(ctx, m.ID, externalID); err != nil {
			return err
		}
		if m.Delivery == "failed" {
			return nil
		}
		if err := tx.SetDeliveryFailure(ctx, m.ID, "failed", reason, why.Encode()); err != nil {
			return err
		}
		ev, err := addEvent(ctx, tx, m.TicketID, System, store.DeliveryFailedData{MessageID: m.ID, Error: reason})
		if err != nil {
			return err
		}
		failed = m.ID
		changes = append(changes, Change{Type: "event", TicketID: m.TicketID, Event: ev})
		return nil
	})
	if err != nil {
		return fmt.Errorf("note a failed %s delivery: %w", channel, err)
	}
	if m, err := d.db.Message(ctx, failed); failed != 0 && err == nil {
		changes = append(changes, Change{Type: "message", TicketID: m.TicketID, Message: m})
	}
	d.bus.Publish(changes...)
	return nil
}
