package ui_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// The owner opens Reports after a few tickets came in through the API:
// the cards count them, every tab draws its charts, the period and a
// filter go into the address (and survive a reload), the numbers follow
// the filter and each table downloads as CSV with the same filters.
func TestReportsInBrowser(t *testing.T) {
	app := browser(t)
	path := filepath.Join(t.TempDir(), "onedesk.db")
	e := newEnvAt(t, path, ui.Options{})
	admin := e.admin()
	var shop struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "country": "PT"}).json(t, &shop)
	admin.must(201, "POST", "/api/sla-policies", map[string]any{"name": "Standard",
		"targets": map[string]any{"normal": map[string]any{"first_response": 3600, "resolution": 86400}}})
	api := admin.apiClient()

	// Three tickets, one of them the shop's; two answered, one of those resolved.
	var order, size, invoice ticketJSON
	api.must(201, "POST", "/api/tickets", map[string]any{"subject": "Where is my order?", "body": "It has been a week.", "store_id": shop.ID,
		"tags": []string{"shipping"}, "customer": map[string]string{"email": "carla@example.com", "name": "Carla"}}).json(t, &order)
	api.must(201, "POST", "/api/tickets", map[string]any{"subject": "Wrong size", "body": "The shoes are too small.",
		"customer": map[string]string{"email": "rui@example.com", "name": "Rui"}}).json(t, &size)
	api.must(201, "POST", "/api/tickets", map[string]any{"subject": "Invoice please", "body": "For my company.",
		"customer": map[string]string{"email": "ana@example.com", "name": "Ana"}}).json(t, &invoice)
	api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", order.ID), map[string]any{"body": "It left our warehouse today."})
	api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", size.ID), map[string]any{"body": "A bigger pair is on its way."})
	api.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", size.ID), map[string]any{"status": "resolved"})

	history(t, e, path, api)

	loginOwner(t, app, e)
	cardIs := func(metric, want string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`document.querySelector('#report-body:not([aria-busy]) .report-card[data-metric=%q] .value')?.textContent === %q`, metric, want),
			nil, chromedp.WithPollingTimeout(10*time.Second))
	}
	var hash string
	run(t, app, "reports from the menu",
		chromedp.Click(`#nav-reports`, chromedp.ByQuery),
		chromedp.WaitVisible(`.report-card[data-metric="created"]`, chromedp.ByQuery),
		cardIs("created", "3"), cardIs("resolved", "1"), cardIs("backlog", "10"), // with the 8 older ones never resolved
		chromedp.WaitVisible(`#report-body svg.chart`, chromedp.ByQuery),
		chromedp.Evaluate(`location.hash`, &hash))
	if hash != "#/reports/overview?range=7d" {
		t.Fatalf("address %q", hash)
	}
	var bars int
	run(t, app, "overview bars", chromedp.Evaluate(`document.querySelectorAll('section[data-table="by_channel"] svg rect.bar').length`, &bars))
	if bars == 0 {
		t.Fatal("the overview draws no bars by channel")
	}
	reportShot(t, app, "reports-1-overview")

	// Each tab answers its own report and draws it.
	for _, tab := range []struct{ name, card string }{{"volume", "messages_in"}, {"speed", "answered"}, {"workload", "replies"}, {"sla", "breaches"}} {
		run(t, app, "tab "+tab.name,
			chromedp.Click("#report-tab-"+tab.name, chromedp.ByQuery),
			chromedp.WaitVisible(fmt.Sprintf(`#report-tab-%s[aria-selected="true"]`, tab.name), chromedp.ByQuery),
			chromedp.WaitVisible(fmt.Sprintf(`.report-card[data-metric=%q]`, tab.card), chromedp.ByQuery),
			chromedp.WaitVisible(`#report-body svg.chart`, chromedp.ByQuery))
		reportShot(t, app, "reports-2-"+tab.name)
	}
	run(t, app, "sla numbers", cardIs("sla_first_response_rate", "100%"), cardIs("first_response_missed", "0"),
		chromedp.Poll(`document.querySelector('.report-card[data-metric="sla_first_response_rate"] .sub').textContent === '2 of 2 on time'`, nil,
			chromedp.WithPollingTimeout(5*time.Second)))

	// Volume: the week's heatmap has today's tickets, with the count on hover.
	var heat string
	run(t, app, "heatmap",
		chromedp.Click("#report-tab-volume", chromedp.ByQuery),
		cardIs("created", "3"),
		chromedp.WaitVisible(`svg.heatmap rect.cell:not(.zero)`, chromedp.ByQuery),
		chromedp.Evaluate(`[...document.querySelectorAll('svg.heatmap rect.cell:not(.zero) title')].map((x) => x.textContent.split('\n')[1]).join('|')`, &heat))
	if heat != "Created: 3 (100%)" {
		t.Fatalf("heatmap cells say %q, want one cell with the 3 tickets", heat)
	}

	// 30 days take the month of history in; the answered ones have their times.
	run(t, app, "30 days",
		chromedp.Click(`.reports .seg button[data-range="30d"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`.reports .seg button[data-range="30d"][aria-pressed="true"]`, chromedp.ByQuery),
		cardIs("created", "27"), cardIs("messages_out", "22"))
	reportShot(t, app, "reports-3-volume-30d")
	run(t, app, "30 days of speed",
		chromedp.Click("#report-tab-speed", chromedp.ByQuery),
		cardIs("answered", "22"),
		chromedp.WaitVisible(`section[data-table="by_day"] svg.chart path.line`, chromedp.ByQuery))
	reportShot(t, app, "reports-3-speed-30d")

	// The period and the store go into the address; the numbers follow.
	run(t, app, "the shop",
		chromedp.Click("#report-tab-volume", chromedp.ByQuery),
		cardIs("created", "27"),
		chromedp.Evaluate(fmt.Sprintf(`{ const s = document.querySelector('#report-store'); s.value = '%d'; s.dispatchEvent(new Event('change')); }`, shop.ID), nil),
		cardIs("created", "1"), cardIs("messages_out", "1"),
		chromedp.Evaluate(`location.hash`, &hash))
	if want := fmt.Sprintf("#/reports/volume?range=30d&store=%d", shop.ID); hash != want {
		t.Fatalf("address %q, want %q", hash, want)
	}
	var days int
	run(t, app, "30 days drawn", chromedp.Evaluate(`document.querySelectorAll('section[data-table="by_day"] .report-data tbody tr').length`, &days))
	if days != 30 {
		t.Fatalf("the by-day table has %d rows for 30 days", days)
	}

	// Each table downloads as CSV with the filters on screen.
	var link, csv string
	run(t, app, "csv link",
		chromedp.AttributeValue(`section[data-table="by_day"] a.csv`, "href", &link, nil, chromedp.ByQuery),
		chromedp.Evaluate(`fetch(document.querySelector('section[data-table="by_day"] a.csv').href).then((r) => r.text())`, &csv,
			func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if want := fmt.Sprintf("/api/reports/volume?range=30d&store=%d&format=csv&table=by_day", shop.ID); link != want {
		t.Fatalf("CSV link %q, want %q", link, want)
	}
	lines := strings.Split(strings.TrimSpace(csv), "\n")
	if len(lines) != 31 || strings.TrimSpace(lines[0]) != "day,created,resolved,reopened,messages_in,messages_out" || !strings.HasSuffix(strings.TrimSpace(lines[30]), ",1,0,0,1,1") {
		t.Fatalf("CSV of the by-day table:\n%s", csv)
	}
	run(t, app, "table shown",
		chromedp.Click(`section[data-table="by_day"] summary`, chromedp.ByQuery),
		chromedp.WaitVisible(`section[data-table="by_day"] .report-data`, chromedp.ByQuery))
	reportShot(t, app, "reports-3-volume-shop")

	// A reload keeps the report, its period and its filter.
	var store string
	run(t, app, "reload",
		chromedp.Reload(),
		chromedp.WaitVisible(`#report-tab-volume[aria-selected="true"]`, chromedp.ByQuery),
		cardIs("created", "1"),
		chromedp.Value(`#report-store`, &store, chromedp.ByQuery))
	if store != fmt.Sprint(shop.ID) {
		t.Fatalf("store filter after reload %q", store)
	}

	// A channel nothing came in on: empty charts say so.
	run(t, app, "empty channel",
		chromedp.Evaluate(`{ const s = document.querySelector('#report-channel'); s.value = 'email'; s.dispatchEvent(new Event('change')); }`, nil),
		cardIs("created", "0"),
		chromedp.WaitVisible(`//div[contains(@class,"chart-empty") and contains(., "No tickets in this period")]`, chromedp.BySearch))
	reportShot(t, app, "reports-4-empty")

	// Keyboard: g r from the inbox opens the report last looked at.
	run(t, app, "g r",
		chromedp.Navigate(e.srv.URL+"/#/open"),
		chromedp.WaitVisible(`.list-pane`, chromedp.ByQuery),
		press('g'), press('r'),
		chromedp.WaitVisible(`#report-tab-volume[aria-selected="true"]`, chromedp.ByQuery),
		cardIs("created", "0"),
		chromedp.Evaluate(`location.hash`, &hash))
	if want := fmt.Sprintf("#/reports/volume?range=30d&store=%d&channel=email", shop.ID); hash != want {
		t.Fatalf("g r opened %q, want %q", hash, want)
	}

	// A custom period starts as the one on screen; narrowed to its last
	// day, it holds the shop's ticket of today. The comparison can go.
	var from, to string
	run(t, app, "custom period",
		chromedp.Evaluate(`{ const s = document.querySelector('#report-channel'); s.value = ''; s.dispatchEvent(new Event('change')); }`, nil),
		cardIs("created", "1"),
		chromedp.Click(`.reports .seg button[data-range="custom"]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#report-from`, chromedp.ByQuery),
		chromedp.Value(`#report-from`, &from, chromedp.ByQuery),
		chromedp.Value(`#report-to`, &to, chromedp.ByQuery))
	f, err1 := time.Parse("2006-01-02", from)
	l, err2 := time.Parse("2006-01-02", to)
	if err1 != nil || err2 != nil || l.Sub(f) != 29*24*time.Hour {
		t.Fatalf("custom period starts as %q to %q, want the 30 days on screen", from, to)
	}
	run(t, app, "one day",
		chromedp.Evaluate(fmt.Sprintf(`{ const s = document.querySelector('#report-from'); s.value = %q; s.dispatchEvent(new Event('change')); }`, to), nil),
		chromedp.Poll(fmt.Sprintf(`location.hash === '#/reports/volume?range=custom&from=%s&to=%s&store=%d'`, to, to, shop.ID), nil, chromedp.WithPollingTimeout(5*time.Second)),
		chromedp.Poll(`document.querySelectorAll('section[data-table="by_day"] .report-data tbody tr').length === 1`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		cardIs("created", "1"),
		chromedp.WaitVisible(`.report-card[data-metric="created"] .delta`, chromedp.ByQuery),
		chromedp.Click(`#report-compare`, chromedp.ByQuery),
		chromedp.Poll(`location.hash.endsWith('&compare=0') && !document.querySelector('.report-card .delta') && !document.querySelector('#report-body[aria-busy]')`, nil,
			chromedp.WithPollingTimeout(10*time.Second)))

	// The dark theme, on the busiest report.
	run(t, app, "dark",
		chromedp.Evaluate(`localStorage.setItem('onedesk.theme', 'dark')`, nil),
		chromedp.Navigate(e.srv.URL+"/?dark#/reports/volume?range=7d"),
		cardIs("created", "3"),
		chromedp.WaitVisible(`svg.heatmap`, chromedp.ByQuery))
	reportShot(t, app, "reports-5-dark")

	// A ticket coming in while the report is open counts a few seconds later, without a reload.
	api.must(201, "POST", "/api/tickets", map[string]any{"subject": "Gift wrap?", "body": "Can you wrap it?",
		"customer": map[string]string{"email": "gil@example.com", "name": "Gil"}})
	run(t, app, "live", cardIs("created", "4"))
}

// history adds a month of older tickets by email, 8 to 28 days old (out
// of the 7 days the counts above look at): each answered after a while,
// most resolved a few hours later. The tickets come in and are answered
// now, then their times are set back in the database, before any report
// has read them.
func history(t *testing.T, e *env, path string, api *client) {
	t.Helper()
	ctx := context.Background()
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	now := time.Now()
	for i := range 24 {
		in, err := e.desk.Ingest(ctx, desk.Inbound{Channel: "email", From: store.Identity{Kind: "email", Value: fmt.Sprintf("buyer%d@example.com", i)},
			Name: fmt.Sprintf("Buyer %d", i), Subject: fmt.Sprintf("Question %d", i), Text: "Hello?", ExternalID: fmt.Sprintf("history-%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		id := in.Ticket.ID
		if i%5 != 4 {
			api.must(201, "POST", fmt.Sprintf("/api/tickets/%d/messages", id), map[string]any{"body": "Here is the answer."})
		}
		if i%3 != 2 {
			api.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", id), map[string]any{"status": "resolved"})
		}
		created := now.Add(-time.Duration(8+(i*5)%21)*24*time.Hour - time.Duration((i*7)%11)*time.Hour).UnixMilli()
		replied := created + int64((15+(i*37)%240)*60_000)
		resolved := replied + int64((1+i%6)*3_600_000)
		for _, q := range []struct {
			sql  string
			args []any
		}{
			{`UPDATE tickets SET created_at = ?, updated_at = ? WHERE id = ?`, []any{created, resolved, id}},
			{`UPDATE messages SET created_at = CASE kind WHEN 'customer' THEN ? ELSE ? END WHERE ticket_id = ?`, []any{created, replied, id}},
			{`UPDATE ticket_events SET created_at = CASE type WHEN 'created' THEN ? WHEN 'status_changed' THEN ? ELSE ? END WHERE ticket_id = ?`,
				[]any{created, resolved, replied, id}},
		} {
			if _, err := raw.ExecContext(ctx, q.sql, q.args...); err != nil {
				t.Fatalf("backdate ticket %d: %v", id, err)
			}
		}
	}
}

// reportShot saves a screenshot of the whole report, which is taller than
// the window, when ONEDESK_SCREENSHOTS names a folder.
func reportShot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("ONEDESK_SCREENSHOTS")
	if dir == "" {
		return
	}
	var height int64
	var png []byte
	run(t, ctx, "screenshot "+name,
		chromedp.Evaluate(`Math.max(900, document.querySelector('#reports').scrollHeight + 60)`, &height),
		chromedp.ActionFunc(func(ctx context.Context) error { return chromedp.EmulateViewport(1440, height).Do(ctx) }),
		chromedp.FullScreenshot(&png, 100),
		chromedp.EmulateViewport(1440, 900))
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644)
}

// The owner of two shops, in Lisbon and Tokyo, reads the week by day: with
// no store chosen the days are UTC's, with the Tokyo shop chosen Tokyo's,
// and the zone picker counts them in any zone, picked or typed, kept in
// the address; a name that is no zone is refused at the field. A ticket
// that came in at 00:30 in Tokyo is on that Tokyo day and on the UTC day
// before.
func TestReportsTimeZoneInBrowser(t *testing.T) {
	app := browser(t)
	path := filepath.Join(t.TempDir(), "onedesk.db")
	e := newEnvAt(t, path, ui.Options{})
	admin := e.admin()
	var tea struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "country": "PT", "timezone": "Europe/Lisbon"})
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Tea House", "country": "JP", "timezone": "Asia/Tokyo"}).json(t, &tea)
	var tk ticketJSON
	admin.apiClient().must(201, "POST", "/api/tickets", map[string]any{"subject": "Matcha", "body": "Is it ceremonial grade?", "store_id": tea.ID,
		"customer": map[string]string{"email": "yui@example.jp", "name": "Yui"}}).json(t, &tk)

	// Back to 00:30 in Tokyo, today's or yesterday's (before any report read it).
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	now := time.Now().In(tokyo)
	at := time.Date(now.Year(), now.Month(), now.Day(), 0, 30, 0, 0, tokyo)
	if at.After(now) {
		at = at.AddDate(0, 0, -1)
	}
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	for _, table := range []string{"tickets", "messages", "ticket_events"} {
		col := "ticket_id"
		if table == "tickets" {
			col = "id"
		}
		if _, err := raw.Exec(`UPDATE `+table+` SET created_at = ? WHERE `+col+` = ?`, at.UnixMilli(), tk.ID); err != nil {
			t.Fatal(err)
		}
	}
	tokyoDay, utcDay := at.Format("2006-01-02"), at.UTC().Format("2006-01-02")

	loginOwner(t, app, e)
	// shows waits for the report in a zone: the line under the tabs, the
	// empty picker's hint and the day the ticket is counted on.
	shows := func(zone, hint, day string) chromedp.Action {
		return chromedp.Poll(fmt.Sprintf(`!document.querySelector('#report-body[aria-busy]')
			&& document.querySelector('#report-zone')?.textContent === 'time zone: ' + %q
			&& document.querySelector('#report-tz').placeholder === %q
			&& [...document.querySelectorAll('section[data-table="by_day"] .report-data tbody tr')]
				.filter((tr) => tr.cells[1].textContent === '1').map((tr) => tr.querySelector('time').getAttribute('datetime')).join() === %q`, zone, hint, day),
			nil, chromedp.WithPollingTimeout(10*time.Second))
	}
	setSelect := func(sel, v string) chromedp.Action {
		return chromedp.Evaluate(fmt.Sprintf(`{ const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change')); }`, sel, v), nil)
	}
	var hash, tz string
	run(t, app, "two stores, none chosen: UTC",
		chromedp.Navigate(e.srv.URL+"/#/reports/volume?range=7d"),
		shows("UTC", "Store's (UTC)", utcDay))
	run(t, app, "the Tokyo shop: its zone",
		setSelect("#report-store", fmt.Sprint(tea.ID)),
		shows("Asia/Tokyo", "Store's (Asia/Tokyo)", tokyoDay),
		chromedp.Evaluate(`location.hash`, &hash))
	if want := fmt.Sprintf("#/reports/volume?range=7d&store=%d", tea.ID); hash != want {
		t.Fatalf("address %q, want %q", hash, want)
	}
	var listed []string
	run(t, app, "the zones offered first",
		chromedp.Evaluate(`[...document.querySelectorAll('#report-tzs option')].slice(0, 3).map((o) => o.value + (o.label && o.label !== o.value ? ' ' + o.label : ''))`, &listed))
	if len(listed) < 3 || listed[0] != "Europe/Lisbon Shoe Shop" || listed[1] != "Asia/Tokyo Tea House" {
		t.Fatalf("zones offered first: %q", listed)
	}

	// All stores again, and Tokyo's days typed into the picker.
	run(t, app, "typed zone",
		setSelect("#report-store", ""),
		shows("UTC", "Store's (UTC)", utcDay),
		chromedp.Click("#report-tz", chromedp.ByQuery),
		chromedp.SendKeys("#report-tz", "Asia/Tokyo", chromedp.ByQuery),
		shows("Asia/Tokyo", "Store's time zone", tokyoDay),
		chromedp.Evaluate(`location.hash`, &hash))
	if hash != "#/reports/volume?range=7d&tz=Asia%2FTokyo" {
		t.Fatalf("address with a zone %q", hash)
	}
	reportShot(t, app, "reports-6-time-zone")

	// The CSV is counted in the same zone.
	var csv string
	run(t, app, "csv in the zone", chromedp.Evaluate(`fetch(document.querySelector('section[data-table="by_day"] a.csv').href).then((r) => r.text())`, &csv,
		func(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }))
	if !strings.Contains(csv, "\n"+tokyoDay+",1,") {
		t.Fatalf("CSV in Tokyo's days:\n%s", csv)
	}

	// A reload keeps the zone.
	run(t, app, "reload",
		chromedp.Reload(),
		shows("Asia/Tokyo", "Store's time zone", tokyoDay),
		chromedp.Value("#report-tz", &tz, chromedp.ByQuery))
	if tz != "Asia/Tokyo" {
		t.Fatalf("zone after reload %q", tz)
	}

	// A name that is no zone: refused at the field, on Enter; Escape puts
	// back the one in use.
	var msg string
	run(t, app, "no such zone",
		chromedp.Evaluate(`document.querySelector('#report-tz').value = ''`, nil),
		chromedp.Click("#report-tz", chromedp.ByQuery),
		chromedp.SendKeys("#report-tz", "Mars/Olympus\r", chromedp.ByQuery),
		chromedp.WaitVisible(`#report-tz[aria-invalid="true"]`, chromedp.ByQuery),
		chromedp.Text(".report-error", &msg, chromedp.ByQuery))
	if !strings.Contains(msg, "Mars/Olympus") || !strings.Contains(msg, "Europe/Lisbon") {
		t.Fatalf("error for a wrong zone: %q", msg)
	}
	reportShot(t, app, "reports-6-time-zone-wrong")
	run(t, app, "emptied: the store's zone again",
		chromedp.Evaluate(`{ const i = document.querySelector('#report-tz'); i.value = ''; i.dispatchEvent(new Event('input')); }`, nil),
		shows("UTC", "Store's (UTC)", utcDay),
		chromedp.Evaluate(`location.hash`, &hash))
	if hash != "#/reports/volume?range=7d" {
		t.Fatalf("address back to the store's zone %q", hash)
	}
	run(t, app, "escape",
		chromedp.SendKeys("#report-tz", "Europe/Lis", chromedp.ByQuery),
		chromedp.KeyEvent(kb.Escape),
		chromedp.Value("#report-tz", &tz, chromedp.ByQuery))
	if tz != "" {
		t.Fatalf("escape left %q in the picker", tz)
	}
}

