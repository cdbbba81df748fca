// Package privacy answers a customer's requests about their data (GDPR):
// an export of everything the desk holds about them as one ZIP, and their
// erasure; and runs the optional retention rule, which deletes resolved
// tickets after a number of months. It sits beside desk and writes
// through store; every export, erasure and retention run goes into the
// audit log, with counts and never the data.
package privacy

import (
	"archive/zip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"onedesk/audit"
	"onedesk/desk"
	"onedesk/store"
)

// Service exports and erases customers and applies the retention rule.
type Service struct {
	d     *desk.Desk
	db    *store.DB
	log   *slog.Logger
	audit *audit.Log

	purging sync.Mutex // one purge of the search index at a time
}

// New is the privacy service of d.
func New(d *desk.Desk, log *slog.Logger) *Service {
	return &Service{d: d, db: d.DB(), log: log, audit: audit.New(d.DB(), log)}
}

// ExportCounts is what an export held.
type ExportCounts struct {
	Tickets int   `json:"tickets"`
	Files   int   `json:"files"`
	Bytes   int64 `json:"bytes"` // of files
}

// Export writes everything the desk holds about the customer (and the
// customers merged into it) to w as a ZIP: customer.json (profile,
// identities, notes, events, merged customers), tickets/<id>.json (each
// ticket with its messages and events) and files/<ticket>/ (attachments
// and raw mail sources). Files are copied a part at a time: memory does
// not grow with their size.
func (s *Service) Export(ctx context.Context, customerID int64, w io.Writer) (ExportCounts, error) {
	var n ExportCounts
	cust, err := s.db.Customer(ctx, customerID)
	if err != nil {
		return n, err
	}
	family, err := s.db.CustomerFamily(ctx, customerID)
	if err != nil {
		return n, err
	}
	tickets, err := s.db.CustomerTicketIDs(ctx, family)
	if err != nil {
		return n, err
	}
	z := zip.NewWriter(w)
	profile := map[string]any{"customer": cust, "exported_at": store.Now(), "tickets": tickets}
	var merged []*store.Customer
	var events []store.CustomerEvent
	for _, id := range family {
		if id != customerID {
			c, err := s.db.Customer(ctx, id)
			if err != nil {
				return n, err
			}
			merged = append(merged, c)
		}
		ev, err := s.db.CustomerEvents(ctx, id)
		if err != nil {
			return n, err
		}
		events = append(events, ev...)
	}
	profile["merged_customers"], profile["events"] = merged, events
	if err := writeJSON(z, "customer.json", profile); err != nil {
		return n, err
	}
	for _, id := range tickets {
		if err := s.exportTicket(ctx, z, id, &n); err != nil {
			return n, err
		}
		n.Tickets++
	}
	return n, z.Close()
}

func (s *Service) exportTicket(ctx context.Context, z *zip.Writer, id int64, n *ExportCounts) error {
	t, err := s.db.Ticket(ctx, id)
	if err != nil {
		return err
	}
	msgs, err := s.db.Messages(ctx, id)
	if err != nil {
		return err
	}
	events, err := s.db.Events(ctx, id)
	if err != nil {
		return err
	}
	err = writeJSON(z, fmt.Sprintf("tickets/%d.json", id), map[string]any{"ticket": t, "messages": msgs, "events": events})
	if err != nil {
		return err
	}
	files, err := s.db.TicketFiles(ctx, id)
	if err != nil {
		return err
	}
	for _, f := range files {
		name := fmt.Sprintf("files/%d/%d-%d-%s", id, f.MessageID, f.AttachmentID, safeName(f.Filename))
		if f.Raw {
			name = fmt.Sprintf("files/%d/%d-source.eml", id, f.MessageID)
		}
		// Stored, not deflated: most attachments are compressed already,
		// and the copy stays a plain stream.
		fw, err := z.CreateHeader(&zip.FileHeader{Name: name, Method: zip.Store, Modified: t.CreatedAt})
		if err != nil {
			return err
		}
		if err := s.db.WriteBlob(ctx, f.SHA256, fw); err != nil {
			return fmt.Errorf("export file %s: %w", name, err)
		}
		n.Files++
		n.Bytes += f.Size
	}
	return nil
}

