package privacy_test

import (
	"archive/zip"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedesk/audit"
	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/privacy"
	"onedesk/store"
)

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

var ctx = context.Background()

type rig struct {
	data string
	d    *desk.Desk
	db   *store.DB
	raw  *sql.DB
	priv *privacy.Service
	mb   *store.Mailbox
}

func newRig(t *testing.T) *rig {
	t.Helper()
	d, db, raw := desktest.NewRaw(t)
	str := func(s string) *string { return &s }
	mb, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str("help@shop.test"), IMAPHost: str("imap.shop.test"), SMTPHost: str("smtp.shop.test")})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{data: db.Path(), d: d, db: db, raw: raw, priv: privacy.New(d, desktest.Log()), mb: mb}
}

// mail ingests an email with its raw source and attachments.
func (r *rig) mail(t *testing.T, from, name, subject, text string, files ...store.Attachment) *desk.Ingested {
	t.Helper()
	rawSource := "From: " + name + " <" + from + ">\r\nSubject: " + subject + "\r\n\r\n" + text + "\r\n"
	return desktest.Ingest(t, r.d, desk.Inbound{Channel: "email", From: desktest.Email(from), Name: name,
		Subject: subject, Text: text, HTML: "<p>" + text + "</p>", Attachments: files,
		ExternalID: subject + "." + from, Mail: desk.MailSource{MailboxID: r.mb.ID, Raw: []byte(rawSource)}})
}

const marker = "zebraquokka7731"

