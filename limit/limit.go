// Package limit is the rate limiter every public door uses: a token
// bucket per key (an address, an agent, a visitor token).
package limit

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Limiter holds one bucket per key. A negative rate turns it off.
type Limiter struct {
	mu    sync.Mutex
	rate  rate.Limit
	burst int
	off   bool
	keys  map[string]*entry

	// Shared across nodes (NewShared): the bucket is the bank's, and each
	// key keeps here only the tokens this node was granted.
	name  string
	bank  Bank
	chunk int
	// bankDown is until when (unix ns) the bank is not asked: it failed,
	// and each request must not wait bankWait again.
	bankDown atomic.Int64
}

type entry struct {
	lim  *rate.Limiter // the bucket itself; shared: the stand-in while the bank does not answer
	seen time.Time

	// Shared: tokens granted by the bank and not spent yet, until when
	// they may be, and until when the bank has none to give.
	mu      sync.Mutex
	tokens  int
	expires time.Time
	empty   time.Time
}

// Bank holds the buckets of limiters shared by several nodes (the
// database they share): TakeTokens takes up to want tokens from the
// bucket of limit name and key, refilled at perSecond up to burst, and
// says how many it gave and how many are left.
type Bank interface {
	TakeTokens(ctx context.Context, name, key string, perSecond float64, burst, want int) (granted int, left float64, err error)
}

// Shared limiters take a few tokens at a time (a quarter of a second's
// worth at the full rate, at least one) so that a client costs a round
// trip to the bank per handful of requests; tokens unspent for grantLife
// are dropped, so a node's stock never adds to a burst the bank has
// already given elsewhere since. bankWait bounds a round trip: past it
// (the database busy or gone) the node counts alone, as on one node, and
// asks again bankRetry later.
const (
	grantLife = 2 * time.Second
	bankWait  = 500 * time.Millisecond
	bankRetry = 5 * time.Second
)

// New returns a limiter allowing perSecond requests per key, in bursts of
// burst; a negative perSecond allows everything.
func New(perSecond float64, burst int) *Limiter {
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, keys: map[string]*entry{}, off: perSecond < 0}
}

// NewShared is New counted in bank, the same for every node that names
// the limit name: a client spread over several nodes gets the limit once,
// not once per node. A nil bank (one node) is New.
func NewShared(bank Bank, name string, perSecond float64, burst int) *Limiter {
	l := New(perSecond, burst)
	if bank != nil {
		l.bank, l.name = bank, name
		l.chunk = max(1, min(burst, int(perSecond/4)))
	}
	return l
}

// Allow takes one token from key's bucket, if it has one.
func (l *Limiter) Allow(key string) bool {
	if l.off {
		return true
	}
	now := time.Now()
	l.mu.Lock()
	e := l.keys[key]
	if e == nil {
		e = &entry{lim: rate.NewLimiter(l.rate, l.burst)}
		l.keys[key] = e
	}
	e.seen = now
	l.mu.Unlock()
	if l.bank == nil {
		return e.lim.Allow()
	}
	return l.allowShared(key, e, now)
}

// allowShared spends a granted token, or asks the bank for more; one
// key's requests wait for its one round trip, other keys do not.
func (l *Limiter) allowShared(key string, e *entry, now time.Time) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.tokens > 0 && now.Before(e.expires) {
		e.tokens--
		return true
	}
	if now.Before(e.empty) {
		return false
	}
	if now.UnixNano() < l.bankDown.Load() {
		return e.lim.Allow()
	}
	ctx, cancel := context.WithTimeout(context.Background(), bankWait)
	got, left, err := l.bank.TakeTokens(ctx, l.name, key, float64(l.rate), l.burst, l.chunk)
	cancel()
	if err != nil {
		// Counted on this node alone until the bank answers again.
		l.bankDown.Store(now.Add(bankRetry).UnixNano())
		return e.lim.Allow()
	}
	if got == 0 {
		wait := time.Second
		if l.rate > 0 {
			wait = time.Duration((1 - left) / float64(l.rate) * float64(time.Second))
		}
		e.empty = now.Add(max(wait, time.Millisecond))
		return false
	}
	e.tokens, e.expires = got-1, now.Add(grantLife)
	return true
}

// Sweep forgets keys not seen for a while, so the map stays small.
func (l *Limiter) Sweep(idle time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.keys {
		if time.Since(e.seen) > idle {
			delete(l.keys, k)
		}
	}
}
