// Package cli is onedesk's command line: serve (the default), service
// (install, uninstall, start, stop, status), user add, backup, restore,
// check, version and dev seed. Every flag can also come from
// ONEDESK_<FLAG>. It wires the parts: the store, the desk and the packages
// beside it, the channels and the HTTP server.
package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"onedesk/backup"
	"onedesk/channels"
	"onedesk/channels/chat"
	"onedesk/channels/email"
	"onedesk/channels/forms"
	"onedesk/channels/meta"
	"onedesk/channels/telegram"
	"onedesk/channels/whatsapp"
	"onedesk/csat"
	"onedesk/desk"
	"onedesk/helpcentre"
	"onedesk/macros"
	"onedesk/metrics"
	"onedesk/netguard"
	"onedesk/notify"
	"onedesk/orderact"
	"onedesk/portal"
	"onedesk/privacy"
	"onedesk/reports"
	"onedesk/rules"
	"onedesk/sla"
	"onedesk/snooze"
	"onedesk/store"
	"onedesk/ui"
	"onedesk/webhooks"
)

// Version is set at build time with -ldflags "-X onedesk/cli.Version=v1.2.3".
var Version = ""

func version() string {
	if Version != "" {
		return Version
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		rev, dirty := "", false
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			}
		}
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if rev != "" {
			if dirty {
				rev += "-dirty"
			}
			return "dev-" + rev
		}
	}
	return "dev"
}

const usage = `onedesk: an omnichannel helpdesk in one executable.

Usage:
  onedesk [serve] [--addr 127.0.0.1:8080] [--data ./onedesk.db]   start the helpdesk
  onedesk user add --email E --name N --password P [--role admin|agent]
  onedesk backup FILE                                             copy the live database to FILE
  onedesk restore FILE [--force]                                  put a backup in place (server stopped)
  onedesk check [--quick] [serve's flags]                         verify the database and the configuration
  onedesk copy --from onedesk.db --to postgres://...              move a desk to another database (files too)
  onedesk key rotate [--data F]                                   seal every secret with a new key (see docs/operations.md)
  onedesk key new                                                 print a new key for ONEDESK_SECRET_KEY
  onedesk service install [serve's flags] | uninstall | start | stop | status
  onedesk version
  onedesk dev seed --tickets N                                    fill a database with sample tickets
  onedesk import zendesk|helpscout --url U --token T FILE...      move tickets and customers from another helpdesk (docs/import.md)

--data is a SQLite file (the default) or a PostgreSQL 14+ database given as
postgres://user:password@host/db (or postgresql://...).

Every flag can be set by an environment variable: --data is ONEDESK_DATA,
--public-url is ONEDESK_PUBLIC_URL, and so on. Run 'onedesk COMMAND --help'
for a command's flags.
`

// Run runs the command line and returns the process exit code.
func Run(args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "serve":
		err = serve(args, stderr)
	case "user":
		if len(args) == 0 || args[0] != "add" {
			err = errors.New("the user command takes 'add': onedesk user add --email E --name N --password P")
			break
		}
		err = userAdd(args[1:], stdout, stderr)
	case "backup":
		err = backupCmd(args, stdout, stderr)
	case "restore":
		err = restore(args, stdout, stderr)
	case "check":
		err = check(args, stdout, stderr)
	case "copy":
		err = copyCmd(args, stdout, stderr)
	case "key":
		err = keyCmd(args, stdout, stderr)
	case "service":
		err = serviceCmd(args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, "onedesk", version())
	case "dev":
		err = dev(args, stdout, stderr)
	case "import":
		err = importCmd(args, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
	default:
		err = fmt.Errorf("unknown command %q: run 'onedesk help' for the commands", cmd)
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "onedesk:", err)
		return 1
	}
	return 0
}

