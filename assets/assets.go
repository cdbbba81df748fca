// Package assets holds the files served as they are: the agent app
// (ES modules, no build step), the chat widget and its message catalogs.
package assets

import (
	"embed"
	"encoding/json"
	"sync"
)

// Files is the agent app (index.html is its page), widget.js and the
// widget's parts loaded when needed (widget/*.js).
//
//go:embed index.html app widget.js widget/*.js
var Files embed.FS

//go:embed widget/*.json forms/*.json server/*.json help/*.json
var catalogs embed.FS

// WidgetLanguages are the languages the chat widget speaks.
var WidgetLanguages = []string{"en", "pt", "tr", "cs", "ru"}

// WidgetCatalog is the widget's text in a language (English when the
// language has no catalog). Catalogs are parsed once and shared: callers
// must not change them.
func WidgetCatalog(lang string) map[string]string { return catalog("widget", lang) }

// FormCatalog is the hosted forms' built-in text in a language (English
// when the language has none); forms speak the widget's languages.
func FormCatalog(lang string) map[string]string { return catalog("forms", lang) }

// HelpCatalog is the public help centre's built-in text in a language
// (English when the language has none).
func HelpCatalog(lang string) map[string]string { return catalog("help", lang) }

var parsed sync.Map // dir/lang -> map[string]string

func catalog(dir, lang string) map[string]string {
	if m, ok := parsed.Load(dir + "/" + lang); ok {
		return m.(map[string]string)
	}
	data, err := catalogs.ReadFile(dir + "/" + lang + ".json")
	if err != nil {
		data, _ = catalogs.ReadFile(dir + "/en.json")
	}
	out := map[string]string{}
	json.Unmarshal(data, &out)
	parsed.Store(dir+"/"+lang, out)
	return out
}

// ServerCatalog is the file of the server's sentences in a language
// (server/<lang>.json): the English sentence is the key, gettext style.
func ServerCatalog(lang string) ([]byte, error) {
	return catalogs.ReadFile("server/" + lang + ".json")
}
