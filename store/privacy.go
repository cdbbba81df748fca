package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A customer's data on request (GDPR): what an export reads, and the
// erasure of a customer; and the retention rule's deletion of old
// resolved tickets. Both engines run the same SQL; on SQLite the writer
// zeroes what it frees (secure_delete, openSQLite), and PurgeSearch drops
// the erased words from the search index's pages.

// CustomerFamily is the customer and those merged into it (their tickets
// and identities moved to it, their records stay).
func (db *DB) CustomerFamily(ctx context.Context, customerID int64) ([]int64, error) {
	ids := []int64{customerID}
	for i := 0; i < len(ids) && i < 10000; i++ {
		more, err := queryIDs(ctx, db.rq, `SELECT id FROM customers WHERE merged_into = ? ORDER BY id`, ids[i])
		if err != nil {
			return nil, fmt.Errorf("customers merged into %d: %w", ids[i], err)
		}
		ids = append(ids, more...)
	}
	return ids, nil
}

// CustomerTicketIDs lists the tickets of the customers, oldest first.
func (db *DB) CustomerTicketIDs(ctx context.Context, customerIDs []int64) ([]int64, error) {
	ids, err := queryIDs(ctx, db.rq, `SELECT id FROM tickets WHERE customer_id IN (`+idList(customerIDs)+`) ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("tickets of customer %d: %w", customerIDs[0], err)
	}
	return ids, nil
}

// StoredFile is a file of a message: an attachment, or the raw source
// of a mail (Raw; AttachmentID 0).
type StoredFile struct {
	MessageID    int64
	AttachmentID int64
	Filename     string
	SHA256       string
	Size         int64
	Raw          bool
}

// TicketFiles lists the files of a ticket's messages, attachments first.
func (db *DB) TicketFiles(ctx context.Context, ticketID int64) ([]StoredFile, error) {
	rows, err := db.rq.QueryContext(ctx, `SELECT a.message_id, a.id, a.filename, a.sha256, a.size, 0
		  FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.ticket_id = ?
		UNION ALL
		SELECT m.id, 0, '', m.raw_sha256, b.size, 1
		  FROM messages m JOIN blobs b ON b.sha256 = m.raw_sha256 WHERE m.ticket_id = ?
		ORDER BY 1, 2`, ticketID, ticketID)
	if err != nil {
		return nil, fmt.Errorf("files of ticket %d: %w", ticketID, err)
	}
	defer rows.Close()
	var list []StoredFile
	for rows.Next() {
		var f StoredFile
		var raw int
		if err := rows.Scan(&f.MessageID, &f.AttachmentID, &f.Filename, &f.SHA256, &f.Size, &raw); err != nil {
			return nil, fmt.Errorf("files of ticket %d: %w", ticketID, err)
		}
		f.Raw = raw == 1
		list = append(list, f)
	}
	return list, rows.Err()
}

// ErasureCounts is what an erasure changed (no data: counts only, for
// the audit log).
type ErasureCounts struct {
	Customers   int `json:"customers"`
	Tickets     int `json:"tickets"`
	Messages    int `json:"messages"`
	Attachments int `json:"attachments"`
	Files       int `json:"files"` // stored files deleted (shared ones stay while named elsewhere)
	Identities  int `json:"identities"`
}

// eraseBatch is how many tickets one erasing write takes: the writer is
// held for a short while each time, not for a customer's whole history.
const eraseBatch = 50

// EraseCustomer erases what the desk holds about a customer (and the
// customers merged into it): every message of their tickets loses its
// text, HTML, sender, raw source and attachments (agents' replies too,
// since they quote the customer), the tickets their subject, snippet and
// form fields, the events their details; their identities (visitor
// tokens included) are deleted, so that a new message from one of their
// addresses starts a new customer; their name and notes are emptied.
// Files no other message names are deleted, from the file store too.
// The customer's row and its tickets stay, empty, so that reports and
// ids hold. Running it again finishes an erasure a crash cut short.
func (db *DB) EraseCustomer(ctx context.Context, customerID int64) (ErasureCounts, error) {
	var n ErasureCounts
	if _, err := db.Customer(ctx, customerID); err != nil {
		return n, err
	}
	family, err := db.CustomerFamily(ctx, customerID)
	if err != nil {
		return n, err
	}
	tickets, err := db.CustomerTicketIDs(ctx, family)
	if err != nil {
		return n, err
	}
	var emails []string
	err = queryStrings(ctx, db.rq, &emails, `SELECT value FROM identities WHERE kind = 'email' AND customer_id IN (`+idList(family)+`)`)
	if err != nil {
		return n, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	var values []string // what the planner's samples may hold (forgetStatSamples)
	err = queryStrings(ctx, db.rq, &values, `SELECT value FROM identities WHERE customer_id IN (`+idList(family)+`)
		UNION SELECT name FROM customers WHERE id IN (`+idList(family)+`) AND name <> ''`)
	if err != nil {
		return n, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	shas := map[string]bool{}
	for start := 0; start < len(tickets); start += eraseBatch {
		batch := tickets[start:min(start+eraseBatch, len(tickets))]
		err := db.Write(ctx, func(tx *Tx) error {
			return tx.redactTickets(ctx, batch, &n, shas)
		})
		if err != nil {
			return n, fmt.Errorf("erase customer %d: %w", customerID, err)
		}
		n.Tickets += len(batch)
	}
	err = db.Write(ctx, func(tx *Tx) error {
		// Their messages on others' tickets (a copy, a forwarded thread).
		if len(emails) > 0 {
			marks := strings.TrimSuffix(strings.Repeat("?, ", len(emails)), ", ")
			args := make([]any, len(emails))
			for i, e := range emails {
				args[i] = strings.ToLower(e)
			}
			ids, err := queryIDs(ctx, tx.q, `SELECT id FROM messages WHERE kind = 'customer' AND lower(from_addr) IN (`+marks+`)`, args...)
			if err != nil {
				return err
			}
			if err := tx.redactMessages(ctx, ids, &n, shas); err != nil {
				return err
			}
		}
		if err := tx.forgetStatSamples(ctx, values); err != nil {
			return err
		}
		// The search index's pages still hold the words: PurgeSearch
		// rewrites them, now or after a restart.
		if _, err := tx.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, searchPurgeSetting, fmt.Sprint(Now().UnixNano())); err != nil {
			return err
		}
		return tx.eraseCustomers(ctx, family, &n)
	})
	if err != nil {
		return n, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	if n.Files, err = db.dropUnusedBlobs(ctx, shas); err != nil {
		return n, fmt.Errorf("erase customer %d: %w", customerID, err)
	}
	return n, nil
}

// redactTickets empties a batch of tickets and their messages, noting the
// files they named in shas.
func (tx *Tx) redactTickets(ctx context.Context, tickets []int64, n *ErasureCounts, shas map[string]bool) error {
	in := idList(tickets)
	for _, id := range tickets {
		tx.touched.ticket(id) // other nodes show it anew
	}
	msgs, err := queryIDs(ctx, tx.q, `SELECT id FROM messages WHERE ticket_id IN (`+in+`)`)
	if err != nil {
		return err
	}
	if err := tx.redactMessages(ctx, msgs, n, shas); err != nil {
		return err
	}
	for _, q := range []string{
		`UPDATE tickets SET subject = '', snippet = '', fields = '{}' WHERE id IN (` + in + `)`,
		`UPDATE ticket_events SET data = '{}' WHERE ticket_id IN (` + in + `)`,
		`UPDATE csat_surveys SET comment = '' WHERE ticket_id IN (` + in + `)`,
		`UPDATE webhook_deliveries SET payload = '{}', last_error = '' WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM social_threads WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM notify_mail WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM push_queue WHERE ticket_id IN (` + in + `)`,
	} {
		if _, err := tx.q.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

// redactMessages empties messages: text, HTML, sender and recipient, their ids on the
// channel (a Message-ID names the sender's domain), raw source and
// attachments, a call's details; a reply not yet sent is not sent.
func (tx *Tx) redactMessages(ctx context.Context, ids []int64, n *ErasureCounts, shas map[string]bool) error {
	for start := 0; start < len(ids); start += 500 {
		in := idList(ids[start:min(start+500, len(ids))])
		var files []string
		if err := queryStrings(ctx, tx.q, &files, `SELECT sha256 FROM attachments WHERE message_id IN (`+in+`)
			UNION SELECT raw_sha256 FROM messages WHERE id IN (`+in+`) AND raw_sha256 IS NOT NULL`); err != nil {
			return err
		}
		for _, s := range files {
			shas[s] = true
		}
		res, err := tx.q.ExecContext(ctx, `DELETE FROM attachments WHERE message_id IN (`+in+`)`)
		if err != nil {
			return err
		}
		a, _ := res.RowsAffected()
		n.Attachments += int(a)
		for _, q := range []string{
			`DELETE FROM outbox WHERE message_id IN (` + in + `)`,
			`DELETE FROM reply_parts WHERE message_id IN (` + in + `)`,
			`UPDATE messages SET body = '', html = '', from_addr = '', external_id = '', raw_sha256 = NULL, call_info = '', to_addr = '',
			        delivery_error = '', delivery_error_i18n = '', partial = '', partial_i18n = '',
			        delivery = CASE WHEN delivery = 'queued' THEN 'failed' ELSE delivery END
			  WHERE id IN (` + in + `)`,
		} {
			res, err := tx.q.ExecContext(ctx, q)
			if err != nil {
				return err
			}
			if strings.HasPrefix(q, "UPDATE messages") {
				m, _ := res.RowsAffected()
				n.Messages += int(m)
			}
		}
	}
	return nil
}

// eraseCustomers deletes the customers' identities and claims and empties
// their records, merges and events.
func (tx *Tx) eraseCustomers(ctx context.Context, family []int64, n *ErasureCounts) error {
	in := idList(family)
	// Their portal sessions and links end with the addresses they name.
	for _, q := range []string{
		`DELETE FROM portal_sessions WHERE email IN (SELECT value FROM identities WHERE kind = 'email' AND customer_id IN (` + in + `))`,
		`DELETE FROM portal_links WHERE email IN (SELECT value FROM identities WHERE kind = 'email' AND customer_id IN (` + in + `))
			OR visitor IN (SELECT value FROM identities WHERE kind = 'visitor' AND customer_id IN (` + in + `))`,
	} {
		if _, err := tx.q.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("erase portal sessions: %w", err)
		}
	}
	res, err := tx.q.ExecContext(ctx, `DELETE FROM identities WHERE customer_id IN (`+in+`)`)
	if err != nil {
		return err
	}
	ids, _ := res.RowsAffected()
	n.Identities = int(ids)
	for _, q := range []string{
		`DELETE FROM customer_claims WHERE customer_id IN (` + in + `)`,
		`DELETE FROM ticket_participants WHERE customer_id IN (` + in + `)`,
		`UPDATE customer_merges SET identities = '[]' WHERE customer_id IN (` + in + `) OR merged_id IN (` + in + `)`,
		`UPDATE customer_events SET data = '{}' WHERE customer_id IN (` + in + `)`,
		`UPDATE customers SET name = '', notes = '' WHERE id IN (` + in + `)`,
	} {
		if _, err := tx.q.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	n.Customers = len(family)
	return nil
}

// forgetStatSamples drops SQLite's planner samples (sqlite_stat4, which
// ANALYZE fills with sample keys of indexes, such as an identity's
// address) that hold one of values. The planner does as well without.
func (tx *Tx) forgetStatSamples(ctx context.Context, values []string) error {
	if tx.postgres || len(values) == 0 {
		return nil
	}
	var has int
	if err := tx.q.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat4'`).Scan(&has); err != nil || has == 0 {
		return err
	}
	for _, v := range values {
		if _, err := tx.tx.ExecContext(ctx, `DELETE FROM sqlite_stat4 WHERE instr(sample, CAST(? AS BLOB)) > 0`, v); err != nil {
			return fmt.Errorf("planner samples: %w", err)
		}
	}
	return nil
}