func TestEraseLeavesNoTrace(t *testing.T) {
	r := newRig(t)
	admin := desktest.Agent(t, r.d, "admin@shop.test", "admin")
	email := marker + "@example.com"
	shared := []byte("the shop's return form, sent by two customers")
	first := r.mail(t, email, "Carla "+marker, "Order "+marker+" is late", "My code is "+marker+", please help",
		store.Attachment{Filename: marker + ".txt", ContentType: "text/plain", Data: []byte("secret " + marker + " inside")},
		store.Attachment{Filename: "returns.pdf", ContentType: "application/pdf", Data: shared})
	r.mail(t, email, "Carla", "Second "+marker, "Again "+marker)
	other := r.mail(t, "olga@example.com", "Olga", "Return", "Here is the form",
		store.Attachment{Filename: "returns.pdf", ContentType: "application/pdf", Data: shared})
	if _, err := r.d.Reply(ctx, desk.AgentActor(admin.ID), first.Ticket.ID, desk.ReplyInput{Body: "> My code is " + marker + "\nThanks, we look into it."}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.d.Reply(ctx, desk.AgentActor(admin.ID), first.Ticket.ID, desk.ReplyInput{Body: "note about " + marker, Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.d.LogCall(ctx, desk.AgentActor(admin.ID), desk.CallInput{TicketID: first.Ticket.ID, Direction: "in",
		Duration: 60, Notes: "Called about " + marker}); err != nil {
		t.Fatal(err)
	}
	notes := "VIP " + marker
	if _, err := r.d.UpdateCustomer(ctx, first.Ticket.CustomerID, desk.CustomerInput{Notes: &notes}); err != nil {
		t.Fatal(err)
	}
	if list, _, err := r.db.ListTickets(ctx, store.TicketFilter{Query: marker, Limit: 10}); err != nil || len(list) != 2 {
		t.Fatalf("before: search finds %d tickets (%v), want 2", len(list), err)
	}

	n, err := r.priv.Erase(ctx, first.Ticket.CustomerID)
	if err != nil {
		t.Fatal(err)
	}
	if n.Tickets != 2 || n.Messages < 4 || n.Identities != 1 || n.Files < 3 {
		t.Errorf("counts %+v: want 2 tickets, 4+ messages, 1 identity, 3+ files (the marked file and two sources)", n)
	}

	// Through the desk: the messages are empty, search finds nothing.
	for _, id := range []int64{first.Ticket.ID} {
		msgs, err := r.db.Messages(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			if m.Body != "" || m.HTML != "" || m.From != "" || len(m.Attachments) != 0 {
				t.Errorf("message %d kept %q %q %q %d files", m.ID, m.Body, m.HTML, m.From, len(m.Attachments))
			}
		}
		tk := desktest.Ticket(t, r.db, id)
		if strings.Contains(tk.Subject, marker) {
			t.Errorf("subject kept: %q", tk.Subject)
		}
	}
	if list, _, err := r.db.ListTickets(ctx, store.TicketFilter{Query: marker, Limit: 10}); err != nil || len(list) != 0 {
		t.Errorf("after: search finds %d tickets (%v)", len(list), err)
	}
	if list, err := r.d.SearchCustomers(ctx, marker, 0, 10); err != nil || len(list) != 0 {
		t.Errorf("after: customer search finds %d (%v)", len(list), err)
	}
	c, err := r.db.Customer(ctx, first.Ticket.CustomerID)
	if err != nil || c.Name != "" || c.Notes != "" || len(c.Identities) != 0 {
		t.Errorf("customer kept %+v (%v)", c, err)
	}
	// The file another customer sent too stays for them.
	msgs, err := r.db.Messages(ctx, other.Ticket.ID)
	if err != nil || len(msgs) != 1 || len(msgs[0].Attachments) != 1 {
		t.Fatalf("other customer's message: %+v %v", msgs, err)
	}
	a, _, err := r.db.AttachmentData(ctx, msgs[0].Attachments[0].ID)
	if err != nil || !bytes.Equal(a.Data, shared) {
		t.Errorf("the shared file is gone for the other customer: %v", err)
	}
	// A new message from the same address starts a new customer.
	again := r.mail(t, email, "Carla", "Hello again", "new")
	if again.Ticket.CustomerID == first.Ticket.CustomerID {
		t.Errorf("a new message from the erased address went to the erased customer")
	}
	// The new message names the address again: erase that customer too
	// before looking for the marker's last byte.
	if _, err := r.priv.Erase(ctx, again.Ticket.CustomerID); err != nil {
		t.Fatal(err)
	}
	if err := r.priv.PurgeSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if pending, err := r.db.SearchPurgePending(ctx); err != nil || pending {
		t.Errorf("a purge is still pending after PurgeSearch (%v)", err)
	}
	r.noMarkerAnywhere(t)
}

// noMarkerAnywhere looks for the marker in every byte of the SQLite
// file and its log, or in every row of every table on PostgreSQL.
func (r *rig) noMarkerAnywhere(t *testing.T) {
	t.Helper()
	if store.IsPostgres(r.data) {
		rows, err := r.raw.QueryContext(ctx, `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`)
		if err != nil {
			t.Fatal(err)
		}
		var tables []string
		for rows.Next() {
			var name string
			rows.Scan(&name)
			tables = append(tables, name)
		}
		rows.Close()
		if len(tables) < 20 {
			t.Fatalf("only %d tables found", len(tables))
		}
		for _, table := range tables {
			var hits int
			q := `SELECT count(*) FROM "` + table + `" x WHERE position($1 in x::text) > 0 OR position($2 in encode(convert_to(x::text, 'UTF8'), 'hex')) > 0`
			if err := r.raw.QueryRowContext(ctx, q, marker, hexOf(marker)).Scan(&hits); err != nil {
				t.Fatalf("%s: %v", table, err)
			}
			if hits > 0 {
				t.Errorf("table %s: %d rows hold the marker", table, hits)
			}
		}
		// Files: blobs' bytes in bytea.
		var hits int
		if err := r.raw.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM blobs WHERE position($1::bytea in data) > 0)
			+ (SELECT count(*) FROM blob_parts WHERE position($1::bytea in data) > 0)`, []byte(marker)).Scan(&hits); err != nil {
			t.Fatal(err)
		}
		if hits > 0 {
			t.Errorf("%d stored files hold the marker", hits)
		}
		return
	}
	if err := r.db.Checkpoint(ctx); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(r.data + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if i := bytes.Index(b, []byte(marker)); i >= 0 {
			t.Errorf("%s holds the marker at byte %d: %q", filepath.Base(f), i, b[max(i-60, 0):min(i+40, len(b))])
		}
	}
}

func hexOf(s string) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 0, 2*len(s))
	for _, c := range []byte(s) {
		out = append(out, digits[c>>4], digits[c&15])
	}
	return string(out)
}

func TestExportIsOneZipStreamed(t *testing.T) {
	r := newRig(t)
	big := make([]byte, 24<<20) // a large file, stored in parts
	for i := range big {
		big[i] = byte(i*7 + i/4096)
	}
	path := filepath.Join(t.TempDir(), "video.mp4")
	if err := os.WriteFile(path, big, 0o600); err != nil {
		t.Fatal(err)
	}
	first := r.mail(t, "carla@example.com", "Carla", "Where is order 1001?", "It has not come.",
		store.Attachment{Filename: "../../etc/photo.jpg", ContentType: "image/jpeg", Data: []byte("jpeg bytes")},
		store.Attachment{Filename: "video.mp4", ContentType: "video/mp4", Path: path, Size: int64(len(big))})
	second := r.mail(t, "carla@example.com", "Carla", "Refund", "Please refund.")
	r.mail(t, "olga@example.com", "Olga", "Someone else", "Not Carla's.")

	// The export streams: the heap does not grow by the file's size.
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	peak := &peakWriter{every: 2 << 20}
	if _, err := r.priv.Export(ctx, first.Ticket.CustomerID, peak); err != nil {
		t.Fatal(err)
	}
	if grew := int64(peak.maxHeap) - int64(before.HeapAlloc); grew > 16<<20 {
		t.Errorf("the heap grew by %d MB while exporting a 24 MB file", grew>>20)
	}
	t.Logf("export of %d bytes: heap grew by at most %.1f MB", peak.n, float64(int64(peak.maxHeap)-int64(before.HeapAlloc))/(1<<20))

	var buf bytes.Buffer
	n, err := r.priv.Export(ctx, first.Ticket.CustomerID, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if n.Tickets != 2 || n.Files != 4 {
		t.Errorf("counts %+v: want 2 tickets, 4 files (2 attachments, 2 sources)", n)
	}
	z, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]*zip.File{}
	for _, f := range z.File {
		names[f.Name] = f
		if strings.Contains(f.Name, "..") {
			t.Errorf("a name leaves its folder: %s", f.Name)
		}
	}
	for _, want := range []string{"customer.json", tickets(first.Ticket.ID), tickets(second.Ticket.ID)} {
		if names[want] == nil {
			t.Errorf("no %s in %v", want, keys(names))
		}
	}
	var cust struct {
		Customer store.Customer
		Events   []json.RawMessage
		Tickets  []int64
	}
	readJSON(t, names["customer.json"], &cust)
	if cust.Customer.ID != first.Ticket.CustomerID || len(cust.Customer.Identities) != 1 || len(cust.Tickets) != 2 {
		t.Errorf("customer.json: %+v", cust)
	}
	var tk struct {
		Ticket   store.Ticket
		Messages []store.Message
		Events   []store.Event
	}
	readJSON(t, names[tickets(first.Ticket.ID)], &tk)
	if tk.Ticket.Subject != "Where is order 1001?" || len(tk.Messages) != 1 || tk.Messages[0].Body != "It has not come." || len(tk.Events) == 0 {
		t.Errorf("ticket file: %+v", tk)
	}
	var sawBig, sawSource bool
	for name, f := range names {
		if !strings.HasPrefix(name, "files/") {
			continue
		}
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		switch {
		case strings.HasSuffix(name, "video.mp4"):
			sawBig = bytes.Equal(b, big)
		case strings.HasSuffix(name, "-source.eml") && strings.Contains(string(b), "Where is order 1001?"):
			sawSource = true
		}
	}
	if !sawBig || !sawSource {
		t.Errorf("files: big %v, source %v in %v", sawBig, sawSource, keys(names))
	}
	if _, err := r.priv.Export(ctx, 999999, io.Discard); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a missing customer: %v", err)
	}
}

func tickets(id int64) string { return "tickets/" + itoa(id) + ".json" }

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func keys(m map[string]*zip.File) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func readJSON(t *testing.T, f *zip.File, v any) {
	t.Helper()
	if f == nil {
		t.Fatal("missing file")
	}
	rc, err := f.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	if err := json.NewDecoder(rc).Decode(v); err != nil {
		t.Fatalf("%s: %v", f.Name, err)
	}
}

// peakWriter discards what it is given and samples the live heap every
// few MB.
type peakWriter struct {
	n, every, next int
	maxHeap        uint64
}

func (w *peakWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	if w.n >= w.next {
		w.next = w.n + w.every
		runtime.GC() // what is live, not garbage waiting for a collection
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		w.maxHeap = max(w.maxHeap, m.HeapAlloc)
	}
	return len(p), nil
}

func TestRetentionDeletesOldResolvedTickets(t *testing.T) {
	r := newRig(t)
	admin := desktest.Agent(t, r.d, "admin@shop.test", "admin")
	old := r.mail(t, "carla@example.com", "Carla", "Old question", "ancientword about order 7",
		store.Attachment{Filename: "old.txt", ContentType: "text/plain", Data: []byte("only in the old ticket")},
		store.Attachment{Filename: "shared.txt", ContentType: "text/plain", Data: []byte("in both tickets")})
	oldOpen := r.mail(t, "dora@example.com", "Dora", "Old but open", "still waiting")
	recent := r.mail(t, "erik@example.com", "Erik", "Recent resolved", "fresh",
		store.Attachment{Filename: "shared.txt", ContentType: "text/plain", Data: []byte("in both tickets")})
	for _, id := range []int64{old.Ticket.ID, recent.Ticket.ID} {
		if _, err := r.d.Reply(ctx, desk.AgentActor(admin.ID), id, desk.ReplyInput{Body: "Done.", Status: "resolved"}); err != nil {
			t.Fatal(err)
		}
	}
	longAgo := time.Now().AddDate(0, -14, 0).UnixMilli()
	for _, id := range []int64{old.Ticket.ID, oldOpen.Ticket.ID} {
		if _, err := r.raw.ExecContext(ctx, `UPDATE tickets SET updated_at = $1, created_at = $1 WHERE id = $2`, longAgo, id); err != nil {
			t.Fatal(err)
		}
	}
	// Off by default: nothing goes.
	if n, err := r.priv.Sweep(ctx, store.Now()); err != nil || n != 0 {
		t.Fatalf("retention off: %d deleted (%v)", n, err)
	}
	set, err := r.d.Settings(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set.RetentionMonths = 12
	if _, err := r.d.SaveSettings(ctx, set); err != nil {
		t.Fatal(err)
	}
	n, err := r.priv.Sweep(ctx, store.Now())
	if err != nil || n != 1 {
		t.Fatalf("retention: %d deleted (%v), want 1", n, err)
	}
	if _, err := r.db.Ticket(ctx, old.Ticket.ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the old resolved ticket is still there: %v", err)
	}
	for _, id := range []int64{oldOpen.Ticket.ID, recent.Ticket.ID} {
		desktest.Ticket(t, r.db, id)
	}
	var msgs, blobs int
	r.raw.QueryRowContext(ctx, `SELECT count(*) FROM messages WHERE ticket_id = $1`, old.Ticket.ID).Scan(&msgs)
	r.raw.QueryRowContext(ctx, `SELECT count(*) FROM blobs WHERE size = $1`, len("only in the old ticket")).Scan(&blobs)
	if msgs != 0 || blobs != 0 {
		t.Errorf("left behind: %d messages, %d files", msgs, blobs)
	}
	rm, err := r.db.Messages(ctx, recent.Ticket.ID)
	if err != nil || len(rm[0].Attachments) != 1 {
		t.Fatalf("recent: %v", err)
	}
	if a, _, err := r.db.AttachmentData(ctx, rm[0].Attachments[0].ID); err != nil || string(a.Data) != "in both tickets" {
		t.Errorf("the shared file went with the old ticket: %v", err)
	}
	if list, _, err := r.db.ListTickets(ctx, store.TicketFilter{Query: "ancientword", Limit: 10}); err != nil || len(list) != 0 {
		t.Errorf("search still finds the deleted ticket: %d (%v)", len(list), err)
	}
	entries, err := audit.New(r.db, desktest.Log()).List(ctx, store.AuditFilter{Kind: audit.RetentionRun})
	if err != nil || len(entries) != 1 || entries[0].ActorKind != audit.BySystem || entries[0].Data["tickets"] != float64(1) {
		t.Errorf("audit: %+v (%v)", entries, err)
	}
	if n, err := r.priv.Sweep(ctx, store.Now()); err != nil || n != 0 {
		t.Errorf("second sweep: %d (%v)", n, err)
	}
}
