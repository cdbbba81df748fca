// Package meta is the channel of Meta's Messenger Platform: the direct
// messages of a connected Facebook Page (Messenger) and of its linked
// Instagram professional account become tickets, and agents' replies go
// back through the Send API. Meta posts every page's messages to one
// webhook, /hooks/meta, signed with the app's secret.
package meta

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"onedesk/channels"
	"onedesk/channels/graph"
	"onedesk/channels/metahook"
	"onedesk/channels/social"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// DefaultAPI is the Graph API version onedesk targets.
const DefaultAPI = graph.DefaultAPI

// Fields are the webhook fields a page is subscribed to (and the admin
// ticks in the app's dashboard).
const Fields = "messages,messaging_postbacks,message_reads,message_deliveries,message_edits"

// Options configure the channel.
type Options = social.Options

// Channel receives the connected pages' messages and sends replies.
type Channel struct {
	desk *desk.Desk
	log  *slog.Logger

	api       string
	publicURL string
	http      *http.Client

	// MaxFile is the largest file taken from a customer (Messenger
	// carries up to 25 MB).
	MaxFile int64
	// MaxWait is the longest rate-limit wait done in place; beyond it a
	// reply is retried by the outbox with its backoff.
	MaxWait time.Duration
	// Backoff is the first wait after a failed subscription; it doubles
	// to MaxBackoff.
	Backoff, MaxBackoff time.Duration

	mu        sync.RWMutex
	pages     map[string]*page // enabled accounts by page id and by Instagram account id
	verify    map[string]bool  // the verify tokens of every account
	inbox     *social.Inbox
	hookLimit *limit.Limiter // deliveries per page
	door      metahook.Door
}

// config is what an account keeps in store.SocialAccount.Config.
type config struct {
	PageID            string `json:"page_id"`
	AccessToken       string `json:"access_token"`
	AppSecret         string `json:"app_secret"`
	VerifyToken       string `json:"verify_token"`
	InstagramID       string `json:"instagram_id,omitempty"`
	InstagramUsername string `json:"instagram_username,omitempty"`
}

func parseConfig(a *store.SocialAccount) config {
	var c config
	_ = json.Unmarshal(a.Config, &c)
	return c
}

// page is an account with its Graph client.
type page struct {
	acct *store.SocialAccount
	cfg  config
	cl   *graph.Client
}

// New returns the channel and installs it in the desk: the sender of
// messenger and instagram replies and the checks of meta accounts.
func New(d *desk.Desk, log *slog.Logger, opts Options) *Channel {
	r := opts.Resolve(DefaultAPI)
	c := &Channel{desk: d, log: log, api: r.API, publicURL: r.PublicURL, http: r.HTTP, hookLimit: r.HookLimit,
		MaxFile: 25 << 20, MaxWait: 5 * time.Second, Backoff: 2 * time.Second, MaxBackoff: 5 * time.Minute,
		pages: map[string]*page{}, verify: map[string]bool{}}
	c.door = metahook.Door{Name: "meta", Log: log, Refused: limit.New(1, 10), Known: func(token string) bool {
		c.mu.RLock()
		defer c.mu.RUnlock()
		return c.verify[token]
	}}
	c.inbox = &social.Inbox{Desk: d, Log: log, Platform: "meta", Lane: lane, HandleQueued: c.handleQueued}
	d.SetSender("messenger", desk.SenderFunc(c.Send))
	d.SetSender("instagram", desk.SenderFunc(c.Send))
	d.RegisterSocial(c)
	return c
}

// TicketChannel is "meta".
func (c *Channel) TicketChannel() string { return "meta" }

// TestAccount checks account id's saved settings with the platform again.
func (c *Channel) TestAccount(ctx context.Context, id int64) error {
	return social.TestAccount(ctx, c.desk, c, id)
}

// Name is "meta".
func (c *Channel) Name() string { return "meta" }

// Routes: Meta's webhook (verification and deliveries) for every page.
func (c *Channel) Routes() []channels.Route {
	return []channels.Route{{Pattern: "/hooks/meta", Handler: c}}
}

func (c *Channel) page(a *store.SocialAccount) *page {
	cfg := parseConfig(a)
	return &page{acct: a, cfg: cfg, cl: c.client(cfg.AccessToken)}
}

func (c *Channel) client(token string) *graph.Client {
	return &graph.Client{Base: c.api, Token: token, HTTP: c.http, MaxWait: c.MaxWait}
}