// dropUnusedBlobs deletes the stored files of shas that nothing names any
// more (a file two customers sent is stored once, and stays for the
// other), a few at a time; then their copies in the file store.
func (db *DB) dropUnusedBlobs(ctx context.Context, shas map[string]bool) (int, error) {
	list := make([]string, 0, len(shas))
	for s := range shas {
		list = append(list, s)
	}
	dropped := 0
	var inFiles []string
	for start := 0; start < len(list); start += 20 {
		batch := list[start:min(start+20, len(list))]
		err := db.Write(ctx, func(tx *Tx) error {
			for _, sha := range batch {
				var used, files int
				if err := tx.q.QueryRowContext(ctx, `SELECT
					(SELECT count(*) FROM attachments WHERE sha256 = ?) + (SELECT count(*) FROM messages WHERE raw_sha256 = ?)
						+ (SELECT count(*) FROM agent_avatars WHERE sha256 = ?) + (SELECT count(*) FROM help_images WHERE sha256 = ?),
					coalesce((SELECT in_files FROM blobs WHERE sha256 = ?), 0)`, sha, sha, sha, sha, sha).Scan(&used, &files); err != nil {
					return err
				}
				if used > 0 {
					continue
				}
				if _, err := tx.q.ExecContext(ctx, `DELETE FROM blob_parts WHERE sha256 = ?`, sha); err != nil {
					return err
				}
				res, err := tx.q.ExecContext(ctx, `DELETE FROM blobs WHERE sha256 = ?`, sha)
				if err != nil {
					return err
				}
				if k, _ := res.RowsAffected(); k > 0 {
					dropped++
					if files == 1 {
						inFiles = append(inFiles, sha)
					}
				}
			}
			return nil
		})
		if err != nil {
			return dropped, fmt.Errorf("delete files: %w", err)
		}
	}
	// After the rows are gone: a crash between leaves an object no row
	// names, never a row without its object.
	for _, sha := range inFiles {
		if db.files == nil {
			break
		}
		if err := db.files.remove(ctx, sha); err != nil {
			return dropped, fmt.Errorf("delete file %s from %s: %w", sha, db.files, err)
		}
	}
	return dropped, nil
}

