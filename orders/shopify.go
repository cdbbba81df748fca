package orders

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"onedesk/netguard"
)

// Shopify looks orders up through a shop's Admin GraphQL API with the
// access token of a custom app (scope read_orders).
type Shopify struct {
	Domain string // my-shop.myshopify.com
	Token  string
	// BaseURL replaces https://<Domain> (tests, proxies).
	BaseURL string
	Client  *http.Client
}

// APIVersion is the Admin API version the queries are written for
// (2026-04 and later need the @idempotent directive on refundCreate).
const APIVersion = "2026-10"

const orderFields = `id name createdAt cancelledAt email phone tags
      displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      totalShippingPriceSet { shopMoney { amount } }
      customer { id }
      shippingAddress { firstName lastName company address1 address2 city provinceCode zip countryCodeV2 phone }
      billingAddress { countryCodeV2 }
      lineItems(first: 20) { nodes { id title quantity refundableQuantity sku variant { id } originalUnitPriceSet { shopMoney { amount } } } }
      fulfillments(first: 5) { trackingInfo(first: 5) { company number url } }`

const ordersQuery = `query Orders($q: String!, $n: Int!) {
  orders(first: $n, query: $q, sortKey: CREATED_AT, reverse: true) {
    nodes { ` + orderFields + ` }
  }
}`

type shopMoney struct {
	ShopMoney struct {
		Amount       string `json:"amount"`
		CurrencyCode string `json:"currencyCode"`
	} `json:"shopMoney"`
}

type shopifyAddress struct {
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Company      string `json:"company"`
	Address1     string `json:"address1"`
	Address2     string `json:"address2"`
	City         string `json:"city"`
	ProvinceCode string `json:"provinceCode"`
	Zip          string `json:"zip"`
	CountryCode  string `json:"countryCodeV2"`
	Phone        string `json:"phone"`
}

type shopifyOrder struct {
	ID                       string               `json:"id"`
	Name                     string               `json:"name"`
	CreatedAt                time.Time            `json:"createdAt"`
	CancelledAt              *time.Time           `json:"cancelledAt"`
	Email                    string               `json:"email"`
	Phone                    string               `json:"phone"`
	Tags                     []string             `json:"tags"`
	DisplayFinancialStatus   string               `json:"displayFinancialStatus"`
	DisplayFulfillmentStatus string               `json:"displayFulfillmentStatus"`
	TotalPriceSet            shopMoney            `json:"totalPriceSet"`
	TotalShippingPriceSet    shopMoney            `json:"totalShippingPriceSet"`
	Customer                 *struct{ ID string } `json:"customer"`
	ShippingAddress          *shopifyAddress      `json:"shippingAddress"`
	BillingAddress           *shopifyAddress      `json:"billingAddress"`
	LineItems                struct {
		Nodes []struct {
			ID                   string               `json:"id"`
			Title                string               `json:"title"`
			Quantity             int                  `json:"quantity"`
			RefundableQuantity   int                  `json:"refundableQuantity"`
			SKU                  string               `json:"sku"`
			Variant              *struct{ ID string } `json:"variant"`
			OriginalUnitPriceSet shopMoney            `json:"originalUnitPriceSet"`
		} `json:"nodes"`
	} `json:"lineItems"`
	Fulfillments []struct {
		TrackingInfo []Tracking `json:"trackingInfo"`
	} `json:"fulfillments"`
}

// order turns Shopify's order into ours.
func (s *Shopify) order(n shopifyOrder) Order {
	o := Order{
		ID: n.ID, Number: n.Name, CreatedAt: n.CreatedAt, Email: n.Email, Phone: n.Phone, Tags: n.Tags,
		Total: n.TotalPriceSet.ShopMoney.Amount, Currency: n.TotalPriceSet.ShopMoney.CurrencyCode,
		Shipping: n.TotalShippingPriceSet.ShopMoney.Amount,
		Payment:  strings.ToLower(n.DisplayFinancialStatus), Fulfillment: strings.ToLower(n.DisplayFulfillmentStatus),
		Cancelled: n.CancelledAt != nil,
	}
	if n.Customer != nil {
		o.CustomerRef = n.Customer.ID
	}
	for _, li := range n.LineItems.Nodes {
		it := Item{ID: li.ID, Title: li.Title, Quantity: li.Quantity, Refundable: li.RefundableQuantity, SKU: li.SKU,
			Price: li.OriginalUnitPriceSet.ShopMoney.Amount}
		if li.Variant != nil {
			it.VariantID = li.Variant.ID
		}
		o.Items = append(o.Items, it)
	}
	if a := n.ShippingAddress; a != nil {
		o.ShippingAddress = &Address{FirstName: a.FirstName, LastName: a.LastName, Company: a.Company, Address1: a.Address1,
			Address2: a.Address2, City: a.City, Province: a.ProvinceCode, Zip: a.Zip, Country: a.CountryCode, Phone: a.Phone}
		o.Country = a.CountryCode
	} else if n.BillingAddress != nil {
		o.Country = n.BillingAddress.CountryCode
	}
	if i := strings.LastIndexByte(n.ID, '/'); i >= 0 && s.Domain != "" {
		o.URL = "https://" + s.Domain + "/admin/orders/" + n.ID[i+1:]
	}
	for _, f := range n.Fulfillments {
		o.Tracking = append(o.Tracking, f.TrackingInfo...)
	}
	return o
}

