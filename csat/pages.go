package csat

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"net"
	"net/http"
	"strings"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/store"
)

// The pages a rating link in a mail opens: GET /csat/r/{token} records
// the rating at once (one click) and shows thanks with a form for an
// optional comment, which posts to /csat/c/{token}. Plain HTML and a form
// post: no script, so they work with JavaScript off and in any mail
// reader's browser. Each address may open 20 at once and one a second
// after that; a post is at most 16 KB.

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("csat").Parse(pageHTML))

const maxPost = 16 << 10

// Handler serves the rating pages under /csat/.
func (s *Service) Handler() http.Handler { return http.HandlerFunc(s.serve) }

type pageData struct {
	Lang, Title, Text, Error string
	Rating                   int
	Stars                    string
	CommentAction            string
	CommentLabel, Send       string
	Max                      int
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request) {
	ip, _, _ := net.SplitHostPort(r.RemoteAddr)
	lang := desk.PickLanguage("", r.Header.Get("Accept-Language"))
	if r.URL.Path == "/csat/comment" {
		s.serveWidgetComment(w, r, ip)
		return
	}
	if !s.limiter.Allow(ip) {
		s.render(w, http.StatusTooManyRequests, lang, pageData{Error: i18n.S("Too many requests: try again in a minute.").In(lang)})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPost)
	ctx := r.Context()
	switch {
	case strings.HasPrefix(r.URL.Path, "/csat/r/") && (r.Method == http.MethodGet || r.Method == http.MethodHead):
		tok := strings.TrimPrefix(r.URL.Path, "/csat/r/")
		sv, err := s.RateToken(ctx, tok, "email")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		lang = s.readerLanguage(ctx, r, sv)
		ct, err := s.CommentToken(ctx, sv.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, http.StatusOK, lang, pageData{
			Title: i18n.S("Thank you for your rating!").In(lang), Rating: sv.Rating, Stars: label(sv),
			CommentAction: "/csat/c/" + ct, CommentLabel: i18n.S("Anything you would like to add? (optional)").In(lang),
			Send: i18n.S("Send").In(lang), Max: maxComment})
	case strings.HasPrefix(r.URL.Path, "/csat/c/") && r.Method == http.MethodPost:
		tok := strings.TrimPrefix(r.URL.Path, "/csat/c/")
		if err := r.ParseForm(); err != nil {
			s.render(w, http.StatusRequestEntityTooLarge, lang, pageData{Error: i18n.S("a comment has at most %d characters", maxComment).In(lang)})
			return
		}
		sv, err := s.Comment(ctx, tok, r.PostForm.Get("comment"), "email")
		if err != nil {
			s.fail(w, r, err)
			return
		}
		lang = s.readerLanguage(ctx, r, sv)
		s.render(w, http.StatusOK, lang, pageData{Title: i18n.S("Thank you for your comment.").In(lang), Rating: sv.Rating, Stars: label(sv)})
	default:
		w.Header().Set("Allow", "GET, POST")
		s.render(w, http.StatusNotFound, lang, pageData{Error: i18n.S("this rating link is not valid").In(lang)})
	}
}

// serveWidgetComment takes the comment the chat widget's card sends
// after a rating: POST /csat/comment {"token", "comment", "lang"}, where
// token is the rating token of the button pressed. It answers JSON to the
// store's own sites (its allowed origins, as the chat); the body is plain
// text, so a browser sends it without asking first. The same limits as
// the pages: 20 at once per address, then one a second; 16 KB a body.
func (s *Service) serveWidgetComment(w http.ResponseWriter, r *http.Request, ip string) {
	var body struct {
		Token   string `json:"token"`
		Comment string `json:"comment"`
		Lang    string `json:"lang"`
	}
	lang := desk.PickLanguage("", r.Header.Get("Accept-Language"))
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	refuse := func(status int, text, field string) {
		answer(status, map[string]string{"error": text, "field": field})
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		refuse(http.StatusMethodNotAllowed, "POST a comment", "")
		return
	}
	if !s.limiter.Allow(ip) {
		refuse(http.StatusTooManyRequests, i18n.S("Too many requests: try again in a minute.").In(lang), "")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxPost)
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			refuse(http.StatusRequestEntityTooLarge, i18n.S("a comment has at most %d characters", maxComment).In(lang), "comment")
			return
		}
		refuse(http.StatusBadRequest, "the request is not valid JSON", "")
		return
	}
	if i18n.Supported(body.Lang) {
		lang = body.Lang
	}
	ctx := r.Context()
	id, _, err := s.readComment(ctx, body.Token)
	if err == nil {
		err = s.allowOrigin(ctx, w, r, id)
	}
	if err == nil {
		_, err = s.Comment(ctx, body.Token, body.Comment, "chat")
	}
	var ie *desk.InputError
	switch {
	case err == nil:
		answer(http.StatusOK, map[string]any{"ok": true, "text": i18n.S("Thank you for your comment.").In(lang)})
	case errors.Is(err, errOrigin):
		refuse(http.StatusForbidden, "this site may not send comments to this store", "origin")
	case errors.As(err, &ie):
		refuse(refusalStatus(err), ie.In(lang), ie.Field)
	default:
		s.log.Error("csat: a comment from the widget", "err", err)
		refuse(http.StatusInternalServerError, i18n.S("Something went wrong: try again later.").In(lang), "")
	}
}

