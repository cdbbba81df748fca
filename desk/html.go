package desk

import (
	"regexp"
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
		p.AllowAttrs("src", "alt", "width", "height").Matching(regexp.MustCompile(`^(cid:|data:image/|/api/attachments/)`)).OnElements("img")
		p.RequireNoReferrerOnLinks(true)
		p.AddTargetBlankToFullyQualifiedLinks(true)
		htmlPolicy = p
	})
	return htmlPolicy.Sanitize(html)
}
