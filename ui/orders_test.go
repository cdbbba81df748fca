package ui_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"onedesk/orders/orderstest"
	"onedesk/store"
	"onedesk/ui"
)

func shopOrder() *orderstest.ShopifyOrder {
	return &orderstest.ShopifyOrder{ID: 5501, Name: "#1001", Email: "rui@example.pt", Currency: "EUR", Shipping: 4.90,
		CreatedAt: time.Now().Add(-72 * time.Hour), Country: "PT",
		Lines: []orderstest.ShopifyLine{{ID: 1, Variant: 11, Title: "Runner 42", Quantity: 1, Price: 45}}}
}

// shopTicket is a store on the stand-in shop and a ticket of its
// customer rui@example.pt, who wrote about order #1001.
func shopTicket(t *testing.T, admin *client, shop *orderstest.Shopify) (store.Store, ticketJSON) {
	t.Helper()
	var st store.Store
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoes", "orders": map[string]any{"shopify_domain": shop.URL, "shopify_token": "shpat_x"}}).json(t, &st)
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Too small", "body": "Order #1001 is too small",
		"customer": map[string]any{"email": "rui@example.pt"}, "store_id": st.ID}).json(t, &tk)
	return st, tk
}

type actionResult struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	Message string `json:"message"`
	Repeat  bool   `json:"repeat"`
	Outcome *struct {
		Amount   string `json:"amount"`
		Currency string `json:"currency"`
	} `json:"outcome"`
}

// Order actions through the API: only with the permission (an agent
// gets it from the admin), previewed in money, done once per key, a
// refusal answered with Shopify's sentence, all on the ticket's record.
func TestOrderActionsAPI(t *testing.T) {
	shop := orderstest.NewShopify(t, "shpat_x", shopOrder())
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	_, tk := shopTicket(t, admin, shop)
	agent := e.agent(admin, "ann@shop.test")
	var who struct {
		Agent store.Agent `json:"agent"`
	}
	agent.must(200, "GET", "/api/me", nil).json(t, &who)

	var list struct {
		Orders  []map[string]any `json:"orders"`
		Actions []string         `json:"actions"`
	}
	agent.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).json(t, &list)
	if len(list.Orders) != 1 || len(list.Actions) != 0 {
		t.Fatalf("an agent without the permission sees %v", list.Actions)
	}
	refund := map[string]any{"order": "#1001", "action": "refund", "params": map[string]any{"shipping": true}}
	agent.must(403, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), refund)

	admin.must(200, "PATCH", fmt.Sprintf("/api/agents/%d", who.Agent.ID), map[string]any{"grants": []string{"order_actions"}})
	agent.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).json(t, &list)
	if len(list.Actions) != 6 {
		t.Fatalf("granted, the agent sees %v", list.Actions)
	}
	var pv struct {
		Amount, Maximum, Currency, Key string
	}
	agent.must(200, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), refund).json(t, &pv)
	if pv.Amount != "4.90" || pv.Maximum != "49.90" || pv.Currency != "EUR" || pv.Key == "" {
		t.Fatalf("preview %+v", pv)
	}
	refund["key"] = pv.Key
	var first, again actionResult
	agent.must(200, "POST", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID), refund).json(t, &first)
	agent.must(200, "POST", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID), refund).json(t, &again)
	if first.Status != "done" || first.Outcome == nil || first.Outcome.Amount != "4.90" || !again.Repeat || again.ID != first.ID ||
		shop.Order("#1001").Refunded != 4.90 {
		t.Fatalf("refund %+v, again %+v, refunded %v", first, again, shop.Order("#1001").Refunded)
	}

	// More than was paid: Shopify's own sentence, with a 422.
	over := map[string]any{"order": "#1001", "action": "refund", "params": map[string]any{"amount": "60.00"}, "key": "a-second-key-0001"}
	msg, _ := agent.must(422, "POST", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID), over).err(t)
	if msg != "Refund amount 60.00 EUR is greater than net payment received 45.00 EUR" {
		t.Fatalf("refusal said %q", msg)
	}
	// Bad choices never reach the shop.
	if _, field := agent.must(400, "POST", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID),
		map[string]any{"action": "cancel", "params": map[string]any{"reason": "boredom"}, "key": "a-third-key-00001"}).err(t); field != "reason" {
		t.Fatalf("bad reason field %q", field)
	}

	var hist struct {
		Items []actionResult `json:"items"`
	}
	agent.must(200, "GET", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID), nil).json(t, &hist)
	body := string(admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d", tk.ID), nil).body)
	if len(hist.Items) != 2 || hist.Items[0].Status != "refused" || strings.Count(body, `"type":"order_action"`) != 2 {
		t.Fatalf("history %+v; ticket %s", hist.Items, body)
	}
}

