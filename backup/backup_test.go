package backup

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedesk/store"
)

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestScheduledBackupsKeepTheNewest(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "shop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.SetSetting(ctx, "marker", "before the backup"); err != nil {
		t.Fatal(err)
	}
	bdir := filepath.Join(dir, "backups")
	os.Mkdir(bdir, 0o700)
	write := func(name string) {
		if err := os.WriteFile(filepath.Join(bdir, name), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("shop-20240101T000000Z.db")              // ours, oldest
	write("shop-20250101T000000Z.db")              // ours
	write("notes.txt")                             // not ours
	write("other-20200101T000000Z.db")             // another desk's
	write("shop-20200101T000000Z.db.bak")          // not our name
	write(".shop-20240101T000000Z.db.tmp-0a1b2c")  // ours, left by a crash
	write(".other-20240101T000000Z.db.tmp-0a1b2c") // another desk's temp

	s, err := New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), Config{Dir: bdir, Every: time.Hour, Keep: 2})
	if err != nil {
		t.Fatal(err)
	}
	st := s.Status()
	if !st.Enabled || st.LastSuccess == nil || st.LastSuccess.File != "shop-20250101T000000Z.db" || st.Last != nil {
		t.Fatalf("status before the first run: %+v", st)
	}
	go s.Run(ctx)
	// The newest backup is older than an hour: one is made at once.
	waitFor(t, "the first backup", func() bool { return s.Status().Last != nil })
	st = s.Status()
	if st.Last.Error != "" || st.LastSuccess != st.Last || st.Last.Size == 0 || st.NextAt == nil ||
		st.NextAt.Sub(st.Last.StartedAt) < 59*time.Minute || st.Kept != 2 {
		t.Fatalf("status after the first run: %+v %+v", st, st.Last)
	}
	first := filepath.Join(bdir, st.Last.File)
	if !strings.HasPrefix(st.Last.File, "shop-") || time.Since(st.Last.StartedAt) > time.Minute {
		t.Fatalf("backup name %s", st.Last.File)
	}
	if info, err := os.Stat(first); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("backup file %v %v", info, err)
	}
	if v, err := store.Verify(ctx, first, false); err != nil || !v.OK() {
		t.Fatalf("backup verdict %+v %v", v, err)
	}
	names := func() []string {
		entries, _ := os.ReadDir(bdir)
		var list []string
		for _, e := range entries {
			list = append(list, e.Name())
		}
		return list
	}
	got := strings.Join(names(), " ")
	for _, gone := range []string{"shop-20240101T000000Z.db", ".shop-20240101T000000Z.db.tmp-0a1b2c"} {
		if strings.Contains(got, gone+" ") || strings.HasSuffix(got, gone) {
			t.Fatalf("%s is still there: %s", gone, got)
		}
	}
	for _, kept := range []string{"shop-20250101T000000Z.db", "notes.txt", "other-20200101T000000Z.db", "shop-20200101T000000Z.db.bak", ".other-20240101T000000Z.db.tmp-0a1b2c"} {
		if !strings.Contains(got, kept) {
			t.Fatalf("%s was removed: %s", kept, got)
		}
	}

	// Back up now, in the next second (names are to the second): the
	// oldest of ours goes, so two stay.
	waitFor(t, "the next second", func() bool { return time.Now().UTC().Truncate(time.Second).After(st.Last.StartedAt) })
	if !s.Start() {
		t.Fatal("Start refused")
	}
	waitFor(t, "the second backup", func() bool { l := s.Status().Last; return l != nil && l.File != st.Last.File })
	st2 := s.Status()
	if st2.Last.Error != "" || st2.Kept != 2 {
		t.Fatalf("after back up now: %+v %+v", st2, st2.Last)
	}
	got = strings.Join(names(), " ")
	if strings.Contains(got, "shop-20250101T000000Z.db ") || !strings.Contains(got, st.Last.File) || !strings.Contains(got, st2.Last.File) {
		t.Fatalf("after pruning: %s", got)
	}
	// A backup opens with its desk's secret key, which is kept apart from
	// the backups (docs/operations.md): here, given as the environment.
	key, err := os.ReadFile(filepath.Join(dir, "shop.db.key"))
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(store.SecretKeyEnv, strings.TrimSpace(string(key)))
	copyDB, err := store.Open(ctx, filepath.Join(bdir, st2.Last.File))
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	if v, _ := copyDB.Setting(ctx, "marker"); v != "before the backup" {
		t.Fatalf("the backup holds %q", v)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	os.WriteFile(file, nil, 0o600)
	for _, c := range []struct {
		cfg  Config
		want string
	}{
		{Config{Dir: dir, Every: time.Second, Keep: 3}, "--backup-every must be at least 1m"},
		{Config{Dir: dir, Every: time.Hour, Keep: 0}, "--backup-keep must be at least 1"},
		{Config{Dir: file, Every: time.Hour, Keep: 3}, "is a file, not a directory"},
		{Config{Dir: filepath.Join(dir, "a", "b"), Every: time.Hour, Keep: 3}, "does not exist, nor does the directory to make it in"},
		{Config{Dir: filepath.Join(dir, "new"), Every: time.Hour, Keep: 3}, ""},
		{Config{Dir: dir, Every: 24 * time.Hour, Keep: 7}, ""},
	} {
		err := Check(c.cfg)
		if (c.want == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), c.want) {
			t.Errorf("Check(%+v) = %v, want %q", c.cfg, err, c.want)
		}
	}
	if os.Geteuid() != 0 {
		ro := filepath.Join(dir, "ro")
		os.Mkdir(ro, 0o500)
		if err := Check(Config{Dir: ro, Every: time.Hour, Keep: 1}); err == nil || !strings.Contains(err.Error(), "not writable") {
			t.Errorf("read-only directory: %v", err)
		}
	}
}