// Mode: Meta's messages always come by webhook.
func (c *Channel) Mode() string { return "webhook" }

// Window: the platform's 24-hour window is enforced by Meta itself,
// which refuses a late reply (sendError says so).
func (c *Channel) Window() time.Duration { return 0 }

// Templates: Messenger and Instagram replies are plain messages.
func (c *Channel) Templates(*store.SocialAccount) []desk.Template { return nil }

// webhookURL is the URL to paste at Meta, its "callback URL" ("" when
// the desk does not know its public address).
func (c *Channel) webhookURL() string {
	if c.publicURL == "" {
		return ""
	}
	return c.publicURL + "/hooks/meta"
}

// Settings shows an account's settings: the ids, the verify token and
// callback URL to paste at Meta, and whether the secrets are set.
func (c *Channel) Settings(a *store.SocialAccount) map[string]any {
	cfg := parseConfig(a)
	return map[string]any{"page_id": cfg.PageID, "instagram_id": cfg.InstagramID, "instagram_username": cfg.InstagramUsername,
		"verify_token": cfg.VerifyToken, "webhook_url": c.webhookURL(),
		"access_token_set": cfg.AccessToken != "", "app_secret_set": cfg.AppSecret != ""}
}

var idPattern = regexp.MustCompile(`^[0-9]{5,25}$`)

// pageInfo is GET /{page-id}?fields=name,instagram_business_account{id,username}.
type pageInfo struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Instagram *struct {
		ID       string `json:"id"`
		Username string `json:"username"`
	} `json:"instagram_business_account"`
}