type gqlResponse struct {
	Data   json.RawMessage `json:"data"`
	Errors []struct {
		Message    string `json:"message"`
		Extensions struct {
			Code string `json:"code"`
		} `json:"extensions"`
	} `json:"errors"`
	Extensions struct {
		Cost struct {
			RequestedQueryCost float64 `json:"requestedQueryCost"`
			ThrottleStatus     struct {
				CurrentlyAvailable float64 `json:"currentlyAvailable"`
				RestoreRate        float64 `json:"restoreRate"`
			} `json:"throttleStatus"`
		} `json:"cost"`
	} `json:"extensions"`
}

// searchTerms is the orders search: the customer's addresses and phones
// and the order numbers, any of them.
func searchTerms(q Query) string {
	quote := func(s string) string { return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"` }
	var terms []string
	for _, e := range q.Emails {
		terms = append(terms, "email:"+quote(e))
	}
	for _, p := range q.Phones {
		terms = append(terms, quote(p))
	}
	for _, n := range q.Numbers {
		terms = append(terms, "name:"+quote("#"+strings.TrimPrefix(n, "#")))
	}
	return strings.Join(terms, " OR ")
}

// Lookup asks the shop for the orders.
func (s *Shopify) Lookup(ctx context.Context, q Query) ([]Order, error) {
	var data struct {
		Orders struct {
			Nodes []shopifyOrder `json:"nodes"`
		} `json:"orders"`
	}
	if err := s.graphql(ctx, ordersQuery, map[string]any{"q": searchTerms(q), "n": Limit}, false, &data); err != nil {
		return nil, err
	}
	var list []Order
	for _, n := range data.Orders.Nodes {
		list = append(list, s.order(n))
	}
	return newest(list), nil
}

// graphql sends one query or mutation and decodes its data into out. A
// throttled request waits for the bucket to refill (as long as the
// context allows) and is asked again: Shopify did not run it. A 5xx or
// 429 answer is asked again once for a query, never for a mutation
// (which may have been done).
func (s *Shopify) graphql(ctx context.Context, query string, vars map[string]any, mutation bool, out any) error {
	body, err := json.Marshal(map[string]any{"query": query, "variables": vars})
	if err != nil {
		return fmt.Errorf("shopify request: %w", err)
	}
	base := s.BaseURL
	if base == "" {
		base = "https://" + s.Domain
	}
	client := s.Client
	if client == nil {
		client = netguard.Default.Client(10 * time.Second) // no way into the desk's own network
	}
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/admin/api/"+APIVersion+"/graphql.json", bytes.NewReader(body))
		if err != nil {
			return orderErr(err, "the Shopify shop address is not valid")
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Access-Token", s.Token)
		resp, err := client.Do(req)
		if err != nil {
			return httpFailure("Shopify", nil, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return httpFailure("Shopify", nil, err)
		}
		retryable := resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500 && !mutation
		if retryable && attempt == 0 {
			wait := time.Second
			if n, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && n >= 0 && n <= 10 {
				wait = time.Duration(n) * time.Second
			}
			if sleep(ctx, wait) == nil {
				continue
			}
		}
		if resp.StatusCode != http.StatusOK {
			return httpFailure("Shopify", resp, nil)
		}
		var r gqlResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return orderErr(err, "Shopify answered something that is not order data")
		}
		if len(r.Errors) > 0 {
			first := r.Errors[0]
			if first.Extensions.Code == "THROTTLED" && attempt < 2 {
				c := r.Extensions.Cost
				wait := time.Second
				if c.ThrottleStatus.RestoreRate > 0 {
					missing := c.RequestedQueryCost - c.ThrottleStatus.CurrentlyAvailable
					wait = time.Duration(max(missing, 1) / c.ThrottleStatus.RestoreRate * float64(time.Second))
				}
				if dl, ok := ctx.Deadline(); !ok || time.Until(dl) > wait {
					if sleep(ctx, wait) == nil {
						continue
					}
				}
				return orderErr(fmt.Errorf("throttled"), "Shopify is busy (rate limit): the orders show in a moment")
			}
			cause := fmt.Errorf("%s", first.Message)
			switch {
			case first.Extensions.Code == "ACCESS_DENIED" && mutation:
				return orderErr(cause, "the Shopify token may not change orders: give the app the write_orders scope (and write_discounts, write_draft_orders for codes and replacements)")
			case first.Extensions.Code == "ACCESS_DENIED":
				return orderErr(cause, "the Shopify token may not read orders: give the app the read_orders scope")
			case mutation:
				return &Refused{Platform: "Shopify", Message: first.Message}
			}
			return orderErr(cause, "Shopify refused the order search: %s", first.Message)
		}
		if err := json.Unmarshal(r.Data, out); err != nil {
			return orderErr(err, "Shopify answered something that is not order data")
		}
		return nil
	}
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
