package csat_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"onedesk/channels/email/emailtest"
	"onedesk/csat"
	"onedesk/desk"
	"onedesk/desk/desktest"
	"onedesk/reports"
	"onedesk/store"
	"onedesk/store/storetest"
	"onedesk/webhooks"
	"onedesk/webhooks/webhookstest"
)

var ctx = context.Background()

const base = "http://desk.test"

// shop is a desk with surveys plugged in (after the rules and the SLA
// clock, as the executable plugs them), a store asking them and a mailbox
// that sends through a sink.
type shop struct {
	d     *desk.Desk
	db    *store.DB
	svc   *csat.Service
	store int64
	sink  *emailtest.Sink
}

func newShop(t *testing.T, settings csat.Settings) *shop {
	t.Helper()
	d, db := desktest.New(t)
	return wireShop(t, d, db, settings)
}

func wireShop(t *testing.T, d *desk.Desk, db *store.DB, settings csat.Settings) *shop {
	t.Helper()
	s := &shop{d: d, db: db, svc: csat.New(d, desktest.Log(), func() string { return base })}
	st, err := db.StoreBySlug(ctx, "shop")
	if errors.Is(err, store.ErrNotFound) {
		st, err = d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shop", Slug: "shop", Language: "en"})
	}
	if err != nil {
		t.Fatal(err)
	}
	s.store = st.ID
	if _, err := s.svc.SaveSettings(ctx, st.ID, settings); err != nil {
		t.Fatal(err)
	}
	return s
}

func on(delay int, scale string) csat.Settings {
	return csat.Settings{Enabled: true, Delay: delay, Scale: scale}
}

// ticket opens an email ticket from carla and resolves it.
func (s *shop) resolvedTicket(t *testing.T, n int) int64 {
	t.Helper()
	in := desktest.Ingest(t, s.d, desk.Inbound{Channel: "email", StoreID: &s.store, From: desktest.Email("carla@example.test"),
		Name: "Carla", Subject: fmt.Sprintf("Order %d", n), Text: "Where is it?", ExternalID: fmt.Sprintf("m%d@example.test", n)})
	s.resolve(t, in.Ticket.ID)
	return in.Ticket.ID
}

func (s *shop) resolve(t *testing.T, id int64) {
	t.Helper()
	if _, err := s.d.SetStatus(ctx, desk.System, id, "resolved"); err != nil {
		t.Fatal(err)
	}
}

