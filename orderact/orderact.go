// Package orderact acts on a ticket's shop orders: refunds,
// cancellations, address changes, resent confirmations, discount codes
// and replacements, through the store's platform (orders.Platform). Each
// action needs the order_actions permission (a role's, or granted to the
// agent), is previewed with what it does in money, is done once per
// confirmation (an idempotency key, unique in order_actions), and is
// written on the ticket's history as an order_action event with its
// result. Macros call it through orders.Actions. An action a crash left
// pending is settled, never done twice, by Recover (recover.go).
package orderact

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/orders"
	"onedesk/store"
)

// ErrNotAllowed refuses an agent without the order_actions permission.
var ErrNotAllowed = i18n.Errorf("you may not act on shop orders: an admin can give you the order actions permission")

// Service acts on orders for the desk.
type Service struct {
	d   *desk.Desk
	db  *store.DB
	log *slog.Logger
	// Timeout bounds one action at the platform.
	Timeout time.Duration
}

var _ orders.Actions = (*Service)(nil)

// New returns the order actions of d.
func New(d *desk.Desk, log *slog.Logger) *Service {
	return &Service{d: d, db: d.DB(), log: log, Timeout: 30 * time.Second}
}

// target is a ticket's store, platform and the agent acting.
type target struct {
	ticket   *store.Ticket
	store    *store.Store
	platform orders.Platform
	agent    *store.Agent
}

// resolve checks that the agent may act on the ticket's orders and finds
// its store's platform.
func (s *Service) resolve(ctx context.Context, ticketID, agentID int64) (*target, error) {
	a, err := s.db.Agent(ctx, agentID)
	if err != nil {
		return nil, err
	}
	if !a.Active || !desk.AgentCan(a, desk.PermOrderActions) {
		return nil, ErrNotAllowed
	}
	t, err := s.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	if !desk.WorksIn(a, t.StoreID) {
		return nil, fmt.Errorf("ticket %d: %w", ticketID, store.ErrNotFound)
	}
	if t.StoreID == nil {
		return nil, desk.ErrNoOrders
	}
	st, err := s.db.Store(ctx, *t.StoreID)
	if err != nil {
		return nil, err
	}
	p, _ := s.d.OrderPlatform(st)
	if p == nil {
		return nil, desk.ErrNoOrders
	}
	return &target{ticket: t, store: st, platform: p, agent: a}, nil
}

// Available lists the actions the ticket's store's platform allows (none
// when its store has no platform set up).
func (s *Service) Available(ctx context.Context, ticketID int64) ([]string, error) {
	t, err := s.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	if t.StoreID == nil {
		return []string{}, nil
	}
	st, err := s.db.Store(ctx, *t.StoreID)
	if err != nil {
		return nil, err
	}
	p, _ := s.d.OrderPlatform(st)
	if p == nil {
		return []string{}, nil
	}
	return slices.Clone(p.Actions()), nil
}

// Request is one action asked for: on Order (a number; "" is the
// customer's latest order), with its choices and the confirmation's Key.
type Request struct {
	TicketID int64
	AgentID  int64
	Order    string
	Action   string
	Params   orders.Params
	Key      string
}

// requestFrom reads the map form of a request (macros, the API).
func requestFrom(ticketID, agentID int64, action string, params map[string]any) (Request, error) {
	r := Request{TicketID: ticketID, AgentID: agentID, Action: action}
	rest := map[string]any{}
	for k, v := range params {
		switch k {
		case "order":
			r.Order = fmt.Sprint(v)
		case "key":
			r.Key = fmt.Sprint(v)
		default:
			rest[k] = v
		}
	}
	p, err := orders.ParamsFrom(rest)
	if err != nil {
		return r, inputErr("params", i18n.S("the action's choices are not valid: %s", err.Error()))
	}
	r.Params = p
	return r, nil
}

