package orders_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"onedesk/orders"
	"onedesk/orders/orderstest"
)

func shopifyOrder() *orderstest.ShopifyOrder {
	return &orderstest.ShopifyOrder{ID: 5501, Name: "#1001", Email: "rui@example.pt", Customer: 77, Currency: "EUR", Shipping: 4.90,
		CreatedAt: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC), Country: "PT", Fulfilled: true,
		Lines: []orderstest.ShopifyLine{{ID: 1, Variant: 11, Title: "Runner 42", Quantity: 1, Price: 30}, {ID: 2, Variant: 12, Title: "Socks", Quantity: 3, Price: 5}}}
}

func lookupOne(t *testing.T, src orders.Source) *orders.Order {
	t.Helper()
	list, err := src.Lookup(context.Background(), orders.Query{Emails: []string{"rui@example.pt"}})
	if err != nil || len(list) != 1 {
		t.Fatalf("lookup: %v %v", list, err)
	}
	return &list[0]
}

// Each Shopify action sends the documented mutation with its variables;
// the refund goes as Shopify suggests it, under the confirmation's key,
// and one over what was paid comes back as Shopify's own sentence.
func TestShopifyActions(t *testing.T) {
	ctx := context.Background()
	shop := orderstest.NewShopify(t, "shpat_x", shopifyOrder())
	s := &orders.Shopify{Domain: "shoes.myshopify.com", BaseURL: shop.URL, Token: "shpat_x", Client: http.DefaultClient}
	o := lookupOne(t, s)
	if o.ID != "gid://shopify/Order/5501" || o.Items[1].ID != "gid://shopify/LineItem/2" || o.Items[1].Refundable != 3 || o.Country != "PT" ||
		o.CustomerRef != "gid://shopify/Customer/77" || o.Total != "49.90" {
		t.Fatalf("order read as %+v", o)
	}

	// Two pairs of socks and the shipping, restocked: 10 + 4.90.
	p := orders.Params{Items: []orders.Line{{ID: o.Items[1].ID, Quantity: 2}}, Shipping: true, Restock: true}
	pv, err := s.Preview(ctx, o, orders.ActRefund, p)
	if err != nil || pv.Amount != "14.90" || pv.Maximum != "49.90" || pv.Currency != "EUR" || pv.Shipping != "4.90" || pv.Items != 2 {
		t.Fatalf("preview %+v %v", pv, err)
	}
	out, err := s.Act(ctx, o, orders.ActRefund, p, "key-0123456789")
	if err != nil || out.Amount != "14.90" || !strings.HasPrefix(out.Ref, "gid://shopify/Refund/") {
		t.Fatalf("refund %+v %v", out, err)
	}
	calls := shop.Calls()
	last := calls[len(calls)-1]
	in := last.Variables["input"].(map[string]any)
	tx := in["transactions"].([]any)[0].(map[string]any)
	line := in["refundLineItems"].([]any)[0].(map[string]any)
	if last.Operation != "Refund" || !strings.Contains(last.Query, `@idempotent(key: "key-0123456789")`) || tx["amount"] != "14.90" ||
		tx["kind"] != "REFUND" || tx["parentId"] != "gid://shopify/OrderTransaction/55010" || line["restockType"] != "RETURN" ||
		in["shipping"].(map[string]any)["fullRefund"] != true {
		t.Fatalf("refund request %s %v", last.Query, last.Variables)
	}
	// The same key again: Shopify answers the refund it made, no second one.
	if _, err := s.Act(ctx, o, orders.ActRefund, p, "key-0123456789"); err != nil || shop.Order("#1001").Refunded != 14.90 {
		t.Fatalf("a repeated key refunded again: %v %v", shop.Order("#1001").Refunded, err)
	}

	// More than is left (49.90 - 14.90 = 35.00): Shopify's sentence.
	_, err = s.Act(ctx, o, orders.ActRefund, orders.Params{Amount: "60.00"}, "key-other-0001")
	var refused *orders.Refused
	if !errors.As(err, &refused) || refused.Message != "Refund amount 60.00 EUR is greater than net payment received 35.00 EUR" {
		t.Fatalf("over-refund: %v", err)
	}

	// Address, confirmation, discount, replacement, cancel.
	addr := &orders.Address{FirstName: "Rui", LastName: "Costa", Address1: "Rua do Ouro 9", City: "Lisboa", Zip: "1100-060", Country: "pt"}
	if _, err := s.Act(ctx, o, orders.ActAddress, orders.Params{Address: addr}, "k-address-01"); !errors.As(err, &refused) ||
		!strings.Contains(refused.Message, "fulfilled order") {
		t.Fatalf("address of a fulfilled order: %v", err)
	}
	if _, err := s.Act(ctx, o, orders.ActResend, orders.Params{}, "k-resend-001"); err != nil || len(shop.Invoices) != 1 {
		t.Fatalf("resend: %v", err)
	}
	d, err := s.Act(ctx, o, orders.ActDiscount, orders.Params{Percent: 15}, "k-discount-1")
	if err != nil || !strings.HasPrefix(d.Ref, "SORRY-") || shop.Discounts[0]["customerGets"].(map[string]any)["value"].(map[string]any)["percentage"] != 0.15 ||
		shop.Discounts[0]["context"].(map[string]any)["customers"] == nil {
		t.Fatalf("discount %+v %v %v", d, err, shop.Discounts)
	}
	if _, err := s.Act(ctx, o, orders.ActDiscount, orders.Params{Percent: 15, Code: d.Ref}, "k-discount-2"); !errors.As(err, &refused) ||
		!strings.Contains(refused.Message, "Code must be unique") {
		t.Fatalf("a taken code: %v", err)
	}
	pv, err = s.Preview(ctx, o, orders.ActReplacement, orders.Params{Items: []orders.Line{{ID: o.Items[0].ID, Quantity: 1}}})
	if err != nil || pv.Worth != "30.00" || pv.Items != 1 {
		t.Fatalf("replacement preview %+v %v", pv, err)
	}
	r, err := s.Act(ctx, o, orders.ActReplacement, orders.Params{Items: []orders.Line{{ID: o.Items[0].ID, Quantity: 1}}}, "k-replace-01")
	draft := shop.Drafts[0]
	if err != nil || r.Ref != "#D1" || draft["appliedDiscount"].(map[string]any)["value"] != 100.0 ||
		draft["lineItems"].([]any)[0].(map[string]any)["variantId"] != "gid://shopify/ProductVariant/11" {
		t.Fatalf("replacement %+v %v %v", r, err, draft)
	}
	pv, err = s.Preview(ctx, o, orders.ActCancel, orders.Params{Refund: true})
	if err != nil || pv.Amount != "35.00" {
		t.Fatalf("cancel preview %+v %v", pv, err)
	}
	if _, err := s.Act(ctx, o, orders.ActCancel, orders.Params{Reason: "customer", Refund: true, Restock: true}, "k-cancel-001"); err != nil {
		t.Fatal(err)
	}
	c := shop.Calls()[len(shop.Calls())-1]
	if c.Operation != "Cancel" || c.Variables["reason"] != "CUSTOMER" || c.Variables["refundMethod"].(map[string]any)["originalPaymentMethodsRefund"] != true {
		t.Fatalf("cancel request %v", c.Variables)
	}
	if _, err := s.Act(ctx, o, orders.ActCancel, orders.Params{}, "k-cancel-002"); !errors.As(err, &refused) || refused.Message != "Order has already been cancelled" {
		t.Fatalf("a second cancel: %v", err)
	}
	// A refund without a key is not sent at all.
	n := len(shop.Calls())
	if _, err := s.Act(ctx, o, orders.ActRefund, orders.Params{}, ""); err == nil || len(shop.Calls()) != n {
		t.Fatalf("a refund without a key: %v", err)
	}
}

