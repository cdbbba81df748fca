// Package whatsapp is the WhatsApp Business channel (Cloud API): each
// connected number's messages come by webhook at /hooks/whatsapp (Meta's
// verification handshake, X-Hub-Signature-256 checked with the app
// secret) and become tickets; agents' replies and approved templates go
// back through the Graph API, and WhatsApp's statuses mark them
// delivered, read or failed.
package whatsapp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
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
	"onedesk/limit"
	"onedesk/store"
)

// DefaultAPI is the Graph API version onedesk speaks.
const DefaultAPI = graph.DefaultAPI

// Options configure the channel.
type Options = social.Options

// Channel takes the connected numbers' webhook deliveries and sends
// replies through them.
type Channel struct {
	desk      *desk.Desk
	log       *slog.Logger
	api       string
	publicURL string
	http      *http.Client

	// MaxFile is the largest file taken from a customer (WhatsApp
	// carries documents up to 100 MB).
	MaxFile int64
	// MaxWait is the longest wait a rate limit asks for that is done in
	// place; beyond it the request fails and is retried later.
	MaxWait time.Duration

	mu        sync.RWMutex
	numbers   map[string]*number // enabled accounts by phone number id
	tokens    map[string]bool    // verify tokens of all accounts
	inbox     *social.Inbox
	hookLimit *limit.Limiter // deliveries per number
	door      metahook.Door
	lastOK    sync.Map // account id → when Meta last delivered (recorded once a minute)
}

// number is an account with its settings.
type number struct {
	acct *store.SocialAccount
	cfg  config
}

// config is what an account keeps in store.SocialAccount.Config.
type config struct {
	PhoneNumberID string          `json:"phone_number_id"`
	WABAID        string          `json:"waba_id,omitempty"`
	AccessToken   string          `json:"access_token"`
	AppSecret     string          `json:"app_secret"`
	VerifyToken   string          `json:"verify_token"`
	Templates     []desk.Template `json:"templates"`
}

func parseConfig(a *store.SocialAccount) config {
	var c config
	_ = json.Unmarshal(a.Config, &c)
	return c
}

// New returns the WhatsApp channel and installs it in the desk (its
// sender and its accounts' checks).
func New(d *desk.Desk, log *slog.Logger, opts Options) *Channel {
	r := opts.Resolve(DefaultAPI)
	c := &Channel{desk: d, log: log, api: r.API, publicURL: r.PublicURL, http: r.HTTP, hookLimit: r.HookLimit,
		MaxFile: 25 << 20, MaxWait: 10 * time.Second, numbers: map[string]*number{}, tokens: map[string]bool{}}
	c.door = metahook.Door{Name: "whatsapp", Log: log, Refused: limit.New(1, 10), Known: func(token string) bool {
		c.mu.RLock()
		defer c.mu.RUnlock()
		return c.tokens[token]
	}}
	c.inbox = &social.Inbox{Desk: d, Log: log, Platform: "whatsapp", Lane: laneOf, HandleQueued: c.handleQueued}
	d.SetSender("whatsapp", desk.SenderFunc(c.Send))
	d.RegisterSocial(c)
	return c
}

// TicketChannel is "whatsapp".
func (c *Channel) TicketChannel() string { return "whatsapp" }

// TestAccount checks account id's saved settings with the platform again.
func (c *Channel) TestAccount(ctx context.Context, id int64) error {
	return social.TestAccount(ctx, c.desk, c, id)
}

// Name is "whatsapp".
func (c *Channel) Name() string { return "whatsapp" }

// Routes: Meta's webhook for every WhatsApp number.
func (c *Channel) Routes() []channels.Route {
	return []channels.Route{{Pattern: "/hooks/whatsapp", Handler: c}}
}

func (c *Channel) client(token string) *graph.Client {
	return &graph.Client{Base: c.api, Token: token, HTTP: c.http, MaxWait: c.MaxWait}
}

// Mode: WhatsApp's messages always come by webhook.
func (c *Channel) Mode() string { return "webhook" }

// Window is WhatsApp's customer-service window: free-form replies reach a
// customer for 24 hours after their last message, templates at any time.
func (c *Channel) Window() time.Duration { return 24 * time.Hour }

// Templates are the approved templates an admin listed for the number.
func (c *Channel) Templates(a *store.SocialAccount) []desk.Template {
	t := parseConfig(a).Templates
	if t == nil {
		t = []desk.Template{}
	}
	return t
}

// webhookURL is the URL to paste at Meta (its "callback URL").
func (c *Channel) webhookURL() string {
	base := c.publicURL
	if base == "" {
		base = "https://<your desk's address>"
	}
	return base + "/hooks/whatsapp"
}

