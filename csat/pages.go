package csat

import (
	"context"
	_ "embed"
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

// fail shows why an answer was refused: a link not valid (forged, or of
// another rating) 404, one used already 409, one too old 410.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	lang := desk.PickLanguage("", r.Header.Get("Accept-Language"))
	status := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrInvalid):
		status = http.StatusNotFound
	case errors.Is(err, ErrAnswered):
		status = http.StatusConflict
	case errors.Is(err, ErrExpired):
		status = http.StatusGone
	default:
		var ie *desk.InputError
		if errors.As(err, &ie) {
			status = http.StatusBadRequest
		} else {
			s.log.Error("csat: rating page", "err", err)
		}
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
