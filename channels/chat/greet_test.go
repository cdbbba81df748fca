package chat

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/greetings"
	"onedesk/store"
)

func (e *env) beacon(origin, body string) int {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/chat/greet?store=my-shop", strings.NewReader(body))
	req.Header.Set("Content-Type", "text/plain")
	if origin != "" {
		req.Header.Set("Origin", origin)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// TestGreetingsConfigAndBeacons: the widget's config lists the store's
// active greetings in the visitor's language (none: no key, and no extra
// code loaded); beacons count shown, opened and chats started, refusing
// what is not one of the store's greetings, too big, or from a site the
// store does not allow.
func TestGreetingsConfigAndBeacons(t *testing.T) {
	e := newEnv(t, "https://shop.test")
	ctx := context.Background()
	if _, ok := e.config("en")["greetings"]; ok {
		t.Fatal("a store without greetings lists some")
	}
	saved, err := greetings.Save(ctx, e.db, e.store.ID, []store.Greeting{
		{Name: "sizes", URLPattern: "/products/*", DelaySeconds: 5, Active: true,
			Messages: map[string]string{"en": "Need help choosing a size?", "pt": "Precisa de ajuda com o tamanho?"}},
		{Name: "off", URLPattern: "/", Active: false, Messages: map[string]string{"en": "Hidden"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	list, _ := e.config("pt-BR")["greetings"].([]any)
	if len(list) != 1 {
		t.Fatalf("greetings in config %v", list)
	}
	g := list[0].(map[string]any)
	if g["text"] != "Precisa de ajuda com o tamanho?" || g["match"] != "/products/*" || g["delay"] != 5.0 || g["audience"] != "any" {
		t.Fatalf("greeting %v", g)
	}
	// Czech has no text: the store's language (English) stands in.
	if g := e.config("cs")["greetings"].([]any)[0].(map[string]any); g["text"] != "Need help choosing a size?" {
		t.Fatalf("fallback %v", g)
	}

	id := saved[0].ID
	for _, ev := range []string{"shown", "shown", "opened", "chat"} {
		if code := e.beacon("https://shop.test", fmt.Sprintf(`{"id": %d, "event": %q}`, id, ev)); code != http.StatusNoContent {
			t.Fatalf("%s: %d", ev, code)
		}
	}
	for _, c := range []struct {
		origin, body string
		want         int
	}{
		{"https://evil.test", fmt.Sprintf(`{"id": %d, "event": "shown"}`, id), http.StatusForbidden},
		{"https://shop.test", `{"id": 99999, "event": "shown"}`, http.StatusNotFound},
		{"https://shop.test", fmt.Sprintf(`{"id": %d, "event": "bought"}`, id), http.StatusBadRequest},
		{"https://shop.test", `{"id": 1, "event": "shown", "x": "` + strings.Repeat("a", 400) + `"}`, http.StatusRequestEntityTooLarge},
		{"https://shop.test", `not json`, http.StatusBadRequest},
	} {
		if code := e.beacon(c.origin, c.body); code != c.want {
			t.Fatalf("%s %s: %d, want %d", c.origin, c.body[:min(40, len(c.body))], code, c.want)
		}
	}
	// One page cannot inflate a count: a few beacons of one kind pass, then 429.
	limited := false
	for range 10 {
		if e.beacon("https://shop.test", fmt.Sprintf(`{"id": %d, "event": "opened"}`, id)) == http.StatusTooManyRequests {
			limited = true
			break
		}
	}
	if !limited {
		t.Fatal("beacons are not rate limited")
	}
	stats, err := e.db.GreetingStats(ctx, []int64{e.store.ID}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(stats) != 2 || stats[0].GreetingID != id || stats[0].Shown != 2 || stats[0].Opened < 1 || stats[0].Chats != 1 || stats[1].Shown != 0 {
		t.Fatalf("stats %+v", stats)
	}
	// Saving the list again keeps the counts of the greetings kept, by id.
	saved[0].DelaySeconds = 8
	if _, err := greetings.Save(ctx, e.db, e.store.ID, saved[:1]); err != nil {
		t.Fatal(err)
	}
	stats, _ = e.db.GreetingStats(ctx, nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	if len(stats) != 1 || stats[0].Shown != 2 {
		t.Fatalf("after save %+v", stats)
	}
}

// TestWidgetPresenceLive: the widget hears, within the debounce, when its
// store's team comes online and goes away, and only when that changes.
func TestWidgetPresenceLive(t *testing.T) {
	e := newEnv(t)
	var online atomic.Bool
	changed := e.chat.WatchPresence(func(storeID int64) bool { return storeID == e.store.ID && online.Load() })
	w, welcome := e.hello("")
	if *welcome.Online {
		t.Fatal("online with nobody there")
	}
	online.Store(true)
	changed()
	changed() // a burst is one frame
	if f := w.next("presence"); f.Online == nil || !*f.Online {
		t.Fatalf("presence %+v", f)
	}
	online.Store(false)
	changed()
	if f := w.next("presence"); f.Online == nil || *f.Online {
		t.Fatalf("presence %+v", f)
	}
	// Nothing changed: nothing is sent (a push queues its frames before it
	// returns, so one would come before the pong).
	e.chat.pushPresence()
	w.send(frame{Type: "ping"})
	if f := w.next(""); f.Type != "pong" {
		t.Fatalf("unchanged presence sent %+v", f)
	}
	online.Store(true)
	changed()
	if f := w.next(""); f.Type != "presence" || !*f.Online {
		t.Fatalf("after no change, %+v", f)
	}
}

// TestReplyCarriesAgentNameAndPicture: a reply reaches the widget with the
// agent's name and the address of their picture, which serves the picture
// (re-encoded, no metadata) and nothing else; history carries them too.
func TestReplyCarriesAgentNameAndPicture(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var buf bytes.Buffer
	img := image.NewRGBA(image.Rect(0, 0, 300, 200))
	for x := range 300 {
		for y := range 200 {
			img.Set(x, y, color.RGBA{uint8(x), 90, uint8(y), 255})
		}
	}
	png.Encode(&buf, img)
	if _, err := e.desk.SetAvatar(ctx, e.agent.ID, []byte("not a picture")); err == nil {
		t.Fatal("text taken for a picture")
	}
	key, err := e.desk.SetAvatar(ctx, e.agent.ID, buf.Bytes())
	if err != nil {
		t.Fatal(err)
	}
	w, welcome := e.hello("")
	w.send(frame{Type: "msg", CID: "c1", Text: "Hello?"})
	w.next("ack")
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 1})
	if _, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "Hi, Ann here."}); err != nil {
		t.Fatal(err)
	}
	f := w.next("msg")
	if f.Name != "Ann" || f.Avatar != "/chat/avatar/"+key {
		t.Fatalf("reply frame %+v", f)
	}
	res, err := http.Get(e.srv.URL + f.Avatar)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" || res.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Fatalf("picture: %d %v", res.StatusCode, res.Header)
	}
	if cfg, _, err := image.DecodeConfig(bytes.NewReader(body)); err != nil || cfg.Width != 192 || cfg.Height != 192 {
		t.Fatalf("served picture %+v %v", cfg, err)
	}
	for _, bad := range []string{"/chat/avatar/" + strings.Repeat("0", 32), "/chat/avatar/../config", "/chat/avatar/" + key + "x"} {
		if res, err := http.Get(e.srv.URL + bad); err != nil || res.StatusCode != 404 {
			t.Fatalf("%s: %v %v", bad, res.StatusCode, err)
		}
	}
	// A returning widget's history names the writer too.
	_, again := e.hello(welcome.Token)
	last := again.History[len(again.History)-1]
	if last.From != "agent" || last.Name != "Ann" || last.Avatar != f.Avatar {
		t.Fatalf("history %+v", last)
	}
	// A new picture has a new address; the old one shows nothing any more.
	key2, err := e.desk.SetAvatar(ctx, e.agent.ID, buf.Bytes())
	if err != nil || key2 == key {
		t.Fatalf("new key %q %v", key2, err)
	}
	if res, _ := http.Get(e.srv.URL + f.Avatar); res.StatusCode != 404 {
		t.Fatalf("old address: %d", res.StatusCode)
	}
}
