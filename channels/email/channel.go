package email

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"onedesk/channels"
	"onedesk/desk"
	"onedesk/mailauth"
	"onedesk/store"
)

// Channel runs one poller per active mailbox and sends replies over each
// mailbox's SMTP server.
type Channel struct {
	desk *desk.Desk
	log  *slog.Logger
	// tokens are the OAuth2 access tokens of mailboxes that sign in so.
	tokens *mailauth.Tokens

	// Backoff is the first wait after a failed poll; it doubles to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
}

// smtpSends is how many replies go to the mail servers at once (they
// refuse many connections from one client).
const smtpSends = 4

// New returns the email channel and installs its sender in the desk.
func New(d *desk.Desk, log *slog.Logger) *Channel {
	c := &Channel{desk: d, log: log, tokens: mailauth.NewTokens(d.DB()), Backoff: 5 * time.Second, MaxBackoff: 5 * time.Minute}
	d.SetSender("email", desk.SenderFunc(c.Send))
	d.LimitSends("email", smtpSends)
	d.SetSystemMailer(SendSystem)
	d.RegisterAccounts(c)
	return c
}

// TicketChannel is "email": its accounts are the support mailboxes.
func (c *Channel) TicketChannel() string { return "email" }

// TestAccount tests mailbox id's saved settings with its servers (Test).
func (c *Channel) TestAccount(ctx context.Context, id int64) error {
	mb, err := c.desk.DB().Mailbox(ctx, id)
	if err != nil {
		return err
	}
	oauth, err := c.oauthOf(ctx, mb)
	if err != nil {
		return err
	}
	return Test(ctx, mb, oauth)
}

// Name is "email".
func (c *Channel) Name() string { return "email" }

// Routes: email comes by IMAP, not HTTP.
func (c *Channel) Routes() []channels.Route { return nil }

// Run polls every active mailbox until ctx ends, restarting the pollers
// whenever mailboxes are saved. A failing mailbox never stops the others.
func (c *Channel) Run(ctx context.Context) {
	removeStaleSpools(c.log)
	for {
		pctx, cancel := context.WithCancel(ctx)
		var wg sync.WaitGroup
		list, err := c.desk.DB().Mailboxes(ctx)
		if err != nil {
			c.log.Error("email: list mailboxes", "err", err)
		}
		for _, mb := range list {
			if !mb.Active {
				continue
			}
			wg.Add(1)
			go func(id int64) {
				defer wg.Done()
				// One node polls each mailbox; the mailboxes spread over
				// the nodes (on one node, all poll here).
				c.desk.RunLeased(pctx, "mailbox:"+strconv.FormatInt(id, 10), func(ctx context.Context) { c.pollLoop(ctx, id) })
			}(mb.ID)
			if mb.HistoryState == store.HistoryPending || mb.HistoryState == store.HistoryRunning {
				// Its own lease: on several nodes the history may run on
				// another node than the live poller.
				wg.Add(1)
				go func(id int64) {
					defer wg.Done()
					c.desk.RunLeased(pctx, "mailbox-history:"+strconv.FormatInt(id, 10), func(ctx context.Context) { c.historyLoop(ctx, id) })
				}(mb.ID)
			}
		}
		select {
		case <-ctx.Done():
		case <-c.desk.AccountChanges("email"):
		}
		cancel()
		wg.Wait()
		if ctx.Err() != nil {
			return
		}
	}
}

// pollLoop keeps one mailbox imported, backing off while it fails.
func (c *Channel) pollLoop(ctx context.Context, id int64) {
	wait := c.Backoff
	for ctx.Err() == nil {
		err := c.session(ctx, id)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			wait = c.Backoff
			continue
		}
		uid := failedUID(err)
		err = Explain(err)
		c.desk.RecordPoll(ctx, id, err, uid)
		c.log.Warn("email: mailbox failed", "mailbox", id, "err", err, "retry_in", wait)
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
		wait = min(wait*2, c.MaxBackoff)
	}
}

// ourAddress tells whether addr is one of the desk's own mailboxes (or a
// plus-address of one), whose mail must never become a ticket (that is
// how loops start).
func ourAddress(list []*store.Mailbox, addr string) bool {
	local, domain, _ := strings.Cut(strings.ToLower(addr), "@")
	for _, mb := range list {
		ml, md, _ := strings.Cut(strings.ToLower(mb.Address), "@")
		if md == domain && (local == ml || strings.HasPrefix(local, ml+"+")) {
			return true
		}
	}
	return false
}
