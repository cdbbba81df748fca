package email

import (
	"strings"

	"github.com/abadojack/whatlanggo"

	"onedesk/i18n"
)

// candidates are the languages a mail is told among: onedesk's and the
// ones next to them a customer may write in (among all 84 whatlanggo
// knows, short Czech reads as Croatian and Russian as Bulgarian; among
// these it reads right). A mail in one of the others is in no language of
// ours.
var candidates = func() map[whatlanggo.Lang]bool {
	m := map[whatlanggo.Lang]bool{}
	for _, code := range []string{"eng", "por", "tur", "ces", "rus", "deu", "spa", "fra", "ita", "nld", "pol", "ukr", "slk"} {
		m[whatlanggo.CodeToLang(code)] = true
	}
	return m
}()

// minConfidence is how far ahead of the next candidate the language must
// be (whatlanggo's confidence, 0 to 1).
const minConfidence = 0.3

// maxDetectBytes is how much of a mail's text the language is guessed
// from: enough for a trigram profile, little work for a long mail.
const maxDetectBytes = 4 << 10

// mailLanguage is the language a customer's mail is in, when it tells or
// its text says so clearly: its Content-Language (RFC 3282) when that
// names one, else the language of its own lines (quoted lines left out:
// they are often ours) when whatlanggo tells it clearly among the
// candidates. "" when the mail is in a language onedesk does not speak, or
// nothing is sure: the customer's language stays as it was.
func mailLanguage(contentLanguage, text string) string {
	if contentLanguage = strings.TrimSpace(contentLanguage); contentLanguage != "" {
		return i18n.Negotiate(contentLanguage)
	}
	var own strings.Builder
	for line := range strings.Lines(text) {
		if strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		if rest := maxDetectBytes - own.Len(); len(line) > rest {
			line = strings.ToValidUTF8(line[:rest], "") // one long line (no breaks at all) is read no further either
		}
		own.WriteString(line)
		if own.Len() >= maxDetectBytes {
			break
		}
	}
	if len(strings.Fields(own.String())) < 4 {
		return "" // too short to tell
	}
	info := whatlanggo.DetectWithOptions(own.String(), whatlanggo.Options{Whitelist: candidates})
	if info.Confidence < minConfidence {
		return ""
	}
	if lang := info.Lang.Iso6391(); i18n.Supported(lang) {
		return lang
	}
	return ""
}
