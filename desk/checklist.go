package desk

import (
	"context"
	"fmt"
	"slices"

	"onedesk/store"
)

// The first-run checklist: what a new desk needs before it works for a
// shop, each step worked out from the real state (never ticked by hand),
// shown to admins until every step is done or it is dismissed.

// ChecklistStep is one step; Key names it for the app (its text and the
// screen it links to).
type ChecklistStep struct {
	Key  string `json:"key"` // store, snippet, mailbox, teammate, channel
	Done bool   `json:"done"`
}

// Checklist is the steps in order, and whether to show them at all.
type Checklist struct {
	Steps     []ChecklistStep `json:"steps"`
	Complete  bool            `json:"complete"`
	Dismissed bool            `json:"dismissed"`
}

const (
	checklistDismissedKey = "checklist_dismissed"
	widgetSeenKey         = "widget_seen"
)

// WidgetSeen records that the chat widget was loaded from a site other
// than the desk itself: the snippet is pasted.
func (d *Desk) WidgetSeen(ctx context.Context) {
	if d.widgetSeen.Load() {
		return
	}
	if err := d.db.SetSetting(ctx, widgetSeenKey, "1"); err != nil {
		d.log.Warn("checklist: record the widget seen", "err", err)
		return
	}
	d.widgetSeen.Store(true)
}

// Checklist works out the first-run steps from what the desk holds.
func (d *Desk) Checklist(ctx context.Context) (*Checklist, error) {
	accounts, err := d.Accounts(ctx)
	if err != nil {
		return nil, fmt.Errorf("checklist: %w", err)
	}
	stores, mailboxes, social := 0, 0, 0
	for _, a := range accounts {
		switch {
		case a.Channel == "chat": // every store has its chat
			stores++
		case a.Channel == "email":
			mailboxes++
		case slices.Contains(store.Platforms, a.Channel):
			social++
		}
	}
	agents, err := d.db.Agents(ctx)
	if err != nil {
		return nil, fmt.Errorf("checklist: %w", err)
	}
	seen, err := d.db.Setting(ctx, widgetSeenKey)
	if err != nil {
		return nil, fmt.Errorf("checklist: %w", err)
	}
	if seen == "" {
		// A chat that reached the desk proves the snippet is there too.
		chats, _, err := d.db.ListTickets(ctx, store.TicketFilter{Channel: "chat", Limit: 1})
		if err != nil {
			return nil, fmt.Errorf("checklist: %w", err)
		}
		if len(chats) > 0 {
			seen = "1"
		}
	}
	dismissed, err := d.db.Setting(ctx, checklistDismissedKey)
	if err != nil {
		return nil, fmt.Errorf("checklist: %w", err)
	}
	active := 0
	for _, a := range agents {
		if a.Active {
			active++
		}
	}
	c := &Checklist{Dismissed: dismissed != "", Steps: []ChecklistStep{
		{Key: "store", Done: stores > 0},
		{Key: "snippet", Done: seen != ""},
		{Key: "mailbox", Done: mailboxes > 0},
		{Key: "teammate", Done: active > 1},
		{Key: "channel", Done: social > 0},
	}}
	c.Complete = true
	for _, s := range c.Steps {
		c.Complete = c.Complete && s.Done
	}
	return c, nil
}

// DismissChecklist hides the checklist for every admin.
func (d *Desk) DismissChecklist(ctx context.Context) error {
	if err := d.db.SetSetting(ctx, checklistDismissedKey, "1"); err != nil {
		return fmt.Errorf("dismiss checklist: %w", err)
	}
	return nil
}