func (s *shop) surveys(t *testing.T, id int64) []*store.Survey {
	t.Helper()
	list, err := s.svc.Surveys(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func (s *shop) sendDue(t *testing.T, at time.Time) int {
	t.Helper()
	n, err := s.svc.SendDue(ctx, at)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// tokens are the rating tokens of a question message, by label.
func (s *shop) tokens(t *testing.T, messageID int64) map[string]string {
	t.Helper()
	m, err := s.db.Message(ctx, messageID)
	if err != nil {
		t.Fatal(err)
	}
	list, err := s.d.Choices(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range list {
		tok, ok := strings.CutPrefix(c.URL, base+"/csat/r/")
		if !ok || c.Data != "csat:"+tok {
			t.Fatalf("choice %+v: the link and the data carry different tokens", c)
		}
		out[c.Label] = tok
	}
	return out
}

func TestAskedOnceByEmailAndRated(t *testing.T) {
	s := newShop(t, on(0, "five"))
	s.sink = emailtest.Mailbox(t, s.d, s.store, "help@shop.test", "Shop")
	id := s.resolvedTicket(t, 1)
	if got := s.surveys(t, id); len(got) != 1 || got[0].Status != "scheduled" {
		t.Fatalf("after the resolution: %+v", got)
	}
	if n := s.sendDue(t, store.Now()); n != 1 {
		t.Fatalf("sent %d", n)
	}
	sv := s.surveys(t, id)[0]
	if sv.Status != "sent" || sv.AskedVia != "email" || sv.MessageID == nil {
		t.Fatalf("sent: %+v", sv)
	}
	// The outbox mails the question with one link per rating.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	go s.d.RunOutbox(runCtx)
	var mail string
	for deadline := time.Now().Add(30 * time.Second); mail == "" && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got := s.sink.Messages(); len(got) > 0 {
			mail = got[0]
		}
	}
	toks := s.tokens(t, *sv.MessageID)
	if len(toks) != 5 || mail == "" || !strings.Contains(mail, "/csat/r/") || !strings.Contains(mail, "Auto-Submitted: auto-replied") {
		t.Fatalf("tokens %v, mail:\n%s", toks, mail)
	}
	four := toks["4 🙂"]
	// Forged: another survey's number, another rating, a changed signature.
	parts := strings.Split(four, ".")
	for _, forged := range []string{
		fmt.Sprintf("%d.%s.%s", sv.ID+1, parts[1], parts[2]),
		fmt.Sprintf("%s.5.%s", parts[0], parts[2]),
		fmt.Sprintf("%s.%s.%s", parts[0], parts[1], strings.Repeat("0", len(parts[2]))),
		"1.1", "", strings.Repeat("9", 200),
	} {
		if _, err := s.svc.RateToken(ctx, forged, "email"); !errors.Is(err, csat.ErrInvalid) {
			t.Errorf("forged %q: %v", forged, err)
		}
	}
	if _, err := s.svc.RateToken(ctx, four, "email"); err != nil {
		t.Fatal(err)
	}
	// Replayed, or another rating after it: refused, the first stays.
	for _, again := range []string{four, toks["1 😞"]} {
		if _, err := s.svc.RateToken(ctx, again, "email"); !errors.Is(err, csat.ErrAnswered) {
			t.Errorf("again %q: %v", again, err)
		}
	}
	ct, _ := s.svc.CommentToken(ctx, sv.ID)
	if _, err := s.svc.Comment(ctx, ct, strings.Repeat("x", 2001), "email"); desktest.FieldOf(err) != "comment" {
		t.Errorf("a long comment: %v", err)
	}
	if _, err := s.svc.Comment(ctx, ct, "  Fast and friendly.  ", "email"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.Comment(ctx, ct, "again", "email"); !errors.Is(err, csat.ErrAnswered) {
		t.Errorf("a second comment: %v", err)
	}
	sv = s.surveys(t, id)[0]
	if sv.Status != "rated" || sv.Rating != 4 || sv.Comment != "Fast and friendly." {
		t.Fatalf("rated: %+v", sv)
	}
	evs := desktest.TicketEvents(t, s.db, id, store.EventSurveySent, store.EventRated)
	if len(evs) != 3 || evs[1].Actor != "customer" || !strings.Contains(string(evs[2].Data), "Fast and friendly.") {
		t.Fatalf("events: %s", desktest.Events(t, s.db, id))
	}
	// The choices are gone once answered.
	if toks := s.tokens(t, *sv.MessageID); len(toks) != 0 {
		t.Errorf("choices after the answer: %v", toks)
	}
	// Resolved again the same day after a reopen: not asked again.
	if _, err := s.d.SetStatus(ctx, desk.System, id, "open"); err != nil {
		t.Fatal(err)
	}
	s.resolve(t, id)
	if got := s.surveys(t, id); len(got) != 1 {
		t.Fatalf("asked again the same day: %+v", got)
	}
}

// A ticket reopened before its question is due is not asked; resolved
// again while a question waits, it is asked once.
func TestReopenedBeforeDue(t *testing.T) {
	s := newShop(t, on(60, "thumbs"))
	id := s.resolvedTicket(t, 1)
	if _, err := s.d.SetStatus(ctx, desk.System, id, "open"); err != nil {
		t.Fatal(err)
	}
	s.resolve(t, id) // a question waits already: not a second
	if got := s.surveys(t, id); len(got) != 1 {
		t.Fatalf("%d surveys", len(got))
	}
	if n := s.sendDue(t, store.Now()); n != 0 {
		t.Fatalf("sent %d before the delay", n)
	}
	if _, err := s.d.SetStatus(ctx, desk.System, id, "open"); err != nil {
		t.Fatal(err)
	}
	if n := s.sendDue(t, store.Now().Add(61*time.Minute)); n != 1 {
		t.Fatalf("handled %d", n)
	}
	if sv := s.surveys(t, id)[0]; sv.Status != "skipped" || sv.SkipReason != "reopened" || sv.MessageID != nil {
		t.Fatalf("%+v", sv)
	}
	// Turned off: nothing is scheduled.
	if _, err := s.svc.SaveSettings(ctx, s.store, csat.Settings{Scale: "five"}); err != nil {
		t.Fatal(err)
	}
	if id := s.resolvedTicket(t, 2); len(s.surveys(t, id)) != 0 {
		t.Error("asked with surveys off")
	}
}

// The delay is a row: a desk stopped while a question waits sends it
// when started again.
func TestDelaySurvivesRestart(t *testing.T) {
	data := storetest.Data(t)
	open := func() (*desk.Desk, *store.DB) {
		db, err := store.Open(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		return desktest.Wire(t, db), db
	}
	d, db := open()
	s := wireShop(t, d, db, on(30, "five"))
	id := s.resolvedTicket(t, 1)
	if n := s.sendDue(t, store.Now()); n != 0 {
		t.Fatalf("sent %d before the delay", n)
	}
	db.Close()

	d, db = open()
	defer db.Close()
	s = wireShop(t, d, db, on(30, "five"))
	// The executable's loop (Run) sends it once due.
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	if err := db.Write(ctx, func(tx *store.Tx) error {
		sv, err := tx.LastSurvey(ctx, id)
		if err != nil {
			return err
		}
		sv.DueAt = store.Now().Add(-time.Second) // as if the half hour passed while stopped
		return tx.UpdateSurvey(ctx, sv)
	}); err != nil {
		t.Fatal(err)
	}
	go s.svc.Run(runCtx)
	var sv *store.Survey
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if sv = s.surveys(t, id)[0]; sv.Status != "scheduled" {
			break
		}
	}
	if sv.Status != "sent" || sv.MessageID == nil {
		t.Fatalf("after the restart: %+v", sv)
	}
	m, err := db.Message(ctx, *sv.MessageID)
	if err != nil || m.Auto != "csat" || m.Body != csat.DefaultQuestion("en") || m.Delivery != "queued" {
		t.Fatalf("question %+v %v", m, err)
	}
}

// A "rated" rule acts on a low rating; webhooks get ticket.rated; the
// report counts it.
func TestRulesWebhooksAndReport(t *testing.T) {
	s := newShop(t, on(0, "thumbs"))
	desktest.SaveRule(t, s.d, store.Rule{Name: "Unhappy", Trigger: "rated",
		Conditions: []store.Condition{desktest.Cond("rating", "lte", 2.0)},
		Actions:    []store.Action{desktest.Action("add_tags", []any{"unhappy"}), desktest.Action("set_priority", "high")}})
	if _, err := desktest.Rules(s.d).Save(ctx, 0, store.Rule{Name: "x", Trigger: "rated", Actions: []store.Action{desktest.Action("add_tags", []any{"a"})},
		Conditions: []store.Condition{desktest.Cond("rating", "lte", 6.0)}}); desktest.FieldOf(err) != "conditions.0.value" {
		t.Errorf("a rating of 6: %v", err)
	}
	recv := webhookstest.New(t)
	hooks := webhooks.New(s.db, desktest.Log())
	name, url, evs := "CRM", recv.URL, []string{"ticket.rated"}
	if _, _, err := hooks.Save(ctx, 0, webhooks.Input{Name: &name, URL: &url, Events: &evs}); err != nil {
		t.Fatal(err)
	}
	if err := hooks.Deliver(ctx, store.Now()); err != nil { // the cursor starts past what was there
		t.Fatal(err)
	}

	happy, sad := s.resolvedTicket(t, 1), s.resolvedTicket(t, 2)
	unasked := s.resolvedTicket(t, 3)
	if n := s.sendDue(t, store.Now()); n != 3 {
		t.Fatalf("sent %d", n)
	}
	rate := func(id int64, label string) {
		t.Helper()
		sv := s.surveys(t, id)[0]
		if _, err := s.svc.RateToken(ctx, s.tokens(t, *sv.MessageID)[label], "email"); err != nil {
			t.Fatal(err)
		}
	}
	rate(happy, "👍")
	rate(sad, "👎")
	if tk := desktest.Ticket(t, s.db, sad); !strings.Contains(strings.Join(tk.Tags, ","), "unhappy") || tk.Priority != "high" {
		t.Errorf("the sad ticket: %v %s", tk.Tags, tk.Priority)
	}
	if tk := desktest.Ticket(t, s.db, happy); len(tk.Tags) != 0 {
		t.Errorf("the happy ticket: %v", tk.Tags)
	}
	if err := hooks.Deliver(ctx, store.Now()); err != nil {
		t.Fatal(err)
	}
	if posts := recv.Lines(); len(posts) != 2 || !strings.HasPrefix(posts[0], "ticket.rated ") || !strings.Contains(posts[1], `"rating":1`) {
		t.Errorf("webhook posts: %q", posts)
	}

	rs := reports.New(s.db, desktest.SLA(s.d), desktest.Log())
	rs.AddReport("csat", s.svc.ReportProvider())
	rep, err := rs.Report(ctx, "csat", reports.Query{Range: "7d"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"surveys_sent": 3, "ratings": 2, "csat_average": 3.0, "satisfied_rate": 0.5, "response_rate": 0.667}
	for k, v := range want {
		if fmt.Sprint(rep.Totals[k]) != fmt.Sprint(v) {
			t.Errorf("%s = %v, want %v", k, rep.Totals[k], v)
		}
	}
	if tb := rep.Table("by_channel"); tb == nil || len(tb.Rows) != 1 || tb.Rows[0][0] != "email" {
		t.Errorf("by channel: %+v", tb)
	}
	_ = unasked
}

// The public rating pages are rate limited by address and size limited,
// and a refusal is a page in the reader's language with its status.
func TestRatingPagesLimits(t *testing.T) {
	s := newShop(t, on(0, "five"))
	srv := httptest.NewServer(s.svc.Handler())
	defer srv.Close()
	get := func(path, lang string) (int, string) {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		req.Header.Set("Accept-Language", lang)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/csat/r/1.4.0000000000000000", "pt-PT,pt;q=0.9"); code != 404 || !strings.Contains(body, "este link de avaliação não é válido") {
		t.Fatalf("a forged link: %d %s", code, body)
	}
	big := strings.NewReader("comment=" + strings.Repeat("x", 20<<10))
	res, err := http.Post(srv.URL+"/csat/c/1.abc", "application/x-www-form-urlencoded", big)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("a 20 KB post: %d", res.StatusCode)
	}
	limited := 0
	for range 40 {
		if code, _ := get("/csat/r/1.4.0000000000000000", "en"); code == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Error("40 requests at once from one address were all answered")
	}
}

// TestCSATAskedInTheCustomersLanguage: the question goes out in the language
// the customer's channel told (the store's own text for it when it set
// one, else the catalog's), the thanks and the comment page follow it
// whatever the browser says, and a customer whose language nobody told is
// asked in the store's.
func TestCSATAskedInTheCustomersLanguage(t *testing.T) {
	settings := on(0, "five")
	settings.Questions = map[string]string{"cs": "Jak jsme vám pomohli?"}
	s := newShop(t, settings)
	s.sink = emailtest.Mailbox(t, s.d, s.store, "help@shop.test", "Shop")
	ask := func(n int, from, lang string) *store.Survey {
		t.Helper()
		in := desktest.Ingest(t, s.d, desk.Inbound{Channel: "email", StoreID: &s.store, From: desktest.Email(from),
			Subject: fmt.Sprintf("Order %d", n), Text: "Where is it?", ExternalID: fmt.Sprintf("lang%d@example.test", n), Language: lang})
		s.resolve(t, in.Ticket.ID)
		s.sendDue(t, store.Now())
		sv := s.surveys(t, in.Ticket.ID)[0]
		if sv.Status != "sent" {
			t.Fatalf("survey of %s: %+v", from, sv)
		}
		return sv
	}
	question := func(sv *store.Survey) string {
		m, err := s.db.Message(ctx, *sv.MessageID)
		if err != nil {
			t.Fatal(err)
		}
		return m.Body
	}
	pt := ask(1, "ana@example.test", "pt")
	if got := question(pt); got != csat.DefaultQuestion("pt") || got == csat.DefaultQuestion("en") {
		t.Errorf("Portuguese customer asked %q", got)
	}
	if got := question(ask(2, "jana@example.test", "cs")); got != "Jak jsme vám pomohli?" {
		t.Errorf("Czech customer asked %q, want the store's Czech question", got)
	}
	if got := question(ask(3, "nobody@example.test", "")); got != csat.DefaultQuestion("en") {
		t.Errorf("a customer of no known language asked %q, want the store's language (en)", got)
	}
	// The rating page and the comment page of the Portuguese survey are in
	// Portuguese, though the browser asks for English.
	srv := httptest.NewServer(s.svc.Handler())
	defer srv.Close()
	toks := s.tokens(t, *pt.MessageID)
	req, _ := http.NewRequest("GET", srv.URL+"/csat/r/"+toks["5 😀"], nil)
	req.Header.Set("Accept-Language", "en-US,en")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(page), `lang="pt"`) || !strings.Contains(string(page), "Obrigado") {
		t.Fatalf("rating page %d:\n%s", res.StatusCode, page)
	}
	// The widget's comment, proved by the rating token pressed: once, and
	// only with the rating the survey has.
	post := func(token, comment string) (int, string) {
		res, err := http.Post(srv.URL+"/csat/comment", "text/plain", strings.NewReader(fmt.Sprintf(`{"token": %q, "comment": %q, "lang": "pt"}`, token, comment)))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := post(toks["1 😞"], "Not the rating I gave"); code != http.StatusNotFound {
		t.Errorf("a comment with another rating's token: %d %s", code, body)
	}
	if code, body := post(toks["5 😀"], "Muito rápido!"); code != 200 || !strings.Contains(body, "Obrigado pelo seu comentário") {
		t.Errorf("the comment: %d %s", code, body)
	}
	if code, _ := post(toks["5 😀"], "again"); code != http.StatusConflict {
		t.Errorf("a second comment: %d", code)
	}
	if got := s.surveys(t, pt.TicketID)[0]; got.Comment != "Muito rápido!" || got.Rating != 5 {
		t.Errorf("survey after the comment: %+v", got)
	}
	// A later message in another language: the latest told wins.
	if got := question(ask(4, "ana@example.test", "ru")); got != csat.DefaultQuestion("ru") {
		t.Errorf("after writing in Russian, asked %q", got)
	}
}
