package ui_test

import (
	"testing"
	"time"

	"onedesk/store/storetest"
	"onedesk/ui"
)

// TestRateLimitsHoldAcrossNodes: two nodes on one PostgreSQL database,
// and one client spread over both, gets each limit once, not once per
// node: an API token's requests (rate 10/s, bursts of 100) and an
// address's failed sign-ins (bursts of 5).
func TestRateLimitsHoldAcrossNodes(t *testing.T) {
	url := storetest.PostgresURL(t)
	const rate, burst = 10, 100
	a := newEnvAt(t, url, ui.Options{APIRate: rate})
	b := newEnvAt(t, url, ui.Options{APIRate: rate})
	onA := a.admin().apiClient() // setup: one sign-in of 127.0.0.1's five
	onB := b.client()
	onB.token = onA.token

	began := time.Now()
	allowed, refused := 0, 0
	for time.Since(began) < 2*time.Second {
		c := onA
		if (allowed+refused)%2 == 1 {
			c = onB
		}
		switch st := c.do("GET", "/api/me", nil).status; st {
		case 200:
			allowed++
		case 429:
			refused++
		default:
			t.Fatalf("GET /api/me: %d", st)
		}
	}
	took := time.Since(began)
	most := burst + int(rate*took.Seconds()) + 1
	t.Logf("API: %d allowed, %d refused over two nodes in %s (the limit allows %d; counted per node it was %d)",
		allowed, refused, took.Round(time.Millisecond), most, 2*most)
	if allowed > most {
		t.Fatalf("%d requests allowed over two nodes in %s, want at most %d", allowed, took, most)
	}
	if allowed < burst-2*rate {
		t.Fatalf("only %d requests allowed, want about a burst of %d", allowed, burst)
	}

	// Sign-ins: 10 a minute, bursts of 5, per address; setup took one.
	began = time.Now()
	tried := 0
	allowed = 0
	for ; tried < 12; tried++ {
		c := a.client()
		if tried%2 == 1 {
			c = b.client()
		}
		switch st := c.do("POST", "/api/auth/login", map[string]string{"email": "owner@shop.test", "password": "wrong guess"}).status; st {
		case 401:
			allowed++
		case 429:
		default:
			t.Fatalf("a wrong password: %d", st)
		}
	}
	most = 4 + int(time.Since(began)/(6*time.Second))
	t.Logf("sign-ins: %d of %d tried reached the password check over two nodes (the limit allows %d)", allowed, tried, most)
	if allowed > most {
		t.Fatalf("%d sign-ins reached the password check over two nodes, want at most %d", allowed, most)
	}
}
