package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"onedesk/i18n"
	"onedesk/netguard"
)

// WooCommerce looks orders up and acts on them through a shop's REST API
// v3 (wp-json/wc/v3) with a consumer key and secret (read/write), sent
// as HTTP basic auth: over HTTPS only (desk refuses http:// but for a
// stand-in on the loopback).
type WooCommerce struct {
	URL    string // the site: https://shop.example.com
	Key    string // ck_...
	Secret string // cs_...
	Client *http.Client
}

// Name is the platform's name.
func (w *WooCommerce) Name() string { return "woocommerce" }

// Actions are what WooCommerce's REST API allows: refunds, cancelling
// (status cancelled) and editing the shipping address.
func (w *WooCommerce) Actions() []string { return []string{ActRefund, ActCancel, ActAddress} }

type wooAddress struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company"`
	Address1  string `json:"address_1"`
	Address2  string `json:"address_2"`
	City      string `json:"city"`
	State     string `json:"state"`
	Postcode  string `json:"postcode"`
	Country   string `json:"country"`
	Email     string `json:"email,omitempty"`
	Phone     string `json:"phone"`
}

type wooOrder struct {
	ID             int64      `json:"id"`
	Number         string     `json:"number"`
	Status         string     `json:"status"`
	Currency       string     `json:"currency"`
	DateCreatedGMT string     `json:"date_created_gmt"`
	DatePaidGMT    *string    `json:"date_paid_gmt"`
	Total          string     `json:"total"`
	ShippingTotal  string     `json:"shipping_total"`
	CustomerID     int64      `json:"customer_id"`
	Billing        wooAddress `json:"billing"`
	Shipping       wooAddress `json:"shipping"`
	LineItems      []struct {
		ID       int64   `json:"id"`
		Name     string  `json:"name"`
		Quantity int     `json:"quantity"`
		SKU      string  `json:"sku"`
		Price    float64 `json:"price"`
		Total    string  `json:"total"`
	} `json:"line_items"`
	Refunds []struct {
		ID    int64  `json:"id"`
		Total string `json:"total"` // negative: "-10.00"
	} `json:"refunds"`
}

// wooError is the REST API's error body.
type wooError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (w *WooCommerce) base() string { return strings.TrimSuffix(w.URL, "/") + "/wp-json/wc/v3" }

// call sends one request and decodes the answer into out. A refusal
// with a message (4xx, or WooCommerce's 500 for a refund the gateway
// declined) is the shop's sentence for a change, plain words for a read.
func (w *WooCommerce) call(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return fmt.Errorf("woocommerce request: %w", err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, w.base()+path, rd)
	if err != nil {
		return orderErr(err, "the WooCommerce shop address is not valid")
	}
	req.SetBasicAuth(w.Key, w.Secret)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := w.Client
	if client == nil {
		client = netguard.Default.Client(15 * time.Second)
	}
	resp, err := client.Do(req)
	if err != nil {
		return httpFailure("WooCommerce", nil, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return httpFailure("WooCommerce", nil, err)
	}
	if resp.StatusCode >= 300 {
		var we wooError
		if json.Unmarshal(raw, &we) == nil && we.Message != "" && method != http.MethodGet &&
			resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
			return &Refused{Platform: "WooCommerce", Message: we.Message}
		}
		return httpFailure("WooCommerce", resp, nil)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return orderErr(err, "WooCommerce answered something that is not order data")
	}
	return nil
}

// Lookup finds the orders of the customer's addresses and phones and of
// the numbers, each through the orders search (search=, which WooCommerce
// runs over the billing and shipping fields, and the order number where
// a custom-number plugin registers it), kept to the orders that truly
// match: the billing email, the billing phone by its digits, the number
// the customer sees (a plugin's "WC-1001" as well as the post id).
func (w *WooCommerce) Lookup(ctx context.Context, q Query) ([]Order, error) {
	var list []Order
	seen := map[int64]bool{}
	keep := func(o wooOrder) {
		if !seen[o.ID] {
			seen[o.ID] = true
			list = append(list, w.order(o))
		}
	}
	for _, e := range q.Emails {
		found, err := w.search(ctx, e)
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			if strings.EqualFold(o.Billing.Email, e) {
				keep(o)
			}
		}
	}
	for _, p := range q.Phones {
		term := phoneSearch(p)
		if len(term) < 7 {
			continue
		}
		found, err := w.search(ctx, term)
		if err != nil {
			return nil, err
		}
		for _, o := range found {
			if SamePhone(o.Billing.Phone, p) {
				keep(o)
			}
		}
	}
	for _, n := range q.Numbers {
		n = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(n), "#"))
		if n == "" {
			continue
		}
		found, err := w.search(ctx, n)
		if err != nil {
			return nil, err
		}
		hit := false
		for _, o := range found {
			if SameNumber(o.Number, n) {
				keep(o)
				hit = true
			}
		}
		if hit {
			continue
		}
		// No order shows this number: the shop's own id, as orders
		// without a custom number are shown (and as the search may miss).
		o, ok, err := w.byID(ctx, n)
		if err != nil {
			return nil, err
		}
		if ok && (o.Number == "" || SameNumber(o.Number, n)) {
			keep(o)
		}
	}
	return newest(list), nil
}

