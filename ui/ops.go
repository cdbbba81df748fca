package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/metrics"
	"onedesk/store"
)

// ops is what the operations endpoints keep: request counts for
// /metrics and the last write probe of /healthz.
type ops struct {
	once     sync.Once
	requests *metrics.CounterVec   // by route group and status class
	latency  *metrics.HistogramVec // by route group
	started  time.Time

	probeMu sync.Mutex
	probeAt time.Time // the last write probe that succeeded
}

func (o *ops) init() {
	o.once.Do(func() {
		o.requests = metrics.NewCounterVec("group", "code")
		o.latency = metrics.NewHistogramVec(metrics.DefBuckets, "group")
		o.started = time.Now()
	})
}

// routeGroup names the part of the surface a path belongs to, for
// /metrics (a few fixed values, never the path itself).
func routeGroup(path string) string {
	switch {
	case strings.HasPrefix(path, "/api/"):
		return "api"
	case path == "/agent/ws" || path == "/chat/ws":
		return "websocket"
	case strings.HasPrefix(path, "/chat/"):
		return "chat"
	case strings.HasPrefix(path, "/f/"):
		return "forms"
	case strings.HasPrefix(path, "/hooks/"):
		return "hooks"
	case path == "/healthz" || path == "/metrics":
		return path[1:]
	}
	return "app"
}

