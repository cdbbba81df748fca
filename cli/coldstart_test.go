package cli

import (
	"bytes"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// BenchmarkColdStart measures the time from starting the onedesk binary
// to its first 200 answer of /healthz: on a file it creates (first run),
// on an empty desk, and on ONEDESK_BENCH_DB (a copy of the seeded
// 1,000,000-ticket file: the server writes to it) when that is set.
// It reports the median and worst start as ms/start and worst-ms:
//
//	cp bench/bench.db /tmp/bench.db
//	ONEDESK_BENCH_DB=/tmp/bench.db go test ./cli -run '^$' -bench ColdStart -benchtime 20x
func BenchmarkColdStart(b *testing.B) {
	dir := b.TempDir()
	bin := buildOnedesk(b)
	b.Run("first_run", func(b *testing.B) {
		coldStarts(b, bin, func(i int) string { return filepath.Join(dir, "new", fmt.Sprintf("%d.db", i+1)) })
	})
	empty := filepath.Join(dir, "empty.db")
	b.Run("empty", func(b *testing.B) {
		coldStarts(b, bin, func(int) string { return empty })
	})
	if seeded := os.Getenv("ONEDESK_BENCH_DB"); seeded != "" {
		b.Run("seeded", func(b *testing.B) {
			coldStarts(b, bin, func(int) string { return seeded })
		})
	} else {
		b.Log("set ONEDESK_BENCH_DB to a copy of the seeded database to measure the start on it")
	}
}

// coldStarts starts the binary b.N times on the file data(i) and reports
// the median and worst time to the first answer.
func coldStarts(b *testing.B, bin string, data func(i int) string) {
	os.MkdirAll(filepath.Dir(data(0)), 0o700)
	coldStart(b, bin, data(-1)) // the page cache warm, as after any earlier run
	var times []time.Duration
	b.ResetTimer()
	for i := range b.N {
		times = append(times, coldStart(b, bin, data(i)))
	}
	b.StopTimer()
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Microseconds())/1000, "ms/start")
	b.ReportMetric(float64(times[len(times)-1].Microseconds())/1000, "worst-ms")
	b.ReportMetric(0, "ns/op")
}

// coldStart runs the server once: from exec to the first 200 of /healthz.
func coldStart(b *testing.B, bin, data string) time.Duration {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data, "--log-level", "warn")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	}()
	for time.Since(start) < 10*time.Second {
		res, err := client.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return time.Since(start)
			}
		}
		time.Sleep(time.Millisecond)
	}
	b.Fatalf("%s did not answer within 10 s: %s", bin, stderr.Bytes())
	return 0
}
