// Package orderstest has local stand-ins for shop platforms, built from
// their public documentation, for tests: Shopify's Admin GraphQL API
// (the orders search, suggestedRefund and the mutations onedesk sends)
// and WooCommerce's REST API v3. They check the shape of each request
// (operation, variables, required fields, auth) and answer as the
// platform does, refusals included (userErrors, WooCommerce's error
// body), keeping the orders' state so that a refund changes what may
// still be refunded.
package orderstest

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// ShopifyOrder is an order the stand-in holds.
type ShopifyOrder struct {
	ID        int64 // gid://shopify/Order/<ID>
	Name      string
	Email     string
	Phone     string // E.164, as Shopify keeps an order's phone
	Customer  int64  // gid://shopify/Customer/<Customer>; 0: none
	CreatedAt time.Time
	Currency  string
	Shipping  float64
	Lines     []ShopifyLine
	Fulfilled bool
	Tracking  []ShopifyTracking // of its fulfilment
	Tags      []string
	Country   string

	Refunded  float64 // money refunded so far
	Cancelled bool
}

// ShopifyTracking is a fulfilment's trackingInfo.
type ShopifyTracking struct {
	Company, Number, URL string
}

// ShopifyLine is a line of a ShopifyOrder.
type ShopifyLine struct {
	ID       int64 // gid://shopify/LineItem/<ID>
	Variant  int64
	Title    string
	SKU      string
	Quantity int
	Price    float64
	Refunded int
}

func (o *ShopifyOrder) total() float64 {
	t := o.Shipping
	for _, l := range o.Lines {
		t += l.Price * float64(l.Quantity)
	}
	return t
}

// Call is one request the stand-in took: its operation name and
// variables.
type Call struct {
	Operation string
	Query     string
	Variables map[string]any
}

// Shopify is the stand-in shop.
type Shopify struct {
	*httptest.Server
	Token string

	mu      sync.Mutex
	orders  []*ShopifyOrder
	calls   []Call
	refunds map[string]string  // idempotency key → refund id
	amounts map[string]float64 // refund id → its amount
	stall   string             // an operation done but never answered
	nextID  int64
	// Discounts and Drafts are what the mutations made.
	Discounts []map[string]any
	Drafts    []map[string]any
	Invoices  []string // order ids an invoice went for

	throttle int  // how many of the next requests are throttled
	down     bool // every request answers 503
}

// Throttle has the next n requests refused as Shopify refuses a query
// its leaky bucket cannot pay for (200, errors THROTTLED, the cost and
// throttle status in extensions).
func (s *Shopify) Throttle(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.throttle = n
}