// searchPurgeSetting, while set, says an erasure left words in the search
// index's pages that PurgeSearch has yet to rewrite.
const searchPurgeSetting = "search_purge_pending"

// SearchPurgePending tells whether an erasure waits for PurgeSearch.
func (db *DB) SearchPurgePending(ctx context.Context) (bool, error) {
	v, err := db.Setting(ctx, searchPurgeSetting)
	return v != "", err
}

// PurgeSearch rewrites SQLite's search indexes after an erasure: FTS5
// marks a deleted row's words deleted but keeps them in its pages until
// their segment is merged. The customers' index is small and rewritten at
// once; the tickets' is merged in small steps between other writes (as the
// background merge does; about 14 s of steps at 100,000 tickets), each
// zeroing what it frees (secure_delete). Then the log is checkpointed, so it holds no old
// page either. PostgreSQL's index rows went with their rows.
func (db *DB) PurgeSearch(ctx context.Context) error {
	mark, err := db.Setting(ctx, searchPurgeSetting)
	if err != nil || mark == "" {
		return err
	}
	if !db.postgres {
		err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.tx.ExecContext(ctx, `INSERT INTO customer_search (customer_search) VALUES ('optimize')`)
			return err
		})
		if err != nil {
			return fmt.Errorf("purge the customers' search index: %w", err)
		}
		// The merge leaves an index of one segment as it is, deleted
		// words and all: a row of its own (rowid 1 is no ticket's nor
		// message's) makes a second segment, so that it rewrites all.
		if _, err := db.exec(ctx, `INSERT INTO ticket_search (rowid, ticket, message) VALUES (1, 'onedeskpurge', '')`); err != nil {
			return fmt.Errorf("purge the tickets' search index: %w", err)
		}
		if _, _, err := db.mergeSearch(ctx, 0, nil); err != nil {
			return fmt.Errorf("purge the tickets' search index: %w", err)
		}
		if _, err := db.exec(ctx, `DELETE FROM ticket_search WHERE rowid = 1`); err != nil {
			return fmt.Errorf("purge the tickets' search index: %w", err)
		}
	}
	// Cleared only if no erasure came meanwhile (it wants a purge of its own).
	if _, err := db.exec(ctx, `DELETE FROM settings WHERE key = ? AND value = ?`, searchPurgeSetting, mark); err != nil {
		return err
	}
	if db.postgres {
		return nil
	}
	// Readers still open keep part of the log: try again for a while.
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := db.Checkpoint(ctx)
		if err == nil || time.Now().After(deadline) || ctx.Err() != nil {
			return err
		}
		if err := sleepCtx(ctx, 100*time.Millisecond); err != nil {
			return err
		}
	}
}

