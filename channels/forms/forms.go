// Package forms is the contact-form channel: the hosted page /f/{slug}
// (works without JavaScript, speaks the store's and the customer's
// language), and its posts as HTML forms, from the page's script, or as
// JSON from a shop's own code. Each accepted post is one ticket.
package forms

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"embed"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io"
	"log/slog"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onedesk/assets"
	"onedesk/channels"
	"onedesk/desk"
	"onedesk/httperr"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// Limits of a post.
const (
	maxJSONBody  = 64 << 10
	maxFilesMB   = 25 // all files of one post together
	maxPostBody  = maxFilesMB<<20 + 1<<20
	defaultColor = "#2563eb"
)

//go:embed page.html form.css
var pageFS embed.FS

var page = template.Must(template.New("page.html").ParseFS(pageFS, "page.html"))

// Channel serves /f/.
type Channel struct {
	desk      *desk.Desk
	log       *slog.Logger
	pageLimit *limit.Limiter // page views per address
	postLimit *limit.Limiter // posts per address
	// Now is the clock (tests move it to pass the minimum fill time).
	Now func() time.Time
}

// New returns the forms channel. Replies on form tickets, and the
// confirmation, go out by email.
func New(d *desk.Desk, log *slog.Logger) *Channel {
	c := &Channel{desk: d, log: log, pageLimit: d.NewLimiter("form page", 2, 60), postLimit: d.NewLimiter("form post", 0.2, 10), Now: time.Now}
	d.SetSender("form", desk.SenderFunc(c.Send))
	d.RegisterAccounts(c)
	return c
}

// TicketChannel is "form": its accounts are the forms.
func (c *Channel) TicketChannel() string { return "form" }

// TestAccount: a form reaches nothing outside the desk, so only its being
// there is checked.
func (c *Channel) TestAccount(ctx context.Context, formID int64) error {
	_, err := c.desk.DB().Form(ctx, formID)
	return err
}

// Name is "forms".
func (c *Channel) Name() string { return "forms" }

// Routes: the hosted forms and their posts.
func (c *Channel) Routes() []channels.Route { return []channels.Route{{Pattern: "/f/", Handler: c}} }

// Send hands a reply on a form ticket (and the confirmation) to email.
func (c *Channel) Send(ctx context.Context, out desk.Outbound) error {
	email := out.ByEmail()
	if email == nil {
		return desk.Permanent(i18n.Errorf(desk.NoMailboxReason))
	}
	return email.Send(ctx, out)
}

// Run forgets idle addresses of the rate limits each minute, until ctx ends.
func (c *Channel) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			c.pageLimit.Sweep(30 * time.Minute)
			c.postLimit.Sweep(30 * time.Minute)
		}
	}
}

// ServeHTTP answers GET, POST and OPTIONS /f/{slug}.
func (c *Channel) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	slug := strings.TrimPrefix(r.URL.Path, "/f/")
	if slug == "form.css" {
		serveCSS(w, r)
		return
	}
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	asJSON := wantsJSON(r)
	f, st, err := c.desk.PublicForm(r.Context(), slug)
	if st == nil {
		st = &store.Store{Language: "en", AllowedOrigins: []string{}}
	}
	lang := desk.PickLanguage(st.Language, r.URL.Query().Get("lang")+","+r.Header.Get("Accept-Language"))
	tr := assets.FormCatalog(lang)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			c.log.Error("forms: read form", "slug", slug, "err", err)
		}
		c.fail(w, asJSON, http.StatusNotFound, tr["not_found"], "")
		return
	}
	origin := r.Header.Get("Origin")
	if !desk.OriginAllowed(st, origin, r.Host) {
		c.fail(w, asJSON, http.StatusForbidden, tr["err_origin"], "origin")
		return
	}
	if origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
	}
	switch r.Method {
	case http.MethodOptions:
		w.Header().Set("Access-Control-Allow-Methods", "POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type, Idempotency-Key")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
	case http.MethodGet, http.MethodHead:
		if !c.pageLimit.Allow(ip) {
			c.fail(w, false, http.StatusTooManyRequests, tr["err_rate"], "")
			return
		}
		v := c.view(r.Context(), f, st, lang, r.URL.Query())
		if id, err := strconv.ParseInt(r.URL.Query().Get("sent"), 10, 64); err == nil && id > 0 {
			v.Thanks = strings.ReplaceAll(tr["thanks"], "{ticket}", strconv.FormatInt(id, 10))
		}
		c.render(w, http.StatusOK, v, f, st)
	case http.MethodPost:
		if !c.postLimit.Allow(ip) {
			c.fail(w, asJSON, http.StatusTooManyRequests, tr["err_rate"], "")
			return
		}
		c.post(w, r, f, st, lang)
	default:
		w.Header().Set("Allow", "GET, POST, OPTIONS")
		c.fail(w, asJSON, http.StatusMethodNotAllowed, "use GET or POST", "")
	}
}

