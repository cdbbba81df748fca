//go:build !windows

package email

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
)

// TestHistoryPaceAndMemory imports a large history from Dovecot with the
// real binary and reports the pace and the process's peak memory. It is a
// measurement, run on request: ONEDESK_HISTORY_MESSAGES=50000 (a third of
// them replies in Sent).
func TestHistoryPaceAndMemory(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("ONEDESK_HISTORY_MESSAGES"))
	if n == 0 {
		t.Skip("measurement: set ONEDESK_HISTORY_MESSAGES (say 50000) to run it")
	}
	storetest.SQLiteOnly(t, "a measurement of the default engine")
	// The mail is written straight into Dovecot's maildir (an APPEND each
	// is far slower than the import measured), dated by the files' times.
	body := strings.Repeat("We ordered the blue one in size 42 and it has not arrived yet; the tracking page says nothing.\n", 12)
	start := time.Now().AddDate(-3, 0, 0)
	filled := time.Now()
	addr, _ := dovecotAt(t, func(maildir string) {
		put := func(folder string, i int, at time.Time, raw string) {
			cur := filepath.Join(maildir, folder, "cur")
			os.MkdirAll(cur, 0o755)
			if folder != "" {
				os.WriteFile(filepath.Join(maildir, folder, "maildirfolder"), nil, 0o644)
			}
			name := filepath.Join(cur, fmt.Sprintf("%d.M%dP1.bench:2,S", at.Unix(), i))
			if err := os.WriteFile(name, crlf(raw), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(name, at, at)
		}
		for i := 0; i < n/3; i++ {
			at := start.Add(time.Duration(i) * 30 * time.Minute)
			date := func(d time.Duration) string { return at.Add(d).Format(time.RFC1123Z) }
			put("", 2*i, at, fmt.Sprintf("From: c%d@example.com\nTo: support@shop.test\nSubject: Order %d\nDate: %s\nMessage-ID: <q%d@x.test>\n\n%s", i, i, date(0), i, body))
			put(".Sent", i, at.Add(time.Hour), fmt.Sprintf("From: support@shop.test\nTo: c%d@example.com\nSubject: Re: Order %d\nDate: %s\nMessage-ID: <a%d@x.test>\nIn-Reply-To: <q%d@x.test>\n\n%s", i, i, date(time.Hour), i, i, body))
			put("", 2*i+1, at.Add(2*time.Hour), fmt.Sprintf("From: c%d@example.com\nTo: support@shop.test\nSubject: Re: Order %d\nDate: %s\nMessage-ID: <t%d@x.test>\nIn-Reply-To: <a%d@x.test>\n\nThanks\n", i, i, date(2*time.Hour), i, i))
		}
	})
	t.Logf("%d messages written to Dovecot's maildir in %s", n/3*3, time.Since(filled).Round(time.Second))

	dir := t.TempDir()
	bin := buildOnedesk(t, dir)
	data := storetest.Data(t)
	ctx := context.Background()
	since, hist := start.AddDate(0, 0, -1), store.StartHistory
	db, _, mb := mailboxDatabase(t, data, addr, desk.MailboxInput{StartFrom: &hist, HistorySince: &since})
	cmd := serveOnedesk(t, bin, data, nil)
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	var began time.Time
	var rssMax int64
	pid := strconv.Itoa(cmd.Process.Pid)
	deadline := time.Now().Add(30 * time.Minute)
	for {
		m, _ := db.Mailbox(ctx, mb.ID)
		if began.IsZero() && m.HistoryState == store.HistoryRunning {
			began = time.Now()
		}
		if m.HistoryState == store.HistoryDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("history not done in 30 minutes")
		}
		rssMax = max(rssMax, procStatusOf(pid, "VmRSS:"))
		time.Sleep(200 * time.Millisecond)
	}
	took := time.Since(began)
	folders, _ := db.HistoryFolders(ctx, mb.ID)
	done := 0
	for _, f := range folders {
		done += f.Done
	}
	t.Logf("history: %d messages in %s (%.0f/s); RSS at most %d MB while importing (peak %d MB)",
		done, took.Round(time.Second), float64(done)/took.Seconds(), rssMax>>20, procStatusOf(pid, "VmHWM:")>>20)
}