// findOrder is the order a request names among the ticket's orders.
func (s *Service) findOrder(ctx context.Context, ticketID int64, number string) (*orders.Order, error) {
	list, err := s.d.TicketOrders(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	want := strings.TrimPrefix(strings.TrimSpace(number), "#")
	for i := range list {
		if want == "" || strings.TrimPrefix(list[i].Number, "#") == want {
			if list[i].ID == "" {
				break
			}
			return &list[i], nil
		}
	}
	if want == "" {
		return nil, inputErr("order", i18n.S("the customer has no order to act on"))
	}
	return nil, inputErr("order", i18n.S("there is no order %s beside this ticket", number))
}

// checked turns a choice the platform cannot take into a field error.
func checked(err error) error {
	var fe *orders.FieldError
	if errors.As(err, &fe) {
		return inputErr(fe.Field, fe.Said)
	}
	return err
}

// Preview says what an action would do, in money, and gives the key the
// confirmation sends back.
func (s *Service) Preview(ctx context.Context, r Request) (*orders.Preview, error) {
	tg, err := s.resolve(ctx, r.TicketID, r.AgentID)
	if err != nil {
		return nil, err
	}
	if err := orders.CheckAction(tg.platform, r.Action, r.Params); err != nil {
		return nil, checked(err)
	}
	o, err := s.findOrder(ctx, r.TicketID, r.Order)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.Timeout)
	defer cancel()
	pv, err := tg.platform.Preview(ctx, o, r.Action, r.Params)
	if err != nil {
		return nil, checked(err)
	}
	pv.Key = NewKey()
	return pv, nil
}

// NewKey is a fresh idempotency key.
func NewKey() string {
	b := make([]byte, 18)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// inputErr is a field error said for the agent.
func inputErr(field string, s i18n.Sentence) error {
	return &desk.InputError{Field: field, Message: s.String(), Sentence: s}
}

var errBadKey = inputErr("key", i18n.S("the confirmation's key is missing or not valid: ask for the confirmation again"))

var keyShape = regexp.MustCompile(`^[A-Za-z0-9_-]{8,100}$`)

// Do acts on an order as orders.Actions says.
func (s *Service) Do(ctx context.Context, ticketID, agentID int64, action string, params map[string]any) (orders.Result, error) {
	r, err := requestFrom(ticketID, agentID, action, params)
	if err != nil {
		return orders.Result{}, err
	}
	if r.Key == "" {
		r.Key = NewKey()
	}
	return s.Act(ctx, r)
}

// Act takes an action once per key: a key used before answers that
// action's result (Repeat), without asking the shop again.
func (s *Service) Act(ctx context.Context, r Request) (orders.Result, error) {
	if !keyShape.MatchString(r.Key) {
		return orders.Result{}, errBadKey
	}
	if prev, err := s.db.OrderActionByKey(ctx, r.Key); err == nil {
		return s.repeat(prev, r.TicketID)
	}
	tg, err := s.resolve(ctx, r.TicketID, r.AgentID)
	if err != nil {
		return orders.Result{}, err
	}
	if err := orders.CheckAction(tg.platform, r.Action, r.Params); err != nil {
		return orders.Result{}, checked(err)
	}
	o, err := s.findOrder(ctx, r.TicketID, r.Order)
	if err != nil {
		return orders.Result{}, err
	}
	params, _ := json.Marshal(r.Params)
	rec := &store.OrderAction{TicketID: r.TicketID, StoreID: tg.store.ID, Order: o.Number, Action: r.Action, Key: r.Key,
		AgentID: &r.AgentID, Params: params, CreatedAt: store.Now()}
	err = s.db.Write(ctx, func(tx *store.Tx) error { return tx.InsertOrderAction(ctx, rec) })
	if errors.Is(err, store.ErrConflict) {
		// The other click of a double click got there first.
		prev, err := s.db.OrderActionByKey(ctx, r.Key)
		if err != nil {
			return orders.Result{}, err
		}
		return s.repeat(prev, r.TicketID)
	}
	if err != nil {
		return orders.Result{}, err
	}

	// The shop is asked outside any transaction, and to the end even when
	// the agent's request goes away: what it did is then recorded. Just
	// before, the action is marked sent (with the request a platform can
	// send again under this key), so that after a crash the sweep knows
	// whether the shop may have acted (Recover).
	actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.Timeout)
	out, err := s.send(actx, tg.platform, o, rec, r.Params)
	cancel()
	var refused *orders.Refused
	var oe *orders.Error
	switch {
	case err == nil:
		rec.Status = "done"
		rec.Outcome, _ = json.Marshal(out)
	case errors.As(err, &refused):
		rec.Status, rec.Message = "refused", refused.Message
	case errors.As(err, &oe):
		rec.Status, rec.Message = "failed", oe.Message
	default:
		rec.Status, rec.Message = "failed", err.Error()
	}
	if err != nil {
		s.log.Info("order action not done", "ticket", r.TicketID, "action", r.Action, "order", o.Number, "status", rec.Status, "err", err)
	}
	if werr := s.finish(context.WithoutCancel(ctx), tg.ticket, rec, out); errors.Is(werr, store.ErrConflict) {
		// The sweep settled it meanwhile: its word stands.
		prev, err := s.db.OrderActionByKey(context.WithoutCancel(ctx), r.Key)
		if err != nil {
			return orders.Result{}, err
		}
		return result(prev), nil
	} else if werr != nil {
		return orders.Result{}, werr
	}
	s.d.ForgetOrders(tg.store)
	res := result(rec)
	if rec.Status == "failed" && oe != nil {
		return res, oe // the agent reads why in their language
	}
	return res, nil
}