// serveCSS is the page's style with the store's colour (no inline styles,
// so the page and the app's preview keep strict style policies).
func serveCSS(w http.ResponseWriter, r *http.Request) {
	css, _ := pageFS.ReadFile("form.css")
	assets.WriteBrandCSS(w, r, css, defaultColor)
}

func wantsJSON(r *http.Request) bool {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return ct == "application/json" || strings.Contains(r.Header.Get("Accept"), "application/json")
}

// post takes a submission: parse, spam checks, validation, one ticket.
func (c *Channel) post(w http.ResponseWriter, r *http.Request, f *store.Form, st *store.Store, lang string) {
	tr := assets.FormCatalog(lang)
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	asJSON := wantsJSON(r)
	if !f.Enabled {
		c.fail(w, asJSON, http.StatusForbidden, tr["closed"], "")
		return
	}
	sub := desk.Submission{Values: map[string]string{}, Files: map[string][]store.Attachment{}}
	var stamp, honey string
	switch ct {
	case "application/json":
		r.Body = http.MaxBytesReader(w, r.Body, maxJSONBody)
		var body map[string]any
		dec := json.NewDecoder(r.Body)
		dec.UseNumber()
		if err := dec.Decode(&body); err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				c.fail(w, true, http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is larger than %d KB", maxJSONBody>>10), "")
				return
			}
			c.fail(w, true, http.StatusBadRequest, `send a JSON object of field names and values, like {"email": "ana@example.com", "message": "..."}`, "")
			return
		}
		for k, v := range body {
			switch v := v.(type) {
			case string:
				sub.Values[k] = v
			case json.Number:
				sub.Values[k] = v.String()
			case bool:
				sub.Values[k] = strconv.FormatBool(v)
			case nil:
			default:
				c.fail(w, true, http.StatusBadRequest, "a value must be a string, number or true/false", k)
				return
			}
		}
		sub.ID = r.Header.Get("Idempotency-Key")
	case "multipart/form-data", "application/x-www-form-urlencoded":
		if r.ContentLength > maxPostBody {
			c.fail(w, asJSON, http.StatusRequestEntityTooLarge, strings.ReplaceAll(tr["err_file_size"], "{max}", strconv.Itoa(maxFilesMB)), "")
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxPostBody)
		var err error
		if ct == "multipart/form-data" {
			err = r.ParseMultipartForm(8 << 20)
		} else {
			err = r.ParseForm()
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				c.fail(w, asJSON, http.StatusRequestEntityTooLarge, strings.ReplaceAll(tr["err_file_size"], "{max}", strconv.Itoa(maxFilesMB)), "")
				return
			}
			c.fail(w, asJSON, http.StatusBadRequest, "the form data could not be read: send it again", "")
			return
		}
		if r.MultipartForm != nil {
			defer r.MultipartForm.RemoveAll()
		}
		for k, v := range r.PostForm {
			if len(v) > 0 {
				sub.Values[k] = v[0]
			}
		}
		stamp, honey, sub.ID = sub.Values["_ts"], sub.Values["website_url"], sub.Values["_id"]
		if fault := c.readFiles(r, f, &sub); fault != "" {
			c.answer(w, r, f, st, lang, http.StatusBadRequest, desk.FieldErrors{{Field: fault, Code: "err_file_type"}}, sub.Values)
			return
		}
	default:
		c.fail(w, asJSON, http.StatusUnsupportedMediaType, "send the form as multipart/form-data, urlencoded or JSON", "")
		return
	}
	if len(sub.ID) > 100 {
		sub.ID = sub.ID[:100]
	}
	delete(sub.Values, "website_url")
	// Spam: a filled-in hidden field, or a form sent faster than a person
	// can. Both are answered, never dropped: a person sends again.
	if honey != "" {
		c.answer(w, r, f, st, lang, http.StatusBadRequest, desk.FieldErrors{{Code: "err_bot"}}, sub.Values)
		return
	}
	// Faster than the form's minimum is no proof of a bot (a browser's
	// autofill and a quick click take a second or two): such a post is
	// taken and tagged for the agent to judge. Only one within a second of
	// the page, faster than any person, is asked to send again.
	if started, ok := c.verifyStamp(r.Context(), f.Slug, stamp); ok {
		took, least := c.Now().Sub(started), minFill(f)
		if took < min(least, time.Second) {
			c.answer(w, r, f, st, lang, http.StatusBadRequest, desk.FieldErrors{{Code: "err_quick"}}, sub.Values)
			return
		}
		sub.Suspicious = took < least
	}
	sub.AckText = tr["ack"]
	res, err := c.desk.SubmitForm(r.Context(), f, sub)
	var faults desk.FieldErrors
	switch {
	case errors.As(err, &faults):
		c.answer(w, r, f, st, lang, http.StatusBadRequest, faults, sub.Values)
		return
	case err != nil:
		if ie, ok := desk.IsInput(err); ok {
			c.fail(w, asJSON, http.StatusBadRequest, ie.In(lang), ie.Field)
			return
		}
		c.log.Error("forms: submit", "form", f.Slug, "err", err)
		if sentence, ok := desk.FaultSentence(err); ok {
			c.storageFault(w, r, f, st, lang, err, sentence, sub.Values)
			return
		}
		c.fail(w, asJSON, http.StatusInternalServerError, tr["err_save"], "")
		return
	}
	id := res.Ticket.ID
	if asJSON {
		writeJSON(w, http.StatusCreated, map[string]any{"ticket_id": id, "title": tr["thanks_title"],
			"message": strings.ReplaceAll(tr["thanks"], "{ticket}", strconv.FormatInt(id, 10)), "redirect_url": redirect(f, id)})
		return
	}
	to := redirect(f, id)
	if to == "" {
		q := url.Values{"sent": {strconv.FormatInt(id, 10)}}
		if r.URL.Query().Get("embed") != "" {
			q.Set("embed", "1")
		}
		if l := r.URL.Query().Get("lang"); l != "" {
			q.Set("lang", l)
		}
		to = "/f/" + f.Slug + "?" + q.Encode()
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// storageFault answers a post the database could not take (a full disk,
// a damaged file): 507 for a full disk, else 503. JSON gets the sentence
// the agent API gives; the page comes back with what the customer wrote
// and a sentence in their language (the page's script shows that one too).
func (c *Channel) storageFault(w http.ResponseWriter, r *http.Request, f *store.Form, st *store.Store, lang string, err error, sentence i18n.Sentence, values map[string]string) {
	status, code := http.StatusServiceUnavailable, "err_save"
	if kind, _ := store.Fault(err); kind == store.ErrDiskFull {
		status, code = http.StatusInsufficientStorage, "err_full"
	}
	if wantsJSON(r) {
		httperr.Write(w, status, sentence.In(lang), "")
		return
	}
	c.answer(w, r, f, st, lang, status, desk.FieldErrors{{Code: code}}, values)
}

// redirect is the shop's thank-you page with the ticket number added.
func redirect(f *store.Form, ticket int64) string {
	if f.RedirectURL == "" {
		return ""
	}
	u, err := url.Parse(f.RedirectURL)
	if err != nil {
		return ""
	}
	q := u.Query()
	q.Set("ticket", strconv.FormatInt(ticket, 10))
	u.RawQuery = q.Encode()
	return u.String()
}

// readFiles checks the files of the post's file fields; it returns the
// field of a file of a kind customers may not send.
func (c *Channel) readFiles(r *http.Request, f *store.Form, sub *desk.Submission) string {
	if r.MultipartForm == nil {
		return ""
	}
	for _, fl := range f.Fields {
		if fl.Type != "file" {
			continue
		}
		for _, fh := range r.MultipartForm.File[fl.Name] {
			if fh.Size == 0 {
				continue // an empty file input
			}
			file, err := fh.Open()
			if err != nil {
				return fl.Name
			}
			data, err := io.ReadAll(file)
			file.Close()
			if err != nil {
				return fl.Name
			}
			a, err := desk.CustomerFile(fh.Filename, data)
			if err != nil {
				return fl.Name
			}
			sub.Files[fl.Name] = append(sub.Files[fl.Name], *a)
		}
	}
	return ""
}

func minFill(f *store.Form) time.Duration {
	switch {
	case f.MinSeconds < 0:
		return 0
	case f.MinSeconds == 0:
		return desk.DefaultFormWait * time.Second
	}
	return time.Duration(f.MinSeconds) * time.Second
}

// stamp is when the page was shown, signed so that a bot cannot post an
// old one: "unixms.signature".
func (c *Channel) stamp(ctx context.Context, slug string) string {
	ts := strconv.FormatInt(c.Now().UnixMilli(), 10)
	sig, err := c.desk.Sign(ctx, "form:"+slug+":"+ts)
	if err != nil {
		return ""
	}
	return ts + "." + sig
}

// verifyStamp reads a stamp; false when there is none or it is forged (a
// form on the shop's own page has none: the other checks still apply).
func (c *Channel) verifyStamp(ctx context.Context, slug, s string) (time.Time, bool) {
	ts, sig, ok := strings.Cut(s, ".")
	ms, err := strconv.ParseInt(ts, 10, 64)
	if !ok || err != nil {
		return time.Time{}, false
	}
	want, err := c.desk.Sign(ctx, "form:"+slug+":"+ts)
	if err != nil || !hmac.Equal([]byte(sig), []byte(want)) {
		return time.Time{}, false
	}
	return time.UnixMilli(ms), true
}

// answer reports faults: JSON with every field's sentence, or the page
// again with the customer's values and the sentences beside the fields.
func (c *Channel) answer(w http.ResponseWriter, r *http.Request, f *store.Form, st *store.Store, lang string, status int, faults desk.FieldErrors, values map[string]string) {
	tr := assets.FormCatalog(lang)
	sentence := func(e desk.FieldError) string { return strings.ReplaceAll(tr[e.Code], "{max}", strconv.Itoa(e.Max)) }
	if wantsJSON(r) {
		list := make([]map[string]string, 0, len(faults))
		for _, e := range faults {
			list = append(list, map[string]string{"field": e.Field, "error": sentence(e)})
		}
		writeJSON(w, status, map[string]any{"error": list[0]["error"], "field": list[0]["field"], "errors": list})
		return
	}
	q := r.URL.Query()
	v := c.view(r.Context(), f, st, lang, q)
	byField := map[string]string{}
	for _, e := range faults {
		if e.Field == "" {
			v.Error = sentence(e)
		} else if byField[e.Field] == "" {
			byField[e.Field] = sentence(e)
		}
	}
	if v.Error == "" {
		v.Error = tr["err_fix"]
	}
	if s := values["_ts"]; s != "" {
		v.Stamp = s // the time spent so far still counts
	}
	if id := values["_id"]; id != "" {
		v.Nonce = id
	}
	for i := range v.Fields {
		fv := &v.Fields[i]
		fv.Error = byField[fv.Name]
		raw := values[fv.Name]
		switch fv.Type {
		case "checkbox":
			fv.Checked = raw != "" && raw != "false" && raw != "0" && raw != "off"
		case "select":
			for j := range fv.Options {
				fv.Options[j].Selected = fv.Options[j].Value == raw
			}
		case "file":
		default:
			fv.Value = raw
		}
	}
	c.render(w, status, v, f, st)
}

// fail answers a request that cannot even be a submission.
func (c *Channel) fail(w http.ResponseWriter, asJSON bool, status int, msg, field string) {
	if asJSON {
		httperr.Write(w, status, msg, field)
		return
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "<!doctype html><meta charset=utf-8><meta name=viewport content=\"width=device-width, initial-scale=1\"><title>%s</title>"+
		"<p style=\"font:16px system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem\">%s</p>",
		template.HTMLEscapeString(msg), template.HTMLEscapeString(msg))
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func nonce() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
