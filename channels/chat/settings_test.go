package chat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/limit"
	"onedesk/store"
)

// setChat saves the store's chat settings through the desk, as the app does.
func (e *env) setChat(c store.ChatSettings) {
	e.t.Helper()
	st, err := e.desk.SaveStore(context.Background(), e.store.ID, desk.StoreInput{Chat: &c})
	if err != nil {
		e.t.Fatal(err)
	}
	e.store = st
}

func (e *env) config(lang string) map[string]any {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + "/chat/config?store=my-shop&lang=" + lang)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var cfg map[string]any
	json.NewDecoder(res.Body).Decode(&cfg)
	return cfg
}

func TestStoreChatSettings(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	cfg := e.config("en")
	if cfg["color"] != "#2457d6" || cfg["position"] != "right" || cfg["prechat"] != "off" || cfg["launcher"] != "Chat with us" || cfg["files"] != false {
		t.Fatalf("defaults %v", cfg)
	}
	e.setChat(store.ChatSettings{Color: "#AA3300", Position: "left", Launcher: "Fale connosco", Greeting: "Olá! Em que podemos ajudar?", PreChat: "optional", Files: true, MaxFileMB: 5})
	cfg = e.config("pt-PT")
	if cfg["color"] != "#aa3300" || cfg["position"] != "left" || cfg["launcher"] != "Fale connosco" || cfg["greeting"] != "Olá! Em que podemos ajudar?" ||
		cfg["prechat"] != "optional" || cfg["files"] != true || cfg["max_file_mb"] != 5.0 || cfg["language"] != "pt" {
		t.Fatalf("settings %v", cfg)
	}
	// Bad settings are refused, field by field, and change nothing.
	for _, c := range []struct {
		set   store.ChatSettings
		field string
	}{
		{store.ChatSettings{Color: "red"}, "chat.color"},
		{store.ChatSettings{Position: "top"}, "chat.position"},
		{store.ChatSettings{PreChat: "always"}, "chat.prechat"},
		{store.ChatSettings{MaxFileMB: 100}, "chat.max_file_mb"},
		{store.ChatSettings{Hours: []string{"09:00-17:00"}}, "chat.hours"},
		{store.ChatSettings{Hours: []string{"", "9-17", "", "", "", "", ""}}, "chat.hours"},
		{store.ChatSettings{Hours: []string{"", "17:00-09:00", "", "", "", "", ""}}, "chat.hours"},
		{store.ChatSettings{IdleMinutes: -1}, "chat.idle_minutes"},
		{store.ChatSettings{IdleStatus: "closed"}, "chat.idle_status"},
		{store.ChatSettings{Launcher: strings.Repeat("x", 41)}, "chat.launcher"},
	} {
		_, err := e.desk.SaveStore(ctx, e.store.ID, desk.StoreInput{Chat: &c.set})
		ie, ok := desk.IsInput(err)
		if !ok || ie.Field != c.field {
			t.Errorf("%+v: %v", c.set, err)
		}
	}
	if st, _ := e.db.StoreBySlug(ctx, "my-shop"); st.Chat.Color != "#aa3300" {
		t.Fatalf("a refused change was kept: %+v", st.Chat)
	}
}

