// Package backup takes scheduled backups of the live database into a
// directory: one file per run named with its UTC time, the newest N
// kept, each run logged and its outcome kept for the admin app and
// /metrics.
package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"onedesk/audit"
	"onedesk/metrics"
	"onedesk/store"
)

// Config says where and how often.
type Config struct {
	Dir   string        // where backups go (created owner-only if missing)
	Every time.Duration // time between backups
	Keep  int           // how many of ours to keep, newest first
}

// Run is one backup's outcome.
type Run struct {
	File       string    `json:"file"` // the file's name in the directory
	Size       int64     `json:"size"`
	StartedAt  time.Time `json:"started_at"`
	DurationMS int64     `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
}

// Status is what the admin app shows.
type Status struct {
	Enabled      bool       `json:"enabled"` // a backup directory is set
	Dir          string     `json:"dir,omitempty"`
	EverySeconds int64      `json:"every_seconds,omitempty"`
	Keep         int        `json:"keep,omitempty"`
	Running      bool       `json:"running"`
	Last         *Run       `json:"last"`         // the latest attempt
	LastSuccess  *Run       `json:"last_success"` // the latest backup made
	NextAt       *time.Time `json:"next_at"`
	Kept         int        `json:"kept"` // our backups in the directory now
}

// Scheduler makes the backups. The zero of its methods' answers when
// backups are off is a Status with Enabled false.
type Scheduler struct {
	db   *store.DB
	log  *slog.Logger
	cfg  Config
	stem string         // the data file's name without .db: stem-20261123T153000Z.db
	ours *regexp.Regexp // our backups' names
	temp *regexp.Regexp // our temporary files, left by a crash

	kick     chan struct{}
	mu       sync.Mutex
	running  bool
	last     *Run
	success  *Run
	next     time.Time
	failures float64
}

const stamp = "20060102T150405Z"

// New checks cfg and reads what earlier runs left in the directory.
func New(db *store.DB, log *slog.Logger, cfg Config) (*Scheduler, error) {
	if err := Check(cfg); err != nil {
		return nil, err
	}
	stem := strings.TrimSuffix(filepath.Base(db.Path()), filepath.Ext(db.Path()))
	s := &Scheduler{db: db, log: log, cfg: cfg, stem: stem, kick: make(chan struct{}, 1),
		ours: regexp.MustCompile(`^` + regexp.QuoteMeta(stem) + `-(\d{8}T\d{6}Z)\.db$`),
		temp: regexp.MustCompile(`^\.` + regexp.QuoteMeta(stem) + `-\d{8}T\d{6}Z\.db\.tmp-[0-9a-f]+(-journal)?$`)}
	if err := os.MkdirAll(cfg.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("--backup-dir: %w", err)
	}
	list, err := s.list()
	if err != nil {
		return nil, err
	}
	if len(list) > 0 {
		newest := list[0]
		s.success = &newest
	}
	return s, nil
}

// Check says what is wrong with cfg, in terms of serve's flags: the
// directory must be one we can write in.
func Check(cfg Config) error {
	if cfg.Every < time.Minute {
		return fmt.Errorf("--backup-every must be at least 1m, not %s", cfg.Every)
	}
	if cfg.Keep < 1 {
		return fmt.Errorf("--backup-keep must be at least 1, not %d", cfg.Keep)
	}
	st, err := os.Stat(cfg.Dir)
	if errors.Is(err, os.ErrNotExist) {
		// Made on start; its parent must be there to make it in.
		parent := filepath.Dir(filepath.Clean(cfg.Dir))
		if pst, err := os.Stat(parent); err != nil || !pst.IsDir() {
			return fmt.Errorf("--backup-dir %s does not exist, nor does the directory to make it in", cfg.Dir)
		}
		return writable(parent, cfg.Dir)
	}
	if err != nil {
		return fmt.Errorf("--backup-dir: %w", err)
	}
	if !st.IsDir() {
		return fmt.Errorf("--backup-dir %s is a file, not a directory", cfg.Dir)
	}
	return writable(cfg.Dir, cfg.Dir)
}

// writable tries making a file in dir.
func writable(dir, flag string) error {
	f, err := os.CreateTemp(dir, ".onedesk-check-*")
	if err != nil {
		return fmt.Errorf("--backup-dir %s is not writable: %w", flag, err)
	}
	f.Close()
	os.Remove(f.Name())
	return nil
}

// list reads our backups in the directory, newest first, and removes
// the temporary files of runs a crash cut short.
func (s *Scheduler) list() ([]Run, error) {
	entries, err := os.ReadDir(s.cfg.Dir)
	if err != nil {
		return nil, fmt.Errorf("read the backup directory: %w", err)
	}
	var list []Run
	for _, e := range entries {
		if s.temp.MatchString(e.Name()) {
			s.mu.Lock()
			running := s.running
			s.mu.Unlock()
			if !running {
				os.Remove(filepath.Join(s.cfg.Dir, e.Name()))
			}
			continue
		}
		m := s.ours.FindStringSubmatch(e.Name())
		if m == nil || !e.Type().IsRegular() {
			continue
		}
		at, err := time.Parse(stamp, m[1])
		if err != nil {
			continue
		}
		r := Run{File: e.Name(), StartedAt: at}
		if info, err := e.Info(); err == nil {
			r.Size = info.Size()
		}
		list = append(list, r)
	}
	slices.SortFunc(list, func(a, b Run) int { return b.StartedAt.Compare(a.StartedAt) })
	return list, nil
}

// Run makes a backup every cfg.Every (counted from the newest one in the
// directory; at once when that is older), and when Start asks, until ctx
// ends.
func (s *Scheduler) Run(ctx context.Context) {
	s.mu.Lock()
	s.next = time.Now()
	if s.success != nil {
		s.next = s.success.StartedAt.Add(s.cfg.Every)
	}
	s.mu.Unlock()
	for {
		s.mu.Lock()
		wait := time.Until(s.next)
		s.mu.Unlock()
		t := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		case <-s.kick:
			t.Stop()
		}
		next := s.cfg.Every
		if err := s.backup(ctx); err != nil {
			next = min(next, retryAfter) // not a day without a backup
		}
		s.mu.Lock()
		s.next = time.Now().Add(next)
		s.mu.Unlock()
	}
}

// Start asks Run for a backup now; false when one is running already.
func (s *Scheduler) Start() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running {
		return false
	}
	select {
	case s.kick <- struct{}{}:
		s.running = true // so the status says so at once
		return true
	default:
		return false // asked already
	}
}

// retryAfter is when a failed backup is tried again.
const retryAfter = 15 * time.Minute

// backup makes one backup and prunes the old ones.
func (s *Scheduler) backup(ctx context.Context) error {
	start := time.Now().UTC()
	name := s.stem + "-" + start.Format(stamp) + ".db"
	s.mu.Lock()
	s.running = true
	s.mu.Unlock()
	err := s.db.Backup(ctx, filepath.Join(s.cfg.Dir, name))
	r := &Run{File: name, StartedAt: start.Truncate(time.Second), DurationMS: time.Since(start).Milliseconds()}
	if err == nil {
		if st, serr := os.Stat(filepath.Join(s.cfg.Dir, name)); serr == nil {
			r.Size = st.Size()
		}
	} else {
		r.Error = err.Error()
	}
	s.mu.Lock()
	s.running = false
	s.last = r
	if err == nil {
		s.success = r
	} else {
		s.failures++
	}
	s.mu.Unlock()
	if err != nil {
		if ctx.Err() != nil {
			return err // stopping: not worth an error in the log
		}
		s.log.Error("backup failed", "dir", s.cfg.Dir, "err", err)
		s.audit(ctx, "backup.failed", map[string]any{"file": name})
		return err
	}
	s.log.Info("backup written", "file", filepath.Join(s.cfg.Dir, name), "size", r.Size, "duration", time.Duration(r.DurationMS)*time.Millisecond)
	s.audit(ctx, "backup.written", map[string]any{"file": name, "size": r.Size})
	s.prune()
	return nil
}

// audit notes a backup in the audit log: a copy of every customer's
// data went somewhere.
func (s *Scheduler) audit(ctx context.Context, kind string, data map[string]any) {
	audit.New(s.db, s.log).Record(ctx, audit.Entry{ActorKind: audit.BySystem, ActorName: "backups", Kind: kind, Data: data})
}

// prune removes our oldest backups beyond cfg.Keep; other files stay.
func (s *Scheduler) prune() {
	list, err := s.list()
	if err != nil {
		s.log.Warn("backup: prune", "err", err)
		return
	}
	for _, r := range list[min(s.cfg.Keep, len(list)):] {
		path := filepath.Join(s.cfg.Dir, r.File)
		if err := os.Remove(path); err != nil {
			s.log.Warn("backup: remove an old backup", "file", path, "err", err)
			continue
		}
		s.log.Info("old backup removed", "file", path)
	}
}

// Status is the state for the admin app. A nil Scheduler is off.
func (s *Scheduler) Status() Status {
	if s == nil {
		return Status{}
	}
	list, _ := s.list()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Enabled: true, Dir: s.cfg.Dir, EverySeconds: int64(s.cfg.Every / time.Second), Keep: s.cfg.Keep,
		Running: s.running, Last: s.last, LastSuccess: s.success, Kept: len(list)}
	if !s.next.IsZero() && !s.running {
		next := s.next.UTC().Truncate(time.Second)
		st.NextAt = &next
	}
	return st
}

// Collect writes the backup metrics.
func (s *Scheduler) Collect(w *metrics.Writer) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w.Counter("onedesk_backup_failures_total", "Scheduled or requested backups that failed since start.", s.failures)
	if s.success != nil {
		w.Gauge("onedesk_backup_last_success_timestamp_seconds", "When the newest backup was started (Unix time).", float64(s.success.StartedAt.Unix()))
		w.Gauge("onedesk_backup_last_size_bytes", "The newest backup's size.", float64(s.success.Size))
	}
	if s.last != nil {
		w.Gauge("onedesk_backup_last_duration_seconds", "How long the latest backup took.", float64(s.last.DurationMS)/1000)
	}
}
