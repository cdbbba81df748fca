package chat

import (
	"html/template"
	"net/http"
	"strings"

	"onedesk/assets"
	"onedesk/desk"
	"onedesk/store"
)

// The desk's own chat page of a store, GET /chat/{store}: a plain page
// with the widget on it, where a chat continued on another device opens
// when the store has no page of its own (store.ChatSettings.PageURL). The
// continue link's code rides in the address's fragment; the widget reads
// it and trades it for the chat (package portal).

var chatPage = template.Must(template.New("chat").Parse(`<!doctype html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta name="robots" content="noindex"><title>{{.Store}}</title>
<style>body{margin:0;padding:28px 20px;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;background:#f6f7f9;color:#17181c}h1{margin:0 0 6px;font-size:22px}p{margin:0;color:#454851}</style>
</head><body><main><h1>{{.Store}}</h1><p>{{.Intro}}</p></main>
<script src="/widget.js" data-store="{{.Slug}}" async></script></body></html>`))

// endpoints are the chat's own paths under /chat/: a store with one of
// these slugs has its chat page at the desk's address only by its page URL.
var endpoints = map[string]bool{"ws": true, "config": true, "offline": true, "upload": true, "file": true, "greet": true, "avatar": true}

// pageSlug is the store a GET of /chat/{store} names ("" for the chat's
// endpoints and anything else).
func pageSlug(r *http.Request) string {
	slug, ok := strings.CutPrefix(r.URL.Path, "/chat/")
	if !ok || r.Method != http.MethodGet && r.Method != http.MethodHead || slug == "" || strings.Contains(slug, "/") || endpoints[slug] {
		return ""
	}
	return slug
}

func (c *Channel) servePage(w http.ResponseWriter, r *http.Request, slug string) {
	st, err := c.desk.DB().StoreBySlug(r.Context(), slug)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	lang := desk.PickLanguage(st.Language, r.Header.Get("Accept-Language"))
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	// The widget draws its own styles, pictures from blobs, and talks to
	// this desk only.
	h.Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; frame-ancestors 'none'")
	if err := chatPage.Execute(w, pageData(st, lang)); err != nil {
		c.log.Warn("chat: the store's chat page", "err", err)
	}
}

func pageData(st *store.Store, lang string) map[string]string {
	return map[string]string{"Lang": lang, "Store": st.Name, "Slug": st.Slug, "Intro": assets.PortalCatalog(lang)["continue_here"]}
}
