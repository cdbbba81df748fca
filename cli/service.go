package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/kardianos/service"

	"onedesk/store"
)

// serviceName is what the service is called by every service manager
// (onedesk.service under systemd, /Library/LaunchDaemons/onedesk.plist,
// the Windows service onedesk).
const serviceName = "onedesk"

// flagValue is a flag of serve as given (on the command line or from
// ONEDESK_<NAME>), for service install to bake into the service.
type flagValue struct {
	name, value string
	changed     bool // not the flag's default
}

// changedFlags lists fs's flags after parsing.
func changedFlags(fs *flag.FlagSet) []flagValue {
	var out []flagValue
	fs.VisitAll(func(f *flag.Flag) {
		v := f.Value.String()
		out = append(out, flagValue{name: f.Name, value: v, changed: v != f.DefValue})
	})
	return out
}

// pathFlags are the flags that name files or folders: the service gets
// them absolute, since it runs from another directory.
var pathFlags = map[string]bool{"data": true, "tls-cert": true, "tls-key": true, "backup-dir": true, "certs": true}

// serviceConfig is what the service manager of goos (linux, windows,
// darwin) runs: onedesk serve with the flags install was given (the data
// file always, every path made absolute against wd), from the data
// file's folder, restarted when it fails. It only builds the description:
// install hands it to the service manager.
func serviceConfig(goos, wd string, flags []flagValue) *service.Config {
	abs := func(p string) string {
		if p == "" || filepath.IsAbs(p) || store.IsPostgres(p) {
			return p
		}
		return filepath.Join(wd, p)
	}
	args := []string{"serve"}
	data := ""
	for _, f := range flags {
		if f.name == "data" {
			data = abs(f.value)
			args = append(args, "--data="+data)
			continue
		}
		if !f.changed {
			continue
		}
		v := f.value
		if pathFlags[f.name] {
			v = abs(v)
		}
		args = append(args, "--"+f.name+"="+v)
	}
	if data == "" {
		data = abs("onedesk.db")
		args = append(args, "--data="+data)
	}
	// A PostgreSQL desk's service runs from the installer's folder (its
	// ACME certificates go there), and its command line, which everyone
	// on the machine can read, carries no password: PGPASSWORD in the
	// service's environment file, or a .pgpass, gives it.
	dir := filepath.Dir(data)
	if store.IsPostgres(data) {
		dir = wd
		for i, a := range args {
			if a == "--data="+data {
				args[i] = "--data=" + withoutPassword(data)
			}
		}
	}
	c := &service.Config{
		Name:             serviceName,
		DisplayName:      "onedesk helpdesk",
		Description:      "onedesk: email, chat and forms in one helpdesk (" + store.Redacted(data) + ")",
		Arguments:        args,
		WorkingDirectory: dir,
		Option:           service.KeyValue{},
	}
	switch goos {
	case "linux":
		// The network before us (a --domain needs it to reach the ACME
		// server); restarted on failure, not after a clean stop.
		c.Dependencies = []string{"Wants=network-online.target", "After=network-online.target"}
		c.Option["Restart"] = "on-failure"
		c.Option["LimitNOFILE"] = 65536 // a socket per open chat widget
		c.Option["SystemdScript"] = systemdUnit
	case "darwin":
		c.Option["KeepAlive"] = true
		c.Option["RunAtLoad"] = true
	case "windows":
		c.Option["StartType"] = "automatic"
		c.Option["OnFailure"] = "restart"
		c.Option["OnFailureDelayDuration"] = "5s"
		c.Option["OnFailureResetPeriod"] = 24 * 60 * 60 // seconds
	}
	return c
}

// systemdUnit is kardianos/service's unit (same template keys) with what
// a helpdesk wants: a restart 5 s after a failure rather than 2 min, time
// to stop gracefully, room for many websockets, no new privileges.
const systemdUnit = `[Unit]
Description={{Description}}
ConditionFileIsExecutable={{Path | cmdEscape}}
StartLimitIntervalSec=300
StartLimitBurst=10
{{range Dependencies}}{{.}}
{{end}}
[Service]
ExecStart={{Path | cmdEscape}}{{range Arguments}} {{. | cmd}}{{end}}
{{if WorkingDirectory}}WorkingDirectory={{WorkingDirectory | cmdEscape}}
{{end}}{{if UserName}}User={{UserName}}
{{end}}{{if LimitNOFILE}}LimitNOFILE={{LimitNOFILE}}
{{end}}Restart={{Restart}}
RestartSec=5
KillSignal=SIGTERM
TimeoutStopSec=20
NoNewPrivileges=true
PrivateTmp=true
EnvironmentFile=-/etc/default/{{Name}}
{{range EnvVars}}{{.}}
{{end}}
[Install]
WantedBy=multi-user.target
`

