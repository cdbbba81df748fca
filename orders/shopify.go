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

// APIVersion is the Admin API version the queries are written for.
const APIVersion = "2025-10"

const ordersQuery = `query Orders($q: String!, $n: Int!) {
  orders(first: $n, query: $q, sortKey: CREATED_AT, reverse: true) {
    nodes {
      id name createdAt cancelledAt email phone
      displayFinancialStatus displayFulfillmentStatus
      totalPriceSet { shopMoney { amount currencyCode } }
      lineItems(first: 20) { nodes { title quantity sku } }
      fulfillments(first: 5) { trackingInfo(first: 5) { company number url } }
    }
  }
}`

type gqlResponse struct {
	Data struct {
		Orders struct {
			Nodes []struct {
				ID                       string     `json:"id"`
				Name                     string     `json:"name"`
				CreatedAt                time.Time  `json:"createdAt"`
				CancelledAt              *time.Time `json:"cancelledAt"`
				Email                    string     `json:"email"`
				Phone                    string     `json:"phone"`
				DisplayFinancialStatus   string     `json:"displayFinancialStatus"`
				DisplayFulfillmentStatus string     `json:"displayFulfillmentStatus"`
				TotalPriceSet            struct {
					ShopMoney struct {
						Amount       string `json:"amount"`
						CurrencyCode string `json:"currencyCode"`
					} `json:"shopMoney"`
				} `json:"totalPriceSet"`
				LineItems struct {
					Nodes []Item `json:"nodes"`
				} `json:"lineItems"`
				Fulfillments []struct {
					TrackingInfo []Tracking `json:"trackingInfo"`
				} `json:"fulfillments"`
			} `json:"nodes"`
		} `json:"orders"`
	} `json:"data"`
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

// Lookup asks the shop; a throttled query waits for the bucket to refill
// (as long as the context allows) and is asked again, and so is a 5xx
// or 429 answer, once.
func (s *Shopify) Lookup(ctx context.Context, q Query) ([]Order, error) {
	body, _ := json.Marshal(map[string]any{"query": ordersQuery, "variables": map[string]any{"q": searchTerms(q), "n": Limit}})
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
			return nil, orderErr(err, "the Shopify shop address is not valid")
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Access-Token", s.Token)
		resp, err := client.Do(req)
		if err != nil {
			return nil, httpFailure("Shopify", nil, err)
		}
		raw, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if err != nil {
			return nil, httpFailure("Shopify", nil, err)
		}
		retryable := resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests
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
			return nil, httpFailure("Shopify", resp, nil)
		}
		var r gqlResponse
		if err := json.Unmarshal(raw, &r); err != nil {
			return nil, orderErr(err, "Shopify answered something that is not order data")
		}
		if len(r.Errors) > 0 {
			if r.Errors[0].Extensions.Code == "THROTTLED" && attempt < 2 {
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
				return nil, orderErr(fmt.Errorf("throttled"), "Shopify is busy (rate limit): the orders show in a moment")
			}
			if r.Errors[0].Extensions.Code == "ACCESS_DENIED" {
				return nil, orderErr(fmt.Errorf("%s", r.Errors[0].Message), "the Shopify token may not read orders: give the app the read_orders scope")
			}
			return nil, orderErr(fmt.Errorf("%s", r.Errors[0].Message), "Shopify refused the order search: %s", r.Errors[0].Message)
		}
		var list []Order
		for _, n := range r.Data.Orders.Nodes {
			o := Order{
				Number: n.Name, CreatedAt: n.CreatedAt, Email: n.Email, Phone: n.Phone,
				Total: n.TotalPriceSet.ShopMoney.Amount, Currency: n.TotalPriceSet.ShopMoney.CurrencyCode,
				Payment: strings.ToLower(n.DisplayFinancialStatus), Fulfillment: strings.ToLower(n.DisplayFulfillmentStatus),
				Cancelled: n.CancelledAt != nil, Items: n.LineItems.Nodes,
			}
			if i := strings.LastIndexByte(n.ID, '/'); i >= 0 && s.Domain != "" {
				o.URL = "https://" + s.Domain + "/admin/orders/" + n.ID[i+1:]
			}
			for _, f := range n.Fulfillments {
				o.Tracking = append(o.Tracking, f.TrackingInfo...)
			}
			list = append(list, o)
		}
		return newest(list), nil
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
