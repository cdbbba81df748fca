package helpcentre

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"onedesk/assets"
	"onedesk/desk"
	"onedesk/httperr"
	"onedesk/store"
)

//go:embed page.html help.css
var files embed.FS

var page = template.Must(template.New("page.html").ParseFS(files, "page.html"))

const defaultColor = "#2563eb"

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// languageNames are the languages as their readers write them.
var languageNames = map[string]string{"en": "English", "pt": "Português", "tr": "Türkçe", "cs": "Čeština", "ru": "Русский"}

// view is what page.html shows.
type view struct {
	Kind                                  string // home, list, article, missing
	Lang, StoreName, Logo, ColorHex, Home string
	Heading, Description, Intro, Query    string
	Empty, Updated, VoteURL, Prev, Next   string
	Body                                  template.HTML
	Voted, NoIndex                        bool
	Languages, Alternates                 []langLink
	Crumbs                                []link
	Sections                              []section
	Articles                              []articleLink
	T                                     map[string]string
}

type langLink struct {
	Lang, Name, URL string
	Current         bool
}

type link struct{ Name, URL string }

type section struct {
	Name, Description, URL, More string
	Articles                     []articleLink
}

type articleLink struct{ Title, URL, Snippet string }

// request is one public request, its store and language settled.
type request struct {
	w     http.ResponseWriter
	r     *http.Request
	st    *store.Store
	lang  string
	langs []string // languages with published articles
	pub   *published
	t     map[string]string
}

// ServeHTTP answers everything under /help/.
func (c *Centre) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.Path, "/help/")
	if rest == "_/help.css" {
		serveCSS(w, r)
		return
	}
	parts := strings.Split(rest, "/")
	ip := clientIP(r)
	if len(parts) >= 2 && parts[1] == "api" {
		c.serveAPI(w, r, parts, ip)
		return
	}
	if !c.pageLimit.Allow(ip) {
		t := assets.HelpCatalog(desk.PickLanguage("", r.Header.Get("Accept-Language")))
		w.Header().Set("Retry-After", "10")
		http.Error(w, t["err_rate"], http.StatusTooManyRequests)
		return
	}
	st, err := c.db.StoreBySlug(r.Context(), parts[0])
	if err != nil {
		c.missing(w, r, nil, err)
		return
	}
	pub, err := c.published(r.Context(), st)
	if err != nil {
		c.fail(w, err)
		return
	}
	if len(parts) == 1 || (len(parts) == 2 && parts[1] == "") {
		http.Redirect(w, r, "/help/"+st.Slug+"/"+c.pickLanguage(st, pub.langs, r)+"/", http.StatusFound)
		return
	}
	switch {
	case len(parts) == 2 && parts[1] == "sitemap.xml":
		c.sitemap(w, r, st)
		return
	case len(parts) == 3 && parts[1] == "img":
		c.image(w, r, st, parts[2])
		return
	}
	if !languageOK(parts[1]) {
		c.missing(w, r, st, nil)
		return
	}
	q := &request{w: w, r: r, st: st, lang: parts[1], langs: pub.langs, pub: pub, t: assets.HelpCatalog(parts[1])}
	switch {
	case len(parts) == 2:
		http.Redirect(w, r, "/help/"+st.Slug+"/"+q.lang+"/", http.StatusMovedPermanently)
	case len(parts) == 3 && parts[2] == "":
		c.home(q)
	case len(parts) == 3 && parts[2] == "search":
		c.search(q)
	case len(parts) == 4 && parts[2] == "c":
		c.category(q, parts[3])
	case len(parts) == 4 && parts[2] == "a":
		c.article(q, parts[3])
	case len(parts) == 5 && parts[2] == "a" && parts[4] == "vote":
		c.vote(q, parts[3])
	default:
		c.missing(w, r, st, nil)
	}
}

// pickLanguage is the reader's language among those the store's help
// centre has, else the store's, else the first it has.
func (c *Centre) pickLanguage(st *store.Store, langs []string, r *http.Request) string {
	for _, tag := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, _, _ = strings.Cut(tag, ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		for _, l := range langs {
			if l == base {
				return l
			}
		}
	}
	for _, l := range langs {
		if l == st.Language {
			return l
		}
	}
	if len(langs) > 0 {
		return langs[0]
	}
	return desk.PickLanguage(st.Language, "")
}

