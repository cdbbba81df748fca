package greetings

import (
	"strings"
	"testing"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

func TestMatch(t *testing.T) {
	for _, c := range []struct {
		pattern, page string
		want          bool
	}{
		{"", "/anything?x=1", true},
		{"/products", "/products", true},
		{"/products", "/products/shoe-42", true},
		{"/products", "/product", false},
		{"/products/*", "/products/shoe-42", true},
		{"/products/*", "/products/", true},
		{"/products/*", "/about", false},
		{"/products/*/size", "/products/shoe-42/size", true},
		{"/products/*/size", "/products/shoe-42/size/eu", false},
		{"/products/*/size*", "/products/shoe-42/size/eu", true},
		{"*checkout*", "/cart/checkout?step=2", true},
		{"*.html", "/a/b.html", true},
		{"*.html", "/a/b.htm", false},
		{"/a*b*c", "/aXbYc", true},
		{"/a*b*c", "/aXcYb", false},
	} {
		if got := Match(c.pattern, c.page); got != c.want {
			t.Errorf("Match(%q, %q) = %v", c.pattern, c.page, got)
		}
	}
	// A pattern made to make a backtracking matcher blow up is quick.
	page := "/" + strings.Repeat("a", 4000)
	start := time.Now()
	if Match("/"+strings.Repeat("*a", 150)+"b", page) {
		t.Fatal("matched")
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("took %v", d)
	}
}

func TestCheck(t *testing.T) {
	ok := func() []store.Greeting {
		return []store.Greeting{{URLPattern: " /p/* ", Messages: map[string]string{"en": " Hi ", "pt": ""}}}
	}
	list := ok()
	if err := Check(list); err != nil {
		t.Fatal(err)
	}
	if list[0].URLPattern != "/p/*" || list[0].Audience != "any" || len(list[0].Messages) != 1 || list[0].Messages["en"] != "Hi" {
		t.Fatalf("cleaned %+v", list[0])
	}
	for field, change := range map[string]func(*store.Greeting){
		"greetings.0.url_pattern":   func(g *store.Greeting) { g.URLPattern = "products" },
		"greetings.0.delay_seconds": func(g *store.Greeting) { g.DelaySeconds = -1 },
		"greetings.0.audience":      func(g *store.Greeting) { g.Audience = "vip" },
		"greetings.0.messages.en":   func(g *store.Greeting) { g.Messages = map[string]string{"en": strings.Repeat("é", MaxMessage+1)} },
		"greetings.0.messages":      func(g *store.Greeting) { g.Messages = map[string]string{"de": "Hallo"} },
		"greetings.0.name":          func(g *store.Greeting) { g.Name = strings.Repeat("n", MaxName+1) },
	} {
		list := ok()
		change(&list[0])
		ie, isInput := desk.IsInput(Check(list))
		if !isInput || ie.Field != field {
			t.Errorf("%s: %v", field, ie)
		}
	}
	list = ok()
	list[0].Messages = nil
	if ie, _ := desk.IsInput(Check(list)); ie == nil || ie.Field != "greetings.0.messages.en" {
		t.Errorf("no message: %v", ie)
	}
	if ie, _ := desk.IsInput(Check(make([]store.Greeting, MaxGreetings+1))); ie == nil || ie.Field != "greetings" {
		t.Errorf("too many: %v", ie)
	}
}
