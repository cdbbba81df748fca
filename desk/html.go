package desk

import (
	"html"
	"net/url"
	"regexp"
	"strings"
	"sync"

	"github.com/microcosm-cc/bluemonday"
)

var (
	htmlPolicyOnce sync.Once
	htmlPolicy     *bluemonday.Policy
)

// SanitizeHTML keeps the formatting of customer HTML and drops everything
// that could run, load from elsewhere or reach the agent's session. It is
// applied to every inbound message, whatever the channel did already.
func SanitizeHTML(html string) string {
	if html == "" {
		return ""
	}
	htmlPolicyOnce.Do(func() {
		p := bluemonday.UGCPolicy()
		p.AllowStyling()
		p.AllowAttrs("style").Globally()
		p.AllowURLSchemes("http", "https", "mailto", "cid", "data")
		p.AllowDataURIImages()
		// Remote images are how senders track opens: only inline parts
		// (cid:, data:) and our own attachment URLs may load.
		p.RewriteSrc(func(u *url.URL) {
			if u.Scheme != "cid" && u.Scheme != "data" && !(u.Scheme == "" && u.Host == "" && strings.HasPrefix(u.Path, "/api/attachments/")) {
				*u = url.URL{}
			}
		})
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		htmlPolicy = p
	})
	return htmlPolicy.Sanitize(html)
}

var (
	blockTags = regexp.MustCompile(`(?i)<\s*(br|/p|/div|/li|/tr|/h[1-6])\b[^>]*>`)
	dropTags  = regexp.MustCompile(`(?is)<(script|style|head)\b.*?</(script|style|head)\s*>`)
	anyTag    = regexp.MustCompile(`(?s)<[^>]*>`)
	blankRuns = regexp.MustCompile(`\n{3,}`)
)

// TextFromHTML makes the plain-text body of a message that has only HTML:
// block ends become line breaks, tags go, entities are decoded.
func TextFromHTML(s string) string {
	s = dropTags.ReplaceAllString(s, "")
	s = blockTags.ReplaceAllString(s, "\n")
	s = anyTag.ReplaceAllString(s, "")
	s = html.UnescapeString(s)
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.Join(strings.Fields(l), " ")
	}
	return strings.TrimSpace(blankRuns.ReplaceAllString(strings.Join(lines, "\n"), "\n\n"))
}
