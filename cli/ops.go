package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"onedesk/backup"
	"onedesk/store"
)

// opsFlags adds serve's flags for backups and metrics to fs; the
// returned func puts them into a config once fs is parsed.
func opsFlags(fs *flag.FlagSet) func(*ServeConfig) error {
	dir := fs.String("backup-dir", "", "make backups of the database into this directory (off when empty)")
	every := fs.Duration("backup-every", 24*time.Hour, "with --backup-dir: the time between backups (at least 1m)")
	keep := fs.Int("backup-keep", 7, "with --backup-dir: how many backups to keep, newest first (older ones of ours are removed)")
	public := fs.Bool("metrics-public", false, "answer /metrics to anyone, not only with an admin's session or API token")
	return func(cfg *ServeConfig) error {
		cfg.MetricsPublic = *public
		if *dir == "" {
			return nil
		}
		if store.IsPostgres(cfg.Data) {
			return errors.New("--backup-dir copies a SQLite file; a PostgreSQL database is backed up with pg_dump (onedesk backup runs it) or the server's own backups")
		}
		cfg.Backup = backup.Config{Dir: *dir, Every: *every, Keep: *keep}
		return backup.Check(cfg.Backup)
	}
}

// backupCmd is `onedesk backup FILE`: a consistent copy of the database,
// taken beside a running server without stopping or slowing it.
func backupCmd(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("backup", flag.ContinueOnError)
	data := dataFlag(fs)
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("backup needs one FILE to write: onedesk backup FILE")
	}
	target := fs.Arg(0)
	if _, err := os.Stat(target); err == nil {
		return fmt.Errorf("%s exists already: choose a new file name", target)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	start := time.Now()
	if store.IsPostgres(*data) {
		if err := pgDump(ctx, *data, target, stderr); err != nil {
			return err
		}
	} else if err := store.BackupFile(ctx, *data, target); err != nil {
		return err
	}
	size := int64(0)
	if st, err := os.Stat(target); err == nil {
		size = st.Size()
	}
	fmt.Fprintf(stdout, "backed up %s to %s (%s) in %s\n", store.Redacted(*data), target, bytesText(size), time.Since(start).Round(time.Millisecond))
	if source, err := store.SecretKeyStatus(ctx, *data); err == nil {
		fmt.Fprintf(stdout, "its secrets (mailbox passwords, tokens) are sealed with the key from %s: keep a copy of that key "+
			"safe, apart from the backups; a restore needs it\n", source)
	}
	return nil
}

// restore is `onedesk restore FILE`: the backup replaces the database,
// with the server stopped.
func restore(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("restore", flag.ContinueOnError)
	data := dataFlag(fs)
	force := fs.Bool("force", false, "replace the database at --data even if it holds one")
	if err := parse(fs, args, stderr); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("restore needs the backup FILE to restore: onedesk restore FILE [--data F] [--force]")
	}
	if store.IsPostgres(*data) {
		return fmt.Errorf("a PostgreSQL database is restored with PostgreSQL's pg_restore: pg_restore --clean --if-exists --no-owner --dbname=%q %s (with the onedesk servers stopped)", store.Redacted(*data), fs.Arg(0))
	}
	start := time.Now()
	if err := store.Restore(context.Background(), fs.Arg(0), *data, *force); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "restored %s into %s in %s (checked: integrity_check ok); start onedesk with --data %s\n",
		fs.Arg(0), *data, time.Since(start).Round(time.Millisecond), *data)
	if _, err := store.SecretKeyStatus(context.Background(), *data); err != nil {
		// The data is back; its secrets wait for their key.
		fmt.Fprintf(stdout, "before starting it: %v\n", err)
	}
	return nil
}

