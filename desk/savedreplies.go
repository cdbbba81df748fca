package desk

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"onedesk/store"
)

// MaxTemplateText is the longest text of a saved reply, and of a rule's
// note or automatic reply.
const MaxTemplateText = 10000

// SaveSavedReply creates (id 0) or replaces a saved reply.
func (d *Desk) SaveSavedReply(ctx context.Context, id int64, r store.SavedReply) (*store.SavedReply, error) {
	r.Title = cleanLine(r.Title)
	if r.Title == "" || utf8.RuneCountInString(r.Title) > 100 {
		return nil, inputErr("title", "a saved reply needs a title of at most 100 characters")
	}
	if strings.TrimSpace(r.Body) == "" || len(r.Body) > MaxTemplateText {
		return nil, inputErr("body", "a saved reply needs a text of at most %d characters", MaxTemplateText)
	}
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		if err := exists(ctx, tx, "stores", "store_id", r.StoreID); err != nil {
			return err
		}
		if err := exists(ctx, tx, "teams", "team_id", r.TeamID); err != nil {
			return err
		}
		r.UpdatedAt = store.Now()
		if id == 0 {
			r.CreatedAt, r.Uses = r.UpdatedAt, 0
			return tx.InsertSavedReply(ctx, &r)
		}
		r.ID = id
		return tx.UpdateSavedReply(ctx, &r)
	})
	if err != nil {
		return nil, err
	}
	if id != 0 {
		return d.db.SavedReply(ctx, id)
	}
	return &r, nil
}

// DeleteSavedReply removes a saved reply.
func (d *Desk) DeleteSavedReply(ctx context.Context, id int64) error {
	return d.db.Write(ctx, func(tx *store.Tx) error { return tx.DeleteSavedReply(ctx, id) })
}

// RenderSavedReply fills a saved reply's placeholders for a ticket and
// the agent inserting it, and counts the use. A value the ticket lacks
// (no order found, no phone) becomes empty text.
func (d *Desk) RenderSavedReply(ctx context.Context, id, ticketID int64, agent *store.Agent) (string, error) {
	r, err := d.db.SavedReply(ctx, id)
	if err != nil {
		return "", err
	}
	name := ""
	if agent != nil {
		name = agent.Name
	}
	values, err := d.Placeholders(ctx, ticketID, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return "", inputErr("ticket_id", "ticket %d does not exist", ticketID)
		}
		return "", err
	}
	if err := d.db.Write(ctx, func(tx *store.Tx) error { return tx.UseSavedReply(ctx, id) }); err != nil {
		return "", err
	}
	return FillPlaceholders(r.Body, values), nil
}
