package ui_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/ui"
)

// browser starts Debian's Chromium headless, or skips the test when it is
// not installed (.ci/run installs it). Browser tests run on the SQLite
// pass only: a page is the same on either engine, the API tests under it
// run on both, and a second round of Chromium would double the suite.
func browser(t *testing.T) context.Context {
	t.Helper()
	if storetest.OnPostgres() {
		t.Skip("browser tests run on the SQLite pass")
	}
	var path string
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		t.Skip("browser test skipped: no chromium on PATH (apt-get install chromium, or run .ci/run)")
	}
	// Chromium may still be writing its profile as the test ends; removing
	// it is best effort rather than a test failure.
	profile, err := os.MkdirTemp("", "onedesk-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(profile) })
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1440, 900),
	}
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// The page's console errors and uncaught exceptions go to the test log.
	chromedp.ListenTarget(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventExceptionThrown:
			t.Logf("page exception: %s", ev.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeWarning {
				for _, a := range ev.Args {
					t.Logf("page console %s: %s %s", ev.Type, a.Value, a.Description)
				}
			}
		}
	})
	ctx, cancel3 := context.WithTimeout(ctx, 120*time.Second)
	t.Cleanup(cancel3)
	return ctx
}

// shot saves a screenshot when ONEDESK_SCREENSHOTS names a folder.
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("ONEDESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	var png []byte
	if err := chromedp.Run(ctx, chromedp.CaptureScreenshot(&png)); err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// loginOwner signs in as the owner e.admin() made.
func loginOwner(t *testing.T, ctx context.Context, e *env) {
	t.Helper()
	loginAs(t, ctx, e, "owner@shop.test", "correct horse")
}

// loginAs signs in from the login page.
func loginAs(t *testing.T, ctx context.Context, e *env, email, password string) {
	t.Helper()
	run(t, ctx, "login", typeLogin(e.srv.URL, email, password), chromedp.WaitVisible(".shell", chromedp.ByQuery))
}

// typeLogin opens the login page at url and sends an email and password.
func typeLogin(url, email, password string) chromedp.Tasks {
	return chromedp.Tasks{
		chromedp.Navigate(url),
		chromedp.WaitVisible("#f-email", chromedp.ByID),
		chromedp.SendKeys("#f-email", email, chromedp.ByID),
		chromedp.SendKeys("#f-password", password, chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
	}
}

// slowStep is how long a step or a wait may take before the test log
// says so: where a loaded machine comes near a deadline shows in -v runs.
const slowStep = 10 * time.Second

func run(t *testing.T, ctx context.Context, step string, actions ...chromedp.Action) {
	t.Helper()
	// Each step gets its own deadline, so a failing one leaves time to
	// capture the page; generous, as a first page load on a machine busy
	// with other suites can take well over 20 s.
	sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	start := time.Now()
	err := chromedp.Run(sctx, actions...)
	if took := time.Since(start); took > slowStep {
		t.Logf("slow step %q: %v", step, took.Round(time.Millisecond)) // near a deadline on a busy machine?
	}
	if err != nil {
		shot(t, ctx, "failed-"+strings.ReplaceAll(step, " ", "-"))
		var html string
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer hcancel()
		chromedp.Run(hctx, chromedp.OuterHTML("body", &html, chromedp.ByQuery))
		if len(html) > 3000 {
			html = html[:3000]
		}
		t.Fatalf("%s: %v\npage: %s", step, err, html)
	}
}

func TestAgentAppInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	url := e.srv.URL

	// First run: the page offers to create the admin.
	run(t, ctx, "setup page", chromedp.Navigate(url), chromedp.WaitVisible("#f-name", chromedp.ByID))
	shot(t, ctx, "01-setup")
	run(t, ctx, "create admin",
		chromedp.SendKeys("#f-name", "Olga Owner", chromedp.ByID),
		chromedp.SendKeys("#f-email", "owner@shop.test", chromedp.ByID),
		chromedp.SendKeys("#f-password", "correct horse", chromedp.ByID),
		chromedp.Click(`button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(".shell", chromedp.ByQuery),
		chromedp.WaitVisible(".empty", chromedp.ByQuery))
	shot(t, ctx, "02-empty-inbox")

	// An integration creates tickets; they appear without a reload.
	api := e.client()
	var me struct {
		CSRFToken string `json:"csrf_token"`
	}
	api.must(200, "POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "correct horse"}).json(t, &me)
	api.csrf = me.CSRFToken
	api = api.apiClient()
	api.newTicket("Parcel never arrived", "carla@example.com")
	start := time.Now()
	run(t, ctx, "ticket appears live", chromedp.WaitVisible(`//div[contains(@class,"row")]//a[contains(., "Parcel never arrived")]`, chromedp.BySearch))
	t.Logf("a new ticket showed in the open inbox %v after the API answered", time.Since(start).Round(time.Millisecond))

	// Customer text with markup stays text and never runs.
	api.must(201, "POST", "/api/tickets", map[string]any{
		"subject":  `<img src=x onerror="window.__xss=1">Broken zip`,
		"body":     `<script>window.__xss=1</script><img src=x onerror="window.__xss=2"> see https://shop.test/o/1`,
		"customer": map[string]string{"email": "mallory@example.com", "name": `<b onmouseover="window.__xss=3">Mallory</b>`},
	})
	run(t, ctx, "xss ticket listed", chromedp.WaitVisible(`//a[contains(., "Broken zip")]`, chromedp.BySearch))

	// Keyboard: j/k to move, Enter to open.
	run(t, ctx, "open with keyboard",
		press('j'), press('j'), press('k'),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(".t-head h1", chromedp.ByQuery))
	var title string
	run(t, ctx, "read title", chromedp.Text(".t-head h1", &title, chromedp.ByQuery))
	if !strings.Contains(title, "Broken zip") {
		t.Fatalf("Enter opened %q, want the newest ticket", title)
	}
	var xss *runtime.RemoteObject
	run(t, ctx, "xss check", chromedp.WaitVisible(".msg.customer .body a", chromedp.ByQuery),
		chromedp.EvaluateAsDevTools(`window.__xss === undefined`, &xss))
	var safe bool
	run(t, ctx, "xss check value", chromedp.Evaluate(`window.__xss === undefined && document.querySelectorAll('script:not([type=module])').length === 0`, &safe))
	if !safe {
		t.Fatal("customer markup ran in the agent app")
	}
	var linkText string
	run(t, ctx, "link", chromedp.Text(".msg.customer .body a", &linkText, chromedp.ByQuery))
	if linkText != "https://shop.test/o/1" {
		t.Fatalf("link %q", linkText)
	}

	// Open the first ticket, reply with r, note with n, resolve with e.
	run(t, ctx, "open parcel ticket",
		chromedp.Click(`//a[contains(., "Parcel never arrived")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h1[contains(., "Parcel never arrived")]`, chromedp.BySearch))
	shot(t, ctx, "03-ticket")
	var panel string
	run(t, ctx, "customer panel", chromedp.Text("#customer", &panel, chromedp.ByQuery))
	if strings.Contains(panel, "null") || strings.Contains(panel, "undefined") {
		t.Fatalf("customer panel shows %q", panel)
	}
	run(t, ctx, "reply",
		press('r'),
		chromedp.WaitReady("#reply:focus", chromedp.ByQuery),
		chromedp.SendKeys("#reply", "We are sending a new one today.", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter, chromedp.KeyModifiers(inputModifierCtrl)),
		chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[contains(., "We are sending a new one today.")]`, chromedp.BySearch))
	// No mailbox yet: the reply reached no one, and says so with the
	// screen where that is fixed (never a false "Sent").
	run(t, ctx, "not delivered", chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[contains(@class,"delivery") and contains(., "Not sent") and contains(., "Settings → Mailboxes")]`, chromedp.BySearch))
	run(t, ctx, "note",
		chromedp.KeyEvent(kb.Escape),
		press('n'),
		chromedp.WaitVisible(".composer.note", chromedp.ByQuery),
		chromedp.SendKeys("#reply", "Courier confirmed the loss.", chromedp.ByID),
		chromedp.Click("#send", chromedp.ByID),
		chromedp.WaitVisible(`//article[contains(@class,"note")]//div[contains(., "Courier confirmed the loss.")]`, chromedp.BySearch))
	run(t, ctx, "resolve",
		chromedp.KeyEvent(kb.Escape),
		press('e'),
		chromedp.WaitVisible(`//div[contains(@class,"t-controls")]/span[contains(@class,"pill") and contains(@class,"resolved")]`, chromedp.BySearch))
	shot(t, ctx, "04-resolved")

	var got ticketJSON
	var list struct{ Tickets []ticketJSON }
	api.must(200, "GET", "/api/tickets?q=parcel", nil).json(t, &list)
	api.must(200, "GET", fmt.Sprintf("/api/tickets/%d", list.Tickets[0].ID), nil).json(t, &got)
	kinds := []string{}
	for _, m := range got.Messages {
		kinds = append(kinds, m.Kind)
	}
	if got.Status != "resolved" || strings.Join(kinds, ",") != "customer,agent,note" {
		t.Fatalf("after the browser: status %s, messages %v", got.Status, kinds)
	}

	// A new customer message shows in the open ticket without a reload.
	api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", got.ID), map[string]any{"body": "Thanks, got the tracking!", "kind": "customer"})
	run(t, ctx, "live message", chromedp.WaitVisible(`//article[contains(@class,"customer")]//div[contains(., "Thanks, got the tracking!")]`, chromedp.BySearch))

	// A colleague of the customer writes on the thread: shown by name, listed
	// beside the customer, never replacing them.
	if _, err := e.desk.Ingest(context.Background(), desk.Inbound{Channel: "email", TicketID: got.ID, Name: "Hana Colleague",
		From: store.Identity{Kind: "email", Value: "hana@example.com"}, Text: "I am Carla's colleague, please copy me.", ExternalID: "h1@example.com"}); err != nil {
		t.Fatal(err)
	}
	run(t, ctx, "participant",
		chromedp.WaitVisible(`//article[contains(@class,"customer")]//span[@class="who" and contains(., "Hana Colleague")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//aside//li[contains(., "hana@example.com")]`, chromedp.BySearch))

	// Files go with a reply from the composer.
	file := filepath.Join(t.TempDir(), "return-label.pdf")
	os.WriteFile(file, []byte("%PDF-1.4 label"), 0o600)
	run(t, ctx, "attach",
		press('r'),
		chromedp.WaitReady("#reply:focus", chromedp.ByQuery),
		chromedp.SetUploadFiles(`.composer input[type="file"]`, []string{file}, chromedp.ByQuery),
		chromedp.WaitVisible(`//span[contains(@class,"file-chip") and contains(., "return-label.pdf")]`, chromedp.BySearch),
		chromedp.SendKeys("#reply", "The label is attached.", chromedp.ByID))
	shot(t, ctx, "04b-attach")
	run(t, ctx, "send with file",
		chromedp.Click("#send", chromedp.ByID),
		chromedp.WaitVisible(`//article[contains(@class,"agent")]//div[@class="attachments"]//a[contains(., "return-label.pdf")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`.file-chip`, chromedp.ByQuery))

	// ? shows the shortcuts; Escape closes them.
	run(t, ctx, "help", press('?'), chromedp.WaitVisible("#help", chromedp.ByID))
	shot(t, ctx, "05-help")
	run(t, ctx, "close help", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent("#help", chromedp.ByID))

	// Admin screens: add a team and an agent; the team shows as a view.
	run(t, ctx, "teams page",
		chromedp.Navigate(url+"/#/admin/teams"),
		chromedp.WaitVisible(`//h2[contains(., "Add a team")]`, chromedp.BySearch),
		chromedp.SendKeys(`#admin input[name="name"]`, "Returns", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//nav//button[contains(., "Returns")]`, chromedp.BySearch))
	// Transfer to the team with a handoff note: the next agent sees it on top.
	run(t, ctx, "transfer",
		chromedp.Navigate(url+"/?transfer#/open"),
		chromedp.Click(`//a[contains(., "Parcel never arrived")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h1[contains(., "Parcel never arrived")]`, chromedp.BySearch))
	run(t, ctx, "pick team",
		chromedp.SetValue(`//label[contains(., "Team")]/select`, "1", chromedp.BySearch),
		chromedp.WaitVisible(`[role="dialog"] textarea`, chromedp.ByQuery))
	run(t, ctx, "handoff note",
		chromedp.SendKeys(`[role="dialog"] textarea`, "Customer wants a refund, not a resend", chromedp.ByQuery),
		chromedp.Click(`[role="dialog"] button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//div[contains(@class,"handoff") and contains(., "Customer wants a refund, not a resend")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "transferred it to Returns")]`, chromedp.BySearch))
	shot(t, ctx, "07-handoff")
	run(t, ctx, "agents page",
		chromedp.Navigate(url+"/#/admin/agents"),
		chromedp.WaitVisible(`//h2[contains(., "Add an agent")]`, chromedp.BySearch),
		chromedp.SendKeys(`#admin input[name="name"]`, "Ann Agent", chromedp.ByQuery),
		chromedp.SendKeys(`#admin input[name="email"]`, "not-an-email", chromedp.ByQuery),
		chromedp.SendKeys(`#admin input[name="password"]`, "12345678", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "is not an email address")]`, chromedp.BySearch))
	run(t, ctx, "agent added",
		chromedp.Evaluate(`document.querySelector('#admin input[name="email"]').value = ''`, nil),
		chromedp.SendKeys(`#admin input[name="email"]`, "ann@shop.test", chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//td[contains(., "ann@shop.test")]`, chromedp.BySearch))
	shot(t, ctx, "07-admin-agents")
	run(t, ctx, "mailboxes page",
		chromedp.Navigate(url+"/#/admin/mailboxes"),
		chromedp.WaitVisible(`//h2[contains(., "Add a mailbox")]`, chromedp.BySearch),
		chromedp.SendKeys(`#admin input[name="address"]`, "help@shop.test", chromedp.ByQuery),
		chromedp.SendKeys(`#admin input[name="imap_host"]`, "imap.shop.test", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(`//p[contains(@class,"error") and contains(., "smtp_host is empty")]`, chromedp.BySearch),
		chromedp.SendKeys(`#admin input[name="smtp_host"]`, "smtp.shop.test", chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//h2[contains(., "help@shop.test")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[contains(., "Not checked yet")]`, chromedp.BySearch))
	shot(t, ctx, "07-admin-mailboxes")
	run(t, ctx, "settings page",
		chromedp.WaitNotPresent(".toast", chromedp.ByQuery), // the mailbox's "Saved" is not the settings'
		chromedp.Navigate(url+"/#/admin/settings"),
		chromedp.WaitVisible(`#admin input[name="reopen_days"]`, chromedp.ByQuery),
		chromedp.SetValue(`#admin input[name="reopen_days"]`, "14", chromedp.ByQuery),
		chromedp.Click(`#admin form button[type="submit"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Saved")]`, chromedp.BySearch))
	// The "Saved" above may be an earlier page's toast still showing: wait
	// for the setting itself.
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		st, _ := e.desk.Settings(context.Background())
		if st.ReopenDays == 14 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("reopen days %d after the settings page", st.ReopenDays)
		}
	}
	run(t, ctx, "dark inbox",
		chromedp.Evaluate(`localStorage.setItem('onedesk.theme', 'dark')`, nil),
		chromedp.Navigate(url+"/?reload#/open"),
		chromedp.WaitVisible(".row", chromedp.ByQuery),
		chromedp.Click(".row", chromedp.ByQuery),
		chromedp.WaitVisible(".t-head h1", chromedp.ByQuery))
	shot(t, ctx, "08-dark")

	// Log out, log back in: the last view is remembered.
	run(t, ctx, "logout", chromedp.Click(`button[aria-label="Log out"]`, chromedp.ByQuery), chromedp.WaitVisible("#f-password", chromedp.ByID))
	shot(t, ctx, "06-login")
	run(t, ctx, "login",
		chromedp.SendKeys("#f-email", "owner@shop.test", chromedp.ByID),
		chromedp.SendKeys("#f-password", "correct horse", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(".shell", chromedp.ByQuery))

	// Each agent picks a language: the app speaks it after a reload.
	api.must(200, "PATCH", "/api/me", map[string]string{"language": "pt", "timezone": "America/Sao_Paulo"})
	run(t, ctx, "portuguese",
		chromedp.Navigate(url+"/?lang#/open"),
		chromedp.WaitVisible(`//nav//button[contains(., "Todos abertos")]`, chromedp.BySearch))
	shot(t, ctx, "09-portuguese")
}

const inputModifierCtrl = 2

// press types one key the way a keyboard does: a keyDown that carries its
// text, so the page's preventDefault on keydown keeps the text out, as in
// a real browser (chromedp.KeyEvent sends the text as a separate event).
func press(r rune) chromedp.ActionFunc {
	return func(ctx context.Context) error {
		k, ok := kb.Keys[r]
		if !ok {
			return fmt.Errorf("no key for %q", r)
		}
		down := input.DispatchKeyEvent(input.KeyDown).WithKey(k.Key).WithCode(k.Code).
			WithWindowsVirtualKeyCode(k.Windows).WithNativeVirtualKeyCode(k.Native).WithText(k.Text).WithUnmodifiedText(k.Unmodified)
		if k.Shift {
			down = down.WithModifiers(input.ModifierShift)
		}
		if err := down.Do(ctx); err != nil {
			return err
		}
		return input.DispatchKeyEvent(input.KeyUp).WithKey(k.Key).WithCode(k.Code).
			WithWindowsVirtualKeyCode(k.Windows).WithNativeVirtualKeyCode(k.Native).Do(ctx)
	}
}

// TestInboxFirstPaintSeeded measures, in Chromium, how long the app takes
// from navigation to the first page of tickets on screen, on the seeded
// database named by ONEDESK_BENCH_DB (see README, Performance). It reports
// the figures; it does not time-assert.
func TestInboxFirstPaintSeeded(t *testing.T) {
	path := os.Getenv("ONEDESK_BENCH_DB")
	if path == "" {
		t.Skip("set ONEDESK_BENCH_DB to a database made by 'onedesk dev seed' to measure the inbox's first paint")
	}
	ctx := browser(t)
	e := newEnvAt(t, path, ui.Options{APIRate: -1})
	run(t, ctx, "login page", chromedp.Navigate(e.srv.URL), chromedp.WaitVisible("#f-password", chromedp.ByID))
	run(t, ctx, "login",
		chromedp.SendKeys("#f-email", "agent1@seed.test", chromedp.ByID),
		chromedp.SendKeys("#f-password", "password123", chromedp.ByID),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(".row", chromedp.ByQuery))
	var paints []float64
	for i := range 10 {
		var ms float64
		run(t, ctx, "reload",
			chromedp.Navigate(fmt.Sprintf("%s/?load=%d#/open", e.srv.URL, i)),
			chromedp.WaitVisible(".row", chromedp.ByQuery),
			chromedp.Evaluate(`performance.getEntriesByName('inbox-painted')[0].startTime`, &ms))
		paints = append(paints, ms)
	}
	run(t, ctx, "open a seeded ticket", chromedp.Click(".row", chromedp.ByQuery), chromedp.WaitVisible(".t-head h1", chromedp.ByQuery))
	shot(t, ctx, "10-seeded-inbox")
	sort.Float64s(paints)
	t.Logf("inbox first paint over %d loads: median %.0f ms, worst %.0f ms", len(paints), paints[len(paints)/2], paints[len(paints)-1])
}
