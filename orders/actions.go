package orders

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strings"

	"onedesk/i18n"
)

// The order actions an agent may take from a ticket. Each platform does
// the ones its API allows (Platform.Actions).
const (
	ActRefund      = "refund"              // some or all items, shipping, restock or not
	ActCancel      = "cancel"              // with a reason, refund and restock choices
	ActAddress     = "update_address"      // the shipping address
	ActResend      = "resend_confirmation" // the order's details mailed to the customer again
	ActDiscount    = "create_discount"     // a single-use code for the customer
	ActReplacement = "create_replacement"  // a draft order of the same items at no charge
)

// AllActions lists every action, in the order the app offers them.
var AllActions = []string{ActRefund, ActCancel, ActAddress, ActResend, ActDiscount, ActReplacement}

// Platform is a shop platform that acts on its orders.
type Platform interface {
	Source
	// Name is "shopify" or "woocommerce".
	Name() string
	// Actions lists the actions the platform's API allows.
	Actions() []string
	// Preview says what an action would do, in money, without doing it.
	Preview(ctx context.Context, o *Order, action string, p Params) (*Preview, error)
	// Act does it. key is the confirmation's idempotency key: a platform
	// that takes one (Shopify's refunds) is given it, so a retried request
	// is done once there too.
	Act(ctx context.Context, o *Order, action string, p Params, key string) (*Outcome, error)
}

// Replayer is a platform that can send an action again after an
// interruption without doing it twice: the request is made (Prepare) and
// kept before it goes, and sent again byte for byte under the same
// idempotency key (Send), which the platform answers with the first
// action's result (Shopify's refunds, @idempotent). Prepare answers nil
// for an action it cannot replay.
type Replayer interface {
	Prepare(ctx context.Context, o *Order, action string, p Params) (json.RawMessage, error)
	Send(ctx context.Context, o *Order, action string, request json.RawMessage, key string) (*Outcome, error)
}

// Params are an action's choices, from the confirmation (or a macro).
type Params struct {
	Items    []Line `json:"items,omitempty"` // refund, replacement: lines and quantities (none: every line)
	Shipping bool   `json:"shipping,omitempty"`
	Restock  bool   `json:"restock,omitempty"`
	// Amount replaces the suggested refund ("10.00" as a goodwill refund).
	Amount  string   `json:"amount,omitempty"`
	Reason  string   `json:"reason,omitempty"` // cancel: customer, inventory, fraud, declined, staff, other
	Refund  bool     `json:"refund,omitempty"` // cancel: pay the money back
	Notify  bool     `json:"notify,omitempty"` // the platform mails the customer
	Note    string   `json:"note,omitempty"`   // for the shop's staff
	Address *Address `json:"address,omitempty"`
	// Discount: Percent off (1-100) or Value off in the shop's currency,
	// and the Code ("" makes one).
	Percent float64 `json:"percent,omitempty"`
	Value   string  `json:"value,omitempty"`
	Code    string  `json:"code,omitempty"`
}

// Line is a line of an order and a quantity of it.
type Line struct {
	ID       string `json:"id"`
	Quantity int    `json:"quantity"`
}

// CancelReasons are the reasons a cancellation may give.
var CancelReasons = []string{"customer", "inventory", "fraud", "declined", "staff", "other"}

// ParamsFrom reads an action's choices from a JSON-like map (a request
// body, a macro's stored action).
func ParamsFrom(m map[string]any) (Params, error) {
	var p Params
	if len(m) == 0 {
		return p, nil
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return p, fmt.Errorf("order action choices: %w", err)
	}
	if err := json.Unmarshal(raw, &p); err != nil {
		return p, fmt.Errorf("order action choices: %w", err)
	}
	return p, nil
}

// Preview is what an action would do: the money that goes back to the
// customer (Amount, in Currency; "" when none moves), the most that may
// go back, and what the platform suggested.
type Preview struct {
	Action   string `json:"action"`
	Order    string `json:"order"` // its number
	Amount   string `json:"amount,omitempty"`
	Maximum  string `json:"maximum,omitempty"`
	Shipping string `json:"shipping,omitempty"` // the shipping part of Amount
	Currency string `json:"currency,omitempty"`
	Items    int    `json:"items,omitempty"` // units refunded or replaced
	Restock  bool   `json:"restock,omitempty"`
	// Worth is what a replacement's items cost (at no charge to the
	// customer) or a discount's value.
	Worth string `json:"worth,omitempty"`
	// Key is the idempotency key of this confirmation: the request that
	// confirms it sends it back, so a double click acts once.
	Key string `json:"key"`
}

// Outcome is what an action did.
type Outcome struct {
	Action   string `json:"action"`
	Order    string `json:"order"`
	Amount   string `json:"amount,omitempty"` // money back to the customer
	Currency string `json:"currency,omitempty"`
	// Ref names what was made: a refund's id, a discount code, a draft
	// order's name.
	Ref string `json:"ref,omitempty"`
	URL string `json:"url,omitempty"` // a draft order's invoice page
}

