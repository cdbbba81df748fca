// Package ui is onedesk's one port: the net/http listener, the JSON API
// (Fiber, behind net/http), the agent websocket, authentication, limits
// and the embedded agent app.
package ui

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"onedesk/csat"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	gojson "github.com/goccy/go-json"
	"github.com/gofiber/fiber/v2"

	"onedesk/audit"
	"onedesk/backup"
	"onedesk/channels"
	"onedesk/desk"
	"onedesk/helpcentre"
	"onedesk/httperr"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/macros"
	"onedesk/metrics"
	"onedesk/notify"
	"onedesk/orderact"
	"onedesk/privacy"
	"onedesk/reports"
	"onedesk/rules"
	"onedesk/sla"
	"onedesk/snooze"
	"onedesk/store"
	"onedesk/webhooks"
)

// Options configure the server.
type Options struct {
	// PublicURL is where agents reach the desk (https://desk.example.com);
	// an https URL makes session cookies Secure.
	PublicURL string
	// APIRate is how many API requests per second one agent or token may
	// make (bursts of 10x that); 0 means the default, negative no limit.
	APIRate float64
	// LoginRate is how many login or setup attempts per minute one
	// address may make; 0 means the default.
	LoginRate float64
	// Version is reported by /healthz.
	Version string
	// Channels are the channels whose HTTP endpoints (Routes) the server
	// mounts beside the API, all public (see netRoutes); one holding
	// connections of its own (a Shutdowner: the chat's visitor sockets)
	// is stopped with the server.
	Channels []channels.Channel
	// Pages are public pages beside the channels (the customer portal's
	// /portal/), mounted as the channels' routes are.
	Pages []channels.Route
	// FormPreview renders a form for the app's editor (the forms
	// channel's Preview); nil answers that previews are unavailable.
	FormPreview func(context.Context, *store.Form, *store.Store, string) []byte
	// Backups makes the scheduled backups (GET/POST /api/backups); nil
	// when no --backup-dir was given.
	Backups *backup.Scheduler
	// MetricsPublic opens /metrics to anyone; otherwise it takes an
	// admin's session or API token.
	MetricsPublic bool
	// Collectors write the metrics of the parts the server does not know
	// (the chat's visitor sockets, the backups).
	Collectors []func(*metrics.Writer)
	// Reports answers /api/reports (the one whose Run runs); nil makes
	// one over the desk's database.
	Reports *reports.Reports
	// Webhooks manages the outgoing webhooks: the one whose Run runs, so
	// that a test post leaves at once; nil makes one over the desk's
	// database.
	Webhooks *webhooks.Hooks
	// Notify sends the agents' push notifications and digests (the one
	// whose Run runs); nil makes one over the desk. The server tells it
	// who is present.
	Notify *notify.Notifier
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed (see forwarded).
	TrustedProxies []netip.Prefix
	// TLS, when set, makes Serve answer HTTPS.
	TLS *tls.Config
	// Rules and SLA are the desk's rules and SLA clock, plugged into it by
	// the caller: /api/rules and /api/sla-policies answer through them,
	// and the reports read the clock. nil plugs a new one into the desk
	// (rules first, as the executable does), so leave them nil only when
	// nothing else plugged them in.
	Rules *rules.Engine
	SLA   *sla.Clock
	// OrderActions acts on tickets' shop orders (one is made when nil).
	OrderActions *orderact.Service
	// Help is the help centre: its public pages under /help/ and the
	// app's /api/help; nil makes one over the desk.
	Help *helpcentre.Centre
	// Macros and Snooze likewise (nil: new ones).
	Macros *macros.Service
	Snooze *snooze.Service
	// CSAT asks and records satisfaction ratings: its settings, the
	// ticket's ratings, the csat report and the rating pages (nil: none).
	CSAT *csat.Service
	// ShutdownTimeout bounds the stop: open requests and websockets get
	// this long to finish (7 s when 0).
	ShutdownTimeout time.Duration
}

// Shutdowner is a handler that holds connections of its own (the chat's
// visitor websockets): Serve stops it with the server.
type Shutdowner interface {
	Shutdown(ctx context.Context) error
}

