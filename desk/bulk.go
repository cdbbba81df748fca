package desk

import (
	"context"
	"errors"
	"fmt"

	"onedesk/i18n"
	"onedesk/store"
)

const (
	// MaxBulk bounds the tickets of one bulk update.
	MaxBulk = 500
	// bulkBatch is how many tickets of a many-ticket change one write
	// transaction holds: messages arriving meanwhile wait for one batch
	// at most, not for the whole change.
	bulkBatch = 200
)

// Failed is a ticket a many-ticket change left as it was, and why.
type Failed struct {
	ID    int64  `json:"id"`
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	// Sentence is Error for the reader's language.
	Sentence i18n.Sentence `json:"-"`
}

// BulkResult tells what a many-ticket change did.
type BulkResult struct {
	Updated []int64  `json:"updated"`
	Failed  []Failed `json:"failed"`
}

// UpdateTickets applies one update to each of the tickets, each through
// the same path as UpdateTicket (its events, its rules, the bus) and all
// or nothing on its own: a ticket refused (not found, a status it cannot
// take, too many tags) is reported in Failed and the others go on.
func (d *Desk) UpdateTickets(ctx context.Context, actor Actor, ids []int64, u Update) (*BulkResult, error) {
	if len(ids) == 0 {
		return nil, inputErr("ids", "choose at least one ticket")
	}
	if len(ids) > MaxBulk {
		return nil, inputErr("ids", "at most %d tickets at a time, not %d", MaxBulk, len(ids))
	}
	seen := make(map[int64]bool, len(ids))
	unique := make([]int64, 0, len(ids))
	for _, id := range ids {
		if !seen[id] {
			seen[id] = true
			unique = append(unique, id)
		}
	}
	if err := u.check(); err != nil {
		return nil, err
	}
	res := &BulkResult{Updated: []int64{}, Failed: []Failed{}}
	return res, d.updateEach(ctx, actor, unique, u, nil, res)
}

// updateEach applies a checked update to each of ids, bulkBatch tickets a
// transaction, each ticket in a savepoint of its own, and adds what it did
// to res. keep, when set, is asked about each ticket as the transaction
// reads it: one it refuses is left alone, neither updated nor failed.
func (d *Desk) updateEach(ctx context.Context, actor Actor, ids []int64, u Update, keep func(*store.Ticket) bool, res *BulkResult) error {
	for start := 0; start < len(ids); start += bulkBatch {
		batch := ids[start:min(start+bulkBatch, len(ids))]
		var done []*ticketUpdate
		var failed []Failed
		err := d.db.Write(ctx, func(tx *store.Tx) error {
			for _, id := range batch {
				var up *ticketUpdate
				err := tx.Savepoint(ctx, func() error {
					t, err := tx.Ticket(ctx, id)
					if err != nil || (keep != nil && !keep(t)) {
						return err
					}
					up, err = d.applyUpdate(ctx, tx, actor, t, u)
					return err
				})
				if ie, ok := IsInput(err); ok {
					failed = append(failed, Failed{ID: id, Error: ie.Message, Field: ie.Field, Sentence: ie.Sentence})
				} else if errors.Is(err, store.ErrNotFound) {
					s := i18n.S("ticket %d does not exist", id)
					failed = append(failed, Failed{ID: id, Error: s.String(), Field: "ids", Sentence: s})
				} else if err != nil {
					return fmt.Errorf("ticket %d: %w", id, err)
				} else if up != nil {
					done = append(done, up)
				}
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("update tickets: %w", err)
		}
		for _, up := range done {
			res.Updated = append(res.Updated, up.t.ID)
			d.published(ctx, up)
		}
		res.Failed = append(res.Failed, failed...)
	}
	return nil
}
