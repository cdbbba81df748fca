package portal

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"onedesk/channels/chat"
	"onedesk/desk"
	"onedesk/orders"
	"onedesk/store"
)

// "Where is my order?": the customer gives the order's number and the
// email or phone it was placed with. A wrong address or phone is refused
// with the very sentence an unknown number gets, so that nobody learns
// from the portal whether an order exists; tries are limited by address
// and by order number (a number cannot be tried with many addresses).

type orderView struct {
	Number      string            `json:"number"`
	Placed      string            `json:"placed"`
	Total       string            `json:"total"`
	Currency    string            `json:"currency"`
	Payment     string            `json:"payment"`     // in the reader's language
	Fulfillment string            `json:"fulfillment"` // in the reader's language
	Cancelled   bool              `json:"cancelled"`
	Items       []orders.Item     `json:"items"`
	Tracking    []orders.Tracking `json:"tracking"`
}

// Why a lookup answers no order: the reader is told one of these keys.
const (
	noOrder     = "order_unknown"     // unknown number, or not theirs
	noLookup    = "order_unavailable" // the store has no lookup, or it fails
	tooManyKeys = "err_fast"
)

// findOrder looks number up and checks contact against it; the error is
// a catalog key.
func (p *Portal) findOrder(ctx context.Context, x *req, number, contact string) (*orders.Order, string) {
	number = strings.TrimSpace(number)
	contact = strings.TrimSpace(contact)
	key := orders.NormNumber(number)
	if key == "" || contact == "" || len(key) > 40 || len(contact) > 200 {
		return nil, noOrder
	}
	if !p.orderByIP.Allow(clientIP(x.r)) || !p.orderByNum.Allow(x.st.Slug+":"+key) {
		return nil, tooManyKeys
	}
	list, err := p.desk.OrdersByNumber(ctx, x.st.ID, strings.TrimPrefix(number, "#"))
	if errors.Is(err, desk.ErrNoOrders) {
		return nil, noLookup
	}
	if err != nil {
		p.log.Warn("portal: order lookup failed", "store", x.st.ID, "err", err)
		return nil, noLookup
	}
	for i := range list {
		if orders.SameNumber(list[i].Number, number) && contactMatches(list[i], contact) {
			return &list[i], ""
		}
	}
	return nil, noOrder
}

// contactMatches: the order's email (any case), or its phone: the same
// digits, or the national number without the country code (at most three
// digits short, so that the end of a number is not enough).
func contactMatches(o orders.Order, contact string) bool {
	if strings.Contains(contact, "@") {
		return o.Email != "" && strings.EqualFold(strings.TrimSpace(o.Email), contact)
	}
	return orders.SamePhone(o.Phone, contact)
}

// showOrder is an order as the customer reads it, statuses in their
// language; tracking links only to web addresses.
func showOrder(x *req, o *orders.Order) *orderView {
	v := &orderView{Number: o.Number, Placed: date(o.CreatedAt), Total: o.Total, Currency: o.Currency, Cancelled: o.Cancelled,
		Payment: status(x, "pay_", o.Payment), Fulfillment: status(x, "ful_", o.Fulfillment), Items: o.Items}
	for _, t := range o.Tracking {
		if u, err := url.Parse(t.URL); err != nil || u.Scheme != "https" && u.Scheme != "http" {
			t.URL = ""
		}
		v.Tracking = append(v.Tracking, t)
	}
	return v
}

func status(x *req, prefix, s string) string {
	s = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), " ", "_"))
	if s == "" {
		return ""
	}
	if t, ok := x.T[prefix+s]; ok {
		return t
	}
	return strings.ReplaceAll(s, "_", " ")
}

// orderForm is the portal's order tracking page.
func (p *Portal) orderForm(x *req) error {
	v := p.newView(x, "order")
	if x.session != nil {
		v.OrderContact = x.session.Email
	}
	p.render(x, http.StatusOK, v)
	return nil
}

// orderLookup answers the form: the order, or one sentence for "no".
func (p *Portal) orderLookup(x *req) error {
	number, contact := x.r.PostFormValue("number"), x.r.PostFormValue("contact")
	v := p.newView(x, "order")
	v.OrderNumber, v.OrderContact = number, contact
	o, problem := p.findOrder(x.r.Context(), x, number, contact)
	if problem != "" {
		v.Error = x.T[problem]
		status := http.StatusOK // the same for an unknown order and a wrong address
		if problem == tooManyKeys {
			status = http.StatusTooManyRequests
		}
		p.render(x, status, v)
		return nil
	}
	v.Order = showOrder(x, o)
	v.NeedEmail = x.session == nil && !strings.Contains(contact, "@")
	p.render(x, http.StatusOK, v)
	return nil
}

