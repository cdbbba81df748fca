package orderact

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"onedesk/desk"
	"onedesk/macros"
	"onedesk/orders"
	"onedesk/store"
)

// Macros lets macros name order actions: an agent who applies a macro has
// chosen its action beforehand, so it runs at once on the customer's
// latest order (or the one the macro names), with a key of its own, and
// its result goes on the ticket as the order panel's do.
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

// Run does the macro's action for the agent applying it.
func (m Macros) Run(ctx context.Context, actor desk.Actor, ticketID int64, act store.MacroOrderAction) (string, error) {
	allowed, ok := macroParams[act.Name]
	if !ok {
		return "", fmt.Errorf("a macro cannot %s", act.Name)
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
				return "", fmt.Errorf("the macro's percent %q is not a number", s)
			}
			params[k] = f
		default:
			params[k] = s
		}
	}
	res, err := m.S.Do(ctx, ticketID, actor.AgentID, act.Name, params)
	if err != nil {
		return "", err
	}
	switch res.Status {
	case "done":
		return said(res), nil
	case "refused", "failed":
		if res.Message != "" {
			return "", errors.New(res.Message)
		}
		return "", fmt.Errorf("the shop did not %s", act.Name)
	}
	return res.Status, nil
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
		if o.Ref != "" {
			out += " " + o.Ref
		}
	}
	return strings.TrimSpace(out)
}
