package i18n

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"

	"onedesk/assets"
)

// Server holds the sentences the server writes, from assets/server/<lang>.json.
func Server() *Set {
	serverOnce.Do(func() {
		var list []*Catalog
		for _, lang := range Languages {
			data, err := assets.ServerCatalog(lang)
			if err != nil {
				continue // English needs no file: the key is the sentence
			}
			c, err := Parse(lang, data)
			if err != nil {
				panic(err) // a broken embedded file; TestServerCatalogs catches it first
			}
			list = append(list, c)
		}
		serverSet = NewSet(list...)
	})
	return serverSet
}

var (
	serverOnce sync.Once
	serverSet  *Set
)

// Sentence is a text for a person kept as its English printf format and
// arguments, so that it can be said in each reader's language later (after
// a trip through the database, for instance).
type Sentence struct {
	Format string
	Args   []any
}

// S is the sentence format with args.
func S(format string, args ...any) Sentence { return Sentence{Format: format, Args: args} }

// String is the sentence in English.
func (s Sentence) String() string { return render(s.Format, s.Args) }

// In is the sentence in lang; arguments that are sentences themselves are
// said in lang too.
func (s Sentence) In(lang string) string {
	args := make([]any, len(s.Args))
	for i, a := range s.Args {
		switch v := a.(type) {
		case Sentence:
			args[i] = v.In(lang)
		case *Error:
			args[i] = v.In(lang)
		case Sayer:
			args[i] = v.Sentence().In(lang)
		default:
			args[i] = a
		}
	}
	return Server().Sprintf(lang, s.Format, args...)
}

// IsZero reports an empty sentence.
func (s Sentence) IsZero() bool { return s.Format == "" }

// sentenceJSON is how a sentence is stored: {"f": format, "a": [args]}.
// Errors among the args are stored as their text (or, when they are
// sentences, as nested sentences), numbers as numbers.
type sentenceJSON struct {
	F string            `json:"f"`
	A []json.RawMessage `json:"a,omitempty"`
}

// MarshalJSON stores the sentence.
func (s Sentence) MarshalJSON() ([]byte, error) {
	out := sentenceJSON{F: s.Format}
	for _, a := range s.Args {
		var v any
		switch x := a.(type) {
		case Sentence:
			v = x
		case *Error:
			v = x.Sentence
		case error:
			if s, ok := sentenceIn(x); ok {
				v = s
			} else {
				v = x.Error()
			}
		case string, bool, int, int32, int64, uint, uint64, float32, float64:
			v = x
		case fmt.Stringer:
			v = x.String()
		default:
			v = fmt.Sprint(x)
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		out.A = append(out.A, b)
	}
	return json.Marshal(out)
}

// UnmarshalJSON reads a stored sentence back.
func (s *Sentence) UnmarshalJSON(b []byte) error {
	var in sentenceJSON
	if err := json.Unmarshal(b, &in); err != nil {
		return err
	}
	s.Format, s.Args = in.F, nil
	for _, raw := range in.A {
		var v any
		switch {
		case len(raw) > 0 && raw[0] == '{':
			var inner Sentence
			if err := json.Unmarshal(raw, &inner); err != nil {
				return err
			}
			v = inner
		default:
			if err := json.Unmarshal(raw, &v); err != nil {
				return err
			}
			// JSON numbers come back as float64; %d wants a whole number.
			if f, ok := v.(float64); ok && f == math.Trunc(f) && math.Abs(f) < 1<<53 {
				v = int64(f)
			}
		}
		s.Args = append(s.Args, v)
	}
	return nil
}

// Encode is the sentence as stored JSON ("" for none).
func (s Sentence) Encode() string {
	if s.IsZero() {
		return ""
	}
	b, err := json.Marshal(s)
	if err != nil {
		return ""
	}
	return string(b)
}

// Decode reads a sentence Encode wrote (zero for "" or a broken text).
func Decode(stored string) Sentence {
	var s Sentence
	if stored != "" {
		if json.Unmarshal([]byte(stored), &s) != nil {
			return Sentence{}
		}
	}
	return s
}

// Error is an error whose text can be said in any language.
type Error struct{ Sentence }

// Errorf is fmt.Errorf whose sentence is translated for its reader; %w
// wraps as in fmt.Errorf.
func Errorf(format string, args ...any) error {
	return &Error{Sentence{Format: format, Args: args}}
}

func (e *Error) Error() string { return e.String() }

// Unwrap gives the errors among the arguments, as fmt.Errorf's %w does.
func (e *Error) Unwrap() []error {
	var out []error
	for _, a := range e.Args {
		if err, ok := a.(error); ok {
			out = append(out, err)
		}
	}
	return out
}

// Err is the sentence as an error.
func (s Sentence) Err() error { return &Error{s} }

// Sayer is an error of its own type that can say itself in any language
// (a platform's refusal, say): its Sentence is what Error says in English.
type Sayer interface {
	error
	Sentence() Sentence
}

// sentenceIn is the sentence of the outermost *Error or Sayer in err's
// chain, when its text is the whole of err's text (so no English context
// around it is lost).
func sentenceIn(err error) (Sentence, bool) {
	if err == nil {
		return Sentence{}, false
	}
	var e *Error
	if errors.As(err, &e) && e.Error() == err.Error() {
		return e.Sentence, true
	}
	var s Sayer
	if errors.As(err, &s) && s.Error() == err.Error() {
		return s.Sentence(), true
	}
	return Sentence{}, false
}

// SentenceOf is the translatable sentence of err, else err's text as it is.
func SentenceOf(err error) Sentence {
	if s, ok := sentenceIn(err); ok {
		return s
	}
	if err == nil {
		return Sentence{}
	}
	return Sentence{Format: "%s", Args: []any{err.Error()}}
}

// Stored is err's sentence as JSON to keep beside its English text, or ""
// when err has no translatable sentence (its text is shown as it is).
func Stored(err error) string {
	s, ok := sentenceIn(err)
	if !ok {
		return ""
	}
	return s.Encode()
}

// Restore is the text to show a reader in lang: the stored sentence said in
// lang, or english when there is no stored sentence.
func Restore(lang, english, stored string) string {
	if s := Decode(stored); !s.IsZero() {
		return s.In(lang)
	}
	return english
}

// Sentences are several sentences said one after another, such as the
// notes on what of an email could not be read.
type Sentences []Sentence

// Add appends s unless it is zero or already said.
func (ss Sentences) Add(s Sentence) Sentences {
	if s.IsZero() {
		return ss
	}
	enc := s.Encode()
	for _, have := range ss {
		if have.Encode() == enc {
			return ss
		}
	}
	return append(ss, s)
}

// String is the sentences in English.
func (ss Sentences) String() string { return ss.In("en") }

// In is the sentences in lang, one after another.
func (ss Sentences) In(lang string) string {
	out := make([]string, 0, len(ss))
	for _, s := range ss {
		out = append(out, s.In(lang))
	}
	return strings.Join(out, " ")
}

// Encode is the sentences as stored JSON, a list of Sentence.Encode's
// objects ("" for none).
func (ss Sentences) Encode() string {
	if len(ss) == 0 {
		return ""
	}
	b, err := json.Marshal([]Sentence(ss))
	if err != nil {
		return ""
	}
	return string(b)
}

// DecodeSentences reads what Sentences.Encode wrote (nil for "" or a
// broken text).
func DecodeSentences(stored string) Sentences {
	var ss []Sentence
	if stored == "" || json.Unmarshal([]byte(stored), &ss) != nil {
		return nil
	}
	return ss
}