// Down has every request answered 503 (true) or served again (false).
func (s *Shopify) Down(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// NewShopify starts a stand-in shop holding orders, answering only the
// token.
func NewShopify(t testing.TB, token string, orders ...*ShopifyOrder) *Shopify {
	s := &Shopify{Token: token, orders: orders, refunds: map[string]string{}, amounts: map[string]float64{}, nextID: 9000}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

// StallOn has the stand-in do an operation ("Refund") and then never
// answer it, until the client goes away: a desk killed while the shop
// acts. "" answers everything again.
func (s *Shopify) StallOn(operation string) {
	s.mu.Lock()
	s.stall = operation
	s.mu.Unlock()
}

// nowhere takes an answer no one will read.
type nowhere struct{ h http.Header }

func (n *nowhere) Header() http.Header         { return n.h }
func (n *nowhere) Write(b []byte) (int, error) { return len(b), nil }
func (n *nowhere) WriteHeader(int)             {}

// Calls lists the requests taken so far.
func (s *Shopify) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// Count is how many requests of an operation ("Refund") it took.
func (s *Shopify) Count(operation string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.calls {
		if c.Operation == operation {
			n++
		}
	}
	return n
}

// Order is the stand-in's order of a name ("#1001"), as it is now.
func (s *Shopify) Order(name string) ShopifyOrder {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.orders {
		if o.Name == name {
			return *o
		}
	}
	return ShopifyOrder{}
}

var opName = regexp.MustCompile(`^\s*(query|mutation)\s+(\w+)`)

type gqlError struct {
	Message    string         `json:"message"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

func (s *Shopify) serve(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || !regexp.MustCompile(`^/admin/api/\d{4}-\d{2}/graphql\.json$`).MatchString(r.URL.Path) {
		w.WriteHeader(http.StatusNotFound)
		fmt.Fprint(w, `{"errors":"Not Found"}`)
		return
	}
	if r.Header.Get("X-Shopify-Access-Token") != s.Token {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"}`)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		w.WriteHeader(http.StatusUnsupportedMediaType)
		return
	}
	var body struct {
		Query     string         `json:"query"`
		Variables map[string]any `json:"variables"`
	}
	raw, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(raw, &body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"errors":"Bad Request"}`)
		return
	}
	m := opName.FindStringSubmatch(body.Query)
	if m == nil {
		s.answer(w, nil, gqlError{Message: "Parse error: expected a named operation"})
		return
	}
	s.mu.Lock()
	stall := s.stall != "" && s.stall == m[2]
	s.mu.Unlock()
	if stall {
		defer func() { <-r.Context().Done() }() // after the lock is let go
		w = &nowhere{h: http.Header{}}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = append(s.calls, Call{Operation: m[2], Query: body.Query, Variables: body.Variables})
	if s.down {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, `{"errors":"Service Unavailable"}`)
		return
	}
	if s.throttle > 0 {
		s.throttle--
		_ = json.NewEncoder(w).Encode(map[string]any{"errors": []gqlError{{Message: "Throttled", Extensions: map[string]any{"code": "THROTTLED"}}},
			"extensions": map[string]any{"cost": map[string]any{"requestedQueryCost": 52,
				"throttleStatus": map[string]any{"maximumAvailable": 2000, "currentlyAvailable": 2, "restoreRate": 500}}}})
		return
	}
	v := body.Variables
	switch {
	case m[1] == "query" && strings.Contains(body.Query, "orders(first: $n, query: $q"):
		s.answer(w, map[string]any{"orders": map[string]any{"nodes": s.search(str(v["q"]), int(num(v["n"])))}})
	case m[1] == "query" && strings.Contains(body.Query, "suggestedRefund(refundLineItems: $lines, refundShipping: $shipping, suggestFullRefund: $full)"):
		o := s.find(str(v["id"]))
		if o == nil {
			s.answer(w, map[string]any{"order": nil})
			return
		}
		s.answer(w, map[string]any{"order": map[string]any{"suggestedRefund": s.suggest(o, v)}})
	case m[1] == "mutation" && strings.Contains(body.Query, "refundCreate(input: $input)"):
		s.refundCreate(w, body.Query, v)
	case m[1] == "mutation" && strings.Contains(body.Query, "orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock"):
		s.orderCancel(w, v)
	case m[1] == "mutation" && strings.Contains(body.Query, "orderUpdate(input: $input)"):
		s.orderUpdate(w, v)
	case m[1] == "mutation" && strings.Contains(body.Query, "orderInvoiceSend(id: $id, email: $email)"):
		o := s.find(str(v["id"]))
		if o == nil {
			s.answer(w, map[string]any{"orderInvoiceSend": map[string]any{"order": nil, "userErrors": []any{ue("id", "Order does not exist")}}})
			return
		}
		s.Invoices = append(s.Invoices, str(v["id"]))
		s.answer(w, map[string]any{"orderInvoiceSend": map[string]any{"order": map[string]any{"id": v["id"]}, "userErrors": []any{}}})
	case m[1] == "mutation" && strings.Contains(body.Query, "discountCodeBasicCreate(basicCodeDiscount: $discount)"):
		s.discount(w, v)
	case m[1] == "mutation" && strings.Contains(body.Query, "draftOrderCreate(input: $input)"):
		s.draft(w, v)
	default:
		s.answer(w, nil, gqlError{Message: "Field doesn't exist on type 'QueryRoot' or 'Mutation'", Extensions: map[string]any{"code": "undefinedField"}})
	}
}

func (s *Shopify) answer(w http.ResponseWriter, data any, errs ...gqlError) {
	out := map[string]any{"extensions": map[string]any{"cost": map[string]any{"requestedQueryCost": 10,
		"throttleStatus": map[string]any{"maximumAvailable": 2000, "currentlyAvailable": 1990, "restoreRate": 100}}}}
	if data != nil {
		out["data"] = data
	}
	if len(errs) > 0 {
		out["errors"] = errs
	}
	_ = json.NewEncoder(w).Encode(out)
}

func ue(field, msg string) map[string]any {
	return map[string]any{"field": []string{field}, "message": msg}
}

func str(v any) string { s, _ := v.(string); return s }
func num(v any) float64 {
	switch n := v.(type) {
	case float64:
		return n
	case string:
		f, _ := strconv.ParseFloat(n, 64)
		return f
	}
	return 0
}
func nilIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}
func gid(kind string, id int64) string { return fmt.Sprintf("gid://shopify/%s/%d", kind, id) }
func amount(f float64) string          { return strconv.FormatFloat(math.Round(f*100)/100, 'f', 2, 64) }
func shopMoney(f float64, cur string) map[string]any {
	return map[string]any{"shopMoney": map[string]any{"amount": amount(f), "currencyCode": cur}}
}

func (s *Shopify) find(id string) *ShopifyOrder {
	for _, o := range s.orders {
		if gid("Order", o.ID) == id {
			return o
		}
	}
	return nil
}

var searchTerm = regexp.MustCompile(`(?:(email|name):)?"([^"]*)"`)

