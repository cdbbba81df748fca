package ui_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"onedesk/ui"
)

type helpArticleJSON struct {
	ID             int64
	Slug           string
	Title          string
	Body           string
	Status         string
	PublishedTitle string `json:"published_title"`
	PublishedHTML  string `json:"published_html"`
	HelpfulYes     int    `json:"helpful_yes"`
	HelpfulNo      int    `json:"helpful_no"`
}

// helpDesk is a desk with a store "shoe-shop" (colour, allowed origin)
// and its admin.
func helpDesk(t *testing.T) (*env, *client, int64) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st struct{ ID int64 }
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "slug": "shoe-shop", "language": "pt",
		"allowed_origins": []string{"https://shop.example"}, "chat": map[string]any{"color": "#0f766e"}}).json(t, &st)
	return e, admin, st.ID
}

// article makes an article and publishes it unless draft.
func (c *client) article(storeID int64, lang string, cat int64, title, body string, publish bool) helpArticleJSON {
	c.e.t.Helper()
	var a helpArticleJSON
	in := map[string]any{"store_id": storeID, "lang": lang, "title": title, "body": body}
	if cat != 0 {
		in["category_id"] = cat
	}
	c.must(201, "POST", "/api/help/articles", in).json(c.e.t, &a)
	if publish {
		c.must(200, "POST", fmt.Sprintf("/api/help/articles/%d/publish", a.ID), nil).json(c.e.t, &a)
	}
	return a
}

// get fetches a public URL as a reader (no session).
func (e *env) get(path string, header ...string) (int, string, http.Header) {
	e.t.Helper()
	req, _ := http.NewRequest("GET", e.srv.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b), res.Header
}

func TestHelpCentreArticlesDraftsAndSearch(t *testing.T) {
	e, admin, storeID := helpDesk(t)
	var cat struct {
		ID   int64
		Slug string
	}
	admin.must(201, "POST", "/api/help/categories", map[string]any{"store_id": storeID,
		"names": map[string]any{"pt": map[string]string{"name": "Envios e devoluções"}, "en": map[string]string{"name": "Shipping and returns"}}}).json(t, &cat)
	if cat.Slug != "shipping-and-returns" {
		t.Fatalf("category slug %q", cat.Slug)
	}
	_, msg := admin.do("POST", "/api/help/categories", map[string]any{"store_id": storeID, "names": map[string]any{}}).err(t)
	if msg != "names" {
		t.Fatalf("a category without a name: field %q", msg)
	}

	pt := admin.article(storeID, "pt", cat.ID, "Como devolver uma encomenda", "Pode **devolver** as encomendas em 30 dias.\n\n<script>alert(1)</script>\n\n| Prazo | Custo |\n|---|---|\n| 30 dias | grátis |", true)
	if pt.Slug != "como-devolver-uma-encomenda" || pt.Status != "published" {
		t.Fatalf("published article %+v", pt)
	}
	if strings.Contains(pt.PublishedHTML, "<script") || !strings.Contains(pt.PublishedHTML, "<strong>devolver</strong>") || !strings.Contains(pt.PublishedHTML, "<table>") {
		t.Fatalf("rendered HTML %s", pt.PublishedHTML)
	}
	ru := admin.article(storeID, "ru", 0, "Доставка заказов", "Мы доставляем заказы курьером за три дня.", true)
	draft := admin.article(storeID, "pt", cat.ID, "Cartões de oferta secretos", "Rascunho sobre cartões de oferta.", false)

	// Pages: the home, the category, the article; the draft is nowhere.
	code, body, _ := e.get("/help/shoe-shop/pt/")
	if code != 200 || !strings.Contains(body, "Como devolver uma encomenda") || !strings.Contains(body, "Envios e devoluções") ||
		strings.Contains(body, "Cartões de oferta") || !strings.Contains(body, "color=0f766e") {
		t.Fatalf("home %d: %s", code, body)
	}
	if code, _, _ := e.get("/help/shoe-shop/pt/a/" + draft.Slug); code != 404 {
		t.Fatalf("a draft answered %d", code)
	}
	code, body, hdr := e.get("/help/shoe-shop/pt/a/" + pt.Slug)
	if code != 200 || !strings.Contains(body, "<strong>devolver</strong>") || strings.Contains(body, "<script") || !strings.Contains(hdr.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("article %d %v: %s", code, hdr, body)
	}
	if code, body, _ := e.get("/help/shoe-shop/pt/c/" + cat.Slug); code != 200 || !strings.Contains(body, "Como devolver") {
		t.Fatalf("category %d: %s", code, body)
	}
	if code, _, hdr := e.get("/help/shoe-shop", "Accept-Language", "ru-RU,ru;q=0.9"); code != 302 || hdr.Get("Location") != "/help/shoe-shop/ru/" {
		t.Fatalf("the root sent a Russian reader to %d %s", code, hdr.Get("Location"))
	}

	// Search in the reader's language: inflected words find their stems.
	for _, c := range []struct{ lang, q, want string }{
		{"pt", "devolvido encomendas", pt.Slug}, // devolver / encomenda
		{"pt", "devolvo", pt.Slug},
		{"ru", "доставка заказа", ru.Slug}, // доставляем / заказов
		{"ru", "курьеры", ru.Slug},
		{"pt", "devol", pt.Slug}, // still typing
	} {
		var res struct{ Articles []struct{ Title, URL string } }
		code, body, _ := e.get("/help/shoe-shop/api/search?lang=" + c.lang + "&q=" + url.QueryEscape(c.q))
		if code != 200 {
			t.Fatalf("search %q: %d %s", c.q, code, body)
		}
		decode(t, body, &res)
		if len(res.Articles) == 0 || !strings.HasSuffix(res.Articles[0].URL, "/a/"+url.PathEscape(c.want)) {
			t.Errorf("search %s %q found %+v, want %s", c.lang, c.q, res.Articles, c.want)
		}
	}
	if _, body, _ := e.get("/help/shoe-shop/api/search?lang=pt&q=oferta"); !strings.Contains(body, `"articles":[]`) {
		t.Errorf("search found a draft: %s", body)
	}

	// Editing a published article keeps the published text live until
	// it is published again.
	var edited helpArticleJSON
	admin.must(200, "PATCH", fmt.Sprintf("/api/help/articles/%d", pt.ID), map[string]any{"body": "Texto novo sobre trocas."}).json(t, &edited)
	if edited.Status != "changed" {
		t.Fatalf("status after editing %q", edited.Status)
	}
	if _, body, _ := e.get("/help/shoe-shop/pt/a/" + pt.Slug); !strings.Contains(body, "devolver") || strings.Contains(body, "trocas") {
		t.Fatalf("the draft went live before publishing: %s", body)
	}
	admin.must(200, "POST", fmt.Sprintf("/api/help/articles/%d/publish", pt.ID), nil)
	if _, body, _ := e.get("/help/shoe-shop/pt/a/" + pt.Slug); !strings.Contains(body, "trocas") {
		t.Fatalf("the new version is not live: %s", body)
	}
	admin.must(200, "POST", fmt.Sprintf("/api/help/articles/%d/unpublish", ru.ID), nil)
	if code, _, _ := e.get("/help/shoe-shop/ru/a/" + url.PathEscape(ru.Slug)); code != 404 {
		t.Fatalf("an unpublished article answered %d", code)
	}

	// The sitemap lists the published articles only.
	code, body, _ = e.get("/help/shoe-shop/sitemap.xml")
	if code != 200 || !strings.Contains(body, "/help/shoe-shop/pt/a/"+pt.Slug) || strings.Contains(body, draft.Slug) || !strings.Contains(body, "<urlset") {
		t.Fatalf("sitemap %d: %s", code, body)
	}
}

