package rules

import (
	"context"
	"errors"
	"slices"
	"time"

	"onedesk/desk"
	"onedesk/store"
)

// ownActions change the ticket's own columns: "updated" rules follow them.
var ownActions = map[string]bool{"set_team": true, "set_assignee": true, "set_status": true,
	"set_priority": true, "add_tags": true, "remove_tags": true}

// apply carries out a rule's actions on the ticket in memory, with a
// rule_applied event for each, and records that the rule ran.
func (rr *ruleRun) apply(ctx context.Context, r *rule) error {
	rr.applied[r.ID] = true
	t := rr.c.Ticket
	ran, err := rr.c.Tx.RuleRan(ctx, r.ID, t.ID)
	if err != nil {
		return err
	}
	for _, a := range r.acts {
		data, err := rr.act(ctx, r, a, ran)
		if err != nil {
			return err
		}
		if data == nil {
			continue // nothing to do, or nothing left to do it on
		}
		data.Action, data.RuleID, data.Rule = a.typ, r.ID, r.Name
		if _, err := rr.c.Event(ctx, desk.Actor{Kind: "rule", RuleID: r.ID}, *data); err != nil {
			return err
		}
		if ownActions[a.typ] {
			rr.changed = true
		}
	}
	return rr.c.Tx.SetRuleRan(ctx, r.ID, t.ID, rr.c.Now)
}

// act carries out one action and returns what its event says of it (nil:
// nothing was done). ran is when the rule last acted on the ticket.
func (rr *ruleRun) act(ctx context.Context, r *rule, a act, ran time.Time) (*store.RuleAppliedData, error) {
	t := rr.c.Ticket
	switch a.typ {
	case "set_team":
		return rr.setTeam(ctx, a)
	case "set_assignee":
		return rr.setAssignee(ctx, a)
	case "set_status":
		from := t.Status
		if !rr.c.MoveStatus(a.text) {
			return nil, nil
		}
		return &store.RuleAppliedData{From: from, To: a.text}, nil
	case "set_priority":
		if t.Priority == a.text {
			return nil, nil
		}
		data := &store.RuleAppliedData{From: t.Priority, To: a.text}
		t.Priority = a.text
		return data, nil
	case "add_tags", "remove_tags":
		return rr.setTags(a), nil
	case "add_note":
		m, err := rr.c.AddNote(ctx, a.text)
		if err != nil {
			return nil, err
		}
		return &store.RuleAppliedData{MessageID: m.ID}, nil
	case "auto_reply":
		return rr.autoReply(ctx, a, ran)
	case "notify":
		return rr.notify(ctx, r, a)
	case "webhook":
		// Queued with the rule's changes; the dispatcher wakes when the
		// rule_applied event is published.
		dl, w, err := rr.queueWebhook(ctx, r, *a.id)
		if err != nil || dl == nil {
			return nil, err // nil: the webhook was deleted or turned off since
		}
		return &store.RuleAppliedData{WebhookID: w.ID, Webhook: w.Name, DeliveryID: dl.ID}, nil
	}
	return nil, nil
}

func (rr *ruleRun) setTeam(ctx context.Context, a act) (*store.RuleAppliedData, error) {
	t := rr.c.Ticket
	if sameID(t.TeamID, a.id) {
		return nil, nil
	}
	if a.id != nil {
		ok, err := rr.c.Tx.Exists(ctx, "teams", *a.id)
		if err != nil || !ok {
			return nil, err // not ok: the team was deleted since
		}
	}
	data := &store.RuleAppliedData{From: t.TeamID, To: a.id}
	t.TeamID = a.id
	return data, nil
}

func (rr *ruleRun) setAssignee(ctx context.Context, a act) (*store.RuleAppliedData, error) {
	t := rr.c.Ticket
	if sameID(t.AssigneeID, a.id) {
		return nil, nil
	}
	if a.id != nil {
		ag, err := rr.c.Tx.Agent(ctx, *a.id)
		if errors.Is(err, store.ErrNotFound) || err == nil && !ag.Active {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	data := &store.RuleAppliedData{From: t.AssigneeID, To: a.id}
	t.AssigneeID = a.id
	return data, nil
}

func (rr *ruleRun) setTags(a act) *store.RuleAppliedData {
	t := rr.c.Ticket
	tags := slices.Clone(t.Tags)
	if a.typ == "add_tags" {
		tags = append(tags, a.tags...)
	} else {
		tags = slices.DeleteFunc(tags, func(s string) bool { return slices.Contains(a.tags, s) })
	}
	tags, err := desk.CleanTags(tags)
	if err != nil || slices.Equal(tags, t.Tags) {
		return nil // too many tags is not worth failing the ingest
	}
	data := &store.RuleAppliedData{From: t.Tags, To: tags}
	t.Tags = tags
	return data
}

// autoReply answers the customer: never machines, and once per ticket
// and rule.
func (rr *ruleRun) autoReply(ctx context.Context, a act, ran time.Time) (*store.RuleAppliedData, error) {
	msg := rr.c.Message
	if !ran.IsZero() || msg != nil && msg.Auto != "" || msg == nil && rr.c.Ticket.LastCustomerAt == nil {
		return nil, nil
	}
	body, err := rr.c.Fill(ctx, a.text)
	if err != nil {
		return nil, err
	}
	m, err := rr.c.QueueAutoReply(ctx, body, "auto_reply")
	if err != nil {
		return nil, err
	}
	return &store.RuleAppliedData{MessageID: m.ID}, nil
}

func (rr *ruleRun) notify(ctx context.Context, r *rule, a act) (*store.RuleAppliedData, error) {
	ids, err := rr.recipients(ctx, a)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	t := rr.c.Ticket
	rr.c.Notify(desk.Notification{AgentIDs: ids, TicketID: t.ID, Kind: "rule", Text: t.Subject, By: r.Name})
	return &store.RuleAppliedData{Agents: ids}, nil
}

func (rr *ruleRun) recipients(ctx context.Context, a act) ([]int64, error) {
	t := rr.c.Ticket
	switch {
	case a.id != nil:
		return []int64{*a.id}, nil
	case a.text == "assignee" && t.AssigneeID != nil:
		return []int64{*t.AssigneeID}, nil
	case a.text == "team" && t.TeamID != nil:
		team, err := rr.c.Tx.Team(ctx, *t.TeamID)
		if errors.Is(err, store.ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		return team.AgentIDs, nil
	}
	return nil, nil
}