// refusalStatus is the status of an answer refused: a link not valid
// (forged, or of another rating) 404, one used already 409, one too old
// 410, other bad input 400; anything else 500.
func refusalStatus(err error) int {
	var ie *desk.InputError
	switch {
	case errors.Is(err, ErrInvalid):
		return http.StatusNotFound
	case errors.Is(err, ErrAnswered):
		return http.StatusConflict
	case errors.Is(err, ErrExpired):
		return http.StatusGone
	case errors.As(err, &ie):
		return http.StatusBadRequest
	}
	return http.StatusInternalServerError
}

var errOrigin = errors.New("origin not allowed")

// allowOrigin lets the survey's store's sites read the answer (CORS), and
// refuses a page of any other site.
func (s *Service) allowOrigin(ctx context.Context, w http.ResponseWriter, r *http.Request, surveyID int64) error {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return nil
	}
	sv, err := s.db.Survey(ctx, surveyID)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalid
	}
	if err != nil {
		return err
	}
	if sv.StoreID != nil {
		st, err := s.db.Store(ctx, *sv.StoreID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
		if st != nil && !desk.OriginAllowed(st, origin, r.Host) {
			return errOrigin
		}
	}
	w.Header().Set("Access-Control-Allow-Origin", origin)
	w.Header().Set("Vary", "Origin")
	return nil
}

// fail shows why an answer was refused (refusalStatus).
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	lang := desk.PickLanguage("", r.Header.Get("Accept-Language"))
	status := refusalStatus(err)
	if status == http.StatusInternalServerError {
		s.log.Error("csat: rating page", "err", err)
	}
	text := i18n.SentenceOf(err).In(lang)
	var ie *desk.InputError
	if errors.As(err, &ie) {
		text = ie.In(lang)
	}
	if status == http.StatusInternalServerError {
		text = i18n.S("Something went wrong: try again later.").In(lang)
	}
	s.render(w, status, lang, pageData{Error: text})
}

// readerLanguage is the language the customer was asked in (theirs, as
// their channels told), else the browser's when onedesk speaks it, else
// the store's.
func (s *Service) readerLanguage(ctx context.Context, r *http.Request, sv *store.Survey) string {
	if l := s.customerLanguage(ctx, sv); l != "" {
		return l
	}
	if l := i18n.Negotiate(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return s.surveyLanguage(ctx, sv)
}

// label shows a rating on the page: stars out of five (plain text
// symbols every font has), or the thumb.
func label(sv *store.Survey) string {
	if sv.Scale == "five" && sv.Rating >= 1 && sv.Rating <= 5 {
		return strings.Repeat("★", sv.Rating) + strings.Repeat("☆", 5-sv.Rating)
	}
	for _, opt := range scales[sv.Scale] {
		if opt.rating == sv.Rating {
			return opt.label
		}
	}
	return ""
}

func (s *Service) render(w http.ResponseWriter, status int, lang string, d pageData) {
	d.Lang = lang
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the token stays out of other sites' logs
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'")
	w.Header().Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	if err := page.Execute(w, d); err != nil {
		s.log.Warn("csat: render page", "err", err)
	}
}