func (q *request) base() string { return "/help/" + q.st.Slug + "/" + q.lang + "/" }

// view is the frame of every page of q: store, colours, languages.
func (q *request) view(kind string) view {
	v := view{Kind: kind, Lang: q.lang, StoreName: q.st.Name, Logo: q.st.LogoURL, Home: q.base(), T: q.t, ColorHex: strings.TrimPrefix(defaultColor, "#")}
	if colorRE.MatchString(q.st.Chat.Color) {
		v.ColorHex = strings.TrimPrefix(q.st.Chat.Color, "#")
	}
	if !strings.HasPrefix(v.Logo, "https://") && !strings.HasPrefix(v.Logo, "http://") {
		v.Logo = ""
	}
	for _, l := range q.langs {
		v.Languages = append(v.Languages, langLink{Lang: l, Name: languageNames[l], URL: "/help/" + q.st.Slug + "/" + l + "/", Current: l == q.lang})
	}
	return v
}

func (q *request) articleURL(slug string) string { return q.base() + "a/" + url.PathEscape(slug) }

func (c *Centre) home(q *request) {
	lists, err := q.pub.home(q.r.Context(), c.db, q.st.ID, q.lang)
	if err != nil {
		c.fail(q.w, err)
		return
	}
	// The page is the same for every reader until the help centre or
	// the store's name, logo or colour change: made once.
	frame := q.st.Name + "\x00" + q.st.LogoURL + "\x00" + q.st.Chat.Color
	if page := lists.page(frame); page != nil {
		c.write(q.w, http.StatusOK, page, q.st)
		return
	}
	cats, counts := q.pub.cats, lists.counts
	byCat := map[int64][]articleLink{}
	for _, h := range lists.hits {
		var id int64
		if h.CategoryID != nil {
			id = *h.CategoryID
		}
		byCat[id] = append(byCat[id], articleLink{Title: h.Title, URL: q.articleURL(h.Slug)})
	}
	v := q.view("home")
	v.Description = q.t["title"] + " · " + q.st.Name
	for _, cat := range cats {
		if counts[cat.ID] == 0 {
			continue
		}
		name := categoryName(cat, q.lang)
		s := section{Name: name.Name, Description: name.Description, URL: q.base() + "c/" + url.PathEscape(cat.Slug), Articles: byCat[cat.ID]}
		if n := counts[cat.ID]; n > homePerCat {
			s.More = strings.ReplaceAll(q.t["see_all"], "{n}", strconv.Itoa(n))
		}
		v.Sections = append(v.Sections, s)
	}
	if len(byCat[0]) > 0 {
		s := section{Name: q.t["more_articles"], Articles: byCat[0]}
		if n := counts[0]; n > homePerCat {
			s.URL, s.More = q.base()+"c/-", strings.ReplaceAll(q.t["see_all"], "{n}", strconv.Itoa(n))
		}
		v.Sections = append(v.Sections, s)
	}
	v.Alternates = q.alternates("")
	page, err := execute(v)
	if err != nil {
		c.fail(q.w, err)
		return
	}
	lists.keep(frame, page)
	c.write(q.w, http.StatusOK, page, q.st)
}

// alternates are the home pages in the other languages (the only pages
// known to exist in each).
func (q *request) alternates(path string) []langLink {
	if path != "" {
		return nil
	}
	var out []langLink
	for _, l := range q.langs {
		out = append(out, langLink{Lang: l, URL: "/help/" + q.st.Slug + "/" + l + "/"})
	}
	return out
}

// categoryName is a category's name in lang, else in English, else any.
func categoryName(cat *store.HelpCategory, lang string) store.HelpCategoryName {
	if n, ok := cat.Names[lang]; ok && n.Name != "" {
		return n
	}
	if n, ok := cat.Names["en"]; ok && n.Name != "" {
		return n
	}
	for _, n := range cat.Names {
		if n.Name != "" {
			return n
		}
	}
	return store.HelpCategoryName{Name: cat.Slug}
}

