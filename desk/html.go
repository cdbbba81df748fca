package desk

import (
	"net/url"
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
