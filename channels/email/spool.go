package email

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"onedesk/store"
)

// spoolPrefix names the temporary folders a large message is fetched
// into and parsed from, one folder per message. Beside each folder X is
// X.lock, which its process holds locked while the message is imported;
// the system drops the lock when the process ends, however it ends.
const spoolPrefix = "onedesk-mail-"

// staleUnlocked is how old a spool folder without a lock file must be to
// be removed: one from an older onedesk, or one whose removal was cut.
const staleUnlocked = time.Hour

// newSpool makes a temporary folder for one message, locked as in use;
// release removes it, then its lock. The lock comes first, so a folder
// never exists unlocked while its process lives.
func newSpool() (dir string, release func(), err error) {
	f, err := os.CreateTemp("", spoolPrefix+"*.lock")
	if err != nil {
		return "", nil, fmt.Errorf("temporary folder: %w", err)
	}
	f.Close()
	dir = strings.TrimSuffix(f.Name(), ".lock")
	unlock, err := store.Lock(dir)
	if err != nil {
		os.Remove(f.Name())
		return "", nil, fmt.Errorf("temporary folder: %w", err)
	}
	if err := os.Mkdir(dir, 0o700); err != nil {
		unlock()
		os.Remove(f.Name())
		return "", nil, fmt.Errorf("temporary folder: %w", err)
	}
	return dir, func() {
		os.RemoveAll(dir)
		unlock()
		os.Remove(f.Name())
	}, nil
}

// removeStaleSpools removes the spool folders left by a process that
// died while importing (killed, or cut at a stop): those whose lock
// nobody holds. Folders in use by a running onedesk are left alone.
func removeStaleSpools(log *slog.Logger) {
	names, _ := filepath.Glob(filepath.Join(os.TempDir(), spoolPrefix+"*"))
	for _, name := range names {
		dir := strings.TrimSuffix(name, ".lock")
		if dir != name {
			// A lock file: its folder goes when nobody holds it.
			unlock, err := store.Lock(dir)
			if err != nil {
				continue // a running onedesk is importing this message
			}
			removeSpool(log, dir)
			unlock()
			os.Remove(name)
			continue
		}
		if _, err := os.Stat(dir + ".lock"); err == nil {
			continue // decided with its lock file
		}
		if info, err := os.Lstat(dir); err == nil && info.IsDir() && time.Since(info.ModTime()) > staleUnlocked {
			removeSpool(log, dir)
		}
	}
}

func removeSpool(log *slog.Logger, dir string) {
	if _, err := os.Lstat(dir); err != nil {
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		log.Warn("email: a temporary folder left by a stopped import could not be removed", "folder", dir, "err", err)
		return
	}
	log.Info("email: removed a temporary folder left by a stopped import", "folder", dir)
}
