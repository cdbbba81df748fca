package forms

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/assets"
	"onedesk/channels/email/emailtest"
	"onedesk/desk"
	"onedesk/limit"
	"onedesk/store"
)

type env struct {
	t     *testing.T
	desk  *desk.Desk
	db    *store.DB
	forms *Channel
	srv   *httptest.Server
	store *store.Store
	form  *store.Form
	team  *store.Team
}

// contactForm is the form most tests post to: every kind of field, and
// returns routed to a team with high priority.
func contactForm(storeID, teamID int64) *store.Form {
	return &store.Form{StoreID: &storeID, Slug: "contact", Title: "Contact us", Enabled: true,
		FormDefinition: store.FormDefinition{
			Intro: "We answer within a day.",
			Fields: []store.FormField{
				{Name: "name", Label: "Your name", Type: "text"},
				{Name: "email", Label: "Email", Type: "email"},
				{Name: "phone", Label: "Phone", Type: "phone"},
				{Name: "topic", Label: "Topic", Type: "select", Required: true, Options: []string{"Order", "Returns", "Other"},
					Translations: map[string]store.FormText{"pt": {Label: "Assunto", Options: []string{"Encomenda", "Devoluções", "Outro"}}}},
				{Name: "order", Label: "Order number", Type: "order"},
				{Name: "quantity", Label: "How many pairs", Type: "number"},
				{Name: "message", Label: "Message", Type: "textarea", Required: true},
				{Name: "photos", Label: "Photos", Type: "file"},
				{Name: "consent", Label: "You may contact me", Type: "checkbox", Required: true},
			},
			Routing: store.FormRouting{Priority: "normal", Tags: []string{"web"},
				Rules: []store.RouteRule{{Field: "topic", Value: "Returns", TeamID: &teamID, Priority: "high", Tags: []string{"return"}}}},
		}}
}

func newEnv(t *testing.T, origins ...string) *env {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	db, err := store.Open(ctx, filepath.Join(t.TempDir(), "forms.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	d := desk.New(db, log)
	c := New(d, log)
	go d.RunOutbox(ctx)
	st, err := d.SaveStore(ctx, 0, desk.StoreInput{Name: "Shoe Shop", Slug: "shoes", Language: "en", AllowedOrigins: &origins})
	if err != nil {
		t.Fatal(err)
	}
	team, err := d.SaveTeam(ctx, 0, desk.TeamInput{Name: "Returns"})
	if err != nil {
		t.Fatal(err)
	}
	f, err := d.SaveForm(ctx, contactForm(st.ID, team.ID))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	return &env{t: t, desk: d, db: db, forms: c, srv: srv, store: st, form: f, team: team}
}

// later moves the channel's clock past the minimum fill time.
func (e *env) later() { e.forms.Now = func() time.Time { return time.Now().Add(time.Minute) } }

// page fetches the hosted page and returns its stamp and nonce.
func (e *env) page(query string) (html, stamp, nonce string) {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + "/f/contact" + query)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		e.t.Fatalf("page: %d %s", res.StatusCode, b)
	}
	return string(b), attr(string(b), `name="_ts" value="`), attr(string(b), `name="_id" value="`)
}

func attr(html, prefix string) string {
	_, rest, _ := strings.Cut(html, prefix)
	v, _, _ := strings.Cut(rest, `"`)
	return v
}

// post sends a multipart form like a browser without JavaScript.
func (e *env) post(query string, values map[string]string, files map[string][]byte, header ...string) *http.Response {
	e.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range values {
		mw.WriteField(k, v)
	}
	for name, data := range files {
		w, _ := mw.CreateFormFile("photos", name)
		w.Write(data)
	}
	mw.Close()
	req, _ := http.NewRequest("POST", e.srv.URL+"/f/contact"+query, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func (e *env) postJSON(body string, header ...string) (int, map[string]any, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/f/contact", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	var out map[string]any
	json.NewDecoder(res.Body).Decode(&out)
	return res.StatusCode, out, res.Header
}

func (e *env) tickets() []store.Ticket {
	e.t.Helper()
	list, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Limit: 50})
	if err != nil {
		e.t.Fatal(err)
	}
	return list
}

