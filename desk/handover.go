package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"onedesk/store"
)

// Handover is where an agent's open tickets go at the end of a shift: to
// an agent, or to a team (with an agent or, alone, for whoever of the
// team picks them up), with a note the next agent sees on top.
type Handover struct {
	TeamID     *int64
	AssigneeID *int64
	Note       string
}

// HandOver moves every ticket assigned to the agent that is still to do
// (new, open or pending) in one action: to an agent, assigned to them; to
// a team alone, the team's and unassigned, or with a round-robin team its
// next member's but the agent's own. Each ticket moves through the
// same path as one transfer (assigned and transferred events carrying the
// note, "updated" rules, the bus), a batch of them a transaction and each
// all or nothing: a ticket a rule refuses stays, reported in Failed.
func (d *Desk) HandOver(ctx context.Context, actor Actor, agentID int64, h Handover) (*BulkResult, error) {
	if _, err := d.db.Agent(ctx, agentID); err != nil {
		return nil, fmt.Errorf("agent %d: %w", agentID, err)
	}
	if h.TeamID == nil && h.AssigneeID == nil {
		return nil, inputErr("assignee_id", "choose a team or an agent to hand the tickets over to")
	}
	if h.AssigneeID != nil {
		if *h.AssigneeID == agentID {
			return nil, inputErr("assignee_id", "the tickets are agent %d's already: choose someone else", agentID)
		}
		a, err := d.db.Agent(ctx, *h.AssigneeID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && !a.Active) {
			return nil, inputErr("assignee_id", "agent %d does not exist or is deactivated", *h.AssigneeID)
		}
		if err != nil {
			return nil, err
		}
	}
	if h.TeamID != nil {
		teams, err := d.db.Teams(ctx)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(teams, func(t *store.Team) bool { return t.ID == *h.TeamID }) {
			return nil, inputErr("team_id", "team %d does not exist", *h.TeamID)
		}
	}
	// Round robin never hands a ticket back to the agent handing it over.
	u := Update{Note: strings.TrimSpace(h.Note), AssigneeID: Optional[int64]{Set: true, Value: h.AssigneeID}, NotTo: agentID}
	if h.TeamID != nil {
		u.TeamID = Optional[int64]{Set: true, Value: h.TeamID}
	}
	if err := u.check(); err != nil {
		return nil, err
	}
	// Still the agent's and still to do when its transaction reads it.
	keep := func(t *store.Ticket) bool {
		return t.AssigneeID != nil && *t.AssigneeID == agentID && t.Status != "resolved" && t.Status != "closed"
	}
	res := &BulkResult{Updated: []int64{}, Failed: []Failed{}}
	var after int64
	for {
		ids, err := d.db.AssignedToDo(ctx, agentID, after, bulkBatch)
		if err != nil {
			return res, fmt.Errorf("hand over agent %d's tickets: %w", agentID, err)
		}
		if len(ids) == 0 {
			break
		}
		if err := d.updateEach(ctx, actor, ids, u, keep, res); err != nil {
			return res, fmt.Errorf("hand over agent %d's tickets: %w", agentID, err)
		}
		after = ids[len(ids)-1]
	}
	if len(res.Updated) > 0 {
		d.log.Info("handover", "from", agentID, "by", actor.String(), "tickets", len(res.Updated), "failed", len(res.Failed))
	}
	return res, nil
}

// ToHandOver tells how many tickets a handover of the agent's would move now.
func (d *Desk) ToHandOver(ctx context.Context, agentID int64) (int, error) {
	if _, err := d.db.Agent(ctx, agentID); err != nil {
		return 0, fmt.Errorf("agent %d: %w", agentID, err)
	}
	return d.db.CountAssignedToDo(ctx, agentID)
}