// WooCommerce as a store's platform: the key and secret stay on the
// server and go only over HTTPS (or to this machine), orders show beside
// the ticket and a refund posts WooCommerce's documented body.
func TestWooCommerceStore(t *testing.T) {
	woo := orderstest.NewWoo(t, "ck_live", "cs_live", &orderstest.WooOrder{ID: 812, Status: "processing", Email: "ana@example.pt",
		Currency: "EUR", Shipping: 5, CreatedAt: time.Now().Add(-24 * time.Hour), Country: "PT",
		Lines: []orderstest.WooLine{{ID: 41, Name: "Teapot", Quantity: 2, Price: 20}}})
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	if _, field := admin.must(400, "POST", "/api/stores", map[string]any{"name": "Tea", "orders": map[string]any{"platform": "woocommerce",
		"woo_url": "http://tea.example.com", "woo_key": "ck_live", "woo_secret": "cs_live"}}).err(t); field != "orders.woo_url" {
		t.Fatalf("an http:// WooCommerce site: field %q", field)
	}
	var st store.Store
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Tea", "orders": map[string]any{"platform": "woocommerce",
		"woo_url": woo.URL, "woo_key": "ck_live", "woo_secret": "cs_live"}}).json(t, &st)
	if all := string(admin.must(200, "GET", "/api/stores", nil).body); !st.Orders.WooKeySet || strings.Contains(all, "cs_live") || strings.Contains(all, "ck_live") {
		t.Fatalf("the key is not set, or it leaves the server: %s", all)
	}
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Broken lid", "body": "The teapot lid broke",
		"customer": map[string]any{"email": "ana@example.pt"}, "store_id": st.ID}).json(t, &tk)
	var list struct {
		Orders  []map[string]any `json:"orders"`
		Actions []string         `json:"actions"`
	}
	admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", tk.ID), nil).json(t, &list)
	if len(list.Orders) != 1 || list.Orders[0]["number"] != "#812" || strings.Join(list.Actions, ",") != "refund,cancel,update_address" {
		t.Fatalf("orders %v, actions %v", list.Orders, list.Actions)
	}
	refund := map[string]any{"order": "#812", "action": "refund", "params": map[string]any{"items": []map[string]any{{"id": "41", "quantity": 1}}, "restock": true}}
	var pv struct{ Amount, Key string }
	admin.must(200, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), refund).json(t, &pv)
	refund["key"] = pv.Key
	var res actionResult
	admin.must(200, "POST", fmt.Sprintf("/api/tickets/%d/order-actions", tk.ID), refund).json(t, &res)
	got := woo.Order(812).Refunds
	if pv.Amount != "20.00" || res.Status != "done" || len(got) != 1 || got[0].Body["amount"] != "20.00" || got[0].Body["api_restock"] != true {
		t.Fatalf("preview %+v, result %+v, refunds %+v", pv, res, got)
	}
	admin.must(400, "POST", fmt.Sprintf("/api/tickets/%d/order-actions/preview", tk.ID), map[string]any{"order": "#812", "action": "create_discount",
		"params": map[string]any{"percent": 10}})
}

