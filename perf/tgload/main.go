// Command tgload is the load test of the social channels' webhooks, with
// Telegram's: it starts a local Bot API server, then onedesk as a second
// process on a fresh data folder with a public https URL (so bots use
// webhooks) and that server as its Bot API, connects a bot through the
// API, and posts updates to /hooks/telegram/{id} with the secret onedesk
// gave setWebhook, at a fixed rate, as Telegram would (text from many
// chats, every n-th with a photo). Latency is measured from the moment
// each delivery was due, so a slow server cannot hide its queue.
//
// With -platform whatsapp it does the same for WhatsApp: a local Graph
// API server, a number connected through the API, and deliveries posted
// to /hooks/whatsapp as Meta posts them, signed with the app secret.
// With -platform meta, Messenger messages to a connected page are posted
// to /hooks/meta the same way.
//
//	go build -o onedesk . && go run ./perf/tgload -onedesk ./onedesk -rate 1000 -duration 30s
//	go run ./perf/tgload -onedesk ./onedesk -platform whatsapp -rate 1000 -duration 30s
//	go run ./perf/tgload -onedesk ./onedesk -platform meta -rate 1000 -duration 30s
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

	"onedesk/channels/meta/metatest"
	"onedesk/channels/telegram/telegramtest"
	"onedesk/channels/whatsapp/graphtest"
	"onedesk/perf/loadtest"
)