// pageNumber is the ?page= of a list (1 when absent or wrong).
func pageNumber(r *http.Request) int {
	n, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || n < 1 || n > 10000 {
		return 1
	}
	return n
}

func (c *Centre) category(q *request, slug string) {
	ctx := q.r.Context()
	var catID int64
	v := q.view("list")
	if slug == "-" {
		v.Heading = q.t["more_articles"]
	} else {
		cat := q.pub.category(slug)
		if cat == nil {
			c.missing(q.w, q.r, q.st, nil)
			return
		}
		catID = cat.ID
		name := categoryName(cat, q.lang)
		v.Heading, v.Intro = name.Name, name.Description
	}
	n := pageNumber(q.r)
	hits, err := c.db.PublishedHelpInCategory(ctx, q.st.ID, q.lang, catID, (n-1)*pageSize, pageSize+1)
	if err != nil {
		c.fail(q.w, err)
		return
	}
	here := q.base() + "c/" + url.PathEscape(slug)
	if len(hits) > pageSize {
		hits, v.Next = hits[:pageSize], here+"?page="+strconv.Itoa(n+1)
	}
	if n > 1 {
		v.Prev, v.NoIndex = here+"?page="+strconv.Itoa(n-1), true
	}
	if len(hits) == 0 {
		v.Empty = q.t["empty"]
	}
	for _, h := range hits {
		v.Articles = append(v.Articles, articleLink{Title: h.Title, URL: q.articleURL(h.Slug), Snippet: snippet(h.Text, 180)})
	}
	v.Crumbs = []link{{q.t["title"], q.base()}}
	c.render(q.w, http.StatusOK, v, q.st)
}

// query is a search as readers type it: trimmed, at most maxQuery runes.
func query(s string) string {
	s = strings.TrimSpace(strings.ToValidUTF8(s, ""))
	if r := []rune(s); len(r) > maxQuery {
		s = string(r[:maxQuery])
	}
	return s
}

func (c *Centre) search(q *request) {
	text := query(q.r.URL.Query().Get("q"))
	v := q.view("list")
	v.Query, v.NoIndex = text, true
	v.Crumbs = []link{{q.t["title"], q.base()}}
	if text == "" {
		http.Redirect(q.w, q.r, q.base(), http.StatusFound)
		return
	}
	v.Heading = strings.ReplaceAll(q.t["results_for"], "{q}", text)
	hits, err := c.db.SearchHelp(q.r.Context(), q.st.ID, q.lang, text, pageSize)
	if err != nil {
		c.fail(q.w, err)
		return
	}
	if len(hits) == 0 {
		v.Empty = strings.ReplaceAll(q.t["no_results"], "{q}", text)
		c.missed(q.r.Context(), q.st.ID, q.lang, text)
	}
	for _, h := range hits {
		v.Articles = append(v.Articles, articleLink{Title: h.Title, URL: q.articleURL(h.Slug), Snippet: snippet(h.Text, 180)})
	}
	c.render(q.w, http.StatusOK, v, q.st)
}

// missed counts a search that found nothing (lower case, so that "Refund"
// and "refund" are one line of the report) after the answer: the reader
// does not wait for the write. At most 32 are written at once; beyond
// that (a flood of searches) they are dropped from the report.
func (c *Centre) missed(ctx context.Context, storeID int64, lang, text string) {
	text, at := strings.ToLower(text), c.Now()
	select {
	case c.writing <- struct{}{}:
	default:
		return
	}
	go func() {
		defer func() { <-c.writing }()
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.RecordMissedHelpSearch(ctx, storeID, lang, text, at) })
		if err != nil {
			c.log.Warn("help centre: record a search that found nothing", "err", err)
		}
	}()
}

