package email

import (
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"onedesk/store"
)

// spoolPrefix names the temporary folders a large message is fetched
// into and parsed from, one folder per message.
const spoolPrefix = "onedesk-mail-"

// spoolLock is the file in a spool folder that its process holds locked
// while the message is being imported; the system drops the lock when
// the process ends, however it ends.
const spoolLock = "in-use"

// staleUnlocked is how old a spool folder without a lock file must be
// to be removed: one from an older onedesk, or one being set up now.
const staleUnlocked = time.Hour

// newSpool makes a temporary folder for one message, locked as in use;
// release unlocks and removes it.
func newSpool() (dir string, release func(), err error) {
	dir, err = os.MkdirTemp("", spoolPrefix)
	if err != nil {
		return "", nil, fmt.Errorf("temporary folder: %w", err)
	}
	unlock, err := store.Lock(filepath.Join(dir, spoolLock))
	if err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("temporary folder: %w", err)
	}
	return dir, func() { unlock(); os.RemoveAll(dir) }, nil
}

// removeStaleSpools removes the spool folders left by a process that
// died while importing (killed, or cut at a stop): those whose lock
// nobody holds. Folders in use by a running onedesk are left alone.
func removeStaleSpools(log *slog.Logger) {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), spoolPrefix+"*"))
	for _, dir := range dirs {
		info, err := os.Lstat(dir)
		if err != nil || !info.IsDir() {
			continue
		}
		lock := filepath.Join(dir, spoolLock)
		if _, err := os.Stat(lock + ".lock"); err != nil {
			if time.Since(info.ModTime()) < staleUnlocked {
				continue
			}
		} else {
			unlock, err := store.Lock(lock)
			if err != nil {
				continue // a running onedesk is importing this message
			}
			unlock()
		}
		if err := os.RemoveAll(dir); err != nil {
			log.Warn("email: a temporary folder left by a stopped import could not be removed", "folder", dir, "err", err)
		} else {
			log.Info("email: removed a temporary folder left by a stopped import", "folder", dir)
		}
	}
}
