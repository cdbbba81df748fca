// Package telegram is the Telegram channel: each connected bot's messages
// become tickets (by long polling, or by webhook when the desk has a public
// HTTPS address) and agents' replies go back through the Bot API.
package telegram

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"onedesk/channels"
	"onedesk/channels/social"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// DefaultAPI is the Bot API's address.
const DefaultAPI = "https://api.telegram.org"

// Options configure the channel.
type Options = social.Options

// Channel runs the connected bots and sends replies through them.
type Channel struct {
	desk *desk.Desk
	log  *slog.Logger

	api       string
	publicURL string
	http      *http.Client

	// PollTimeout is how many seconds getUpdates waits for news.
	PollTimeout int
	// Backoff is the first wait after a failure; it doubles to MaxBackoff.
	Backoff    time.Duration
	MaxBackoff time.Duration
	// MaxFile is the largest file taken from a customer (Telegram lets
	// bots download up to 20 MB).
	MaxFile int64
	// MaxWait is the longest wait a 429 asks for that is done in place;
	// beyond it the request fails and is retried later.
	MaxWait time.Duration
	// WebhookCheck is how often a bot's webhook is checked with Telegram.
	WebhookCheck time.Duration

	mu        sync.RWMutex
	hooks     map[int64]*bot // enabled bots in webhook mode, by account id
	inbox     *social.Inbox
	hookLimit *limit.Limiter // deliveries per bot
	badLimit  *limit.Limiter // refused deliveries per address
}

// bot is an account with its Bot API client.
type bot struct {
	acct   *store.SocialAccount
	secret string
	cl     *client
}

// config is what an account keeps in store.SocialAccount.Config.
type config struct {
	Token         string `json:"token"`
	WebhookSecret string `json:"webhook_secret"`
}

func parseConfig(a *store.SocialAccount) config {
	var c config
	_ = json.Unmarshal(a.Config, &c)
	return c
}

// New returns the Telegram channel and installs it in the desk (its
// sender and its accounts' checks).
func New(d *desk.Desk, log *slog.Logger, opts Options) *Channel {
	r := opts.Resolve(DefaultAPI)
	c := &Channel{desk: d, log: log, api: r.API, publicURL: r.PublicURL, http: r.HTTP, hookLimit: r.HookLimit,
		PollTimeout: 50, Backoff: 2 * time.Second, MaxBackoff: 2 * time.Minute, MaxFile: 20 << 20, MaxWait: time.Minute, WebhookCheck: 5 * time.Minute,
		hooks: map[int64]*bot{}, badLimit: limit.New(1, 10)}
	c.inbox = &social.Inbox{Desk: d, Log: log, Platform: "telegram", Lane: chatOf, HandleQueued: c.handleQueued}
	d.SetSender("telegram", desk.SenderFunc(c.Send))
	d.RegisterSocial(c)
	return c
}

// TicketChannel is "telegram".
func (c *Channel) TicketChannel() string { return "telegram" }

// TestAccount checks account id's saved settings with the platform again.
func (c *Channel) TestAccount(ctx context.Context, id int64) error {
	return social.TestAccount(ctx, c.desk, c, id)
}

// Name is "telegram".
func (c *Channel) Name() string { return "telegram" }

// Routes: bots' webhook deliveries, one path per account.
func (c *Channel) Routes() []channels.Route {
	return []channels.Route{{Pattern: "/hooks/telegram/", Handler: c}}
}

func (c *Channel) client(token string) *client {
	return &client{base: c.api, token: token, http: c.http, maxWait: c.MaxWait}
}

func (c *Channel) bot(a *store.SocialAccount) *bot {
	cfg := parseConfig(a)
	return &bot{acct: a, secret: cfg.WebhookSecret, cl: c.client(cfg.Token)}
}

// Mode is how bots receive messages: by webhook when the desk has a
// public HTTPS address, by long polling otherwise.
func (c *Channel) Mode() string {
	if strings.HasPrefix(c.publicURL, "https://") {
		return "webhook"
	}
	return "polling"
}

// Settings: a bot shows nothing beyond its name and handle.
func (c *Channel) Settings(*store.SocialAccount) map[string]any { return nil }

// Window: Telegram carries replies at any time.
func (c *Channel) Window() time.Duration { return 0 }

// Templates: Telegram has none.
func (c *Channel) Templates(*store.SocialAccount) []desk.Template { return nil }

func (c *Channel) webhookURL(id int64) string {
	return c.publicURL + "/hooks/telegram/" + strconv.FormatInt(id, 10)
}

var tokenPattern = regexp.MustCompile(`^[0-9]{3,20}:[A-Za-z0-9_-]{20,100}$`)