// Settings shows an account's settings to admins: ids, the verify token
// and callback URL to paste at Meta, the templates, and whether the
// secrets are set.
func (c *Channel) Settings(a *store.SocialAccount) map[string]any {
	cfg := parseConfig(a)
	return map[string]any{"phone_number_id": cfg.PhoneNumberID, "waba_id": cfg.WABAID, "verify_token": cfg.VerifyToken,
		"webhook_url": c.webhookURL(), "templates": c.Templates(a),
		"access_token_set": cfg.AccessToken != "", "app_secret_set": cfg.AppSecret != ""}
}

var (
	idPattern    = regexp.MustCompile(`^[0-9]{5,30}$`)
	paramPattern = regexp.MustCompile(`\{\{([0-9]+)\}\}`)
	namePattern  = regexp.MustCompile(`^[a-z0-9_]{1,512}$`)
	langPattern  = regexp.MustCompile(`^[a-z]{2,3}(_[A-Z]{2})?$`)
)

// Check checks a number's settings with the Graph API (GET
// /{phone-number-id} with the token) and returns the account to keep:
// its verified name, display number and id, the settings, a verify token
// made for it, and its templates.
func (c *Channel) Check(ctx context.Context, old *store.SocialAccount, settings map[string]string) (*desk.SocialCheck, error) {
	var cfg config
	if old != nil {
		cfg = parseConfig(old)
	}
	for k, v := range settings {
		v = strings.TrimSpace(v)
		switch k {
		case "phone_number_id":
			if old != nil && v != cfg.PhoneNumberID {
				return nil, desk.InputErrorf(k, "a connected number keeps its phone number id: connect the other number as a new one")
			}
			cfg.PhoneNumberID = v
		case "waba_id":
			if v != "" && !idPattern.MatchString(v) {
				return nil, desk.InputErrorf(k, "the WhatsApp Business Account id is a number (WhatsApp → API Setup in Meta's app dashboard)")
			}
			cfg.WABAID = v
		case "access_token":
			cfg.AccessToken = v
		case "app_secret":
			cfg.AppSecret = v
		case "verify_token":
			if len(v) < 8 || len(v) > 200 {
				return nil, desk.InputErrorf(k, "a verify token has 8 to 200 characters (or leave it to onedesk)")
			}
			cfg.VerifyToken = v
		case "templates":
			list, err := parseTemplates(v)
			if err != nil {
				return nil, err
			}
			cfg.Templates = list
		default:
			return nil, desk.InputErrorf(k, "a WhatsApp number takes phone_number_id, access_token, app_secret, verify_token, waba_id and templates")
		}
	}
	switch {
	case cfg.PhoneNumberID == "":
		return nil, desk.InputErrorf("phone_number_id", "paste the phone number id: Meta's app dashboard shows it under WhatsApp → API Setup")
	case !idPattern.MatchString(cfg.PhoneNumberID):
		return nil, desk.InputErrorf("phone_number_id", "the phone number id is a long number (WhatsApp → API Setup), not the phone number itself")
	case cfg.AccessToken == "":
		return nil, desk.InputErrorf("access_token", "paste an access token: a system user's permanent token with whatsapp_business_messaging (Business Settings → System users)")
	case cfg.AppSecret == "":
		return nil, desk.InputErrorf("app_secret", "paste the app secret (App settings → Basic in Meta's dashboard): onedesk checks every delivery's signature with it")
	}
	if cfg.VerifyToken == "" {
		b := make([]byte, 18)
		_, _ = rand.Read(b)
		cfg.VerifyToken = "onedesk-" + hex.EncodeToString(b)
	}
	cctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	var me struct {
		DisplayPhoneNumber string `json:"display_phone_number"`
		VerifiedName       string `json:"verified_name"`
	}
	err := c.client(cfg.AccessToken).Get(cctx, cfg.PhoneNumberID, url.Values{"fields": {"display_phone_number,verified_name"}}, &me)
	var ge *graph.Error
	switch {
	case errors.As(err, &ge) && ge.Expired():
		return nil, desk.InputErrorf("access_token", "Meta refused this access token: it is wrong, expired or revoked. Make a new one (a system user's token does not expire) and paste it again")
	case errors.As(err, &ge) && (ge.Code == 100 || ge.Status == http.StatusNotFound):
		return nil, desk.InputErrorf("phone_number_id", "Meta does not know this phone number id, or the token may not use it: copy it again from WhatsApp → API Setup")
	case errors.As(err, &ge) && (ge.Code == 10 || ge.Code == 200 || ge.Status == http.StatusForbidden):
		return nil, desk.InputErrorf("access_token", "this access token may not manage the number: give it the whatsapp_business_messaging permission and this number's account")
	case err != nil:
		return nil, desk.InputErrorf("access_token", "onedesk could not ask Meta about the number: %v", err)
	}
	raw, _ := json.Marshal(cfg)
	name := me.VerifiedName
	if name == "" {
		name = me.DisplayPhoneNumber
	}
	return &desk.SocialCheck{Config: raw, Name: name, Handle: me.DisplayPhoneNumber, ExternalID: cfg.PhoneNumberID, KeyField: "phone_number_id"}, nil
}