func TestBusinessHoursOverridePresence(t *testing.T) {
	e := newEnv(t)
	e.chat.Online = func() bool { return true }
	// Lisbon, weekdays 09:00-12:00 and 13:00-18:00, closed at weekends.
	week := []string{"", "09:00-12:00, 13:00-18:00", "09:00-12:00, 13:00-18:00", "09:00-12:00, 13:00-18:00", "09:00-12:00, 13:00-18:00", "09:00-12:00, 13:00-18:00", ""}
	if _, err := e.desk.SaveStore(context.Background(), e.store.ID, desk.StoreInput{Timezone: "Europe/Lisbon", Chat: &store.ChatSettings{Hours: week}}); err != nil {
		t.Fatal(err)
	}
	lisbon, _ := time.LoadLocation("Europe/Lisbon")
	for _, c := range []struct {
		at   time.Time
		live bool
	}{
		{time.Date(2026, 11, 23, 10, 0, 0, 0, lisbon), true},   // Monday morning
		{time.Date(2026, 11, 23, 12, 30, 0, 0, lisbon), false}, // lunch
		{time.Date(2026, 11, 23, 17, 59, 0, 0, lisbon), true},  // just before closing
		{time.Date(2026, 11, 23, 18, 0, 0, 0, lisbon), false},  // closed
		{time.Date(2026, 11, 22, 11, 0, 0, 0, lisbon), false},  // Sunday
		{time.Date(2026, 11, 23, 9, 30, 0, 0, time.UTC), true}, // 09:30 in Lisbon too (UTC+0 in winter)
		{time.Date(2026, 11, 23, 8, 30, 0, 0, lisbon), false},  // before opening
		{time.Date(2026, 7, 6, 8, 30, 0, 0, time.UTC), true},   // 09:30 summer time in Lisbon
	} {
		e.chat.Now = func() time.Time { return c.at }
		if got := e.config("en")["online"]; got != c.live {
			t.Errorf("%s: online %v, want %v", c.at, got, c.live)
		}
		_, welcome := e.hello("")
		if *welcome.Online != c.live {
			t.Errorf("%s: welcome online %v", c.at, *welcome.Online)
		}
	}
	// Hours never make chat live when nobody is there.
	e.chat.Online = func() bool { return false }
	e.chat.Now = func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, lisbon) }
	if e.config("en")["online"] != false {
		t.Fatal("live with no agent online")
	}
}

func TestPreChatRequired(t *testing.T) {
	e := newEnv(t)
	e.setChat(store.ChatSettings{PreChat: "required"})
	w, welcome := e.hello("")
	w.send(frame{Type: "msg", CID: "a", Text: "hello?"})
	if f := w.next("error"); f.Code != "err_details" || f.CID != "a" || f.Field != "email" {
		t.Fatalf("message before details %+v", f)
	}
	w.send(frame{Type: "identify", Name: "Rui"})
	if f := w.next("error"); f.Code != "err_email_required" || f.Field != "email" {
		t.Fatalf("details without email %+v", f)
	}
	w.send(frame{Type: "identify", Name: "Rui", Email: "not an address"})
	if f := w.next("error"); f.Code != "err_email_invalid" || f.Field != "email" {
		t.Fatalf("bad email %+v", f)
	}
	w.send(frame{Type: "identify", Name: "Rui", Email: "Rui@Example.PT"})
	w.next("identified")
	w.send(frame{Type: "msg", CID: "a", Text: "hello?"})
	w.next("ack")
	// Back later: the widget learns the details were given.
	_, again := e.hello(welcome.Token)
	if again.Email != "rui@example.pt" || again.Name != "Rui" {
		t.Fatalf("welcome back %+v", again)
	}
	// Nothing nothing went in before the details.
	tickets, _, _ := e.db.ListTickets(context.Background(), store.TicketFilter{Limit: 10})
	if len(tickets) != 1 {
		t.Fatalf("tickets %d", len(tickets))
	}
	if msgs, _ := e.db.Messages(context.Background(), tickets[0].ID); len(msgs) != 1 {
		t.Fatalf("messages %d", len(msgs))
	}
}

func TestErrorsInTheVisitorsLanguage(t *testing.T) {
	e := newEnv(t)
	w, err := e.dial("")
	if err != nil {
		t.Fatal(err)
	}
	w.send(frame{Type: "hello", Lang: "pt"})
	w.next("welcome")
	w.send(frame{Type: "msg", CID: "a", Text: "  "})
	if f := w.next("error"); f.Error != "A mensagem está vazia." {
		t.Fatalf("pt error %+v", f)
	}
	res, body := postJSON(t, e.srv.URL+"/chat/offline?store=my-shop", map[string]any{"message": "olá", "lang": "ru"})
	if res.StatusCode != 400 || body["field"] != "email" || body["error"] != "Укажите email, чтобы мы могли ответить." {
		t.Fatalf("offline ru %d %v", res.StatusCode, body)
	}
	// A store in Czech answers in Czech when the widget did not say.
	if _, err := e.desk.SaveStore(context.Background(), e.store.ID, desk.StoreInput{Language: "cs"}); err != nil {
		t.Fatal(err)
	}
	res, body = postJSON(t, e.srv.URL+"/chat/offline?store=my-shop", map[string]any{"email": "a@b.cz"})
	if res.StatusCode != 400 || body["error"] != "Zpráva je prázdná." {
		t.Fatalf("offline cs %d %v", res.StatusCode, body)
	}
}

