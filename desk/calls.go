package desk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"onedesk/store"
)

// MaxCallDuration bounds a logged call's duration (a day, in seconds).
const MaxCallDuration = 24 * 60 * 60

// CallInput is a phone call an agent logs: on a ticket (TicketID), or as
// a new ticket of channel phone with the customer found by phone or
// email, named, or made.
type CallInput struct {
	TicketID   int64
	CustomerID int64
	Phone      string
	Email      string
	Name       string
	StoreID    *int64
	Subject    string // a new ticket's; "" is the notes' first line
	Direction  string // in or out
	Duration   int    // seconds
	Outcome    string // answered (the default), no_answer, voicemail, busy
	Notes      string
	// Status of the ticket after the call: a new one is resolved unless
	// said otherwise (the call was the conversation); "" keeps an existing
	// ticket's.
	Status     string
	Priority   string
	Tags       []string
	TeamID     *int64
	AssigneeID *int64 // a new ticket's; nil: the agent who logs
}

func (in *CallInput) check() error {
	in.Notes = strings.TrimSpace(in.Notes)
	in.Subject = cleanLine(in.Subject)
	if err := oneOf("direction", in.Direction, store.CallDirections); err != nil {
		return err
	}
	if in.Outcome == "" {
		in.Outcome = "answered"
	}
	if err := oneOf("outcome", in.Outcome, store.CallOutcomes); err != nil {
		return err
	}
	if in.Duration < 0 || in.Duration > MaxCallDuration {
		return inputErr("duration_s", "the duration is from 0 to %d seconds", MaxCallDuration)
	}
	if len(in.Notes) > MaxBody {
		return inputErr("notes", "notes are longer than %d bytes", MaxBody)
	}
	if utf8.RuneCountInString(in.Subject) > MaxSubject {
		return inputErr("subject", "subject is longer than %d characters", MaxSubject)
	}
	if in.TicketID == 0 && in.Subject == "" {
		if in.Notes == "" {
			return inputErr("subject", "subject is empty")
		}
		line, _, _ := strings.Cut(in.Notes, "\n")
		in.Subject = firstLine(line)
	}
	if in.TicketID == 0 && in.Status == "" {
		in.Status = "resolved"
	}
	if in.Status != "" {
		return oneOf("status", in.Status, startStatuses)
	}
	return nil
}

// LogCall records a phone call as an internal note carrying the call
// (Message.Call: direction, duration, outcome; the body is the agent's
// notes), so that everything that treats notes as never sent and never
// the customer's treats a call alike, and a call_logged event: on the
// ticket named, or on a new ticket of channel phone, assigned to the
// agent, whose first message it is. A new call ticket is agent-started:
// the call was the first response, so no first-response clock runs. A
// call on an existing ticket is a record, not a reply: it leaves the
// ticket's clocks as they were.
func (d *Desk) LogCall(ctx context.Context, actor Actor, in CallInput) (*store.Ticket, *store.Message, error) {
	if actor.Kind != "agent" {
		return nil, nil, inputErr("actor", "only an agent logs a call")
	}
	if err := in.check(); err != nil {
		return nil, nil, err
	}
	var ids []store.Identity
	if in.TicketID == 0 {
		for _, id := range []store.Identity{{Kind: "phone", Value: in.Phone}, {Kind: "email", Value: in.Email}} {
			if id.Value = strings.TrimSpace(id.Value); id.Value == "" {
				continue
			}
			n, err := d.normalize(ctx, id.Kind, id.Value, in.StoreID)
			if err != nil {
				return nil, nil, inputErr(id.Kind, "%s", errorText(err))
			}
			ids = append(ids, n)
		}
		if in.AssigneeID == nil {
			in.AssigneeID = &actor.AgentID
		}
	}
	var t *store.Ticket
	var m *store.Message
	var changes []Change
	err := d.db.Write(ctx, func(tx *store.Tx) error {
		now := store.Now()
		if in.TicketID == 0 {
			nt, ev, err := d.openAgentTicket(ctx, tx, actor, agentTicket{
				channel: "phone", storeID: in.StoreID, customerID: in.CustomerID, ids: ids, name: in.Name,
				subject: in.Subject, priority: in.Priority, tags: in.Tags, teamID: in.TeamID, assigneeID: in.AssigneeID,
			})
			if err != nil {
				return err
			}
			changes = append(changes, Change{Type: "event", TicketID: nt.ID, Event: ev})
			if t, err = tx.Ticket(ctx, nt.ID); err != nil {
				return err
			}
			t.FirstResponseAt, t.LastAgentAt = &now, &now
		} else {
			var err error
			if t, err = tx.Ticket(ctx, in.TicketID); err != nil {
				return err
			}
		}
		m = &store.Message{TicketID: t.ID, Kind: "note", Channel: "phone", Body: in.Notes, AuthorID: &actor.AgentID,
			Call: &store.Call{Direction: in.Direction, Duration: in.Duration, Outcome: in.Outcome}, CreatedAt: now}
		if err := tx.InsertMessage(ctx, m); err != nil {
			return err
		}
		ev, err := addEvent(ctx, tx, t.ID, actor, store.CallLoggedData{Direction: in.Direction, Duration: in.Duration,
			MessageID: m.ID, Outcome: in.Outcome})
		if err != nil {
			return err
		}
		changes = append(changes, Change{Type: "message", TicketID: t.ID, Message: m}, Change{Type: "event", TicketID: t.ID, Event: ev})
		if in.Notes != "" {
			t.Snippet = snippet(in.Notes)
		}
		t.UpdatedAt = now
		if in.Status != "" && in.Status != t.Status {
			if !slices.Contains(transitions[t.Status], in.Status) {
				return statusTransitionErr(t.Status, in.Status)
			}
			ev, err := setStatus(ctx, tx, t, in.Status, actor)
			if err != nil {
				return err
			}
			changes = append(changes, Change{Type: "event", TicketID: t.ID, Event: ev})
		}
		more, err := d.saveTicket(ctx, tx, t, now)
		changes = append(changes, more...)
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("log a call: %w", err)
	}
	d.publish(ctx, t.ID, changes)
	return t, m, nil
}