// Check checks a page's settings with the Graph API (the page read with
// the token) and returns the account to keep: the page's name, its linked
// Instagram account, and a verify token of onedesk's own for the
// dashboard's webhook form.
func (c *Channel) Check(ctx context.Context, old *store.SocialAccount, settings map[string]string) (*desk.SocialCheck, error) {
	var cfg config
	if old != nil {
		cfg = parseConfig(old)
	}
	for k, v := range settings {
		v = strings.TrimSpace(v)
		switch k {
		case "page_id":
			if old != nil && v != cfg.PageID {
				return nil, desk.InputErrorf(k, "an account stays with its page: connect the other page as a new one")
			}
			cfg.PageID = v
		case "access_token":
			cfg.AccessToken = v
		case "app_secret":
			cfg.AppSecret = v
		case "instagram_id":
			cfg.InstagramID = v
		default:
			return nil, desk.InputErrorf(k, "a Facebook page takes page_id, access_token, app_secret and instagram_id")
		}
	}
	switch {
	case !idPattern.MatchString(cfg.PageID):
		return nil, desk.InputErrorf("page_id", "the page id is a number: the page's About → Page transparency, or the Meta app's Messenger settings, shows it")
	case cfg.AccessToken == "":
		return nil, desk.InputErrorf("access_token", "paste the page's access token: the Meta app's Messenger settings make one for the page (Generate token)")
	case cfg.AppSecret == "":
		return nil, desk.InputErrorf("app_secret", "paste the app secret: the Meta app's App settings → Basic shows it")
	case cfg.InstagramID != "" && !idPattern.MatchString(cfg.InstagramID):
		return nil, desk.InputErrorf("instagram_id", "the Instagram account id is a number (leave it empty to take the page's linked account)")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var info pageInfo
	err := c.client(cfg.AccessToken).Get(cctx, cfg.PageID, url.Values{"fields": {"name,instagram_business_account{id,username}"}}, &info)
	var ge *graph.Error
	switch {
	case errors.As(err, &ge) && ge.Expired():
		return nil, desk.InputErrorf("access_token", "Meta does not take this token: it is wrong, expired or revoked (make a new page token in the app's Messenger settings)")
	case errors.As(err, &ge) && (ge.Code == 100 || ge.Code == 803):
		return nil, desk.InputErrorf("page_id", "Meta knows no page %s that this token opens: check the page id, and that the token is the page's", cfg.PageID)
	case errors.As(err, &ge):
		return nil, desk.InputErrorf("access_token", "Meta refused to show the page with this token: %s", ge.Message)
	case err != nil:
		return nil, desk.InputErrorf("access_token", "onedesk could not ask Meta about the page: %v", err)
	}
	cfg.InstagramUsername = ""
	if ig := info.Instagram; ig != nil {
		if cfg.InstagramID != "" && cfg.InstagramID != ig.ID {
			return nil, desk.InputErrorf("instagram_id", "the page's Instagram account is @%s (%s), not %s", ig.Username, ig.ID, cfg.InstagramID)
		}
		cfg.InstagramID, cfg.InstagramUsername = ig.ID, ig.Username
	} else if cfg.InstagramID != "" {
		return nil, desk.InputErrorf("instagram_id", "no Instagram professional account is linked to this page: link it in the page's settings (Linked accounts), then save again")
	}
	if cfg.VerifyToken == "" {
		cfg.VerifyToken = randomToken()
	}
	raw, _ := json.Marshal(cfg)
	handle := info.Name
	if cfg.InstagramUsername != "" {
		handle += " · @" + cfg.InstagramUsername
	}
	return &desk.SocialCheck{Config: raw, Name: info.Name, Handle: handle, ExternalID: cfg.PageID, KeyField: "page_id"}, nil
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "od-" + hex.EncodeToString(b)
}

// Disconnect unsubscribes a page being removed from the app's webhooks.
func (c *Channel) Disconnect(ctx context.Context, a *store.SocialAccount) error {
	p := c.page(a)
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return p.cl.Delete(cctx, p.cfg.PageID+"/subscribed_apps", nil, nil)
}

// Run takes the connected pages' deliveries until ctx ends: it keeps the
// map of pages the webhook looks accounts up in, subscribes each enabled
// page to the app's webhooks, and works off queued deliveries. Pages are
// taken again whenever accounts change.
func (c *Channel) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); c.inbox.Run(ctx) }()
	defer wg.Wait()
	changes := c.desk.AccountChanges("meta")
	for {
		actx, cancel := context.WithCancel(ctx)
		var running sync.WaitGroup
		list, err := c.desk.DB().SocialAccounts(ctx, "meta")
		if err != nil {
			c.log.Error("meta: list pages", "err", err)
		}
		pages, verify := map[string]*page{}, map[string]bool{}
		for _, a := range list {
			p := c.page(a)
			verify[p.cfg.VerifyToken] = true
			if !a.Enabled {
				continue
			}
			pages[p.cfg.PageID] = p
			if p.cfg.InstagramID != "" {
				pages[p.cfg.InstagramID] = p
			}
			running.Add(1)
			go func() { defer running.Done(); c.subscribe(actx, p) }()
		}
		c.mu.Lock()
		c.pages, c.verify = pages, verify
		c.mu.Unlock()
		select {
		case <-ctx.Done():
		case <-changes:
		}
		cancel()
		running.Wait()
		if ctx.Err() != nil {
			return
		}
	}
}

// subscribe subscribes a page to the app's webhook fields (POST
// /{page-id}/subscribed_apps), retrying with backoff until it is done,
// and records how the page is doing.
func (c *Channel) subscribe(ctx context.Context, p *page) {
	wait := c.Backoff
	for {
		err := p.cl.Post(ctx, p.cfg.PageID+"/subscribed_apps", map[string]string{"subscribed_fields": Fields}, nil)
		if ctx.Err() != nil {
			return
		}
		st := p.acct.State
		now := store.Now()
		if err == nil {
			if st.LastError != "" {
				c.log.Info("meta: page subscribed again", "page", p.acct.Handle)
			}
			st.Mode, st.WebhookURL, st.LastError, st.LastErrorI18n, st.LastErrorAt, st.LastOKAt = "webhook", c.webhookURL(), "", "", nil, &now
			c.setState(ctx, p, st)
			return
		}
		if st.LastError != err.Error() {
			c.log.Warn("meta: cannot subscribe the page to the app's webhooks", "page", p.acct.Handle, "err", err, "retry_in", wait)
			st.LastError, st.LastErrorI18n, st.LastErrorAt = err.Error(), i18n.Stored(err), &now
			c.setState(ctx, p, st)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		wait = min(wait*2, c.MaxBackoff)
	}
}

func (c *Channel) setState(ctx context.Context, p *page, st store.SocialState) {
	if err := c.desk.SetSocialState(context.WithoutCancel(ctx), p.acct.ID, st); err != nil {
		c.log.Warn("meta: record state", "page", p.acct.Handle, "err", err)
		return
	}
	p.acct.State = st
}