// search is GET /orders?search=term, newest first.
func (w *WooCommerce) search(ctx context.Context, term string) ([]wooOrder, error) {
	var found []wooOrder
	v := url.Values{"search": {term}, "per_page": {strconv.Itoa(Limit)}, "orderby": {"date"}, "order": {"desc"}}
	if err := w.call(ctx, http.MethodGet, "/orders?"+v.Encode(), nil, &found); err != nil {
		return nil, err
	}
	return found, nil
}

// byID is GET /orders/{id}; ok is false when n is no id, or no order's.
func (w *WooCommerce) byID(ctx context.Context, n string) (wooOrder, bool, error) {
	var o wooOrder
	id, err := strconv.ParseInt(n, 10, 64)
	if err != nil || id <= 0 {
		return o, false, nil
	}
	err = w.call(ctx, http.MethodGet, "/orders/"+strconv.FormatInt(id, 10), nil, &o)
	var oe *Error
	if errors.As(err, &oe) && strings.Contains(oe.Err.Error(), "status 404") {
		return o, false, nil // not an order of this shop
	}
	return o, err == nil, err
}

// order turns WooCommerce's order into ours: paid once it has a payment
// date, fulfilled once completed.
func (w *WooCommerce) order(n wooOrder) Order {
	created, _ := time.Parse("2006-01-02T15:04:05", n.DateCreatedGMT)
	o := Order{
		ID: strconv.FormatInt(n.ID, 10), Number: "#" + n.Number, CreatedAt: created.UTC(), Total: n.Total, Currency: n.Currency,
		Shipping: n.ShippingTotal, Email: n.Billing.Email, Phone: n.Billing.Phone, Cancelled: n.Status == "cancelled",
		URL: strings.TrimSuffix(w.URL, "/") + "/wp-admin/post.php?post=" + strconv.FormatInt(n.ID, 10) + "&action=edit",
	}
	if n.Number == "" {
		o.Number = "#" + o.ID
	}
	if n.CustomerID > 0 {
		o.CustomerRef = strconv.FormatInt(n.CustomerID, 10)
	}
	refunded := decimalZero()
	for _, r := range n.Refunds {
		if v, ok := decimal(strings.TrimPrefix(r.Total, "-")); ok {
			refunded.Add(refunded, v)
		}
	}
	total, _ := decimal(n.Total)
	switch {
	case n.Status == "refunded" || total != nil && refunded.Sign() > 0 && refunded.Cmp(total) >= 0:
		o.Payment = "refunded"
	case refunded.Sign() > 0:
		o.Payment = "partially_refunded"
	case n.DatePaidGMT != nil && *n.DatePaidGMT != "":
		o.Payment = "paid"
	case n.Status == "failed":
		o.Payment = "failed"
	default:
		o.Payment = "pending"
	}
	o.Fulfillment = "unfulfilled"
	if n.Status == "completed" {
		o.Fulfillment = "fulfilled"
	}
	for _, li := range n.LineItems {
		o.Items = append(o.Items, Item{ID: strconv.FormatInt(li.ID, 10), Title: li.Name, Quantity: li.Quantity, Refundable: li.Quantity,
			SKU: li.SKU, Price: strconv.FormatFloat(li.Price, 'f', 2, 64)})
	}
	a := n.Shipping
	if a.Address1 != "" || a.City != "" {
		o.ShippingAddress = &Address{FirstName: a.FirstName, LastName: a.LastName, Company: a.Company, Address1: a.Address1,
			Address2: a.Address2, City: a.City, Province: a.State, Zip: a.Postcode, Country: a.Country, Phone: a.Phone}
	}
	o.Country = a.Country
	if o.Country == "" {
		o.Country = n.Billing.Country
	}
	return o
}

// remaining is what of the order may still be refunded: its total less
// its refunds (WooCommerce keeps no "refundable" figure).
func (w *WooCommerce) remaining(ctx context.Context, o *Order) (*big.Rat, error) {
	var n wooOrder
	if err := w.call(ctx, http.MethodGet, "/orders/"+url.PathEscape(o.ID), nil, &n); err != nil {
		return nil, err
	}
	left, ok := decimal(n.Total)
	if !ok {
		left = decimalZero()
	}
	for _, r := range n.Refunds {
		if v, ok := decimal(strings.TrimPrefix(r.Total, "-")); ok {
			left.Sub(left, v)
		}
	}
	return left, nil
}

