package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"onedesk/store"
)

// addTickets writes n tickets, each in a write of its own.
func addTickets(ctx context.Context, db *store.DB, from, n int) error {
	for i := from; i < from+n; i++ {
		err := db.Write(ctx, func(tx *store.Tx) error {
			c := &store.Customer{Name: fmt.Sprintf("W%d", i), CreatedAt: store.Now(),
				Identities: []store.Identity{{Kind: "email", Value: fmt.Sprintf("w%d@x.test", i)}}}
			if err := tx.InsertCustomer(ctx, c); err != nil {
				return err
			}
			tk := &store.Ticket{Subject: fmt.Sprintf("Written %d", i), Status: "new", Priority: "normal", Channel: "api",
				CustomerID: c.ID, CreatedAt: store.Now(), UpdatedAt: store.Now()}
			if err := tx.InsertTicket(ctx, tk); err != nil {
				return err
			}
			return tx.InsertMessage(ctx, &store.Message{TicketID: tk.ID, Kind: "customer", Channel: "api",
				Body: strings.Repeat("words in a message ", 40), CreatedAt: store.Now()})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

func countTickets(t *testing.T, path string) int {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list, _, err := db.ListTickets(context.Background(), store.TicketFilter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

// TestBackupWhileWriting backs up a database in small steps while another
// goroutine keeps writing to it: the backup is a sound snapshot, and the
// writes went on during it.
func TestBackupWhileWriting(t *testing.T) {
	defer store.SetBackupStep(8)()
	ctx := context.Background()
	dir := t.TempDir()
	db, err := store.Open(ctx, filepath.Join(dir, "live.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := addTickets(ctx, db, 0, 300); err != nil {
		t.Fatal(err)
	}
	var written atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := addTickets(ctx, db, i, 1); err != nil {
				t.Error(err)
				return
			}
			written.Add(1)
		}
	}()
	for written.Load() == 0 {
		runtime.Gosched()
	}
	before := written.Load()
	// On a busy machine the writer may not be scheduled before a small
	// backup ends: after its first step the backup waits (up to a
	// generous deadline) for one write to commit, which it must allow.
	var waited sync.Once
	defer store.SetAfterBackupStep(func() {
		waited.Do(func() {
			deadline := time.Now().Add(30 * time.Second)
			for written.Load() == before && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
		})
	})()
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	during := written.Load() - before
	close(stop)
	wg.Wait()
	if during == 0 {
		t.Fatal("no write committed while the backup ran")
	}
	v, err := store.Verify(ctx, backup, false)
	if err != nil || !v.OK() || v.Version != store.SchemaVersion() {
		t.Fatalf("backup verdict %+v, %v", v, err)
	}
	if m := mode(t, backup); m != 0o600 {
		t.Fatalf("backup mode %v, want 0600", m)
	}
	// The backup holds the first 300 tickets and the ones written before
	// its snapshot; no half-written one.
	copyDB, err := store.Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer copyDB.Close()
	for _, id := range []int64{1, 150, 300} {
		tk, err := copyDB.Ticket(ctx, id)
		if err != nil || tk.Subject != fmt.Sprintf("Written %d", id-1) {
			t.Fatalf("ticket %d in the backup: %v %v", id, tk, err)
		}
	}
	if err := db.Backup(ctx, backup); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("backup over an existing file: %v", err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".backup.db.tmp-*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}
	t.Logf("%d writes committed during the backup", during)
}

// TestBackupFileBesideServer copies a file another connection holds open
// for writing, as `onedesk backup` does beside a running server.
func TestBackupFileBesideServer(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	release, err := store.Lock(live)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	db, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := addTickets(ctx, db, 0, 20); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.db")
	if err := store.BackupFile(ctx, live, out); err != nil {
		t.Fatal(err)
	}
	if v, err := store.Verify(ctx, out, false); err != nil || !v.OK() {
		t.Fatalf("verdict %+v %v", v, err)
	}
	if n := countTickets(t, out); n != 20 {
		t.Fatalf("%d tickets in the copy", n)
	}
	if err := store.BackupFile(ctx, filepath.Join(dir, "none.db"), filepath.Join(dir, "x.db")); err == nil {
		t.Fatal("backup of a missing file")
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Fatal("backup created the missing database")
	}
}

// TestOwnerOnlyFiles opens a new database, writes, and backs it up under
// the most permissive umask: the file, its -wal and -shm and the backup
// are readable by their owner alone.
func TestOwnerOnlyFiles(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("file modes are Unix permissions")
	}
	old := setUmask(0)
	defer setUmask(old)
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "desk.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := addTickets(ctx, db, 0, 3); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(ctx, filepath.Join(dir, "b.db")); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm", path + ".lock", filepath.Join(dir, "b.db")} {
		if p == path+".lock" {
			release, err := store.Lock(path)
			if err != nil {
				t.Fatal(err)
			}
			release()
		}
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), m)
		}
	}
}

func TestRestore(t *testing.T) {
	old := setUmask(0o022)
	defer setUmask(old)
	ctx := context.Background()
	dir := t.TempDir()
	live := filepath.Join(dir, "desk.db")
	db, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	if err := addTickets(ctx, db, 0, 5); err != nil {
		t.Fatal(err)
	}
	backup := filepath.Join(dir, "b.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	if err := addTickets(ctx, db, 5, 3); err != nil { // after the backup: in the WAL
		t.Fatal(err)
	}

	// While the server runs (holds the lock), restore refuses.
	release, err := store.Lock(live)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Restore(ctx, backup, live, true); err == nil || !strings.Contains(err.Error(), "in use by another onedesk server") {
		t.Fatalf("restore beside a server: %v", err)
	}
	release()

	// A stopped server's file that was not checkpointed: -wal beside it.
	db.Close()
	if err := store.Restore(ctx, backup, live, false); err == nil || !strings.Contains(err.Error(), "pass --force") {
		t.Fatalf("restore over a database without --force: %v", err)
	}
	if n := countTickets(t, live); n != 8 {
		t.Fatalf("refused restore changed the database: %d tickets", n)
	}
	// Leave a -wal from the old database as a crash would.
	db2, err := store.Open(ctx, live)
	if err != nil {
		t.Fatal(err)
	}
	if err := addTickets(ctx, db2, 8, 1); err != nil {
		t.Fatal(err)
	}
	walCopy, err := os.ReadFile(live + "-wal")
	if err != nil {
		t.Fatal(err)
	}
	db2.Close()
	if err := os.WriteFile(live+"-wal", walCopy, 0o600); err != nil {
		t.Fatal(err)
	}

	// A damaged backup is refused and the database stays.
	bad := filepath.Join(dir, "bad.db")
	raw, _ := os.ReadFile(backup)
	for i := 4096 * 2; i < len(raw) && i < 4096*6; i++ {
		raw[i] = byte(i * 7)
	}
	os.WriteFile(bad, raw, 0o600)
	if err := store.Restore(ctx, bad, live, true); err == nil || !strings.Contains(err.Error(), "not restored") && !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("restore of a damaged backup: %v", err)
	}
	if _, err := os.Stat(live + "-wal"); err != nil {
		t.Fatal("a refused restore removed the database's -wal")
	}
	if err := store.Restore(ctx, filepath.Join(dir, "nothing.db"), live, true); err == nil || !strings.Contains(err.Error(), "no backup at") {
		t.Fatalf("restore of a missing file: %v", err)
	}

	if err := store.Restore(ctx, backup, live, true); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(live + "-wal"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the old -wal is still beside the restored file: %v", err)
	}
	if m := mode(t, live); m != 0o600 {
		t.Fatalf("restored file mode %v", m)
	}
	if n := countTickets(t, live); n != 5 {
		t.Fatalf("restored database has %d tickets, want the backup's 5", n)
	}
	if v, err := store.Verify(ctx, live, false); err != nil || !v.OK() {
		t.Fatalf("restored verdict %+v %v", v, err)
	}
	if leftovers, _ := filepath.Glob(filepath.Join(dir, ".desk.db.tmp-*")); len(leftovers) != 0 {
		t.Fatalf("temporary files left: %v", leftovers)
	}

	// Into a new place: no --force needed.
	fresh := filepath.Join(dir, "new", "desk.db")
	os.Mkdir(filepath.Dir(fresh), 0o700)
	if err := store.Restore(ctx, backup, fresh, false); err != nil {
		t.Fatal(err)
	}
	if n := countTickets(t, fresh); n != 5 {
		t.Fatalf("%d tickets", n)
	}
}

