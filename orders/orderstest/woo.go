package orderstest

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// WooOrder is an order the WooCommerce stand-in holds.
type WooOrder struct {
	ID int64
	// Number is the number the customer sees, when a custom-number plugin
	// (Sequential Order Numbers) gives one; the id otherwise.
	Number    string
	Status    string // pending, processing, on-hold, completed, cancelled, refunded
	Email     string
	Phone     string // billing phone, as the customer typed it
	CreatedAt time.Time
	Currency  string
	Shipping  float64
	Lines     []WooLine
	Country   string

	Refunds []WooRefund
	Address map[string]any // the shipping address last written
}

// WooLine is a line of a WooOrder.
type WooLine struct {
	ID       int64
	Name     string
	Quantity int
	Price    float64
}

// WooRefund is a refund the stand-in made, as it was posted.
type WooRefund struct {
	ID     int64
	Amount float64
	Body   map[string]any
}

func (o *WooOrder) total() float64 {
	t := o.Shipping
	for _, l := range o.Lines {
		t += l.Price * float64(l.Quantity)
	}
	return t
}

func (o *WooOrder) refunded() float64 {
	sum := 0.0
	for _, r := range o.Refunds {
		sum += r.Amount
	}
	return sum
}

// Woo is the stand-in WooCommerce site (REST API v3 under /wp-json/wc/v3).
type Woo struct {
	*httptest.Server
	Key, Secret string

	mu     sync.Mutex
	orders []*WooOrder
	nextID int64
	// Requests lists "METHOD path" of each request taken; Searches the
	// search= of each GET /orders.
	Requests, Searches []string
}

// NewWoo starts a stand-in site holding orders, answering only the key
// and secret (HTTP basic auth, as over HTTPS).
func NewWoo(t testing.TB, key, secret string, orders ...*WooOrder) *Woo {
	w := &Woo{Key: key, Secret: secret, orders: orders, nextID: 700}
	w.Server = httptest.NewServer(http.HandlerFunc(w.serve))
	t.Cleanup(w.Close)
	return w
}

// Order is the stand-in's order of an id, as it is now.
func (w *Woo) Order(id int64) WooOrder {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, o := range w.orders {
		if o.ID == id {
			return *o
		}
	}
	return WooOrder{}
}

func wooErr(rw http.ResponseWriter, status int, code, msg string) {
	rw.WriteHeader(status)
	_ = json.NewEncoder(rw).Encode(map[string]any{"code": code, "message": msg, "data": map[string]any{"status": status}})
}

var wooPath = regexp.MustCompile(`^/wp-json/wc/v3/orders(?:/(\d+)(/refunds)?)?$`)

func (w *Woo) serve(rw http.ResponseWriter, r *http.Request) {
	rw.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.mu.Lock()
	defer w.mu.Unlock()
	w.Requests = append(w.Requests, r.Method+" "+r.URL.Path)
	key, secret, ok := r.BasicAuth()
	if !ok || key != w.Key || secret != w.Secret {
		wooErr(rw, http.StatusUnauthorized, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
		return
	}
	m := wooPath.FindStringSubmatch(r.URL.Path)
	if m == nil {
		wooErr(rw, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
		return
	}
	var o *WooOrder
	if m[1] != "" {
		id, _ := strconv.ParseInt(m[1], 10, 64)
		for _, x := range w.orders {
			if x.ID == id {
				o = x
			}
		}
		if o == nil {
			wooErr(rw, http.StatusNotFound, "woocommerce_rest_shop_order_invalid_id", "Invalid ID.")
			return
		}
	}
	var body map[string]any
	if r.Method == http.MethodPost || r.Method == http.MethodPut {
		raw, _ := io.ReadAll(r.Body)
		if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") || json.Unmarshal(raw, &body) != nil {
			wooErr(rw, http.StatusBadRequest, "rest_invalid_json", "Invalid JSON body passed.")
			return
		}
	}
	switch {
	case r.Method == http.MethodGet && o == nil:
		w.list(rw, r.URL.Query())
	case r.Method == http.MethodGet:
		_ = json.NewEncoder(rw).Encode(w.json(o))
	case r.Method == http.MethodPost && m[2] != "":
		w.refund(rw, o, body)
	case r.Method == http.MethodPut && m[2] == "":
		w.update(rw, o, body)
	default:
		wooErr(rw, http.StatusNotFound, "rest_no_route", "No route was found matching the URL and request method.")
	}
}

// list answers GET /orders as documented: per_page 1..100 (10 by
// default), orderby date|id|include|title|slug, order asc|desc, and
// search, which WooCommerce runs through wc_order_search: the billing
// and shipping fields (email, phone, names, address), the order id when
// the term is a number, and the number a custom-number plugin keeps
// (such plugins add their meta key to the searched fields).
func (w *Woo) list(rw http.ResponseWriter, q url.Values) {
	perPage := 10
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): per_page")
			return
		}
		perPage = n
	}
	if v := q.Get("orderby"); v != "" && !slices.Contains([]string{"date", "id", "include", "title", "slug"}, v) {
		wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): orderby")
		return
	}
	if v := q.Get("order"); v != "" && v != "asc" && v != "desc" {
		wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): order")
		return
	}
	w.Searches = append(w.Searches, q.Get("search"))
	term := strings.ToLower(strings.TrimSpace(q.Get("search")))
	var hits []*WooOrder
	for _, x := range w.orders {
		fields := []string{x.Email, x.Phone, "Ana", "Lima", "Rua Nova 5", "Porto", w.number(x)}
		match := term == "" || term == strconv.FormatInt(x.ID, 10)
		for _, f := range fields {
			match = match || strings.Contains(strings.ToLower(f), term)
		}
		if match {
			hits = append(hits, x)
		}
	}
	slices.SortStableFunc(hits, func(a, b *WooOrder) int { return b.CreatedAt.Compare(a.CreatedAt) })
	if q.Get("order") == "asc" {
		slices.Reverse(hits)
	}
	out := []any{}
	for _, x := range hits[:min(len(hits), perPage)] {
		out = append(out, w.json(x))
	}
	rw.Header().Set("X-WP-Total", strconv.Itoa(len(hits)))
	_ = json.NewEncoder(rw).Encode(out)
}

