package assets

import (
	"embed"
	"encoding/json"
	"sync"
)

// The customer portal's catalogs (server-rendered pages and the widget's
// order tracker and continue-on-another-device part, assets/widget/portal.js).
//
//go:embed portal/*.json
var portalFiles embed.FS

var portalParsed sync.Map // lang -> map[string]string

// PortalCatalog is the portal's text in a language (English key by key
// where the language lacks one). Shared: callers must not change it.
func PortalCatalog(lang string) map[string]string {
	if m, ok := portalParsed.Load(lang); ok {
		return m.(map[string]string)
	}
	out := map[string]string{}
	if data, err := portalFiles.ReadFile("portal/en.json"); err == nil {
		json.Unmarshal(data, &out)
	}
	if data, err := portalFiles.ReadFile("portal/" + lang + ".json"); err == nil && lang != "en" {
		own := map[string]string{}
		json.Unmarshal(data, &own)
		for k, v := range own {
			out[k] = v
		}
	}
	portalParsed.Store(lang, out)
	return out
}
