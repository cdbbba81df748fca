package orderact

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/macros"
	"onedesk/orders"
	"onedesk/store"
)

// Macros lets macros name order actions. An agent who applies a macro
// chose its action beforehand, but not the money it moves on this
// customer's order: the macro first previews the action on the
// customer's latest order (or the one the macro names), as the order
// panel does, and runs it only with the token of that preview. The token
// is the action's idempotency key signed with what the agent saw, so a
// confirmation acts once, and one whose money no longer holds is asked
// again.
type Macros struct{ S *Service }

var _ macros.OrderActions = Macros{}

// macroParams are the choices a macro may fix for each action, typed in
// the macro editor as text. Editing an address is left to the order panel:
// a macro has no address to give.
var macroParams = map[string][]string{
	orders.ActRefund:      {"order", "amount", "shipping", "restock", "notify", "note"},
	orders.ActCancel:      {"order", "reason", "refund", "restock", "notify"},
	orders.ActResend:      {"order"},
	orders.ActDiscount:    {"order", "percent", "value", "code"},
	orders.ActReplacement: {"order", "note"},
}

// Available lists the actions a macro may name, in the app's order; the
// app names them (oa_<action>).
func (Macros) Available() []macros.ActionInfo {
	var out []macros.ActionInfo
	for _, a := range orders.AllActions {
		if p, ok := macroParams[a]; ok {
			out = append(out, macros.ActionInfo{Name: a, Params: p})
		}
	}
	return out
}

// request reads a macro's action as a request of the agent acting.
func (m Macros) request(actor desk.Actor, ticketID int64, act store.MacroOrderAction) (Request, error) {
	allowed, ok := macroParams[act.Name]
	if !ok {
		return Request{}, inputErr("order_action", i18n.S("a macro cannot %s", act.Name))
	}
	params := map[string]any{}
	for _, k := range allowed {
		v, ok := act.Params[k]
		if !ok {
			continue
		}
		s := strings.TrimSpace(fmt.Sprint(v))
		if s == "" {
			continue
		}
		switch k {
		case "shipping", "restock", "notify", "refund":
			params[k] = yes(s)
		case "percent":
			f, err := strconv.ParseFloat(s, 64)
			if err != nil {
				return Request{}, inputErr("order_action", i18n.S("the macro's percent %q is not a number", s))
			}
			params[k] = f
		default:
			params[k] = s
		}
	}
	return requestFrom(ticketID, actor.AgentID, act.Name, params)
}

// Preview says what the macro's action would do, with its token.
func (m Macros) Preview(ctx context.Context, actor desk.Actor, ticketID int64, act store.MacroOrderAction) (*macros.Confirmation, error) {
	r, err := m.request(actor, ticketID, act)
	if err != nil {
		return nil, err
	}
	return m.confirmation(ctx, r)
}

func (m Macros) confirmation(ctx context.Context, r Request) (*macros.Confirmation, error) {
	pv, err := m.S.Preview(ctx, r)
	if err != nil {
		return nil, err
	}
	sig, err := m.sign(ctx, r, pv)
	if err != nil {
		return nil, err
	}
	return &macros.Confirmation{Preview: pv, Token: pv.Key + "." + sig}, nil
}

// sign binds a preview's key to the ticket, the agent, the action and
// what the preview said (but its ceiling, which a confirmation does not
// promise).
func (m Macros) sign(ctx context.Context, r Request, pv *orders.Preview) (string, error) {
	seen := *pv
	seen.Key, seen.Maximum = "", ""
	said, _ := json.Marshal(seen)
	params, _ := json.Marshal(r.Params)
	return m.S.d.Sign(ctx, fmt.Sprintf("macro-order-action\n%d\n%d\n%s\n%s\n%s\n%s", r.TicketID, r.AgentID, pv.Key, r.Action, params, said))
}

// Run does the macro's action the agent confirmed with token: the key's
// action again answers its outcome (Repeat); a preview that no longer
// says what the token was signed with is asked again (a *Confirmation,
// Changed); else the action runs under the key.
func (m Macros) Run(ctx context.Context, actor desk.Actor, ticketID int64, act store.MacroOrderAction, token string) (macros.OrderOutcome, error) {
	key, sig, ok := strings.Cut(token, ".")
	if !ok || !keyShape.MatchString(key) {
		return macros.OrderOutcome{}, errBadConfirm
	}
	if prev, err := m.S.db.OrderActionByKey(ctx, key); err == nil {
		res, err := m.S.repeat(prev, ticketID)
		if err != nil {
			return macros.OrderOutcome{}, errBadConfirm
		}
		return outcome(res, true), nil
	}
	r, err := m.request(actor, ticketID, act)
	if err != nil {
		return macros.OrderOutcome{}, err
	}
	pv, err := m.S.Preview(ctx, r)
	if err != nil {
		return macros.OrderOutcome{}, err
	}
	pv.Key = key
	if want, err := m.sign(ctx, r, pv); err != nil {
		return macros.OrderOutcome{}, err
	} else if want != sig {
		c, err := m.confirmation(ctx, r)
		if err != nil {
			return macros.OrderOutcome{}, err
		}
		c.Changed = true
		return macros.OrderOutcome{}, c
	}
	r.Key = key
	res, err := m.S.Act(ctx, r)
	var oe *orders.Error
	switch {
	case errors.As(err, &oe) && res.ID != 0:
		// The shop could not be asked: the macro stops with why.
		res.Message = oe.Message
	case err != nil:
		return macros.OrderOutcome{}, err
	}
	return outcome(res, res.Repeat), nil
}

var errBadConfirm = inputErr("confirm", i18n.S("the confirmation's key is missing or not valid: ask for the confirmation again"))

func outcome(res orders.Result, repeat bool) macros.OrderOutcome {
	out := macros.OrderOutcome{Done: res.Status == "done", Repeat: repeat}
	switch {
	case out.Done:
		out.Said = said(res)
	case res.Message != "":
		out.Said = res.Message
	default:
		out.Said = res.Order + " " + res.Status
	}
	return out
}

func yes(s string) bool {
	switch strings.ToLower(s) {
	case "1", "true", "yes", "y", "on", "sim", "evet", "ano", "да":
		return true
	}
	return false
}

// said is the result in a few words for the ticket's history.
func said(r orders.Result) string {
	out := r.Order
	if o := r.Outcome; o != nil {
		if o.Amount != "" {
			out += " " + strings.TrimSpace(o.Amount+" "+o.Currency)
		}
		if o.Ref != "" && !strings.HasPrefix(o.Ref, "gid://") { // a platform's inner id says nothing to an agent
			out += " " + o.Ref
		}
	}
	return strings.TrimSpace(out)
}