// measure counts requests by route group and status class and times
// them. Websockets are counted by the sockets open, not timed.
func (s *Server) measure(next http.Handler) http.Handler {
	s.ops.init()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		group := routeGroup(r.URL.Path)
		if group == "websocket" {
			next.ServeHTTP(w, r) // hijacked: the writer must stay the server's
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		code := rec.status
		if code == 0 {
			code = http.StatusOK
		}
		s.ops.requests.Inc(group, string(rune('0'+code/100))+"xx")
		s.ops.latency.Observe(time.Since(start).Seconds(), group)
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// health is /healthz's answer.
type health struct {
	Status    string          `json:"status"` // ok, degraded (a mailbox is stuck), or unavailable
	Error     string          `json:"error,omitempty"`
	Version   string          `json:"version"`
	Database  string          `json:"database"`
	Mailboxes []mailboxHealth `json:"mailboxes"`
	// SearchIndex is "ready", or how far the build of a desk upgraded
	// from an older version is (searches are slower until it is done).
	SearchIndex string `json:"search_index"`
	// Reports is "ready", or how far the count of a long history is (the
	// first start after an upgrade or a restore; reports show partial
	// figures until then).
	Reports string `json:"reports"`
}

type mailboxHealth struct {
	ID       int64      `json:"id"`
	Address  string     `json:"address"`
	LastPoll *time.Time `json:"last_poll"`
	Error    string     `json:"error"`
	// Status is ok, failing (the last poll failed) or stuck (failing for
	// several poll intervals, or at the same message again and again).
	Status string `json:"status"`
	Stuck  string `json:"stuck,omitempty"`
	// Reconnect: the mailbox's OAuth2 sign-in stopped working (Error
	// says why); an admin mends it with Reconnect in the app.
	Reconnect bool `json:"reconnect,omitempty"`
}

// probeEvery is how often /healthz proves the database takes writes; in
// between it answers from the last proof.
const probeEvery = time.Second

// healthz answers 200 when the database takes writes, with each active
// mailbox's last poll; 503 with the reason otherwise. The write probe
// rewrites one settings row (the file does not grow), at most once a
// second however often it is asked; a disk-full, I/O or corruption error
// met by any write in the last minute also makes it 503.
func (s *Server) healthz(c *fiber.Ctx, _ *principal) error {
	ctx, cancel := context.WithTimeout(c.UserContext(), 5*time.Second)
	defer cancel()
	h := health{Status: "ok", Version: s.opts.Version, Database: "ok", Mailboxes: []mailboxHealth{}}
	fail := func(reason string) {
		h.Status, h.Database, h.Error = "unavailable", reason, reason
	}
	if err := s.probe(ctx); err != nil {
		fail("the database does not take writes: " + faultSentence(err).String())
	} else if last, at := s.db.LastFault(); last != nil && time.Since(at) < time.Minute {
		fail("a write failed " + time.Since(at).Round(time.Second).String() + " ago: " + faultSentence(last).String())
	}
	boxes, err := s.db.Mailboxes(ctx)
	if err != nil && h.Error == "" {
		fail("the database cannot be read: " + faultSentence(err).String())
	}
	oauths, _ := s.db.MailboxOAuths(ctx) // read as the list above was; nil on error
	now := time.Now()
	var stuck []string
	for _, m := range boxes {
		if !m.Active {
			continue
		}
		mh := mailboxHealth{ID: m.ID, Address: m.Address, LastPoll: m.LastPolledAt, Error: m.LastError, Status: "ok"}
		if o := oauths[m.ID]; o != nil && o.GrantError != "" {
			mh.Error, mh.Reconnect = o.GrantError, true
		}
		if mh.Error != "" {
			mh.Status = "failing"
		}
		if mh.Stuck = desk.MailboxStuck(m, now); mh.Stuck != "" {
			mh.Status = "stuck"
			stuck = append(stuck, m.Address)
		}
		h.Mailboxes = append(h.Mailboxes, mh)
	}
	if len(stuck) > 0 && h.Status == "ok" {
		// The server runs, but mail stopped coming in: degraded, not down.
		// 200 still, as for any mailbox's error (the desk takes writes; a
		// restart would not help), and it says which mailboxes need someone.
		h.Status = "degraded"
		h.Error = "mailbox stuck: " + strings.Join(stuck, ", ")
	}
	h.SearchIndex = "ready"
	if !s.db.SearchReady() {
		left, buildErr, err := s.db.SearchBuildLeft(ctx)
		switch {
		case buildErr != "":
			h.SearchIndex = "the build stopped: " + buildErr
		case err == nil:
			h.SearchIndex = fmt.Sprintf("building: %d tickets left", left)
		}
	}
	if s.db.SearchMerging() {
		h.SearchIndex = "ready; merging its segments in the background"
	}
	h.Reports = "ready"
	if left, pct, counting := s.reports.Counting(); counting {
		h.Reports = fmt.Sprintf("counting the history: %d%% done, about %d events, messages and tickets left", pct, left)
	}
	if h.Database != "ok" {
		return c.Status(fiber.StatusServiceUnavailable).JSON(h)
	}
	return c.JSON(h)
}

// probe writes through the committer unless a write succeeded within
// probeEvery.
func (s *Server) probe(ctx context.Context) error {
	s.ops.probeMu.Lock()
	defer s.ops.probeMu.Unlock()
	if time.Since(s.ops.probeAt) < probeEvery {
		return nil
	}
	if err := s.desk.ProbeWrite(ctx, time.Now()); err != nil {
		return err
	}
	s.ops.probeAt = time.Now()
	return nil
}

// faultSentence says what a storage fault means for the person who met
// it; other errors are said as they are.
func faultSentence(err error) i18n.Sentence {
	if s, ok := desk.FaultSentence(err); ok {
		return s
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return i18n.S("it did not answer within 5 seconds")
	}
	return i18n.SentenceOf(err)
}

// isFault reports whether err is a full disk, a damaged file or an I/O
// error rather than anything the request did.
func isFault(err error) bool {
	_, ok := store.Fault(err)
	return ok
}

// faultStatus is the HTTP status of a storage fault: 507 for a full
// disk, 503 for the rest.
func faultStatus(err error) (int, bool) {
	kind, ok := store.Fault(err)
	switch {
	case !ok:
		return 0, false
	case kind == store.ErrDiskFull:
		return fiber.StatusInsufficientStorage, true
	}
	return fiber.StatusServiceUnavailable, true
}

// metricsAccess is who may read /metrics: agents who may change the
// desk's settings (admins), or anyone when started with --metrics-public.
func (s *Server) metricsAccess() access {
	if s.opts.MetricsPublic {
		return public
	}
	return settingsDesk
}

// metrics answers in Prometheus' text exposition format.
func (s *Server) metrics(c *fiber.Ctx, _ *principal) error {
	s.ops.init()
	var buf bytes.Buffer
	w := metrics.NewWriter(&buf)
	w.Gauge("onedesk_build_info", "The running onedesk's version.", 1, "version", s.opts.Version)
	s.ops.requests.Write(w, "onedesk_http_requests_total", "HTTP requests answered, by route group (api, app, chat, forms, hooks, healthz, metrics) and status class.")
	s.ops.latency.Write(w, "onedesk_http_request_duration_seconds", "Time to answer HTTP requests, by route group (websockets not included).")
	s.mu.Lock()
	agents := len(s.sockets)
	s.mu.Unlock()
	w.Gauge("onedesk_agent_websockets", "Agent app websockets open.", float64(agents))
	for _, collect := range s.opts.Collectors {
		collect(w)
	}
	if err := s.desk.Collect(c.UserContext(), w); err != nil {
		return err
	}
	s.hooks.Collect(w)
	if size, wal, err := s.db.FileSizes(); err == nil {
		w.Gauge("onedesk_database_size_bytes", "The database file's size.", float64(size))
		w.Gauge("onedesk_database_wal_size_bytes", "The database's write-ahead log's size.", float64(wal))
	}
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	w.Gauge("go_goroutines", "Goroutines that exist now.", float64(runtime.NumGoroutine()))
	w.Gauge("go_memstats_heap_alloc_bytes", "Heap bytes allocated and in use.", float64(ms.HeapAlloc))
	w.Gauge("go_memstats_sys_bytes", "Bytes obtained from the system.", float64(ms.Sys))
	w.Counter("go_gc_cycles_total", "Garbage collections completed.", float64(ms.NumGC))
	w.Gauge("process_start_time_seconds", "When the server started (Unix time).", float64(s.ops.started.Unix()))
	if err := w.Flush(); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, "text/plain; version=0.0.4; charset=utf-8")
	return c.Send(buf.Bytes())
}

// listBackups answers the scheduled backups' status.
func (s *Server) listBackups(c *fiber.Ctx, _ *principal) error {
	return c.JSON(s.opts.Backups.Status())
}

// startBackup makes a backup now, in the background: 202 with the status
// (running), which the app reads again until it is done.
func (s *Server) startBackup(c *fiber.Ctx, _ *principal) error {
	if s.opts.Backups == nil {
		return &apiError{Status: fiber.StatusConflict, Message: "scheduled backups are off: start onedesk with --backup-dir DIR to make them here"}
	}
	if !s.opts.Backups.Start() {
		return &apiError{Status: fiber.StatusConflict, Message: "a backup is being made already"}
	}
	return c.Status(fiber.StatusAccepted).JSON(s.opts.Backups.Status())
}