// An order action from the order panel in a real browser: the
// confirmation says the money, confirming acts once and shows in the
// panel's history; a refusal shows Shopify's sentence in the dialog.
func TestOrderActionInBrowser(t *testing.T) {
	ctx := browser(t)
	shop := orderstest.NewShopify(t, "shpat_x", shopOrder())
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoe Shop", "orders": map[string]any{"shopify_domain": shop.URL, "shopify_token": "shpat_x"}})
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Refund the shipping please", "body": "Order #1001 came late.",
		"customer": map[string]any{"email": "rui@example.pt", "name": "Rui Costa"}, "store_id": 1}).json(t, &tk)
	loginOwner(t, ctx, e)

	panel := `//div[contains(@class,"orders-panel")]`
	run(t, ctx, "open the refund confirmation",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(e.srv.URL+fmt.Sprintf("/#/all/t/%d", tk.ID)),
		chromedp.WaitVisible(panel+`//li[contains(., "#1001") and contains(., "Runner 42")]`, chromedp.BySearch),
		chromedp.Click(panel+`//button[@data-action="refund"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#order-action-dialog`, chromedp.ByQuery),
		chromedp.Click(`//form[contains(@class,"order-action")]//label[contains(., "Refund the shipping")]/input`, chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"oa-summary")]//strong[contains(., "4.90") and contains(., "goes back to the customer")]`, chromedp.BySearch),
		chromedp.WaitEnabled(`#oa-confirm`, chromedp.ByID))
	shot(t, ctx, "60-order-refund-confirm-1366")
	run(t, ctx, "confirm the refund",
		chromedp.DoubleClick(`#oa-confirm`, chromedp.ByID),
		chromedp.WaitVisible(`//*[contains(@class,"toast") and contains(., "Refund done for order #1001")]`, chromedp.BySearch),
		chromedp.WaitVisible(panel+`//ul[contains(@class,"order-history")]//li[contains(., "Refund") and contains(., "done") and contains(., "4.90")]`, chromedp.BySearch))
	shot(t, ctx, "61-order-refund-done-1366")
	refunds := 0
	for _, c := range shop.Calls() {
		if c.Operation == "Refund" {
			refunds++
		}
	}
	if refunds != 1 || shop.Order("#1001").Refunded != 4.90 {
		t.Fatalf("a double click on confirm made %d refunds (%v refunded)", refunds, shop.Order("#1001").Refunded)
	}

	run(t, ctx, "a refusal shows Shopify's sentence",
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(e.srv.URL+fmt.Sprintf("/#/all/t/%d/customer", tk.ID)),
		chromedp.Click(panel+`//button[@data-action="refund"]`, chromedp.BySearch),
		chromedp.WaitVisible(`#order-action-dialog`, chromedp.ByQuery),
		chromedp.SendKeys(`//form[contains(@class,"order-action")]//input[@name="amount"]`, "60.00", chromedp.BySearch),
		chromedp.WaitVisible(`//div[contains(@class,"oa-summary")]//strong[contains(., "60.00")]`, chromedp.BySearch),
		chromedp.WaitEnabled(`#oa-confirm`, chromedp.ByID),
		chromedp.Click(`#oa-confirm`, chromedp.ByID),
		chromedp.WaitVisible(`//form[contains(@class,"order-action")]//p[@role="alert" and contains(., "Refund amount 60.00 EUR is greater than net payment received 45.00 EUR")]`, chromedp.BySearch))
	run(t, ctx, "the sentence stays",
		chromedp.Poll(`document.querySelector('.oa-said')?.textContent.includes('greater than net payment') && !document.querySelector('#oa-confirm').disabled`, nil))
	shot(t, ctx, "62-order-refund-refused-390")
	run(t, ctx, "the event on the ticket",
		chromedp.Navigate(e.srv.URL+fmt.Sprintf("/#/all/t/%d", tk.ID)),
		chromedp.WaitVisible(`//div[contains(@class,"event") and contains(., "Refund on order #1001") and contains(., "refused by the shop")]`, chromedp.BySearch))
	shot(t, ctx, "63-order-events-390")
}