func postJSON(t *testing.T, url string, v any) (*http.Response, map[string]any) {
	t.Helper()
	b, _ := json.Marshal(v)
	res, err := http.Post(url, "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res, out
}

// upload sends a file as the widget does.
func (e *env) upload(token, cid, name string, data []byte) (*http.Response, map[string]any) {
	e.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	mw.WriteField("token", token)
	mw.WriteField("cid", cid)
	fw, _ := mw.CreateFormFile("file", name)
	fw.Write(data)
	mw.Close()
	res, err := http.Post(e.srv.URL+"/chat/upload?store=my-shop&lang=en", mw.FormDataContentType(), &buf)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res, out
}

func pngBytes() []byte {
	var buf bytes.Buffer
	png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, 4, 4)))
	return buf.Bytes()
}

func TestVisitorFiles(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	w, welcome := e.hello("")
	w.send(frame{Type: "msg", CID: "m1", Text: "here is the photo"})
	w.next("ack")

	if res, body := e.upload(welcome.Token, "f1", "shoe.png", pngBytes()); res.StatusCode != 403 || body["error"] != "Files cannot be sent in this chat." {
		t.Fatalf("files off: %d %v", res.StatusCode, body)
	}
	e.setChat(store.ChatSettings{Files: true, MaxFileMB: 1})
	other, _ := e.hello(welcome.Token) // a second tab sees the file too
	res, ack := e.upload(welcome.Token, "f1", `C:\Users\rui\shoe.png`, pngBytes())
	if res.StatusCode != 201 || ack["cid"] != "f1" {
		t.Fatalf("upload %d %v", res.StatusCode, ack)
	}
	files, _ := ack["files"].([]any)
	if len(files) != 1 || files[0].(map[string]any)["name"] != "shoe.png" || files[0].(map[string]any)["type"] != "image/png" {
		t.Fatalf("ack files %v", ack)
	}
	if f := other.next("msg"); f.CID != "f1" || len(f.Files) != 1 {
		t.Fatalf("other tab %+v", f)
	}
	// A resend after a lost answer stores nothing twice.
	if res, again := e.upload(welcome.Token, "f1", "shoe.png", pngBytes()); res.StatusCode != 201 || again["id"] != ack["id"] {
		t.Fatalf("resend %d %v", res.StatusCode, again)
	}
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10})
	msgs, _ := e.db.Messages(ctx, tickets[0].ID)
	if len(msgs) != 2 || len(msgs[1].Attachments) != 1 || msgs[1].Attachments[0].Size != int64(len(pngBytes())) {
		t.Fatalf("stored %+v", msgs)
	}
	_, back := e.hello(welcome.Token)
	if len(back.History) != 2 || len(back.History[1].Files) != 1 {
		t.Fatalf("history %+v", back.History)
	}

	// Type by content, not by name; size by the store's limit.
	if res, body := e.upload(welcome.Token, "f2", "invoice.pdf", []byte("<html><script>alert(1)</script></html>")); res.StatusCode != 415 || body["field"] != "file" {
		t.Fatalf("html as pdf: %d %v", res.StatusCode, body)
	}
	big := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte("x"), 1<<20)...)
	if res, body := e.upload(welcome.Token, "f3", "big.pdf", big); res.StatusCode != 413 || body["error"] != "The file is too large: at most 1 MB." {
		t.Fatalf("too big: %d %v", res.StatusCode, body)
	}
	if res, _ := e.upload("not-a-token", "f4", "a.png", pngBytes()); res.StatusCode != 400 {
		t.Fatalf("no token: %d", res.StatusCode)
	}
	if msgs, _ := e.db.Messages(ctx, tickets[0].ID); len(msgs) != 2 {
		t.Fatalf("refused files were stored: %d messages", len(msgs))
	}

	// The visitor reads their own files, nobody else's, and no notes.
	id := int64(files[0].(map[string]any)["id"].(float64))
	get := func(token string, id int64) (int, []byte) {
		b, _ := json.Marshal(map[string]any{"token": token, "id": id})
		res, err := http.Post(e.srv.URL+"/chat/file?store=my-shop", "text/plain", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		data, _ := io.ReadAll(res.Body)
		return res.StatusCode, data
	}
	if code, data := get(welcome.Token, id); code != 200 || !bytes.Equal(data, pngBytes()) {
		t.Fatalf("own file %d", code)
	}
	_, stranger := e.hello("")
	if code, _ := get(stranger.Token, id); code != 404 {
		t.Fatalf("someone else's file: %d", code)
	}
	note, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "internal", Internal: true,
		Attachments: []store.Attachment{{Filename: "secret.txt", ContentType: "text/plain", Data: []byte("secret")}}})
	if err != nil {
		t.Fatal(err)
	}
	noteMsg, _ := e.db.Message(ctx, note.ID)
	if code, _ := get(welcome.Token, noteMsg.Attachments[0].ID); code != 404 {
		t.Fatalf("note's file: %d", code)
	}
}