func body(res *http.Response) string {
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func TestFormDefinitionIsChecked(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, c := range []struct {
		change func(f *store.Form)
		field  string
	}{
		{func(f *store.Form) { f.Title = "" }, "title"},
		{func(f *store.Form) { f.Slug = "Not A Slug" }, "slug"},
		{func(f *store.Form) { f.Fields = nil }, "fields"},
		{func(f *store.Form) { f.Fields[0].Name = "Bad Name" }, "fields[0].name"},
		{func(f *store.Form) { f.Fields[1].Name = "name" }, "fields[1].name"},
		{func(f *store.Form) { f.Fields[0].Type = "colour" }, "fields[0].type"},
		{func(f *store.Form) { f.Fields[0].Label = "" }, "fields[0].label"},
		{func(f *store.Form) { f.Fields[3].Options = nil }, "fields[3].options"},
		{func(f *store.Form) { f.Fields[3].Options = []string{"A", "A"} }, "fields[3].options"},
		{func(f *store.Form) { f.Fields[3].Translations["xx"] = store.FormText{Label: "?"} }, "fields[3].translations"},
		{func(f *store.Form) {
			f.Fields[3].Translations["pt"] = store.FormText{Options: []string{"só uma"}}
		}, "fields[3].translations"},
		{func(f *store.Form) { f.Fields = f.Fields[3:] }, "fields"}, // no email or phone
		{func(f *store.Form) { f.Routing.Priority = "asap" }, "routing.priority"},
		{func(f *store.Form) { f.Routing.Rules[0].Field = "colour" }, "routing.rules[0].field"},
		{func(f *store.Form) { id := int64(99); f.Routing.Rules[0].TeamID = &id }, "routing.rules[0].team_id"},
		{func(f *store.Form) { f.RedirectURL = "javascript:alert(1)" }, "redirect_url"},
		{func(f *store.Form) { f.MinSeconds = 9999 }, "min_seconds"},
		{func(f *store.Form) { id := int64(42); f.StoreID = &id }, "store_id"},
	} {
		f := contactForm(e.store.ID, e.team.ID)
		f.Slug = "other"
		c.change(f)
		_, err := e.desk.SaveForm(ctx, f)
		ie, ok := desk.IsInput(err)
		if !ok || ie.Field != c.field {
			t.Errorf("want an error on %s, got %v", c.field, err)
		}
	}
	// The slug is the form's own; an update keeps the id and creation time.
	if _, err := e.desk.SaveForm(ctx, contactForm(e.store.ID, e.team.ID)); err == nil {
		t.Fatal("a second form took the slug contact")
	}
	f := *e.form
	f.Title = "Write to us"
	saved, err := e.desk.SaveForm(ctx, &f)
	if err != nil || saved.ID != e.form.ID || !saved.CreatedAt.Equal(e.form.CreatedAt) {
		t.Fatalf("update: %v %+v", err, saved)
	}
	list, _ := e.db.Forms(ctx)
	if len(list) != 1 || list[0].Title != "Write to us" || len(list[0].Fields) != 9 {
		t.Fatalf("forms: %+v", list)
	}
	if err := e.desk.DeleteForm(ctx, f.ID); err != nil {
		t.Fatal(err)
	}
	if res, _ := http.Get(e.srv.URL + "/f/contact"); res.StatusCode != 404 {
		t.Fatalf("deleted form: %d", res.StatusCode)
	}
}

// A post with faults shows the page again with what the customer typed
// and a sentence beside each wrong field, in their language; the fixed
// post is a ticket with the values as fields, routed by topic.
func TestHTMLPostKeepsValuesAndRoutes(t *testing.T) {
	e := newEnv(t)
	html, stamp, nonce := e.page("?lang=pt")
	for _, want := range []string{`lang="pt"`, "Assunto", "Devoluções", `value="Returns"`, "Contact us", "(opcional)"} {
		if !strings.Contains(html, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	e.later()
	values := map[string]string{"_ts": stamp, "_id": nonce, "name": "Rui Costa", "email": "rui@", "phone": "912",
		"topic": "Returns", "order": "#10 01", "quantity": "two", "message": ""}
	res := e.post("?lang=pt", values, nil)
	page := body(res)
	if res.StatusCode != 400 {
		t.Fatalf("faulty post: %d", res.StatusCode)
	}
	for _, want := range []string{
		`value="Rui Costa"`, `<option value="Returns" selected>`, `value="#10 01"`, // kept
		"Este endereço de email não parece correto.", "indicativo do país", "Introduza um número.",
		"Preencha este campo.", "Marque esta caixa.", "Um número de encomenda", "Verifique os campos",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("re-rendered page lacks %q", want)
		}
	}
	if n := len(e.tickets()); n != 0 {
		t.Fatalf("%d tickets from a faulty post", n)
	}

	values = map[string]string{"_ts": stamp, "_id": nonce, "name": "Rui Costa", "email": "Rui@Example.com", "phone": "+351 912 345 678",
		"topic": "Devoluções", "order": "#1001", "quantity": "2,5", "message": "The shoes are too small.\nCan I swap them?", "consent": "on"}
	res = e.post("?lang=pt", values, map[string][]byte{"foot.png": pngBytes()})
	if res.StatusCode != 303 {
		t.Fatalf("post: %d %s", res.StatusCode, body(res))
	}
	loc, _ := url.Parse(res.Header.Get("Location"))
	list := e.tickets()
	if len(list) != 1 {
		t.Fatalf("%d tickets", len(list))
	}
	tk := list[0]
	if loc.Path != "/f/contact" || loc.Query().Get("sent") != fmt.Sprint(tk.ID) || loc.Query().Get("lang") != "pt" {
		t.Fatalf("redirect to %s", loc)
	}
	var fields map[string]any
	json.Unmarshal(tk.Fields, &fields)
	if tk.Channel != "form" || tk.Subject != "Contact us: Returns" || tk.Priority != "high" || tk.TeamID == nil || *tk.TeamID != e.team.ID ||
		strings.Join(tk.Tags, ",") != "return,web" || *tk.StoreID != e.store.ID {
		t.Fatalf("ticket: %+v", tk)
	}
	if fields["order"] != "1001" || fields["topic"] != "Returns" || fields["quantity"] != 2.5 || fields["consent"] != true ||
		fields["email"] != "rui@example.com" || fields["phone"] != "+351912345678" || fields["message"] != nil {
		t.Fatalf("fields: %v", fields)
	}
	cu, _ := e.db.Customer(context.Background(), tk.CustomerID)
	ids := fmt.Sprint(cu.Identities)
	if cu.Name != "Rui Costa" || !strings.Contains(ids, "rui@example.com") || !strings.Contains(ids, "+351912345678") {
		t.Fatalf("customer: %+v", cu)
	}
	msgs, _ := e.db.Messages(context.Background(), tk.ID)
	if len(msgs) != 1 || msgs[0].Body != "The shoes are too small.\nCan I swap them?" || len(msgs[0].Attachments) != 1 ||
		msgs[0].Attachments[0].ContentType != "image/png" || msgs[0].Attachments[0].Filename != "foot.png" {
		t.Fatalf("message: %+v", msgs)
	}
	// The order number finds the ticket; the same post again (a reload,
	// a double click) is the same ticket.
	found, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Query: "1001", Limit: 10})
	if err != nil || len(found) != 1 || found[0].ID != tk.ID {
		t.Fatalf("q=1001: %v %+v", err, found)
	}
	for q, want := range map[string]int{"Returns": 1, "Order": 0} {
		found, _, err := e.db.ListTickets(context.Background(), store.TicketFilter{Fields: map[string]string{"topic": q, "quantity": "2.5"}, Limit: 10})
		if err != nil || len(found) != want {
			t.Fatalf("filter topic=%s: %v %d tickets", q, err, len(found))
		}
	}
	if res := e.post("?lang=pt", values, nil); res.StatusCode != 303 || len(e.tickets()) != 1 {
		t.Fatalf("resend: %d, %d tickets", res.StatusCode, len(e.tickets()))
	}
	thanks, _, _ := e.page("?lang=pt&sent=" + fmt.Sprint(tk.ID))
	if !strings.Contains(thanks, "Obrigado!") || !strings.Contains(thanks, fmt.Sprintf("o número é %d", tk.ID)) {
		t.Fatalf("thank-you page: %s", thanks)
	}
	// A plain HTML form on the shop's page (no stamp) returns to the shop's
	// thank-you page with the ticket number.
	f := *e.form
	f.RedirectURL = "https://shoes.example/thanks?from=form"
	if _, err := e.desk.SaveForm(context.Background(), &f); err != nil {
		t.Fatal(err)
	}
	res = e.post("", map[string]string{"email": "eva@example.com", "topic": "Order", "message": "Hello", "consent": "on"}, nil)
	if loc := res.Header.Get("Location"); res.StatusCode != 303 || !strings.HasPrefix(loc, "https://shoes.example/thanks?") ||
		!strings.Contains(loc, "from=form") || !strings.Contains(loc, "ticket=") {
		t.Fatalf("shop's thank-you page: %d %s", res.StatusCode, loc)
	}
	// Without a phone or email there is nobody to answer.
	res = e.post("", map[string]string{"topic": "Order", "message": "hello", "consent": "on"}, nil)
	if page := body(res); res.StatusCode != 400 || !strings.Contains(page, "Leave an email address or a phone number") {
		t.Fatalf("no contact: %d", res.StatusCode)
	}
}

