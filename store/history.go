package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// HistoryFolder is one folder a mailbox's history import reads, with its
// own cursor (apart from the live one): the folder's UIDVALIDITY, the last
// UID done, the UID the history ends at, and how many messages it found
// and has done.
type HistoryFolder struct {
	MailboxID   int64  `json:"-"`
	Folder      string `json:"folder"`
	Role        string `json:"role"` // "inbox" or "sent"
	UIDValidity uint32 `json:"-"`
	LastUID     uint32 `json:"-"`
	StopUID     uint32 `json:"-"`
	Total       int    `json:"total"`
	Done        int    `json:"done"`
}

// HistoryFolders lists the folders of a mailbox's history import, the
// inbox first.
func (db *DB) HistoryFolders(ctx context.Context, mailboxID int64) ([]HistoryFolder, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT mailbox_id, folder, role, uid_validity, last_uid, stop_uid, total, done
		FROM history_folders WHERE mailbox_id = ? ORDER BY role, folder`, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("mailbox %d history folders: %w", mailboxID, err)
	}
	defer rows.Close()
	list := []HistoryFolder{}
	for rows.Next() {
		var f HistoryFolder
		if err := rows.Scan(&f.MailboxID, &f.Folder, &f.Role, &f.UIDValidity, &f.LastUID, &f.StopUID, &f.Total, &f.Done); err != nil {
			return nil, fmt.Errorf("mailbox %d history folders: %w", mailboxID, err)
		}
		list = append(list, f)
	}
	return list, rows.Err()
}

// SaveHistoryFolder adds a folder to a mailbox's history import, or sets
// where an existing one stands (a folder rebuilt: its UIDVALIDITY changed).
func (tx *Tx) SaveHistoryFolder(ctx context.Context, f HistoryFolder) error {
	_, err := tx.q.ExecContext(ctx, `INSERT INTO history_folders (mailbox_id, folder, role, uid_validity, last_uid, stop_uid, total, done)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (mailbox_id, folder) DO UPDATE SET role = excluded.role, uid_validity = excluded.uid_validity,
		last_uid = excluded.last_uid, stop_uid = excluded.stop_uid, total = excluded.total, done = excluded.done`,
		f.MailboxID, f.Folder, f.Role, f.UIDValidity, f.LastUID, f.StopUID, f.Total, f.Done)
	if err != nil {
		return fmt.Errorf("mailbox %d history folder %q: %w", f.MailboxID, f.Folder, err)
	}
	return nil
}

// SetHistoryCursor moves a history folder's cursor past uid and counts
// the message done, in the transaction that stores it; a UID at or
// before the cursor (read again after a restart) counts nothing.
func (tx *Tx) SetHistoryCursor(ctx context.Context, mailboxID int64, folder string, uidValidity, uid uint32) error {
	_, err := tx.q.ExecContext(ctx, `UPDATE history_folders SET last_uid = ?, done = done + 1
		WHERE mailbox_id = ? AND folder = ? AND uid_validity = ? AND last_uid < ?`, uid, mailboxID, folder, uidValidity, uid)
	if err != nil {
		return fmt.Errorf("mailbox %d history cursor %q: %w", mailboxID, folder, err)
	}
	return nil
}

// SetHistoryCursor is Tx.SetHistoryCursor in a write of its own, for a
// message passed over (older than the history's start, or our own).
func (db *DB) SetHistoryCursor(ctx context.Context, mailboxID int64, folder string, uidValidity, uid uint32) error {
	return db.Write(ctx, func(tx *Tx) error { return tx.SetHistoryCursor(ctx, mailboxID, folder, uidValidity, uid) })
}

// ClearHistory forgets a mailbox's history folders, before a new import.
func (tx *Tx) ClearHistory(ctx context.Context, mailboxID int64) error {
	if _, err := tx.q.ExecContext(ctx, `DELETE FROM history_folders WHERE mailbox_id = ?`, mailboxID); err != nil {
		return fmt.Errorf("mailbox %d clear history: %w", mailboxID, err)
	}
	return nil
}

// SetHistoryState records where a mailbox's history import stands. Going
// to running notes when, and how much was done then (for the time left).
// From is the state it must be in ("" any): a cancel that came meanwhile
// is not undone. It reports whether the state changed.
func (db *DB) SetHistoryState(ctx context.Context, mailboxID int64, from, to, why, whySentence string) (bool, error) {
	changed := false
	err := db.Write(ctx, func(tx *Tx) error {
		var state string
		err := tx.q.QueryRowContext(ctx, `SELECT history_state FROM mailboxes WHERE id = ?`, mailboxID).Scan(&state)
		if err != nil {
			return notFoundID(err, "mailbox", mailboxID)
		}
		if from != "" && state != from {
			return nil
		}
		var done sql.NullInt64
		if err := tx.q.QueryRowContext(ctx, `SELECT sum(done) FROM history_folders WHERE mailbox_id = ?`, mailboxID).Scan(&done); err != nil {
			return fmt.Errorf("mailbox %d history done: %w", mailboxID, err)
		}
		if to == HistoryRunning {
			_, err = tx.q.ExecContext(ctx, `UPDATE mailboxes SET history_state = ?, history_error = ?, history_error_i18n = ?,
				history_resumed_at = ?, history_resumed_done = ? WHERE id = ?`, to, why, whySentence, ms(Now()), done.Int64, mailboxID)
		} else {
			_, err = tx.q.ExecContext(ctx, `UPDATE mailboxes SET history_state = ?, history_error = ?, history_error_i18n = ? WHERE id = ?`, to, why, whySentence, mailboxID)
		}
		if err != nil {
			return fmt.Errorf("mailbox %d history state: %w", mailboxID, err)
		}
		changed = true
		return nil
	})
	return changed, err
}

// HistoryProgress is how far a mailbox's history import has come.
type HistoryProgress struct {
	State string `json:"state"`
	Error string `json:"error,omitempty"`
	// ErrorI18n is Error as a stored sentence for the reader's language.
	ErrorI18n string          `json:"-"`
	Done      int             `json:"done"`
	Total     int             `json:"total"`
	LeftS     *int64          `json:"left_s"` // seconds left at the pace since it (re)started; nil: not known yet
	Folders   []HistoryFolder `json:"folders"`
}

// Progress works a mailbox's history progress out from its folders.
func Progress(m *Mailbox, folders []HistoryFolder, now time.Time) *HistoryProgress {
	if m.HistoryState == "" {
		return nil
	}
	p := &HistoryProgress{State: m.HistoryState, Error: m.HistoryError, ErrorI18n: m.HistoryErrorI18n, Folders: folders}
	for _, f := range folders {
		p.Done += f.Done
		p.Total += max(f.Total, f.Done)
	}
	if p.State == HistoryRunning && m.HistoryResumedAt != nil {
		sinceDone, elapsed := p.Done-m.HistoryResumedDone, now.Sub(*m.HistoryResumedAt)
		if sinceDone >= 10 && elapsed > 2*time.Second {
			left := int64(elapsed.Seconds() / float64(sinceDone) * float64(p.Total-p.Done))
			p.LeftS = &left
		}
	}
	return p
}
