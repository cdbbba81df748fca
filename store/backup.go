package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	sqlite "modernc.org/sqlite"
)

// backupStep is how many pages (4 KB each) one step of a backup copies
// before it lets other goroutines run.
var backupStep int32 = 1024

// afterBackupStep runs after each step of a backup (tests only: it lets a
// test see a write commit while a backup is under way).
var afterBackupStep = func() {}

// Backup writes a consistent copy of the live database to path, which
// must not exist yet. Writers go on meanwhile (see backupConn).
func (db *DB) Backup(ctx context.Context, path string) error {
	if db.postgres {
		return fmt.Errorf("backup to %s: %w", path, ErrPostgresBackup)
	}
	conn, err := db.r.Conn(ctx)
	if err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	defer conn.Close()
	return backupConn(ctx, conn, path)
}

// BackupFile copies the database at src, which a server may be using, to
// dst (which must not exist) without writing to src or running its
// migrations: `onedesk backup` beside a running server.
func BackupFile(ctx context.Context, src, dst string) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no database at %s: %w", src, err)
	}
	pool, err := sql.Open("sqlite", fileDSN(src, "mode=rw&_pragma=busy_timeout(10000)&_pragma=query_only(ON)"))
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer pool.Close()
	conn, err := pool.Conn(ctx)
	if err != nil {
		return fmt.Errorf("open %s: %w", src, err)
	}
	defer conn.Close()
	return backupConn(ctx, conn, dst)
}

func fileDSN(path, query string) string {
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + query
}

type backuper interface {
	NewBackup(dstURI string) (*sqlite.Backup, error)
}

// backupConn copies the database conn reads to path with SQLite's online
// backup API. The copy runs in steps inside one read transaction: the
// snapshot stays the same throughout (a write by the server does not
// restart it, as it would between transactions), and in WAL mode a
// reader holds no writer back. The pages go to a temporary file beside
// path, made owner-only, which is synced and renamed into place once
// whole: path is a complete backup or absent.
func backupConn(ctx context.Context, conn *sql.Conn, path string) (err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("backup to %s: %w", path, err)
		}
	}()
	if _, err := os.Lstat(path); err == nil {
		return errors.New("the file exists already: choose a new file name")
	}
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp)
			os.Remove(tmp + "-journal")
		}
	}()
	// A deferred BEGIN takes its snapshot at the first read.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	var n int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema").Scan(&n); err != nil {
		return err
	}
	err = conn.Raw(func(dc any) error {
		b, ok := dc.(backuper)
		if !ok {
			return errors.New("the SQLite driver has no backup API")
		}
		bk, err := b.NewBackup(fileDSN(tmp, "_pragma=synchronous(FULL)"))
		if err != nil {
			return err
		}
		for {
			more, err := bk.Step(backupStep)
			if err == nil && more {
				err = ctx.Err()
			}
			if err != nil || !more {
				return errors.Join(err, bk.Finish())
			}
			afterBackupStep()
			runtime.Gosched()
		}
	})
	if err != nil {
		return err
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	if _, err := os.Lstat(path); err == nil {
		return errors.New("the file appeared while the backup ran: choose a new file name")
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// createTemp makes a new, empty, owner-only file beside path and returns
// its name.
func createTemp(path string) (string, error) {
	b := make([]byte, 6)
	rand.Read(b)
	dir, base := filepath.Split(path)
	tmp := filepath.Join(dir, "."+base+".tmp-"+hex.EncodeToString(b))
	f, err := createPrivate(tmp)
	if err != nil {
		return "", err
	}
	return tmp, f.Close()
}

// createPrivate creates path, which must not exist, readable and writable
// by its owner alone whatever the umask.
func createPrivate(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	return f, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// syncDir makes a rename in dir durable (where the system allows it).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	return errors.Join(f.Sync(), f.Close())
}

// Verdict is what Verify found in a database file.
type Verdict struct {
	Integrity   []string // the problems PRAGMA integrity_check (or quick_check) lists; none when sound
	ForeignKeys int      // rows whose reference points nowhere
	Version     int      // the schema version (PRAGMA user_version)
	Tables      int
	Size        int64  // the database's size in bytes (PostgreSQL; a file's is its own)
	Server      string // the PostgreSQL server's version, "" for SQLite
}

// OK reports whether the file is sound and this onedesk can open it.
func (v *Verdict) OK() bool {
	return len(v.Integrity) == 0 && v.ForeignKeys == 0 && v.Version <= SchemaVersion()
}

// Verify checks the database file at path without writing to it: its
// integrity (PRAGMA integrity_check, or the faster quick_check), its
// foreign keys and its schema version. A server may be running on it.
// An error means the file could not be read as a database at all.
//
// On PostgreSQL (path a postgres:// URL) the server keeps its pages and
// foreign keys sound itself: Verify connects, reads the schema version,
// the tables and the size, and lists no problems.
func Verify(ctx context.Context, path string, quick bool) (*Verdict, error) {
	if IsPostgres(path) {
		return verifyPostgres(ctx, path)
	}
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("no database at %s: %w", path, err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a directory, not a database file", path)
	}
	pool, err := sql.Open("sqlite", fileDSN(path, "mode=rw&_pragma=busy_timeout(10000)&_pragma=query_only(ON)"))
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	defer pool.Close()
	pool.SetMaxOpenConns(1)
	v := &Verdict{}
	if err := pool.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v.Version); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, classify(err))
	}
	if err := pool.QueryRowContext(ctx, "SELECT count(*) FROM sqlite_schema WHERE type = 'table'").Scan(&v.Tables); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, classify(err))
	}
	check := "PRAGMA integrity_check(100)"
	if quick {
		check = "PRAGMA quick_check(100)"
	}
	rows, err := pool.QueryContext(ctx, check)
	if err != nil {
		return nil, fmt.Errorf("check %s: %w", path, classify(err))
	}
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("check %s: %w", path, err)
		}
		if line != "ok" {
			v.Integrity = append(v.Integrity, line)
		}
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		// A damaged file can fail the check itself.
		v.Integrity = append(v.Integrity, classify(err).Error())
	}
	if len(v.Integrity) == 0 {
		rows, err := pool.QueryContext(ctx, "PRAGMA foreign_key_check")
		if err != nil {
			return nil, fmt.Errorf("check %s: %w", path, err)
		}
		for rows.Next() {
			v.ForeignKeys++
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return nil, fmt.Errorf("check %s: %w", path, err)
		}
	}
	return v, nil
}

