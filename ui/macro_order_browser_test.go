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

// A macro that refunds an order, applied in a real browser: it first
// shows what the refund does in money (the order's amount and currency,
// the restock), as the order panel does. Cancelled, nothing reaches the
// shop and no reply goes. Applied again and confirmed, the shop takes
// exactly one refund, the macro's reply goes out and its status is set,
// and the ticket's history shows the order action.
func TestMacroOrderActionInBrowser(t *testing.T) {
	ctx := browser(t)
	shop := orderstest.NewShopify(t, "shpat_x", shopOrder(), &orderstest.ShopifyOrder{ID: 5502, Name: "#1002", Email: "ana@example.pt",
		Currency: "EUR", Shipping: 6, CreatedAt: time.Now().Add(-24 * time.Hour), Country: "PT",
		Lines: []orderstest.ShopifyLine{{ID: 2, Variant: 12, Title: "Trail 39", Quantity: 2, Price: 59.5}}})
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "orders": map[string]any{"shopify_domain": shop.URL, "shopify_token": "shpat_x"}})
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Please refund", "body": "Order #1001 never came.",
		"customer": map[string]any{"email": "rui@example.pt", "name": "Rui Costa"}, "store_id": 1}).json(t, &tk)
	admin.must(201, "POST", "/api/macros", map[string]any{"name": "Refund in full", "shared": true,
		"reply": "Hi {{customer.first_name}}, your refund is on its way.", "send_reply": true, "status": "resolved",
		"order_action": map[string]any{"name": "refund", "params": map[string]any{"restock": "yes", "notify": "yes"}}})
	refunds := func() int { return shop.Count("Refund") }
	replies := func() (n int, status string) {
		var got ticketJSON
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).json(t, &got)
		for _, m := range got.Messages {
			if strings.Contains(m.Body, "your refund is on its way") {
				n++
			}
		}
		return n, got.Status
	}
	loginOwner(t, ctx, e)

	summary := `//div[@id="macro-oa-summary"]`
	openMacro := chromedp.Tasks{
		chromedp.Click(`#thread`, chromedp.ByID), // away from the reply box: keys go to the app
		press('m'),
		chromedp.WaitVisible(`#macro-search`, chromedp.ByID),
		chromedp.SendKeys(`#macro-search`, "refund", chromedp.ByID),
		chromedp.WaitVisible(`//li[@role="option" and contains(., "Refund in full")]`, chromedp.BySearch),
		enter(),
		chromedp.WaitVisible(summary+`//strong[contains(., "49.90") and contains(., "goes back to the customer")]`, chromedp.BySearch),
	}
	run(t, ctx, "apply the macro: the money first",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(fmt.Sprintf("%s/#/all/t/%d", e.srv.URL, tk.ID)),
		chromedp.WaitVisible(`#reply`, chromedp.ByID),
		openMacro,
		chromedp.WaitVisible(summary+`//p[contains(., "The items go back in stock")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//h3[contains(., "Refund") and contains(., "#1001")]`, chromedp.BySearch))
	shot(t, ctx, "88-macro-refund-confirm-1366")
	run(t, ctx, "wide screen", chromedp.EmulateViewport(1920, 1080), chromedp.WaitVisible(`#macro-oa-confirm`, chromedp.ByID))
	shot(t, ctx, "88-macro-refund-confirm-1920")
	run(t, ctx, "cancel",
		chromedp.Click(`#macro-oa-cancel`, chromedp.ByID),
		chromedp.WaitNotPresent(`#macro-oa-confirm`, chromedp.ByID))
	if n, status := replies(); refunds() != 0 || n != 0 || status == "resolved" {
		t.Fatalf("cancelled: %d refunds, %d replies, status %s", refunds(), n, status)
	}

	run(t, ctx, "apply again and confirm",
		openMacro,
		chromedp.DoubleClick(`#macro-oa-confirm`, chromedp.ByID),
		chromedp.WaitNotPresent(`#macro-oa-confirm`, chromedp.ByID),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Refund in full")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "Refund on order #1001") and contains(., "done")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//*[contains(., "Hi Rui, your refund is on its way.")]`, chromedp.BySearch))
	shot(t, ctx, "89-macro-refund-done-1366")
	if n, status := replies(); refunds() != 1 || shop.Order("#1001").Refunded != 49.90 || n != 1 || status != "resolved" {
		t.Fatalf("confirmed: %d refunds (%v refunded), %d replies, status %s", refunds(), shop.Order("#1001").Refunded, n, status)
	}

	// On a phone, in Portuguese, for another customer's order.
	var other ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Reembolso", "body": "A encomenda #1002 não chegou.",
		"customer": map[string]any{"email": "ana@example.pt", "name": "Ana Lima"}, "store_id": 1}).json(t, &other)
	admin.must(200, "PATCH", "/api/me", map[string]any{"language": "pt"})
	run(t, ctx, "phone, portuguese",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(fmt.Sprintf("%s/#/all/t/%d", e.srv.URL, other.ID)),
		chromedp.Reload(),
		chromedp.WaitVisible(`#macros-btn`, chromedp.ByID), chromedp.Click(`#macros-btn`, chromedp.ByID),
		chromedp.WaitVisible(`#macro-search`, chromedp.ByID),
		chromedp.SendKeys(`#macro-search`, "refund", chromedp.ByID),
		chromedp.WaitVisible(`//li[@role="option" and contains(., "Refund in full")]`, chromedp.BySearch),
		enter(),
		chromedp.WaitVisible(summary+`//strong[contains(., "125,00")]`, chromedp.BySearch))
	shot(t, ctx, "90-macro-refund-confirm-pt-390")
	run(t, ctx, "cancel on the phone", chromedp.Click(`#macro-oa-cancel`, chromedp.ByID), chromedp.WaitNotPresent(`#macro-oa-confirm`, chromedp.ByID))
	if refunds() != 1 {
		t.Fatalf("cancelled on the phone: %d refunds", refunds())
	}
}
