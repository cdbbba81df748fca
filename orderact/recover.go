package orderact

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"onedesk/orders"
	"onedesk/store"
)

// An action is pending from its record until the shop's answer is
// written. A crash (or a node gone) in between leaves it pending; the
// sweep settles it once it is older than any request can take
// (PendingAfter, well above Timeout), never by doing it a second time:
//
//   - not yet sent: nothing reached the shop; "interrupted".
//   - a request kept for replay (a Shopify refund): sent again, byte for
//     byte, under the same idempotency key, within ReplayWithin; Shopify
//     answers the first refund if it made one, else makes it once.
//   - a cancellation or an address change: the order as the shop has it
//     now says whether it was done ("done") or not ("failed").
//   - anything else (a resent invoice, a discount code, a replacement, a
//     WooCommerce refund, which takes no key): "unknown", which the
//     ticket's history and the order panel show as "check in the shop".
//
// The outcome is written on the ticket like any action's.

// PendingAfter is how long an action may stay pending before the sweep
// settles it; ReplayWithin is how long after it was sent a request is
// sent again under its key (past that, the shop may have forgotten the
// key, so it is not risked).
var (
	PendingAfter = 2 * time.Minute
	ReplayWithin = time.Hour
)

// Recover settles the actions pending since before now-PendingAfter and
// tells how many it settled. cli runs it at start and every minute under
// a lease, so one node does.
func (s *Service) Recover(ctx context.Context, now time.Time) (int, error) {
	list, err := s.db.PendingOrderActions(ctx, now.Add(-PendingAfter), 50)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range list {
		done, err := s.settle(ctx, &list[i], now)
		if err != nil {
			if ctx.Err() != nil {
				return n, err
			}
			s.log.Warn("order action left pending", "action", list[i].ID, "ticket", list[i].TicketID, "err", err)
			continue
		}
		if done {
			n++
		}
	}
	return n, nil
}

// settle decides how one pending action ended and writes it; false when
// it is left for a later sweep (the shop could not be asked now).
func (s *Service) settle(ctx context.Context, rec *store.OrderAction, now time.Time) (bool, error) {
	var out *orders.Outcome
	switch {
	case rec.SentAt == nil:
		rec.Status = "interrupted"
	default:
		var err error
		out, err = s.ask(ctx, rec, now)
		if err != nil {
			if now.Sub(*rec.SentAt) < ReplayWithin {
				return false, err // the shop is away: ask again next time
			}
			rec.Status, out = "unknown", nil
		}
	}
	if rec.Status == "done" && out != nil {
		rec.Outcome, _ = json.Marshal(out)
	}
	err := s.finish(ctx, &store.Ticket{ID: rec.TicketID}, rec, out)
	if errors.Is(err, store.ErrConflict) {
		return false, nil // its own request ended it meanwhile
	}
	if err != nil {
		return false, err
	}
	s.log.Info("order action settled after an interruption", "action", rec.ID, "ticket", rec.TicketID, "status", rec.Status)
	return true, nil
}

// ask finds out from the shop how a sent action ended, setting
// rec.Status (and Message for a refusal). An error is the shop out of
// reach.
func (s *Service) ask(ctx context.Context, rec *store.OrderAction, now time.Time) (*orders.Outcome, error) {
	st, err := s.db.Store(ctx, rec.StoreID)
	if err != nil {
		return nil, err
	}
	p, _ := s.d.OrderPlatform(st)
	if p == nil {
		rec.Status = "unknown"
		return nil, nil
	}
	rp, replays := p.(orders.Replayer)
	canReplay := replays && len(rec.Request) > 0 && now.Sub(*rec.SentAt) < ReplayWithin
	if !canReplay && rec.Action != orders.ActCancel && rec.Action != orders.ActAddress {
		rec.Status = "unknown"
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	s.d.ForgetOrders(st) // the order as the shop has it now
	o, err := s.findOrder(ctx, rec.TicketID, rec.Order)
	if err != nil {
		return nil, err
	}
	if canReplay {
		out, err := rp.Send(ctx, o, rec.Action, rec.Request, rec.Key)
		var refused *orders.Refused
		switch {
		case err == nil:
			rec.Status = "done"
			return out, nil
		case errors.As(err, &refused):
			rec.Status, rec.Message = "refused", refused.Message
			return nil, nil
		}
		return nil, err
	}
	var params orders.Params
	_ = json.Unmarshal(rec.Params, &params)
	switch {
	case rec.Action == orders.ActCancel && o.Cancelled:
		rec.Status = "done"
	case rec.Action == orders.ActAddress && sameAddress(o.ShippingAddress, params.Address):
		rec.Status = "done"
	default:
		rec.Status = "failed"
	}
	if rec.Status == "done" {
		return &orders.Outcome{Action: rec.Action, Order: rec.Order}, nil
	}
	return nil, nil
}

// sameAddress tells whether the order's address is the one asked for.
func sameAddress(have, want *orders.Address) bool {
	if have == nil || want == nil {
		return false
	}
	eq := func(a, b string) bool { return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b)) }
	return eq(have.Address1, want.Address1) && eq(have.City, want.City) && eq(have.Zip, want.Zip) && eq(have.Country, want.Country)
}

// Run settles interrupted actions at start and every minute until ctx
// ends (one node runs it: cli leases it).
func (s *Service) Run(ctx context.Context) {
	tick := time.NewTicker(time.Minute)
	defer tick.Stop()
	for {
		if n, err := s.Recover(ctx, store.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("order actions sweep", "err", err)
		} else if n > 0 {
			s.log.Info("interrupted order actions settled", "actions", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
