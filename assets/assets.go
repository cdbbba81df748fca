// Package assets holds the files served as they are: the agent app
// (ES modules, no build step).
package assets

import "embed"

// Files is the agent app; index.html is its page.
//
//go:embed index.html app
var Files embed.FS
