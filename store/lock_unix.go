//go:build !windows

package store

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// Lock takes an exclusive, advisory lock on path+".lock" so that a second
// server cannot run on the same data file. The kernel drops the lock when
// the process ends, however it ends.
func Lock(path string) (release func(), err error) {
	if IsPostgres(path) {
		return func() {}, nil // several nodes share a PostgreSQL database: writes take its lock
	}
	f, err := os.OpenFile(path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("%s is in use by another onedesk server: stop it first, or pass --data to use another file", path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return func() { f.Close() }, nil
}