// Order webhooks keep the desk's orders between lookups: a signed
// Shopify orders/create for a customer who has not written yet, then
// their first message meets a rule on that order. Unsigned or wrongly
// signed deliveries are refused.
func TestOrderWebhookFeedsRules(t *testing.T) {
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st store.Store
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoes", "orders": map[string]any{"shopify_domain": "shoes.myshopify.com",
		"shopify_token": "shpat_x", "webhook_secret": "whsec_1"}}).json(t, &st)
	admin.must(201, "POST", "/api/rules", map[string]any{"name": "Unshipped", "trigger": "created",
		"conditions": []map[string]any{{"field": "order.fulfillment_status", "op": "is", "value": "unfulfilled"}, {"field": "order.days_since", "op": "gt", "value": 5}},
		"actions":    []map[string]any{{"type": "set_priority", "value": "high"}}})
	body := fmt.Sprintf(`{"id":820,"admin_graphql_api_id":"gid://shopify/Order/820","name":"#1020","email":"Lea@Example.com",
		"created_at":%q,"cancelled_at":null,"total_price":"59.00","currency":"EUR","financial_status":"paid","fulfillment_status":null,
		"tags":"vip, gift","shipping_address":{"country_code":"FR"}}`, time.Now().Add(-6*24*time.Hour).UTC().Format(time.RFC3339))
	topic := "orders/create"
	post := func(sig string) int {
		req, _ := http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/hooks/orders/%d", st.ID), strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Shopify-Topic", topic)
		if sig != "" {
			req.Header.Set("X-Shopify-Hmac-Sha256", sig)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	mac := hmac.New(sha256.New, []byte("whsec_1"))
	mac.Write([]byte(body))
	if got := post(""); got != 401 {
		t.Fatalf("unsigned: %d", got)
	}
	if got := post(base64.StdEncoding.EncodeToString([]byte("not the signature"))); got != 401 {
		t.Fatalf("wrongly signed: %d", got)
	}
	if got := post(base64.StdEncoding.EncodeToString(mac.Sum(nil))); got != 200 {
		t.Fatalf("signed: %d", got)
	}
	// A deletion carries the id alone: answered 200 (else Shopify sends it
	// again for days) and the kept order is left as it was.
	topic, body = "orders/delete", `{"id":820}`
	mac = hmac.New(sha256.New, []byte("whsec_1"))
	mac.Write([]byte(body))
	if got := post(base64.StdEncoding.EncodeToString(mac.Sum(nil))); got != 200 {
		t.Fatalf("orders/delete: %d", got)
	}
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Where is it?", "body": "Nothing came",
		"customer": map[string]any{"email": "lea@example.com"}, "store_id": st.ID}).json(t, &tk)
	if tk.Priority != "high" {
		t.Fatalf("the rule on the webhook's order did not apply: %+v", tk)
	}
}

// The revenue-after-support report in a real browser: an order a
// customer placed the day after their ticket was resolved shows by agent.
func TestRevenueReportInBrowser(t *testing.T) {
	ctx := browser(t)
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st store.Store
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Shoes", "orders": map[string]any{"shopify_domain": "shoes.myshopify.com",
		"shopify_token": "shpat_x", "webhook_secret": "whsec_1"}}).json(t, &st)
	var tk ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Sizes", "body": "Which size?",
		"customer": map[string]any{"email": "lea@example.com"}, "store_id": st.ID}).json(t, &tk)
	admin.must(200, "PATCH", fmt.Sprintf("/api/tickets/%d", tk.ID), map[string]any{"status": "resolved"})
	body := fmt.Sprintf(`{"admin_graphql_api_id":"gid://shopify/Order/830","name":"#1030","email":"lea@example.com","created_at":%q,
		"total_price":"59.00","currency":"EUR","financial_status":"paid","fulfillment_status":null,"tags":""}`, time.Now().Add(24*time.Hour).UTC().Format(time.RFC3339))
	mac := hmac.New(sha256.New, []byte("whsec_1"))
	mac.Write([]byte(body))
	req, _ := http.NewRequest("POST", e.srv.URL+fmt.Sprintf("/hooks/orders/%d", st.ID), strings.NewReader(body))
	req.Header.Set("X-Shopify-Topic", "orders/create")
	req.Header.Set("X-Shopify-Hmac-Sha256", base64.StdEncoding.EncodeToString(mac.Sum(nil)))
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", res, err)
	}
	loginOwner(t, ctx, e)
	run(t, ctx, "revenue report",
		chromedp.EmulateViewport(1366, 768),
		chromedp.Navigate(e.srv.URL+"/#/reports/revenue?range=7d"),
		chromedp.WaitVisible(`//div[@data-metric="revenue"]//strong[contains(., "59.00")]`, chromedp.BySearch),
		chromedp.WaitVisible(`//section[@data-table="by_agent"]`, chromedp.BySearch),
		chromedp.WaitVisible(`//p[@id="report-revenue-help" and contains(., "the agent who resolved")]`, chromedp.BySearch))
	shot(t, ctx, "64-revenue-report-1366")
	run(t, ctx, "revenue report on a phone", chromedp.EmulateViewport(390, 844), chromedp.Reload(),
		chromedp.WaitVisible(`//div[@data-metric="revenue"]//strong[contains(., "59.00")]`, chromedp.BySearch))
	shot(t, ctx, "65-revenue-report-390")
}

