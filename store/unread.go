package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// UnreadView is an inbox view whose unread tickets are counted: tickets in
// one of Statuses (and the view's narrowing) whose last customer message
// is newer than when the agent last opened them.
type UnreadView struct {
	Key        string
	Statuses   []string
	Unassigned bool
	AssigneeID int64
	TeamID     int64
	StoreID    int64
	Channel    string
	Stores     []int64 // the agent's stores; empty: all (TicketFilter.Stores)
}

// UnreadCap is where counting stops: a view shows "99+" past it. Counting
// stops early so each view's count reads at most the tickets this agent
// has opened in it plus UnreadCap, however many tickets the desk holds.
const UnreadCap = 100

// UnreadCounts counts, for each view, the tickets with customer messages
// agentID has not seen (at most UnreadCap), in one read. Each view is read
// off the index that leads with its narrowing, newest customer message
// first, so a count never sorts or scans the whole desk.
func (db *DB) UnreadCounts(ctx context.Context, agentID int64, views []UnreadView) (map[string]int, error) {
	out := map[string]int{}
	if len(views) == 0 {
		return out, nil
	}
	query, args, err := unreadQuery(db.postgres, agentID, views)
	if err != nil {
		return nil, err
	}
	rows, err := db.rq.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("count unread tickets: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var key string
		var n int
		if err := rows.Scan(&key, &n); err != nil {
			return nil, fmt.Errorf("count unread tickets: %w", err)
		}
		out[key] = min(out[key]+n, UnreadCap)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("count unread tickets: %w", err)
	}
	return out, nil
}

// unreadQuery is one SELECT per view and status, joined by UNION ALL.
// Statuses and channels are written in as literals (they are checked
// against the known lists) so SQLite can use the partial channel index.
// SQLite is told its index (INDEXED BY); PostgreSQL, which has no such
// hint, is asked for the order of its unread indexes (migration 0029),
// which makes it read one off its index and stop at the cap.
func unreadQuery(postgres bool, agentID int64, views []UnreadView) (string, []any, error) {
	order := ""
	if postgres {
		order = "ORDER BY t.last_customer_at DESC NULLS LAST"
	}
	var parts []string
	var args []any
	for _, v := range views {
		if v.Channel != "" && !slices.Contains(Channels, v.Channel) {
			return "", nil, fmt.Errorf("unread: unknown channel %q", v.Channel)
		}
		for _, st := range v.Statuses {
			if !slices.Contains(Statuses, st) {
				return "", nil, fmt.Errorf("unread: unknown status %q", st)
			}
			index := "tickets_status_customer"
			cond := []string{"t.status = '" + st + "'", "t.last_customer_at > 0"}
			var condArgs []any
			switch {
			case v.Unassigned:
				index, cond = "tickets_assignee_updated", append(cond, "t.assignee_id IS NULL")
			case v.AssigneeID != 0:
				index, cond = "tickets_assignee_updated", append(cond, "t.assignee_id = ?")
				condArgs = append(condArgs, v.AssigneeID)
			case v.TeamID != 0:
				index, cond = "tickets_team_updated", append(cond, "t.team_id = ?")
				condArgs = append(condArgs, v.TeamID)
			case v.StoreID != 0:
				index, cond = "tickets_store_updated", append(cond, "t.store_id = ?")
				condArgs = append(condArgs, v.StoreID)
			case v.Channel != "":
				if st == "new" || st == "open" || st == "pending" {
					// The index's own condition, word for word, lets SQLite use it.
					index, cond = "tickets_channel_customer", append(cond, "t.status IN ('new', 'open', 'pending')")
				}
				cond = append(cond, "t.channel = '"+v.Channel+"'")
			}
			if len(v.Stores) > 0 && !(v.StoreID != 0 && slices.Contains(v.Stores, v.StoreID)) {
				in, ids := inStores("t.store_id", v.Stores)
				cond, condArgs = append(cond, in), append(condArgs, ids...)
			}
			parts = append(parts, fmt.Sprintf(`SELECT ?, (SELECT count(*) FROM (SELECT 1 FROM tickets t INDEXED BY %s WHERE %s
				AND NOT EXISTS (SELECT 1 FROM ticket_reads r WHERE r.agent_id = ? AND r.ticket_id = t.id AND r.read_at >= t.last_customer_at)
				%s LIMIT %d) c)`, index, strings.Join(cond, " AND "), order, UnreadCap))
			args = append(args, v.Key)
			args = append(args, condArgs...)
			args = append(args, agentID)
		}
	}
	return strings.Join(parts, " UNION ALL "), args, nil
}