func writeJSON(z *zip.Writer, name string, v any) error {
	w, err := z.Create(name)
	if err != nil {
		return err
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// safeName keeps a file name inside its folder of the ZIP.
func safeName(name string) string {
	name = path.Base(strings.ReplaceAll(name, "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '/' || r == ':' {
			return '_'
		}
		return r
	}, name)
	if name == "." || name == ".." || name == "/" || name == "" {
		name = "file"
	}
	if len(name) > 120 {
		name = name[len(name)-120:]
	}
	return strings.ToValidUTF8(name, "_")
}

// ExportName is the download's file name.
func ExportName(customerID int64) string {
	return "customer-" + strconv.FormatInt(customerID, 10) + "-" + time.Now().UTC().Format("20060102") + ".zip"
}

// Erase erases the customer (see store.EraseCustomer) and returns the
// counts, which the caller records in the audit log with who asked.
func (s *Service) Erase(ctx context.Context, customerID int64) (store.ErasureCounts, error) {
	start := time.Now()
	n, err := s.db.EraseCustomer(ctx, customerID)
	if err != nil {
		return n, err
	}
	s.log.Info("customer erased", "customer", customerID, "tickets", n.Tickets, "messages", n.Messages,
		"files", n.Files, "took", time.Since(start).Round(time.Millisecond))
	// The search index's pages are rewritten in the background, in small
	// steps (and by the next sweep if the desk stops first).
	go func() {
		if s.purging.TryLock() {
			defer s.purging.Unlock()
			s.purge(context.WithoutCancel(ctx))
		}
	}()
	return n, nil
}

// PurgeSearch rewrites the search index's pages that still hold erased
// words (store.PurgeSearch), waiting for a purge under way to end first.
func (s *Service) PurgeSearch(ctx context.Context) error {
	s.purging.Lock()
	defer s.purging.Unlock()
	return s.db.PurgeSearch(ctx)
}

func (s *Service) purge(ctx context.Context) {
	start := time.Now()
	if err := s.db.PurgeSearch(ctx); err != nil {
		s.log.Warn("erasure: the search index's pages are not rewritten yet (the next sweep tries again)", "err", err)
		return
	}
	s.log.Info("erasure: search index rewritten", "took", time.Since(start).Round(time.Millisecond))
}

// retentionBatch is how many tickets one retention write deletes, and
// retentionPause the rest between two: the writer is never held long.
const (
	retentionBatch = 100
	retentionPause = 50 * time.Millisecond
	retentionMax   = 20000 // a sweep's share; the next sweep goes on
)

// Sweep finishes an erasure's purge of the search index that a stop cut
// short, and applies the retention rule once (the time sweep runs it under
// its lease): when the desk keeps tickets for N months, resolved and
// closed tickets untouched for longer are deleted, in small batches. It
// logs and audits what it deleted (counts only) and returns how many
// tickets went.
func (s *Service) Sweep(ctx context.Context, now time.Time) (int, error) {
	if pending, err := s.db.SearchPurgePending(ctx); err == nil && pending && s.purging.TryLock() {
		s.purge(ctx) // an erasure's, cut short by a stop
		s.purging.Unlock()
	}
	set, err := s.d.Settings(ctx)
	if err != nil || set.RetentionMonths <= 0 {
		return 0, err
	}
	before := now.AddDate(0, -set.RetentionMonths, 0)
	var total store.RetentionCounts
	var runErr error
	for total.Tickets < retentionMax {
		n, err := s.db.DeleteTicketsResolvedBefore(ctx, before, retentionBatch)
		total.Tickets += n.Tickets
		total.Messages += n.Messages
		total.Files += n.Files
		if err != nil {
			runErr = err
			break
		}
		if n.Tickets == 0 {
			break
		}
		select {
		case <-ctx.Done():
			runErr = ctx.Err()
		case <-time.After(retentionPause):
		}
		if runErr != nil {
			break
		}
	}
	if total.Tickets > 0 {
		s.log.Info("retention: deleted old resolved tickets", "months", set.RetentionMonths,
			"tickets", total.Tickets, "messages", total.Messages, "files", total.Files)
		s.audit.Record(ctx, audit.Entry{ActorKind: audit.BySystem, ActorName: "retention", Kind: audit.RetentionRun,
			Data: map[string]any{"months": set.RetentionMonths, "tickets": total.Tickets, "messages": total.Messages,
				"files": total.Files, "before": before.Format(time.RFC3339)}})
	}
	return total.Tickets, runErr
}