// parse reads flags, filling any flag not given from ONEDESK_<NAME>.
// parseInterleaved parses flags wherever they stand among the positional
// arguments, so `onedesk backup FILE --data F` (as a cron line is often
// written) means what `onedesk backup --data F FILE` means; the standard
// flag package would stop at FILE and silently leave --data at its default.
// After "--" everything is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) error {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return err
		}
		rest := fs.Args()
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			positional = append(positional, rest...)
			break
		}
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	return fs.Parse(append([]string{"--"}, positional...))
}

func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(io.Discard)
	if err := parseInterleaved(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fs.SetOutput(stderr)
			fmt.Fprintf(stderr, "Flags of onedesk %s (each also ONEDESK_<NAME>):\n", fs.Name())
			fs.PrintDefaults()
			return err
		}
		return fmt.Errorf("%s: %w (run 'onedesk %s --help')", fs.Name(), err, fs.Name())
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		env := "ONEDESK_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(env); ok && !given[f.Name] && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s=%q is not valid for --%s: %w", env, v, f.Name, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	if fs.NArg() > 0 && fs.Name() != "backup" && fs.Name() != "restore" && !strings.HasPrefix(fs.Name(), "import ") {
		return fmt.Errorf("%s: unexpected argument %q (run 'onedesk %s --help')", fs.Name(), fs.Arg(0), fs.Name())
	}
	return nil
}

func dataFlag(fs *flag.FlagSet) *string {
	return fs.String("data", "./onedesk.db", "the SQLite database file (created if missing), or a PostgreSQL database: postgres://user:password@host/db")
}

func filesFlag(fs *flag.FlagSet) *string {
	return fs.String("files", "", "keep attachments and raw mail in S3-compatible storage: s3://bucket[/prefix]?endpoint=host:port&region=R&tls=false "+
		"(keys in ONEDESK_S3_ACCESS_KEY and ONEDESK_S3_SECRET_KEY); empty: in the database")
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level must be debug, info, warn or error, not %q", level)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func serve(args []string, stderr io.Writer) error {
	cfg, err := serveConfig("serve", args, stderr)
	if err != nil {
		return err
	}
	if underServiceManager() {
		return runService(cfg)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return Serve(ctx, cfg)
}

// serveConfig reads and checks serve's flags. Other commands that take
// the same flags (check) read them here too, under their own name.
func serveConfig(name string, args []string, stderr io.Writer) (ServeConfig, error) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "the address to listen on (host:port); with --domain, :443 unless given")
	data := dataFlag(fs)
	files := filesFlag(fs)
	publicURL := fs.String("public-url", "", "the URL agents and customers reach this desk at, like https://desk.example.com")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	apiRate := fs.Float64("api-rate", 50, "API requests per second per agent or token (bursts of 10x); -1 for no limit")
	applyOps := opsFlags(fs)
	var tlsFlags ServeConfig
	httpsFlags(fs, &tlsFlags)
	telegramAPI := fs.String("telegram-api", telegram.DefaultAPI, "the Telegram Bot API's address (a local Bot API server)")
	metaAPI := fs.String("meta-api", meta.DefaultAPI, "the Graph API address Messenger and Instagram calls go to (with its version)")
	whatsappAPI := fs.String("whatsapp-api", whatsapp.DefaultAPI, "the Graph API address WhatsApp Cloud API calls go to (with its version)")
	allowPrivate := fs.Bool("allow-private-networks", false, "let webhooks, order lookups, mailboxes and the social channels "+
		"connect to loopback, private and link-local addresses (a mail server on the shop's own network, a local Bot API server)")
	trusted := fs.String("trusted-proxy", "", "addresses (CIDR, comma-separated) of reverse proxies whose X-Forwarded-For and X-Forwarded-Proto are believed")
	if err := parse(fs, args, stderr); err != nil {
		return ServeConfig{}, err
	}
	if *publicURL != "" && !strings.HasPrefix(*publicURL, "http://") && !strings.HasPrefix(*publicURL, "https://") {
		return ServeConfig{}, fmt.Errorf("--public-url must start with http:// or https://, not %q", *publicURL)
	}
	log, err := newLogger(stderr, *logLevel)
	if err != nil {
		return ServeConfig{}, err
	}
	if *apiRate == 0 {
		return ServeConfig{}, errors.New("--api-rate must be above 0, or -1 for no limit")
	}
	cfg := tlsFlags
	cfg.Addr, cfg.Data, cfg.PublicURL, cfg.APIRate, cfg.Log = *addr, *data, *publicURL, *apiRate, log
	if cfg.Files = *files; store.CheckFiles(cfg.Files) != nil {
		return ServeConfig{}, store.CheckFiles(cfg.Files)
	}
	cfg.TelegramAPI = *telegramAPI
	cfg.MetaAPI = *metaAPI
	cfg.WhatsAppAPI = *whatsappAPI
	cfg.AllowPrivateNetworks = *allowPrivate
	if cfg.TrustedProxies, err = parseCIDRs(*trusted); err != nil {
		return ServeConfig{}, err
	}
	if err := cfg.checkHTTPS(fs); err != nil {
		return ServeConfig{}, err
	}
	cfg.flags = changedFlags(fs)
	if err := applyOps(&cfg); err != nil {
		return ServeConfig{}, err
	}
	return cfg, nil
}

