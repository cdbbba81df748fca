package desk

import (
	"net/mail"
	"strings"
	"unicode"

	"onedesk/store"
)

// NormalizeIdentity returns the form an identifier is stored and matched
// in: emails case-folded, phones as E.164, handles trimmed.
func NormalizeIdentity(kind, value string) (store.Identity, error) {
	value = strings.TrimSpace(value)
	if value == "" {
		return store.Identity{}, inputErr(kind, "%s is empty", kind)
	}
	switch kind {
	case "email":
		addr, err := mail.ParseAddress(value)
		if err != nil || strings.ContainsAny(addr.Address, " <>") || !strings.Contains(addr.Address, "@") {
			return store.Identity{}, inputErr("email", "%q is not an email address", value)
		}
		return store.Identity{Kind: kind, Value: strings.ToLower(addr.Address)}, nil
	case "phone", "whatsapp":
		p, ok := e164(value)
		if !ok {
			return store.Identity{}, inputErr(kind, "%q is not a phone number in international form (+ and country code)", value)
		}
		return store.Identity{Kind: kind, Value: p}, nil
	case "telegram", "instagram", "visitor":
		if len(value) > 200 {
			return store.Identity{}, inputErr(kind, "%s is too long", kind)
		}
		if kind == "instagram" {
			value = strings.ToLower(strings.TrimPrefix(value, "@"))
		}
		return store.Identity{Kind: kind, Value: value}, nil
	}
	return store.Identity{}, inputErr("kind", "unknown identity kind %q", kind)
}

// e164 accepts "+CC number" written with spaces, dots, dashes or
// parentheses (or 00 for +) and returns +digits.
func e164(s string) (string, bool) {
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return "", false
	}
	var b strings.Builder
	b.WriteByte('+')
	for _, r := range s[1:] {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	n := b.Len() - 1
	return b.String(), n >= 7 && n <= 15 && b.String()[1] != '0'
}