// check is `onedesk check [--quick] [serve's flags]`: it verifies the
// database and the configuration serve would run with, and fails when
// anything is wrong.
func check(args []string, stdout, stderr io.Writer) error {
	quick := false
	args = slices.DeleteFunc(slices.Clone(args), func(a string) bool {
		if a == "--quick" || a == "-quick" {
			quick = true
			return true
		}
		return false
	})
	cfg, err := serveConfig("check", args, stderr)
	if err != nil {
		return err
	}
	problems := 0
	say := func(ok bool, format string, a ...any) {
		mark := "ok  "
		if !ok {
			mark = "FAIL"
			problems++
		}
		fmt.Fprintf(stdout, "%s  %s\n", mark, fmt.Sprintf(format, a...))
	}
	note := func(format string, a ...any) { fmt.Fprintf(stdout, "      %s\n", fmt.Sprintf(format, a...)) }

	running := false
	if store.IsPostgres(cfg.Data) {
		checkPostgres(cfg.Data, say)
	} else {
		running = checkFile(cfg.Data, quick, say, note)
	}

	// Configuration.
	host, port, err := net.SplitHostPort(cfg.Addr)
	if err == nil {
		if n, perr := strconv.Atoi(port); perr != nil || n < 0 || n > 65535 {
			err = fmt.Errorf("the port must be a number up to 65535, not %q", port)
		} else if host != "" && net.ParseIP(host) == nil {
			if _, lerr := net.LookupHost(host); lerr != nil {
				err = fmt.Errorf("the host %q is not an address of this machine: %w", host, lerr)
			}
		}
	}
	if err != nil {
		say(false, "--addr %s: %v", cfg.Addr, err)
	} else if ln, lerr := net.Listen("tcp", cfg.Addr); lerr == nil {
		ln.Close()
		say(true, "--addr %s (free to listen on)", cfg.Addr)
	} else if running {
		say(true, "--addr %s (in use: the running server, presumably)", cfg.Addr)
	} else {
		say(false, "--addr %s cannot be listened on: %v", cfg.Addr, lerr)
	}
	if cfg.PublicURL != "" {
		u, err := url.Parse(cfg.PublicURL)
		if err == nil && u.Host == "" {
			err = errors.New("it has no host")
		}
		say(err == nil, "--public-url %s%s", cfg.PublicURL, errText(err))
		if err == nil && u.Scheme == "http" {
			note("over plain http, session cookies are not marked Secure: use https where agents log in over the internet")
		}
	}
	if cfg.TLSCert != "" {
		_, err := tls.LoadX509KeyPair(cfg.TLSCert, cfg.TLSKey)
		say(err == nil, "--tls-cert %s and --tls-key %s%s", cfg.TLSCert, cfg.TLSKey, errText(err))
	}
	if cfg.Backup.Dir != "" {
		// serveConfig checked it already (it would have failed).
		say(true, "--backup-dir %s is writable (every %s, keeping %d)", cfg.Backup.Dir, cfg.Backup.Every, cfg.Backup.Keep)
	} else if store.IsPostgres(cfg.Data) {
		note("backups of a PostgreSQL database are pg_dump's (onedesk backup FILE runs it) or the server's own")
	} else {
		note("no --backup-dir: no scheduled backups (see README, Backups)")
	}
	if problems > 0 {
		return fmt.Errorf("%d problem%s found", problems, map[bool]string{true: "s"}[problems > 1])
	}
	fmt.Fprintln(stdout, "no problems found")
	return nil
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return ": " + err.Error()
}

// bytesText is a size for people: 1.9 GB, 740 KB.
func bytesText(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}