// search answers the orders search: email:"...", name:"#..." and bare
// "..." terms (a phone, matched as the default search matches the
// order's phone) joined by OR, newest first.
func (s *Shopify) search(q string, n int) []any {
	terms := searchTerm.FindAllStringSubmatch(q, -1)
	hits := []*ShopifyOrder{}
	for _, o := range s.orders {
		hit := false
		for _, t := range terms {
			hit = hit || t[1] == "email" && strings.EqualFold(t[2], o.Email) || t[1] == "name" && t[2] == o.Name ||
				t[1] == "" && o.Phone != "" && t[2] == o.Phone
		}
		if hit {
			hits = append(hits, o)
		}
	}
	slices.SortStableFunc(hits, func(a, b *ShopifyOrder) int { return b.CreatedAt.Compare(a.CreatedAt) })
	var out []any
	for _, o := range hits[:min(len(hits), n)] {
		out = append(out, s.node(o))
	}
	return out
}

func (s *Shopify) node(o *ShopifyOrder) map[string]any {
	financial := "PAID"
	switch {
	case o.Refunded >= o.total()-0.001:
		financial = "REFUNDED"
	case o.Refunded > 0:
		financial = "PARTIALLY_REFUNDED"
	}
	fulfilment := "UNFULFILLED"
	if o.Fulfilled {
		fulfilment = "FULFILLED"
	}
	var lines []any
	for _, l := range o.Lines {
		lines = append(lines, map[string]any{"id": gid("LineItem", l.ID), "title": l.Title, "quantity": l.Quantity,
			"refundableQuantity": l.Quantity - l.Refunded, "sku": l.SKU, "variant": map[string]any{"id": gid("ProductVariant", l.Variant)},
			"originalUnitPriceSet": shopMoney(l.Price, o.Currency)})
	}
	node := map[string]any{
		"id": gid("Order", o.ID), "name": o.Name, "createdAt": o.CreatedAt.UTC().Format(time.RFC3339), "cancelledAt": nil,
		"email": o.Email, "phone": nilIfEmpty(o.Phone), "tags": o.Tags, "displayFinancialStatus": financial, "displayFulfillmentStatus": fulfilment,
		"totalPriceSet": shopMoney(o.total(), o.Currency), "totalShippingPriceSet": shopMoney(o.Shipping, o.Currency),
		"customer": nil, "billingAddress": map[string]any{"countryCodeV2": o.Country},
		"shippingAddress": map[string]any{"firstName": "Rui", "lastName": "Costa", "company": nil, "address1": "Rua Augusta 1",
			"address2": nil, "city": "Lisboa", "provinceCode": nil, "zip": "1100-048", "countryCodeV2": o.Country, "phone": nil},
		"lineItems": map[string]any{"nodes": lines}, "fulfillments": []any{},
	}
	if len(o.Tracking) > 0 {
		var info []any
		for _, tr := range o.Tracking {
			info = append(info, map[string]any{"company": tr.Company, "number": tr.Number, "url": tr.URL})
		}
		node["fulfillments"] = []any{map[string]any{"trackingInfo": info}}
	}
	if o.Customer != 0 {
		node["customer"] = map[string]any{"id": gid("Customer", o.Customer)}
	}
	if o.Cancelled {
		node["cancelledAt"] = time.Now().UTC().Format(time.RFC3339)
	}
	return node
}

