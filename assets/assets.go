// Package assets holds the files served as they are: the agent app
// (ES modules, no build step), the chat widget and its message catalogs.
package assets

import (
	"embed"
	"encoding/json"
)

// Files is the agent app (index.html is its page) and widget.js.
//
//go:embed index.html app widget.js
var Files embed.FS

//go:embed widget/*.json
var widgetCatalogs embed.FS

// WidgetLanguages are the languages the chat widget speaks.
var WidgetLanguages = []string{"en", "pt", "tr", "cs", "ru"}

// WidgetCatalog is the widget's text in a language (English when the
// language has no catalog).
func WidgetCatalog(lang string) map[string]string {
	data, err := widgetCatalogs.ReadFile("widget/" + lang + ".json")
	if err != nil {
		data, _ = widgetCatalogs.ReadFile("widget/en.json")
	}
	out := map[string]string{}
	json.Unmarshal(data, &out)
	return out
}
