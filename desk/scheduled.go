package desk

import (
	"context"
	"fmt"
	"strings"
	"time"

	"onedesk/store"
)

// Scheduled replies (issue #28): a reply queued with ReplyInput.SendAt
// waits in the outbox until its time, which sends it once like any
// reply. Until then an agent may change its text or time, or cancel it.

// MaxSchedule is how far ahead a reply may be scheduled.
const MaxSchedule = 366 * 24 * time.Hour

// scheduleMargin is how close to its time a scheduled reply can no longer
// change: the outbox may be about to send it.
const scheduleMargin = 2 * time.Second

func checkSendAt(at time.Time, internal, template bool) error {
	switch now := store.Now(); {
	case internal:
		return inputErr("send_at", "a note is not sent: only a reply can be scheduled")
	case template:
		return inputErr("send_at", "a template message cannot be scheduled")
	case at.Before(now.Add(10 * time.Second)):
		return inputErr("send_at", "choose a time in the future")
	case at.After(now.Add(MaxSchedule)):
		return inputErr("send_at", "a reply can be scheduled at most a year ahead")
	}
	return nil
}

// EditScheduledReply changes the text and time of a reply that waits for
// its time.
func (d *Desk) EditScheduledReply(ctx context.Context, actor Actor, messageID int64, body string, at time.Time) (*store.Message, error) {
	if err := checkText("body", body, "", 0); err != nil {
		return nil, err
	}
	if err := checkSendAt(at, false, false); err != nil {
		return nil, err
	}
	var changes []Change
	var m *store.Message
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		changes = nil
		was, err := scheduledReply(ctx, tx, messageID)
		if err != nil {
			return err
		}
		if err := tx.EditScheduledReply(ctx, messageID, strings.TrimRight(body, " \n\t"), at); err != nil {
			return err
		}
		ev, err := addEvent(ctx, tx, was.TicketID, actor, store.ReplyEditedData{MessageID: messageID, ScheduledAt: at.UTC().Format(time.RFC3339)})
		if err != nil {
			return err
		}
		if m, err = tx.Message(ctx, messageID); err != nil {
			return err
		}
		changes = append(changes, Change{Type: "message", TicketID: m.TicketID, Message: m}, Change{Type: "event", TicketID: m.TicketID, Event: ev})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("edit scheduled reply %d: %w", messageID, err)
	}
	d.publish(ctx, m.TicketID, changes)
	d.Wake() // an earlier time: the outbox sleeps until the next one
	return m, nil
}

// CancelScheduledReply cancels a reply that waits for its time: it is
// never sent, and leaves the thread (an event keeps that it was).
func (d *Desk) CancelScheduledReply(ctx context.Context, actor Actor, messageID int64) error {
	var changes []Change
	var ticketID int64
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		changes = nil
		was, err := scheduledReply(ctx, tx, messageID)
		if err != nil {
			return err
		}
		ticketID = was.TicketID
		if err := tx.DeleteScheduledReply(ctx, messageID); err != nil {
			return err
		}
		ev, err := addEvent(ctx, tx, was.TicketID, actor, store.ReplyCancelledData{MessageID: messageID,
			ScheduledAt: was.ScheduledAt.UTC().Format(time.RFC3339)})
		if err != nil {
			return err
		}
		changes = append(changes, Change{Type: "event", TicketID: was.TicketID, Event: ev})
		return nil
	})
	if err != nil {
		return fmt.Errorf("cancel scheduled reply %d: %w", messageID, err)
	}
	d.publish(ctx, ticketID, changes)
	return nil
}

// scheduledReply reads a reply still waiting for its time, or says why
// it cannot change any more.
func scheduledReply(ctx context.Context, tx *store.Tx, messageID int64) (*store.Message, error) {
	m, err := tx.ScheduledReply(ctx, messageID, store.Now().Add(scheduleMargin))
	if err != nil {
		return nil, err
	}
	if m == nil {
		if _, err := tx.Message(ctx, messageID); err != nil {
			return nil, err
		}
		return nil, inputErr("message", "this reply is not scheduled any more: it was sent or is being sent")
	}
	return m, nil
}
