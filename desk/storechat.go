package desk

import (
	"context"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/store"
)

// Limits of a store's chat settings.
const (
	MaxChatFileMB     = 25 // the most a store may let visitors send in one file
	DefaultChatFileMB = 10
)

var colorRE = regexp.MustCompile(`^#[0-9a-fA-F]{6}$`)

// checkChat validates a store's chat settings and cleans them in place.
func checkChat(c *store.ChatSettings) error {
	c.Color = strings.ToLower(strings.TrimSpace(c.Color))
	if c.Color != "" && !colorRE.MatchString(c.Color) {
		return inputErr("chat.color", "colour must look like #2563eb")
	}
	if c.Position == "" {
		c.Position = "right"
	}
	if err := oneOf("chat.position", c.Position, []string{"right", "left"}); err != nil {
		return err
	}
	c.Launcher, c.Greeting = cleanLine(c.Launcher), strings.TrimSpace(c.Greeting)
	if utf8.RuneCountInString(c.Launcher) > 40 {
		return inputErr("chat.launcher", "the launcher text may have at most 40 characters")
	}
	if utf8.RuneCountInString(c.Greeting) > 500 {
		return inputErr("chat.greeting", "the greeting may have at most 500 characters")
	}
	if c.PreChat == "" {
		c.PreChat = "off"
	}
	if err := oneOf("chat.prechat", c.PreChat, []string{"off", "optional", "required"}); err != nil {
		return err
	}
	if c.MaxFileMB < 0 || c.MaxFileMB > MaxChatFileMB {
		return inputErr("chat.max_file_mb", "files may be at most %d MB", MaxChatFileMB)
	}
	if len(c.Hours) != 0 && len(c.Hours) != 7 {
		return inputErr("chat.hours", "business hours need 7 days, Sunday to Saturday, or none at all")
	}
	for i, day := range c.Hours {
		if _, err := parseSpans(day); err != nil {
			return inputErr("chat.hours", "%s: %v", time.Weekday(i), err)
		}
		c.Hours[i] = strings.TrimSpace(day)
	}
	if c.IdleMinutes < 0 || c.IdleMinutes > 7*24*60 {
		return inputErr("chat.idle_minutes", "the inactivity time must be between 0 (never) and %d minutes", 7*24*60)
	}
	if c.IdleStatus == "" {
		c.IdleStatus = "resolved"
	}
	return oneOf("chat.idle_status", c.IdleStatus, []string{"resolved", "pending"})
}

// span is a part of a day, in minutes since midnight.
type span struct{ from, to int }

// parseSpans reads "09:00-12:00, 13:00-17:30" ("" is closed all day).
func parseSpans(s string) ([]span, error) {
	var out []span
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
		out = append(out, span{from, to})
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

// ChatOpen tells whether a store takes live chats at t: always, unless it
// set business hours, which are read in the store's time zone.
func ChatOpen(st *store.Store, t time.Time) bool {
	if len(st.Chat.Hours) != 7 {
		return true
	}
	if loc, err := time.LoadLocation(st.Timezone); err == nil {
		t = t.In(loc)
	}
	spans, _ := parseSpans(st.Chat.Hours[t.Weekday()])
	now := t.Hour()*60 + t.Minute()
	for _, sp := range spans {
		if now >= sp.from && now < sp.to {
			return true
		}
	}
	return false
}

// CloseIdleChats applies each store's inactivity rule at now: answered
// chats without activity for the store's idle time are resolved (or set
// pending). It returns how many tickets it moved.
func (d *Desk) CloseIdleChats(ctx context.Context, now time.Time) (int, error) {
	stores, err := d.db.Stores(ctx)
	if err != nil {
		return 0, err
	}
	moved := 0
	for _, st := range stores {
		c := st.Chat
		if c.IdleMinutes <= 0 {
			continue
		}
		to := c.IdleStatus
		if to == "" {
			to = "resolved"
		}
		from := []string{"new", "open"}
		if to == "resolved" {
			from = append(from, "pending")
		}
		before := now.Add(-time.Duration(c.IdleMinutes) * time.Minute)
		for _, status := range from {
			ids, err := d.db.IdleChats(ctx, st.ID, status, before, 500)
			if err != nil {
				return moved, err
			}
			for _, id := range ids {
				if _, err := d.UpdateTicket(ctx, Actor{Kind: "inactivity"}, id, Update{Status: to}); err != nil {
					return moved, fmt.Errorf("idle chat %d: %w", id, err)
				}
				moved++
			}
		}
	}
	return moved, nil
}

// OriginAllowed tells whether a page of origin may use a store's chat or
// forms: a store that lists origins takes only those; one that lists none
// takes any (the snippet works before the owner sets it up). The desk's
// own pages (host) are always allowed.
func OriginAllowed(st *store.Store, origin, host string) bool {
	if origin == "" || len(st.AllowedOrigins) == 0 {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host == host {
		return true
	}
	return slices.ContainsFunc(st.AllowedOrigins, func(o string) bool { return strings.EqualFold(o, origin) })
}
