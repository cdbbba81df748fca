package assets

import (
	"encoding/json"
	"io/fs"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Every catalog has the keys of the English one, with the same {placeholders}.
func TestCatalogsMatchEnglish(t *testing.T) {
	for _, c := range []struct {
		fsys fs.FS
		dir  string
	}{{Files, "app/i18n"}, {catalogs, "widget"}, {catalogs, "forms"}, {portalFiles, "portal"}, {catalogs, "help"}} {
		t.Run(c.dir, func(t *testing.T) { catalogsMatch(t, c.fsys, c.dir) })
	}
}

func catalogsMatch(t *testing.T, fsys fs.FS, dir string) {
	load := func(name string) map[string]any {
		b, err := fs.ReadFile(fsys, dir+"/"+name)
		if err != nil {
			t.Fatal(err)
		}
		var m map[string]any
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return m
	}
	en := load("en.json")
	names, _ := fs.Glob(fsys, dir+"/*.json")
	if len(names) != 5 {
		t.Fatalf("catalogs %v, want en, pt, tr, cs, ru", names)
	}
	ph := regexp.MustCompile(`\{\w+\}`)
	placeholders := func(v any) string {
		b, _ := json.Marshal(v)
		found := ph.FindAllString(string(b), -1)
		set := map[string]bool{}
		for _, f := range found {
			set[f] = true
		}
		var out []string
		for k := range set {
			out = append(out, k)
		}
		sort.Strings(out)
		return strings.Join(out, ",")
	}
	for _, name := range names {
		c := load(strings.TrimPrefix(name, dir+"/"))
		for k, v := range en {
			got, ok := c[k]
			if !ok {
				t.Errorf("%s lacks %q", name, k)
				continue
			}
			if placeholders(got) != placeholders(v) {
				t.Errorf("%s %q has placeholders %s, English %s", name, k, placeholders(got), placeholders(v))
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s has %q, which English does not", name, k)
			}
		}
	}
}