// parseTemplates reads the approved templates an admin lists: a JSON list
// of {name, language, body}, or lines of "name | language | body". The
// number of {{n}} in a body is how many values it takes.
func parseTemplates(s string) ([]desk.Template, error) {
	var list []desk.Template
	if strings.HasPrefix(s, "[") {
		if err := json.Unmarshal([]byte(s), &list); err != nil {
			return nil, desk.InputErrorf("templates", "templates are a list of {name, language, body}")
		}
	} else {
		for _, line := range strings.Split(s, "\n") {
			if strings.TrimSpace(line) == "" {
				continue
			}
			parts := strings.SplitN(line, "|", 3)
			if len(parts) != 3 {
				return nil, desk.InputErrorf("templates", "write each template as name | language | text, not %q", line)
			}
			list = append(list, desk.Template{Name: parts[0], Language: parts[1], Body: parts[2]})
		}
	}
	seen := map[string]bool{}
	for i := range list {
		t := &list[i]
		t.Name, t.Language, t.Body = strings.TrimSpace(t.Name), strings.TrimSpace(t.Language), strings.TrimSpace(t.Body)
		switch {
		case !namePattern.MatchString(t.Name):
			return nil, desk.InputErrorf("templates", "%q is not a template name: WhatsApp's are lowercase letters, digits and _ (as in WhatsApp Manager)", t.Name)
		case !langPattern.MatchString(t.Language):
			return nil, desk.InputErrorf("templates", "%q is not a template language code: use WhatsApp's, such as en_US, pt_BR, tr, cs, ru", t.Language)
		case t.Body == "" || len(t.Body) > 1024:
			return nil, desk.InputErrorf("templates", "the text of %q is empty or longer than WhatsApp's 1,024 characters", t.Name)
		case seen[t.Name+"/"+t.Language]:
			return nil, desk.InputErrorf("templates", "%q (%s) is listed twice", t.Name, t.Language)
		}
		seen[t.Name+"/"+t.Language] = true
		t.Params = 0
		for _, m := range paramPattern.FindAllStringSubmatch(t.Body, -1) {
			var n int
			fmt.Sscan(m[1], &n)
			t.Params = max(t.Params, n)
		}
	}
	if list == nil {
		list = []desk.Template{}
	}
	return list, nil
}

// Disconnect has nothing to undo at Meta: the webhook belongs to the app,
// which may serve other numbers.
func (c *Channel) Disconnect(context.Context, *store.SocialAccount) error { return nil }

// Run keeps the table of connected numbers for the webhook, and works off
// queued deliveries, until ctx ends.
func (c *Channel) Run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		c.inbox.Run(ctx)
	}()
	defer wg.Wait()
	changes := c.desk.AccountChanges("whatsapp")
	for {
		c.load(ctx)
		select {
		case <-ctx.Done():
			return
		case <-changes:
		}
	}
}

// load reads the connected numbers.
func (c *Channel) load(ctx context.Context) {
	list, err := c.desk.DB().SocialAccounts(ctx, "whatsapp")
	if err != nil {
		c.log.Error("whatsapp: list numbers", "err", err)
		return
	}
	numbers, tokens := map[string]*number{}, map[string]bool{}
	for _, a := range list {
		cfg := parseConfig(a)
		tokens[cfg.VerifyToken] = true
		if a.Enabled {
			numbers[cfg.PhoneNumberID] = &number{acct: a, cfg: cfg}
		}
		if a.State.Mode != "webhook" || a.State.WebhookURL != c.webhookURL() {
			st := a.State
			st.Mode, st.WebhookURL = "webhook", c.webhookURL()
			if err := c.desk.SetSocialState(ctx, a.ID, st); err != nil {
				c.log.Warn("whatsapp: record state", "number", a.Handle, "err", err)
			}
		}
	}
	c.mu.Lock()
	c.numbers, c.tokens = numbers, tokens
	c.mu.Unlock()
}

// envelope is a webhook delivery as far as the handler reads it.
type envelope struct {
	Object string `json:"object"`
	Entry  []struct {
		Changes []struct {
			Field string `json:"field"`
			Value value  `json:"value"`
		} `json:"changes"`
	} `json:"entry"`
}

type value struct {
	Metadata struct {
		PhoneNumberID string `json:"phone_number_id"`
	} `json:"metadata"`
	Contacts []Contact         `json:"contacts"`
	Messages []json.RawMessage `json:"messages"`
	Statuses []json.RawMessage `json:"statuses"`
}

