//go:build !windows

package email

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
)

// TestKillDuringImport imports 500 messages with the real onedesk binary,
// killing it with SIGKILL several times along the way: every message must
// end up stored exactly once.
func TestKillDuringImport(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	dir := t.TempDir()
	bin := buildOnedesk(t, dir)
	imapAddr := imapServer(t)
	const total = 500
	c, err := imapclient.DialInsecure(imapAddr, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.Login("support", "secret").Wait()
	for i := range total {
		data := crlf(fmt.Sprintf("From: customer%d@example.com\nSubject: Question %d\nMessage-ID: <q%d@example.com>\n\nHello number %d, %s\n",
			i, i, i, i, "where is my order? The parcel is late and the tracking page says nothing."))
		cmd := c.Append("INBOX", int64(len(data)), nil)
		cmd.Write(data)
		cmd.Close()
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	c.Close()

	data := storetest.Data(t)
	ctx := context.Background()
	db := crashDatabase(t, data, imapAddr)

	count := func() int {
		n := 0
		for _, tk := range everyTicket(t, db) {
			msgs, _ := db.Messages(ctx, tk.ID)
			n += len(msgs)
		}
		return n
	}
	start := time.Now()
	serve := func() *exec.Cmd { return serveOnedesk(t, bin, data, nil) }
	kills := 0
	for _, at := range []int{1, 150, 320} {
		cmd := serve()
		// Starting the binary and storing up to 170 messages on a loaded
		// machine beside PostgreSQL took past 20 s.
		deadline := time.Now().Add(patience)
		for {
			mb, _ := db.Mailbox(ctx, 1)
			if int(mb.LastUID) >= at {
				break
			}
			if time.Now().After(deadline) {
				cmd.Process.Kill()
				t.Fatalf("import stalled before uid %d", at)
			}
			time.Sleep(2 * time.Millisecond)
		}
		cmd.Process.Kill() // SIGKILL: no cleanup of any kind
		cmd.Wait()
		kills++
	}
	cmd := serve()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	deadline := time.Now().Add(patience)
	for {
		mb, _ := db.Mailbox(ctx, 1)
		if mb.LastUID == total {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor at %d of %d", mb.LastUID, total)
		}
		time.Sleep(10 * time.Millisecond)
	}
	elapsed := time.Since(start)
	time.Sleep(300 * time.Millisecond) // anything extra would show now
	if n := count(); n != total {
		t.Fatalf("%d messages stored after %d kills, want exactly %d", n, kills, total)
	}
	t.Logf("%d messages imported exactly once across %d SIGKILLs in %v (including restarts)", total, kills, elapsed.Round(time.Millisecond))
}

// buildOnedesk builds the real onedesk binary into dir.
func buildOnedesk(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "onedesk")
	build := exec.Command("go", "build", "-o", bin, "onedesk")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build onedesk: %v\n%s", err, out)
	}
	return bin
}

// crashDatabase makes the database at data with one mailbox reading
// the IMAP server at imapAddr, polled every 5 seconds.
func crashDatabase(t *testing.T, data, imapAddr string) *store.DB {
	t.Helper()
	all := store.StartAll
	db, _, _ := mailboxDatabase(t, data, imapAddr, desk.MailboxInput{StartFrom: &all})
	return db
}

// mailboxDatabase makes the database at data with one mailbox reading
// the IMAP server at imapAddr (support/secret), polled every 5 seconds,
// with in's other settings.
func mailboxDatabase(t testing.TB, data, imapAddr string, in desk.MailboxInput) (*store.DB, *desk.Desk, *store.Mailbox) {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	host, port, _ := net.SplitHostPort(imapAddr)
	p, _ := strconv.Atoi(port)
	str := func(s string) *string { return &s }
	five := 5
	in.Address, in.IMAPHost, in.IMAPPort, in.IMAPSecurity = str("support@shop.test"), str(host), &p, str("none")
	in.IMAPUsername, in.IMAPPassword, in.SMTPHost, in.PollSeconds = str("support"), "secret", str("127.0.0.1"), &five
	d := desk.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)))
	mb, err := d.SaveMailbox(ctx, 0, in)
	if err != nil {
		t.Fatal(err)
	}
	return db, d, mb
}

// serveOnedesk starts the binary on data, with env added to its own.
func serveOnedesk(t *testing.T, bin, data string, env []string) *exec.Cmd {
	t.Helper()
	// The test's IMAP and SMTP servers are on 127.0.0.1.
	cmd := exec.Command(bin, "serve", "--data", data, "--addr", "127.0.0.1:0", "--log-level", "error", "--allow-private-networks")
	cmd.Stderr = os.Stderr
	cmd.Env = append(os.Environ(), env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd
}