// TestVerifyFindsDamage damages a table's pages: Verify lists problems,
// and a write that meets the damage fails as ErrCorrupt.
func TestVerifyFindsDamage(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := addTickets(ctx, db, 0, 200); err != nil {
		t.Fatal(err)
	}
	db.Close() // checkpoints: everything is in the main file
	v, err := store.Verify(ctx, path, false)
	if err != nil || !v.OK() {
		t.Fatalf("sound file: %+v %v", v, err)
	}
	// Scribble over the leaf pages of the tickets table.
	rawDB, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	var pages []int
	rows, err := rawDB.Query("SELECT pageno FROM dbstat WHERE name = 'tickets' AND pagetype = 'leaf'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var p int
		rows.Scan(&p)
		pages = append(pages, p)
	}
	rows.Close()
	rawDB.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil || len(pages) == 0 {
		t.Fatal(err, pages)
	}
	junk := make([]byte, 4096)
	for i := range junk {
		junk[i] = byte(i*31 + 7)
	}
	for _, p := range pages {
		f.WriteAt(junk, int64(p-1)*4096)
	}
	f.Close()
	v, err = store.Verify(ctx, path, false)
	if err == nil && v.OK() {
		t.Fatalf("damage not found: %+v", v)
	}

	if err != nil || len(v.Integrity) == 0 {
		t.Fatalf("verdict %+v, %v", v, err)
	}
	db, err = store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	err = addTickets(ctx, db, 1000, 50)
	if !errors.Is(err, store.ErrCorrupt) {
		t.Fatalf("write over damage: %v", err)
	}
	if last, _ := db.LastFault(); !errors.Is(last, store.ErrCorrupt) {
		t.Fatalf("last fault %v", last)
	}
}
