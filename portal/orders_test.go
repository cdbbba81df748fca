package portal

import (
	"testing"

	"onedesk/orders"
)

// Which email or phone proves an order: the shop's email in any case,
// or its phone written as people write it; never a part of either.
func TestContactMatches(t *testing.T) {
	o := orders.Order{Number: "#1001", Email: "Rui@Example.pt", Phone: "+351 912 345 678"}
	for contact, want := range map[string]bool{
		"rui@example.pt":    true,
		" RUI@EXAMPLE.PT":   false, // callers trim; a space is not an address
		"ui@example.pt":     false,
		"+351912345678":     true,
		"00351 912 345 678": true,
		"912 345 678":       true,
		"0912345678":        true, // a trunk 0
		"345678":            false,
		"12345678":          false, // the end of another number
		"":                  false,
		"+44 20 7946 0000":  false,
	} {
		if got := contactMatches(o, contact); got != want {
			t.Errorf("%q: %v, want %v", contact, got, want)
		}
	}
	// WooCommerce keeps the billing phone as typed: a national number.
	if !contactMatches(orders.Order{Phone: "912 345 678"}, "+351 912 345 678") || contactMatches(orders.Order{Phone: "912 345 678"}, "+351 912 345 670") {
		t.Error("a national billing phone is not the customer's international one")
	}
	if contactMatches(orders.Order{Email: ""}, "@") || contactMatches(orders.Order{Phone: ""}, "912345678") {
		t.Error("an order without email or phone matched")
	}
}