const serviceUsage = "the service command takes install, uninstall, start, stop or status: onedesk service install [--addr ... --data ...]"

// serviceCmd is onedesk service install|uninstall|start|stop|status.
func serviceCmd(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New(serviceUsage)
	}
	action, args := args[0], args[1:]
	cfg := &service.Config{Name: serviceName}
	noPassword := false // the database's password was left off the service's command line
	switch action {
	case "install":
		sc, err := serveConfig("service install", args, stderr)
		if err != nil {
			return err
		}
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		cfg = serviceConfig(runtime.GOOS, wd, sc.flags)
		noPassword = store.IsPostgres(sc.Data) && withoutPassword(sc.Data) != sc.Data
	case "uninstall", "start", "stop", "status":
		if len(args) > 0 {
			return fmt.Errorf("service %s takes no arguments", action)
		}
	default:
		return errors.New(serviceUsage)
	}
	s, err := service.New(&program{}, cfg)
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if action == "status" {
		st, err := s.Status()
		if f := serviceFile(s.Platform()); err != nil && f != "" {
			if _, serr := os.Stat(f); errors.Is(serr, os.ErrNotExist) {
				err = service.ErrNotInstalled // some managers fail to tell
			}
		}
		switch {
		case errors.Is(err, service.ErrNotInstalled):
			fmt.Fprintln(stdout, "not installed")
		case err != nil:
			return fmt.Errorf("service status (%s): %w", s.Platform(), err)
		case st == service.StatusRunning:
			fmt.Fprintln(stdout, "running")
		case st == service.StatusStopped:
			fmt.Fprintln(stdout, "stopped")
		default:
			fmt.Fprintln(stdout, "unknown")
		}
		return nil
	}
	if !isAdmin() {
		return fmt.Errorf("%s a service needs %s", serviceVerb(action), adminHint(action, args))
	}
	switch action {
	case "install":
		if err := s.Install(); err != nil {
			return fmt.Errorf("service install (%s): %w", s.Platform(), err)
		}
		fmt.Fprintf(stdout, "installed the %s service (%s), which runs:\n  %s %s\n",
			serviceName, s.Platform(), executable(), strings.Join(cfg.Arguments, " "))
		if noPassword {
			fmt.Fprintf(stdout, "the database's password is not on that line (anyone on this machine can read it): put PGPASSWORD=... in /etc/default/%s (chmod 600), or use a .pgpass file\n", serviceName)
		}
		fmt.Fprintln(stdout, "start it with: onedesk service start")
	case "uninstall":
		// A running service is stopped first; one already stopped is fine.
		if st, err := s.Status(); err == nil && st == service.StatusRunning {
			if err := s.Stop(); err != nil {
				return fmt.Errorf("service stop (%s): %w", s.Platform(), err)
			}
		}
		if err := s.Uninstall(); err != nil {
			return fmt.Errorf("service uninstall (%s): %w", s.Platform(), err)
		}
		fmt.Fprintf(stdout, "uninstalled the %s service; the data file is left where it was\n", serviceName)
	case "start":
		if err := s.Start(); err != nil {
			return fmt.Errorf("service start (%s): %w", s.Platform(), err)
		}
		fmt.Fprintf(stdout, "started the %s service\n", serviceName)
	case "stop":
		if err := s.Stop(); err != nil {
			return fmt.Errorf("service stop (%s): %w", s.Platform(), err)
		}
		fmt.Fprintf(stdout, "stopped the %s service\n", serviceName)
	}
	return nil
}

// serviceFile is where the service manager of platform keeps the
// service's definition ("" where that is not a file).
func serviceFile(platform string) string {
	switch platform {
	case "linux-systemd":
		return "/etc/systemd/system/" + serviceName + ".service"
	case "unix-systemv":
		return "/etc/init.d/" + serviceName
	case "darwin-launchd":
		return "/Library/LaunchDaemons/" + serviceName + ".plist"
	}
	return ""
}

func serviceVerb(action string) string {
	switch action {
	case "install":
		return "installing"
	case "uninstall":
		return "uninstalling"
	case "start":
		return "starting"
	}
	return "stopping"
}