// ServeConfig is what Serve needs.
type ServeConfig struct {
	Addr      string
	Data      string
	Files     string // where files' bytes are kept: "" the database, or s3://...
	PublicURL string
	APIRate   float64
	Log       *slog.Logger
	// Ready, when set, receives the listening address once requests are answered.
	Ready func(addr string)
	// Backup makes scheduled backups when its Dir is set.
	Backup backup.Config
	// MetricsPublic answers /metrics to anyone (else admins only).
	MetricsPublic bool
	// TelegramAPI is the Bot API's address ("" is Telegram's own).
	TelegramAPI string
	// MetaAPI is the Graph API's address for Messenger and Instagram
	// ("" is Meta's own).
	MetaAPI string
	// WhatsAppAPI is the Graph API's address ("" is Meta's own).
	WhatsAppAPI string
	// AllowPrivateNetworks lets outbound connections reach internal
	// addresses (see netguard).
	AllowPrivateNetworks bool

	// HTTPS: a certificate and key (files), or a Domain whose certificates
	// come from an ACME directory (Let's Encrypt unless ACMEDirectory).
	TLSCert, TLSKey          string
	Domain                   string
	ACMEEmail, ACMEDirectory string
	// CertDir is where ACME certificates are kept ("": see certDir).
	CertDir string
	// HTTPAddr, with HTTPS, is a second listener for plain HTTP that
	// redirects to HTTPS and answers ACME http-01 challenges.
	HTTPAddr string
	// TrustedProxies are the peers whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix

	flags []flagValue // the flags not at their defaults, for service install
}

