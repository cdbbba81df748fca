package helpcentre_test

import (
	"os"
	"strings"
	"testing"

	"onedesk/desk/desktest"
	"onedesk/helpcentre"
)

// Every test runs twice: on SQLite, then on PostgreSQL when it is installed.
func TestMain(m *testing.M) { os.Exit(desktest.Main(m)) }

func TestSlugify(t *testing.T) {
	for in, want := range map[string]string{
		"Where is my order?":          "where-is-my-order",
		"Como devolver uma encomenda": "como-devolver-uma-encomenda",
		"Доставка заказов":            "доставка-заказов",
		"Şişli'ye kargo":              "şişli-ye-kargo",
		"!!!":                         "",
	} {
		if got := helpcentre.Slugify(in); got != want {
			t.Errorf("Slugify(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRenderSanitizes(t *testing.T) {
	html, text := helpcentre.Render("# Title\n\nHello <img src=x onerror=alert(1)> **world** [x](javascript:alert(1))\n\n<script>alert(2)</script>\n\n![pic](/help/s/img/abc)")
	for _, bad := range []string{"onerror", "<script", "javascript:"} {
		if strings.Contains(html, bad) {
			t.Errorf("rendered HTML keeps %q: %s", bad, html)
		}
	}
	if !strings.Contains(html, "<strong>world</strong>") || !strings.Contains(html, `<img src="/help/s/img/abc" alt="pic"`) {
		t.Errorf("rendered %s", html)
	}
	if text != "Title Hello world x pic" && !strings.HasPrefix(text, "Title Hello") {
		t.Errorf("text %q", text)
	}
}