// Reports asked for on a desk with a long history not yet counted (here,
// thousands of events past the reports' cursors) say so above the numbers,
// and the notice goes by itself once the counting is done.
func TestReportsNotReadyInBrowser(t *testing.T) {
	app := browser(t)
	path := filepath.Join(t.TempDir(), "onedesk.db")
	e := newEnvAt(t, path, ui.Options{})
	admin := e.admin()
	var tk ticketJSON
	admin.apiClient().must(201, "POST", "/api/tickets", map[string]any{"subject": "Where is my order?", "body": "It has been a week.",
		"customer": map[string]string{"email": "carla@example.com", "name": "Carla"}}).json(t, &tk)
	raw, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	// 12,000 notes' events: a report asked for reads a few thousand, then
	// answers with what it has.
	if _, err := raw.Exec(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 12000)
		INSERT INTO ticket_events (ticket_id, type, actor, data, created_at) SELECT ?, 'noted', 'system', '{}', ? FROM n`, tk.ID, time.Now().UnixMilli()); err != nil {
		t.Fatal(err)
	}

	loginOwner(t, app, e)
	var notice string
	run(t, app, "not ready",
		chromedp.Navigate(e.srv.URL+"/#/reports/overview?range=7d"),
		chromedp.WaitVisible(`#report-not-ready`, chromedp.ByQuery),
		chromedp.Text(`#report-not-ready`, &notice, chromedp.ByQuery))
	if !strings.Contains(notice, "still counting older history") || !regexp.MustCompile(`\d+% counted so far`).MatchString(notice) {
		t.Fatalf("notice %q", notice)
	}
	var health struct{ Reports string }
	admin.must(200, "GET", "/healthz", nil).json(t, &health)
	if !strings.HasPrefix(health.Reports, "counting the history: ") {
		t.Fatalf("/healthz says reports are %q while counting", health.Reports)
	}
	reportShot(t, app, "reports-7-not-ready")

	if _, err := e.reports.Refresh(context.Background(), 0); err != nil {
		t.Fatal(err)
	}
	run(t, app, "ready",
		chromedp.Poll(`!document.querySelector('#report-not-ready') && document.querySelector('.report-card[data-metric="created"] .value')?.textContent === '1'`,
			nil, chromedp.WithPollingTimeout(15*time.Second)))
}