func pngBytes() []byte {
	return []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
}

// JSON posts from the shop's own code: CORS for its origin only, every
// field's fault listed, Idempotency-Key honoured, files refused by type.
func TestJSONPostsAndOrigins(t *testing.T) {
	e := newEnv(t, "https://shoes.example")
	code, out, h := e.postJSON(`{"email":"ana@example.com","topic":"Order","message":"Where is my parcel?","consent":true,"order":1002}`,
		"Origin", "https://shoes.example", "Idempotency-Key", "k1")
	if code != 201 || h.Get("Access-Control-Allow-Origin") != "https://shoes.example" || out["ticket_id"] == nil {
		t.Fatalf("allowed origin: %d %v %v", code, out, h)
	}
	if code, again, _ := e.postJSON(`{"email":"ana@example.com","topic":"Order","message":"Where is my parcel?","consent":true}`,
		"Idempotency-Key", "k1"); code != 201 || again["ticket_id"] != out["ticket_id"] {
		t.Fatalf("idempotent resend: %d %v", code, again)
	}
	if code, out, _ := e.postJSON(`{"email":"ana@example.com","message":"x"}`, "Origin", "https://evil.example"); code != 403 || out["field"] != "origin" {
		t.Fatalf("other origin: %d %v", code, out)
	}
	req, _ := http.NewRequest("OPTIONS", e.srv.URL+"/f/contact", nil)
	req.Header.Set("Origin", "https://shoes.example")
	req.Header.Set("Access-Control-Request-Method", "POST")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Methods") != "POST" {
		t.Fatalf("preflight: %v %v", err, res)
	}
	code, out, _ = e.postJSON(`{"email":"nope","topic":"Shoes","consent":false}`, "Accept-Language", "cs-CZ,cs;q=0.9")
	errs, _ := out["errors"].([]any)
	if code != 400 || len(errs) != 4 || out["field"] != "email" || !strings.Contains(fmt.Sprint(out["error"]), "e-mailová adresa") {
		t.Fatalf("faults: %d %v", code, out)
	}
	for _, bad := range []string{`[1,2]`, `{"email": {"a": 1}}`, `{"email"`} {
		if code, out, _ := e.postJSON(bad); code != 400 || out["error"] == "" {
			t.Errorf("%s: %d %v", bad, code, out)
		}
	}
	if code, _, _ := e.postJSON(`{"message":"` + strings.Repeat("x", 70<<10) + `"}`); code != 413 {
		t.Fatalf("large body: %d", code)
	}
	// A file that is not a picture, PDF or text, from the page's script.
	e.later()
	res := e.post("", map[string]string{"email": "ana@example.com", "topic": "Order", "message": "see file", "consent": "on"},
		map[string][]byte{"tool.exe": []byte("MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff")}, "Accept", "application/json")
	if b := body(res); res.StatusCode != 400 || !strings.Contains(b, `"field":"photos"`) {
		t.Fatalf("exe: %d %s", res.StatusCode, b)
	}
}