// RetentionCounts is what one step of the retention rule deleted.
type RetentionCounts struct {
	Tickets  int `json:"tickets"`
	Messages int `json:"messages"`
	Files    int `json:"files"`
}

// DeleteTicketsResolvedBefore deletes up to limit tickets resolved or
// closed whose last change is before the time, with their messages,
// events and the files no other message names (the retention rule, one
// small write at a time). Reports keep their counts.
func (db *DB) DeleteTicketsResolvedBefore(ctx context.Context, before time.Time, limit int) (RetentionCounts, error) {
	var n RetentionCounts
	ids, err := queryIDs(ctx, db.rq, `SELECT id FROM tickets WHERE status IN ('resolved', 'closed') AND updated_at < ?
		ORDER BY updated_at, id LIMIT ?`, ms(before), limit)
	if err != nil || len(ids) == 0 {
		return n, err
	}
	shas := map[string]bool{}
	err = db.Write(ctx, func(tx *Tx) error {
		// Checked again inside the write: a ticket reopened meanwhile stays.
		in := idList(ids)
		ids, err := queryIDs(ctx, tx.q, `SELECT id FROM tickets WHERE id IN (`+in+`) AND status IN ('resolved', 'closed') AND updated_at < ?`, ms(before))
		if err != nil || len(ids) == 0 {
			return err
		}
		return tx.deleteTickets(ctx, ids, &n, shas)
	})
	if err != nil {
		return n, fmt.Errorf("retention: %w", err)
	}
	n.Files, err = db.dropUnusedBlobs(ctx, shas)
	return n, err
}