// Serve runs the helpdesk until ctx ends, then stops within
// shutdownTimeout: no new connections, requests and websockets finished
// (ui.Server.Serve), background work stopped, the log checkpointed into
// the database file, the file closed.
func Serve(ctx context.Context, cfg ServeConfig) error {
	start := time.Now()
	netguard.AllowPrivateNetworks(cfg.AllowPrivateNetworks)
	if cfg.AllowPrivateNetworks {
		cfg.Log.Warn("outbound connections may reach private, loopback and link-local addresses (--allow-private-networks)")
	}
	release, err := store.Lock(cfg.Data)
	if err != nil {
		return err
	}
	defer release()
	db, err := store.Open(ctx, cfg.Data, store.WithFiles(cfg.Files))
	if err != nil {
		return err
	}
	defer db.Close()
	d := desk.New(db, cfg.Log)
	// Rules and the SLA clock act inside the desk's ticket transactions;
	// the reports read business time and SLA targets from the clock.
	ruleEngine, slaClock := rules.New(d, cfg.Log), sla.New(d, cfg.Log)
	snoozer, macroSvc := snooze.New(d, cfg.Log), macros.New(d, cfg.Log)
	// Satisfaction surveys: scheduled inside the resolving transaction,
	// after the rules; the links in mails need the public address.
	var publicBase atomic.Value
	publicBase.Store(cfg.PublicURL)
	surveys := csat.New(d, cfg.Log, func() string { return publicBase.Load().(string) })
	reps := reports.New(db, slaClock, cfg.Log)
	webhooksOut := webhooks.New(db, cfg.Log)
	// Order actions from tickets: the app's order panel and macros share them.
	orderActions := orderact.New(d, cfg.Log)
	macroSvc.SetOrderActions(orderact.Macros{S: orderActions}) // macros may name an order action
	notifier := notify.New(d, cfg.Log, notify.Options{})       // the server tells it who is present
	mailCh := email.New(d, cfg.Log)
	chatCh := chat.New(d, cfg.Log)
	var backups *backup.Scheduler
	if cfg.Backup.Dir != "" {
		if backups, err = backup.New(db, cfg.Log, cfg.Backup); err != nil {
			return err
		}
	}
	formsCh := forms.New(d, cfg.Log)
	hookURL := cfg.PublicURL
	if hookURL == "" && cfg.Domain != "" {
		hookURL = "https://" + strings.Split(cfg.Domain, ",")[0] // its own certificate: Telegram can post to it
	}
	tgCh := telegram.New(d, cfg.Log, telegram.Options{APIURL: cfg.TelegramAPI, PublicURL: hookURL})
	metaCh := meta.New(d, cfg.Log, meta.Options{APIURL: cfg.MetaAPI, PublicURL: hookURL})
	waCh := whatsapp.New(d, cfg.Log, whatsapp.Options{APIURL: cfg.WhatsAppAPI, PublicURL: hookURL})
	all := []channels.Channel{mailCh, chatCh, formsCh, tgCh, metaCh, waCh}
	customerPortal := portal.New(d, cfg.Log, portal.Options{PublicURL: cfg.PublicURL})
	help := helpcentre.New(d, cfg.Log)
	help.PublicURL = cfg.PublicURL
	tlsOn, err := cfg.https(db)
	if err != nil {
		return err
	}
	srv := ui.New(d, cfg.Log, ui.Options{PublicURL: cfg.PublicURL, APIRate: cfg.APIRate, Version: version(),
		Channels: all, FormPreview: formsCh.Preview, Pages: customerPortal.Routes(),
		Backups: backups, MetricsPublic: cfg.MetricsPublic, Collectors: []func(*metrics.Writer){chatCh.Collect, backups.Collect, notifier.Collect},
		Reports: reps, Webhooks: webhooksOut, Notify: notifier, Rules: ruleEngine, SLA: slaClock, OrderActions: orderActions,
		Macros: macroSvc, Snooze: snoozer, CSAT: surveys,
		TrustedProxies: cfg.TrustedProxies, TLS: tlsOn.tls, ShutdownTimeout: shutdownTimeout * 7 / 10, Help: help})
	chatCh.Online = srv.AgentsOnline
	d.Online = srv.AgentOnline
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	if cfg.HTTPAddr != "" && tlsOn.tls != nil {
		pln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen on %s (plain HTTP, redirected to HTTPS): %w", cfg.HTTPAddr, err)
		}
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		go serveInsecure(ctx, pln, tlsOn.insecure(port), cfg.Log)
	}
	url := cfg.PublicURL
	switch {
	case url == "" && cfg.Domain != "":
		url = "https://" + strings.Split(cfg.Domain, ",")[0]
	case url == "" && tlsOn.tls != nil:
		url = "https://" + ln.Addr().String()
	case url == "":
		url = "http://" + ln.Addr().String()
	}
	publicBase.Store(url) // without --public-url, links in mails work on this machine at least
	// Background work stops after the requests, with its own context.
	work := newWorkers()
	if backups != nil {
		work.GoLeased(db, cfg.Log, "backups", backups.Run) // a backup being written is finished or cut before the file closes
	}
	work.Go("other nodes", d.FollowNodes)
	work.GoLeased(db, cfg.Log, "outbox", d.RunOutbox)
	work.GoLeased(db, cfg.Log, "webhooks", func(ctx context.Context) { webhooksOut.Run(ctx, d) })
	work.GoLeased(db, cfg.Log, "notify", func(ctx context.Context) { notifier.Run(ctx, d) })
	work.GoLeased(db, cfg.Log, "sweeps", func(ctx context.Context) {
		runSweeps(ctx, time.Minute, cfg.Log, ruleEngine, slaClock, d, privacy.New(d, cfg.Log), snoozer)
	})
	work.GoLeased(db, cfg.Log, "reports", func(ctx context.Context) { reps.Run(ctx, d, 5*time.Second) })
	work.GoLeased(db, cfg.Log, "satisfaction surveys", surveys.Run)
	work.GoLeased(db, cfg.Log, "order actions", orderActions.Run) // settles actions a crash left pending
	work.Go("search index", func(ctx context.Context) { logSearchBuild(ctx, db, cfg.Log) })
	work.Go("search merge", func(ctx context.Context) { db.RunSearchMerge(ctx, cfg.Log) })
	work.Go("help centre", help.Run)
	for _, ch := range all {
		work.GoLeased(db, cfg.Log, ch.Name(), ch.Run)
	}
	work.Go("portal", customerPortal.Run)
	notifier.SetPublicURL(url) // links in pushes and digests
	cfg.Log.Info("onedesk is running", "url", url, "data", db.Path(), "files", db.Files(), "version", version(), "startup", time.Since(start).Round(time.Millisecond))
	if n, err := db.CountAgents(ctx); err == nil && n == 0 {
		cfg.Log.Info("first run: open the URL to create the admin account", "url", url)
	}
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr().String())
	}
	var stopping atomic.Int64 // when ctx ended, unix ns
	context.AfterFunc(ctx, func() { stopping.Store(time.Now().UnixNano()) })
	err = srv.Serve(ctx, ln)
	began := time.Now()
	if ns := stopping.Load(); ns != 0 {
		began = time.Unix(0, ns)
	}
	work.stop(began.Add(shutdownTimeout*9/10), cfg.Log)
	cctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if cerr := db.Checkpoint(cctx); cerr != nil {
		cfg.Log.Warn("shutdown: the log could not be checkpointed; the next start does it", "err", cerr)
	}
	cfg.Log.Info("onedesk stopped", "in", time.Since(began).Round(time.Millisecond))
	return err
}

