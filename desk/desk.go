// Package desk is the helpdesk itself, whatever the channel: it turns
// inbound messages into tickets, applies agents' actions to them, records
// each step as an event and sends replies through the outbox. It speaks
// neither HTTP nor any channel's protocol.
//
// The rule for data: every write goes through a desk method, with its
// checks and events; plain reads go straight to the store (DB), in ui and
// in the channels alike, never through a desk method that only forwards.
package desk

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"onedesk/hours"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/netguard"
	"onedesk/orders"
	"onedesk/store"
)

// Desk is the helpdesk core over one database.
type Desk struct {
	db  *store.DB
	bus *Bus
	log *slog.Logger

	mu         sync.RWMutex
	senders    map[string]Sender
	wake       chan struct{}
	sendSlots  map[string]chan struct{} // channels limited to a few sends at once (LimitSends)
	widgetSeen atomic.Bool              // the chat snippet was seen on a shop's site (first-run checklist)

	accountChanges accountChanges // a channel's accounts were saved (accounts.go)

	// retryNow counts the times what held replies back was mended (a
	// mailbox signed in again): a try in flight then is retried at once.
	retryNow atomic.Uint64

	settings *Settings // cached; nil until read
	// settingsRead is when settings was read: on several nodes a copy
	// older than settingsFresh is read again, in case another node's
	// word of a change was lost.
	settingsRead time.Time
	key          []byte // the installation secret, once read

	hooks []TxHook // act inside the write transaction of a ticket change (txhook.go)
	// choiceSources make the buttons of automatic messages (choices.go)
	choiceSources []choiceSource
	storeHours    hours.Cache // business hours by store

	channels channelHub // what the channels registered: account settings, social platforms (social.go)

	stats *deskStats // counters for /metrics (metrics.go)

	orders *orders.Cache

	systemMailer SystemMailer   // sends the desk's own mail (passwordreset.go)
	codeLimit    *limit.Limiter // two-factor codes tried per agent (signin.go)
	// OrderClient is the HTTP client of order lookups (tests point it at
	// a local server); nil is a client with a 10 s timeout.
	OrderClient *http.Client

	// Online tells whether an agent has the app open and is not away, for
	// round-robin assignment; nil counts every active agent as online.
	Online func(agentID int64) bool

	// RetryBase is the first retry delay of a failed send; it doubles on
	// each attempt up to RetryMax. MaxAttempts bounds the tries.
	RetryBase   time.Duration
	RetryMax    time.Duration
	MaxAttempts int
}

// New returns a desk over db. The api channel's sender is built in.
func New(db *store.DB, log *slog.Logger) *Desk {
	d := &Desk{
		db: db, bus: NewBus(), log: log,
		senders:   map[string]Sender{},
		wake:      make(chan struct{}, 1),
		sendSlots: map[string]chan struct{}{},

		accountChanges: accountChanges{changed: map[string]chan struct{}{}},
		orders:         orders.NewCache(2 * time.Minute),
		stats:          newDeskStats(),
		codeLimit:      newCodeLimiter(),
		RetryBase:      30 * time.Second,
		// Capped at ten minutes so that mail queued during an outage of an
		// hour leaves soon after; about two days of tries before giving up.
		RetryMax:    10 * time.Minute,
		MaxAttempts: 300,
	}
	d.SetSender("api", SenderFunc(d.sendAPIReply))
	d.SetSender("phone", SenderFunc(d.sendAPIReply)) // a call's ticket is answered by email too
	return d
}

// sendAPIReply delivers a reply on a ticket made through the API: by email
// when the customer has an address (from the store's mailbox, or any), as
// an agent would expect. A reply that reaches no one fails with what to
// do, never shows as sent.
func (d *Desk) sendAPIReply(ctx context.Context, out Outbound) error {
	if !slices.ContainsFunc(out.Customer.Identities, func(id store.Identity) bool { return id.Kind == "email" }) {
		return Permanent(i18n.Errorf("this ticket came through the API and its customer has no email address, so the reply reached no one: add their address on the customer's page (Customers), then retry"))
	}
	email := out.ByEmail()
	if email == nil {
		return Permanent(i18n.Errorf(NoMailboxReason))
	}
	return email.Send(ctx, out)
}

// NoMailboxReason is why a reply that must go by email fails on a desk
// with no mailbox, naming the screen where one is added.
const NoMailboxReason = "no mailbox can send this reply by email: add your support address under Settings → Mailboxes, then retry"

