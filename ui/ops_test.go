package ui_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedesk/backup"
	"onedesk/desk"
	"onedesk/metrics"
	"onedesk/store"
	"onedesk/ui"
)

// scrape reads /metrics as c, checking every line against the format.
func (c *client) scrape() map[string]float64 {
	c.e.t.Helper()
	r := c.must(200, "GET", "/metrics", nil)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		c.e.t.Fatalf("content type %q", ct)
	}
	m, err := metrics.Parse(bytes.NewReader(r.body))
	if err != nil {
		c.e.t.Fatalf("/metrics is not valid exposition format: %v\n%s", err, r.body)
	}
	return m
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, ui.Options{Version: "v9.9.9"})
	ctx := context.Background()
	c := e.client()
	var h struct {
		Status, Database, Version, Error string
		Mailboxes                        []struct {
			ID       int64
			Address  string
			LastPoll *time.Time `json:"last_poll"`
			Error    string
		}
	}
	c.must(200, "GET", "/healthz", nil).json(t, &h)
	if h.Status != "ok" || h.Database != "ok" || h.Version != "v9.9.9" || h.Mailboxes == nil || len(h.Mailboxes) != 0 || h.Error != "" {
		t.Fatalf("healthz %+v", h)
	}
	if v, _ := e.db.Setting(ctx, "health_probe"); v == "" {
		t.Fatal("healthz did not write its probe")
	}
	str := func(s string) *string { return &s }
	mb, err := e.desk.SaveMailbox(ctx, 0, desk.MailboxInput{Address: str("help@shop.test"), IMAPHost: str("imap.shop.test"),
		IMAPUsername: str("help"), IMAPPassword: "pw", SMTPHost: str("smtp.shop.test")})
	if err != nil {
		t.Fatal(err)
	}
	e.desk.RecordPoll(ctx, mb.ID, errors.New("imap.shop.test refused the connection"), 0)
	c.must(200, "GET", "/healthz", nil).json(t, &h)
	if len(h.Mailboxes) != 1 || h.Mailboxes[0].Address != "help@shop.test" || h.Mailboxes[0].ID != mb.ID ||
		h.Mailboxes[0].LastPoll == nil || !strings.Contains(h.Mailboxes[0].Error, "refused") {
		t.Fatalf("mailboxes %+v", h.Mailboxes)
	}
	// A poll error is the mailbox's, not the desk's: still 200.
	if h.Status != "ok" {
		t.Fatalf("status %q", h.Status)
	}
}

func TestMetrics(t *testing.T) {
	e := newEnv(t, ui.Options{Version: "v1.2.3", Collectors: []func(*metrics.Writer){(*backup.Scheduler)(nil).Collect}})
	admin := e.admin()
	anon := e.client()
	if r := anon.do("GET", "/metrics", nil); r.status != 401 {
		t.Fatalf("/metrics without credentials: %d", r.status)
	}
	ann := e.agent(admin, "ann@shop.test")
	if r := ann.do("GET", "/metrics", nil); r.status != 403 {
		t.Fatalf("/metrics as an agent: %d", r.status)
	}
	api := admin.apiClient()
	before := api.scrape()
	for _, series := range []string{`onedesk_build_info{version="v1.2.3"}`, `onedesk_agent_websockets`, `onedesk_outbox_queued`,
		`onedesk_database_size_bytes`, `onedesk_database_wal_size_bytes`, `go_goroutines`, `process_start_time_seconds`,
		`onedesk_webhook_deliveries_queued`} {
		if _, ok := before[series]; !ok {
			t.Errorf("no %s in /metrics", series)
		}
	}
	if before[`onedesk_database_size_bytes`] <= 0 {
		t.Errorf("database size %v", before[`onedesk_database_size_bytes`])
	}

	// An ingest, a poll error and an open agent socket move their series.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	sock := admin.socket(ctx)
	for i := range 3 {
		api.newTicket(fmt.Sprintf("Order %d", i), "carla@x.test")
	}
	e.desk.RecordPoll(ctx, 42, errors.New("timeout"), 0)
	after := api.scrape()
	if got := after[`onedesk_ingested_messages_total{channel="api"}`] - before[`onedesk_ingested_messages_total{channel="api"}`]; got != 3 {
		t.Errorf("ingests counted %v, want 3", got)
	}
	if after[`onedesk_mail_poll_errors_total{mailbox="42"}`] != 1 {
		t.Errorf("poll errors %v", after[`onedesk_mail_poll_errors_total{mailbox="42"}`])
	}
	if after[`onedesk_agent_websockets`] != 1 {
		t.Errorf("agent websockets %v", after[`onedesk_agent_websockets`])
	}
	// The three POSTs and the first scrape, counted and timed as api
	// requests (the scrape is the metrics group).
	if d := after[`onedesk_http_requests_total{group="api",code="2xx"}`] - before[`onedesk_http_requests_total{group="api",code="2xx"}`]; d < 3 {
		t.Errorf("api requests counted %v", d)
	}
	if after[`onedesk_http_requests_total{group="metrics",code="2xx"}`] < 1 || after[`onedesk_http_requests_total{group="metrics",code="4xx"}`] != 2 {
		t.Errorf("metrics requests: %v 2xx, %v 4xx", after[`onedesk_http_requests_total{group="metrics",code="2xx"}`], after[`onedesk_http_requests_total{group="metrics",code="4xx"}`])
	}
	count := after[`onedesk_http_request_duration_seconds_count{group="api"}`]
	inf := after[`onedesk_http_request_duration_seconds_bucket{group="api",le="+Inf"}`]
	small := after[`onedesk_http_request_duration_seconds_bucket{group="api",le="0.001"}`]
	if count < 3 || inf != count || small > inf {
		t.Errorf("histogram: count %v, +Inf %v, le=0.001 %v", count, inf, small)
	}
	sock.conn.CloseNow()

	// Opened to scrapers without credentials.
	open := newEnv(t, ui.Options{MetricsPublic: true})
	open.client().scrape()
}

