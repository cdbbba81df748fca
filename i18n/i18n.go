// Package i18n says things in the reader's language. It reads the same
// JSON catalogs, by the same rules, as the agent app's i18n.js t(): a key
// looked up in the language's catalog, falling back to English key by key
// (and to the key itself), {name} placeholders, and plural forms written as
// objects keyed by CLDR categories ({"one": ..., "few": ..., "other": ...}).
//
// Sentences the server writes (errors, delivery failures) use the English
// printf format as their key, gettext style, so a call site stays
// inputErr("subject", "subject is longer than %d characters", max) and a new
// sentence needs no key name: its translations go into assets/server/<lang>.json.
// Those files sit beside the widget's and the forms' catalogs rather than
// in the app's: the browser never downloads them (the server translates),
// and their keys are sentences, not names. English needs no entry unless a
// sentence has plural forms.
//
// To add a sentence: write it where it is said (inputErr, fieldErr, apiErr,
// desk.InputErrorf, i18n.S, i18n.Errorf), run go test ./i18n, and add what
// TestServerSentencesTranslated says each language lacks. A remote server's
// own words go in as arguments (%s, %v, %w), never as part of the format.
// Sentences kept in the database are stored as Sentence.Encode's JSON beside
// the English text and said later with Restore in the reader's language.
package i18n

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"

	"golang.org/x/text/feature/plural"
	"golang.org/x/text/language"
)

// Languages are the languages onedesk speaks, English first.
var Languages = []string{"en", "pt", "tr", "cs", "ru"}

var tags = []language.Tag{language.English, language.Portuguese, language.Turkish, language.Czech, language.Russian}

var matcher = language.NewMatcher(tags)

// Supported reports whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Negotiate picks the language of an Accept-Language header ("" when the
// header names none onedesk speaks).
func Negotiate(acceptLanguage string) string {
	if acceptLanguage == "" {
		return ""
	}
	wanted, _, err := language.ParseAcceptLanguage(acceptLanguage)
	if err != nil || len(wanted) == 0 {
		return ""
	}
	_, i, conf := matcher.Match(wanted...)
	if conf == language.No {
		return ""
	}
	return Languages[i]
}

// entry is one catalog value: a text, or plural forms by CLDR category.
type entry struct {
	text  string
	forms map[string]string
}

func (e *entry) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, &e.forms)
	}
	return json.Unmarshal(b, &e.text)
}

// Catalog is one language's texts.
type Catalog struct {
	lang    string
	tag     language.Tag
	entries map[string]entry
}

// Parse reads a catalog file: an object of key → text or plural forms.
func Parse(lang string, data []byte) (*Catalog, error) {
	c := &Catalog{lang: lang, tag: language.Make(lang), entries: map[string]entry{}}
	if err := json.Unmarshal(data, &c.entries); err != nil {
		return nil, fmt.Errorf("catalog %s: %w", lang, err)
	}
	return c, nil
}

// Has reports whether the catalog holds key.
func (c *Catalog) Has(key string) bool {
	_, ok := c.entries[key]
	return ok
}

// Keys are the catalog's keys.
func (c *Catalog) Keys() []string {
	out := make([]string, 0, len(c.entries))
	for k := range c.entries {
		out = append(out, k)
	}
	return out
}

// Forms is key's text, or its plural forms joined by " | " (for checks).
func (c *Catalog) Forms(key string) []string {
	e, ok := c.entries[key]
	if !ok {
		return nil
	}
	if e.forms == nil {
		return []string{e.text}
	}
	out := make([]string, 0, len(e.forms))
	for _, f := range e.forms {
		out = append(out, f)
	}
	return out
}

// Set is a catalog per language, English the fallback.
type Set struct {
	byLang map[string]*Catalog
}

// NewSet gathers catalogs; the one for "en" is the fallback.
func NewSet(catalogs ...*Catalog) *Set {
	s := &Set{byLang: map[string]*Catalog{}}
	for _, c := range catalogs {
		s.byLang[c.lang] = c
	}
	return s
}

// Catalog is lang's catalog (nil when the set has none).
func (s *Set) Catalog(lang string) *Catalog { return s.byLang[lang] }

