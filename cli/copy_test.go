package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/reports"
	"onedesk/sla"
	"onedesk/store"
	"onedesk/store/storetest"
)

// buildDesk fills a desk through desk, as the app would: tickets on
// several channels, attachments (one large enough to be kept in parts),
// raw mail, replies, notes, assignment, status changes, and two customers
// merged into one.
func buildDesk(t *testing.T, db *store.DB) {
	t.Helper()
	ctx := context.Background()
	d := desktest.Wire(t, db)
	admin := desktest.Agent(t, d, "admin@shop.test", "admin")
	agent := desktest.Agent(t, d, "agent@shop.test", "agent")
	addr, name, imap, smtp := "support@shop.test", "Support", "imap.shop.test", "smtp.shop.test"
	mb, err := d.SaveMailbox(ctx, 0, desk.MailboxInput{Address: &addr, Name: &name, IMAPHost: &imap, SMTPHost: &smtp, IMAPPassword: "imap-secret"})
	if err != nil {
		t.Fatal(err)
	}
	large := bytes.Repeat([]byte("0123456789abcdef"), 150_000) // 2.4 MB: blob parts
	first := desktest.Ingest(t, d, desk.Inbound{Channel: "email", From: desktest.Email("ana@example.com"), Name: "Ana Lima",
		Subject: "Refund for order 1001", Text: "Please refund, photo attached.", ExternalID: "m1@example.com",
		Attachments: []store.Attachment{{Filename: "photo.jpg", ContentType: "image/jpeg", Data: []byte("\xff\xd8jpeg bytes")},
			{Filename: "invoice.pdf", ContentType: "application/pdf", Data: large}},
		Mail: desk.MailSource{MailboxID: mb.ID, Raw: []byte("From: ana@example.com\r\nSubject: Refund for order 1001\r\n\r\nPlease refund.\r\n")}})
	desktest.Ingest(t, d, desk.Inbound{Channel: "email", From: desktest.Email("ana@example.com"), Subject: "Re: Refund for order 1001",
		Text: "Any news?", ExternalID: "m2@example.com", ThreadRefs: []string{"m1@example.com"}})
	chat := desktest.Ingest(t, d, desk.Inbound{Channel: "chat", From: store.Identity{Kind: "visitor", Value: "v-42"}, Name: "Ana",
		Subject: "Chat", Text: "Hello, is the blue one in stock? Привет, şekerli ürün?"})
	desktest.Ingest(t, d, desk.Inbound{Channel: "form", From: desktest.Email("bo@example.com"), Name: "Bo Ek",
		Subject: "Contact form", Text: "Call me", Fields: json.RawMessage(`{"order":"1002","urgent":true}`)})
	desktest.Ingest(t, d, desk.Inbound{Channel: "api", From: store.Identity{Kind: "phone", Value: "+351912345678"},
		Subject: "Phone note", Text: "Called about delivery"})
	actor := desk.Actor{AgentID: agent.ID, Kind: "agent"}
	if _, err := d.Reply(ctx, actor, first.Ticket.ID, desk.ReplyInput{Body: "Refund sent.",
		Attachments: []store.Attachment{{Filename: "receipt.txt", ContentType: "text/plain", Data: []byte("receipt 1001")}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Reply(ctx, actor, first.Ticket.ID, desk.ReplyInput{Body: "checked with finance", Internal: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := d.Assign(ctx, desk.Actor{AgentID: admin.ID, Kind: "agent"}, chat.Ticket.ID, &agent.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := d.SetStatus(ctx, actor, first.Ticket.ID, "resolved"); err != nil {
		t.Fatal(err)
	}
	// The visitor is Ana: her chat customer is merged into her mail one.
	if _, err := d.MergeCustomers(ctx, first.Ticket.CustomerID, chat.Ticket.CustomerID, actor); err != nil {
		t.Fatal(err)
	}
	// The reports' roll-ups, counted as the server would.
	reps := reports.New(db, desktest.SLA(d), desktest.Log())
	for done := false; !done; {
		if done, err = reps.Refresh(ctx, 100); err != nil {
			t.Fatal(err)
		}
	}
}

// openPair opens a new SQLite desk and an empty PostgreSQL database,
// both closed when t ends.
func openPair(t *testing.T) (src, dst *store.DB) {
	t.Helper()
	ctx := context.Background()
	src, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { src.Close() })
	dst, err = store.Open(ctx, storetest.PostgresURL(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { dst.Close() })
	return src, dst
}

// newDeskFile makes a desk at path with buildDesk and returns its snapshot.
func newDeskFile(t *testing.T, path string) string {
	t.Helper()
	db, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	buildDesk(t, db)
	return snapshot(t, db)
}

// snapshot is everything the app reads of a desk, as JSON: the inbox,
// each ticket with its messages (attachments' bytes and raw sources too)
// and events, customers with their events, agents, mailboxes.
func snapshot(t *testing.T, db *store.DB) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	put := func(label string, v any, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", label, err)
		}
		j, _ := json.Marshal(v)
		fmt.Fprintf(&b, "%s %s\n", label, j)
	}
	customers := map[int64]bool{}
	cursor := ""
	for {
		page, next, err := db.ListTickets(ctx, store.TicketFilter{Cursor: cursor, Limit: 2})
		put("inbox", page, err)
		for _, tk := range page {
			customers[tk.CustomerID] = true
			one, err := db.Ticket(ctx, tk.ID)
			put("ticket", one, err)
			msgs, err := db.Messages(ctx, tk.ID)
			put("messages", msgs, err)
			for _, m := range msgs {
				for _, a := range m.Attachments {
					data, _, err := db.AttachmentData(ctx, a.ID)
					put("attachment", data, err)
				}
				if src, err := db.MessageSource(ctx, m.ID); err == nil {
					put("source", string(src), nil)
				} else if !errors.Is(err, store.ErrNotFound) {
					t.Fatal(err)
				}
			}
			events, err := db.Events(ctx, tk.ID)
			put("events", events, err)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	for id := int64(1); ; id++ {
		c, err := db.Customer(ctx, id)
		if errors.Is(err, store.ErrNotFound) && !customers[id] {
			break
		}
		put("customer", c, err)
		ev, err := db.CustomerEvents(ctx, id)
		put("customer events", ev, err)
	}
	agents, err := db.Agents(ctx)
	put("agents", agents, err)
	mbs, err := db.Mailboxes(ctx)
	put("mailboxes", mbs, err)
	reps := reports.New(db, sla.New(desk.New(db, desktest.Log()), desktest.Log()), desktest.Log())
	for _, name := range reports.Names {
		for _, by := range []string{"", "agent", "channel"} {
			r, err := reps.Report(ctx, name, reports.Query{Range: "7d", TZ: "UTC", By: by})
			put("report "+name+" by "+by, r, err)
		}
	}
	return b.String()
}

func runCLI(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	if code := Run(args, &out, &errOut); code != 0 {
		return out.String(), errors.New(strings.TrimSpace(errOut.String()))
	}
	return out.String(), nil
}

// A desk made through desk on SQLite, copied to PostgreSQL with
// `onedesk copy` and back to a new SQLite file, reads the same on all
// three; the PostgreSQL copy goes on with new ids past the old ones; a
// second copy onto it is refused.
func TestCopySQLiteToPostgresAndBack(t *testing.T) {
	ctx := context.Background()
	pg := storetest.PostgresURL(t)
	dir := t.TempDir()
	from := filepath.Join(dir, "desk.db")
	want := newDeskFile(t, from)

	out, err := runCLI(t, "copy", "--to", pg, "--from", from) // flags in any order
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	if !strings.Contains(out, "checked: every table") || !strings.Contains(out, "start onedesk with --data postgres://") {
		t.Fatalf("copy said:\n%s", out)
	}
	target, err := store.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	if got := snapshot(t, target); got != want {
		t.Fatalf("the PostgreSQL copy reads differently:\n%s", firstDiff(want, got))
	}
	// Search works on the PostgreSQL copy: its index was made at the end
	// of the copy, and its triggers keep it from then on.
	if list, _, err := target.ListTickets(ctx, store.TicketFilter{Query: "refund"}); err != nil || len(list) != 1 {
		t.Fatalf("search on the PostgreSQL copy: %d tickets, %v", len(list), err)
	}
	// Ids continue past the copied ones.
	d := desktest.Wire(t, target)
	next := desktest.Ingest(t, d, desk.Inbound{Channel: "email", From: desktest.Email("new@example.com"), Subject: "After the move", Text: "hi"})
	if next.Ticket.ID != 5 || next.Message.ID != 8 {
		t.Fatalf("after the copy: new ticket %d, message %d; want 5 and 8, past the 4 tickets and 7 messages copied", next.Ticket.ID, next.Message.ID)
	}
	if list, _, err := target.ListTickets(ctx, store.TicketFilter{Query: "move"}); err != nil || len(list) != 1 {
		t.Fatalf("search for a ticket written after the copy: %d tickets, %v", len(list), err)
	}
	target.Close()

	// A second copy onto it is refused, with a sentence.
	out, err = runCLI(t, "copy", "--from", from, "--to", pg)
	if err == nil || !strings.Contains(err.Error(), "is not empty (its table tickets has 5 rows)") {
		t.Fatalf("a copy onto a desk: %v\n%s", err, out)
	}

	// And back, PostgreSQL to a new SQLite file: as the first plus the
	// new ticket.
	back := filepath.Join(dir, "back.db")
	if out, err := runCLI(t, "copy", "--from", pg, "--to", back); err != nil {
		t.Fatalf("copy back: %v\n%s", err, out)
	}
	pgdb, err := store.Open(ctx, pg)
	if err != nil {
		t.Fatal(err)
	}
	wantBack := snapshot(t, pgdb)
	pgdb.Close()
	bdb, err := store.Open(ctx, back)
	if err != nil {
		t.Fatal(err)
	}
	defer bdb.Close()
	if got := snapshot(t, bdb); got != wantBack {
		t.Fatalf("the SQLite copy of the PostgreSQL desk reads differently:\n%s", firstDiff(wantBack, got))
	}
	// Search works on the SQLite copy: its index was made by the target.
	list, _, err := bdb.ListTickets(ctx, store.TicketFilter{Query: "refund"})
	if err != nil || len(list) != 1 {
		t.Fatalf("search on the SQLite copy: %d tickets, %v", len(list), err)
	}
}

// An interrupted copy leaves the target as it was: the next copy runs
// and finishes.
func TestCopyInterruptedLeavesTargetEmpty(t *testing.T) {
	ctx := context.Background()
	src, dst := openPair(t)
	buildDesk(t, src)
	cctx, cancel := context.WithCancel(ctx)
	_, err := store.Copy(cctx, src, dst, func(p store.CopyProgress) {
		if p.Table == "tickets" && p.Done {
			cancel() // halfway: the tables after tickets are not copied yet
		}
	})
	if !errors.Is(err, store.ErrCopyInterrupted) || !strings.Contains(err.Error(), "run the same command again") {
		t.Fatalf("interrupted copy: %v", err)
	}
	res, err := store.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatalf("the copy after an interrupted one: %v", err)
	}
	if res.Rows() == 0 {
		t.Fatal("nothing copied")
	}
	if got, want := snapshot(t, dst), snapshot(t, src); got != want {
		t.Fatalf("after the second run:\n%s", firstDiff(want, got))
	}
}

// fakeS3 is an S3-compatible server in the test (gofakes3, in memory)
// with an empty bucket; it sets the keys in the environment.
func fakeS3(t *testing.T, bucket string) (spec string, backend *s3mem.Backend, puts *atomic.Int64) {
	t.Helper()
	backend = s3mem.New()
	if err := backend.CreateBucket(bucket); err != nil {
		t.Fatal(err)
	}
	s3 := gofakes3.New(backend).Server()
	puts = new(atomic.Int64)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			puts.Add(1)
		}
		s3.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("ONEDESK_S3_ACCESS_KEY", "desk")
	t.Setenv("ONEDESK_S3_SECRET_KEY", "desk-secret")
	return "s3://" + bucket + "/files?endpoint=" + strings.TrimPrefix(srv.URL, "http://") + "&region=us-east-1&tls=false", backend, puts
}

// A desk with --files keeps new files in S3: each is an object named by
// its SHA-256, its row keeps no bytes, and the app reads it back.
func TestFilesInS3(t *testing.T) {
	ctx := context.Background()
	spec, backend, puts := fakeS3(t, "desk")
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "desk.db"), store.WithFiles(spec))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	buildDesk(t, db)
	list, err := backend.ListBucket("desk", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil {
		t.Fatal(err)
	}
	// photo, invoice, receipt and the raw mail, each sent once (staged
	// before its write, not sent again in it).
	if len(list.Contents) != 4 || puts.Load() != 4 {
		t.Fatalf("%d objects in the bucket after %d puts, want 4 and 4", len(list.Contents), puts.Load())
	}
	for _, o := range list.Contents {
		if !strings.HasPrefix(o.Key, "files/") || len(o.Key) != len("files/")+64 {
			t.Fatalf("object key %q: want files/<sha256>", o.Key)
		}
	}
	snap := snapshot(t, db)
	if !strings.Contains(snap, `"filename":"invoice.pdf"`) || !strings.Contains(snap, "From: ana@example.com") {
		t.Fatalf("files not read back:\n%.2000s", snap)
	}
	// Without the store, the desk says what is missing.
	path := db.Path()
	db.Close()
	plain, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if _, _, err := plain.AttachmentData(ctx, 1); err == nil || !strings.Contains(err.Error(), "started without one") {
		t.Fatalf("a file in S3 read without --files: %v", err)
	}
	// A copy without --files keeps the rows as they are, and says the
	// new desk needs the store.
	out, err := runCLI(t, "copy", "--from", path, "--to", filepath.Join(t.TempDir(), "moved.db"))
	if err != nil || !strings.Contains(out, "and the --files the old desk ran with: 4 of its files are kept there") {
		t.Fatalf("copy of a desk with files in S3: %v\n%s", err, out)
	}
	// A missing bucket is refused at Open.
	if _, err := store.Open(ctx, filepath.Join(t.TempDir(), "x.db"), store.WithFiles(strings.Replace(spec, "s3://desk/", "s3://nobucket/", 1))); err == nil ||
		!strings.Contains(err.Error(), "the bucket nobucket does not exist") {
		t.Fatalf("a missing bucket: %v", err)
	}
}

// `onedesk copy --files s3://...` moves the files out of the database
// into S3 as the desk moves to PostgreSQL; the copy reads the same.
func TestCopyMovesFilesIntoS3(t *testing.T) {
	ctx := context.Background()
	pg := storetest.PostgresURL(t)
	spec, backend, _ := fakeS3(t, "moved")
	from := filepath.Join(t.TempDir(), "desk.db")
	want := newDeskFile(t, from)
	out, err := runCLI(t, "copy", "--from", from, "--files", spec, "--to", pg)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	if !strings.Contains(out, "and 4 files") {
		t.Fatalf("copy said:\n%s", out)
	}
	list, err := backend.ListBucket("moved", &gofakes3.Prefix{}, gofakes3.ListBucketPage{})
	if err != nil || len(list.Contents) != 4 {
		t.Fatalf("objects after the copy: %v, %v", list, err)
	}
	target, err := store.Open(ctx, pg, store.WithFiles(spec))
	if err != nil {
		t.Fatal(err)
	}
	defer target.Close()
	if got := snapshot(t, target); got != want {
		t.Fatalf("the copy with files in S3 reads differently:\n%s", firstDiff(want, got))
	}
}

// firstDiff shows the first line where two snapshots part.
func firstDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := range min(len(w), len(g)) {
		if w[i] != g[i] {
			return fmt.Sprintf("line %d\nwant %.600s\ngot  %.600s", i+1, w[i], g[i])
		}
	}
	return fmt.Sprintf("want %d lines, got %d", len(w), len(g))
}

// TestCopyRate measures `onedesk copy` on a seeded desk into the test's
// PostgreSQL: ONEDESK_COPY_MEASURE=/tmp/copy100k.db go test ./cli -run TestCopyRate -v
// (seed it first: go run . dev seed --tickets 100000 --data /tmp/copy100k.db).
func TestCopyRate(t *testing.T) {
	from := os.Getenv("ONEDESK_COPY_MEASURE")
	if from == "" {
		t.Skip("set ONEDESK_COPY_MEASURE to a seeded desk to measure the copy")
	}
	pg := storetest.PostgresURL(t)
	old := copyProgressEvery
	copyProgressEvery = 10 * time.Second
	defer func() { copyProgressEvery = old }()
	var out bytes.Buffer
	if code := Run([]string{"copy", "--from", from, "--to", pg}, &out, &out); code != 0 {
		t.Fatalf("copy:\n%s", out.String())
	}
	t.Logf("\n%s", out.String())
	back := filepath.Join(t.TempDir(), "back.db")
	out.Reset()
	if code := Run([]string{"copy", "--from", pg, "--to", back}, &out, &out); code != 0 {
		t.Fatalf("copy back:\n%s", out.String())
	}
	t.Logf("back to SQLite:\n%s", out.String())
}

// Text SQLite keeps and PostgreSQL refuses (a NUL byte, bytes that are
// not UTF-8) is copied with U+FFFD in their place, and counted, rather
// than stopping the copy.
func TestCopyFixesTextPostgresRefuses(t *testing.T) {
	ctx := context.Background()
	src, dst := openPair(t)
	d := desktest.Wire(t, src)
	in := desktest.Ingest(t, d, desk.Inbound{Channel: "api", From: desktest.Email("odd@example.com"), Subject: "odd bytes",
		Text: "nul\x00 here"}) // desk refuses bytes that are not UTF-8, not a NUL
	res, err := store.Copy(ctx, src, dst, nil)
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := dst.Messages(ctx, in.Ticket.ID)
	if err != nil || len(msgs) != 1 {
		t.Fatalf("messages: %v %v", msgs, err)
	}
	if res.FixedTexts == 0 || msgs[0].Body != "nul\uFFFD here" {
		t.Fatalf("fixed %d texts; the body is %q", res.FixedTexts, msgs[0].Body)
	}
}

// The command's mistakes are sentences saying what to do.
func TestCopyCommandErrors(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("ONEDESK_S3_ACCESS_KEY", "k")
	t.Setenv("ONEDESK_S3_SECRET_KEY", "s")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"copy"}, "copy needs both --from and --to"},
		{[]string{"copy", "--to", "postgres://h/db"}, "copy needs both --from and --to"},
		{[]string{"copy", "--from", "a.db", "--to", "a.db"}, "name the same database"},
		{[]string{"copy", "--from", filepath.Join(dir, "none.db"), "--to", "postgres://h/db"}, "there is no desk at"},
		{[]string{"copy", "--from", "a.db", "--to", "b.db", "--files", "bucket"}, "--files must be s3://bucket"},
		{[]string{"copy", "--from", "a.db", "--to", "b.db", "extra"}, `unexpected argument "extra"`},
	} {
		_, err := runCLI(t, c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("onedesk %s: %v, want %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}