// DB is the database the desk works on, for plain reads (ui, channels and
// the parts beside desk read from it; they write through desk's methods).
func (d *Desk) DB() *store.DB { return d.db }

// NewLimiter is a rate limiter of perSecond in bursts of burst per key
// (limit.New), counted across every node when several share the database:
// name it the same on each node (store.TakeTokens is the shared bucket).
func (d *Desk) NewLimiter(name string, perSecond float64, burst int) *limit.Limiter {
	if !d.db.Multinode() {
		return limit.New(perSecond, burst)
	}
	return limit.NewShared(d.db, name, perSecond, burst)
}

// Bus is where the desk publishes what changed, after each commit.
func (d *Desk) Bus() *Bus { return d.bus }

// InputError is a request the desk refuses: Field names the part at fault.
type InputError struct {
	Field   string
	Message string // in English, for logs
	// Reason is a short key for what is wrong, where a channel says it
	// in the customer's own words (ReasonEmailDomain); usually empty.
	Reason string
	// Sentence is Message kept as format and arguments, so that the HTTP
	// layer can say it in the reader's language (zero: Message as it is).
	Sentence i18n.Sentence
}

func (e *InputError) Error() string { return e.Message }

// In is the error's sentence in lang.
func (e *InputError) In(lang string) string {
	if e.Sentence.IsZero() {
		return i18n.Server().Sprintf(lang, e.Message)
	}
	return e.Sentence.In(lang)
}

// InputErrorf refuses a request's field with a sentence: the English
// printf format is the catalog key (assets/server/<lang>.json), so every
// literal format needs a translation there; TestServerSentencesTranslated
// names the missing ones.
func InputErrorf(field, format string, args ...any) error {
	s := i18n.S(format, args...)
	return &InputError{Field: field, Message: s.String(), Sentence: s}
}

func inputErr(field, format string, args ...any) error {
	return InputErrorf(field, format, args...)
}

// CheckOutboundHost refuses, as bad input in field, a host the desk will
// connect to that is (or resolves to) an internal address while private
// networks are not allowed: said when saved rather than at first use.
func CheckOutboundHost(ctx context.Context, field, host string) error {
	if errors.Is(netguard.CheckHost(ctx, host), netguard.ErrForbidden) {
		return inputErr(field, "%s is on a private or local network, where onedesk does not connect "+
			"(to allow it, start onedesk with ONEDESK_ALLOW_PRIVATE_NETWORKS=1)", host)
	}
	return nil
}

// ErrNotFound is returned when the ticket, message or customer acted on
// does not exist.
var ErrNotFound = store.ErrNotFound

// Actor is who does something: an agent, the customer, the system or a rule.
type Actor struct {
	AgentID int64
	Kind    string // "agent", "customer", "system", "rule"
	RuleID  int64
	// Macro names the macro an agent applied: the events its steps make
	// carry it (as "macro" in their data).
	Macro string
}

// Predefined actors.
var (
	Customer = Actor{Kind: "customer"}
	System   = Actor{Kind: "system"}
)

// AgentActor is the actor for an agent.
func AgentActor(id int64) Actor { return Actor{Kind: "agent", AgentID: id} }

// String is how events record the actor.
func (a Actor) String() string {
	switch a.Kind {
	case "agent":
		return strconv.FormatInt(a.AgentID, 10)
	case "rule":
		return "rule:" + strconv.FormatInt(a.RuleID, 10)
	case "":
		return "system"
	}
	return a.Kind
}

func oneOf(field, v string, allowed []string) error {
	if !slices.Contains(allowed, v) {
		return inputErr(field, "%s must be one of %v, not %q", field, allowed, v)
	}
	return nil
}

// exists checks that an id given by the caller points at a row.
func exists(ctx context.Context, tx *store.Tx, table, field string, id *int64) error {
	if id == nil {
		return nil
	}
	ok, err := tx.Exists(ctx, table, *id)
	if err != nil {
		return err
	}
	if !ok {
		return inputErr(field, "%s %d does not exist", field, *id)
	}
	return nil
}

// IsInput reports whether err is the caller's mistake.
func IsInput(err error) (*InputError, bool) {
	var ie *InputError
	ok := errors.As(err, &ie)
	return ie, ok
}