// Check checks a bot token with getMe and returns the account to keep:
// the bot's name, @username and id, and the token with the secret its
// webhook deliveries carry.
func (c *Channel) Check(ctx context.Context, old *store.SocialAccount, settings map[string]string) (*desk.SocialCheck, error) {
	for k := range settings {
		if k != "token" {
			return nil, desk.InputErrorf(k, "a Telegram bot takes only its token")
		}
	}
	var cfg config
	if old != nil {
		cfg = parseConfig(old)
	}
	token := strings.TrimSpace(settings["token"])
	if token == "" {
		if old == nil {
			return nil, desk.InputErrorf("token", "paste the bot's token: @BotFather gives it when the bot is made (/newbot)")
		}
		token = cfg.Token
	}
	if !tokenPattern.MatchString(token) {
		return nil, desk.InputErrorf("token", "this is not a bot token: @BotFather gives one like 123456789:AAEhBP0av28...")
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var me User
	if err := c.client(token).call(cctx, "getMe", map[string]any{}, &me); err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.Code == 401 || ae.Code == 404) {
			return nil, desk.InputErrorf("token", "Telegram does not know this token: copy it again from @BotFather (/mybots → the bot → API Token)")
		}
		return nil, desk.InputErrorf("token", "onedesk could not ask Telegram about the token: %v", err)
	}
	id := strconv.FormatInt(me.ID, 10)
	if old != nil && old.ExternalID != id {
		return nil, desk.InputErrorf("token", "this is the token of @%s, not of %s: connect that bot as a new one", me.Username, old.Handle)
	}
	cfg.Token = token
	if cfg.WebhookSecret == "" {
		cfg.WebhookSecret = randomSecret()
	}
	raw, _ := json.Marshal(cfg)
	return &desk.SocialCheck{Config: raw, Name: me.FirstName, Handle: "@" + me.Username, ExternalID: id, KeyField: "token"}, nil
}

func randomSecret() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Disconnect removes the webhook of a bot being removed, so Telegram
// stops posting to the desk.
func (c *Channel) Disconnect(ctx context.Context, a *store.SocialAccount) error {
	if a.State.Mode != "webhook" {
		return nil
	}
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	return c.bot(a).cl.call(cctx, "deleteWebhook", map[string]any{}, nil)
}

// Run keeps every enabled bot receiving until ctx ends: one long-polling
// goroutine per bot, or its webhook set, and the worker of queued webhook
// deliveries. Bots are started again whenever accounts change.
func (c *Channel) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.inbox.Run(ctx)
	}()
	defer wg.Wait()
	changes := c.desk.AccountChanges("telegram")
	for {
		actx, cancel := context.WithCancel(ctx)
		var running sync.WaitGroup
		list, err := c.desk.DB().SocialAccounts(ctx, "telegram")
		if err != nil {
			c.log.Error("telegram: list bots", "err", err)
		}
		hooks := map[int64]*bot{}
		for _, a := range list {
			b := c.bot(a)
			running.Add(1)
			switch {
			case !a.Enabled:
				go func() { defer running.Done(); c.stop(actx, b) }()
			case c.Mode() == "webhook":
				hooks[a.ID] = b
				go func() { defer running.Done(); c.keepWebhook(actx, b) }()
			default:
				go func() { defer running.Done(); c.poll(actx, b) }()
			}
		}
		c.mu.Lock()
		c.hooks = hooks
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

// status records how a bot is doing, writing only what changed (and the
// last success at most once a minute), and logs a failure once rather
// than on every retry.
type status struct {
	c     *Channel
	b     *bot
	state store.SocialState
	saved store.SocialState
}

func (c *Channel) status(b *bot) *status {
	return &status{c: c, b: b, state: b.acct.State, saved: b.acct.State}
}

func (s *status) ok(ctx context.Context) {
	now := store.Now()
	if s.state.LastError != "" {
		s.c.log.Info("telegram: bot works again", "bot", s.b.acct.Handle)
	}
	s.state.LastError, s.state.LastErrorI18n, s.state.LastErrorAt = "", "", nil
	if s.state.LastOKAt == nil || now.Sub(*s.state.LastOKAt) > time.Minute {
		s.state.LastOKAt = &now
	}
	s.save(ctx)
}

func (s *status) failed(ctx context.Context, err error, retryIn time.Duration) {
	msg := err.Error()
	if s.state.LastError == "" {
		s.c.log.Warn("telegram: bot failing", "bot", s.b.acct.Handle, "err", msg, "retry_in", retryIn)
	} else {
		s.c.log.Debug("telegram: bot still failing", "bot", s.b.acct.Handle, "err", msg, "retry_in", retryIn)
	}
	if msg != s.state.LastError {
		now := store.Now()
		s.state.LastError, s.state.LastErrorI18n, s.state.LastErrorAt = msg, i18n.Stored(err), &now
	}
	s.save(ctx)
}

func (s *status) save(ctx context.Context) {
	if equalState(s.state, s.saved) {
		return
	}
	if err := s.c.desk.SetSocialState(context.WithoutCancel(ctx), s.b.acct.ID, s.state); err != nil {
		s.c.log.Warn("telegram: record state", "bot", s.b.acct.Handle, "err", err)
		return
	}
	s.saved = s.state
}

func equalState(a, b store.SocialState) bool {
	ta, tb := a.LastOKAt, b.LastOKAt
	a.LastOKAt, b.LastOKAt, a.LastErrorAt, b.LastErrorAt = nil, nil, nil, nil
	return a == b && (ta == nil) == (tb == nil) && (ta == nil || ta.Equal(*tb))
}

// sleep waits d or until ctx ends, and reports whether ctx is still on.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// poll receives a bot's messages by long polling until ctx ends. Each
// batch is committed message by message, then the offset past it, so a
// restart neither loses nor doubles (message ids are a second guard). A
// failure (Telegram unreachable, a revoked token) is retried with backoff.
func (c *Channel) poll(ctx context.Context, b *bot) {
	st := c.status(b)
	wait := c.Backoff
	for ctx.Err() == nil {
		err := c.pollOnce(ctx, b, st)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			wait = c.Backoff
			continue
		}
		var ae *APIError
		if errors.As(err, &ae) && ae.Code == 429 {
			wait = max(wait, ae.RetryAfter)
		}
		st.failed(ctx, err, wait)
		if !sleep(ctx, wait) {
			return
		}
		wait = min(wait*2, c.MaxBackoff)
	}
}

