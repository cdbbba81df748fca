package ui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
	"onedesk/ui"
)

// BenchmarkRequestsDuringBackup serves inbox reads and new tickets over
// HTTP on a copy of the seeded database while a backup of it is taken,
// and reports the backup's duration and the requests' latency during it
// (and before it, for comparison). ONEDESK_BENCH_DB names the seeded
// file (absolute); it is copied to the temporary directory first.
//
//	ONEDESK_BENCH_DB=$PWD/bench/bench.db go test ./ui -run '^$' -bench RequestsDuringBackup -benchtime 1x
func BenchmarkRequestsDuringBackup(b *testing.B) {
	src := os.Getenv("ONEDESK_BENCH_DB")
	if src == "" {
		b.Skip("set ONEDESK_BENCH_DB to a seeded database (onedesk dev seed) to run")
	}
	if !filepath.IsAbs(src) {
		b.Fatal("ONEDESK_BENCH_DB must be an absolute path")
	}
	dir := b.TempDir()
	path := filepath.Join(dir, "bench.db")
	if err := copyFile(src, path); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	db, err := store.Open(ctx, path)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	srv := httptest.NewServer(ui.New(d, log, ui.Options{APIRate: -1}).Handler())
	defer srv.Close()
	if _, err := d.CreateAgent(ctx, desk.AgentInput{Email: "bench-backup@x.test", Name: "Bench", Password: "password123", Role: "admin"}); err != nil {
		b.Fatal(err)
	}
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar}
	res, err := client.Post(srv.URL+"/api/auth/login", "application/json", strings.NewReader(`{"email":"bench-backup@x.test","password":"password123"}`))
	if err != nil || res.StatusCode != 200 {
		b.Fatalf("login: %v %v", res, err)
	}
	var me struct {
		CSRF string `json:"csrf_token"`
	}
	json.NewDecoder(res.Body).Decode(&me)
	res.Body.Close()

	type sample struct {
		at, took time.Duration // since start
		write    bool
	}
	var mu sync.Mutex
	var samples []sample
	start := time.Now()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	worker := func(write bool) {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			var req *http.Request
			if write {
				body := fmt.Sprintf(`{"subject":"During the backup %d","body":"Where is my order? It should have come by now.","customer":{"email":"backup%d@x.test"}}`, i, i%500)
				req, _ = http.NewRequest("POST", srv.URL+"/api/tickets", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-CSRF-Token", me.CSRF)
			} else {
				views := []string{"/api/tickets?status=open", "/api/tickets?status=new,open,pending", "/api/tickets?status=open&sort=updated"}
				req, _ = http.NewRequest("GET", srv.URL+views[i%len(views)], nil)
			}
			t0 := time.Now()
			res, err := client.Do(req)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			took := time.Since(t0)
			if res.StatusCode >= 300 {
				b.Errorf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
				return
			}
			mu.Lock()
			samples = append(samples, sample{at: t0.Sub(start), took: took, write: write})
			mu.Unlock()
			if write {
				time.Sleep(5 * time.Millisecond) // ~150 new tickets a second
			}
		}
	}
	wg.Add(3)
	go worker(false)
	go worker(false)
	go worker(true)

	time.Sleep(5 * time.Second) // before: the baseline
	backupStart := time.Since(start)
	t0 := time.Now()
	if err := db.Backup(ctx, filepath.Join(dir, "backup.db")); err != nil {
		b.Fatal(err)
	}
	took := time.Since(t0)
	backupEnd := time.Since(start)
	close(stop)
	wg.Wait()

	report := func(name string, from, to time.Duration) {
		var reads, writes []time.Duration
		for _, s := range samples {
			if s.at >= from && s.at < to {
				if s.write {
					writes = append(writes, s.took)
				} else {
					reads = append(reads, s.took)
				}
			}
		}
		for _, l := range []struct {
			kind string
			list []time.Duration
		}{{"read", reads}, {"write", writes}} {
			if len(l.list) == 0 {
				continue
			}
			slices.Sort(l.list)
			p := func(q float64) float64 { return float64(l.list[int(q*float64(len(l.list)-1))].Microseconds()) / 1000 }
			b.Logf("%s, %ss: %d requests, p50 %.2f ms, p99 %.2f ms, max %.2f ms", name, l.kind, len(l.list), p(0.5), p(0.99), p(1))
			if name == "during the backup" {
				b.ReportMetric(p(0.99), l.kind+"-p99-ms")
				b.ReportMetric(p(1), l.kind+"-max-ms")
			}
		}
	}
	st, _ := os.Stat(filepath.Join(dir, "backup.db"))
	b.Logf("backup of %.2f GB took %s", float64(st.Size())/(1<<30), took.Round(time.Millisecond))
	b.ReportMetric(took.Seconds(), "backup-s")
	report("before the backup", 0, backupStart)
	report("during the backup", backupStart, backupEnd)
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
