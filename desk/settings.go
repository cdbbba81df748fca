package desk

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Settings are the desk-wide choices an admin makes.
type Settings struct {
	// A customer writing on a resolved ticket reopens it; after this many
	// days since it was resolved, a new ticket linked to it starts instead.
	ReopenDays int `json:"reopen_days"`
	// An agent's reply on an unassigned ticket makes it theirs.
	AssignOnReply bool `json:"assign_on_reply"`
	// Resolved and closed tickets untouched for this many months are
	// deleted (package privacy's retention rule); 0 keeps them.
	RetentionMonths int `json:"retention_months"`
	// Every agent signs in with a code: one without two-factor sign-in
	// sets it up right after the password, before anything else.
	RequireTwoFactor bool `json:"require_two_factor"`
}

var defaultSettings = Settings{ReopenDays: 30, AssignOnReply: true}

const settingsKey = "desk"

// Settings reads the desk settings (defaults where unset).
func (d *Desk) Settings(ctx context.Context) (Settings, error) {
	d.mu.RLock()
	cached, read := d.settings, d.settingsRead
	d.mu.RUnlock()
	if cached != nil && (!d.db.Multinode() || time.Since(read) < settingsFresh) {
		return *cached, nil
	}
	s := defaultSettings
	raw, err := d.db.Setting(ctx, settingsKey)
	if err != nil {
		return s, fmt.Errorf("read settings: %w", err)
	}
	if raw != "" {
		if err := json.Unmarshal([]byte(raw), &s); err != nil {
			return defaultSettings, fmt.Errorf("read settings: %w", err)
		}
	}
	d.mu.Lock()
	d.settings, d.settingsRead = &s, time.Now()
	d.mu.Unlock()
	return s, nil
}

// settingsFresh is how long a node trusts its copy of the settings when
// other nodes may change them; a change is also announced to them at once.
const settingsFresh = 10 * time.Second

// forgetSettings drops the cached settings: another node changed them.
func (d *Desk) forgetSettings() {
	d.mu.Lock()
	d.settings = nil
	d.mu.Unlock()
}

// SaveSettings checks and stores the desk settings.
func (d *Desk) SaveSettings(ctx context.Context, s Settings) (Settings, error) {
	if s.ReopenDays < 1 || s.ReopenDays > 3650 {
		return s, inputErr("reopen_days", "reopen_days must be from 1 to 3650")
	}
	if s.RetentionMonths < 0 || s.RetentionMonths > 1200 {
		return s, inputErr("retention_months", "retention_months must be from 0 (keep every ticket) to 1200")
	}
	raw, _ := json.Marshal(s)
	if err := d.db.SetSetting(ctx, settingsKey, string(raw)); err != nil {
		return s, fmt.Errorf("save settings: %w", err)
	}
	d.mu.Lock()
	d.settings, d.settingsRead = &s, time.Now()
	d.mu.Unlock()
	d.bus.signal(nodeSignal{Settings: true}) // e.g. "require two-factor sign-in" holds on every node at once
	return s, nil
}

// secret is this installation's key for tokens we hand out (the reply
// address token); made once and kept in the database.
func (d *Desk) secret(ctx context.Context) ([]byte, error) {
	d.mu.RLock()
	key := d.key
	d.mu.RUnlock()
	if key != nil {
		return key, nil
	}
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	stored, err := d.db.InitSetting(ctx, "secret", hex.EncodeToString(fresh))
	if err != nil {
		return nil, err
	}
	if key, err = hex.DecodeString(stored); err != nil || len(key) < 16 {
		return nil, fmt.Errorf("the stored secret is damaged")
	}
	d.mu.Lock()
	d.key = key
	d.mu.Unlock()
	return key, nil
}

func (d *Desk) ticketKey(ctx context.Context, ticketID int64) (string, error) {
	key, err := d.secret(ctx)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	fmt.Fprintf(mac, "reply-to:%d", ticketID)
	return hex.EncodeToString(mac.Sum(nil))[:8], nil
}

// Sign is a short signature of msg with the installation's secret: what
// the desk hands out and must recognise later (a form's start time).
func (d *Desk) Sign(ctx context.Context, msg string) (string, error) {
	key, err := d.secret(ctx)
	if err != nil {
		return "", err
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(msg))
	return hex.EncodeToString(mac.Sum(nil))[:16], nil
}

// ReplyAddress is the plus-address a reply on a ticket invites answers
// to: support+t123.k4f9a2c1@shop. The key keeps strangers from writing
// into a ticket by guessing its number.
func (d *Desk) ReplyAddress(ctx context.Context, address string, ticketID int64) (string, error) {
	local, domain, ok := strings.Cut(address, "@")
	if !ok {
		return "", fmt.Errorf("reply address of %q: not an email address", address)
	}
	k, err := d.ticketKey(ctx, ticketID)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s+t%d.k%s@%s", local, ticketID, k, domain), nil
}

// TicketOfReplyAddress reads the ticket out of an address made by
// ReplyAddress for one of base's plus-addresses; 0 when it is not one or
// its key is wrong.
func (d *Desk) TicketOfReplyAddress(ctx context.Context, base, address string) int64 {
	bl, bd, _ := strings.Cut(strings.ToLower(base), "@")
	local, domain, _ := strings.Cut(strings.ToLower(address), "@")
	tag, ok := strings.CutPrefix(local, bl+"+t")
	if !ok || domain != bd {
		return 0
	}
	num, k, ok := strings.Cut(tag, ".k")
	id, err := strconv.ParseInt(num, 10, 64)
	if !ok || err != nil || id <= 0 {
		return 0
	}
	want, err := d.ticketKey(ctx, id)
	if err != nil || !hmac.Equal([]byte(k), []byte(want)) {
		return 0
	}
	return id
}

// reopenLimit is the oldest resolution a customer's message still reopens.
func (d *Desk) reopenLimit(ctx context.Context) time.Time {
	s, err := d.Settings(ctx)
	if err != nil {
		d.log.Warn("settings", "err", err)
	}
	return time.Now().Add(-time.Duration(s.ReopenDays) * 24 * time.Hour)
}
