package orders

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Order webhooks keep the desk's table of orders fresh between lookups
// (rules read it): Shopify's orders/create, orders/updated... topics and
// WooCommerce's order.created, order.updated. Both sign the body with
// HMAC-SHA256 in base64 (X-Shopify-Hmac-Sha256, X-WC-Webhook-Signature):
// Shopify with the app's client secret, WooCommerce with the webhook's
// own secret.

// SignatureOK tells whether sig is body's HMAC-SHA256 with secret, in
// base64.
func SignatureOK(body []byte, secret, sig string) bool {
	if secret == "" || sig == "" {
		return false
	}
	want, err := base64.StdEncoding.DecodeString(sig)
	if err != nil {
		return false
	}
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return hmac.Equal(m.Sum(nil), want)
}

// ShopifyWebhookOrder reads an order webhook's body (Shopify sends the
// order in its REST shape; admin_graphql_api_id is the id lookups know).
func ShopifyWebhookOrder(body []byte) (Order, error) {
	var n struct {
		GID               string     `json:"admin_graphql_api_id"`
		ID                int64      `json:"id"`
		Name              string     `json:"name"`
		Email             string     `json:"email"`
		Phone             string     `json:"phone"`
		CreatedAt         time.Time  `json:"created_at"`
		CancelledAt       *time.Time `json:"cancelled_at"`
		TotalPrice        string     `json:"total_price"`
		Currency          string     `json:"currency"`
		FinancialStatus   string     `json:"financial_status"`
		FulfillmentStatus *string    `json:"fulfillment_status"`
		Tags              string     `json:"tags"`
		ShippingAddress   *struct {
			CountryCode string `json:"country_code"`
		} `json:"shipping_address"`
		BillingAddress *struct {
			CountryCode string `json:"country_code"`
			Phone       string `json:"phone"`
		} `json:"billing_address"`
	}
	if err := json.Unmarshal(body, &n); err != nil {
		return Order{}, fmt.Errorf("shopify order webhook: %w", err)
	}
	if n.GID == "" && n.ID > 0 {
		n.GID = "gid://shopify/Order/" + strconv.FormatInt(n.ID, 10)
	}
	if n.GID == "" || n.Name == "" {
		return Order{}, fmt.Errorf("shopify order webhook: no order id or name")
	}
	o := Order{ID: n.GID, Number: n.Name, Email: n.Email, Phone: n.Phone, CreatedAt: n.CreatedAt.UTC(), Total: n.TotalPrice, Currency: n.Currency,
		Payment: n.FinancialStatus, Fulfillment: "unfulfilled", Cancelled: n.CancelledAt != nil}
	if f := n.FulfillmentStatus; f != nil && *f != "" {
		o.Fulfillment = map[string]string{"partial": "partially_fulfilled"}[*f]
		if o.Fulfillment == "" {
			o.Fulfillment = *f
		}
	}
	for _, t := range strings.Split(n.Tags, ",") {
		if t = strings.TrimSpace(t); t != "" {
			o.Tags = append(o.Tags, t)
		}
	}
	if b := n.BillingAddress; o.Phone == "" && b != nil {
		o.Phone = b.Phone
	}
	if a := n.ShippingAddress; a != nil && a.CountryCode != "" {
		o.Country = a.CountryCode
	} else if b := n.BillingAddress; b != nil {
		o.Country = b.CountryCode
	}
	return o, nil
}

// WooWebhookOrder reads an order webhook's body (the order as the REST
// API shows it).
func WooWebhookOrder(body []byte) (Order, error) {
	var n wooOrder
	if err := json.Unmarshal(body, &n); err != nil {
		return Order{}, fmt.Errorf("woocommerce order webhook: %w", err)
	}
	if n.ID == 0 {
		return Order{}, fmt.Errorf("woocommerce order webhook: no order id")
	}
	return (&WooCommerce{}).order(n), nil
}