func (c *Centre) article(q *request, slug string) {
	ctx := q.r.Context()
	a, err := c.db.PublishedHelpArticle(ctx, q.st.ID, q.lang, slug)
	if err != nil {
		c.missing(q.w, q.r, q.st, err)
		return
	}
	// Opened from the widget's or a form's suggestions: the visit counts
	// towards deflection (see the package comment).
	qs := q.r.URL.Query()
	if ref, visit := qs.Get("ref"), qs.Get("visit"); (ref == "widget" || ref == "form") && visitRE.MatchString(visit) && c.visitLimit.Allow(clientIP(q.r)) {
		err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.OpenHelpVisit(ctx, q.st.ID, visit, ref, a.ID, c.Now()) })
		if err != nil {
			c.log.Warn("help centre: record a suggested article opened", "err", err)
		}
	}
	v := q.view("article")
	v.Heading, v.Body = a.PublishedTitle, template.HTML(a.HTML) // sanitized when published (Render)
	v.Description = snippet(a.Text, 160)
	v.Updated = strings.ReplaceAll(q.t["updated"], "{date}", a.PublishedAt.Format("2006-01-02"))
	v.VoteURL = q.articleURL(a.Slug) + "/vote"
	v.Voted = qs.Get("voted") != ""
	v.Crumbs = []link{{q.t["title"], q.base()}}
	if a.CategoryID != nil {
		if cat := q.pub.categoryByID(*a.CategoryID); cat != nil {
			v.Crumbs = append(v.Crumbs, link{categoryName(cat, q.lang).Name, q.base() + "c/" + url.PathEscape(cat.Slug)})
		}
	}
	c.render(q.w, http.StatusOK, v, q.st)
}

// vote counts a "Was this helpful?" answer (a plain form post) and shows
// the article again with the thanks.
func (c *Centre) vote(q *request, slug string) {
	if q.r.Method != http.MethodPost {
		q.w.Header().Set("Allow", "POST")
		http.Error(q.w, "use POST", http.StatusMethodNotAllowed)
		return
	}
	if !c.voteLimit.Allow(clientIP(q.r)) {
		q.w.Header().Set("Retry-After", "10")
		http.Error(q.w, q.t["err_rate"], http.StatusTooManyRequests)
		return
	}
	q.r.Body = http.MaxBytesReader(q.w, q.r.Body, 4<<10)
	if err := q.r.ParseForm(); err != nil {
		http.Error(q.w, "the form could not be read", http.StatusBadRequest)
		return
	}
	answer := q.r.PostForm.Get("helpful")
	if answer != "yes" && answer != "no" {
		http.Error(q.w, "helpful must be yes or no", http.StatusBadRequest)
		return
	}
	ctx := q.r.Context()
	a, err := c.db.PublishedHelpArticle(ctx, q.st.ID, q.lang, slug)
	if err != nil {
		c.missing(q.w, q.r, q.st, err)
		return
	}
	if err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.VoteHelpArticle(ctx, a.ID, answer == "yes") }); err != nil {
		c.fail(q.w, err)
		return
	}
	http.Redirect(q.w, q.r, q.articleURL(a.Slug)+"?voted=1#vote-q", http.StatusSeeOther)
}

// missing answers 404 with a page in the reader's language.
func (c *Centre) missing(w http.ResponseWriter, r *http.Request, st *store.Store, err error) {
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, err)
		return
	}
	lang := desk.PickLanguage("", r.Header.Get("Accept-Language"))
	if st == nil {
		t := assets.HelpCatalog(lang)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, t["not_found"])
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/help/"), "/")
	if len(parts) > 1 && languageOK(parts[1]) {
		lang = parts[1]
	}
	var langs []string
	if pub, err := c.published(r.Context(), st); err == nil {
		langs = pub.langs
	}
	q := &request{w: w, r: r, st: st, lang: lang, langs: langs, t: assets.HelpCatalog(lang)}
	v := q.view("missing")
	v.Heading, v.Empty, v.NoIndex = q.t["not_found"], q.t["title"], true
	v.Crumbs = []link{{q.t["title"], q.base()}}
	c.render(w, http.StatusNotFound, v, st)
}

func (c *Centre) fail(w http.ResponseWriter, err error) {
	c.log.Error("help centre", "err", err)
	http.Error(w, "something went wrong on the server; the error is in its log", http.StatusInternalServerError)
}

// render writes a page with headers that let no script run at all.
func (c *Centre) render(w http.ResponseWriter, status int, v view, st *store.Store) {
	b, err := execute(v)
	if err != nil {
		c.fail(w, err)
		return
	}
	c.write(w, status, b, st)
}