func (c *Channel) pollOnce(ctx context.Context, b *bot, st *status) error {
	if st.state.Mode != "polling" {
		// getUpdates is refused while a webhook is set (the desk may have
		// had a public address before).
		if err := b.cl.call(ctx, "deleteWebhook", map[string]any{}, nil); err != nil {
			return err
		}
		st.state.Mode, st.state.WebhookURL = "polling", ""
		st.save(ctx)
	}
	var updates []Update
	err := b.cl.call(ctx, "getUpdates", map[string]any{"offset": st.state.Offset, "timeout": c.PollTimeout,
		"allowed_updates": allowedUpdates}, &updates)
	if err != nil {
		return err
	}
	for _, u := range updates {
		if err := c.handleUpdate(ctx, b, u); err != nil {
			if ie, ok := desk.IsInput(err); ok {
				// Nothing retrying could change: skipped, not stuck on.
				c.log.Warn("telegram: message refused", "bot", b.acct.Handle, "update", u.UpdateID, "err", ie.Message)
			} else {
				st.save(ctx) // the offset of what was committed
				return err
			}
		}
		st.state.Offset = u.UpdateID + 1
	}
	st.ok(ctx)
	return nil
}

// keepWebhook points a bot's webhook at the desk, with the secret
// Telegram sends back on each delivery, retrying until it is set; then it
// asks Telegram every WebhookCheck how the deliveries go (getWebhookInfo),
// so that a desk Telegram cannot reach says so in the app, and sets the
// webhook again if something else changed it.
func (c *Channel) keepWebhook(ctx context.Context, b *bot) {
	st := c.status(b)
	wait := c.Backoff
	url := c.webhookURL(b.acct.ID)
	set := false
	for ctx.Err() == nil {
		var err error
		if !set {
			err = b.cl.call(ctx, "setWebhook", map[string]any{"url": url, "secret_token": b.secret,
				"allowed_updates": allowedUpdates, "max_connections": 40}, nil)
			set = err == nil
		} else {
			var info webhookInfo
			if err = b.cl.call(ctx, "getWebhookInfo", map[string]any{}, &info); err == nil {
				switch {
				case info.URL != url:
					set = false
					continue
				case info.LastErrorDate > 0 && time.Since(time.Unix(info.LastErrorDate, 0)) < 2*c.WebhookCheck:
					err = i18n.Errorf("Telegram cannot deliver to %s: %s (%d messages waiting)", url, info.LastErrorMessage, info.PendingUpdateCount)
				}
			}
		}
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			st.state.Mode, st.state.WebhookURL = "webhook", url
			st.ok(ctx)
			wait = c.Backoff
			if !sleep(ctx, c.WebhookCheck) {
				return
			}
			continue
		}
		st.failed(ctx, err, wait)
		if !sleep(ctx, min(wait, c.WebhookCheck)) {
			return
		}
		wait = min(wait*2, c.MaxBackoff)
	}
}

