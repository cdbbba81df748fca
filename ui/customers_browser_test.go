package ui_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/orders/orderstest"
	"onedesk/ui"
)

// The customers page in a real browser: search, a profile with a
// suggestion that one click merges, the timeline across channels, a
// split back off; and the orders beside a ticket.
func TestCustomersPageInBrowser(t *testing.T) {
	ctx := browser(t)
	shop := orderstest.NewShopify(t, "shpat_x", &orderstest.ShopifyOrder{ID: 5501, Name: "#1001", Email: "ana@example.com", Currency: "EUR",
		CreatedAt: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Fulfilled: true, Country: "PT",
		Lines:    []orderstest.ShopifyLine{{ID: 1, Variant: 11, Title: "Runner 42", Quantity: 1, Price: 89.90}},
		Tracking: []orderstest.ShopifyTracking{{Company: "CTT", Number: "RR123456789PT", URL: "https://track.example/RR123456789PT"}}})
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "country": "PT",
		"orders": map[string]any{"shopify_domain": shop.URL, "shopify_token": "shpat_x"}})
	var a ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Where is order #1001?", "body": "It has not come, order #1001.",
		"customer": map[string]any{"email": "ana@example.com"}, "store_id": 1}).json(t, &a)
	admin.must(200, "PATCH", fmt.Sprintf("/api/customers/%d", a.CustomerID), map[string]any{"name": "Ana Lima"})
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Exchange", "body": "Can I swap the size?",
		"customer": map[string]any{"email": "ana+shop@example.com", "name": "Ana L."}, "store_id": 1})
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Hello", "body": "Hi there",
		"customer": map[string]any{"email": "bruno@example.com", "name": "Bruno Costa"}})
	loginOwner(t, ctx, e)

	run(t, ctx, "customers page",
		chromedp.Evaluate(`window.confirm = () => true`, nil),
		chromedp.Click(`//a[contains(@class,"nav-item") and contains(., "Customers")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//a[contains(@class,"customer-row") and contains(., "Bruno Costa")]`, chromedp.BySearch),
		chromedp.SendKeys("#customer-q", "ana@example.com", chromedp.ByID),
		chromedp.WaitNotPresent(`//a[contains(@class,"customer-row") and contains(., "Bruno")]`, chromedp.BySearch),
		chromedp.Click(`//a[contains(@class,"customer-row") and contains(., "Ana Lima")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"suggestion") and contains(., "ana+shop@example.com")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ol[contains(@class,"timeline")]//a[contains(., "Where is order #1001?")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//li[contains(@class,"order") and contains(., "RR123456789PT")]`, chromedp.BySearch))
	shot(t, ctx, "40-customer-profile")

	run(t, ctx, "merge the suggestion",
		chromedp.Click(`//div[contains(@class,"suggestion")]//button[contains(., "Merge into this customer")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ul[contains(@class,"identities")]//li[contains(., "ana+shop@example.com")]//button[contains(., "Split off")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//ol[contains(@class,"timeline")]//a[contains(., "Exchange")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`.suggestions`, chromedp.ByQuery))
	shot(t, ctx, "41-customer-merged")
	r := admin.must(200, "GET", fmt.Sprintf("/api/customers/%d", a.CustomerID), nil)
	if !strings.Contains(string(r.body), "ana+shop@example.com") || strings.Count(string(r.body), `"subject"`) != 2 {
		t.Fatalf("after the merge in the browser: %s", r.body)
	}

	run(t, ctx, "notes and split off",
		chromedp.SendKeys(`//textarea[@aria-label="Notes"]`, "Prefers WhatsApp", chromedp.BySearch),
		chromedp.Click(`//textarea[@aria-label="Notes"]/following-sibling::button`, chromedp.BySearch),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Saved")]`, chromedp.BySearch),
		chromedp.Click(`//li[contains(., "ana+shop@example.com")]//button[contains(., "Split off")]`, chromedp.BySearch),
		chromedp.WaitNotPresent(`//ul[contains(@class,"identities")]//li[contains(., "ana+shop@example.com")]`, chromedp.BySearch))
	if r := admin.must(200, "GET", fmt.Sprintf("/api/customers/%d", a.CustomerID), nil); !strings.Contains(string(r.body), "Prefers WhatsApp") {
		t.Fatalf("notes not saved: %s", r.body)
	}

	run(t, ctx, "orders beside the ticket",
		chromedp.Navigate(e.srv.URL+fmt.Sprintf("/#/all/t/%d", a.ID)),
		chromedp.WaitVisible(`//div[contains(@class,"orders-panel")]//li[contains(., "#1001") and contains(., "Runner 42")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"orders-panel")]//a[contains(., "CTT RR123456789PT")]`, chromedp.BySearch))
	shot(t, ctx, "42-ticket-orders")
}
