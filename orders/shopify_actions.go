package orders

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"onedesk/i18n"
)

// Order actions through Shopify's Admin GraphQL API. The custom app's
// token needs write_orders (refunds, cancellations, addresses, invoices),
// write_discounts (codes) and write_draft_orders (replacements).

// Name is the platform's name.
func (s *Shopify) Name() string { return "shopify" }

// Actions are all of them: Shopify's API allows each.
func (s *Shopify) Actions() []string { return AllActions }

const suggestQuery = `query Suggest($id: ID!, $lines: [RefundLineItemInput!], $shipping: Boolean, $full: Boolean) {
  order(id: $id) {
    suggestedRefund(refundLineItems: $lines, refundShipping: $shipping, suggestFullRefund: $full) {
      amountSet { shopMoney { amount currencyCode } }
      maximumRefundableSet { shopMoney { amount currencyCode } }
      shipping { amountSet { shopMoney { amount } } }
      suggestedTransactions { amountSet { shopMoney { amount } } gateway kind parentTransaction { id } }
      refundLineItems { lineItem { id } quantity }
    }
  }
}`

type suggestion struct {
	AmountSet            shopMoney `json:"amountSet"`
	MaximumRefundableSet shopMoney `json:"maximumRefundableSet"`
	Shipping             struct {
		AmountSet shopMoney `json:"amountSet"`
	} `json:"shipping"`
	RefundLineItems []struct {
		LineItem struct {
			ID string `json:"id"`
		} `json:"lineItem"`
		Quantity int `json:"quantity"`
	} `json:"refundLineItems"`
	SuggestedTransactions []struct {
		AmountSet         shopMoney `json:"amountSet"`
		Gateway           string    `json:"gateway"`
		Kind              string    `json:"kind"`
		ParentTransaction *struct {
			ID string `json:"id"`
		} `json:"parentTransaction"`
	} `json:"suggestedTransactions"`
}

// restockType is how refunded lines go back: returned to stock when they
// were shipped, cancelled out of the fulfilment when not.
func restockType(o *Order, restock bool) string {
	switch {
	case !restock:
		return "NO_RESTOCK"
	case o.Fulfillment == "fulfilled" || o.Fulfillment == "partially_fulfilled":
		return "RETURN"
	}
	return "CANCEL"
}

// suggest asks Shopify what a refund of these lines (all of the order's,
// with full) gives back.
func (s *Shopify) suggest(ctx context.Context, o *Order, p Params, full bool) (*suggestion, []map[string]any, error) {
	var lines []map[string]any
	if !full {
		for _, l := range p.Items {
			lines = append(lines, map[string]any{"lineItemId": l.ID, "quantity": l.Quantity, "restockType": restockType(o, p.Restock)})
		}
	}
	vars := map[string]any{"id": o.ID, "lines": lines, "shipping": p.Shipping || full, "full": full}
	var data struct {
		Order *struct {
			SuggestedRefund suggestion `json:"suggestedRefund"`
		} `json:"order"`
	}
	if err := s.graphql(ctx, suggestQuery, vars, false, &data); err != nil {
		return nil, nil, err
	}
	if data.Order == nil {
		return nil, nil, orderErr(fmt.Errorf("order %s not found", o.ID), "Shopify has no order %s any more", o.Number)
	}
	return &data.Order.SuggestedRefund, lines, nil
}