func userAdd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("user add", flag.ContinueOnError)
	data := dataFlag(fs)
	email := fs.String("email", "", "the agent's email (their login)")
	name := fs.String("name", "", "the agent's name")
	password := fs.String("password", "", "the password (at least 8 characters); - reads it from standard input")
	role := fs.String("role", "agent", "admin, supervisor, agent or light")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if *email == "" || *name == "" || *password == "" {
		return errors.New("user add needs --email, --name and --password")
	}
	if *password == "-" {
		line, err := bufio.NewReader(os.Stdin).ReadString('\n')
		if err != nil && line == "" {
			return errors.New("no password on standard input")
		}
		*password = strings.TrimRight(line, "\r\n")
	}
	ctx := context.Background()
	db, err := store.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	d := desk.New(db, slog.New(slog.NewTextHandler(stderr, nil)))
	a, err := d.CreateAgent(ctx, desk.AgentInput{Email: *email, Name: *name, Password: *password, Role: *role})
	if err != nil {
		if ie, ok := desk.IsInput(err); ok {
			return fmt.Errorf("--%s: %s", ie.Field, ie.Message)
		}
		return err
	}
	fmt.Fprintf(stdout, "added %s %s <%s> (id %d)\n", a.Role, a.Name, a.Email, a.ID)
	return nil
}