func TestVisitorRateLimitSpansTabs(t *testing.T) {
	e := newEnv(t)
	// The burst is the limit under test: a refill this slow cannot give a
	// token back while a busy machine sends the burst one ack at a time.
	e.chat.visitorLimit = limit.New(0.001, visitorBurst)
	w1, welcome := e.hello("")
	w2, _ := e.hello(welcome.Token)
	for i := range visitorBurst {
		w1.send(frame{Type: "msg", CID: fmt.Sprint("a", i), Text: "x"})
		w1.next("ack")
	}
	w2.send(frame{Type: "msg", CID: "b", Text: "from the other tab"})
	if f := w2.next("error"); f.Code != "err_fast" {
		t.Fatalf("second tab not limited: %+v", f)
	}
	// Another visitor is not slowed by the first.
	w3, _ := e.hello("")
	w3.send(frame{Type: "msg", CID: "c", Text: "hi"})
	w3.next("ack")
}

func TestInactivityRule(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.setChat(store.ChatSettings{IdleMinutes: 30})
	answered, _ := e.hello("")
	answered.send(frame{Type: "msg", CID: "a", Text: "do you ship to Porto?"})
	answered.next("ack")
	waiting, _ := e.hello("")
	waiting.send(frame{Type: "msg", CID: "b", Text: "hello? anyone?"})
	waiting.next("ack")
	tickets, _, _ := e.db.ListTickets(ctx, store.TicketFilter{Limit: 10, Sort: "oldest"})
	if _, err := e.desk.Reply(ctx, desk.AgentActor(e.agent.ID), tickets[0].ID, desk.ReplyInput{Body: "Yes, in 2 days."}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.desk.CloseIdleChats(ctx, time.Now().Add(29*time.Minute)); err != nil || n != 0 {
		t.Fatalf("too early: %d %v", n, err)
	}
	if n, err := e.desk.CloseIdleChats(ctx, time.Now().Add(31*time.Minute)); err != nil || n != 1 {
		t.Fatalf("after 31 minutes: %d %v", n, err)
	}
	first, _ := e.db.Ticket(ctx, tickets[0].ID)
	second, _ := e.db.Ticket(ctx, tickets[1].ID)
	if first.Status != "resolved" || second.Status == "resolved" {
		t.Fatalf("statuses %s %s: the answered chat is resolved, the unanswered one waits", first.Status, second.Status)
	}
	events, _ := e.db.Events(ctx, first.ID)
	if last := events[len(events)-1]; last.Type != "status_changed" || last.Actor != "inactivity" {
		t.Fatalf("event %+v", last)
	}
	// The visitor writes again: the same chat opens again.
	answered.send(frame{Type: "msg", CID: "c", Text: "one more thing"})
	answered.next("ack")
	if again, _ := e.db.Ticket(ctx, first.ID); again.Status != "open" {
		t.Fatalf("after a new message: %s", again.Status)
	}
	// "pending" moves open chats to pending, and leaves pending ones.
	e.setChat(store.ChatSettings{IdleMinutes: 30, IdleStatus: "pending"})
	if n, _ := e.desk.CloseIdleChats(ctx, time.Now().Add(31*time.Minute)); n != 1 {
		t.Fatalf("pending rule moved %d", n)
	}
	if again, _ := e.db.Ticket(ctx, first.ID); again.Status != "pending" {
		t.Fatalf("pending rule: %s", again.Status)
	}
}
