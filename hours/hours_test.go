package hours

import (
	"testing"
	"time"

	"onedesk/store"
)

// weekdays is a store open Monday to Friday 09:00-12:00 and 13:00-17:00.
var weekdays = []string{"", "09:00-12:00, 13:00-17:00", "09:00-12:00, 13:00-17:00", "09:00-12:00, 13:00-17:00",
	"09:00-12:00, 13:00-17:00", "09:00-12:00, 13:00-17:00", ""}

func mustHours(t *testing.T, tz string, days []string) *Week {
	t.Helper()
	b := Business(&store.Store{Timezone: tz, Chat: store.ChatSettings{Hours: days}})
	if b == nil {
		t.Fatal("no hours")
	}
	return b
}

func at(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestBusinessHoursArithmetic(t *testing.T) {
	lisbon := mustHours(t, "Europe/Lisbon", weekdays)
	always := mustHours(t, "Europe/Lisbon", []string{"00:00-24:00", "00:00-24:00", "00:00-24:00", "00:00-24:00",
		"00:00-24:00", "00:00-24:00", "00:00-24:00"})
	newYork := mustHours(t, "America/New_York", weekdays)
	cases := []struct {
		name  string
		hours *Week
		start string
		add   time.Duration
		want  string
	}{
		// Lisbon is UTC+0 in winter and UTC+1 from 29 March 2026.
		{"within a span", lisbon, "2026-03-23T09:30:00Z", time.Hour, "2026-03-23T10:30:00Z"},
		{"over lunch", lisbon, "2026-03-23T11:30:00Z", time.Hour, "2026-03-23T13:30:00Z"},
		{"before opening", lisbon, "2026-03-23T06:00:00Z", 30 * time.Minute, "2026-03-23T09:30:00Z"},
		{"after closing", lisbon, "2026-03-23T18:00:00Z", time.Hour, "2026-03-24T10:00:00Z"},
		{"over the weekend", lisbon, "2026-03-20T16:00:00Z", 2 * time.Hour, "2026-03-23T10:00:00Z"},
		{"saturday waits for monday", lisbon, "2026-03-21T10:00:00Z", 15 * time.Minute, "2026-03-23T09:15:00Z"},
		{"over the weekend the clocks go forward", lisbon, "2026-03-27T16:00:00Z", 2 * time.Hour, "2026-03-30T09:00:00Z"},
		{"over the weekend the clocks go back", lisbon, "2026-10-23T15:00:00Z", 2 * time.Hour, "2026-10-26T10:00:00Z"},
		{"a whole business week", lisbon, "2026-03-23T09:00:00Z", 35 * time.Hour, "2026-03-27T17:00:00Z"},
		{"just past a whole week", lisbon, "2026-03-23T09:00:00Z", 35*time.Hour + time.Minute, "2026-03-30T08:01:00Z"},
		{"zero stays", lisbon, "2026-03-23T10:00:00Z", 0, "2026-03-23T10:00:00Z"},
		// Open around the clock: a day of 23 or 25 hours counts as long as it is.
		{"always open, short day", always, "2026-03-28T12:00:00Z", 24 * time.Hour, "2026-03-29T12:00:00Z"},
		{"always open, long day", always, "2026-10-24T12:00:00Z", 24 * time.Hour, "2026-10-25T12:00:00Z"},
		// New York moves its clocks on 8 March 2026 (UTC-5 to UTC-4).
		{"new york over its change", newYork, "2026-03-06T22:00:00Z", time.Hour, "2026-03-09T14:00:00Z"},
		{"calendar time", nil, "2026-03-27T16:00:00Z", 50 * time.Hour, "2026-03-29T18:00:00Z"},
	}
	for _, c := range cases {
		got := c.hours.Add(at(t, c.start), c.add)
		if !got.Equal(at(t, c.want)) {
			t.Errorf("%s: add(%s, %s) = %s, want %s", c.name, c.start, c.add, got.UTC().Format(time.RFC3339), c.want)
		}
		if back := c.hours.Between(at(t, c.start), got); c.add > 0 && back != c.add {
			t.Errorf("%s: between(start, add(start, %s)) = %s", c.name, c.add, back)
		}
	}
	if got := always.Between(at(t, "2026-03-29T00:00:00Z"), at(t, "2026-03-29T23:00:00Z")); got != 23*time.Hour {
		t.Errorf("the day the clocks go forward lasts 23 h of business, got %s", got)
	}
	if got := lisbon.Between(at(t, "2026-03-20T16:00:00Z"), at(t, "2026-03-23T10:00:00Z")); got != 2*time.Hour {
		t.Errorf("friday 16:00 to monday 10:00 is 2 business hours, got %s", got)
	}
	if got := lisbon.Between(at(t, "2026-03-21T08:00:00Z"), at(t, "2026-03-22T20:00:00Z")); got != 0 {
		t.Errorf("a weekend has no business hours, got %s", got)
	}
	if Business(&store.Store{Chat: store.ChatSettings{Hours: []string{"", "", "", "", "", "", ""}}}) != nil {
		t.Error("a store closed every day counts as always open, not as never")
	}
}

// The chat reads the same hours as open or closed at a moment: in the
// store's zone, and never open when closed every day (which business
// time counts as around the clock instead).
func TestOpen(t *testing.T) {
	lisbon := Of(&store.Store{Timezone: "Europe/Lisbon", Chat: store.ChatSettings{Hours: weekdays}})
	for at_, want := range map[string]bool{
		"2026-03-23T09:00:00Z": true,  // Monday opening
		"2026-03-23T12:30:00Z": false, // lunch
		"2026-03-30T08:30:00Z": true,  // 09:30 in summer time
		"2026-03-30T16:30:00Z": false, // 17:30 in summer time
		"2026-03-21T10:00:00Z": false, // Saturday
	} {
		if got := lisbon.Open(at(t, at_)); got != want {
			t.Errorf("open at %s = %v, want %v", at_, got, want)
		}
	}
	closed := &store.Store{Chat: store.ChatSettings{Hours: []string{"", "", "", "", "", "", ""}}}
	if Of(closed).Open(at(t, "2026-03-23T10:00:00Z")) || Business(closed) != nil {
		t.Error("a store closed every day: the chat is closed, business time runs around the clock")
	}
	if !Of(&store.Store{}).Open(at(t, "2026-03-21T03:00:00Z")) {
		t.Error("a store without hours takes chats at any time")
	}
}