// WooCommerce: orders by email, the documented refund body, cancel as
// status cancelled, the shipping address; an over-refund is refused
// with WooCommerce's sentence, and a wrong key is a plain-words failure.
func TestWooCommerceActions(t *testing.T) {
	ctx := context.Background()
	woo := orderstest.NewWoo(t, "ck_1", "cs_1", &orderstest.WooOrder{ID: 812, Status: "processing", Email: "ana@example.pt", Currency: "EUR",
		Shipping: 5, CreatedAt: time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC), Country: "PT",
		Lines: []orderstest.WooLine{{ID: 41, Name: "Teapot", Quantity: 2, Price: 20}}})
	w := &orders.WooCommerce{URL: woo.URL, Key: "ck_1", Secret: "cs_1", Client: http.DefaultClient}
	list, err := w.Lookup(ctx, orders.Query{Emails: []string{"ANA@example.pt"}, Numbers: []string{"812", "999"}})
	if err != nil || len(list) != 1 || list[0].Number != "#812" || list[0].Total != "45.00" || list[0].Payment != "paid" ||
		list[0].Fulfillment != "unfulfilled" || list[0].Items[0].ID != "41" {
		t.Fatalf("lookup %+v %v", list, err)
	}
	o := &list[0]
	p := orders.Params{Items: []orders.Line{{ID: "41", Quantity: 1}}, Restock: true, Note: "broken lid"}
	pv, err := w.Preview(ctx, o, orders.ActRefund, p)
	if err != nil || pv.Amount != "20.00" || pv.Maximum != "45.00" {
		t.Fatalf("preview %+v %v", pv, err)
	}
	out, err := w.Act(ctx, o, orders.ActRefund, p, "unused-by-woo")
	ref := woo.Order(812).Refunds
	if err != nil || out.Amount != "20.00" || len(ref) != 1 || ref[0].Body["api_restock"] != true || ref[0].Body["api_refund"] != true ||
		ref[0].Body["reason"] != "broken lid" || ref[0].Body["line_items"].([]any)[0].(map[string]any)["refund_total"] != "20.00" {
		t.Fatalf("refund %+v %v %+v", out, err, ref)
	}
	_, err = w.Act(ctx, o, orders.ActRefund, orders.Params{Amount: "30.00"}, "")
	var refused *orders.Refused
	if !errors.As(err, &refused) || refused.Message != "Invalid refund amount." {
		t.Fatalf("over-refund: %v", err)
	}
	addr := &orders.Address{FirstName: "Ana", LastName: "Lima", Address1: "Rua Velha 1", City: "Braga", Zip: "4700-001", Country: "pt"}
	if _, err := w.Act(ctx, o, orders.ActAddress, orders.Params{Address: addr}, ""); err != nil || woo.Order(812).Address["address_1"] != "Rua Velha 1" ||
		woo.Order(812).Address["country"] != "PT" {
		t.Fatalf("address: %v %v", err, woo.Order(812).Address)
	}
	pv, err = w.Preview(ctx, o, orders.ActCancel, orders.Params{Refund: true})
	if err != nil || pv.Amount != "25.00" {
		t.Fatalf("cancel preview %+v %v", pv, err)
	}
	if _, err := w.Act(ctx, o, orders.ActCancel, orders.Params{Refund: true}, ""); err != nil || woo.Order(812).Status != "cancelled" ||
		len(woo.Order(812).Refunds) != 2 {
		t.Fatalf("cancel: %v %+v", err, woo.Order(812))
	}
	if err := orders.CheckAction(w, orders.ActDiscount, orders.Params{Percent: 10}); err == nil {
		t.Fatal("WooCommerce offered a discount code")
	}
	bad := &orders.WooCommerce{URL: woo.URL, Key: "ck_1", Secret: "wrong", Client: http.DefaultClient}
	_, err = bad.Lookup(ctx, orders.Query{Emails: []string{"ana@example.pt"}})
	var oe *orders.Error
	if !errors.As(err, &oe) || !strings.Contains(oe.Message, "refused the access token (401)") {
		t.Fatalf("a wrong secret: %v", err)
	}
}