// Server serves the agent app, the API and the agent websocket.
type Server struct {
	desk    *desk.Desk
	reports *reports.Reports
	hooks   *webhooks.Hooks
	notify  *notify.Notifier
	macros  *macros.Service
	snooze  *snooze.Service
	db      *store.DB
	log     *slog.Logger
	opts    Options
	app     *fiber.App
	handler http.Handler
	secure  bool
	static  *staticFiles

	apiLimit    *limit.Limiter
	loginLimit  *limit.Limiter
	publicLimit *limit.Limiter // every request without credentials, by address
	csvLimit    *limit.Limiter // imports of a CSV of customers, by agent
	signin      signinLimits   // forgotten-password mails (signin.go)

	creds credCache // who each recent session or token is (authcache.go)

	mu      sync.Mutex
	sockets map[*agentSocket]struct{}
	away    map[int64]bool // agents who set themselves away
	peers   peerPresence   // the other nodes' presence (nodes.go)

	presenceWatchers []func() // told when agents' presence may have changed (ws.go)
	closing          bool     // shutting down: no new agent sockets

	socketsWG sync.WaitGroup // agent websocket handlers running
	sockAuth  socketAuth     // sockets closed when their credential ends (wsauth.go)

	ops ops // /metrics counters and the /healthz probe (ops.go)

	auditLog *audit.Log         // the audit log (audit.go)
	privacy  *privacy.Service   // customers' exports and erasures (api_privacy.go)
	help     *helpcentre.Centre // the help centre (api_help.go)
}

// Size limits of request bodies.
const (
	maxJSONBody   = 1 << 20
	maxLoginBody  = 16 << 10
	maxUploadBody = 30 << 20 // a reply with attachments (25 MB of files)
)

// New builds the server.
func New(d *desk.Desk, log *slog.Logger, opts Options) *Server {
	s := &Server{desk: d, db: d.DB(), log: log, opts: opts, sockets: map[*agentSocket]struct{}{}, away: map[int64]bool{}}
	s.secure = strings.HasPrefix(opts.PublicURL, "https://")
	if s.opts.Rules == nil {
		s.opts.Rules = rules.New(d, log)
	}
	if s.opts.SLA == nil {
		s.opts.SLA = sla.New(d, log)
	}
	if s.opts.OrderActions == nil {
		s.opts.OrderActions = orderact.New(d, log)
	}
	if s.macros = opts.Macros; s.macros == nil {
		s.macros = macros.New(d, log)
		s.macros.SetOrderActions(orderact.Macros{S: s.opts.OrderActions}) // as the executable does
	}
	if s.snooze = opts.Snooze; s.snooze == nil {
		s.snooze = snooze.New(d, log)
	}
	if s.reports = opts.Reports; s.reports == nil {
		s.reports = reports.New(s.db, s.opts.SLA, log)
	}
	if opts.CSAT != nil {
		s.reports.AddReport("csat", opts.CSAT.ReportProvider())
	}
	if s.hooks = opts.Webhooks; s.hooks == nil {
		s.hooks = webhooks.New(s.db, log)
	}
	if s.notify = opts.Notify; s.notify == nil {
		s.notify = notify.New(d, log, notify.Options{PublicURL: opts.PublicURL})
	}
	s.notify.SetPresent(s.AgentWatching)
	s.auditLog, s.privacy = audit.New(s.db, log), privacy.New(d, log)
	if s.help = opts.Help; s.help == nil {
		s.help = helpcentre.New(d, log)
	}
	apiRate := opts.APIRate
	if apiRate == 0 {
		apiRate = 50
	}
	loginRate := opts.LoginRate
	if loginRate == 0 {
		loginRate = 10
	}
	s.apiLimit = d.NewLimiter("api", apiRate, int(max(apiRate*10, 1)))
	s.loginLimit = d.NewLimiter("login", loginRate/60, int(max(loginRate/2, 1)))
	s.publicLimit = d.NewLimiter("public", 30, 200)
	s.csvLimit = d.NewLimiter("customers-csv", 0.1, 5) // a few in a row, then one each 10 s
	s.signin = newSigninLimits(d)
	s.static = loadStatic()
	for _, ch := range opts.Channels {
		// A channel that shows agents' presence (the chat widget) is
		// handed it here, and told when it changes.
		if w, ok := ch.(interface {
			WatchPresence(online func(storeID int64) bool) func()
		}); ok {
			s.presenceWatchers = append(s.presenceWatchers, w.WatchPresence(s.StoreOnline))
		}
	}

	s.app = fiber.New(fiber.Config{
		ErrorHandler:          s.errorHandler,
		DisableStartupMessage: true,
		BodyLimit:             maxUploadBody, // readBody sets each route's own limit
		ReadBufferSize:        16 << 10,
		// goccy/go-json writes the same bytes as encoding/json (checked on
		// a page of tickets) in about half the time; a ticket list is the
		// biggest answer most requests get.
		JSONEncoder: gojson.Marshal,
	})
	s.app.Use(securityHeaders)
	for _, r := range s.routes() {
		s.app.Add(r.method, r.path, s.guard(s.withAudit(r)))
	}
	s.app.Use(s.fallback)

	mux := http.NewServeMux()
	for _, r := range s.netRoutes() {
		if r.access == public && (strings.HasPrefix(r.pattern, "/api/") || strings.HasPrefix(r.pattern, "/agent/")) {
			// A public endpoint there would answer beside the agents' own,
			// past their authentication.
			log.Error("a channel's route is under the agents' paths: not mounted", "pattern", r.pattern)
			continue
		}
		mux.Handle(r.pattern, r.handler)
	}
	mux.Handle("/", s.fiberHandler())
	s.handler = s.forwarded(s.measure(mux))
	return s
}