func TestBackupsAPI(t *testing.T) {
	// Without --backup-dir: off, and "Back up now" says how to turn it on.
	off := newEnv(t, ui.Options{})
	admin := off.admin()
	var st backup.Status
	admin.must(200, "GET", "/api/backups", nil).json(t, &st)
	if st.Enabled {
		t.Fatalf("status without a directory: %+v", st)
	}
	if msg, _ := admin.must(409, "POST", "/api/backups", nil).err(t); !strings.Contains(msg, "--backup-dir") {
		t.Fatalf("back up now without a directory: %q", msg)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	dir := t.TempDir()
	path := filepath.Join(dir, "onedesk.db")
	db, err := store.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	sched, err := backup.New(db, slog.New(slog.NewTextHandler(io.Discard, nil)), backup.Config{Dir: filepath.Join(dir, "backups"), Every: time.Hour, Keep: 3})
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvAt(t, path, ui.Options{Backups: sched})
	admin = e.admin()
	ann := e.agent(admin, "ann@shop.test")
	ann.must(403, "GET", "/api/backups", nil)
	ann.must(403, "POST", "/api/backups", nil)
	admin.must(200, "GET", "/api/backups", nil).json(t, &st)
	if !st.Enabled || st.Running || st.Last != nil || st.EverySeconds != 3600 || st.Keep != 3 {
		t.Fatalf("status before any backup: %+v", st)
	}
	// The first backup comes at once (there is none yet); then "Back up
	// now" makes another (in the next second: names are to the second).
	go sched.Run(ctx)
	wait := func(done func() bool) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for admin.must(200, "GET", "/api/backups", nil).json(t, &st); !done(); admin.must(200, "GET", "/api/backups", nil).json(t, &st) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out: %+v", st)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	wait(func() bool { return st.Last != nil && !st.Running })
	first := st.Last.File
	wait(func() bool { return time.Now().UTC().Truncate(time.Second).After(st.Last.StartedAt) })
	var started backup.Status
	admin.must(202, "POST", "/api/backups", nil).json(t, &started)
	if !started.Running {
		t.Fatalf("status after back up now: %+v", started)
	}
	wait(func() bool { return st.Last.File != first && !st.Running })
	if st.Last.Error != "" || st.Last.Size == 0 || st.LastSuccess == nil || st.LastSuccess.File != st.Last.File || st.NextAt == nil || st.Kept < 1 {
		t.Fatalf("status after the backup: %+v %+v", st, st.Last)
	}
	if v, err := store.Verify(ctx, filepath.Join(dir, "backups", st.Last.File), false); err != nil || !v.OK() {
		t.Fatalf("backup verdict %+v %v", v, err)
	}
}
