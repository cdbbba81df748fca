//go:build unix

package ui_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"syscall"
	"testing"
	"time"

	"onedesk/ui"
)

// TestHTTPRequestCost measures what the HTTP path costs the server per
// request, apart from the database: wrk (a separate process) asks for
// inbox pages of a small desk, where the query is cheap, and the test
// divides this process's CPU time by the requests answered. Run with
// ONEDESK_BENCH_HTTP=1 (needs wrk; see README, Performance).
func TestHTTPRequestCost(t *testing.T) {
	if os.Getenv("ONEDESK_BENCH_HTTP") == "" {
		t.Skip("set ONEDESK_BENCH_HTTP=1 to measure (needs wrk)")
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed")
	}
	e := newEnv(t, ui.Options{APIRate: -1})
	admin := e.admin()
	api := admin.apiClient()
	for i := range 60 {
		tk := api.newTicket(fmt.Sprintf("Order %d has not arrived", 1000+i), fmt.Sprintf("c%d@example.com", i))
		api.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"status": "open"})
	}
	for _, run := range []struct{ name, script, words string }{
		{"inbox", "inbox.lua", ""}, {"me", "me.lua", ""},
		// Typing "order" and "arrived": the search's own path (prefixes,
		// the page, passages) on a desk where the index is small.
		{"typing", "search.lua", "ord,orde,order,arr,arri,arriv"},
	} {
		script := run.name
		cpu0 := cpuTime()
		cmd := exec.Command(wrk, "-t1", "-c8", "-d5s", "--latency", "-s", "../perf/"+run.script, e.srv.URL)
		cmd.Env = append(os.Environ(), "TOKEN="+api.token, "WORDS="+run.words)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("wrk: %v: %s", err, out)
		}
		cpu := cpuTime() - cpu0
		n := wrkField(t, out, `(\d+) requests in`)
		if m := regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`).FindSubmatch(out); m != nil {
			t.Fatalf("%s: %s requests failed:\n%s", script, m[1], out)
		}
		t.Logf("%s: %.0f req/s, p50 %s, p99 %s, server CPU %.0f µs a request", script,
			wrkField(t, out, `Requests/sec:\s+([\d.]+)`), wrkText(out, `\n\s+50%\s+(\S+)`), wrkText(out, `\n\s+99%\s+(\S+)`),
			float64(cpu.Microseconds())/n)
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func wrkText(out []byte, re string) string {
	if m := regexp.MustCompile(re).FindSubmatch(out); m != nil {
		return string(m[1])
	}
	return "?"
}

func wrkField(t *testing.T, out []byte, re string) float64 {
	v, err := strconv.ParseFloat(wrkText(out, re), 64)
	if err != nil {
		t.Fatalf("%s not in wrk's output:\n%s", re, out)
	}
	return v
}