// webhookInfo is getWebhookInfo's answer.
type webhookInfo struct {
	URL                string `json:"url"`
	PendingUpdateCount int    `json:"pending_update_count"`
	LastErrorDate      int64  `json:"last_error_date"`
	LastErrorMessage   string `json:"last_error_message"`
}

// stop removes the webhook of a bot switched off, so that its messages
// wait at Telegram (for a day) until it is switched on again.
func (c *Channel) stop(ctx context.Context, b *bot) {
	if b.acct.State.Mode != "webhook" {
		return
	}
	if err := b.cl.call(ctx, "deleteWebhook", map[string]any{}, nil); err != nil {
		c.log.Warn("telegram: remove the webhook of a bot switched off", "bot", b.acct.Handle, "err", err)
		return
	}
	st := c.status(b)
	st.state.Mode, st.state.WebhookURL = "", ""
	st.save(ctx)
}

// maxUpdate bounds a webhook delivery's body (an update is a few KB; files
// are fetched separately).
const maxUpdate = 1 << 20

// ServeHTTP takes webhook deliveries at /hooks/telegram/{account id}: the
// secret token Telegram was given must come back, or nothing is stored
// (401). Each update is committed to the queue of deliveries before the
// 200 and becomes a message right after (the inbox): the answer never
// waits for a file download or a busy desk, and a retried delivery is
// queued once.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		social.WriteError(w, http.StatusMethodNotAllowed, "webhook deliveries are POSTed")
		return
	}
	id, err := strconv.ParseInt(strings.TrimPrefix(r.URL.Path, "/hooks/telegram/"), 10, 64)
	c.mu.RLock()
	b := c.hooks[id]
	c.mu.RUnlock()
	if err != nil || b == nil {
		social.WriteError(w, http.StatusNotFound, "no Telegram bot takes deliveries here")
		return
	}
	got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if subtle.ConstantTimeCompare([]byte(got), []byte(b.secret)) != 1 {
		ip, _, _ := net.SplitHostPort(r.RemoteAddr)
		if !c.badLimit.Allow(ip) {
			w.Header().Set("Retry-After", "10")
			social.WriteError(w, http.StatusTooManyRequests, "too many refused deliveries from your address")
			return
		}
		c.log.Warn("telegram: webhook delivery refused: wrong secret token", "bot", b.acct.Handle, "from", ip)
		social.WriteError(w, http.StatusUnauthorized, "wrong X-Telegram-Bot-Api-Secret-Token")
		return
	}
	if !c.hookLimit.Allow(strconv.FormatInt(id, 10)) {
		w.Header().Set("Retry-After", "1")
		social.WriteError(w, http.StatusTooManyRequests, "too many deliveries")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxUpdate))
	if err != nil {
		social.WriteError(w, http.StatusRequestEntityTooLarge, "a delivery may have at most 1 MB")
		return
	}
	var u struct {
		UpdateID *int64 `json:"update_id"`
	}
	if err := json.Unmarshal(body, &u); err != nil || u.UpdateID == nil {
		social.WriteError(w, http.StatusBadRequest, "the body is not a Telegram update")
		return
	}
	if err := c.desk.QueueSocialUpdate(r.Context(), id, strconv.FormatInt(*u.UpdateID, 10), body); err != nil {
		c.log.Error("telegram: store a webhook delivery", "bot", b.acct.Handle, "update", *u.UpdateID, "err", err)
		social.WriteError(w, http.StatusInternalServerError, "not stored; send again")
		return
	}
	c.inbox.Wake()
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}"))
}

// handleQueued works off one queued webhook delivery (an update).
func (c *Channel) handleQueued(ctx context.Context, a *store.SocialAccount, payload []byte) error {
	var u Update
	if err := json.Unmarshal(payload, &u); err != nil {
		return nil // not an update: dropped
	}
	return c.handleUpdate(ctx, c.bot(a), u)
}

// chatOf is the chat a queued update is from: its lane in the inbox.
func chatOf(payload []byte) string {
	var u Update
	if json.Unmarshal(payload, &u) != nil {
		return ""
	}
	if m := messageOf(u); m != nil {
		return strconv.FormatInt(m.Chat.ID, 10)
	}
	return ""
}

// messageOf is the message an update is about.
func messageOf(u Update) *Message {
	if u.Message != nil {
		return u.Message
	}
	return u.EditedMessage
}
