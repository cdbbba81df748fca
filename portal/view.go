package portal

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"regexp"
	"strings"
	"time"

	"onedesk/assets"
	"onedesk/i18n"
)

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("page").Funcs(template.FuncMap{
	// tf fills {name} placeholders of a catalog text.
	"tf": func(text string, kv ...string) string {
		for i := 0; i+1 < len(kv); i += 2 {
			text = strings.ReplaceAll(text, "{"+kv[i]+"}", kv[i+1])
		}
		return text
	},
}).Parse(pageHTML))

func catalog(lang string) map[string]string { return assets.PortalCatalog(lang) }

// view is what page.html shows; Page names the part.
type view struct {
	Page                                   string
	Lang, StoreName, Logo, Color, Base     string
	Here                                   string // this page's address, for the language links
	Nonce, CSRF, FormID                    string
	T                                      map[string]string
	Langs                                  []langLink
	SignedIn                               bool
	Email                                  string
	Error, Notice                          string
	Tickets                                []ticketRow
	Ticket                                 *ticketView
	Order                                  *orderView
	OrderNumber, OrderContact, HelpMessage string
	NeedEmail                              bool
	LinkToken                              string
	MaxFiles, MaxFileMB, Poll              int
}

type langLink struct {
	Code, Name string
	Current    bool
}

var langNames = map[string]string{"en": "English", "pt": "Português", "tr": "Türkçe", "cs": "Čeština", "ru": "Русский"}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// newView is a page of x's store in x's language.
func (p *Portal) newView(x *req, name string) *view {
	v := &view{Page: name, Lang: x.lang, T: x.T, Nonce: randomID(), Color: "#2457d6", MaxFiles: MaxFiles, MaxFileMB: MaxFileMB, Poll: pollSeconds}
	if x.st != nil {
		v.StoreName, v.Base, v.Logo = x.st.Name, "/portal/"+x.st.Slug, x.st.LogoURL
		v.Here = v.Base
		if x.r.Method == http.MethodGet {
			v.Here = x.r.URL.Path
		}
		if colorRE.MatchString(x.st.Chat.Color) {
			v.Color = x.st.Chat.Color
		}
	}
	if !strings.HasPrefix(v.Logo, "https://") && !strings.HasPrefix(v.Logo, "http://") {
		v.Logo = ""
	}
	if x.session != nil {
		v.SignedIn, v.Email, v.CSRF = true, x.session.Email, x.session.CSRF
	}
	for _, l := range i18n.Languages {
		v.Langs = append(v.Langs, langLink{Code: l, Name: langNames[l], Current: l == x.lang})
	}
	return v
}

// render writes a page with headers that let only its own script and
// style run, and no site frame it.
func (p *Portal) render(x *req, status int, v *view) {
	var b bytes.Buffer
	if err := page.Execute(&b, v); err != nil {
		p.log.Error("portal: render", "page", v.Page, "err", err)
		http.Error(x.w, "the page could not be shown", http.StatusInternalServerError)
		return
	}
	h := x.w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src https: http: data: 'self'; style-src 'nonce-"+v.Nonce+
		"'; script-src 'nonce-"+v.Nonce+"'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer") // a link's token must not leave in a Referer
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", x.lang)
	x.w.WriteHeader(status)
	x.w.Write(b.Bytes())
}

// fail shows a page that says what went wrong (key: a catalog key).
func (p *Portal) fail(x *req, status int, key string) {
	v := p.newView(x, "error")
	v.Error = x.T[key]
	p.render(x, status, v)
}

func randomID() string {
	b := make([]byte, 18)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// date is a day as the reader writes it (ISO: the same in every language).
func date(t time.Time) string { return t.UTC().Format("2006-01-02") }