// Contact is the sender's profile in a delivery.
type Contact struct {
	WaID    string `json:"wa_id"`
	Profile struct {
		Name string `json:"name"`
	} `json:"profile"`
}

// ServeHTTP answers /hooks/whatsapp: GET is Meta's verification handshake
// (the verify token of a connected number); POST a delivery, whose
// X-Hub-Signature-256 must sign the body with the app secret of every
// number it is about, or nothing is stored (401). Each message and status
// is committed to the queue of deliveries (once, however often Meta
// retries) before the 200, and handled right after.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, ok := c.door.Open(w, r)
	if !ok {
		return
	}
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil || env.Object != "whatsapp_business_account" {
		social.WriteError(w, http.StatusBadRequest, "the body is not a WhatsApp webhook delivery")
		return
	}
	type queued struct {
		n    *number
		key  string
		item []byte
	}
	var work []queued
	checked := map[*number]bool{}
	sig := r.Header.Get(metahook.SignatureHeader)
	c.mu.RLock()
	for _, e := range env.Entry {
		for _, ch := range e.Changes {
			n := c.numbers[ch.Value.Metadata.PhoneNumberID]
			if n == nil {
				continue // a number not connected here (or switched off)
			}
			if !checked[n] {
				if !metahook.Valid(body, sig, n.cfg.AppSecret) {
					c.mu.RUnlock()
					c.door.Refuse(w, r, "wrong signature for "+n.acct.Handle)
					return
				}
				checked[n] = true
			}
			var contact *Contact
			if len(ch.Value.Contacts) > 0 {
				contact = &ch.Value.Contacts[0]
			}
			for _, m := range ch.Value.Messages {
				var id struct {
					ID string `json:"id"`
				}
				if json.Unmarshal(m, &id) == nil && id.ID != "" {
					b, _ := json.Marshal(item{Contact: contact, Message: m})
					work = append(work, queued{n, "m:" + id.ID, b})
				}
			}
			for _, s := range ch.Value.Statuses {
				var st struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				}
				if json.Unmarshal(s, &st) == nil && st.ID != "" {
					b, _ := json.Marshal(item{Status: s})
					work = append(work, queued{n, "s:" + st.ID + ":" + st.Status, b})
				}
			}
		}
	}
	c.mu.RUnlock()
	for n := range checked {
		if !c.hookLimit.Allow(n.cfg.PhoneNumberID) {
			w.Header().Set("Retry-After", "1")
			social.WriteError(w, http.StatusTooManyRequests, "too many deliveries")
			return
		}
	}
	for _, q := range work {
		if err := c.desk.QueueSocialUpdate(r.Context(), q.n.acct.ID, q.key, q.item); err != nil {
			c.log.Error("whatsapp: store a webhook delivery", "number", q.n.acct.Handle, "key", q.key, "err", err)
			social.WriteError(w, http.StatusInternalServerError, "not stored; send again")
			return
		}
	}
	if len(work) > 0 {
		c.inbox.Wake()
	}
	for n := range checked {
		c.delivered(r.Context(), n)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write([]byte("{}"))
}

// delivered records, at most once a minute per number, that Meta
// delivered to it (the app shows the number connected, with its last
// contact), after the answer.
func (c *Channel) delivered(ctx context.Context, n *number) {
	now := store.Now()
	if last, ok := c.lastOK.Load(n.acct.ID); ok && now.Sub(last.(time.Time)) < time.Minute {
		return
	}
	c.lastOK.Store(n.acct.ID, now)
	go func() {
		st := n.acct.State
		st.Mode, st.WebhookURL, st.LastOKAt, st.LastError, st.LastErrorI18n, st.LastErrorAt = "webhook", c.webhookURL(), &now, "", "", nil
		if err := c.desk.SetSocialState(context.WithoutCancel(ctx), n.acct.ID, st); err != nil {
			c.log.Warn("whatsapp: record state", "number", n.acct.Handle, "err", err)
		}
	}()
}

// item is one queued message or status, with the sender's profile.
type item struct {
	Contact *Contact        `json:"contact,omitempty"`
	Message json.RawMessage `json:"message,omitempty"`
	Status  json.RawMessage `json:"status,omitempty"`
}

// laneOf is the customer a queued item is about: their items are handled
// in order.
func laneOf(payload []byte) string {
	var it struct {
		Message *struct {
			From string `json:"from"`
		} `json:"message"`
		Status *struct {
			RecipientID string `json:"recipient_id"`
		} `json:"status"`
	}
	_ = json.Unmarshal(payload, &it)
	switch {
	case it.Message != nil:
		return it.Message.From
	case it.Status != nil:
		return it.Status.RecipientID
	}
	return ""
}
