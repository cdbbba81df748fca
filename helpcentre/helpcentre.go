// Package helpcentre is a store's help centre: articles in categories,
// per language, written in Markdown by agents (drafts and published
// versions, pictures kept in the database) and served to customers at
// /help/{store} as plain server-rendered pages (no JavaScript), with
// search in the reader's language, a sitemap, "Was this helpful?" votes,
// a JSON search for the chat widget and the contact forms, and the count
// of searches that found nothing and of questions the suggestions
// answered (deflection).
//
// Deflection, as counted here: a visit is one opening of the chat widget
// or one load of a hosted form page, with an id its browser makes. When a
// visitor opens an article the widget or the form suggested, the visit is
// recorded (first opening only); when that visit then sends a chat
// message or the form, it is marked contacted. A visit that opened a
// suggested article and was not marked contacted is deflected. (A visitor
// who comes back later in another visit is not tied to the first.)
//
// Like rules, SLA and reports, it sits beside desk: it reads and writes
// its own tables through store and uses the desk only for its rate
// limits, languages and the stores' allowed origins.
package helpcentre

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"

	"onedesk/channels"
	"onedesk/desk"
	"onedesk/limit"
	"onedesk/store"
)

// Limits of what readers send.
const (
	maxQuery     = 200 // runes of a search
	maxSuggest   = 10  // articles in one JSON answer
	maxImageSize = 5 << 20
	pageSize     = 30 // articles on a category or search page
	homePerCat   = 6  // articles under each category on the home page
)

// Centre is the help centre of every store.
type Centre struct {
	desk *desk.Desk
	db   *store.DB
	log  *slog.Logger

	pageLimit   *limit.Limiter // pages, by address
	searchLimit *limit.Limiter // JSON searches, by address
	voteLimit   *limit.Limiter // "Was this helpful?" answers, by address
	visitLimit  *limit.Limiter // deflection pings, by address

	// PublicURL, when set, is the desk's address for the sitemap's links
	// (else the request's own host).
	PublicURL string
	// Now is the clock.
	Now func() time.Time

	writing chan struct{} // searches that found nothing being recorded (missed)
	cache   publishedCache
}

// New makes the help centre.
func New(d *desk.Desk, log *slog.Logger) *Centre {
	return &Centre{desk: d, db: d.DB(), log: log,
		pageLimit:   d.NewLimiter("help page", 20, 200),
		searchLimit: d.NewLimiter("help search", 5, 40),
		voteLimit:   d.NewLimiter("help vote", 0.2, 6),
		visitLimit:  d.NewLimiter("help visit", 1, 20),
		Now:         time.Now, writing: make(chan struct{}, 32)}
}

// Routes are the public pages and the JSON search.
func (c *Centre) Routes() []channels.Route {
	return []channels.Route{{Pattern: "/help/", Handler: c}}
}

// Run fills the search index with published articles it lacks (after a
// copy of the desk to the other engine), then each minute forgets idle
// addresses of the rate limits and, when articles changed, merges the
// search index (store.OptimizeHelpSearch), until ctx ends.
func (c *Centre) Run(ctx context.Context) {
	if n, err := c.db.IndexHelp(ctx); err != nil {
		c.log.Warn("help centre: index", "err", err)
	} else if n > 0 {
		c.log.Info("help centre: articles indexed", "count", n)
	}
	optimized := int64(-1)
	optimize := func() {
		n, err := c.db.HelpChanges(ctx)
		if err == nil && n != optimized {
			if err = c.db.OptimizeHelpSearch(ctx); err == nil {
				optimized = n
			}
		}
		if err != nil && ctx.Err() == nil {
			c.log.Warn("help centre: optimize the search index", "err", err)
		}
	}
	optimize()
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			for _, l := range []*limit.Limiter{c.pageLimit, c.searchLimit, c.voteLimit, c.visitLimit} {
				l.Sweep(30 * time.Minute)
			}
			optimize()
		}
	}
}

// slugRE is a slug of a category or article: letters (of any script)
// and digits in words joined by hyphens.
var slugRE = regexp.MustCompile(`^[\p{Ll}\p{Lo}\p{N}]+(-[\p{Ll}\p{Lo}\p{N}]+)*$`)

// Slugify makes a slug of a title: its words, lower case, joined by
// hyphens, at most 80 runes.
func Slugify(title string) string {
	words := strings.FieldsFunc(strings.ToLower(title), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	var b strings.Builder
	for _, w := range words {
		if b.Len() > 0 {
			if len([]rune(b.String()))+1+len([]rune(w)) > 80 {
				break
			}
			b.WriteByte('-')
		}
		b.WriteString(w)
	}
	if s := b.String(); slugRE.MatchString(s) {
		return s
	}
	return ""
}

// languageOK tells whether lang is one the desk speaks.
func languageOK(lang string) bool { return slices.Contains(desk.Languages, lang) }

// visitRE is a visit id as the widget and the forms make it.
var visitRE = regexp.MustCompile(`^[A-Za-z0-9_-]{8,40}$`)

// clientIP is the request's address (ui's forwarded handler has already
// put a trusted proxy's X-Forwarded-For there).
func clientIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}
