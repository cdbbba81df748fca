package store

import "context"

// toDo is the statuses of tickets someone still has to work on.
const toDo = "('new', 'open', 'pending')"

// AssignedToDo lists, by id, up to limit tickets after the id after that
// are assigned to the agent and still to do (new, open or pending): a
// handover at the end of a shift reads them a batch at a time.
func (db *DB) AssignedToDo(ctx context.Context, agentID, after int64, limit int) ([]int64, error) {
	return queryIDs(ctx, db.rq, "SELECT id FROM tickets WHERE assignee_id = ? AND status IN "+toDo+
		" AND id > ? ORDER BY id LIMIT ?", agentID, after, limit)
}

// CountAssignedToDo tells how many tickets assigned to the agent are
// still to do.
func (db *DB) CountAssignedToDo(ctx context.Context, agentID int64) (int, error) {
	var n int
	err := db.rq.QueryRowContext(ctx, "SELECT count(*) FROM tickets WHERE assignee_id = ? AND status IN "+toDo, agentID).Scan(&n)
	return n, err
}
