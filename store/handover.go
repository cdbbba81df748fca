package store

import "context"

// The tickets assigned to an agent that someone still has to work on
// (new, open or pending): index ranges of tickets_assignee_id.
const (
	assignedToDo      = "SELECT id FROM tickets WHERE assignee_id = ? AND status IN ('new', 'open', 'pending') AND id > ? ORDER BY id LIMIT ?"
	countAssignedToDo = "SELECT count(*) FROM tickets WHERE assignee_id = ? AND status IN ('new', 'open', 'pending')"
)

// AssignedToDo lists, by id, up to limit tickets after the id after that
// are assigned to the agent and still to do (new, open or pending): a
// handover at the end of a shift reads them a batch at a time.
func (db *DB) AssignedToDo(ctx context.Context, agentID, after int64, limit int) ([]int64, error) {
	return queryIDs(ctx, db.rq, assignedToDo, agentID, after, limit)
}

// CountAssignedToDo tells how many tickets assigned to the agent are
// still to do.
func (db *DB) CountAssignedToDo(ctx context.Context, agentID int64) (int, error) {
	var n int
	err := db.rq.QueryRowContext(ctx, countAssignedToDo, agentID).Scan(&n)
	return n, err
}