// Preview says what an action would do in money.
func (s *Shopify) Preview(ctx context.Context, o *Order, action string, p Params) (*Preview, error) {
	pv := &Preview{Action: action, Order: o.Number, Currency: o.Currency, Restock: p.Restock}
	switch action {
	case ActRefund, ActCancel:
		if action == ActCancel && !p.Refund {
			return pv, nil
		}
		sug, _, err := s.suggest(ctx, o, p, action == ActCancel || len(p.Items) == 0 && !p.Shipping)
		if err != nil {
			return nil, err
		}
		pv.Amount, pv.Maximum = sug.AmountSet.ShopMoney.Amount, sug.MaximumRefundableSet.ShopMoney.Amount
		if p.Shipping || action == ActRefund && len(p.Items) == 0 && p.Amount == "" {
			pv.Shipping = sug.Shipping.AmountSet.ShopMoney.Amount
		}
		if c := sug.AmountSet.ShopMoney.CurrencyCode; c != "" {
			pv.Currency = c
		}
		if p.Amount != "" {
			pv.Amount = p.Amount
		}
		for _, l := range p.Items {
			pv.Items += l.Quantity
		}
		if action == ActRefund && len(p.Items) == 0 && !p.Shipping && p.Amount == "" {
			for _, l := range sug.RefundLineItems { // the whole order: every line left
				pv.Items += l.Quantity
			}
		}
	case ActDiscount:
		pv.Worth = discountWorth(p)
	case ActReplacement:
		pv.Worth, pv.Items = replacementWorth(o, p)
	}
	return pv, nil
}

// discountWorth says a code's value: "10%" or "5.00".
func discountWorth(p Params) string {
	if p.Value != "" {
		if v, ok := decimal(p.Value); ok {
			return money(v)
		}
	}
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", p.Percent), "0"), ".") + "%"
}

// replacementWorth is what the lines of a replacement cost, and how many
// units it holds.
func replacementWorth(o *Order, p Params) (string, int) {
	sum, n := decimalZero(), 0
	for _, l := range chosenLines(o, p) {
		n += l.Quantity
		if it := lineOf(o, l.ID); it != nil {
			if price, ok := decimal(it.Price); ok {
				sum.Add(sum, price.Mul(price, ratInt(l.Quantity)))
			}
		}
	}
	return money(sum), n
}

var keyShape = regexp.MustCompile(`^[A-Za-z0-9_-]{8,100}$`)

