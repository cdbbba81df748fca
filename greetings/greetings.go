// Package greetings is proactive chat: a store's rules for greeting a
// visitor in the chat widget (by page, time on page and whether they came
// before), checked and saved here, handed to the widget in its language,
// and what the widgets count of them (shown, opened, chats started).
//
// A rule's page pattern is matched by the widget against the page's path
// and query (location.pathname + location.search), never its host:
//
//   - "" matches every page;
//   - "*" stands for any run of characters, "/" included; nothing else is
//     special (no regular expressions: a pattern cannot be slow);
//   - a pattern without "*" matches as a prefix: "/products" matches
//     "/products", "/products/shoe-42" and "/products?page=2";
//   - a pattern with "*" must match the whole of it: "/products/*/size"
//     matches "/products/shoe-42/size" but not "/products/shoe-42/size/eu",
//     which "/products/*/size*" matches.
//
// Match is the same test in Go, for the tests and the server's own use;
// assets/widget/greet.js is the widget's.
package greetings

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"onedesk/desk"
	"onedesk/store"
)

// Limits on a store's greetings.
const (
	MaxGreetings = 20   // per store
	MaxPattern   = 300  // characters of a page pattern
	MaxMessage   = 500  // characters of a message
	MaxName      = 100  // characters of a name
	MaxDelay     = 3600 // seconds on the page before a greeting shows
)

// Audiences a greeting is for.
var Audiences = []string{"any", "new", "returning"}

// Check tells what is wrong with a store's greetings, first problem
// first, as bad input naming the field (greetings.N.field, N from 0).
func Check(list []store.Greeting) error {
	if len(list) > MaxGreetings {
		return desk.InputErrorf("greetings", "a store may have at most %d greetings", MaxGreetings)
	}
	for i := range list {
		g := &list[i]
		field := func(name string) string { return "greetings." + strconv.Itoa(i) + "." + name }
		g.Name = strings.TrimSpace(g.Name)
		g.URLPattern = strings.TrimSpace(g.URLPattern)
		if g.Audience == "" {
			g.Audience = "any"
		}
		switch {
		case utf8.RuneCountInString(g.Name) > MaxName:
			return desk.InputErrorf(field("name"), "a greeting's name may have at most %d characters", MaxName)
		case utf8.RuneCountInString(g.URLPattern) > MaxPattern:
			return desk.InputErrorf(field("url_pattern"), "a page pattern may have at most %d characters", MaxPattern)
		case g.URLPattern != "" && g.URLPattern[0] != '/' && g.URLPattern[0] != '*':
			return desk.InputErrorf(field("url_pattern"), "a page pattern starts with / (the page's path, like /products/*) or *")
		case strings.ContainsFunc(g.URLPattern, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }):
			return desk.InputErrorf(field("url_pattern"), "a page pattern has no spaces")
		case g.DelaySeconds < 0 || g.DelaySeconds > MaxDelay:
			return desk.InputErrorf(field("delay_seconds"), "the time on the page is from 0 to %d seconds", MaxDelay)
		case !slices.Contains(Audiences, g.Audience):
			return desk.InputErrorf(field("audience"), "the visitors are any, new or returning")
		}
		messages := map[string]string{}
		for lang, text := range g.Messages {
			text = strings.TrimSpace(text)
			if text == "" {
				continue
			}
			if !slices.Contains(desk.Languages, lang) {
				return desk.InputErrorf(field("messages"), "%q is not one of the widget's languages", lang)
			}
			if utf8.RuneCountInString(text) > MaxMessage {
				return desk.InputErrorf(field("messages."+lang), "a greeting may have at most %d characters", MaxMessage)
			}
			messages[lang] = text
		}
		if len(messages) == 0 {
			return desk.InputErrorf(field("messages.en"), "write the greeting in at least one language")
		}
		g.Messages = messages
	}
	return nil
}

// Save checks a store's greetings and makes them the store's, in order
// (ids of the store's greetings keep their counts), and returns them as
// saved.
func Save(ctx context.Context, db *store.DB, storeID int64, list []store.Greeting) ([]store.Greeting, error) {
	if err := Check(list); err != nil {
		return nil, err
	}
	err := db.Write(ctx, func(tx *store.Tx) error {
		if ok, err := tx.Exists(ctx, "stores", storeID); err != nil {
			return err
		} else if !ok {
			return &store.NotFoundError{Thing: "store", ID: storeID}
		}
		return tx.SaveGreetings(ctx, storeID, list)
	})
	if err != nil {
		return nil, err
	}
	return db.Greetings(ctx, storeID)
}

// Widget is a greeting as the widget gets it: in one language.
type Widget struct {
	ID       int64  `json:"id"`
	Pattern  string `json:"match"`
	Delay    int    `json:"delay"` // seconds
	Audience string `json:"audience"`
	Text     string `json:"text"`
}

// ForWidget is a store's active greetings in the visitor's widget
// language, else the store's, else English, else any it has.
func ForWidget(list []store.Greeting, lang, storeLang string) []Widget {
	var out []Widget
	for _, g := range list {
		if !g.Active {
			continue
		}
		text := g.Messages[lang]
		for _, l := range []string{storeLang, "en"} {
			if text == "" {
				text = g.Messages[l]
			}
		}
		if text == "" {
			for _, l := range desk.Languages {
				if text = g.Messages[l]; text != "" {
					break
				}
			}
		}
		if text == "" {
			continue
		}
		out = append(out, Widget{ID: g.ID, Pattern: g.URLPattern, Delay: g.DelaySeconds, Audience: g.Audience, Text: text})
	}
	return out
}

// Count adds one event a widget reported (store.GreetingShown, ...) to a
// greeting's counts for today in the store's time zone (reports count a
// store's days); false when the store has no such greeting.
func Count(ctx context.Context, db *store.DB, st *store.Store, greetingID int64, event string) (bool, error) {
	loc, err := time.LoadLocation(st.Timezone) // "" is UTC
	if err != nil {
		loc = time.UTC // the store's settings take only zones that load
	}
	var ok bool
	err = db.Write(ctx, func(tx *store.Tx) error {
		var err error
		ok, err = tx.CountGreeting(ctx, st.ID, greetingID, event, time.Now(), loc)
		return err
	})
	return ok, err
}

// Match tells whether a page (path and query) matches a pattern, as the
// package comment says. '*' is matched greedily with one point to go back
// to, so the work is at most len(pattern)×len(page), never exponential.
func Match(pattern, page string) bool {
	if !strings.Contains(pattern, "*") {
		return strings.HasPrefix(page, pattern)
	}
	p, s := 0, 0
	star, mark := -1, 0
	for s < len(page) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, s
			p++
		case p < len(pattern) && pattern[p] == page[s]:
			p++
			s++
		case star >= 0:
			p = star + 1
			mark++
			s = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}