// suggest works a refund out as Shopify's suggestedRefund does: the
// lines' prices, the shipping when asked, everything left with
// suggestFullRefund; never more than what is left to refund.
func (s *Shopify) suggest(o *ShopifyOrder, v map[string]any) map[string]any {
	left := o.total() - o.Refunded
	sum := 0.0
	var refundLines []any
	if full, _ := v["full"].(bool); full {
		sum = left
		for _, l := range o.Lines {
			if n := l.Quantity - l.Refunded; n > 0 {
				refundLines = append(refundLines, map[string]any{"lineItem": map[string]any{"id": gid("LineItem", l.ID)}, "quantity": n})
			}
		}
	} else {
		lines, _ := v["lines"].([]any)
		for _, li := range lines {
			m, _ := li.(map[string]any)
			for _, l := range o.Lines {
				if gid("LineItem", l.ID) == str(m["lineItemId"]) {
					sum += l.Price * num(m["quantity"])
					refundLines = append(refundLines, map[string]any{"lineItem": map[string]any{"id": gid("LineItem", l.ID)}, "quantity": num(m["quantity"])})
				}
			}
		}
		if ship, _ := v["shipping"].(bool); ship {
			sum += o.Shipping
		}
	}
	sum = math.Min(sum, left)
	var txs []any
	if sum > 0 {
		txs = append(txs, map[string]any{"amountSet": shopMoney(sum, o.Currency), "gateway": "shopify_payments", "kind": "SUGGESTED_REFUND",
			"parentTransaction": map[string]any{"id": gid("OrderTransaction", o.ID*10)}})
	}
	shipping := 0.0
	if ship, _ := v["shipping"].(bool); ship {
		shipping = o.Shipping
	}
	return map[string]any{"amountSet": shopMoney(sum, o.Currency), "maximumRefundableSet": shopMoney(left, o.Currency),
		"shipping": map[string]any{"amountSet": shopMoney(shipping, o.Currency)}, "suggestedTransactions": txs, "refundLineItems": refundLines}
}

var idempotent = regexp.MustCompile(`@idempotent\(key: "([^"]+)"\)`)

