// Package orders finds a customer's orders in their shop: Shopify's Admin
// GraphQL API, or any URL that answers in onedesk's order JSON. Answers are
// cached for a short while; a slow or failing shop gives a plain-words
// error, never a stuck ticket.
package orders

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"onedesk/i18n"
	"onedesk/netguard"
)

// Order is one order as the ticket's side panel shows it; the generic
// lookup URL answers {"orders": [Order...]}.
type Order struct {
	// ID is the platform's own id of the order (a Shopify GID, a
	// WooCommerce order id): what order actions name.
	ID          string     `json:"id,omitempty"`
	Number      string     `json:"number"` // as the shop shows it: "#1001"
	URL         string     `json:"url,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	Total       string     `json:"total"` // a decimal: "49.90"
	Currency    string     `json:"currency"`
	Payment     string     `json:"payment_status"`     // paid, pending, refunded, ...
	Fulfillment string     `json:"fulfillment_status"` // fulfilled, unfulfilled, partially_fulfilled, ...
	Cancelled   bool       `json:"cancelled,omitempty"`
	Email       string     `json:"email,omitempty"`
	Phone       string     `json:"phone,omitempty"` // the customer's, as the shop has it
	Items       []Item     `json:"items"`
	Tracking    []Tracking `json:"tracking"`
	// Shipping is what the customer paid for shipping (a decimal).
	Shipping        string   `json:"shipping_total,omitempty"`
	Tags            []string `json:"tags,omitempty"`
	Country         string   `json:"country,omitempty"` // ISO 3166 alpha-2, of the shipping address (else billing)
	ShippingAddress *Address `json:"shipping_address,omitempty"`
	// CustomerRef is the platform's id of the buyer (a discount code or a
	// replacement is made for them).
	CustomerRef string `json:"customer_ref,omitempty"`
}

// Address is a postal address: an order's shipping address.
type Address struct {
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Company   string `json:"company,omitempty"`
	Address1  string `json:"address1"`
	Address2  string `json:"address2,omitempty"`
	City      string `json:"city"`
	Province  string `json:"province,omitempty"` // a code: "CA", "SP"
	Zip       string `json:"zip"`
	Country   string `json:"country"` // ISO 3166 alpha-2
	Phone     string `json:"phone,omitempty"`
}

// Item is a line of an order.
type Item struct {
	ID        string `json:"id,omitempty"` // the platform's line id (refunds name it)
	VariantID string `json:"variant_id,omitempty"`
	Title     string `json:"title"`
	Quantity  int    `json:"quantity"`
	// Refundable is how many of the line may still be refunded.
	Refundable int    `json:"refundable_quantity,omitempty"`
	SKU        string `json:"sku,omitempty"`
	Price      string `json:"price,omitempty"` // one unit, a decimal
}

// Tracking is a shipment's tracking number and link.
type Tracking struct {
	Company string `json:"company,omitempty"`
	Number  string `json:"number"`
	URL     string `json:"url,omitempty"`
}

// Query is who and what to look for: orders of these addresses and
// phones, and orders with these numbers.
type Query struct {
	Emails  []string
	Phones  []string
	Numbers []string
}

func (q Query) empty() bool { return len(q.Emails)+len(q.Phones)+len(q.Numbers) == 0 }

func (q Query) key() string {
	return strings.Join(q.Emails, ",") + "|" + strings.Join(q.Phones, ",") + "|" + strings.Join(q.Numbers, ",")
}

// Source looks orders up.
type Source interface {
	Lookup(ctx context.Context, q Query) ([]Order, error)
}

// Error is a failure said in plain words for the agent ("Shopify is not
// answering"), with the detail for the log.
type Error struct {
	Message string // in English
	Err     error
	// Said is Message kept as a sentence for the reader's language.
	Said i18n.Sentence
}

func (e *Error) Error() string { return e.Message }

// Sentence is the failure said for the reader's language.
func (e *Error) Sentence() i18n.Sentence {
	if e.Said.IsZero() {
		return i18n.S(e.Message)
	}
	return e.Said
}

// orderErr is a failure in plain words (the format is the catalog key of
// assets/server/<lang>.json), with the cause for the log.
func orderErr(cause error, format string, args ...any) *Error {
	s := i18n.S(format, args...)
	return &Error{Message: s.String(), Err: cause, Said: s}
}
func (e *Error) Unwrap() error { return e.Err }

// Limit is how many orders a lookup returns, newest first.
const Limit = 10

// Cache remembers answers for TTL (failures for a tenth of it) and lets
// concurrent lookups of the same thing share one request.
type Cache struct {
	TTL time.Duration
	mu  sync.Mutex
	m   map[string]*entry
}

type entry struct {
	done    chan struct{}
	orders  []Order
	err     error
	expires time.Time
}

// NewCache makes a cache whose answers live ttl.
func NewCache(ttl time.Duration) *Cache {
	return &Cache{TTL: ttl, m: map[string]*entry{}}
}

// Lookup answers from the cache or asks src; scope names the source
// (a store and its settings), so that changed settings miss the cache.
func (c *Cache) Lookup(ctx context.Context, scope string, src Source, q Query) ([]Order, error) {
	if q.empty() {
		return []Order{}, nil
	}
	key := scope + "\x00" + q.key()
	now := time.Now()
	c.mu.Lock()
	e, ok := c.m[key]
	if ok && e.expires.IsZero() || ok && now.Before(e.expires) {
		c.mu.Unlock()
		select {
		case <-e.done:
			return e.orders, e.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if len(c.m) > 10000 {
		for k, old := range c.m {
			if !old.expires.IsZero() && now.After(old.expires) {
				delete(c.m, k)
			}
		}
	}
	e = &entry{done: make(chan struct{})}
	c.m[key] = e
	c.mu.Unlock()

	// The request outlives a caller who gives up: the next one is served.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 15*time.Second)
	e.orders, e.err = src.Lookup(rctx, q)
	cancel()
	ttl := c.TTL
	if e.err != nil {
		ttl /= 10
	}
	c.mu.Lock()
	e.expires = time.Now().Add(ttl)
	c.mu.Unlock()
	close(e.done)
	return e.orders, e.err
}

// Forget drops the answers of a scope: the shop's orders changed.
func (c *Cache) Forget(scope string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.m {
		if strings.HasPrefix(k, scope+"\x00") && !e.expires.IsZero() {
			delete(c.m, k)
		}
	}
}

// newest sorts orders newest first, drops repeats and keeps Limit.
func newest(list []Order) []Order {
	slices.SortStableFunc(list, func(a, b Order) int { return b.CreatedAt.Compare(a.CreatedAt) })
	list = slices.CompactFunc(list, func(a, b Order) bool { return a.Number == b.Number && a.CreatedAt.Equal(b.CreatedAt) })
	if len(list) > Limit {
		list = list[:Limit]
	}
	for i := range list {
		if list[i].Items == nil {
			list[i].Items = []Item{}
		}
		if list[i].Tracking == nil {
			list[i].Tracking = []Tracking{}
		}
	}
	return list
}

// httpFailure turns a transport error or a bad status into plain words.
func httpFailure(who string, resp *http.Response, err error) error {
	name := i18n.S(who) // "Shopify", or a phrase the catalogs translate
	cause := err
	if cause == nil {
		cause = fmt.Errorf("status %d", resp.StatusCode)
	}
	switch {
	case errors.Is(err, netguard.ErrForbidden):
		return orderErr(cause, "%s is on a private or local network, where onedesk does not connect (to allow it, start onedesk with ONEDESK_ALLOW_PRIVATE_NETWORKS=1)", name)
	case errors.Is(err, context.DeadlineExceeded):
		return orderErr(cause, "%s took too long to answer", name)
	case err != nil:
		return orderErr(cause, "%s could not be reached", name)
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return orderErr(cause, "%s refused the access token (%d): check the store's order settings", name, resp.StatusCode)
	case resp.StatusCode == http.StatusNotFound:
		return orderErr(cause, "%s has no such address (404): check the store's order settings", name)
	case resp.StatusCode == http.StatusTooManyRequests:
		return orderErr(cause, "%s is busy (too many requests): try again in a minute", name)
	case resp.StatusCode >= 500:
		return orderErr(cause, "%s is not answering properly (%d): try again later", name, resp.StatusCode)
	}
	return orderErr(cause, "%s answered %d", name, resp.StatusCode)
}
