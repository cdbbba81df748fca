package cli

import (
	"cmp"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"onedesk/store/storetest"
)

// TestNodesThroughput measures API requests a second on PostgreSQL
// through one node and through two (each node loaded by its own wrk, the
// sum counted), in alternating rounds, and logs the medians. It is a
// measurement, not a check: it runs only with ONEDESK_NODES_BENCH=1 and
// wrk installed.
//
//	ONEDESK_NODES_BENCH=1 go test ./cli -run TestNodesThroughput -v
func TestNodesThroughput(t *testing.T) {
	if os.Getenv("ONEDESK_NODES_BENCH") == "" {
		t.Skip("a measurement: set ONEDESK_NODES_BENCH=1 to run it")
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		t.Skip("wrk is not installed")
	}
	pgURL := storetest.PostgresURL(t)
	bin := buildOnedesk(t)
	a := startNode(t, bin, pgURL, "a")
	b := startNode(t, bin, pgURL, "b")
	base := "http://" + a.addr
	admin, csrf := owner(t, base, &http.Client{})
	var tok struct{ Token string }
	postJSON(t, admin, base+"/api/tokens", csrf, map[string]string{"name": "bench"}, &tok)
	for i := range 300 {
		postJSON(t, admin, base+"/api/tickets", csrf, map[string]any{"subject": fmt.Sprintf("order %d", i),
			"body": "Where is my order?", "customer": map[string]string{"email": fmt.Sprintf("c%d@shop.test", i%40)}}, nil)
	}
	conns, seconds := envInt("ONEDESK_NODES_CONNS", 16), envInt("ONEDESK_NODES_SECONDS", 10)
	rps := regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	// A write: each request makes a ticket with its first message.
	post := filepath.Join(t.TempDir(), "post.lua")
	os.WriteFile(post, []byte(`wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"subject": "order", "body": "Where is my order?", "customer": {"email": "bench@shop.test"}}'
`), 0o600)
	run := func(addr, path string, c int) float64 {
		args := []string{"-t1", "-c" + strconv.Itoa(c), "-d" + strconv.Itoa(seconds) + "s", "-H", "Authorization: Bearer " + tok.Token}
		if path == "POST /api/tickets" {
			args, path = append(args, "-s", post), "/api/tickets"
		}
		out, err := exec.Command(wrk, append(args, "http://"+addr+path)...).CombinedOutput()
		m := rps.FindSubmatch(out)
		if err != nil || m == nil {
			t.Fatalf("wrk: %v %s", err, out)
		}
		v, _ := strconv.ParseFloat(string(m[1]), 64)
		return v
	}
	for _, path := range strings.Split(cmp.Or(os.Getenv("ONEDESK_NODES_PATHS"), "/api/tickets,/api/tickets/1,POST /api/tickets"), ",") {
		var one, two []float64
		for range 3 {
			one = append(one, run(a.addr, path, conns))
			var wg sync.WaitGroup
			var ra, rb float64
			wg.Go(func() { ra = run(a.addr, path, conns/2) })
			wg.Go(func() { rb = run(b.addr, path, conns/2) })
			wg.Wait()
			two = append(two, ra+rb)
		}
		slices.Sort(one)
		slices.Sort(two)
		t.Logf("%s, %d connections, %d s rounds: one node %.0f req/s (rounds %.0f), two nodes %.0f req/s (rounds %.0f): %.2fx",
			path, conns, seconds, one[1], one, two[1], two, two[1]/one[1])
	}
}

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}