// refundCreate checks RefundInput as documented (orderId, refund line
// items with lineItemId, quantity and restockType, REFUND transactions
// with a parent, gateway and amount) and refuses more money than the
// order has left, as Shopify does. Since 2026-04 the @idempotent
// directive is required; a key seen before answers the same refund.
func (s *Shopify) refundCreate(w http.ResponseWriter, q string, v map[string]any) {
	key := idempotent.FindStringSubmatch(q)
	if key == nil {
		s.answer(w, nil, gqlError{Message: "The @idempotent directive is required for this mutation.", Extensions: map[string]any{"code": "BAD_REQUEST"}})
		return
	}
	in, _ := v["input"].(map[string]any)
	o := s.find(str(in["orderId"]))
	payload := func(refund any, errs ...any) {
		if errs == nil {
			errs = []any{}
		}
		s.answer(w, map[string]any{"refundCreate": map[string]any{"refund": refund, "userErrors": errs}})
	}
	if o == nil {
		payload(nil, ue("orderId", "Order does not exist"))
		return
	}
	if id, ok := s.refunds[key[1]]; ok {
		payload(map[string]any{"id": id, "totalRefundedSet": shopMoney(s.amounts[id], o.Currency)})
		return
	}
	lines, _ := in["refundLineItems"].([]any)
	for _, li := range lines {
		m, _ := li.(map[string]any)
		if !slices.Contains([]string{"RETURN", "CANCEL", "NO_RESTOCK"}, str(m["restockType"])) || num(m["quantity"]) <= 0 || str(m["lineItemId"]) == "" {
			s.answer(w, nil, gqlError{Message: "Variable $input of type RefundInput! was provided invalid value for refundLineItems", Extensions: map[string]any{"code": "INVALID_VARIABLE"}})
			return
		}
		for i := range o.Lines {
			if gid("LineItem", o.Lines[i].ID) == str(m["lineItemId"]) && o.Lines[i].Quantity-o.Lines[i].Refunded < int(num(m["quantity"])) {
				payload(nil, ue("refundLineItems", "Quantity cannot refund more items than were purchased"))
				return
			}
		}
	}
	txs, _ := in["transactions"].([]any)
	sum := 0.0
	for _, t := range txs {
		m, _ := t.(map[string]any)
		if str(m["kind"]) != "REFUND" || str(m["gateway"]) == "" || str(m["parentId"]) == "" || str(m["orderId"]) != str(in["orderId"]) {
			payload(nil, ue("transactions", "Transaction kind, gateway, parent and order are required"))
			return
		}
		sum += num(m["amount"])
	}
	left := o.total() - o.Refunded
	if sum > left+0.001 {
		payload(nil, map[string]any{"field": []string{"transactions", "0", "amount"},
			"message": fmt.Sprintf("Refund amount %s %s is greater than net payment received %s %s", amount(sum), o.Currency, amount(left), o.Currency)})
		return
	}
	for _, li := range lines {
		m, _ := li.(map[string]any)
		for i := range o.Lines {
			if gid("LineItem", o.Lines[i].ID) == str(m["lineItemId"]) {
				o.Lines[i].Refunded += int(num(m["quantity"]))
			}
		}
	}
	o.Refunded += sum
	s.nextID++
	id := gid("Refund", s.nextID)
	s.refunds[key[1]] = id
	s.amounts[id] = sum
	payload(map[string]any{"id": id, "totalRefundedSet": shopMoney(sum, o.Currency)})
}

func (s *Shopify) orderCancel(w http.ResponseWriter, v map[string]any) {
	payload := func(errs ...any) {
		var job any
		if errs == nil {
			errs = []any{}
			s.nextID++
			job = map[string]any{"id": gid("Job", s.nextID), "done": false}
		}
		s.answer(w, map[string]any{"orderCancel": map[string]any{"job": job, "orderCancelUserErrors": errs}})
	}
	reason := str(v["reason"])
	method, ok := v["refundMethod"].(map[string]any)
	_, restockOK := v["restock"].(bool)
	if !slices.Contains([]string{"CUSTOMER", "DECLINED", "FRAUD", "INVENTORY", "STAFF", "OTHER"}, reason) || !ok || !restockOK {
		s.answer(w, nil, gqlError{Message: "Variable $reason of type OrderCancelReason! was provided invalid value", Extensions: map[string]any{"code": "INVALID_VARIABLE"}})
		return
	}
	o := s.find(str(v["orderId"]))
	switch {
	case o == nil:
		payload(map[string]any{"field": []string{"orderId"}, "message": "Order does not exist", "code": "NOT_FOUND"})
	case o.Cancelled:
		payload(map[string]any{"field": []string{"orderId"}, "message": "Order has already been cancelled", "code": "INVALID"})
	default:
		o.Cancelled = true
		if refund, _ := method["originalPaymentMethodsRefund"].(bool); refund {
			o.Refunded = o.total()
		}
		payload()
	}
}