// orderHelp opens a ticket about a checked order, the order attached (a
// form ticket, its field "order"): only when the customer still wants
// help. The order is checked again: the form's hidden fields are theirs
// to change.
func (p *Portal) orderHelp(x *req) error {
	number, contact := x.r.PostFormValue("number"), x.r.PostFormValue("contact")
	message := strings.TrimSpace(x.r.PostFormValue("message"))
	v := p.newView(x, "order")
	v.OrderNumber, v.OrderContact, v.HelpMessage = number, contact, message
	o, problem := p.findOrder(x.r.Context(), x, number, contact)
	if problem != "" {
		v.Error = x.T[problem]
		p.render(x, http.StatusBadRequest, v)
		return nil
	}
	v.Order = showOrder(x, o)
	email := contact
	switch {
	case x.session != nil:
		email = x.session.Email
	case !strings.Contains(contact, "@"):
		email = x.r.PostFormValue("email")
		v.NeedEmail = true
	}
	addr, err := desk.NormalizeEmail(strings.TrimSpace(email))
	if err != nil {
		v.Error = x.T["err_email"]
		p.render(x, http.StatusBadRequest, v)
		return nil
	}
	if message == "" {
		v.Error = x.T["err_empty"]
		p.render(x, http.StatusBadRequest, v)
		return nil
	}
	if !p.replyLimit.Allow(clientIP(x.r)) {
		v.Error = x.T["err_fast"]
		p.render(x, http.StatusTooManyRequests, v)
		return nil
	}
	fields, _ := json.Marshal(map[string]string{"order": o.Number})
	in := desk.Inbound{Channel: "form", StoreID: &x.st.ID, From: store.Identity{Kind: "email", Value: addr},
		Subject: strings.ReplaceAll(x.T["help_subject"], "{number}", o.Number), Text: message, Fields: fields, Language: readerLanguage(x.r)}
	if _, err := p.desk.Ingest(x.r.Context(), in); err != nil {
		if _, ok := desk.IsInput(err); ok {
			v.Error = sentence(x.lang, err)
			p.render(x, http.StatusBadRequest, v)
			return nil
		}
		return err
	}
	done := p.newView(x, "sent")
	done.Notice = x.T["help_sent"]
	p.render(x, http.StatusOK, done)
	return nil
}

// apiOrder is the widget's lookup.
func (p *Portal) apiOrder(x *req, body map[string]string) (any, error) {
	o, problem := p.findOrder(x.r.Context(), x, body["number"], body["contact"])
	if problem != "" {
		status := http.StatusNotFound
		if problem == tooManyKeys {
			status = http.StatusTooManyRequests
		} else if problem == noLookup {
			status = http.StatusServiceUnavailable
		}
		return nil, &apiErr{status, problem, "number"}
	}
	return map[string]any{"order": showOrder(x, o)}, nil
}

// apiOrderHelp puts the visitor's question about a checked order in
// their chat (a new chat carries the order as its field "order"; one
// going on names it in the text).
func (p *Portal) apiOrderHelp(x *req, body map[string]string) (any, error) {
	ctx := x.r.Context()
	visitor, ok := chat.VisitorIdentity(body["token"])
	if !ok {
		return nil, &apiErr{http.StatusBadRequest, "err_no_chat", "token"}
	}
	message := strings.TrimSpace(body["message"])
	if message == "" {
		return nil, &apiErr{http.StatusBadRequest, "err_empty", "message"}
	}
	o, problem := p.findOrder(ctx, x, body["number"], body["contact"])
	if problem != "" {
		return nil, &apiErr{http.StatusBadRequest, problem, "number"}
	}
	if !p.replyLimit.Allow(clientIP(x.r)) {
		return nil, &apiErr{http.StatusTooManyRequests, "err_fast", ""}
	}
	in := desk.Inbound{Channel: "chat", StoreID: &x.st.ID, From: visitor, Text: message}
	if cid := body["cid"]; cid != "" && len(cid) <= 64 {
		in.ExternalID = visitor.Value + ":order:" + cid
	}
	t, err := p.desk.CurrentTicket(ctx, visitor, "chat")
	if err != nil {
		return nil, err
	}
	if t != nil {
		in.TicketID = t.ID
		if !strings.Contains(message, o.Number) {
			in.Text = o.Number + " — " + message // the order's number: the agent's side panel finds it
		}
	} else {
		in.Fields, _ = json.Marshal(map[string]string{"order": o.Number})
	}
	res, err := p.desk.Ingest(ctx, in)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ticket": res.Ticket.ID, "id": res.Message.ID, "text": in.Text}, nil
}
