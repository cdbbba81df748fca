package assets

import (
	"fmt"
	"net/http"
	"regexp"
)

var brandColorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// WriteBrandCSS answers the stylesheet of a public page (a hosted form, the
// help centre) with the store's colour as --brand: the request's
// ?color=rrggbb, else fallback. The colour comes by URL rather than an
// inline style, so the pages keep style-src 'self'.
func WriteBrandCSS(w http.ResponseWriter, r *http.Request, css []byte, fallback string) {
	color := "#" + r.URL.Query().Get("color")
	if !brandColorRE.MatchString(color) {
		color = fallback
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	fmt.Fprintf(w, ":root { --brand: %s; }\n", color)
	w.Write(css)
}
