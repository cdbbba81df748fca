package desk

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Account is a channel account as the rest of onedesk sees it, whichever
// of the three places keeps it: a support mailbox (email), a store (its
// chat widget) or one of its forms, a social account (Telegram, WhatsApp,
// Meta). The tables stay as they are; this is one view over them.
type Account struct {
	Channel string // "email", "chat", "form", or the social platform
	ID      int64  // in its own table: mailbox, store, form, social account
	Name    string // the address, store name, form title or handle
	StoreID *int64
	Enabled bool
	Problem string // why it does not work now ("" when it does)
}

// Accounts lists every channel account: mailboxes, stores' chats, forms
// and social accounts, in that order.
func (d *Desk) Accounts(ctx context.Context) ([]Account, error) {
	var list []Account
	mailboxes, err := d.db.Mailboxes(ctx)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	now := time.Now()
	for _, m := range mailboxes {
		problem := MailboxStuck(m, now)
		if problem == "" && m.Active {
			problem = m.LastError
		}
		list = append(list, Account{Channel: "email", ID: m.ID, Name: m.Address, StoreID: m.StoreID, Enabled: m.Active, Problem: problem})
	}
	stores, err := d.db.Stores(ctx)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	for _, st := range stores {
		list = append(list, Account{Channel: "chat", ID: st.ID, Name: st.Name, StoreID: &st.ID, Enabled: true})
	}
	forms, err := d.db.Forms(ctx)
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	for _, f := range forms {
		list = append(list, Account{Channel: "form", ID: f.ID, Name: f.Title, StoreID: f.StoreID, Enabled: f.Enabled})
	}
	social, err := d.db.SocialAccounts(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("accounts: %w", err)
	}
	for _, a := range social {
		problem := ""
		if a.Enabled {
			problem = a.State.LastError
		}
		list = append(list, Account{Channel: a.Platform, ID: a.ID, Name: a.Handle, StoreID: a.StoreID, Enabled: a.Enabled, Problem: problem})
	}
	return list, nil
}

// AccountSettings is every channel's part in its accounts' settings,
// whichever table keeps them: the channel its tickets and accounts carry,
// and a test of a saved account against the outside world. Every channel
// implements it (channels.Channel embeds it) and installs it in the desk
// with RegisterAccounts (a social platform with RegisterSocial, which
// does both), so desk and ui test an account of any channel one way.
type AccountSettings interface {
	// TicketChannel is the channel the accounts and their tickets carry
	// (Account.Channel): "email", "chat", "form", "telegram"...
	TicketChannel() string
	// TestAccount checks account id's saved settings against the outside
	// world (a mailbox's IMAP and SMTP servers, a bot's token with its
	// platform) and says in plain words what fails; nil when they work or
	// when nothing outside the desk is to be checked. ErrNotFound: no
	// such account.
	TestAccount(ctx context.Context, id int64) error
}

// ErrNoAccountSettings is the answer for an account of a channel that is
// not installed in this desk, so none can be tested.
var ErrNoAccountSettings = errors.New("no channel of these accounts is installed")

// RegisterAccounts installs a channel's part in its accounts' settings.
func (d *Desk) RegisterAccounts(s AccountSettings) {
	d.channels.mu.Lock()
	defer d.channels.mu.Unlock()
	if d.channels.accounts == nil {
		d.channels.accounts = map[string]AccountSettings{}
	}
	d.channels.accounts[s.TicketChannel()] = s
}

// TestAccount checks a saved account of channel against the outside
// world (AccountSettings.TestAccount).
func (d *Desk) TestAccount(ctx context.Context, channel string, id int64) error {
	d.channels.mu.Lock()
	s := d.channels.accounts[channel]
	d.channels.mu.Unlock()
	if s == nil {
		return fmt.Errorf("test %s account %d: %w", channel, id, ErrNoAccountSettings)
	}
	return s.TestAccount(ctx, id)
}

// accountChanges holds, per channel, the signal that its accounts changed.
type accountChanges struct {
	mu      sync.Mutex
	changed map[string]chan struct{}
}

func (h *accountChanges) of(channel string) chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.changed[channel] == nil {
		h.changed[channel] = make(chan struct{}, 1)
	}
	return h.changed[channel]
}

// AccountChanges signals (without blocking) when a channel's accounts are
// saved or removed ("email": its mailboxes; a social platform: its
// accounts), so that the channel restarts them with the new settings.
func (d *Desk) AccountChanges(channel string) <-chan struct{} { return d.accountChanges.of(channel) }

func (d *Desk) notifyAccounts(channel string) {
	d.bus.signal(nodeSignal{Accounts: channel}) // the node polling them may be another
	select {
	case d.accountChanges.of(channel) <- struct{}{}:
	default:
	}
}
