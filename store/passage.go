package store

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// MatchPart is a piece of a matching passage: plain text, or a word the
// search matched (to highlight). Parts, not markup: the text is the
// customer's and the page builds its own elements from it.
type MatchPart struct {
	Text string `json:"text"`
	Hit  bool   `json:"hit,omitempty"`
}

// matchTerm is a searched word folded as the index folds it.
type matchTerm struct {
	word   string
	prefix bool
}

// matchTerms are the words of q as the passage is searched for them:
// an address or a number in parts, the last word a prefix.
func matchTerms(q string) []matchTerm {
	var terms []matchTerm
	for _, w := range searchWords(q) {
		for _, part := range strings.FieldsFunc(w, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) }) {
			terms = append(terms, matchTerm{word: foldWord(part)})
		}
	}
	if len(terms) > 0 {
		terms[len(terms)-1].prefix = true
	}
	return terms
}

// foldWord lowercases w and takes the accents off its letters, as
// unicode61 with remove_diacritics 2 (and migration 0023) does.
func foldWord(w string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(searchFold.Replace(w)) {
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}

// passageRunes is about how long a passage is: a line of the list.
const passageRunes = 160

// Passage is the part of text around the first word matching terms,
// with the matching words in it marked; nil when none matches.
func Passage(text string, terms []matchTerm) []MatchPart {
	type word struct{ start, end int }
	var words []word
	first := -1
	eachWord(text, func(start, end int) bool {
		if first >= 0 && start-words[first].start > passageRunes*utf8.UTFMax {
			return false // past the passage: the rest of a long body is not read
		}
		words = append(words, word{start, end})
		if first < 0 && wordMatches(text[start:end], terms) {
			first = len(words) - 1
		}
		return true
	})
	if first < 0 {
		return nil
	}
	// A few words of context before the first hit, then up to a line.
	from := max(first-6, 0)
	begin := words[from].start
	end := len(text)
	if cut := runeOffset(text[begin:], passageRunes); cut >= 0 {
		end = begin + cut
		for _, w := range words[from:] { // do not cut a word in two
			if w.start < end && w.end > end {
				end = w.start
			}
		}
	}
	var parts []MatchPart
	plain := func(s string) {
		s = squashSpace(s)
		if s == "" {
			return
		}
		if n := len(parts); n > 0 && !parts[n-1].Hit {
			parts[n-1].Text += s
			return
		}
		parts = append(parts, MatchPart{Text: s})
	}
	if from > 0 {
		plain("… ")
	}
	at := begin
	for _, w := range words[from:] {
		if w.end > end {
			break
		}
		if wordMatches(text[w.start:w.end], terms) {
			plain(text[at:w.start])
			parts = append(parts, MatchPart{Text: text[w.start:w.end], Hit: true})
			at = w.end
		}
	}
	tail := text[at:end]
	if end < len(text) {
		tail = strings.TrimRightFunc(tail, unicode.IsSpace) + " …"
	}
	plain(tail)
	return parts
}

// squashSpace turns each run of white space (a line break) into a space.
func squashSpace(s string) string {
	// Most runs between hits need nothing done: no copy then.
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || c != ' ' && unicode.IsSpace(rune(c)) || c == ' ' && space {
			return squashSpaces(s)
		}
		space = c == ' '
	}
	return s
}

func squashSpaces(s string) string {
	var b strings.Builder
	space := false
	for _, r := range s {
		if unicode.IsSpace(r) {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// hasMatchingWord is whether text has a word matching terms.
func hasMatchingWord(text string, terms []matchTerm) bool {
	found := false
	eachWord(text, func(start, end int) bool {
		found = wordMatches(text[start:end], terms)
		return !found
	})
	return found
}

// eachWord calls fn with the bounds of each word of text, while fn
// returns true.
func eachWord(text string, fn func(start, end int) bool) {
	isWord := func(r rune) bool {
		if r < utf8.RuneSelf { // most text: no table to look up
			return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9'
		}
		return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mn, r)
	}
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isWord(r) {
			i += n
			continue
		}
		start := i
		for i < len(text) {
			r, n := utf8.DecodeRuneInString(text[i:])
			if !isWord(r) {
				break
			}
			i += n
		}
		if !fn(start, i) {
			return
		}
	}
}

func wordMatches(w string, terms []matchTerm) bool {
	if ascii(w) { // most words: no accents to take off
		for _, t := range terms {
			if len(w) == len(t.word) && strings.EqualFold(w, t.word) ||
				t.prefix && len(w) > len(t.word) && strings.EqualFold(w[:len(t.word)], t.word) {
				return true
			}
		}
		return false
	}
	f := foldWord(w)
	for _, t := range terms {
		if f == t.word || t.prefix && strings.HasPrefix(f, t.word) {
			return true
		}
	}
	return false
}

// runeOffset is the byte offset of the n-th rune of s, -1 if s is shorter.
func runeOffset(s string, n int) int {
	for i := range s {
		if n == 0 {
			return i
		}
		n--
	}
	return -1
}

func ascii(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
