// Command formload is the forms channel's load test: it starts onedesk as
// a second process on a fresh data folder, makes a store and a contact
// form, then posts submissions (JSON, as a shop's own code would) at a
// fixed rate from many loopback addresses, and prints the latency of each
// post measured from the moment it was due, so a slow server cannot hide
// its queue.
//
//	go build -o onedesk . && go run ./perf/formload -onedesk ./onedesk -rate 500 -duration 30s
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"onedesk/perf/loadtest"
)

func main() {
	bin := flag.String("onedesk", "./onedesk", "the onedesk binary to start")
	rate := flag.Int("rate", 500, "submissions per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to post")
	perIP := flag.Int("per-ip", 8, "posts per loopback source address (the server limits posts per address)")
	flag.Parse()
	if err := run(*bin, *rate, *duration, *perIP); err != nil {
		fmt.Fprintln(os.Stderr, "formload:", err)
		os.Exit(1)
	}
}

func run(bin string, rate int, duration time.Duration, perIP int) error {
	srv, err := loadtest.Start(bin, "formload")
	if err != nil {
		return err
	}
	defer srv.Stop()
	base := srv.Base
	if err := setup(base); err != nil {
		return fmt.Errorf("setup: %w", err)
	}

	total := int(duration.Seconds() * float64(rate))
	lat := make([]time.Duration, total)
	var failed, worst atomic.Int64
	var firstErr sync.Once
	jobs := make(chan int, total)
	start := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	for w := range 128 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients := map[int]*http.Client{}
			for i := range jobs {
				ip := i/perIP + 1
				c := clients[ip]
				if c == nil {
					for _, old := range clients {
						old.CloseIdleConnections()
					}
					local := &net.TCPAddr{IP: net.IPv4(127, 2, byte(ip>>8), byte(ip))}
					c = &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
						DialContext: (&net.Dialer{LocalAddr: local}).DialContext, MaxIdleConnsPerHost: 1}}
					clients = map[int]*http.Client{ip: c} // one address at a time per worker
				}
				due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
				time.Sleep(time.Until(due))
				body := fmt.Sprintf(`{"name":"Customer %d","email":"c%d@example.com","topic":"Returns","order":"%d","message":"Load test submission %d: the shoes are too small."}`, i, i%5000, 1000+i, i)
				res, err := c.Post(base+"/f/contact", "application/json", strings.NewReader(body))
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 201 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				d := time.Since(due)
				lat[i] = d
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { fmt.Fprintf(os.Stderr, "post %d (worker %d): %v\n", i, w, err) })
				}
				for {
					old := worst.Load()
					if int64(d) <= old || worst.CompareAndSwap(old, int64(d)) {
						break
					}
				}
			}
		}()
	}
	for i := range total {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	q := func(p float64) time.Duration {
		return lat[min(len(lat)-1, int(p*float64(len(lat))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("%d submissions in %s (%.0f/s), %d failed\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), failed.Load())
	fmt.Printf("latency from due time: p50 %s, p90 %s, p99 %s, max %s\n", q(.5), q(.9), q(.99), time.Duration(worst.Load()).Round(10*time.Microsecond))
	fmt.Printf("server RSS %s (peak %s)\n", srv.RSS(), srv.Peak())
	return nil
}

// setup creates the admin, a store and the contact form.
func setup(base string) error {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	var csrf string
	call := func(path string, in any) error {
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-CSRF-Token", csrf)
		res, err := c.Do(req)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		if res.StatusCode >= 300 {
			return fmt.Errorf("%s: %d %s", path, res.StatusCode, data)
		}
		var me struct {
			CSRF string `json:"csrf_token"`
		}
		if json.Unmarshal(data, &me) == nil && me.CSRF != "" {
			csrf = me.CSRF
		}
		return nil
	}
	if err := call("/api/setup", map[string]string{"email": "load@shop.test", "name": "Load", "password": "load test password"}); err != nil {
		return err
	}
	if err := call("/api/stores", map[string]any{"name": "Load Shop", "slug": "load"}); err != nil {
		return err
	}
	return call("/api/forms", map[string]any{"title": "Contact us", "slug": "contact", "store_id": 1, "fields": []map[string]any{
		{"name": "name", "label": "Name", "type": "text"},
		{"name": "email", "label": "Email", "type": "email", "required": true},
		{"name": "topic", "label": "Topic", "type": "select", "options": []string{"Order", "Returns"}, "required": true},
		{"name": "order", "label": "Order number", "type": "order"},
		{"name": "message", "label": "Message", "type": "textarea", "required": true},
	}, "routing": map[string]any{"rules": []map[string]any{{"field": "topic", "value": "Returns", "priority": "high", "tags": []string{"return"}}}}})
}
