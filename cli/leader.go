package cli

import (
	"context"
	"log/slog"

	"onedesk/store"
)

// Several nodes on one PostgreSQL database: background work that must
// happen once per desk (polling a mailbox or a bot, sending the outbox,
// the time sweeps, report roll-ups, webhook deliveries, backups) runs on
// the one node holding its lease (store.RunLeased), and moves to another
// within seconds when that node dies: one lease per kind of work, and one
// per mailbox. On SQLite, one process, everything runs here as it always
// did.

// everyNode is the work each node runs for itself: the chat channel
// pushes to the widgets open on this node and sweeps its own rate
// limits (its idle-chat rule is a write that finds nothing to do when
// another node did it first); the forms channel sweeps its limits; the
// email channel leases each mailbox's poller on its own (desk.RunLeased),
// so that the mailboxes spread over the nodes.
var everyNode = map[string]bool{"chat": true, "forms": true, "email": true}

// GoLeased runs f as the worker name: under its lease when db is shared
// by several nodes.
func (w *workers) GoLeased(db *store.DB, log *slog.Logger, name string, f func(context.Context)) {
	if everyNode[name] {
		w.Go(name, f)
		return
	}
	w.Go(name, func(ctx context.Context) { db.RunLeased(ctx, name, log, f) })
}
