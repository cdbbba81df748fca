package ui_test

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/backup"
	"onedesk/store"
	"onedesk/ui"
)

// The owner sees the last backup under Settings and makes one now; the
// line follows the backup while it runs. Without --backup-dir the card
// says how to turn backups on.
func TestBackupsInBrowser(t *testing.T) {
	app := browser(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "onedesk.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sched, err := backup.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), backup.Config{Dir: filepath.Join(dir, "backups"), Every: 24 * time.Hour, Keep: 7})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, path, ui.Options{Backups: sched})
	e.admin()
	go sched.Run(ctx) // makes the first one at once
	for sched.Status().LastSuccess == nil {
		time.Sleep(20 * time.Millisecond)
	}
	first := sched.Status().LastSuccess.File
	loginOwner(t, app, e)
	run(t, app, "the backup line in Settings",
		chromedp.Navigate(e.srv.URL+"/#/admin/settings"),
		chromedp.WaitVisible(`//div[@id="backups"]//p[contains(., "Last backup") and contains(., "`+first+`")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[@id="backups"]//p[contains(., "Interval: 1 day") and contains(., "the newest 7 are kept")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[@id="backups"]//p[contains(., "Next backup")]`, chromedp.BySearch))
	// Names are to the second: the next one must have a name of its own.
	for !time.Now().UTC().Truncate(time.Second).After(sched.Status().LastSuccess.StartedAt) {
		time.Sleep(20 * time.Millisecond)
	}
	run(t, app, "back up now",
		chromedp.Click(`//div[@id="backups"]//button[contains(., "Back up now")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//*[contains(@class, "toast") and contains(., "Backup made")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[@id="backups"]//p[contains(., "Last backup") and not(contains(., "`+first+`"))]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[@id="backups"]//p[contains(., "took")]`, chromedp.BySearch))
	shot(t, app, "80-backups")

	off := newEnv(t, ui.Options{})
	off.admin()
	run(t, app, "backups off",
		chromedp.Navigate(off.srv.URL+"/#/admin/settings"),
		chromedp.WaitVisible(`#f-email`, chromedp.ByQuery))
	loginOwner(t, app, off)
	run(t, app, "backups off",
		chromedp.Navigate(off.srv.URL+"/#/admin/settings"),
		chromedp.WaitVisible(`//div[@id="backups"]//p[contains(., "Scheduled backups are off") and contains(., "--backup-dir")]`, chromedp.BySearch))
}
