package helpcentre

import (
	"bytes"
	"html"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/parser"
)

// markdown turns articles into HTML: CommonMark with GitHub's tables,
// strike-through, autolinks and task lists (goldmark, a maintained
// CommonMark parser), raw HTML in the source left out.
var markdown = goldmark.New(
	goldmark.WithExtensions(extension.GFM),
	goldmark.WithParserOptions(parser.WithAutoHeadingID()),
)

// sanitizer keeps what an article may hold: bluemonday's policy for user
// content (no script, no style, no event handlers; links and pictures by
// http(s) or relative URL), links opening with rel=nofollow noopener.
var sanitizer = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.RequireNoFollowOnLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(true)
	p.AllowAttrs("class").Matching(regexp.MustCompile(`^language-[a-zA-Z0-9_+-]+$`)).OnElements("code")
	return p
}()

// Render is an article's Markdown as sanitized HTML, and as plain text
// (what search indexes and snippets quote).
func Render(source string) (htmlOut, text string) {
	var b bytes.Buffer
	if err := markdown.Convert([]byte(source), &b); err != nil {
		// goldmark fails only on a failing writer; keep the text readable.
		b.Reset()
		b.WriteString("<p>" + html.EscapeString(source) + "</p>")
	}
	htmlOut = sanitizer.Sanitize(b.String())
	return htmlOut, plainText(htmlOut)
}

var tagRE = regexp.MustCompile(`<[^>]*>`)

// plainText is sanitized HTML's words: tags become spaces (so that
// "</p><p>" parts two words), entities their letters.
func plainText(h string) string {
	return strings.Join(strings.Fields(html.UnescapeString(tagRE.ReplaceAllString(h, " "))), " ")
}

// snippet is the first words of a text, up to n runes, cut at a word.
func snippet(text string, n int) string {
	r := []rune(text)
	if len(r) <= n {
		return text
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return cut + "…"
}