// Refused is the platform saying no to an action, in its own words (a
// Shopify userErrors message, a WooCommerce error message): the agent
// reads that sentence as it is.
type Refused struct {
	Platform string // Shopify, WooCommerce
	Message  string
}

func (r *Refused) Error() string { return r.Platform + ": " + r.Message }

// Result is an action taken from a ticket, as the ticket's history and
// the order panel show it.
type Result struct {
	ID       int64  `json:"id"`
	TicketID int64  `json:"ticket_id"`
	Order    string `json:"order"`
	Action   string `json:"action"`
	// Status is done, refused (the platform said no: Message is its
	// sentence), failed (it could not be asked) or pending.
	Status  string   `json:"status"`
	Message string   `json:"message,omitempty"`
	Outcome *Outcome `json:"outcome,omitempty"`
	AgentID *int64   `json:"agent_id"`
	// Repeat: the key was used before; this is that action's result.
	Repeat bool `json:"repeat,omitempty"`
}

// Actions is what other parts of onedesk (macros) call to act on a
// ticket's orders. Do acts as the agent, with their permission checked,
// on params["order"] (an order number; the customer's latest order when
// absent), taking params["key"] as the idempotency key (a fresh one when
// absent); the other params are Params' fields. A platform's refusal is a
// Result with Status "refused", not an error.
type Actions interface {
	Available(ctx context.Context, ticketID int64) ([]string, error)
	Do(ctx context.Context, ticketID, agentID int64, action string, params map[string]any) (Result, error)
}

// decimal reads a money amount ("49.90"); ok is false for anything else.
func decimal(s string) (*big.Rat, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, false
	}
	r, ok := new(big.Rat).SetString(s)
	return r, ok
}

// money writes an amount with two decimals.
func money(r *big.Rat) string { return r.FloatString(2) }

// sameAction tells whether a platform offers an action.
func offers(p Platform, action string) bool {
	for _, a := range p.Actions() {
		if a == action {
			return true
		}
	}
	return false
}

// CheckAction refuses an action a platform does not offer and choices it
// cannot take, with a field for the agent.
func CheckAction(p Platform, action string, pr Params) error {
	if !offers(p, action) {
		return &FieldError{Field: "action", Said: i18n.S("this shop's platform cannot do %q", action)}
	}
	switch action {
	case ActCancel:
		if pr.Reason == "" {
			pr.Reason = "customer"
		}
		ok := false
		for _, r := range CancelReasons {
			ok = ok || r == pr.Reason
		}
		if !ok {
			return &FieldError{Field: "reason", Said: i18n.S("the reason is one of %s", strings.Join(CancelReasons, ", "))}
		}
	case ActAddress:
		a := pr.Address
		if a == nil || strings.TrimSpace(a.Address1) == "" || strings.TrimSpace(a.City) == "" || len(strings.TrimSpace(a.Country)) != 2 {
			return &FieldError{Field: "address", Said: i18n.S("an address needs a street, a city and a two-letter country")}
		}
	case ActDiscount:
		if (pr.Percent <= 0 || pr.Percent > 100) && pr.Value == "" {
			return &FieldError{Field: "percent", Said: i18n.S("give a percent (1-100) or a value off")}
		}
		if v, ok := decimal(pr.Value); pr.Value != "" && (!ok || v.Sign() <= 0) {
			return &FieldError{Field: "value", Said: i18n.S("the value off is an amount like 10.00")}
		}
	case ActRefund:
		if v, ok := decimal(pr.Amount); pr.Amount != "" && (!ok || v.Sign() <= 0) {
			return &FieldError{Field: "amount", Said: i18n.S("the amount is like 10.00")}
		}
	}
	for _, l := range pr.Items {
		if l.ID == "" || l.Quantity <= 0 {
			return &FieldError{Field: "items", Said: i18n.S("each item names a line and a quantity above 0")}
		}
	}
	if len(pr.Note) > 2000 {
		return &FieldError{Field: "note", Said: i18n.S("the note is longer than 2000 characters")}
	}
	return nil
}

// FieldError is a choice the action cannot take, said for the agent.
type FieldError struct {
	Field string
	Said  i18n.Sentence
}

func (e *FieldError) Error() string { return e.Said.String() }

// lineOf finds an order's line by id.
func lineOf(o *Order, id string) *Item {
	for i := range o.Items {
		if o.Items[i].ID == id {
			return &o.Items[i]
		}
	}
	return nil
}

// chosenLines are the lines an action names, or every refundable line.
func chosenLines(o *Order, p Params) []Line {
	if len(p.Items) > 0 {
		return p.Items
	}
	var all []Line
	for _, it := range o.Items {
		n := it.Refundable
		if n == 0 {
			n = it.Quantity
		}
		if it.ID != "" && n > 0 {
			all = append(all, Line{ID: it.ID, Quantity: n})
		}
	}
	return all
}

func decimalZero() *big.Rat { return new(big.Rat) }
func ratInt(n int) *big.Rat { return new(big.Rat).SetInt64(int64(n)) }
