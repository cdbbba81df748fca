package forms

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"onedesk/assets"
	"onedesk/store"
)

// view is what page.html shows.
type view struct {
	Lang, Title, Intro, StoreName, Logo, Color string
	ColorHex                                   string // Color without its #
	Action, Stamp, Nonce, ScriptNonce          string
	Error, Thanks, Closed, FilesHint           string
	Embed, Preview                             bool
	Fields                                     []fieldView
	T                                          map[string]string
	// Suggest is the help centre's JSON search (helpcentre) when the
	// store has articles in lang and the form a subject field: the page's
	// script suggests articles as the customer types the subject.
	Suggest string
}

type fieldView struct {
	Name, Type, Label, Help, Value, Error string
	InputType, Autocomplete, InputMode    string
	Required, Checked                     bool
	Options                               []optionView
}

type optionView struct {
	Value, Label string
	Selected     bool
}

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// view builds the page of a form in a language: labels as translated for
// that language, else as written.
func (c *Channel) view(ctx context.Context, f *store.Form, st *store.Store, lang string, q url.Values) view {
	tr := assets.FormCatalog(lang)
	v := view{Lang: lang, Title: f.Title, Intro: f.Intro, StoreName: st.Name, Logo: st.LogoURL, Color: defaultColor,
		Stamp: c.stamp(ctx, f.Slug), Nonce: nonce(), ScriptNonce: nonce(), Embed: q.Get("embed") != "", T: tr,
		FilesHint: strings.ReplaceAll(tr["files_hint"], "{max}", strconv.Itoa(maxFilesMB))}
	if colorRE.MatchString(st.Chat.Color) {
		v.Color = st.Chat.Color
	}
	v.ColorHex = strings.TrimPrefix(v.Color, "#")
	if !strings.HasPrefix(v.Logo, "https://") && !strings.HasPrefix(v.Logo, "http://") {
		v.Logo = ""
	}
	if t, ok := f.Translations[lang]; ok {
		v.Title = or(t.Title, v.Title)
		v.Intro = or(t.Intro, v.Intro)
	}
	keep := url.Values{}
	for _, k := range []string{"embed", "lang"} {
		if q.Get(k) != "" {
			keep.Set(k, q.Get(k))
		}
	}
	v.Action = "/f/" + f.Slug
	if len(keep) > 0 {
		v.Action += "?" + keep.Encode()
	}
	if !f.Enabled {
		v.Closed = tr["closed"]
	}
	if slices.ContainsFunc(f.Fields, func(fl store.FormField) bool { return fl.Name == "subject" }) && c.desk.DB().HasHelp(ctx, st.ID, lang) {
		v.Suggest = "/help/" + st.Slug + "/api/search?lang=" + lang + "&limit=5"
	}
	for _, fl := range f.Fields {
		fv := fieldView{Name: fl.Name, Type: fl.Type, Label: fl.Label, Help: fl.Help, Required: fl.Required, InputType: "text"}
		t := fl.Translations[lang]
		fv.Label, fv.Help = or(t.Label, fv.Label), or(t.Help, fv.Help)
		for i, o := range fl.Options {
			label := o
			if i < len(t.Options) {
				label = t.Options[i]
			}
			fv.Options = append(fv.Options, optionView{Value: o, Label: label})
		}
		switch fl.Type {
		case "email":
			fv.InputType, fv.Autocomplete = "email", "email"
		case "phone":
			fv.InputType, fv.Autocomplete = "tel", "tel"
		case "number":
			fv.InputMode = "decimal"
		case "order":
			fv.Autocomplete = "off"
		case "text":
			if strings.Contains(fl.Name, "name") {
				fv.Autocomplete = "name"
			}
		}
		v.Fields = append(v.Fields, fv)
	}
	return v
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// render writes the page with headers that let only the store's sites
// frame it and only its own script run.
func (c *Channel) render(w http.ResponseWriter, status int, v view, f *store.Form, st *store.Store) {
	var b bytes.Buffer
	if err := page.Execute(&b, v); err != nil {
		c.log.Error("forms: render", "form", f.Slug, "err", err)
		c.fail(w, false, http.StatusInternalServerError, v.T["err_save"], "")
		return
	}
	ancestors := "*"
	if len(st.AllowedOrigins) > 0 {
		ancestors = "'self' " + strings.Join(st.AllowedOrigins, " ")
	}
	action := "'self'"
	if u, err := url.Parse(f.RedirectURL); err == nil && u.Host != "" {
		action += " " + u.Scheme + "://" + u.Host
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", "default-src 'none'; img-src https: http: data:; style-src 'self'; script-src 'nonce-"+
		v.ScriptNonce+"'; connect-src 'self'; form-action "+action+"; frame-ancestors "+ancestors+"; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// Preview is the page of a form as the app edits it (not yet saved), for
// the editor's live preview: no script, no stamp.
func (c *Channel) Preview(ctx context.Context, f *store.Form, st *store.Store, lang string) []byte {
	v := c.view(ctx, f, st, lang, url.Values{})
	v.Preview, v.Closed = true, ""
	var b bytes.Buffer
	if err := page.Execute(&b, v); err != nil {
		return []byte(template.HTMLEscapeString(err.Error()))
	}
	return b.Bytes()
}
