package desk

import (
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// A code is good for the step before, of and after now, once each.
func TestMatchTOTPWindowAndReuse(t *testing.T) {
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "onedesk", AccountName: "ann@shop.test"})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_015, 0) // 15 s into a step
	step := now.Unix() / totpPeriod
	codeAt := func(s int64) string {
		c, err := totp.GenerateCodeCustom(key.Secret(), time.Unix(s*totpPeriod, 0), totpOpts)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, d := range []int64{-1, 0, 1} {
		got, err := matchTOTP(key.Secret(), codeAt(step + d)[:3]+" "+codeAt(step + d)[3:], 0, now)
		if err != nil || got != step+d {
			t.Errorf("step %+d: got %d, %v", d, got-step, err)
		}
	}
	for _, d := range []int64{-3, -2, 2, 3} {
		if _, err := matchTOTP(key.Secret(), codeAt(step+d), 0, now); !errors.Is(err, ErrWrongCode) {
			t.Errorf("step %+d accepted: %v", d, err)
		}
	}
	if _, err := matchTOTP(key.Secret(), codeAt(step), step, now); !errors.Is(err, ErrCodeUsed) {
		t.Errorf("a used step: %v", err)
	}
	if got, err := matchTOTP(key.Secret(), codeAt(step+1), step, now); err != nil || got != step+1 {
		t.Errorf("the next step after a used one: %d, %v", got, err)
	}
}

func TestRecoveryCodes(t *testing.T) {
	codes, hashes := newRecoveryCodes()
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != 11 || c[5] != '-' || seen[c] {
			t.Fatalf("code %q", c)
		}
		seen[c] = true
		if hashCode(normalizeCode(" "+c+" ")) != hashes[i] {
			t.Fatalf("code %q does not match its hash", c)
		}
	}
}
