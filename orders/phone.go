package orders

import (
	"strings"
	"unicode"
)

// Phones are compared as digits: shops keep them as the customer typed
// them ("912 345 678", "+351 912-345-678", "00351912345678"), the desk
// keeps E.164 ("+351912345678").

// PhoneDigits is a phone number's digits, without a trunk 0 or the 00
// written for +.
func PhoneDigits(s string) string {
	return strings.TrimLeft(strings.Map(func(r rune) rune {
		if unicode.IsDigit(r) && r < 128 {
			return r
		}
		return -1
	}, s), "0")
}

// SamePhone tells whether two numbers are one phone: the same digits,
// or one the other without its country code (at most three digits
// short, and at least seven digits long, so that the end of a number is
// not enough).
func SamePhone(a, b string) bool {
	a, b = PhoneDigits(a), PhoneDigits(b)
	if len(a) > len(b) {
		a, b = b, a
	}
	return len(a) >= 7 && len(b)-len(a) <= 3 && strings.HasSuffix(b, a)
}

// phoneSearch is what a shop's text search is given for a phone: its
// last nine digits (a national number in most countries), found inside
// "+351912345678", "00351912345678" and "0912345678" alike.
func phoneSearch(p string) string {
	d := PhoneDigits(p)
	if len(d) > 9 {
		d = d[len(d)-9:]
	}
	return d
}

// SameNumber tells whether an order number a customer typed is the
// shop's: the same once #, spaces and case are set aside, or the digits
// of a number a custom-number plugin prefixes ("1001" for "WC-1001").
func SameNumber(shop, typed string) bool {
	shop, typed = NormNumber(shop), NormNumber(typed)
	if shop == "" || typed == "" {
		return false
	}
	if shop == typed {
		return true
	}
	rest := strings.TrimLeftFunc(shop, func(r rune) bool { return r < '0' || r > '9' })
	return rest != shop && rest == typed && strings.Trim(typed, "0123456789") == ""
}

// NormNumber is an order number as compared: no #, no spaces, one case.
func NormNumber(n string) string {
	return strings.ToUpper(strings.TrimLeft(strings.Join(strings.Fields(n), ""), "#"))
}
