// Package portal is the customer portal of each store, at /portal/{store}:
// a customer signs in with a link sent to their email (no password) and
// sees every ticket they have on every channel, with its thread, and
// answers or adds files; a chat begun on one device continues on another
// from a link sent by email; and "Where is my order?" answers from the
// store's order lookup without an agent (also in the chat widget, whose
// part of it is assets/widget/portal.js, loaded only when used).
//
// Pages are rendered on the server and work without JavaScript. A
// customer's reply lands on the ticket through desk.Ingest on the ticket's
// own channel (so the agent's answer goes back the way the conversation
// runs: by email, in the chat, on Telegram...), naming the ticket; the
// portal is a window on the customer's tickets, not a channel of its own.
// A ticket the portal opens (order help) is a form ticket, answered by
// email; one the widget opens is the visitor's chat.
package portal

import (
	"context"
	"crypto/subtle"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"onedesk/channels"
	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/limit"
	"onedesk/store"
)

// Limits and lifetimes.
const (
	LinkTTL     = 30 * time.Minute   // a sign-in or continue link works once, this long
	SessionTTL  = 7 * 24 * time.Hour // a portal session
	MaxFiles    = 5                  // files on one reply
	MaxFileMB   = 10                 // each
	maxBody     = MaxFiles*MaxFileMB<<20 + 1<<20
	maxForm     = 64 << 10 // a form without files, a JSON body
	maxTickets  = 200      // tickets listed
	cookieName  = "onedesk_portal"
	pollSeconds = 15 // the ticket page asks for new messages (with JavaScript)
)

// Options are what the portal needs from the executable.
type Options struct {
	// PublicURL is where links in mails point (--public-url); without it
	// only a desk reached on a loopback address can mail links.
	PublicURL string
}

// Portal answers /portal/.
type Portal struct {
	desk *desk.Desk
	db   *store.DB
	log  *slog.Logger
	opts Options
	mux  *http.ServeMux

	pageLimit   *limit.Limiter // every request, by address
	mailByIP    *limit.Limiter // sign-in and continue links asked for, by address
	mailByEmail *limit.Limiter // ... and by address asked for
	orderByIP   *limit.Limiter // order lookups by address
	orderByNum  *limit.Limiter // ... and by order number
	replyLimit  *limit.Limiter // replies and order help, by address
	openByIP    *limit.Limiter // continue links opened in a widget, by address
}

// New makes the portal of the desk's stores.
func New(d *desk.Desk, log *slog.Logger, opts Options) *Portal {
	p := &Portal{desk: d, db: d.DB(), log: log, opts: opts,
		pageLimit:   d.NewLimiter("portal page", 3, 120),
		mailByIP:    d.NewLimiter("portal mail ip", 10.0/3600, 10),
		mailByEmail: d.NewLimiter("portal mail email", 3.0/3600, 3),
		orderByIP:   d.NewLimiter("portal order ip", 60.0/3600, 30),
		orderByNum:  d.NewLimiter("portal order number", 10.0/3600, 10),
		replyLimit:  d.NewLimiter("portal reply", 30.0/3600, 20),
		openByIP:    d.NewLimiter("portal continue open", 30.0/3600, 10),
	}
	m := http.NewServeMux()
	m.HandleFunc("GET /portal/{store}", p.page(p.home))
	m.HandleFunc("POST /portal/{store}/signin", p.page(p.askLink))
	m.HandleFunc("GET /portal/{store}/link", p.page(p.showLink))
	m.HandleFunc("POST /portal/{store}/link", p.page(p.useLink))
	m.HandleFunc("POST /portal/{store}/signout", p.page(p.signOut))
	m.HandleFunc("GET /portal/{store}/tickets/{id}", p.page(p.ticket))
	m.HandleFunc("POST /portal/{store}/tickets/{id}", p.page(p.reply))
	m.HandleFunc("GET /portal/{store}/files/{id}", p.page(p.file))
	m.HandleFunc("GET /portal/{store}/order", p.page(p.orderForm))
	m.HandleFunc("POST /portal/{store}/order", p.page(p.orderLookup))
	m.HandleFunc("POST /portal/{store}/order/help", p.page(p.orderHelp))
	m.HandleFunc("GET /portal/{store}/api/strings", p.api(p.apiStrings))
	m.HandleFunc("POST /portal/{store}/api/order", p.api(p.apiOrder))
	m.HandleFunc("POST /portal/{store}/api/order/help", p.api(p.apiOrderHelp))
	m.HandleFunc("POST /portal/{store}/api/continue", p.api(p.apiContinue))
	m.HandleFunc("POST /portal/{store}/api/continue/open", p.api(p.apiContinueOpen))
	m.HandleFunc("OPTIONS /portal/{store}/api/", p.api(nil))
	p.mux = m
	return p
}

// Routes is what ui mounts.
func (p *Portal) Routes() []channels.Route {
	return []channels.Route{{Pattern: "/portal/", Handler: p}}
}

// ServeHTTP answers /portal/.
func (p *Portal) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !p.pageLimit.Allow(clientIP(r)) {
		http.Error(w, "too many requests", http.StatusTooManyRequests)
		return
	}
	p.mux.ServeHTTP(w, r)
}