// Act does an action in the shop.
func (s *Shopify) Act(ctx context.Context, o *Order, action string, p Params, key string) (*Outcome, error) {
	out := &Outcome{Action: action, Order: o.Number, Currency: o.Currency}
	var err error
	switch action {
	case ActRefund:
		err = s.refund(ctx, o, p, key, out)
	case ActCancel:
		err = s.cancel(ctx, o, p, out)
	case ActAddress:
		err = s.updateAddress(ctx, o, p)
	case ActResend:
		err = s.resend(ctx, o)
	case ActDiscount:
		err = s.discount(ctx, o, p, out)
	case ActReplacement:
		err = s.replacement(ctx, o, p, out)
	default:
		return nil, &FieldError{Field: "action", Said: i18n.S("this shop's platform cannot do %q", action)}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

type userError struct {
	Field   []string `json:"field"`
	Message string   `json:"message"`
}

// refused turns a mutation's userErrors into Shopify's own sentence.
func refused(errs []userError) error {
	if len(errs) == 0 {
		return nil
	}
	msgs := make([]string, len(errs))
	for i, e := range errs {
		msgs[i] = e.Message
	}
	return &Refused{Platform: "Shopify", Message: strings.Join(msgs, " ")}
}

// Prepare makes a refund's request (the lines and transactions Shopify
// suggests for the choices), to be kept before it is sent: sent again
// byte for byte under the same key, Shopify answers the first refund
// instead of making a second (orders.Replayer). Other actions have none.
func (s *Shopify) Prepare(ctx context.Context, o *Order, action string, p Params) (json.RawMessage, error) {
	if action != ActRefund {
		return nil, nil
	}
	input, err := s.refundInput(ctx, o, p)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(input)
	if err != nil {
		return nil, fmt.Errorf("shopify refund request: %w", err)
	}
	return raw, nil
}

// Send sends a prepared request under the confirmation's key.
func (s *Shopify) Send(ctx context.Context, o *Order, action string, request json.RawMessage, key string) (*Outcome, error) {
	if action != ActRefund {
		return nil, &FieldError{Field: "action", Said: i18n.S("this shop's platform cannot do %q", action)}
	}
	var input map[string]any
	if err := json.Unmarshal(request, &input); err != nil {
		return nil, fmt.Errorf("shopify refund request: %w", err)
	}
	out := &Outcome{Action: action, Order: o.Number, Currency: o.Currency}
	if err := s.sendRefund(ctx, o, input, key, out); err != nil {
		return nil, err
	}
	return out, nil
}

// refund creates a refund with the transactions Shopify suggests for the
// lines and shipping chosen (an amount of the agent's own goes back on
// the first payment), under the confirmation's idempotency key.
func (s *Shopify) refund(ctx context.Context, o *Order, p Params, key string, out *Outcome) error {
	if !keyShape.MatchString(key) {
		return errRefundKey
	}
	input, err := s.refundInput(ctx, o, p)
	if err != nil {
		return err
	}
	return s.sendRefund(ctx, o, input, key, out)
}

// refundInput is a refund's RefundInput.
func (s *Shopify) refundInput(ctx context.Context, o *Order, p Params) (map[string]any, error) {
	// Nothing chosen is the whole order (what is left of it), unless an
	// amount of the agent's own is all that goes back.
	full := len(p.Items) == 0 && !p.Shipping && p.Amount == ""
	moneyOnly := len(p.Items) == 0 && !p.Shipping && p.Amount != ""
	// The whole order's suggestion names the payments a goodwill amount
	// goes back on.
	sug, lines, err := s.suggest(ctx, o, p, full || moneyOnly)
	if err != nil {
		return nil, err
	}
	if full {
		for _, l := range sug.RefundLineItems {
			lines = append(lines, map[string]any{"lineItemId": l.LineItem.ID, "quantity": l.Quantity, "restockType": restockType(o, p.Restock)})
		}
	}
	var txs []map[string]any
	for _, t := range sug.SuggestedTransactions {
		tx := map[string]any{"orderId": o.ID, "gateway": t.Gateway, "kind": "REFUND", "amount": t.AmountSet.ShopMoney.Amount}
		if t.ParentTransaction != nil {
			tx["parentId"] = t.ParentTransaction.ID
		}
		txs = append(txs, tx)
	}
	if p.Amount != "" {
		if len(txs) == 0 {
			return nil, orderErr(fmt.Errorf("no suggested transaction"), "nothing is left to refund on order %s", o.Number)
		}
		txs = txs[:1]
		txs[0]["amount"] = p.Amount
	}
	input := map[string]any{"orderId": o.ID, "notify": p.Notify, "refundLineItems": lines, "transactions": txs}
	if p.Note != "" {
		input["note"] = p.Note
	}
	if p.Shipping || full {
		input["shipping"] = map[string]any{"fullRefund": true}
	}
	return input, nil
}

var errRefundKey = &FieldError{Field: "key", Said: i18n.S("the confirmation's key is missing or not valid: ask for the confirmation again")}

// sendRefund sends refundCreate with input under key.
func (s *Shopify) sendRefund(ctx context.Context, o *Order, input map[string]any, key string, out *Outcome) error {
	if !keyShape.MatchString(key) {
		return errRefundKey
	}
	// The key is a literal of the directive (checked above to be a plain
	// token), as Shopify's documentation writes it.
	mutation := `mutation Refund($input: RefundInput!) {
  refundCreate(input: $input) @idempotent(key: "` + key + `") {
    refund { id totalRefundedSet { shopMoney { amount currencyCode } } }
    userErrors { field message }
  }
}`
	var data struct {
		RefundCreate struct {
			Refund *struct {
				ID               string    `json:"id"`
				TotalRefundedSet shopMoney `json:"totalRefundedSet"`
			} `json:"refund"`
			UserErrors []userError `json:"userErrors"`
		} `json:"refundCreate"`
	}
	if err := s.graphql(ctx, mutation, map[string]any{"input": input}, true, &data); err != nil {
		return err
	}
	if err := refused(data.RefundCreate.UserErrors); err != nil {
		return err
	}
	if r := data.RefundCreate.Refund; r != nil {
		out.Ref, out.Amount = r.ID, r.TotalRefundedSet.ShopMoney.Amount
		if c := r.TotalRefundedSet.ShopMoney.CurrencyCode; c != "" {
			out.Currency = c
		}
	}
	return nil
}

const cancelMutation = `mutation Cancel($orderId: ID!, $reason: OrderCancelReason!, $refundMethod: OrderCancelRefundMethodInput!, $restock: Boolean!, $notifyCustomer: Boolean, $staffNote: String) {
  orderCancel(orderId: $orderId, reason: $reason, refundMethod: $refundMethod, restock: $restock, notifyCustomer: $notifyCustomer, staffNote: $staffNote) {
    job { id done }
    orderCancelUserErrors { field message code }
  }
}`

// cancel cancels the order (Shopify does it in a background job, which
// refunds and restocks as asked).
func (s *Shopify) cancel(ctx context.Context, o *Order, p Params, out *Outcome) error {
	reason := p.Reason
	if reason == "" {
		reason = "customer"
	}
	vars := map[string]any{"orderId": o.ID, "reason": strings.ToUpper(reason), "restock": p.Restock, "notifyCustomer": p.Notify,
		"refundMethod": map[string]any{"originalPaymentMethodsRefund": p.Refund}}
	if p.Note != "" {
		vars["staffNote"] = p.Note
	}
	var data struct {
		OrderCancel struct {
			Job *struct {
				ID string `json:"id"`
			} `json:"job"`
			OrderCancelUserErrors []userError `json:"orderCancelUserErrors"`
		} `json:"orderCancel"`
	}
	if err := s.graphql(ctx, cancelMutation, vars, true, &data); err != nil {
		return err
	}
	if err := refused(data.OrderCancel.OrderCancelUserErrors); err != nil {
		return err
	}
	if j := data.OrderCancel.Job; j != nil {
		out.Ref = j.ID
	}
	if !p.Refund {
		out.Currency = ""
	}
	return nil
}

const addressMutation = `mutation Address($input: OrderInput!) {
  orderUpdate(input: $input) { order { id } userErrors { field message } }
}`

func (s *Shopify) updateAddress(ctx context.Context, o *Order, p Params) error {
	a := p.Address
	addr := map[string]any{"firstName": a.FirstName, "lastName": a.LastName, "company": a.Company, "address1": a.Address1,
		"address2": a.Address2, "city": a.City, "provinceCode": a.Province, "zip": a.Zip,
		"countryCode": strings.ToUpper(a.Country), "phone": a.Phone}
	var data struct {
		OrderUpdate struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"orderUpdate"`
	}
	if err := s.graphql(ctx, addressMutation, map[string]any{"input": map[string]any{"id": o.ID, "shippingAddress": addr}}, true, &data); err != nil {
		return err
	}
	return refused(data.OrderUpdate.UserErrors)
}

// Shopify's API has no "resend the order confirmation": orderInvoiceSend
// mails the customer the order's invoice (its items, totals and status
// page), which is what they ask for when the confirmation went missing.
const resendMutation = `mutation Resend($id: ID!, $email: EmailInput) {
  orderInvoiceSend(id: $id, email: $email) { order { id } userErrors { field message } }
}`

func (s *Shopify) resend(ctx context.Context, o *Order) error {
	vars := map[string]any{"id": o.ID}
	if o.Email != "" {
		vars["email"] = map[string]any{"to": o.Email}
	}
	var data struct {
		OrderInvoiceSend struct {
			UserErrors []userError `json:"userErrors"`
		} `json:"orderInvoiceSend"`
	}
	if err := s.graphql(ctx, resendMutation, vars, true, &data); err != nil {
		return err
	}
	return refused(data.OrderInvoiceSend.UserErrors)
}

const discountMutation = `mutation Discount($discount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $discount) {
    codeDiscountNode { id }
    userErrors { field code message }
  }
}`

// discount makes a single-use code for the customer (anyone with the
// code when the order has no customer).
func (s *Shopify) discount(ctx context.Context, o *Order, p Params, out *Outcome) error {
	code := strings.ToUpper(strings.TrimSpace(p.Code))
	if code == "" {
		code = "SORRY-" + randomCode(6)
	}
	value := map[string]any{"percentage": p.Percent / 100}
	if p.Value != "" {
		value = map[string]any{"discountAmount": map[string]any{"amount": p.Value, "appliesOnEachItem": false}}
	}
	buyers := map[string]any{"all": "ALL"}
	if o.CustomerRef != "" {
		buyers = map[string]any{"customers": map[string]any{"add": []string{o.CustomerRef}}}
	}
	input := map[string]any{
		"title": "onedesk " + code + " (" + o.Number + ")", "code": code, "startsAt": time.Now().UTC().Format(time.RFC3339),
		"context": buyers, "customerGets": map[string]any{"value": value, "items": map[string]any{"all": true}},
		"appliesOncePerCustomer": true, "usageLimit": 1,
	}
	var data struct {
		DiscountCodeBasicCreate struct {
			CodeDiscountNode *struct {
				ID string `json:"id"`
			} `json:"codeDiscountNode"`
			UserErrors []userError `json:"userErrors"`
		} `json:"discountCodeBasicCreate"`
	}
	if err := s.graphql(ctx, discountMutation, map[string]any{"discount": input}, true, &data); err != nil {
		return err
	}
	if err := refused(data.DiscountCodeBasicCreate.UserErrors); err != nil {
		return err
	}
	out.Ref, out.Amount, out.Currency = code, "", ""
	return nil
}

const draftMutation = `mutation Replacement($input: DraftOrderInput!) {
  draftOrderCreate(input: $input) {
    draftOrder { id name invoiceUrl }
    userErrors { field message }
  }
}`

// replacement makes a draft order of the chosen lines (all of them by
// default) at a 100% discount, to the same address: the shop completes
// it from its admin.
func (s *Shopify) replacement(ctx context.Context, o *Order, p Params, out *Outcome) error {
	var lines []map[string]any
	for _, l := range chosenLines(o, p) {
		it := lineOf(o, l.ID)
		if it == nil || it.VariantID == "" {
			return &Refused{Platform: "Shopify", Message: fmt.Sprintf("line %s has no product variant to send again", l.ID)}
		}
		lines = append(lines, map[string]any{"variantId": it.VariantID, "quantity": l.Quantity})
	}
	input := map[string]any{
		"lineItems": lines, "tags": []string{"onedesk-replacement"},
		"note":            "Replacement for " + o.Number + noteSuffix(p.Note),
		"appliedDiscount": map[string]any{"valueType": "PERCENTAGE", "value": 100.0, "title": "Replacement for " + o.Number},
	}
	if o.Email != "" {
		input["email"] = o.Email
	}
	if o.CustomerRef != "" {
		input["purchasingEntity"] = map[string]any{"customerId": o.CustomerRef}
	}
	if a := o.ShippingAddress; a != nil {
		input["shippingAddress"] = map[string]any{"firstName": a.FirstName, "lastName": a.LastName, "address1": a.Address1,
			"address2": a.Address2, "city": a.City, "provinceCode": a.Province, "zip": a.Zip, "countryCode": a.Country, "phone": a.Phone}
	}
	var data struct {
		DraftOrderCreate struct {
			DraftOrder *struct {
				ID         string `json:"id"`
				Name       string `json:"name"`
				InvoiceURL string `json:"invoiceUrl"`
			} `json:"draftOrder"`
			UserErrors []userError `json:"userErrors"`
		} `json:"draftOrderCreate"`
	}
	if err := s.graphql(ctx, draftMutation, map[string]any{"input": input}, true, &data); err != nil {
		return err
	}
	if err := refused(data.DraftOrderCreate.UserErrors); err != nil {
		return err
	}
	if d := data.DraftOrderCreate.DraftOrder; d != nil {
		out.Ref, out.URL = d.Name, d.InvoiceURL
	}
	out.Amount, out.Currency = "", ""
	return nil
}

func noteSuffix(note string) string {
	if note == "" {
		return ""
	}
	return ": " + note
}

// randomCode is n letters and digits without look-alikes (0/O, 1/I).
func randomCode(n int) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
