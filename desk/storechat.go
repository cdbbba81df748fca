package desk

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"onedesk/hours"
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
		if _, err := hours.ParseDay(day); err != nil {
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
	if c.PageURL = strings.TrimSpace(c.PageURL); c.PageURL != "" {
		u, err := url.Parse(c.PageURL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(c.PageURL) > 500 || u.User != nil {
			return inputErr("chat.page_url", "the chat page must be a web address like https://shop.example/help, of at most 500 characters")
		}
		u.Fragment = "" // the continue link puts its own
		c.PageURL = u.String()
	}
	return oneOf("chat.idle_status", c.IdleStatus, []string{"resolved", "pending"})
}

// ChatOpen tells whether a store takes live chats at t: always, unless it
// set business hours, which are read in the store's time zone.
func ChatOpen(st *store.Store, t time.Time) bool { return hours.Of(st).Open(t) }

// StoreHours is a store's business hours (hours.Business), kept until a
// store changes: SLA targets and reports count business time with them.
func (d *Desk) StoreHours(ctx context.Context, tx *store.Tx, id int64) (*hours.Week, error) {
	return d.storeHours.Get(id, func() (*store.Store, error) {
		st, err := tx.Store(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		return st, err
	})
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