// Spam rules: a filled-in hidden field, a post faster than a person, too
// many posts from one address. Each gets an answer; nothing is stored.
func TestSpamRules(t *testing.T) {
	e := newEnv(t)
	_, stamp, nonce := e.page("")
	ok := map[string]string{"_ts": stamp, "_id": nonce, "email": "bo@example.com", "topic": "Other", "message": "hi", "consent": "on"}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for a, b := range ok {
			m[a] = b
		}
		m[k] = v
		return m
	}
	if res := e.post("", with("website_url", "http://spam.example"), nil); res.StatusCode != 400 ||
		!strings.Contains(body(res), "looked automated") {
		t.Fatal("honeypot accepted")
	}
	if res := e.post("", ok, nil); res.StatusCode != 400 || !strings.Contains(body(res), "very quick") {
		t.Fatal("a post a moment after the page was accepted")
	}
	if res := e.post("", with("_ts", "1.forged"), nil); res.StatusCode != 303 {
		// A forged stamp counts as none (a form on the shop's page has
		// none): the other rules still apply, so it goes through.
		t.Fatalf("no usable stamp: %d", res.StatusCode)
	}
	if n := len(e.tickets()); n != 1 {
		t.Fatalf("%d tickets", n)
	}
	// Two seconds: under the form's three, as a person with autofill
	// sends. Taken, and tagged for the agent to judge.
	e.forms.Now = func() time.Time { return time.Now().Add(2 * time.Second) }
	if res := e.post("", with("_id", "autofill"), nil); res.StatusCode != 303 {
		t.Fatalf("a quick person was refused: %d %s", res.StatusCode, body(res))
	}
	if list := e.tickets(); len(list) != 2 || !slices.Contains(list[0].Tags, desk.SuspiciousTag) || slices.Contains(list[1].Tags, desk.SuspiciousTag) {
		t.Fatalf("tags after a quick post: %+v", list)
	}
	e.later()
	if res := e.post("", with("_id", "other"), nil); res.StatusCode != 303 {
		t.Fatalf("after the minimum time: %d %s", res.StatusCode, body(res))
	}
	e.forms.postLimit = limit.New(0.001, 2)
	codes := []int{}
	for range 3 {
		codes = append(codes, e.post("", with("_id", "x"), nil, "Accept", "application/json").StatusCode)
	}
	if fmt.Sprint(codes) != "[303 303 429]" && fmt.Sprint(codes) != "[201 201 429]" {
		t.Fatalf("rate limit: %v", codes)
	}
	var big bytes.Buffer
	big.Write(bytes.Repeat([]byte("x"), maxPostBody+10))
	req, _ := http.NewRequest("POST", e.srv.URL+"/f/contact", &big)
	req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
	e.forms.postLimit = limit.New(100, 100)
	if res, _ := http.DefaultClient.Do(req); res.StatusCode != 413 {
		t.Fatalf("too large: %d", res.StatusCode)
	}
}