// WooCommerce shops with custom order numbers (a Sequential Order
// Numbers plugin: the customer sees "WC-1001", the post id is 812) and
// customers known by phone: found through the orders search and kept to
// the orders that truly match; the post id only when no order shows
// the number, and never an id whose order shows another number.
func TestWooCommerceLookupByNumberAndPhone(t *testing.T) {
	ctx := context.Background()
	at := func(day int) time.Time { return time.Date(2026, 11, day, 9, 0, 0, 0, time.UTC) }
	line := []orderstest.WooLine{{ID: 41, Name: "Teapot", Quantity: 1, Price: 20}}
	woo := orderstest.NewWoo(t, "ck_1", "cs_1",
		&orderstest.WooOrder{ID: 812, Number: "WC-1001", Status: "processing", Email: "ana@example.pt", Phone: "+351912345678", Currency: "EUR", CreatedAt: at(1), Lines: line},
		&orderstest.WooOrder{ID: 1001, Number: "WC-1002", Status: "processing", Email: "bea@example.pt", Phone: "0912345678", Currency: "EUR", CreatedAt: at(2), Lines: line},
		&orderstest.WooOrder{ID: 900, Status: "completed", Email: "caio@example.pt", Phone: "+1 5912345678", Currency: "EUR", CreatedAt: at(3), Lines: line})
	w := &orders.WooCommerce{URL: woo.URL, Key: "ck_1", Secret: "cs_1", Client: http.DefaultClient}
	numbers := func(q orders.Query) string {
		t.Helper()
		list, err := w.Lookup(ctx, q)
		if err != nil {
			t.Fatalf("lookup %+v: %v", q, err)
		}
		var got []string
		for _, o := range list {
			got = append(got, o.Number+"="+o.ID)
		}
		return strings.Join(got, " ")
	}
	for _, c := range []struct {
		q    orders.Query
		want string
	}{
		{orders.Query{Numbers: []string{"WC-1001"}}, "#WC-1001=812"},
		{orders.Query{Numbers: []string{"#wc-1001"}}, "#WC-1001=812"},
		{orders.Query{Numbers: []string{"1001"}}, "#WC-1001=812"}, // the digits of the shown number, not post 1001
		{orders.Query{Numbers: []string{"1002"}}, "#WC-1002=1001"},
		{orders.Query{Numbers: []string{"900"}}, "#900=900"}, // no custom number: the id is the number
		{orders.Query{Numbers: []string{"812"}}, ""},         // post 812 shows WC-1001
		{orders.Query{Numbers: []string{"4242"}}, ""},
		// The same phone as +351..., as 0 9..., not +1 5912345678 (which
		// the search finds too).
		{orders.Query{Phones: []string{"+351912345678"}}, "#WC-1002=1001 #WC-1001=812"},
		{orders.Query{Phones: []string{"123"}}, ""},
		{orders.Query{Emails: []string{"caio@example.pt"}, Phones: []string{"+351912345678"}}, "#900=900 #WC-1002=1001 #WC-1001=812"},
	} {
		if got := numbers(c.q); got != c.want {
			t.Errorf("%+v: %q, want %q", c.q, got, c.want)
		}
	}
	if !slices.Contains(woo.Searches, "912345678") || slices.Contains(woo.Searches, "123") {
		t.Errorf("searches %q", woo.Searches)
	}
	list, _ := w.Lookup(ctx, orders.Query{Numbers: []string{"WC-1001"}})
	if len(list) != 1 || list[0].Phone != "+351912345678" || list[0].Email != "ana@example.pt" {
		t.Fatalf("order %+v", list)
	}
}

// Phones and order numbers as people write them.
func TestSamePhoneAndNumber(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want bool
	}{
		{"+351 912 345 678", "+351912345678", true},
		{"00351 912 345 678", "+351912345678", true},
		{"912 345 678", "+351912345678", true},
		{"0912345678", "+351912345678", true},
		{"12345678", "+351912345678", false}, // the end of another number
		{"345678", "345678", false},
		{"", "", false},
		{"+44 20 7946 0000", "+351912345678", false},
	} {
		if got := orders.SamePhone(c.a, c.b); got != c.want {
			t.Errorf("SamePhone(%q, %q) = %v", c.a, c.b, got)
		}
	}
	for _, c := range []struct {
		shop, typed string
		want        bool
	}{
		{"#1001", "1001", true}, {"WC-1001", " # wc-1001 ", true}, {"WC-1001", "1001", true},
		{"WC-1001", "01001", false}, {"1001-24", "1001", false}, {"#1001", "WC-1001", false}, {"##", "", false},
	} {
		if got := orders.SameNumber(c.shop, c.typed); got != c.want {
			t.Errorf("SameNumber(%q, %q) = %v", c.shop, c.typed, got)
		}
	}
}
