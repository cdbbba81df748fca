package i18n

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"golang.org/x/text/language"
)

func testSet(t *testing.T) *Set {
	t.Helper()
	parse := func(lang, data string) *Catalog {
		c, err := Parse(lang, []byte(data))
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return NewSet(
		parse("en", `{"greet": "Hello {name}", "only_en": "Only in English",
			"files": {"one": "{n} file", "other": "{n} files"},
			"%d webhooks": {"one": "%d webhook", "other": "%d webhooks"}}`),
		parse("ru", `{"greet": "Здравствуйте, {name}",
			"files": {"one": "{n} файл", "few": "{n} файла", "many": "{n} файлов", "other": "{n} файла"},
			"%d webhooks": {"one": "%d вебхук", "few": "%d вебхука", "many": "%d вебхуков", "other": "%d вебхука"},
			"the subject is longer than %d characters": "тема длиннее %d символов",
			"%s is not %q": "%[2]q — не %[1]s"}`),
		parse("cs", `{"files": {"one": "{n} soubor", "few": "{n} soubory", "many": "{n} souboru", "other": "{n} souborů"}}`),
	)
}

// The rules of the app's t(): the language's text, else English key by
// key, else the key; {name} placeholders; a placeholder with no value
// stays as it is.
func TestTFallbackAndPlaceholders(t *testing.T) {
	s := testSet(t)
	for _, c := range []struct {
		lang, key string
		vars      map[string]any
		want      string
	}{
		{"ru", "greet", map[string]any{"name": "Joana"}, "Здравствуйте, Joana"},
		{"ru", "only_en", nil, "Only in English"},
		{"pt", "greet", map[string]any{"name": "Joana"}, "Hello Joana"}, // no pt catalog at all
		{"ru", "no_such_key", nil, "no_such_key"},
		{"ru", "greet", nil, "Здравствуйте, {name}"},
	} {
		if got := s.T(c.lang, c.key, c.vars); got != c.want {
			t.Errorf("T(%s, %s) = %q, want %q", c.lang, c.key, got, c.want)
		}
	}
}

// Plural forms are picked by CLDR's rules for the language, as
// Intl.PluralRules does in the app: Russian one/few/many, Czech one/few/other.
func TestPlurals(t *testing.T) {
	s := testSet(t)
	for _, c := range []struct {
		lang string
		n    int
		want string
	}{
		{"en", 1, "1 file"}, {"en", 2, "2 files"}, {"en", 0, "0 files"},
		{"ru", 1, "1 файл"}, {"ru", 2, "2 файла"}, {"ru", 4, "4 файла"}, {"ru", 5, "5 файлов"},
		{"ru", 11, "11 файлов"}, {"ru", 21, "21 файл"}, {"ru", 22, "22 файла"}, {"ru", 25, "25 файлов"}, {"ru", 111, "111 файлов"},
		{"cs", 1, "1 soubor"}, {"cs", 3, "3 soubory"}, {"cs", 5, "5 souborů"}, {"cs", 21, "21 souborů"},
	} {
		if got := s.T(c.lang, "files", map[string]any{"n": c.n}); got != c.want {
			t.Errorf("%s n=%d: %q, want %q", c.lang, c.n, got, c.want)
		}
	}
	// Fractions: Czech says "1,5 souboru" (many); Russian "1,5 файла" (other).
	if got := Category(language.Czech, 1.5); got != "many" {
		t.Errorf("cs 1.5 is %q, want many", got)
	}
	if got := Category(language.Russian, 1.5); got != "other" {
		t.Errorf("ru 1.5 is %q, want other", got)
	}
	// printf sentences pick their form by the first whole-number argument.
	for n, want := range map[int]string{1: "1 вебхук", 3: "3 вебхука", 12: "12 вебхуков", 31: "31 вебхук"} {
		if got := s.Sprintf("ru", "%d webhooks", n); got != want {
			t.Errorf("ru %d webhooks: %q, want %q", n, got, want)
		}
	}
	if got := s.Sprintf("en", "%d webhooks", 1); got != "1 webhook" {
		t.Errorf("en: %q", got)
	}
}

// A printf sentence is looked up by its English format and filled in; a
// translation may reorder the arguments; a language without it says the
// English.
func TestSprintf(t *testing.T) {
	s := testSet(t)
	if got := s.Sprintf("ru", "the subject is longer than %d characters", 500); got != "тема длиннее 500 символов" {
		t.Errorf("got %q", got)
	}
	if got := s.Sprintf("ru", "%s is not %q", "priority", "soon"); got != `"soon" — не priority` {
		t.Errorf("reordered: %q", got)
	}
	if got := s.Sprintf("cs", "the subject is longer than %d characters", 500); got != "the subject is longer than 500 characters" {
		t.Errorf("fallback: %q", got)
	}
	if got := s.Sprintf("ru", "100% sure"); got != "100% sure" {
		t.Errorf("no args: %q", got)
	}
}

func TestVerbs(t *testing.T) {
	for format, want := range map[string]string{
		"%s must be one of %v, not %q": "[1:s 2:v 3:q]",
		"%[2]q — не %[1]s":             "[1:s 2:q]",
		"cannot: %w (100%%)":           "[1:v]",
		"%.1f MB of %d":                "[1:f 2:d]",
	} {
		if got := fmt.Sprint(Verbs(format)); got != want {
			t.Errorf("Verbs(%q) = %s, want %s", format, got, want)
		}
	}
}

// A sentence survives the database: stored as JSON, read back, said in
// each language; numbers stay whole numbers for %d, errors become their
// text, nested sentences are translated too.
func TestSentenceStored(t *testing.T) {
	remote := errors.New("550 5.1.1 mailbox unavailable")
	err := Errorf("the mail server refused the reply: %w", remote)
	if !errors.Is(err, remote) {
		t.Fatal("Errorf does not wrap like fmt.Errorf")
	}
	if err.Error() != "the mail server refused the reply: 550 5.1.1 mailbox unavailable" {
		t.Fatalf("English: %q", err.Error())
	}
	stored := Stored(err)
	if stored == "" {
		t.Fatal("not stored")
	}
	got := Restore("ru", err.Error(), stored)
	if got != "почтовый сервер отклонил ответ: 550 5.1.1 mailbox unavailable" {
		t.Errorf("ru: %q", got)
	}
	// Wrapped in English context, the sentence is not the whole text:
	// nothing is stored and the English is shown.
	if s := Stored(fmt.Errorf("send: %w", err)); s != "" {
		t.Errorf("wrapped: stored %s", s)
	}
	nested := S("bounced: %s", S("the customer's mail server returned it"))
	back := Decode(nested.Encode())
	if got := back.In("pt"); got != "devolvido: o servidor de e-mail do cliente devolveu-a" {
		t.Errorf("nested pt: %q", got)
	}
	if back.String() != nested.String() {
		t.Errorf("English after storing: %q vs %q", back.String(), nested.String())
	}
	n := Decode(S("a message may have at most %d characters", 4000).Encode())
	if got := n.In("cs"); got != "zpráva může mít nejvýše 4000 znaků" {
		t.Errorf("number after JSON: %q", got)
	}
	if _, ok := n.Args[0].(int64); !ok {
		b, _ := json.Marshal(n.Args)
		t.Errorf("number came back as %T (%s)", n.Args[0], b)
	}
	if got := Restore("ru", "as it was", ""); got != "as it was" {
		t.Errorf("no sentence: %q", got)
	}
}

// Several sentences (the notes on a partly read email) are stored as one
// list and said one after another in the reader's language.
func TestSentencesStored(t *testing.T) {
	var notes Sentences
	notes = notes.Add(S("Parts nested more than %d levels deep were left out.", 40))
	notes = notes.Add(S("Parts nested more than %d levels deep were left out.", 40)) // said once
	notes = notes.Add(S("The desk refused the message (%s), so only its subject and source were kept.",
		S("a message may have at most %d characters", 4000)))
	notes = notes.Add(Sentence{})
	if len(notes) != 2 {
		t.Fatalf("notes %+v", notes)
	}
	back := DecodeSentences(notes.Encode())
	if back.String() != "Parts nested more than 40 levels deep were left out. The desk refused the message (a message may have at most 4000 characters), so only its subject and source were kept." {
		t.Errorf("English: %q", back.String())
	}
	if got := back.In("ru"); got != "Пропущены части с глубиной вложенности больше 40. Сообщение не было принято (сообщение может быть не длиннее 4000 символов), поэтому сохранены только его тема и исходное сообщение." {
		t.Errorf("ru: %q", got)
	}
	if DecodeSentences("") != nil || DecodeSentences("{broken") != nil || Sentences(nil).Encode() != "" {
		t.Error("nothing stored must read back as no notes")
	}
}

func TestNegotiate(t *testing.T) {
	for header, want := range map[string]string{
		"pt":                      "pt",
		"pt-BR,pt;q=0.9,en;q=0.8": "pt",
		"de-DE,de;q=0.9":          "",
		"de-DE,de;q=0.9,ru;q=0.5": "ru",
		"":                        "",
		"cs-CZ":                   "cs",
		"tr":                      "tr",
		"en-US,en;q=0.9":          "en",
		"garbage;;q=x":            "",
	} {
		if got := Negotiate(header); got != want {
			t.Errorf("Negotiate(%q) = %q, want %q", header, got, want)
		}
	}
}