// refundLines are the lines of a refund with their share of money (the
// unit price times the quantity), and their sum.
func refundLines(o *Order, p Params) ([]map[string]any, *big.Rat) {
	sum := decimalZero()
	var lines []map[string]any
	for _, l := range p.Items {
		line := map[string]any{"id": l.ID, "quantity": l.Quantity}
		if id, err := strconv.ParseInt(l.ID, 10, 64); err == nil {
			line["id"] = id // the API's line id is an integer
		}
		if it := lineOf(o, l.ID); it != nil {
			if price, ok := decimal(it.Price); ok {
				part := price.Mul(price, ratInt(l.Quantity))
				sum.Add(sum, part)
				line["refund_total"] = money(part)
			}
		}
		lines = append(lines, line)
	}
	return lines, sum
}

// Preview works the refund out as WooCommerce would: the lines' prices,
// the shipping when chosen, or all that is left when nothing is chosen.
func (w *WooCommerce) Preview(ctx context.Context, o *Order, action string, p Params) (*Preview, error) {
	pv := &Preview{Action: action, Order: o.Number, Currency: o.Currency, Restock: p.Restock}
	if action == ActAddress || action == ActCancel && !p.Refund {
		return pv, nil
	}
	left, err := w.remaining(ctx, o)
	if err != nil {
		return nil, err
	}
	pv.Maximum = money(left)
	amount := new(big.Rat).Set(left)
	if action == ActRefund && (len(p.Items) > 0 || p.Shipping) {
		_, amount = refundLines(o, p)
		if p.Shipping {
			if s, ok := decimal(o.Shipping); ok {
				amount.Add(amount, s)
				pv.Shipping = money(s)
			}
		}
	}
	if v, ok := decimal(p.Amount); ok && action == ActRefund {
		amount = v
	}
	pv.Amount = money(amount)
	for _, l := range p.Items {
		pv.Items += l.Quantity
	}
	return pv, nil
}

// Act does an action in the shop. WooCommerce takes no idempotency key:
// the desk's own record of the key keeps a confirmation to one request.
func (w *WooCommerce) Act(ctx context.Context, o *Order, action string, p Params, key string) (*Outcome, error) {
	out := &Outcome{Action: action, Order: o.Number, Currency: o.Currency}
	path := "/orders/" + url.PathEscape(o.ID)
	switch action {
	case ActRefund:
		pv, err := w.Preview(ctx, o, action, p)
		if err != nil {
			return nil, err
		}
		if err := w.refund(ctx, o, p, pv.Amount, out); err != nil {
			return nil, err
		}
	case ActCancel:
		if p.Refund {
			left, err := w.remaining(ctx, o)
			if err != nil {
				return nil, err
			}
			if left.Sign() > 0 {
				if err := w.refund(ctx, o, Params{Restock: p.Restock, Note: p.Note}, money(left), out); err != nil {
					return nil, err
				}
			}
		} else {
			out.Currency = ""
		}
		if err := w.call(ctx, http.MethodPut, path, map[string]any{"status": "cancelled"}, nil); err != nil {
			return nil, err
		}
	case ActAddress:
		a := p.Address
		body := map[string]any{"shipping": wooAddress{FirstName: a.FirstName, LastName: a.LastName, Company: a.Company,
			Address1: a.Address1, Address2: a.Address2, City: a.City, State: a.Province, Postcode: a.Zip,
			Country: strings.ToUpper(a.Country), Phone: a.Phone}}
		if err := w.call(ctx, http.MethodPut, path, body, nil); err != nil {
			return nil, err
		}
		out.Currency = ""
	default:
		return nil, &FieldError{Field: "action", Said: i18n.S("this shop's platform cannot do %q", action)}
	}
	return out, nil
}

// refund posts a refund of amount through the payment gateway
// (api_refund), with the lines chosen and restocking as asked.
func (w *WooCommerce) refund(ctx context.Context, o *Order, p Params, amount string, out *Outcome) error {
	lines, _ := refundLines(o, p)
	body := map[string]any{"amount": amount, "reason": p.Note, "api_refund": true, "api_restock": p.Restock}
	if len(lines) > 0 {
		body["line_items"] = lines
	}
	var r struct {
		ID     int64  `json:"id"`
		Amount string `json:"amount"`
	}
	if err := w.call(ctx, http.MethodPost, "/orders/"+url.PathEscape(o.ID)+"/refunds", body, &r); err != nil {
		return err
	}
	out.Ref, out.Amount = strconv.FormatInt(r.ID, 10), r.Amount
	return nil
}