func (s *Shopify) orderUpdate(w http.ResponseWriter, v map[string]any) {
	in, _ := v["input"].(map[string]any)
	o := s.find(str(in["id"]))
	addr, _ := in["shippingAddress"].(map[string]any)
	var errs []any
	switch {
	case o == nil:
		errs = append(errs, ue("id", "Order does not exist"))
	case addr == nil:
		errs = append(errs, ue("shippingAddress", "Shipping address is required"))
	case len(str(addr["countryCode"])) != 2:
		errs = append(errs, map[string]any{"field": []string{"shippingAddress", "countryCode"}, "message": "Country is not supported"})
	case o.Fulfilled:
		errs = append(errs, map[string]any{"field": []string{"shippingAddress"}, "message": "Shipping address cannot be changed on a fulfilled order"})
	default:
		o.Country = str(addr["countryCode"])
	}
	if errs == nil {
		errs = []any{}
	}
	s.answer(w, map[string]any{"orderUpdate": map[string]any{"order": map[string]any{"id": in["id"]}, "userErrors": errs}})
}

func (s *Shopify) discount(w http.ResponseWriter, v map[string]any) {
	in, _ := v["discount"].(map[string]any)
	gets, _ := in["customerGets"].(map[string]any)
	_, hasContext := in["context"].(map[string]any)
	if str(in["code"]) == "" || str(in["title"]) == "" || gets == nil || !hasContext {
		s.answer(w, map[string]any{"discountCodeBasicCreate": map[string]any{"codeDiscountNode": nil,
			"userErrors": []any{map[string]any{"field": []string{"basicCodeDiscount"}, "code": "BLANK", "message": "Code, title, context and customer gets are required"}}}})
		return
	}
	for _, d := range s.Discounts {
		if d["code"] == in["code"] {
			s.answer(w, map[string]any{"discountCodeBasicCreate": map[string]any{"codeDiscountNode": nil,
				"userErrors": []any{map[string]any{"field": []string{"basicCodeDiscount", "code"}, "code": "TAKEN", "message": "Code must be unique. Please try a different code."}}}})
			return
		}
	}
	s.Discounts = append(s.Discounts, in)
	s.nextID++
	s.answer(w, map[string]any{"discountCodeBasicCreate": map[string]any{"codeDiscountNode": map[string]any{"id": gid("DiscountCodeNode", s.nextID)}, "userErrors": []any{}}})
}

func (s *Shopify) draft(w http.ResponseWriter, v map[string]any) {
	in, _ := v["input"].(map[string]any)
	lines, _ := in["lineItems"].([]any)
	if len(lines) == 0 {
		s.answer(w, map[string]any{"draftOrderCreate": map[string]any{"draftOrder": nil, "userErrors": []any{ue("lineItems", "Add at least 1 product")}}})
		return
	}
	for _, li := range lines {
		m, _ := li.(map[string]any)
		if !strings.HasPrefix(str(m["variantId"]), "gid://shopify/ProductVariant/") || num(m["quantity"]) <= 0 {
			s.answer(w, map[string]any{"draftOrderCreate": map[string]any{"draftOrder": nil, "userErrors": []any{ue("lineItems", "Variant is invalid")}}})
			return
		}
	}
	s.Drafts = append(s.Drafts, in)
	s.nextID++
	name := fmt.Sprintf("#D%d", len(s.Drafts))
	s.answer(w, map[string]any{"draftOrderCreate": map[string]any{"draftOrder": map[string]any{"id": gid("DraftOrder", s.nextID), "name": name,
		"invoiceUrl": s.URL + "/invoices/" + strconv.FormatInt(s.nextID, 10)}, "userErrors": []any{}}})
}