// execute makes a page's HTML.
func execute(v view) ([]byte, error) {
	var b bytes.Buffer
	if err := page.Execute(&b, v); err != nil {
		return nil, fmt.Errorf("render %s page: %w", v.Kind, err)
	}
	return b.Bytes(), nil
}

// write sends a page made by execute with headers that let no script
// run at all.
func (c *Centre) write(w http.ResponseWriter, status int, page []byte, st *store.Store) {
	ancestors := "'self'"
	if len(st.AllowedOrigins) > 0 {
		ancestors += " " + strings.Join(st.AllowedOrigins, " ")
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self' https: http: data:; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors "+ancestors)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(status)
	w.Write(page)
}

func serveCSS(w http.ResponseWriter, r *http.Request) {
	css, _ := files.ReadFile("help.css")
	assets.WriteBrandCSS(w, r, css, defaultColor)
}

// image answers a picture of the store's articles by its SHA-256: the
// same bytes for ever, so cached for a year.
func (c *Centre) image(w http.ResponseWriter, r *http.Request, st *store.Store, sha string) {
	img, err := c.db.HelpImage(r.Context(), st.ID, sha)
	if err != nil {
		c.missing(w, r, st, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", img.ContentType)
	h.Set("Content-Length", strconv.FormatInt(img.Size, 10))
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if r.Method == http.MethodHead {
		return
	}
	if err := c.db.WriteBlob(r.Context(), img.SHA256, w); err != nil {
		c.log.Warn("help centre: write a picture", "sha256", sha, "err", err)
	}
}

type sitemapURL struct {
	Loc     string `xml:"loc"`
	LastMod string `xml:"lastmod,omitempty"`
}

// sitemap lists every published article and each language's home page.
func (c *Centre) sitemap(w http.ResponseWriter, r *http.Request, st *store.Store) {
	hits, err := c.db.PublishedHelpAll(r.Context(), st.ID)
	if err != nil {
		c.fail(w, err)
		return
	}
	origin := strings.TrimSuffix(c.PublicURL, "/")
	if origin == "" {
		scheme := "http"
		if r.Header.Get("X-Forwarded-Proto") == "https" || r.TLS != nil {
			scheme = "https"
		}
		origin = scheme + "://" + r.Host
	}
	base := origin + "/help/" + url.PathEscape(st.Slug) + "/"
	var urls []sitemapURL
	seen := map[string]bool{}
	for _, h := range hits {
		if !seen[h.Lang] {
			seen[h.Lang] = true
			urls = append(urls, sitemapURL{Loc: base + h.Lang + "/"})
		}
		urls = append(urls, sitemapURL{Loc: base + h.Lang + "/a/" + url.PathEscape(h.Slug), LastMod: h.Published.Format("2006-01-02")})
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=600")
	io.WriteString(w, xml.Header)
	enc := xml.NewEncoder(w)
	enc.Encode(struct {
		XMLName xml.Name     `xml:"urlset"`
		NS      string       `xml:"xmlns,attr"`
		URLs    []sitemapURL `xml:"url"`
	}{NS: "http://www.sitemaps.org/schemas/sitemap/0.9", URLs: urls})
}

// Suggestion is an article the JSON search answers with.
type Suggestion struct {
	Title   string `json:"title"`
	URL     string `json:"url"`
	Snippet string `json:"snippet"`
}

// serveAPI answers the JSON endpoints the widget and the forms call,
// from the shop's pages (CORS by the store's allowed origins, as the
// chat does):
//
//	GET  /help/{store}/api/search?q=&lang=&limit=&log=1  articles for a query
//	POST /help/{store}/api/contact  {"visit": "..."}     the visit contacted the store
func (c *Centre) serveAPI(w http.ResponseWriter, r *http.Request, parts []string, ip string) {
	st, err := c.db.StoreBySlug(r.Context(), parts[0])
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			httperr.Write(w, http.StatusNotFound, "no such store", "store")
		} else {
			c.log.Error("help centre: read store", "err", err)
			httperr.Write(w, http.StatusInternalServerError, "something went wrong on the server", "")
		}
		return
	}
	origin := r.Header.Get("Origin")
	if !desk.OriginAllowed(st, origin, r.Host) {
		httperr.Write(w, http.StatusForbidden, "this site may not use the store's help centre", "origin")
		return
	}
	if origin != "" {
		w.Header().Set("Access-Control-Allow-Origin", origin)
		w.Header().Set("Vary", "Origin")
	}
	w.Header().Set("Cache-Control", "no-store")
	if r.Method == http.MethodOptions {
		w.Header().Set("Access-Control-Allow-Methods", "GET, POST")
		w.Header().Set("Access-Control-Allow-Headers", "Content-Type")
		w.Header().Set("Access-Control-Max-Age", "600")
		w.WriteHeader(http.StatusNoContent)
		return
	}
	switch {
	case len(parts) == 3 && parts[2] == "search" && r.Method == http.MethodGet:
		c.apiSearch(w, r, st, ip)
	case len(parts) == 3 && parts[2] == "contact" && r.Method == http.MethodPost:
		c.apiContact(w, r, st, ip)
	default:
		httperr.Write(w, http.StatusNotFound, "no such endpoint: GET api/search or POST api/contact", "")
	}
}

func (c *Centre) apiSearch(w http.ResponseWriter, r *http.Request, st *store.Store, ip string) {
	if !c.searchLimit.Allow(ip) {
		w.Header().Set("Retry-After", "5")
		httperr.Write(w, http.StatusTooManyRequests, "too many searches from your address: wait a few seconds", "")
		return
	}
	qs := r.URL.Query()
	raw := qs.Get("q")
	if len(raw) > maxQuery*4 {
		httperr.Write(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("q is longer than %d characters", maxQuery), "q")
		return
	}
	text := query(raw)
	lang := qs.Get("lang")
	if !languageOK(lang) {
		lang = desk.PickLanguage(st.Language, r.Header.Get("Accept-Language"))
	}
	limit, err := strconv.Atoi(qs.Get("limit"))
	if err != nil || limit < 1 || limit > maxSuggest {
		limit = 5
	}
	out := struct {
		Articles []Suggestion `json:"articles"`
		HelpURL  string       `json:"help_url"`
	}{Articles: []Suggestion{}, HelpURL: "/help/" + st.Slug + "/" + lang + "/"}
	if text != "" {
		hits, err := c.db.SearchHelp(r.Context(), st.ID, lang, text, limit)
		if err != nil {
			c.log.Error("help centre: search", "err", err)
			httperr.Write(w, http.StatusInternalServerError, "something went wrong on the server", "")
			return
		}
		for _, h := range hits {
			out.Articles = append(out.Articles, Suggestion{Title: h.Title, URL: out.HelpURL + "a/" + url.PathEscape(h.Slug), Snippet: snippet(h.Text, 140)})
		}
		// The caller says when the reader finished typing (log=1): a
		// prefix typed on the way is not a search that found nothing.
		if len(hits) == 0 && qs.Get("log") == "1" {
			c.missed(r.Context(), st.ID, lang, text)
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

func (c *Centre) apiContact(w http.ResponseWriter, r *http.Request, st *store.Store, ip string) {
	if !c.visitLimit.Allow(ip) {
		w.Header().Set("Retry-After", "5")
		httperr.Write(w, http.StatusTooManyRequests, "too many requests from your address: wait a few seconds", "")
		return
	}
	var body struct {
		Visit string `json:"visit"`
	}
	// text/plain as well as JSON: a simple request needs no preflight.
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<10)).Decode(&body); err != nil {
		httperr.Write(w, http.StatusBadRequest, "the body must be JSON like {\"visit\": \"...\"}", "")
		return
	}
	if !visitRE.MatchString(body.Visit) {
		httperr.Write(w, http.StatusBadRequest, "visit must be 8 to 40 letters, digits, _ or -", "visit")
		return
	}
	ctx := r.Context()
	if err := c.db.Write(ctx, func(tx *store.Tx) error { return tx.ContactHelpVisit(ctx, st.ID, body.Visit, c.Now()) }); err != nil {
		c.log.Error("help centre: record a contact", "err", err)
		httperr.Write(w, http.StatusInternalServerError, "something went wrong on the server", "")
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