// logSearchBuild says in the log while the search index of a desk from
// an older version is being built (searches are slower meanwhile), and
// when it is done.
func logSearchBuild(ctx context.Context, db *store.DB, log *slog.Logger) {
	if db.SearchReady() {
		return
	}
	start := time.Now()
	tick := time.NewTicker(30 * time.Second)
	defer tick.Stop()
	for {
		left, buildErr, err := db.SearchBuildLeft(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			log.Warn("search index", "err", err)
		case buildErr != "":
			log.Warn("search index: the build stopped; searches read the older index", "err", buildErr)
			return
		case err == nil:
			log.Info("search index: still indexing; searches read the older, slower index until then", "tickets_left", left)
		}
		select {
		case <-ctx.Done():
			return
		case <-db.SearchBuilt():
			log.Info("search index: built", "took", time.Since(start).Round(time.Second))
			return
		case <-tick.C:
		}
	}
}

// dev holds commands for developers: dev seed fills a database with
// sample data for trying the app and for the benchmarks.
func dev(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "seed" {
		return errors.New("the dev command takes 'seed': onedesk dev seed --tickets N --data FILE")
	}
	fs := flag.NewFlagSet("dev seed", flag.ContinueOnError)
	data := dataFlag(fs)
	tickets := fs.Int("tickets", 1000, "how many tickets to add")
	perTicket := fs.Int("messages-per-ticket", 3, "messages per ticket, on average")
	agents := fs.Int("agents", 12, "how many agents to add (password: password123)")
	customers := fs.Int("customers", 0, "how many customers the tickets come from (0: a third of the tickets)")
	if err := parse(fs, args[1:], stderr); err != nil {
		return err
	}
	if *tickets < 1 || *perTicket < 1 || *agents < 1 || *customers < 0 || *customers > *tickets {
		return errors.New("--tickets, --messages-per-ticket and --agents must be above 0, and --customers at most --tickets")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	release, err := store.Lock(*data)
	if err != nil {
		return err
	}
	defer release()
	db, err := store.Open(ctx, *data)
	if err != nil {
		return err
	}
	defer db.Close()
	hash, err := desk.HashPassword("password123")
	if err != nil {
		return err
	}
	start := time.Now()
	last := start
	err = db.Seed(ctx, store.SeedOptions{Tickets: *tickets, MessagesPerTicket: *perTicket, Agents: *agents, Teams: 4, Stores: 3, Customers: *customers,
		PasswordHash: hash, Seed: uint64(time.Now().UnixNano())}, func(done int) {
		if time.Since(last) > 5*time.Second || done == *tickets {
			last = time.Now()
			fmt.Fprintf(stdout, "%d tickets (%s)\n", done, time.Since(start).Round(time.Second))
		}
	})
	if err != nil {
		return err
	}
	// Count the reports' history now, so that a seeded desk is ready to
	// measure at its first start rather than counting in the background.
	counted := time.Now()
	log := slog.New(slog.NewTextHandler(stderr, nil))
	reps := reports.New(db, sla.New(desk.New(db, log), log), log)
	for done := false; !done; {
		if done, err = reps.Refresh(ctx, 200); err != nil {
			return err
		}
		if !done && time.Since(last) > 5*time.Second {
			last = time.Now()
			fmt.Fprintf(stdout, "counting reports (%s)\n", time.Since(counted).Round(time.Second))
		}
	}
	// And merge the search index's segments, which the server would do
	// in the background at its first start.
	if err := db.MergeSearchIndex(ctx, log); err != nil {
		return err
	}
	if err := db.Checkpoint(ctx); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "seeded %d tickets into %s in %s; agents log in as agent1@seed.test (admin) ... with password123\n",
		*tickets, store.Redacted(*data), time.Since(start).Round(time.Second))
	return nil
}
