// Command tgload is the load test of the social channels' webhooks, with
// Telegram's: it starts a local Bot API server, then onedesk as a second
// process on a fresh data folder with a public https URL (so bots use
// webhooks) and that server as its Bot API, connects a bot through the
// API, and posts updates to /hooks/telegram/{id} with the secret onedesk
// gave setWebhook, at a fixed rate, as Telegram would (text from many
// chats, every n-th with a photo). Latency is measured from the moment
// each delivery was due, so a slow server cannot hide its queue.
//
//	go build -o onedesk . && go run ./perf/tgload -onedesk ./onedesk -rate 1000 -duration 30s
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"onedesk/channels/telegram/telegramtest"
	"onedesk/perf/loadtest"
)

func main() {
	bin := flag.String("onedesk", "./onedesk", "the onedesk binary to start")
	rate := flag.Int("rate", 1000, "webhook deliveries per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to post")
	chats := flag.Int("chats", 2000, "customers writing (each chat is a ticket; later messages follow up)")
	photoEvery := flag.Int("photo-every", 20, "every n-th update carries a photo (0: none)")
	flag.Parse()
	if err := run(*bin, *rate, *duration, *chats, *photoEvery); err != nil {
		fmt.Fprintln(os.Stderr, "tgload:", err)
		os.Exit(1)
	}
}

func run(bin string, rate int, duration time.Duration, chats, photoEvery int) error {
	api, err := telegramtest.New("")
	if err != nil {
		return err
	}
	defer api.Stop()
	photo := api.AddFile(bytes.Repeat([]byte("\xff\xd8\xff photo "), 4000)) // 40 KB
	srv, err := loadtest.Start(bin, "tgload", "--public-url", "https://desk.example.com", "--telegram-api", api.URL)
	if err != nil {
		return err
	}
	defer srv.Stop()
	id, err := setup(srv.Base)
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	var secret string
	for range 100 {
		if _, secret = api.Webhook(); secret != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if secret == "" {
		return fmt.Errorf("onedesk did not set the webhook")
	}
	hook := fmt.Sprintf("%s/hooks/telegram/%d", srv.Base, id)

	total := int(duration.Seconds() * float64(rate))
	lat := make([]time.Duration, total)
	var failed atomic.Int64
	var firstErr sync.Once
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	jobs := make(chan int, total)
	start := time.Now().Add(200 * time.Millisecond)
	var wg sync.WaitGroup
	for range 64 { // Telegram opens up to max_connections (40) at once
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				due := start.Add(time.Duration(i) * time.Second / time.Duration(rate))
				time.Sleep(time.Until(due))
				chat := 100000 + i%chats
				msg := map[string]any{"message_id": i + 1, "date": time.Now().Unix(),
					"from": map[string]any{"id": chat, "first_name": "Customer", "last_name": fmt.Sprint(chat)},
					"chat": map[string]any{"id": chat, "type": "private"}}
				if photoEvery > 0 && i%photoEvery == photoEvery-1 {
					msg["caption"] = "The box arrived like this"
					msg["photo"] = []map[string]any{{"file_id": photo, "width": 800, "height": 600, "file_size": 40000}}
				} else {
					msg["text"] = fmt.Sprintf("Load test message %d: where is order %d?", i, 1000+i%chats)
				}
				body, _ := json.Marshal(map[string]any{"update_id": i + 1, "message": msg})
				req, _ := http.NewRequest("POST", hook, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Telegram-Bot-Api-Secret-Token", secret)
				res, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				lat[i] = time.Since(due)
				if err != nil {
					failed.Add(1)
					firstErr.Do(func() { fmt.Fprintf(os.Stderr, "delivery %d: %v\n", i, err) })
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
	sorted := slices.Clone(lat)
	slices.Sort(sorted)
	q := func(p float64) time.Duration {
		return sorted[min(len(sorted)-1, int(p*float64(len(sorted))))].Round(10 * time.Microsecond)
	}
	fmt.Printf("%d webhook deliveries in %s (%.0f/s), %d refused or failed\n", total, elapsed.Round(time.Millisecond), float64(total)/elapsed.Seconds(), failed.Load())
	fmt.Printf("latency from due time: p50 %s, p90 %s, p99 %s, max %s\n", q(.5), q(.9), q(.99), sorted[len(sorted)-1].Round(10*time.Microsecond))
	fmt.Printf("server RSS %s (peak %s)\n", srv.RSS(), srv.Peak())
	// The photos were answered before their files were fetched: wait for
	// the queue to be worked off, then count what the desk holds.
	want := min(total, chats)
	var got int
	deadline := time.Now().Add(time.Minute)
	for {
		got, err = countTickets(srv.Base)
		if err != nil || got >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("tickets: %d (want %d); photos fetched by getFile: %d\n", got, want, len(api.Calls("getFile")))
	return err
}

var admin *http.Client
var csrf string

func call(base, method, path string, in, out any) error {
	var rd io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	res, err := admin.Do(req)
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
	if out != nil {
		return json.Unmarshal(data, out)
	}
	return nil
}

// setup creates the admin and a store, and connects the bot.
func setup(base string) (int64, error) {
	jar, _ := cookiejar.New(nil)
	admin = &http.Client{Jar: jar}
	if err := call(base, "POST", "/api/setup", map[string]string{"email": "load@shop.test", "name": "Load", "password": "load test password"}, nil); err != nil {
		return 0, err
	}
	if err := call(base, "POST", "/api/stores", map[string]any{"name": "Load Shop", "slug": "load"}, nil); err != nil {
		return 0, err
	}
	var a struct{ ID int64 }
	err := call(base, "POST", "/api/social-accounts", map[string]any{"platform": "telegram", "token": telegramtest.Token, "store_id": 1}, &a)
	return a.ID, err
}

// countTickets counts the Telegram tickets through the API.
func countTickets(base string) (int, error) {
	n, cursor := 0, ""
	for {
		var page struct {
			Tickets []struct{ ID int64 }
			Next    string `json:"next_cursor"`
		}
		if err := call(base, "GET", "/api/tickets?channel=telegram&limit=200&cursor="+cursor, nil, &page); err != nil {
			return n, err
		}
		n += len(page.Tickets)
		if page.Next == "" {
			return n, nil
		}
		cursor = page.Next
	}
}