// Handler is the whole HTTP surface on one handler.
func (s *Server) Handler() http.Handler { return s.handler }

// Serve answers on ln until ctx ends, then stops gracefully: no new
// connections (see drainListener), open websockets closed with a frame
// that tells clients to reconnect, requests in flight finished, all
// within Options.ShutdownTimeout.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	var stopping atomic.Bool
	var conns atomic.Int64 // open HTTP connections, websockets not counted
	srv := &http.Server{
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if stopping.Load() {
				w.Header().Set("Connection", "close") // the client must not reuse it
			}
			s.handler.ServeHTTP(w, r)
		}),
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				conns.Add(1)
			case http.StateHijacked, http.StateClosed:
				conns.Add(-1)
			}
		},
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	ln, drain := newDrainListener(ln)
	if s.opts.TLS != nil {
		srv.TLSConfig = s.opts.TLS
		ln = tls.NewListener(ln, s.opts.TLS)
	}
	go s.janitor(ctx)
	go s.sharePresence(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	timeout := s.opts.ShutdownTimeout
	if timeout <= 0 {
		timeout = 7 * time.Second
	}
	sctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	stopping.Store(true)
	var wg sync.WaitGroup
	wg.Go(func() { s.closeSockets(sctx) })
	for _, ch := range s.opts.Channels {
		if sh, ok := ch.(Shutdowner); ok {
			wg.Go(func() {
				if err := sh.Shutdown(sctx); err != nil {
					s.log.Warn("shutdown", "err", err)
				}
			})
		}
	}
	if drain != nil {
		drain.drain(time.Now().Add(timeout / 4))
	}
	// A kept-alive connection closed while its client sends the next
	// request fails that request. So for a moment every answer closes its
	// connection (Connection: close), and busy clients leave on their own;
	// only those idle all along are closed under them.
	grace := time.Now().Add(keepAliveGrace)
	for conns.Load() > 0 && time.Now().Before(grace) {
		time.Sleep(10 * time.Millisecond)
	}
	shutErr := srv.Shutdown(sctx)
	wg.Wait()
	if shutErr != nil {
		srv.Close()
		return fmt.Errorf("shutdown: requests still open after %s were cut: %w", timeout, shutErr)
	}
	return nil
}

// keepAliveGrace is how long a stop lets kept-alive connections close
// after an answer before closing them itself.
const keepAliveGrace = time.Second

// janitor drops expired sessions and idle rate-limit entries.
func (s *Server) janitor(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.desk.EndExpiredSessions(ctx); err != nil {
				s.log.Warn("drop expired sessions", "err", err)
			}
			s.apiLimit.Sweep(30 * time.Minute)
			s.loginLimit.Sweep(30 * time.Minute)
			s.publicLimit.Sweep(30 * time.Minute)
			s.signin.sweep()
		}
	}
}

func writeJSONError(w http.ResponseWriter, status int, msg, field string) {
	httperr.Write(w, status, msg, field)
}

func securityHeaders(c *fiber.Ctx) error {
	h := &c.Response().Header
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; "+
		"img-src 'self' data: blob:; connect-src 'self'; frame-src 'self' blob:; object-src 'none'; "+
		"base-uri 'none'; form-action 'self'; frame-ancestors 'none'; manifest-src 'self'; worker-src 'self'")
	return c.Next()
}

func (s *Server) fallback(c *fiber.Ctx) error {
	p := c.Path()
	if strings.HasPrefix(p, "/api/") || p == "/api" {
		return errNotFoundRoute
	}
	if c.Method() != fiber.MethodGet && c.Method() != fiber.MethodHead {
		return &apiError{Status: fiber.StatusMethodNotAllowed, Message: "method not allowed"}
	}
	if !s.publicLimit.Allow(c.IP()) {
		return errTooMany
	}
	return s.static.serve(c)
}

var errTooMany = &apiError{Status: fiber.StatusTooManyRequests, Message: "too many requests from your address: wait a few seconds and try again"}

var errNotFoundRoute = &apiError{Status: fiber.StatusNotFound, Message: "no such API endpoint"}