// Run forgets idle keys of the rate limits each minute, until ctx ends.
func (p *Portal) Run(ctx context.Context) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, l := range []*limit.Limiter{p.pageLimit, p.mailByIP, p.mailByEmail, p.orderByIP, p.orderByNum, p.replyLimit, p.openByIP} {
				l.Sweep(2 * time.Hour)
			}
		}
	}
}

// req is one request to a store's portal: the store, the reader's
// language and, when signed in, their session and customer.
type req struct {
	w        http.ResponseWriter
	r        *http.Request
	st       *store.Store
	lang     string
	T        map[string]string
	session  *store.PortalSession
	token    string // the session cookie's value
	customer int64  // 0: none (signed out, or the address has no customer)
}

func clientIP(r *http.Request) string {
	ip, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return ip
}

// begin reads the store and the language of a request; false when it has
// answered already (no such store).
func (p *Portal) begin(w http.ResponseWriter, r *http.Request) (*req, bool) {
	x := &req{w: w, r: r}
	st, err := p.db.StoreBySlug(r.Context(), r.PathValue("store"))
	x.lang = desk.PickLanguage("", languages(r))
	if err != nil {
		x.T = catalog(x.lang)
		if !errors.Is(err, store.ErrNotFound) {
			p.log.Error("portal: read store", "slug", r.PathValue("store"), "err", err)
		}
		p.fail(x, http.StatusNotFound, "err_not_found")
		return nil, false
	}
	x.st = st
	x.lang = desk.PickLanguage(st.Language, languages(r))
	x.T = catalog(x.lang)
	if l := r.URL.Query().Get("lang"); l != "" && l == x.lang {
		// A language picked in the footer stays picked.
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: l, Path: "/portal/" + st.Slug, MaxAge: 365 * 24 * 3600,
			HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: p.secure(r)})
	}
	return x, true
}

const langCookie = "onedesk_portal_lang"

// languages are the reader's languages, most wanted first: one picked
// on the page (now, or before), then the browser's.
func languages(r *http.Request) string {
	list := r.URL.Query().Get("lang")
	if c, err := r.Cookie(langCookie); err == nil {
		list += "," + c.Value
	}
	return list + "," + r.Header.Get("Accept-Language")
}

// readerLanguage is the language the reader asked for (picked on the
// page, or their browser's), for their customer record; "" when they
// asked for none onedesk speaks (the page is then in the store's).
func readerLanguage(r *http.Request) string { return i18n.Negotiate(languages(r)) }

// signedIn reads the session cookie: a live session of this store.
func (p *Portal) signedIn(x *req) error {
	c, err := x.r.Cookie(cookieName)
	if err != nil || c.Value == "" {
		return nil
	}
	s, err := p.db.PortalSession(x.r.Context(), desk.HashToken(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if s.StoreID != x.st.ID {
		return nil
	}
	x.session, x.token = s, c.Value
	id, err := p.db.CustomerByIdentity(x.r.Context(), store.Identity{Kind: "email", Value: s.Email})
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	x.customer = id
	return nil
}

// sameOrigin refuses a form posted from another site (a browser says
// where a POST comes from; a request without Origin is no browser's).
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" || o == "null" {
		return r.Header.Get("Sec-Fetch-Site") == "" || r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	u, err := url.Parse(o)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// csrfOK checks a signed-in form's token.
func csrfOK(x *req) bool {
	return x.session != nil && subtle.ConstantTimeCompare([]byte(x.r.PostFormValue("csrf")), []byte(x.session.CSRF)) == 1
}

// page wraps a page handler: the store, the language, the session.
func (p *Portal) page(h func(*req) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
				r.Body = http.MaxBytesReader(w, r.Body, maxForm)
			} else {
				r.Body = http.MaxBytesReader(w, r.Body, maxBody)
			}
		}
		x, ok := p.begin(w, r)
		if !ok {
			return
		}
		if r.Method == http.MethodPost && !sameOrigin(r) {
			p.fail(x, http.StatusForbidden, "err_csrf")
			return
		}
		if err := p.signedIn(x); err != nil {
			p.log.Error("portal: read session", "err", err)
			p.fail(x, http.StatusInternalServerError, "err_generic")
			return
		}
		if err := h(x); err != nil {
			p.log.Error("portal: page", "path", r.URL.Path, "err", err)
			p.fail(x, http.StatusInternalServerError, "err_generic")
		}
	}
}

// linkBase is where a link in a mail points: the public URL, or (on a
// desk without one) this request's address when it is a loopback one;
// never another host a request names.
func (p *Portal) linkBase(r *http.Request) string {
	if p.opts.PublicURL != "" {
		return strings.TrimRight(p.opts.PublicURL, "/")
	}
	name := r.Host
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		name = h
	}
	ip := net.ParseIP(strings.Trim(name, "[]"))
	if name == "localhost" || ip != nil && ip.IsLoopback() {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		return scheme + "://" + r.Host
	}
	return ""
}

// secure tells whether cookies are Secure: the desk is reached by HTTPS.
func (p *Portal) secure(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(p.opts.PublicURL, "https://")
}
