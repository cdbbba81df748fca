// Package hours reads a store's opening hours (set with its chat: seven
// days, Sunday first, each like "09:00-12:00, 13:00-17:30") once, for
// both of their uses: whether the chat is open now, and business time for
// SLA targets and reports.
package hours

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"onedesk/store"
)

// Week is a store's opening hours in its time zone. A nil *Week is open
// around the clock.
type Week struct {
	loc  *time.Location // nil: an unknown zone (see zone)
	days [7][]Span      // Sunday first
}

// Span is a part of a day, in minutes since midnight.
type Span struct{ From, To int }

// ParseDay reads "09:00-12:00, 13:00-17:30" ("" is closed all day).
func ParseDay(s string) ([]Span, error) {
	var out []Span
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		a, b, ok := strings.Cut(part, "-")
		from, err1 := clock(a)
		to, err2 := clock(b)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("%q is not a time span like 09:00-17:30", part)
		}
		if from >= to {
			return nil, fmt.Errorf("%q ends before it starts", part)
		}
		out = append(out, Span{from, to})
	}
	return out, nil
}

// clock reads "9:30" or "09:30" as minutes since midnight; "24:00" is the end of the day.
func clock(s string) (int, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || hh < 0 || mm < 0 || mm > 59 || hh*60+mm > 24*60 {
		return 0, fmt.Errorf("bad time %q", s)
	}
	return hh*60 + mm, nil
}

// Of reads a store's opening hours: nil when it keeps none (not seven
// days). Days that do not parse are closed (they are checked on saving).
func Of(st *store.Store) *Week {
	if st == nil || len(st.Chat.Hours) != 7 {
		return nil
	}
	w := &Week{}
	if loc, err := time.LoadLocation(st.Timezone); err == nil {
		w.loc = loc
	}
	for i, day := range st.Chat.Hours {
		w.days[i], _ = ParseDay(day)
	}
	return w
}

// Business is a store's opening hours for counting business time: nil
// (around the clock) when it keeps none or is closed every day, which
// counts as always open rather than as never.
func Business(st *store.Store) *Week {
	w := Of(st)
	if w == nil {
		return nil
	}
	for _, day := range w.days {
		if len(day) > 0 {
			return w
		}
	}
	return nil
}

// Open tells whether t falls in the opening hours, read in their time
// zone (a store closed every day is never open).
func (w *Week) Open(t time.Time) bool {
	if w == nil {
		return true
	}
	if w.loc != nil { // else read as given, as the chat always did
		t = t.In(w.loc)
	}
	now := t.Hour()*60 + t.Minute()
	for _, sp := range w.days[t.Weekday()] {
		if now >= sp.From && now < sp.To {
			return true
		}
	}
	return false
}

// zone is where business time is counted: UTC for a zone this machine
// does not know.
func (w *Week) zone() *time.Location {
	if w.loc == nil {
		return time.UTC
	}
	return w.loc
}

// maxDays bounds the walk over the calendar: targets are at most a year
// of business time, and some day of every week is open.
const maxDays = 8 * 366

// spansFrom calls f with each opening span, as absolute times, from the
// day of start on, until f returns false. A span's wall-clock times are
// read on its own day, so a day when the clocks change has its real
// length.
func (w *Week) spansFrom(start time.Time, f func(from, to time.Time) bool) {
	loc := w.zone()
	y, m, d := start.In(loc).Date()
	for i := 0; i < maxDays; i++ {
		day := time.Date(y, m, d+i, 0, 0, 0, 0, loc)
		for _, sp := range w.days[day.Weekday()] {
			from := time.Date(y, m, d+i, sp.From/60, sp.From%60, 0, 0, loc)
			to := time.Date(y, m, d+i, sp.To/60, sp.To%60, 0, 0, loc)
			if !f(from, to) {
				return
			}
		}
	}
}

// Add is the time when d of business time has passed since start.
func (w *Week) Add(start time.Time, d time.Duration) time.Time {
	if w == nil {
		return start.Add(d)
	}
	end, found := start.Add(d), false
	w.spansFrom(start, func(from, to time.Time) bool {
		if !to.After(start) {
			return true
		}
		if from.Before(start) {
			from = start
		}
		if left := to.Sub(from); d <= left {
			end, found = from.Add(d), true
			return false
		} else {
			d -= left
		}
		return true
	})
	if !found {
		return start.Add(d) // not reached: every week has open hours
	}
	return end
}

// Between is the business time from a to c.
func (w *Week) Between(a, c time.Time) time.Duration {
	if !c.After(a) {
		return 0
	}
	if w == nil {
		return c.Sub(a)
	}
	var sum time.Duration
	w.spansFrom(a, func(from, to time.Time) bool {
		if !from.Before(c) {
			return false
		}
		from, to = later(from, a), earlier(to, c)
		if to.After(from) {
			sum += to.Sub(from)
		}
		return true
	})
	return sum
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// Cache keeps stores' business hours (Business) by store id until
// Forget, so that the SLA clock does not read and parse them on each
// ticket change. The zero Cache is ready.
type Cache struct {
	mu      sync.RWMutex
	byStore map[int64]*Week
	gen     uint64 // counts Forgets, so a read racing one is not kept
}

// Get is the business hours of store id, read with read on a miss.
func (c *Cache) Get(id int64, read func() (*store.Store, error)) (*Week, error) {
	c.mu.RLock()
	w, ok := c.byStore[id]
	gen := c.gen
	c.mu.RUnlock()
	if ok {
		return w, nil
	}
	st, err := read()
	if err != nil {
		return nil, err
	}
	w = Business(st)
	c.mu.Lock()
	if c.byStore == nil {
		c.byStore = map[int64]*Week{}
	}
	if c.gen == gen {
		c.byStore[id] = w
	}
	c.mu.Unlock()
	return w, nil
}

// Forget drops what is kept, after a store changed.
func (c *Cache) Forget() {
	c.mu.Lock()
	c.byStore = nil
	c.gen++
	c.mu.Unlock()
}