// An address without a full domain is refused beside its field, in the
// form's language; an international one is taken.
func TestFormEmailDomain(t *testing.T) {
	e := newEnv(t)
	e.later()
	code, out, _ := e.postJSON(`{"email":"joana@gmail","topic":"Order","message":"Onde está?","consent":true}`, "Accept-Language", "pt-PT")
	if code != 400 || out["field"] != "email" || out["error"] != assets.FormCatalog("pt")["err_email_domain"] {
		t.Fatalf("joana@gmail: %d %v", code, out)
	}
	if code, out, _ := e.postJSON(`{"email":"jürgen@müller.de","topic":"Order","message":"Wo ist es?","consent":true}`); code != 201 {
		t.Fatalf("international address: %d %v", code, out)
	}
}

// The confirmation goes by email through the store's mailbox, with the
// ticket number, in the customer's language.
func TestConfirmationEmail(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sink := emailtest.Mailbox(t, e.desk, e.store.ID, "help@shoes.test", "Shoe Shop")
	f := *e.form
	f.Confirmation = true
	if _, err := e.desk.SaveForm(ctx, &f); err != nil {
		t.Fatal(err)
	}
	code, out, _ := e.postJSON(`{"name":"Ana","email":"ana@example.com","topic":"Order","message":"Where is my parcel?","consent":true}`,
		"Accept-Language", "pt-PT")
	if code != 201 {
		t.Fatalf("post: %d %v", code, out)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		got := strings.Join(sink.Messages(), "\n")
		// Portuguese, quoted-printable: "Olá Ana", "número 1".
		if strings.Contains(got, "Ol=C3=A1 Ana") && strings.Contains(got, fmt.Sprintf("n=C3=BAmero %v ", out["ticket_id"])) &&
			strings.Contains(got, "To: <ana@example.com>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no confirmation; got %q", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