func main() {
	bin := flag.String("onedesk", "./onedesk", "the onedesk binary to start")
	rate := flag.Int("rate", 1000, "webhook deliveries per second")
	duration := flag.Duration("duration", 30*time.Second, "how long to post")
	chats := flag.Int("chats", 2000, "customers writing (each chat is a ticket; later messages follow up)")
	photoEvery := flag.Int("photo-every", 20, "every n-th update carries a photo (0: none)")
	platform := flag.String("platform", "telegram", "whose webhook to load: telegram, whatsapp or meta")
	flag.Parse()
	var err error
	switch *platform {
	case "telegram":
		err = run(*bin, *rate, *duration, *chats, *photoEvery)
	case "whatsapp":
		err = runWhatsApp(*bin, *rate, *duration, *chats, *photoEvery)
	case "meta":
		err = runMeta(*bin, *rate, *duration, *chats, *photoEvery)
	default:
		err = fmt.Errorf("-platform is telegram, whatsapp or meta, not %q", *platform)
	}
	if err != nil {
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
	var a struct{ ID int64 }
	if err := setup(srv.Base, map[string]any{"platform": "telegram", "token": telegramtest.Token, "store_id": 1}, &a); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	id := a.ID
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
	return load(srv, rate, duration, chats, "telegram", func() string { return fmt.Sprintf("getFile calls: %d", len(api.Calls("getFile"))) },
		func(i int) *http.Request {
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
			return req
		})
}

// runWhatsApp loads /hooks/whatsapp: a local Graph API server, a number
// connected through the API, signed deliveries of text (every n-th an
// image the desk fetches after answering) from many customers.
func runWhatsApp(bin string, rate int, duration time.Duration, chats, photoEvery int) error {
	api := graphtest.New()
	defer api.Stop()
	photo := api.AddMedia(bytes.Repeat([]byte("\xff\xd8\xff photo "), 4000), "image/jpeg") // 40 KB
	srv, err := loadtest.Start(bin, "tgload", "--public-url", "https://desk.example.com", "--whatsapp-api", api.URL)
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := setup(srv.Base, map[string]any{"platform": "whatsapp", "store_id": 1, "phone_number_id": graphtest.PhoneNumberID,
		"access_token": graphtest.Token, "app_secret": graphtest.AppSecret}, nil); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	time.Sleep(200 * time.Millisecond) // the channel reads the new number
	hook := srv.Base + "/hooks/whatsapp"
	return load(srv, rate, duration, chats, "whatsapp", func() string { return fmt.Sprintf("media fetched: %d", len(api.Calls("/download/"+photo))) },
		func(i int) *http.Request {
			from := fmt.Sprint(15550000000 + i%chats)
			msg := graphtest.Text(fmt.Sprintf("Load test message %d: where is order %d?", i, 1000+i%chats))
			if photoEvery > 0 && i%photoEvery == photoEvery-1 {
				msg = map[string]any{"type": "image", "image": map[string]any{"id": photo, "mime_type": "image/jpeg", "caption": "The box arrived like this"}}
			}
			dl := graphtest.Envelope(graphtest.PhoneNumberID, graphtest.AppSecret,
				graphtest.Message(from, "Customer "+from, fmt.Sprintf("wamid.load%08d", i), time.Now(), msg))
			req, _ := http.NewRequest("POST", hook, bytes.NewReader(dl.Body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature-256", dl.Signature)
			return req
		})
}

// runMeta loads /hooks/meta: a local Graph API server, a page connected
// through the API, signed Messenger deliveries of text (every n-th an
// image the desk downloads after answering) from many customers.
func runMeta(bin string, rate int, duration time.Duration, chats, photoEvery int) error {
	api := metatest.New()
	defer api.Close()
	photo := api.AddMedia("box.jpg", bytes.Repeat([]byte("\xff\xd8\xff photo "), 4000)) // 40 KB
	srv, err := loadtest.Start(bin, "tgload", "--public-url", "https://desk.example.com", "--meta-api", api.URL)
	if err != nil {
		return err
	}
	defer srv.Stop()
	if err := setup(srv.Base, map[string]any{"platform": "meta", "store_id": 1, "page_id": metatest.PageID,
		"access_token": metatest.Token, "app_secret": metatest.AppSecret}, nil); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	time.Sleep(200 * time.Millisecond) // the channel reads the new page
	hook := srv.Base + "/hooks/meta"
	return load(srv, rate, duration, chats, "messenger", func() string { return fmt.Sprintf("media fetched: %d", len(api.Calls("GET", "cdn/box.jpg"))) },
		func(i int) *http.Request {
			from := fmt.Sprint(7000000000000000 + i%chats)
			msg := map[string]any{"text": fmt.Sprintf("Load test message %d: where is order %d?", i, 1000+i%chats)}
			if photoEvery > 0 && i%photoEvery == photoEvery-1 {
				msg = map[string]any{"attachments": []map[string]any{{"type": "image", "payload": map[string]any{"url": photo}}}}
			}
			body := metatest.Delivery("page", metatest.PageID, metatest.Message(from, metatest.PageID, fmt.Sprintf("m_load%08d", i), msg))
			req, _ := http.NewRequest("POST", hook, bytes.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-Hub-Signature-256", metatest.Sign(body))
			return req
		})
}

// load posts total = rate × duration deliveries (built by delivery) at a
// fixed rate from 64 connections, prints the latencies from each one's
// due time, then waits for the desk to hold a ticket per chat.
func load(srv *loadtest.Server, rate int, duration time.Duration, chats int, channel string, fetched func() string, delivery func(i int) *http.Request) error {
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
				res, err := client.Do(delivery(i))
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
	var err error
	deadline := time.Now().Add(time.Minute)
	for {
		got, err = countTickets(srv.Base, channel)
		if err != nil || got >= want || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	fmt.Printf("tickets: %d (want %d); %s\n", got, want, fetched())
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

// setup creates the admin and a store, and connects the account.
func setup(base string, account map[string]any, out any) error {
	jar, _ := cookiejar.New(nil)
	admin = &http.Client{Jar: jar}
	if err := call(base, "POST", "/api/setup", map[string]string{"email": "load@shop.test", "name": "Load", "password": "load test password"}, nil); err != nil {
		return err
	}
	if err := call(base, "POST", "/api/stores", map[string]any{"name": "Load Shop", "slug": "load"}, nil); err != nil {
		return err
	}
	return call(base, "POST", "/api/social-accounts", account, out)
}

// countTickets counts a channel's tickets through the API.
func countTickets(base, channel string) (int, error) {
	n, cursor := 0, ""
	for {
		var page struct {
			Tickets []struct{ ID int64 }
			Next    string `json:"next_cursor"`
		}
		if err := call(base, "GET", "/api/tickets?channel="+channel+"&limit=200&cursor="+cursor, nil, &page); err != nil {
			return n, err
		}
		n += len(page.Tickets)
		if page.Next == "" {
			return n, nil
		}
		cursor = page.Next
	}
}