func (tx *Tx) deleteTickets(ctx context.Context, ids []int64, n *RetentionCounts, shas map[string]bool) error {
	in := idList(ids)
	var files []string
	if err := queryStrings(ctx, tx.q, &files, `SELECT a.sha256 FROM attachments a JOIN messages m ON m.id = a.message_id WHERE m.ticket_id IN (`+in+`)
		UNION SELECT raw_sha256 FROM messages WHERE ticket_id IN (`+in+`) AND raw_sha256 IS NOT NULL`); err != nil {
		return err
	}
	for _, s := range files {
		shas[s] = true
	}
	msgs := `SELECT id FROM messages WHERE ticket_id IN (` + in + `)`
	for _, q := range []string{
		`DELETE FROM attachments WHERE message_id IN (` + msgs + `)`,
		`DELETE FROM outbox WHERE message_id IN (` + msgs + `)`,
		`DELETE FROM reply_parts WHERE message_id IN (` + msgs + `)`,
		`UPDATE mailboxes SET last_message_id = NULL WHERE last_message_id IN (` + msgs + `)`,
		`DELETE FROM messages WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM ticket_events WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM ticket_reads WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM ticket_participants WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM rule_runs WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM social_threads WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM webhook_deliveries WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM notify_mail WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM notify_signals WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM push_queue WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM report_dirty WHERE ticket_id IN (` + in + `)`,
		`DELETE FROM csat_surveys WHERE ticket_id IN (` + in + `)`,
		`UPDATE tickets SET merged_into = NULL WHERE merged_into IN (` + in + `)`,
		`DELETE FROM tickets WHERE id IN (` + in + `)`,
	} {
		res, err := tx.q.ExecContext(ctx, q)
		if err != nil {
			return fmt.Errorf("delete tickets: %w", err)
		}
		k, _ := res.RowsAffected()
		switch {
		case strings.HasPrefix(q, "DELETE FROM messages"):
			n.Messages += int(k)
		case strings.HasPrefix(q, "DELETE FROM tickets"):
			n.Tickets += int(k)
		}
	}
	return nil
}

func idList(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	if len(parts) == 0 {
		return "NULL"
	}
	return strings.Join(parts, ",")
}

func queryStrings(ctx context.Context, q querier, out *[]string, query string, args ...any) error {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return err
		}
		*out = append(*out, s)
	}
	return rows.Err()
}