// adminHint says how to run the command again with the rights it needs.
func adminHint(action string, args []string) string {
	cmd := strings.TrimSpace("onedesk service " + action + " " + strings.Join(args, " "))
	if runtime.GOOS == "windows" {
		return "administrator rights: open a Command Prompt or PowerShell with \"Run as administrator\" and run " + cmd + " again"
	}
	return "root: run it again with sudo: sudo " + cmd
}

func executable() string {
	exe, err := os.Executable()
	if err != nil {
		return "onedesk"
	}
	return exe
}

// underServiceManager tells whether this process was started by a
// service manager (systemd, launchd, the Windows SCM) rather than from a
// terminal or a container.
func underServiceManager() bool { return !service.Interactive() }

// program runs Serve for the service manager: Start returns at once,
// Stop cancels and waits for the graceful stop.
type program struct {
	cfg    ServeConfig
	cancel context.CancelFunc
	done   chan error
}

func (p *program) Start(service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel, p.done = cancel, make(chan error, 1)
	go func() {
		err := Serve(ctx, p.cfg)
		if err != nil && ctx.Err() == nil {
			// Stopped by itself (the port taken, the disk gone): exit
			// with an error so that the service manager restarts us.
			p.cfg.Log.Error("onedesk stopped", "err", err)
			os.Exit(1)
		}
		p.done <- err
	}()
	return nil
}

func (p *program) Stop(service.Service) error {
	p.cancel()
	select {
	case err := <-p.done:
		return err
	case <-time.After(shutdownTimeout + 2*time.Second):
		return errors.New("onedesk did not stop in time")
	}
}

// runService runs serve under the service manager. Under Windows the log
// goes to the event log; elsewhere standard error is the journal (systemd)
// or the log file (launchd).
func runService(cfg ServeConfig) error {
	p := &program{cfg: cfg}
	s, err := service.New(p, &service.Config{Name: serviceName})
	if err != nil {
		return fmt.Errorf("service: %w", err)
	}
	if runtime.GOOS == "windows" {
		if l, err := s.Logger(nil); err == nil {
			level := slog.LevelInfo
			for _, f := range cfg.flags {
				if f.name == "log-level" {
					level.UnmarshalText([]byte(f.value))
				}
			}
			p.cfg.Log = slog.New(&eventLogHandler{out: l, level: level})
		}
	}
	return s.Run()
}

// eventLogHandler writes records to a service.Logger (the Windows event
// log) at their level, as text without the time and level the event log
// keeps itself.
type eventLogHandler struct {
	out   service.Logger
	level slog.Leveler
	wrap  func(slog.Handler) slog.Handler // the WithAttrs and WithGroup so far
}

func (h *eventLogHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *eventLogHandler) Handle(ctx context.Context, r slog.Record) error {
	var b bytes.Buffer
	var th slog.Handler = slog.NewTextHandler(&b, &slog.HandlerOptions{Level: h.level,
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if len(groups) == 0 && (a.Key == slog.TimeKey || a.Key == slog.LevelKey) {
				return slog.Attr{}
			}
			return a
		}})
	if h.wrap != nil {
		th = h.wrap(th)
	}
	if err := th.Handle(ctx, r); err != nil {
		return err
	}
	msg := strings.TrimSpace(b.String())
	switch {
	case r.Level >= slog.LevelError:
		return h.out.Error(msg)
	case r.Level >= slog.LevelWarn:
		return h.out.Warning(msg)
	}
	return h.out.Info(msg)
}

func (h *eventLogHandler) with(f func(slog.Handler) slog.Handler) *eventLogHandler {
	prev := h.wrap
	return &eventLogHandler{out: h.out, level: h.level, wrap: func(th slog.Handler) slog.Handler {
		if prev != nil {
			th = prev(th)
		}
		return f(th)
	}}
}

func (h *eventLogHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return h.with(func(th slog.Handler) slog.Handler { return th.WithAttrs(as) })
}

func (h *eventLogHandler) WithGroup(name string) slog.Handler {
	return h.with(func(th slog.Handler) slog.Handler { return th.WithGroup(name) })
}

// withoutPassword is a PostgreSQL URL with its password left out.
func withoutPassword(data string) string {
	u, err := url.Parse(data)
	if err != nil || u.User == nil {
		return data
	}
	if _, ok := u.User.Password(); !ok {
		return data
	}
	u.User = url.User(u.User.Username())
	return u.String()
}