// Restore replaces the database at target with the backup at src. It
// refuses while a server runs on target (its lock is held) and, unless
// force, when target holds a database already. The backup is copied
// beside target and checked there (it must open and pass
// integrity_check, with a schema this onedesk knows); then target's
// -wal and -shm files, which belong to the database being replaced, are
// removed and the copy is renamed over target. The new file is
// owner-only.
func Restore(ctx context.Context, src, target string, force bool) error {
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("no backup at %s: %w", src, err)
	}
	if abs1, err1 := filepath.Abs(src); err1 == nil {
		if abs2, err2 := filepath.Abs(target); err2 == nil && abs1 == abs2 {
			return errors.New("the backup and the database are the same file")
		}
	}
	release, err := Lock(target)
	if err != nil {
		return err
	}
	defer release()
	if st, err := os.Stat(target); err == nil && st.Size() > 0 && !force {
		return fmt.Errorf("%s holds a database already: pass --force to replace it with the backup (what it holds now will be lost; back it up first)", target)
	}
	tmp, err := createTemp(target)
	if err != nil {
		return fmt.Errorf("restore to %s: %w", target, err)
	}
	done := false
	defer func() {
		if !done {
			for _, p := range []string{tmp, tmp + "-wal", tmp + "-shm", tmp + "-journal"} {
				os.Remove(p)
			}
		}
	}()
	if err := copyFile(src, tmp); err != nil {
		return fmt.Errorf("copy %s: %w", src, err)
	}
	v, err := Verify(ctx, tmp, false)
	if err != nil {
		return fmt.Errorf("%s is not a database onedesk can restore: %w", src, err)
	}
	switch {
	case len(v.Integrity) > 0:
		return fmt.Errorf("%s is damaged (integrity_check: %s): it was not restored", src, strings.Join(v.Integrity, "; "))
	case v.Version > SchemaVersion():
		return fmt.Errorf("%s was written by a newer onedesk (schema %d, this one knows %d): restore it with that version", src, v.Version, SchemaVersion())
	case v.Version == 0 || v.Tables == 0:
		return fmt.Errorf("%s is an empty database, not a onedesk backup", src)
	}
	for _, p := range []string{tmp + "-wal", tmp + "-shm"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore to %s: %w", target, err)
		}
	}
	if err := syncFile(tmp); err != nil {
		return fmt.Errorf("restore to %s: %w", target, err)
	}
	// The old database's log must not be applied to the new file.
	for _, p := range []string{target + "-wal", target + "-shm", target + "-journal"} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("restore to %s: remove the old %s: %w", target, p, err)
		}
	}
	if err := os.Rename(tmp, target); err != nil {
		return fmt.Errorf("restore to %s: %w", target, err)
	}
	done = true
	return syncDir(filepath.Dir(target))
}

// copyFile copies src into the existing file dst and syncs it.
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return errors.Join(out.Sync(), out.Close())
}
