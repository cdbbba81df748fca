package desk

import (
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"onedesk/store"
)

// Mentions finds the agents an internal note names with "@", in the
// order of their ids. After the "@" comes, in any case:
//
//   - an agent's full name ("@Ana Silva", "@Zoë Kovář", "@Ирина Петрова");
//   - the part of their email address before the "@" ("@ana.silva");
//   - their first name ("@Ana"), when no other active agent has it.
//
// The longest name that fits wins, and it must end where a word ends:
// "@Anabel" does not name Ana. An "@" inside a word ("ana@shop.test")
// names no one. A name that several agents share names them all.
// Deactivated agents are not named.
func Mentions(body string, agents []*store.Agent) []int64 {
	if !strings.Contains(body, "@") {
		return nil
	}
	names := mentionNames(agents)
	text := foldRunes(body)
	var ids []int64
	for i, r := range text {
		if r != '@' || (i > 0 && wordRune(text[i-1])) {
			continue
		}
		rest := text[i+1:]
		for _, n := range names { // longest first
			if len(n.runes) <= len(rest) && slices.Equal(rest[:len(n.runes)], n.runes) &&
				(len(rest) == len(n.runes) || !wordRune(rest[len(n.runes)])) {
				ids = append(ids, n.ids...)
				break
			}
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

type mentionName struct {
	runes []rune
	ids   []int64
}

// mentionNames lists what each active agent may be called after "@",
// folded, longest first. A full name beats an email's local part, which
// beats a first name; a first name two agents share names neither.
func mentionNames(agents []*store.Agent) []mentionName {
	full, local, first := map[string][]int64{}, map[string][]int64{}, map[string][]int64{}
	for _, a := range agents {
		if !a.Active {
			continue
		}
		name := string(foldRunes(cleanLine(a.Name)))
		if name != "" {
			full[name] = append(full[name], a.ID)
			if f, _, ok := strings.Cut(name, " "); ok {
				first[f] = append(first[f], a.ID)
			}
		}
		if l, _, ok := strings.Cut(a.Email, "@"); ok && l != "" {
			l = string(foldRunes(l))
			local[l] = append(local[l], a.ID)
		}
	}
	var out []mentionName
	for k, ids := range full {
		out = append(out, mentionName{[]rune(k), ids})
	}
	for k, ids := range local {
		if _, ok := full[k]; !ok {
			out = append(out, mentionName{[]rune(k), ids})
		}
	}
	for k, ids := range first {
		_, isFull := full[k]
		_, isLocal := local[k]
		if len(ids) == 1 && !isFull && !isLocal {
			out = append(out, mentionName{[]rune(k), ids})
		}
	}
	slices.SortFunc(out, func(a, b mentionName) int {
		if d := len(b.runes) - len(a.runes); d != 0 {
			return d
		}
		return slices.Compare(a.runes, b.runes)
	})
	return out
}

// foldRunes is s composed (NFC: "Zoë" typed either way is one text),
// each letter replaced by the smallest of its case forms and each space
// by a plain one, so that equal runes mean the same name.
func foldRunes(s string) []rune {
	rs := []rune(norm.NFC.String(s))
	for i, r := range rs {
		if unicode.IsSpace(r) {
			if r != '\n' && r != '\r' {
				rs[i] = ' '
			}
			continue
		}
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		rs[i] = least
	}
	return rs
}

// wordRune is a rune that continues a word (or a name) rather than
// ending it.
func wordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || r == '_' || r == '-'
}