func decode(t *testing.T, body string, v any) {
	t.Helper()
	resp{body: []byte(body)}.json(t, v)
}

func TestHelpCentreVotesReportAndDeflection(t *testing.T) {
	e, admin, storeID := helpDesk(t)
	a := admin.article(storeID, "en", 0, "Track your order", "Use the link in the shipping email.", true)

	// "Was this helpful?" is a plain form post.
	for _, answer := range []string{"yes", "yes", "no"} {
		res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).
			PostForm(e.srv.URL+"/help/shoe-shop/en/a/"+a.Slug+"/vote", url.Values{"helpful": {answer}})
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 303 || !strings.Contains(res.Header.Get("Location"), "voted=1") {
			t.Fatalf("vote: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
	}
	var got helpArticleJSON
	admin.must(200, "GET", fmt.Sprintf("/api/help/articles/%d", a.ID), nil).json(t, &got)
	if got.HelpfulYes != 2 || got.HelpfulNo != 1 {
		t.Fatalf("votes %d/%d", got.HelpfulYes, got.HelpfulNo)
	}

	// Searches that found nothing: the search page, and the JSON search
	// when the reader finished typing (log=1), not the prefixes on the way.
	e.get("/help/shoe-shop/en/search?q=Gift+wrapping")
	e.get("/help/shoe-shop/en/search?q=gift+wrapping")
	e.get("/help/shoe-shop/api/search?lang=en&q=gift+wr")
	e.get("/help/shoe-shop/api/search?lang=en&q=warranty&log=1")

	// Deflection: two visits open a suggested article; one then sends a chat.
	for _, v := range []string{"visit-aaaaaaaa", "visit-bbbbbbbb"} {
		if code, _, _ := e.get("/help/shoe-shop/en/a/" + a.Slug + "?ref=widget&visit=" + v); code != 200 {
			t.Fatalf("article from the widget: %d", code)
		}
	}
	if code, body, _ := e.get("/help/shoe-shop/en/a/" + a.Slug + "?ref=form&visit=visit-cccccccc"); code != 200 {
		t.Fatalf("article from a form: %d %s", code, body)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+"/help/shoe-shop/api/contact", strings.NewReader(`{"visit":"visit-aaaaaaaa"}`))
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Origin", "https://shop.example")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 204 || res.Header.Get("Access-Control-Allow-Origin") != "https://shop.example" {
		t.Fatalf("contact: %d %v", res.StatusCode, res.Header)
	}
	// Another site may not call it.
	req, _ = http.NewRequest("GET", e.srv.URL+"/help/shoe-shop/api/search?q=order", nil)
	req.Header.Set("Origin", "https://evil.example")
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 403 {
		t.Fatalf("a foreign origin: %v %v", res.StatusCode, err)
	}

	var rep struct {
		MissedSearches []struct {
			Query string
			Count int
		} `json:"missed_searches"`
		Deflection []struct {
			Source                       string
			Opened, Contacted, Deflected int
		}
		Articles []struct {
			Title      string
			HelpfulYes int `json:"helpful_yes"`
		}
	}
	// Searches that found nothing are recorded after the answer.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		admin.must(200, "GET", fmt.Sprintf("/api/help/report?store_id=%d&range=7d", storeID), nil).json(t, &rep)
		n := 0
		for _, m := range rep.MissedSearches {
			n += m.Count
		}
		if n >= 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(rep.MissedSearches) != 2 || rep.MissedSearches[0].Query != "gift wrapping" || rep.MissedSearches[0].Count != 2 || rep.MissedSearches[1].Query != "warranty" {
		t.Errorf("missed searches %+v", rep.MissedSearches)
	}
	if len(rep.Deflection) != 2 || rep.Deflection[0].Source != "form" || rep.Deflection[0].Deflected != 1 ||
		rep.Deflection[1].Source != "widget" || rep.Deflection[1].Opened != 2 || rep.Deflection[1].Contacted != 1 || rep.Deflection[1].Deflected != 1 {
		t.Errorf("deflection %+v", rep.Deflection)
	}
	if len(rep.Articles) != 1 || rep.Articles[0].HelpfulYes != 2 {
		t.Errorf("articles %+v", rep.Articles)
	}
}

