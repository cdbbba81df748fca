package store

import (
	"errors"
	"sync"
	"time"

	sqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Storage faults: what the disk or the file did, not what the caller
// asked. Test for them with errors.Is; the error's text says the cause.
var (
	ErrDiskFull = errors.New("the disk is full")
	ErrCorrupt  = errors.New("the database file is damaged")
	ErrIO       = errors.New("the database file could not be read or written")
	ErrReadOnly = errors.New("the database file is read-only")
)

// faultError is a storage fault with SQLite's own error beneath.
type faultError struct {
	kind error
	err  error
}

func (e *faultError) Error() string        { return e.kind.Error() + ": " + e.err.Error() }
func (e *faultError) Is(target error) bool { return target == e.kind }
func (e *faultError) Unwrap() error        { return e.err }

// classify wraps SQLite's disk-full, I/O, corruption and read-only
// errors as storage faults and returns any other error unchanged.
func classify(err error) error {
	var fe *faultError
	var se *sqlite.Error
	if err == nil || errors.As(err, &fe) || !errors.As(err, &se) {
		return err
	}
	var kind error
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		kind = ErrDiskFull
	case sqlite3.SQLITE_CORRUPT, sqlite3.SQLITE_NOTADB:
		kind = ErrCorrupt
	case sqlite3.SQLITE_IOERR, sqlite3.SQLITE_CANTOPEN:
		kind = ErrIO
	case sqlite3.SQLITE_READONLY:
		kind = ErrReadOnly
	default:
		return err
	}
	return &faultError{kind: kind, err: err}
}

// Fault reports whether err is a storage fault, and which (ErrDiskFull,
// ErrCorrupt, ErrIO or ErrReadOnly), whether or not it was classified
// on its way up.
func Fault(err error) (kind error, ok bool) {
	var fe *faultError
	if errors.As(classify(err), &fe) {
		return fe.kind, true
	}
	return nil, false
}

// faults remembers the last storage fault a write met, for /healthz.
type faults struct {
	mu   sync.Mutex
	last error
	at   time.Time
}

func (f *faults) note(err error) {
	if _, ok := Fault(err); !ok {
		return
	}
	f.mu.Lock()
	f.last, f.at = err, time.Now()
	f.mu.Unlock()
}

// LastFault is the last storage fault a write met and when (nil if none
// since the database was opened).
func (db *DB) LastFault() (error, time.Time) {
	db.faults.mu.Lock()
	defer db.faults.mu.Unlock()
	return db.faults.last, db.faults.at
}
