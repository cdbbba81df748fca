package ui_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"os"
	"strings"
	"testing"

	"onedesk/ui"
)

// uploadAvatar sets c's agent's picture as the app does (multipart).
func uploadAvatar(t *testing.T, e *env, c *client) string {
	t.Helper()
	img, err := os.ReadFile(writePNG(t))
	if err != nil {
		t.Fatal(err)
	}
	r := c.putFile("/api/me/avatar", "avatar", "me.png", img)
	if r.status != 200 {
		t.Fatalf("avatar: %d %s", r.status, r.body)
	}
	var out struct {
		AvatarURL string `json:"avatar_url"`
	}
	r.json(t, &out)
	return out.AvatarURL
}

// putFile sends one file as multipart, as the app does.
func (c *client) putFile(path, field, name string, data []byte) resp {
	c.e.t.Helper()
	return c.sendForm("PUT", path, func(w *multipart.Writer) {
		fw, _ := w.CreateFormFile(field, name)
		fw.Write(data)
	})
}

// sendForm sends a multipart form that write fills, with the CSRF token.
func (c *client) sendForm(method, path string, write func(*multipart.Writer)) resp {
	c.e.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	write(w)
	w.Close()
	req, _ := http.NewRequest(method, c.e.srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	req.Header.Set("X-CSRF-Token", c.csrf)
	res, err := c.http.Do(req)
	if err != nil {
		c.e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return resp{res.StatusCode, b, res.Header}
}

// TestGreetingsAPI: an admin saves a store's greetings; bad ones are
// refused naming the field; an agent may not change them; the report
// lists them; a picture for the profile is checked and served publicly.
func TestGreetingsAPI(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Hat Shop", "slug": "hat-shop"}).json(t, &st)
	path := fmt.Sprintf("/api/stores/%d/greetings", st.ID)
	var body struct {
		Greetings []struct {
			ID         int64
			URLPattern string `json:"url_pattern"`
			Messages   map[string]string
		}
	}
	admin.must(200, "PUT", path, map[string]any{"greetings": []map[string]any{
		{"name": "hats", "url_pattern": "/hats", "delay_seconds": 3, "active": true, "messages": map[string]string{"en": "Which size is your head?"}},
	}}).json(t, &body)
	if len(body.Greetings) != 1 || body.Greetings[0].ID == 0 || body.Greetings[0].URLPattern != "/hats" {
		t.Fatalf("saved %+v", body)
	}
	r := admin.must(400, "PUT", path, map[string]any{"greetings": []map[string]any{
		{"url_pattern": "/ok", "messages": map[string]string{"en": "ok"}},
		{"url_pattern": "hats", "messages": map[string]string{"en": "x"}},
	}})
	if msg, field := r.err(t); field != "greetings.1.url_pattern" || !strings.Contains(msg, "starts with /") {
		t.Fatalf("bad pattern: %q %q", msg, field)
	}
	admin.must(404, "PUT", "/api/stores/999/greetings", map[string]any{"greetings": []any{}})
	agent := e.agent(admin, "ann@shop.test")
	agent.must(403, "PUT", path, map[string]any{"greetings": []any{}})
	var report struct {
		Tables []struct {
			Name string
			Rows [][]any
		}
	}
	admin.must(200, "GET", "/api/reports/greetings?range=7d", nil).json(t, &report)
	if len(report.Tables) != 1 || len(report.Tables[0].Rows) != 1 || report.Tables[0].Rows[0][1] != "hats" {
		t.Fatalf("report %+v", report)
	}
	csv := admin.must(200, "GET", "/api/reports/greetings?range=7d&format=csv", nil)
	if !strings.HasPrefix(string(csv.body), "greeting_id,name,store,url_pattern,active,shown,opened,chats,open_rate,chat_rate") {
		t.Fatalf("csv %s", csv.body)
	}

	// The profile picture: a picture is taken, anything else refused.
	if r := agent.putFile("/api/me/avatar", "avatar", "notes.txt", []byte("hello")); r.status != 400 {
		t.Fatalf("text as a picture: %d", r.status)
	}
	url := uploadAvatar(t, e, agent)
	var me struct {
		AvatarURL string `json:"avatar_url"`
	}
	agent.must(200, "GET", "/api/me", nil).json(t, &me)
	if me.AvatarURL != url || !strings.HasPrefix(url, "/chat/avatar/") {
		t.Fatalf("me %+v, uploaded %q", me, url)
	}
	res, err := http.Get(e.srv.URL + url) // public: no session
	if err != nil || res.StatusCode != 200 || res.Header.Get("Content-Type") != "image/jpeg" {
		t.Fatalf("picture: %v %v", res, err)
	}
	res.Body.Close()
	agent.must(200, "DELETE", "/api/me/avatar", nil)
	if res, _ := http.Get(e.srv.URL + url); res.StatusCode != 404 {
		t.Fatalf("removed picture still served: %d", res.StatusCode)
	}
}

// TestStoreOnlinePerStore: the widget of a store says its team is online
// only when an agent who may work that store has the app open and is not
// away.
func TestStoreOnlinePerStore(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var hats, shoes struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Hat Shop", "slug": "hat-shop"}).json(t, &hats)
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop"}).json(t, &shoes)
	ann := e.join(admin, map[string]any{"email": "ann@shop.test", "name": "Ann", "role": "agent", "store_ids": []int64{hats.ID}})
	online := func(slug string) any {
		var cfg map[string]any
		admin.must(200, "GET", "/chat/config?store="+slug, nil).json(t, &cfg)
		return cfg["online"]
	}
	if online("hat-shop") != false || online("shoe-shop") != false {
		t.Fatal("online with nobody there")
	}
	ws := agentOnline(t, e, ann)
	if online("hat-shop") != true || online("shoe-shop") != false {
		t.Fatalf("Ann of the hat shop: hats %v, shoes %v", online("hat-shop"), online("shoe-shop"))
	}
	ann.must(200, "PUT", "/api/me/presence", map[string]string{"presence": "away"})
	if online("hat-shop") != false {
		t.Fatal("an away agent counts")
	}
	ann.must(200, "PUT", "/api/me/presence", map[string]string{"presence": "online"})
	ws.CloseNow()
	waitFor(t, "offline after Ann's app closed", func() bool { return online("hat-shop") == false })
	// The owner works every store.
	agentOnline(t, e, admin)
	if online("hat-shop") != true || online("shoe-shop") != true {
		t.Fatal("the owner's app open: not online everywhere")
	}
}