// checkFile is check's part for a SQLite file: whether a server runs on
// it, its mode, integrity, foreign keys and schema, and its folder.
func checkFile(data string, quick bool, say func(bool, string, ...any), note func(string, ...any)) (running bool) {
	// Is a server running on the file? Then its port is busy, rightly.
	_, lockErr := os.Stat(data + ".lock")
	if release, err := store.Lock(data); err != nil {
		running = strings.Contains(err.Error(), "in use by another onedesk server")
	} else {
		release()
		if lockErr != nil {
			os.Remove(data + ".lock") // leave things as they were
		}
	}

	st, statErr := os.Stat(data)
	switch {
	case statErr != nil:
		say(false, "database %s: %v (serve would make a new, empty one)", data, statErr)
	default:
		say(true, "database %s (%s%s)", data, bytesText(st.Size()), map[bool]string{true: ", a server is running on it"}[running])
		if runtime.GOOS != "windows" {
			perm := st.Mode().Perm()
			say(perm&0o077 == 0, "file mode %#o%s", perm, map[bool]string{true: ": others may read it; run chmod 600 " + data}[perm&0o077 != 0])
		}
		start := time.Now()
		v, err := store.Verify(context.Background(), data, quick)
		if err != nil {
			say(false, "the file cannot be read as a database: %v", err)
			break
		}
		name := "integrity_check"
		if quick {
			name = "quick_check"
		}
		say(len(v.Integrity) == 0, "%s (%s)", name, time.Since(start).Round(time.Millisecond))
		for i, line := range v.Integrity {
			if i == 10 {
				note("... and %d more", len(v.Integrity)-10)
				break
			}
			note("%s", line)
		}
		if len(v.Integrity) == 0 {
			say(v.ForeignKeys == 0, "foreign keys (%d references pointing nowhere)", v.ForeignKeys)
		}
		checkSchema(v, say)
	}
	if statErr == nil {
		// The key the secrets (mailbox passwords, tokens) are sealed with.
		if source, err := store.SecretKeyStatus(context.Background(), data); err != nil {
			say(false, "%v", err)
		} else {
			say(true, "secret key: %s", source)
		}
	}
	if statErr == nil {
		dir := filepath.Dir(data)
		f, err := os.CreateTemp(dir, ".onedesk-check-*")
		if err == nil {
			f.Close()
			os.Remove(f.Name())
		}
		say(err == nil, "the database's directory %s is writable (for its -wal and -shm files)%s", dir, errText(err))
	}

	return running
}

// checkPostgres is check's part for a PostgreSQL database: it answers,
// and its schema is one this onedesk runs. Its pages and foreign keys are
// the server's to keep (amcheck and the server's own checks are its
// admin's tools), and several nodes share it, so there is no lock to test.
func checkPostgres(data string, say func(bool, string, ...any)) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	v, err := store.Verify(ctx, data, false)
	if err != nil {
		say(false, "database %s: %v", store.Redacted(data), err)
		return
	}
	say(true, "database %s (PostgreSQL %s, %s, %d tables)", store.Redacted(data), v.Server, bytesText(v.Size), v.Tables)
	checkSchema(v, say)
}

// checkSchema says whether this onedesk runs the database's schema.
func checkSchema(v *store.Verdict, say func(bool, string, ...any)) {
	switch {
	case v.Version > store.SchemaVersion():
		say(false, "schema version %d: written by a newer onedesk (this one knows %d); run that version", v.Version, store.SchemaVersion())
	case v.Version == 0:
		say(true, "schema version 0: empty (this onedesk makes its tables when it starts)")
	case v.Version < store.SchemaVersion():
		say(true, "schema version %d (this onedesk upgrades it to %d when it starts)", v.Version, store.SchemaVersion())
	default:
		say(true, "schema version %d (this onedesk's)", v.Version)
	}
}

// pgDump backs a PostgreSQL desk up the way PostgreSQL is backed up: with
// its own pg_dump (a custom-format archive, which pg_restore reads). The
// password goes to it through the environment, not its command line,
// which other users of the machine can read.
func pgDump(ctx context.Context, data, target string, stderr io.Writer) error {
	bin, err := exec.LookPath("pg_dump")
	if err != nil {
		return fmt.Errorf("a PostgreSQL database is backed up with PostgreSQL's pg_dump, which is not on this machine's PATH: install PostgreSQL's client tools (Debian: postgresql-client), or back it up the way the server's other databases are")
	}
	u, err := url.Parse(data)
	if err != nil {
		return fmt.Errorf("--data: %w", err)
	}
	env := os.Environ()
	if pw, ok := u.User.Password(); ok {
		env = append(env, "PGPASSWORD="+pw)
		u.User = url.User(u.User.Username())
	}
	// Owner-only, as a SQLite backup is: it holds every customer's mail.
	f, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	f.Close()
	cmd := exec.CommandContext(ctx, bin, "--format=custom", "--no-owner", "--file="+target, "--dbname="+u.String())
	cmd.Env, cmd.Stderr = env, stderr
	if err := cmd.Run(); err != nil {
		os.Remove(target)
		return fmt.Errorf("pg_dump %s: %w", store.Redacted(data), err)
	}
	return nil
}