func (w *Woo) number(o *WooOrder) string {
	if o.Number != "" {
		return o.Number
	}
	return strconv.FormatInt(o.ID, 10)
}

// refund takes POST orders/{id}/refunds as documented: amount (a
// string), reason, api_refund, api_restock, line_items [{id, quantity,
// refund_total}]; a refund over what is left is refused with
// WooCommerce's own sentence.
func (w *Woo) refund(rw http.ResponseWriter, o *WooOrder, body map[string]any) {
	amt, ok := body["amount"].(string)
	value, err := strconv.ParseFloat(amt, 64)
	if !ok || err != nil || value <= 0 {
		wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): amount")
		return
	}
	if _, ok := body["api_refund"].(bool); !ok {
		wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): api_refund")
		return
	}
	if lines, ok := body["line_items"]; ok {
		list, _ := lines.([]any)
		for _, li := range list {
			m, _ := li.(map[string]any)
			if _, isNum := m["id"].(float64); !isNum {
				wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): line_items")
				return
			}
		}
	}
	if value > o.total()-o.refunded()+0.001 {
		// WooCommerce answers 500 for a refund wc_create_refund refused.
		wooErr(rw, http.StatusInternalServerError, "woocommerce_rest_cannot_create_order_refund", "Invalid refund amount.")
		return
	}
	w.nextID++
	o.Refunds = append(o.Refunds, WooRefund{ID: w.nextID, Amount: value, Body: body})
	if o.refunded() >= o.total()-0.001 {
		o.Status = "refunded"
	}
	rw.WriteHeader(http.StatusCreated)
	_ = json.NewEncoder(rw).Encode(map[string]any{"id": w.nextID, "amount": amount(value), "reason": body["reason"],
		"date_created_gmt": time.Now().UTC().Format("2006-01-02T15:04:05")})
}

func (w *Woo) update(rw http.ResponseWriter, o *WooOrder, body map[string]any) {
	if st, ok := body["status"].(string); ok {
		valid := map[string]bool{"pending": true, "processing": true, "on-hold": true, "completed": true, "cancelled": true, "refunded": true, "failed": true}
		if !valid[st] {
			wooErr(rw, http.StatusBadRequest, "rest_invalid_param", "Invalid parameter(s): status")
			return
		}
		o.Status = st
	}
	if addr, ok := body["shipping"].(map[string]any); ok {
		o.Address = addr
		if c, _ := addr["country"].(string); c != "" {
			o.Country = c
		}
	}
	_ = json.NewEncoder(rw).Encode(w.json(o))
}

func (w *Woo) json(o *WooOrder) map[string]any {
	var lines []any
	for _, l := range o.Lines {
		lines = append(lines, map[string]any{"id": l.ID, "name": l.Name, "quantity": l.Quantity, "sku": "", "price": l.Price,
			"total": amount(l.Price * float64(l.Quantity))})
	}
	var refunds []any
	for _, r := range o.Refunds {
		refunds = append(refunds, map[string]any{"id": r.ID, "reason": "", "total": "-" + amount(r.Amount)})
	}
	var paid any
	if o.Status != "pending" && o.Status != "failed" {
		paid = o.CreatedAt.UTC().Format("2006-01-02T15:04:05")
	}
	ship := map[string]any{"first_name": "Ana", "last_name": "Lima", "company": "", "address_1": "Rua Nova 5", "address_2": "",
		"city": "Porto", "state": "", "postcode": "4000-001", "country": o.Country, "phone": ""}
	if o.Address != nil {
		ship = o.Address
	}
	return map[string]any{
		"id": o.ID, "number": w.number(o), "status": o.Status, "currency": o.Currency,
		"date_created_gmt": o.CreatedAt.UTC().Format("2006-01-02T15:04:05"), "date_paid_gmt": paid,
		"total": amount(o.total()), "shipping_total": amount(o.Shipping), "customer_id": 0,
		"billing": map[string]any{"email": o.Email, "phone": o.Phone, "country": o.Country, "first_name": "Ana", "last_name": "Lima",
			"address_1": "Rua Nova 5", "city": "Porto"},
		"shipping": ship, "line_items": lines, "refunds": refunds,
	}
}
