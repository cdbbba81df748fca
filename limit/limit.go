// Package limit is the rate limiter every public door uses: a token
// bucket per key (an address, an agent, a visitor token).
package limit

import (
	"sync"
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
}

type entry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New returns a limiter allowing perSecond requests per key, in bursts of
// burst; a negative perSecond allows everything.
func New(perSecond float64, burst int) *Limiter {
	return &Limiter{rate: rate.Limit(perSecond), burst: burst, keys: map[string]*entry{}, off: perSecond < 0}
}

// Allow takes one token from key's bucket, if it has one.
func (l *Limiter) Allow(key string) bool {
	if l.off {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.keys[key]
	if e == nil {
		e = &entry{lim: rate.NewLimiter(l.rate, l.burst)}
		l.keys[key] = e
	}
	e.seen = time.Now()
	return e.lim.Allow()
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