// WooCommerce beside a ticket: a customer known only by phone (a
// WhatsApp chat) sees the orders of that billing phone, and a ticket
// naming a plugin's custom number ("#WC-1002") shows that order, not
// post 1002.
func TestWooCommerceOrdersByPhoneAndCustomNumber(t *testing.T) {
	day := func(n int) time.Time { return time.Now().Add(-time.Duration(n) * 24 * time.Hour) }
	teapot := []orderstest.WooLine{{ID: 41, Name: "Teapot", Quantity: 1, Price: 20}}
	woo := orderstest.NewWoo(t, "ck_live", "cs_live",
		&orderstest.WooOrder{ID: 812, Number: "WC-1001", Status: "processing", Email: "rui@example.pt", Phone: "+351912345678", Currency: "EUR", CreatedAt: day(3), Country: "PT", Lines: teapot},
		&orderstest.WooOrder{ID: 813, Number: "WC-1002", Status: "completed", Email: "bea@example.pt", Phone: "", Currency: "EUR", CreatedAt: day(2), Country: "PT", Lines: teapot},
		&orderstest.WooOrder{ID: 1002, Number: "WC-1050", Status: "completed", Email: "caio@example.pt", Currency: "EUR", CreatedAt: day(1), Country: "PT", Lines: teapot})
	e := newEnv(t, ui.Options{})
	admin := e.admin()
	var st store.Store
	admin.must(201, "POST", "/api/stores", map[string]any{"name": "Tea", "country": "PT", "orders": map[string]any{"platform": "woocommerce",
		"woo_url": woo.URL, "woo_key": "ck_live", "woo_secret": "cs_live"}}).json(t, &st)
	numbers := func(ticket int64) string {
		t.Helper()
		var list struct {
			Orders []struct{ Number, Phone string }
		}
		admin.must(200, "GET", fmt.Sprintf("/api/tickets/%d/orders", ticket), nil).json(t, &list)
		var got []string
		for _, o := range list.Orders {
			got = append(got, o.Number)
		}
		return strings.Join(got, " ")
	}
	var byPhone, byNumber ticketJSON
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Where is it?", "body": "Still waiting",
		"customer": map[string]any{"phone": "+351 912 345 678"}, "store_id": st.ID}).json(t, &byPhone)
	if got := numbers(byPhone.ID); got != "#WC-1001" {
		t.Fatalf("a phone-only customer's orders: %q", got)
	}
	admin.must(201, "POST", "/api/tickets", map[string]any{"subject": "Lid", "body": "The lid of #WC-1002 and #1002 is broken",
		"customer": map[string]any{"email": "someone@example.pt"}, "store_id": st.ID}).json(t, &byNumber)
	if got := numbers(byNumber.ID); got != "#WC-1002" {
		t.Fatalf("orders named by number: %q (searches %q)", got, woo.Searches)
	}
}