// apiError is an error with the HTTP status and field to report.
type apiError struct {
	Status  int
	Message string // in English, for logs
	Field   string
	// Sentence is Message kept as format and arguments for the reader's
	// language (zero: Message is the catalog key itself).
	Sentence i18n.Sentence
}

// in is the error's sentence in lang.
func (e *apiError) in(lang string) string {
	if e.Sentence.IsZero() {
		return i18n.Server().Sprintf(lang, e.Message)
	}
	return e.Sentence.In(lang)
}

func (e *apiError) Error() string { return e.Message }

type errorBody = httperr.Body

// errorHandler answers every error of a Fiber route as httperr.Write
// answers the rest of the port.
func (s *Server) errorHandler(c *fiber.Ctx, err error) error {
	status, body := s.classify(c, err)
	if status == fiber.StatusTooManyRequests {
		c.Set("Retry-After", "10")
	}
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSON)
	c.Set(fiber.HeaderCacheControl, "no-store")
	return c.Status(status).Send(httperr.JSON(body.Error, body.Field))
}

// classify is the status and body of an error answer, its sentence in the
// request's language (the English stays in err for the log).
func (s *Server) classify(c *fiber.Ctx, err error) (int, errorBody) {
	lang := requestLanguage(c)
	var ae *apiError
	var fe *fiber.Error
	if errors.As(err, &ae) {
		return ae.Status, errorBody{Error: ae.in(lang), Field: ae.Field}
	}
	var te *desk.TransitionError
	if errors.As(err, &te) {
		return fiber.StatusConflict, errorBody{Error: te.In(lang), Field: te.Field}
	}
	if ie, ok := desk.IsInput(err); ok {
		return fiber.StatusBadRequest, errorBody{Error: ie.In(lang), Field: ie.Field}
	}
	switch {
	case errors.Is(err, store.ErrNotFound):
		return fiber.StatusNotFound, errorBody{Error: notFoundSentence(err).In(lang)}
	case errors.Is(err, store.ErrBadCursor):
		return fiber.StatusBadRequest, errorBody{Error: i18n.S("the cursor is not valid for this list").In(lang), Field: "cursor"}
	case isFault(err):
		status, _ := faultStatus(err)
		s.log.Error("write failed", "method", c.Method(), "path", c.Path(), "err", err)
		return status, errorBody{Error: faultSentence(err).In(lang)}
	case errors.Is(err, desk.ErrSetupDone):
		return fiber.StatusConflict, errorBody{Error: i18n.SentenceOf(err).In(lang)}
	case errors.As(err, &fe):
		if fe.Code == fiber.StatusRequestEntityTooLarge {
			return fe.Code, errorBody{Error: i18n.S("the request body is larger than %d KB", maxJSONBody>>10).In(lang)}
		}
		msg := fe.Message
		if msg == "" {
			msg = http.StatusText(fe.Code)
		}
		return fe.Code, errorBody{Error: strings.ToLower(msg[:1]) + msg[1:]}
	}
	s.log.Error("request failed", "method", c.Method(), "path", c.Path(), "err", err)
	return fiber.StatusInternalServerError, errorBody{Error: i18n.S("something went wrong on the server; the error is in its log").In(lang)}
}

// notFoundSentence says what is missing in the reader's language: a
// thing the catalogs name by id ("ticket %d does not exist") as its own
// sentence, anything else as the store named it.
func notFoundSentence(err error) i18n.Sentence {
	var nf *store.NotFoundError
	if !errors.As(err, &nf) {
		return i18n.S("not found")
	}
	if nf.ID != 0 {
		for _, s := range notFoundSentences {
			if strings.TrimSuffix(s.Format, " %d does not exist") == nf.Thing {
				return i18n.S(s.Format, nf.ID)
			}
		}
		return i18n.S("%s does not exist", fmt.Sprintf("%s %d", nf.Thing, nf.ID))
	}
	return i18n.S("%s does not exist", nf.Thing)
}

// notFoundSentences name the things the store reports missing by id; each
// is a whole sentence so that languages with genders can agree with it.
var notFoundSentences = []i18n.Sentence{
	i18n.S("ticket %d does not exist"), i18n.S("message %d does not exist"), i18n.S("customer %d does not exist"),
	i18n.S("store %d does not exist"), i18n.S("mailbox %d does not exist"), i18n.S("form %d does not exist"),
	i18n.S("rule %d does not exist"), i18n.S("saved reply %d does not exist"), i18n.S("SLA policy %d does not exist"),
	i18n.S("team %d does not exist"), i18n.S("webhook %d does not exist"), i18n.S("agent %d does not exist"),
	i18n.S("attachment %d does not exist"), i18n.S("event %d does not exist"), i18n.S("social account %d does not exist"),
	i18n.S("token %d does not exist"), i18n.S("macro %d does not exist"),
}
