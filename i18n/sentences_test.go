package i18n

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"onedesk/assets"
)

// sentenceArgs names the calls that take a sentence for people, and which
// of their arguments are English printf formats (the catalog keys).
var sentenceArgs = map[string][]int{
	"inputErr":     {1}, // desk
	"InputErrorf":  {1}, // desk.InputErrorf, for channels
	"fieldErr":     {1}, // ui
	"apiErr":       {2}, // ui
	"i18n.S":       {0},
	"i18n.Errorf":  {0},
	"ReplyAccount": {0, 1}, // desk.Outbound.ReplyAccount's where and account
	"badValue":     {0},    // rules: a rule's value refused
	"orderErr":     {1},    // orders: a shop's lookup failed
	"httpFailure":  {0},    // orders: who failed, said at the start of a sentence
}

// sentenceStructs are composite literals whose Message is a sentence.
var sentenceStructs = []string{"InputError", "apiError"}

type found struct {
	format string
	at     string // file:line
}

// serverSentences walks the module's Go sources (tests left out) for the
// sentences above; dynamic lists the calls whose format is not a literal.
func serverSentences(t *testing.T) (list []found, dynamic []string) {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	// Calls are found first and their formats read once every file's
	// string constants are known (desk.NoMailboxReason is written in one
	// file and said in others).
	consts := map[string]string{}
	var pending []func()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || d.Name() == "node_modules" || strings.HasPrefix(d.Name(), ".")) && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		add := func(e ast.Expr) {
			pending = append(pending, func() {
				at := fmt.Sprintf("%s:%d", filepath.ToSlash(rel), fset.Position(e.Pos()).Line)
				if s, ok := literal(e, consts); ok {
					list = append(list, found{s, at})
				} else {
					dynamic = append(dynamic, at)
				}
			})
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.GenDecl:
				if x.Tok == token.CONST {
					for _, spec := range x.Specs {
						vs := spec.(*ast.ValueSpec)
						for i, name := range vs.Names {
							if i < len(vs.Values) {
								if s, ok := literal(vs.Values[i], nil); ok {
									consts[name.Name] = s
								}
							}
						}
					}
				}
			case *ast.CallExpr:
				if idx, ok := sentenceArgs[callName(x.Fun)]; ok {
					for _, i := range idx {
						if i < len(x.Args) {
							add(x.Args[i])
						}
					}
				}
			case *ast.CompositeLit:
				if name := typeName(x.Type); slices.Contains(sentenceStructs, name) {
					for _, el := range x.Elts {
						if kv, ok := el.(*ast.KeyValueExpr); ok {
							if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Message" {
								add(kv.Value)
							}
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range pending {
		f()
	}
	return list, dynamic
}

// callName is how the table above names a call: inputErr, i18n.S, or a
// method's own name (d.ReplyAccount → ReplyAccount, desk.InputErrorf →
// InputErrorf).
func callName(fun ast.Expr) string {
	switch f := fun.(type) {
	case *ast.Ident:
		return f.Name
	case *ast.SelectorExpr:
		if pkg, ok := f.X.(*ast.Ident); ok && pkg.Name == "i18n" {
			return "i18n." + f.Sel.Name
		}
		return f.Sel.Name
	}
	return ""
}

func typeName(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.Ident:
		return x.Name
	case *ast.SelectorExpr:
		return x.Sel.Name
	}
	return ""
}

// literal is a string literal's value, of literals joined with +, or of
// a string constant (by its name, whichever package).
func literal(e ast.Expr, consts map[string]string) (string, bool) {
	switch x := e.(type) {
	case *ast.Ident:
		s, ok := consts[x.Name]
		return s, ok
	case *ast.SelectorExpr:
		s, ok := consts[x.Sel.Name]
		return s, ok
	case *ast.BasicLit:
		if x.Kind != token.STRING {
			return "", false
		}
		s, err := strconv.Unquote(x.Value)
		return s, err == nil
	case *ast.BinaryExpr:
		if x.Op != token.ADD {
			return "", false
		}
		a, ok1 := literal(x.X, consts)
		b, ok2 := literal(x.Y, consts)
		return a + b, ok1 && ok2
	case *ast.ParenExpr:
		return literal(x.X, consts)
	}
	return "", false
}

// Every sentence the server writes for people has a translation in each
// language, filling the same printf arguments. Engineers add sentences on
// their branches: the failure says what to add to which file.
func TestServerSentencesTranslated(t *testing.T) {
	list, dynamic := serverSentences(t)
	if len(list) < 100 {
		t.Fatalf("found only %d sentences: is the walk of the sources broken?", len(list))
	}
	where := map[string][]string{}
	for _, f := range list {
		where[f.format] = append(where[f.format], f.at)
	}
	keys := make([]string, 0, len(where))
	for k := range where {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	set := Server()
	for _, lang := range Languages[1:] {
		c := set.Catalog(lang)
		if c == nil {
			t.Fatalf("assets/server/%s.json is missing", lang)
		}
		var missing []string
		for _, k := range keys {
			if !c.Has(k) {
				b, _ := json.Marshal(k)
				missing = append(missing, fmt.Sprintf("  %s: \"…\",  ← %s", b, strings.Join(where[k], ", ")))
				continue
			}
			want := strings.Join(Verbs(k), " ")
			for _, form := range c.Forms(k) {
				if got := strings.Join(Verbs(form), " "); got != want {
					t.Errorf("assets/server/%s.json: %q fills %q, but its English %q fills %q: keep the same %%-verbs (reorder with %%[2]s)", lang, form, got, k, want)
				}
			}
		}
		if len(missing) > 0 {
			t.Errorf("assets/server/%s.json lacks %d sentences the server writes. Add each (key = the English format exactly, value = its translation with the same %%-verbs; keep the keys sorted):\n%s",
				lang, len(missing), strings.Join(missing, "\n"))
		}
	}
	if len(dynamic) > 0 {
		t.Logf("%d sentence calls pass a format that is not a literal (they are said in English unless their text is a key): %s", len(dynamic), strings.Join(dynamic, ", "))
	}
	if os.Getenv("I18N_UNUSED") != "" {
		for _, lang := range Languages[1:] {
			for _, k := range set.Catalog(lang).Keys() {
				if _, ok := where[k]; !ok {
					t.Logf("assets/server/%s.json: %q is no longer written by the server", lang, k)
				}
			}
		}
	}
}

// The embedded server catalogs parse (Server panics on a broken one).
func TestServerCatalogs(t *testing.T) {
	for _, lang := range Languages {
		data, err := assets.ServerCatalog(lang)
		if err != nil {
			t.Fatalf("assets/server/%s.json: %v", lang, err)
		}
		if _, err := Parse(lang, data); err != nil {
			t.Fatal(err)
		}
	}
}