func TestHelpCentrePicturesAndLimits(t *testing.T) {
	e, admin, storeID := helpDesk(t)
	img := image.NewRGBA(image.Rect(0, 0, 4, 4))
	img.Set(1, 1, color.RGBA{255, 0, 0, 255})
	var pic bytes.Buffer
	png.Encode(&pic, img)
	upload := func(name string, data []byte) resp {
		var b bytes.Buffer
		w := multipart.NewWriter(&b)
		w.WriteField("store_id", fmt.Sprint(storeID))
		f, _ := w.CreateFormFile("file", name)
		f.Write(data)
		w.Close()
		req, _ := http.NewRequest("POST", e.srv.URL+"/api/help/images", &b)
		req.Header.Set("Content-Type", w.FormDataContentType())
		req.Header.Set("X-CSRF-Token", admin.csrf)
		res, err := admin.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return resp{res.StatusCode, body, res.Header}
	}
	r := upload("dot.png", pic.Bytes())
	var up struct{ URL, Markdown string }
	r.json(t, &up)
	if r.status != 201 || !strings.HasPrefix(up.URL, "/help/shoe-shop/img/") {
		t.Fatalf("upload %d %s", r.status, r.body)
	}
	if r := upload("page.html", []byte("<html><script>alert(1)</script>")); r.status != 400 {
		t.Fatalf("an HTML 'picture' was taken: %d %s", r.status, r.body)
	}
	a := admin.article(storeID, "en", 0, "Size guide", "How to measure:\n\n"+up.Markdown, true)
	_, body, _ := e.get("/help/shoe-shop/en/a/" + a.Slug)
	if !strings.Contains(body, `src="`+up.URL+`"`) {
		t.Fatalf("the picture is not on the page: %s", body)
	}
	code, data, hdr := e.get(up.URL)
	if code != 200 || hdr.Get("Content-Type") != "image/png" || data != pic.String() || !strings.Contains(hdr.Get("Cache-Control"), "immutable") {
		t.Fatalf("picture %d %v", code, hdr)
	}
	// The preview renders as publishing will.
	var pv struct{ HTML string }
	admin.must(200, "POST", "/api/help/preview", map[string]string{"body": "# Hi\n\n[x](javascript:alert(1))"}).json(t, &pv)
	if !strings.Contains(pv.HTML, "<h1 id=\"hi\">Hi</h1>") || strings.Contains(pv.HTML, "javascript") {
		t.Fatalf("preview %s", pv.HTML)
	}
	// A search of more than 800 bytes is refused; a slug taken is a field error.
	if code, _, _ := e.get("/help/shoe-shop/api/search?q=" + strings.Repeat("a", 900)); code != 413 {
		t.Fatalf("a long search: %d", code)
	}
	if _, field := admin.do("POST", "/api/help/articles", map[string]any{"store_id": storeID, "lang": "en", "title": "Size guide"}).err(t); field != "slug" {
		t.Fatalf("a taken slug: field %q", field)
	}
	if _, field := admin.do("POST", "/api/help/articles", map[string]any{"store_id": storeID, "lang": "de", "title": "X"}).err(t); field != "lang" {
		t.Fatalf("an unknown language: field %q", field)
	}
}
