package desk

import (
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
		addr, err := NormalizeEmail(value)
		if err != nil {
			return store.Identity{}, err
		}
		return store.Identity{Kind: kind, Value: addr}, nil
	case "phone", "whatsapp":
		p, ok := e164(value)
		if !ok {
			return store.Identity{}, inputErr(kind, "%q is not a phone number in international form (+ and country code)", value)
		}
		return store.Identity{Kind: kind, Value: p}, nil
	case "telegram", "instagram", "messenger", "visitor":
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
	digits, ok := phoneDigits(s[1:])
	if !ok || len(digits) < 7 || len(digits) > 15 || digits[0] == '0' {
		return "", false
	}
	return "+" + digits, true
}

// phoneDigits drops the separators people write numbers with.
func phoneDigits(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '.' || r == '/' || r == '(' || r == ')' || unicode.IsSpace(r):
		default:
			return "", false
		}
	}
	return b.String(), true
}

// dialing is how a country's numbers are written at home: the calling
// code, and the trunk prefix dropped when the number is dialled from
// abroad ("" where the leading digit is part of the number, as in Italy).
type dialing struct{ code, trunk string }

// countries covers the shops' markets; a store in a country not listed
// gets numbers only in international form.
var countries = map[string]dialing{
	"US": {"1", "1"}, "CA": {"1", "1"}, "PR": {"1", "1"}, "MX": {"52", ""}, "BR": {"55", "0"}, "AR": {"54", "0"},
	"CL": {"56", ""}, "CO": {"57", "0"}, "PE": {"51", "0"},
	"GB": {"44", "0"}, "IE": {"353", "0"}, "PT": {"351", ""}, "ES": {"34", ""}, "FR": {"33", "0"}, "DE": {"49", "0"},
	"AT": {"43", "0"}, "CH": {"41", "0"}, "IT": {"39", ""}, "NL": {"31", "0"}, "BE": {"32", "0"}, "LU": {"352", ""},
	"DK": {"45", ""}, "SE": {"46", "0"}, "NO": {"47", ""}, "FI": {"358", "0"}, "IS": {"354", ""}, "PL": {"48", ""},
	"CZ": {"420", ""}, "SK": {"421", "0"}, "HU": {"36", "06"}, "SI": {"386", "0"}, "HR": {"385", "0"}, "RO": {"40", "0"},
	"BG": {"359", "0"}, "GR": {"30", ""}, "CY": {"357", ""}, "MT": {"356", ""}, "EE": {"372", ""}, "LV": {"371", ""},
	"LT": {"370", "8"}, "UA": {"380", "0"}, "RU": {"7", "8"}, "KZ": {"7", "8"}, "BY": {"375", "8"}, "TR": {"90", "0"},
	"IL": {"972", "0"}, "AE": {"971", "0"}, "SA": {"966", "0"}, "EG": {"20", "0"}, "ZA": {"27", "0"}, "NG": {"234", "0"},
	"IN": {"91", "0"}, "CN": {"86", "0"}, "JP": {"81", "0"}, "KR": {"82", "0"}, "SG": {"65", ""}, "HK": {"852", ""},
	"AU": {"61", "0"}, "NZ": {"64", "0"}, "ID": {"62", "0"}, "MY": {"60", "0"}, "TH": {"66", "0"}, "PH": {"63", "0"},
	"VN": {"84", "0"},
}

// Country reports whether onedesk knows how a country (ISO 3166 alpha-2)
// writes its phone numbers.
func Country(code string) bool {
	_, ok := countries[code]
	return ok
}

// NormalizePhone returns a phone number as E.164: numbers in
// international form as they are, numbers written the way they are
// dialled at home read as numbers of the country given.
func NormalizePhone(value, country string) (string, bool) {
	value = strings.TrimSpace(value)
	if p, ok := e164(value); ok || strings.HasPrefix(value, "+") || strings.HasPrefix(value, "00") {
		return p, ok
	}
	c, known := countries[country]
	if !known {
		return "", false
	}
	digits, ok := phoneDigits(value)
	if !ok {
		return "", false
	}
	if c.trunk != "" && strings.HasPrefix(digits, c.trunk) {
		digits = digits[len(c.trunk):]
	}
	return e164("+" + c.code + digits)
}
