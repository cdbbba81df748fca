package store

import (
	"context"
	"fmt"
	"strings"
)

// pgRollBatch is how many rows one statement upserts on PostgreSQL: a
// refresh batch's roll-ups are a few thousand rows, so mostly one
// statement per table.
const pgRollBatch = 5000

// pgRollRows are rows to add to one report table on PostgreSQL, kept a
// column each so that one statement hands them over as arrays.
type pgRollRows struct {
	table string
	key   []string // the key's columns
	text  []bool   // whether each key column is text, else bigint
	strs  [][]string
	ints  [][]int64
	count [6][]int64 // reportCountColumns
	n     int
}

func newPgRollRows(table string, key []string, text []bool) *pgRollRows {
	return &pgRollRows{table: table, key: key, text: text,
		strs: make([][]string, len(key)), ints: make([][]int64, len(key))}
}

// add queues a row: key values as strings or int64s, as the columns are.
func (r *pgRollRows) add(c *ReportCounts, key ...any) {
	for i, v := range key {
		if r.text[i] {
			r.strs[i] = append(r.strs[i], fmt.Sprint(v))
		} else {
			r.ints[i] = append(r.ints[i], v.(int64))
		}
	}
	for i, v := range []int64{c.Created, c.Resolved, c.Reopened, c.MessagesIn, c.MessagesOut, c.Breaches} {
		r.count[i] = append(r.count[i], v)
	}
	r.n++
}

// flushIfFull writes the queued rows once a statement's worth is queued.
func (r *pgRollRows) flushIfFull(ctx context.Context, tx *Tx) error {
	if r.n < pgRollBatch {
		return nil
	}
	return r.flush(ctx, tx)
}

// flush upserts the queued rows in one INSERT ... SELECT FROM unnest(...):
// one round trip instead of one a row, the difference between minutes
// and hours counting a large desk's history. Keys are distinct (they come
// from maps), as ON CONFLICT DO UPDATE requires within one statement.
func (r *pgRollRows) flush(ctx context.Context, tx *Tx) error {
	if r.n == 0 {
		return nil
	}
	var arrays []string
	var args []any
	for i := range r.key {
		if r.text[i] {
			arrays, args = append(arrays, "?::text[]"), append(args, r.strs[i])
		} else {
			arrays, args = append(arrays, "?::bigint[]"), append(args, r.ints[i])
		}
		r.strs[i], r.ints[i] = r.strs[i][:0], r.ints[i][:0]
	}
	for i := range r.count {
		arrays, args = append(arrays, "?::bigint[]"), append(args, r.count[i])
		r.count[i] = r.count[i][:0]
	}
	key := strings.Join(r.key, ", ")
	q := `INSERT INTO ` + r.table + ` (` + key + `, ` + strings.Join(reportCountColumns, ", ") + `)
		SELECT * FROM unnest(` + strings.Join(arrays, ", ") + `)` + reportUpsert(r.table, key)
	r.n = 0
	if _, err := tx.q.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("%s: %w", r.table, err)
	}
	return nil
}

// pgAddReportCounts is AddReportCounts on PostgreSQL, where each statement
// is a round trip: the rows go over as arrays, pgRollBatch a statement.
func (tx *Tx) pgAddReportCounts(ctx context.Context, counts map[ReportKey]*ReportCounts,
	quarters map[rollKey]*ReportCounts, days map[dayRollKey]*ReportCounts) error {
	rows := newPgRollRows("report_quarters", []string{"tag", "quarter", "store_id", "channel", "team_id", "agent_id"},
		[]bool{true, false, false, true, false, false})
	for k, c := range counts {
		rows.add(c, k.Tag, k.Quarter, k.StoreID, k.Channel, k.TeamID, k.AgentID)
		if err := rows.flushIfFull(ctx, tx); err != nil {
			return fmt.Errorf("report quarters: %w", err)
		}
	}
	if err := rows.flush(ctx, tx); err != nil {
		return fmt.Errorf("report quarters: %w", err)
	}
	// Roll-up values are text on PostgreSQL (see rollValue).
	rows = newPgRollRows("report_quarters_by", []string{"dim", "value", "quarter"}, []bool{true, true, false})
	for k, c := range quarters {
		rows.add(c, k.dim, k.value, k.at)
		if err := rows.flushIfFull(ctx, tx); err != nil {
			return fmt.Errorf("report quarters: %w", err)
		}
	}
	if err := rows.flush(ctx, tx); err != nil {
		return fmt.Errorf("report quarters: %w", err)
	}
	rows = newPgRollRows("report_days_by", []string{"fdim", "fvalue", "dim", "value", "day"}, []bool{true, true, true, true, false})
	for k, c := range days {
		rows.add(c, k.fdim, k.fvalue, k.dim, k.value, k.day)
		if err := rows.flushIfFull(ctx, tx); err != nil {
			return fmt.Errorf("report days: %w", err)
		}
	}
	if err := rows.flush(ctx, tx); err != nil {
		return fmt.Errorf("report days: %w", err)
	}
	return nil
}
