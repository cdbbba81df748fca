package chat

import (
	"strings"
	"sync"

	useragent "github.com/medama-io/go-useragent"
)

// uaParser reads User-Agent strings (medama-io/go-useragent: a small trie
// of the major browsers and systems, no regular expressions, no data file
// to keep up to date by hand). Built on first use.
var uaParser = sync.OnceValue(useragent.NewParser)

// browserName is what an agent reads of a visitor's User-Agent:
// "Chrome 131 · Windows"; the raw string (clipped) when it names no
// browser we know.
func browserName(ua string) string {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return ""
	}
	p := uaParser().Parse(ua)
	name := p.GetBrowser()
	if name == "" {
		return clip(ua, 300)
	}
	if v := p.GetMajorVersion(); v != "" {
		name += " " + v
	}
	if os := p.GetOS(); os != "" {
		name += " · " + os
	}
	return name
}