// lookup finds key in lang, then in English; ok is false when neither has it.
func (s *Set) lookup(lang, key string) (entry, language.Tag, bool) {
	for _, l := range []string{lang, "en"} {
		if c := s.byLang[l]; c != nil {
			if e, ok := c.entries[key]; ok {
				return e, c.tag, true
			}
		}
	}
	return entry{}, language.English, false
}

// choose is the text of e for the count n in the language tag.
func choose(e entry, tag language.Tag, n any) string {
	if e.forms == nil {
		return e.text
	}
	if s, ok := e.forms[Category(tag, n)]; ok {
		return s
	}
	return e.forms["other"]
}

// Category is the CLDR plural category ("one", "few", "many", "other"...)
// of the number n in the language tag, as Intl.PluralRules gives it.
func Category(tag language.Tag, n any) string {
	i, frac, digits := 0, 0, 0
	switch v := n.(type) {
	case int:
		i = v
	case int32:
		i = int(v)
	case int64:
		i = int(v)
	case uint:
		i = int(v)
	case uint64:
		i = int(v)
	case float64:
		i = int(v)
		if s := strings.TrimRight(fmt.Sprintf("%.6f", v-float64(i)), "0"); len(s) > 2 {
			digits = len(s) - 2
			fmt.Sscanf(s[2:], "%d", &frac)
		}
	}
	if i < 0 {
		i = -i
	}
	form := plural.Cardinal.MatchPlural(tag, i, digits, digits, frac, frac)
	return formNames[form]
}

var formNames = map[plural.Form]string{
	plural.Other: "other", plural.Zero: "zero", plural.One: "one",
	plural.Two: "two", plural.Few: "few", plural.Many: "many",
}

var placeholder = regexp.MustCompile(`\{(\w+)\}`)

// T is key in lang with {name} placeholders filled from vars, the rules of
// the app's t(): plural forms are chosen by vars["n"]; a missing key is
// shown as the key itself.
func (s *Set) T(lang, key string, vars map[string]any) string {
	e, tag, ok := s.lookup(lang, key)
	if !ok {
		e = entry{text: key}
	}
	text := choose(e, tag, vars["n"])
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := vars[m[1:len(m)-1]]; ok {
			return fmt.Sprint(v)
		}
		return m
	})
}

// Sprintf says the English printf format in lang and fills in args. The
// format is the key (a language without it says the English); plural forms
// are chosen by the first whole-number argument.
func (s *Set) Sprintf(lang, format string, args ...any) string {
	if e, tag, ok := s.lookup(lang, format); ok {
		format = choose(e, tag, firstCount(args))
	}
	return render(format, args)
}

func firstCount(args []any) any {
	for _, a := range args {
		switch a.(type) {
		case int, int32, int64, uint, uint64:
			return a
		case float64:
			return a
		}
	}
	return 0
}

// render is fmt.Sprintf that also takes %w (as fmt.Errorf does).
func render(format string, args []any) string {
	if len(args) == 0 {
		return format // a sentence with no arguments is said as written
	}
	// %w prints as %v does; after a trip through the database its
	// argument is the error's text, which %w would refuse.
	return fmt.Sprintf(strings.ReplaceAll(format, "%w", "%v"), args...)
}

// verb is one printf verb, with its optional explicit argument index.
var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// Verbs lists the printf verbs of format, sorted by the argument they take
// and without %% (a translation may reorder them with %[2]s).
func Verbs(format string) []string {
	var out []string
	next := 1
	byArg := map[int]string{}
	for _, m := range verb.FindAllStringSubmatch(format, -1) {
		v := m[0]
		if strings.HasSuffix(v, "%") {
			continue
		}
		arg := next
		if m[1] != "" {
			fmt.Sscanf(m[1], "[%d]", &arg)
		}
		kind := v[len(v)-1:]
		if kind == "w" || kind == "v" {
			kind = "v" // %w and %v print the same
		}
		byArg[arg] = kind
		next = arg + 1
	}
	args := make([]int, 0, len(byArg))
	for i := range byArg {
		args = append(args, i)
	}
	sort.Ints(args)
	for _, i := range args {
		out = append(out, fmt.Sprintf("%d:%s", i, byArg[i]))
	}
	return out
}
