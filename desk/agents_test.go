package desk

import (
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// The hash a login for an unknown email is checked against costs what a
// real agent's does, or the login's time would tell which emails exist.
func TestDummyHashCostsLikeARealOne(t *testing.T) {
	cost, err := bcrypt.Cost(dummyHash)
	if err != nil {
		t.Fatal(err)
	}
	if cost != bcrypt.DefaultCost {
		t.Fatalf("dummy hash cost %d, real hashes cost %d", cost, bcrypt.DefaultCost)
	}
}