// send marks the action sent and asks the shop: a platform that can
// replay the action gets its request made and kept first.
func (s *Service) send(ctx context.Context, p orders.Platform, o *orders.Order, rec *store.OrderAction, params orders.Params) (*orders.Outcome, error) {
	rp, replays := p.(orders.Replayer)
	if replays {
		req, err := rp.Prepare(ctx, o, rec.Action, params)
		if err != nil {
			return nil, err
		}
		rec.Request = req
	}
	if err := s.db.Write(ctx, func(tx *store.Tx) error { return tx.MarkOrderActionSent(ctx, rec) }); err != nil {
		return nil, err
	}
	if replays && rec.Request != nil {
		return rp.Send(ctx, o, rec.Action, rec.Request, rec.Key)
	}
	return p.Act(ctx, o, rec.Action, params, rec.Key)
}

// finish records how the action ended and writes it on the ticket.
func (s *Service) finish(ctx context.Context, t *store.Ticket, rec *store.OrderAction, out *orders.Outcome) error {
	data := store.OrderActionData{Action: rec.Action, ActionID: rec.ID, Order: rec.Order, Status: rec.Status, Message: rec.Message}
	if out != nil {
		data.Amount, data.Currency, data.Ref = out.Amount, out.Currency, out.Ref
	}
	var tt *desk.TicketTx
	err := s.db.Write(ctx, func(tx *store.Tx) error {
		if err := tx.FinishOrderAction(ctx, rec); err != nil {
			return err
		}
		fresh, err := tx.Ticket(ctx, t.ID)
		if err != nil {
			return err
		}
		tt = s.d.TicketTx(tx, fresh, nil, store.Now())
		actor := desk.System
		if rec.AgentID != nil {
			actor = desk.AgentActor(*rec.AgentID)
		}
		_, err = tt.Event(ctx, actor, data)
		return err
	})
	if err != nil {
		return fmt.Errorf("record order action %d: %w", rec.ID, err)
	}
	tt.Publish(ctx)
	return nil
}

// repeat answers a key used before with that action's result.
func (s *Service) repeat(prev *store.OrderAction, ticketID int64) (orders.Result, error) {
	if prev.TicketID != ticketID {
		return orders.Result{}, errBadKey // the key of another ticket's action
	}
	res := result(prev)
	res.Repeat = true
	return res, nil
}

func result(a *store.OrderAction) orders.Result {
	r := orders.Result{ID: a.ID, TicketID: a.TicketID, Order: a.Order, Action: a.Action, Status: a.Status,
		Message: a.Message, AgentID: a.AgentID}
	if a.Status == "done" {
		var out orders.Outcome
		if json.Unmarshal(a.Outcome, &out) == nil {
			r.Outcome = &out
		}
	}
	return r
}

// History lists a ticket's order actions, newest first.
func (s *Service) History(ctx context.Context, ticketID int64) ([]orders.Result, error) {
	list, err := s.db.OrderActions(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	out := make([]orders.Result, len(list))
	for i := range list {
		out[i] = result(&list[i])
	}
	return out, nil
}
