package desk

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"onedesk/orders"
	"onedesk/store"
)

// ErrNoOrders says a store has no order lookup set up.
var ErrNoOrders = errors.New("no order lookup is set up for this store")

// orderSource is where a store's orders are looked up, and a key that
// changes with its settings.
func (d *Desk) orderSource(st *store.Store) (orders.Source, string) {
	if p, scope := d.OrderPlatform(st); p != nil {
		return p, scope
	}
	if o := st.Orders; o.LookupURL != "" {
		return &orders.URL{URL: o.LookupURL, Secret: o.LookupSecret, Client: d.OrderClient}, "url:" + o.LookupURL + ":" + o.LookupSecret
	}
	return nil, ""
}

// OrderPlatform is the store's shop platform, which acts on its orders
// (nil when none is set up: a lookup URL only reads), and the cache
// scope of its settings. A store names its platform; one that does not
// (set up before WooCommerce came) is Shopify's when that is set.
func (d *Desk) OrderPlatform(st *store.Store) (orders.Platform, string) {
	o := st.Orders
	switch {
	case o.Platform == "woocommerce" && o.WooURL != "" && o.WooKey != "" && o.WooSecret != "":
		return &orders.WooCommerce{URL: o.WooURL, Key: o.WooKey, Secret: o.WooSecret, Client: d.OrderClient},
			"woo:" + o.WooURL + ":" + o.WooKey + ":" + o.WooSecret
	case o.Platform != "woocommerce" && o.ShopifyDomain != "" && o.ShopifyToken != "":
		scope := "shopify:" + o.ShopifyDomain + ":" + o.ShopifyToken
		base := ""
		if strings.HasPrefix(o.ShopifyDomain, "http://") || strings.HasPrefix(o.ShopifyDomain, "https://") {
			base = o.ShopifyDomain // a local stand-in (tests) or a proxy
		}
		return &orders.Shopify{Domain: strings.TrimPrefix(strings.TrimPrefix(o.ShopifyDomain, "https://"), "http://"),
			Token: o.ShopifyToken, BaseURL: base, Client: d.OrderClient}, scope
	}
	return nil, ""
}

// ForgetOrders drops a store's cached lookups: an action changed its
// orders, and the panel shows them as they are now.
func (d *Desk) ForgetOrders(st *store.Store) {
	if _, scope := d.orderSource(st); scope != "" {
		d.orders.Forget(scope)
	}
}

// orderMention is "#1001", or a number a custom-number plugin prefixes:
// "#WC-1001".
var orderMention = regexp.MustCompile(`#((?:[A-Za-z]{1,5}-)?\d{3,12})\b`)

// orderNumbers are the order numbers a ticket names: form fields whose
// name says order, and #1001 in the customer's messages.
func orderNumbers(t *store.Ticket, msgs []store.Message) []string {
	var nums []string
	add := func(n string) {
		n = strings.TrimPrefix(strings.TrimSpace(n), "#")
		if n != "" && len(n) <= 40 && !slices.Contains(nums, n) && len(nums) < 5 {
			nums = append(nums, n)
		}
	}
	var fields map[string]any
	_ = json.Unmarshal(t.Fields, &fields)
	for k, v := range fields {
		if strings.Contains(strings.ToLower(k), "order") {
			switch v := v.(type) {
			case string:
				add(v)
			case float64:
				add(strconv.FormatFloat(v, 'f', -1, 64))
			}
		}
	}
	for _, m := range msgs {
		if m.Kind != "customer" {
			continue
		}
		for _, sm := range orderMention.FindAllStringSubmatch(m.Body, -1) {
			add(sm[1])
		}
	}
	return nums
}

// TicketOrders looks up the orders of a ticket's customer in the
// ticket's store (by the customer's emails and phones and the order
// numbers the ticket names), newest first. The answer is cached for two
// minutes; a failing shop gives an *orders.Error in plain words.
func (d *Desk) TicketOrders(ctx context.Context, ticketID int64) ([]orders.Order, error) {
	t, err := d.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	if t.StoreID == nil {
		return nil, ErrNoOrders
	}
	st, err := d.db.Store(ctx, *t.StoreID)
	if err != nil {
		return nil, err
	}
	c, err := d.db.Customer(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	return d.ticketOrders(ctx, t, st, c)
}

func (d *Desk) ticketOrders(ctx context.Context, t *store.Ticket, st *store.Store, c *store.Customer) ([]orders.Order, error) {
	if src, _ := d.orderSource(st); src == nil {
		return nil, ErrNoOrders // before reading the thread for order numbers
	}
	msgs, err := d.db.Messages(ctx, t.ID)
	if err != nil {
		return nil, err
	}
	return d.lookupOrders(ctx, st, c, orderNumbers(t, msgs))
}

// CustomerOrders looks up a customer's orders in a store.
func (d *Desk) CustomerOrders(ctx context.Context, customerID, storeID int64) ([]orders.Order, error) {
	st, err := d.db.Store(ctx, storeID)
	if err != nil {
		return nil, err
	}
	c, err := d.db.Customer(ctx, customerID)
	if err != nil {
		return nil, err
	}
	return d.lookupOrders(ctx, st, c, nil)
}

// OrdersByNumber looks orders up in a store by their number alone, for a
// customer who proves theirs by its email or phone (package portal):
// whether one matches is the caller's to check, and to keep to itself.
func (d *Desk) OrdersByNumber(ctx context.Context, storeID int64, number string) ([]orders.Order, error) {
	st, err := d.db.Store(ctx, storeID)
	if err != nil {
		return nil, err
	}
	src, scope := d.orderSource(st)
	if src == nil {
		return nil, ErrNoOrders
	}
	return d.orders.Lookup(ctx, scope, src, orders.Query{Numbers: []string{number}})
}

// lookupOrders asks the store's order lookup for the customer's orders
// (by their emails and phones) and those of the given numbers.
func (d *Desk) lookupOrders(ctx context.Context, st *store.Store, c *store.Customer, numbers []string) ([]orders.Order, error) {
	src, scope := d.orderSource(st)
	if src == nil {
		return nil, ErrNoOrders
	}
	q := orders.Query{Numbers: numbers}
	for _, id := range c.Identities {
		switch id.Kind {
		case "email":
			q.Emails = append(q.Emails, id.Value)
		case "phone", "whatsapp":
			if !slices.Contains(q.Phones, id.Value) {
				q.Phones = append(q.Phones, id.Value)
			}
		}
	}
	return d.orders.Lookup(ctx, scope, &keeper{d: d, src: src, storeID: st.ID, customer: c}, q)
}

// orderPhone is an order's phone as the desk keeps phones (E.164), read
// as a number of the order's country, else the store's; as the shop has
// it when it cannot be read.
func orderPhone(o orders.Order, storeCountry string) string {
	for _, country := range []string{o.Country, storeCountry} {
		if p, ok := NormalizePhone(o.Phone, country); ok {
			return p
		}
	}
	return strings.TrimSpace(o.Phone)
}

// keeper keeps what a lookup found in the shop_orders table (rules and
// the revenue report read it there): asked only when the cache misses.
type keeper struct {
	d        *Desk
	src      orders.Source
	storeID  int64
	customer *store.Customer
}

func (k *keeper) Lookup(ctx context.Context, q orders.Query) ([]orders.Order, error) {
	list, err := k.src.Lookup(ctx, q)
	if err != nil || len(list) == 0 {
		return list, err
	}
	if err := k.d.KeepOrders(ctx, k.storeID, k.customer, list); err != nil {
		k.d.log.Warn("keep looked-up orders", "store", k.storeID, "err", err)
	}
	return list, nil
}

// KeepOrders writes orders of a store to the shop_orders table: an order
// whose email or phone is one of the customer's (or any customer's, when
// c is nil and the order's email or phone is a known identity) is theirs.
func (d *Desk) KeepOrders(ctx context.Context, storeID int64, c *store.Customer, list []orders.Order) error {
	st, err := d.db.Store(ctx, storeID)
	if err != nil {
		return err
	}
	rows := make([]store.ShopOrder, 0, len(list))
	for _, o := range list {
		if o.ID == "" {
			continue // a lookup URL's order has no id to keep it by
		}
		total, _ := strconv.ParseFloat(o.Total, 64)
		row := store.ShopOrder{StoreID: storeID, OrderID: o.ID, Number: o.Number, Email: strings.ToLower(o.Email),
			Phone: orderPhone(o, st.Country), OrderedAt: o.CreatedAt, Total: total, Currency: o.Currency, Financial: o.Payment,
			Fulfillment: o.Fulfillment, Cancelled: o.Cancelled, Tags: o.Tags, Country: o.Country}
		if c != nil && slices.ContainsFunc(c.Identities, func(id store.Identity) bool {
			return id.Kind == "email" && o.Email != "" && strings.EqualFold(id.Value, o.Email) ||
				(id.Kind == "phone" || id.Kind == "whatsapp") && row.Phone != "" && id.Value == row.Phone
		}) {
			row.CustomerID = &c.ID
		}
		rows = append(rows, row)
	}
	if len(rows) == 0 {
		return nil
	}
	return d.db.Write(ctx, func(tx *store.Tx) error {
		for i := range rows {
			if rows[i].CustomerID != nil {
				continue
			}
			known := []store.Identity{{Kind: "email", Value: rows[i].Email}, {Kind: "phone", Value: rows[i].Phone},
				{Kind: "whatsapp", Value: rows[i].Phone}}
			for _, ident := range known {
				if ident.Value == "" {
					continue
				}
				if id, err := tx.CustomerByIdentity(ctx, ident); err == nil {
					rows[i].CustomerID = &id
					break
				}
			}
		}
		return tx.SaveShopOrders(ctx, rows)
	})
}

// Placeholders are the values saved replies can use for a ticket, as
// {{name}} in their text: the customer, the ticket, its store, the agent
// writing, and the customer's latest order there (when the store's order
// lookup answers; order values are empty otherwise).
func (d *Desk) Placeholders(ctx context.Context, ticketID int64, agentName string) (map[string]string, error) {
	t, err := d.db.Ticket(ctx, ticketID)
	if err != nil {
		return nil, err
	}
	c, err := d.db.Customer(ctx, t.CustomerID)
	if err != nil {
		return nil, err
	}
	var st *store.Store
	if t.StoreID != nil {
		if st, err = d.db.Store(ctx, *t.StoreID); err != nil {
			return nil, err
		}
	}
	v := placeholderValues(t, c, st, agentName)
	if st == nil {
		return v, nil
	}
	if list, err := d.ticketOrders(ctx, t, st, c); err == nil && len(list) > 0 {
		o := list[0]
		v["order.number"], v["order.date"] = o.Number, o.CreatedAt.Format("2006-01-02")
		v["order.total"] = strings.TrimSpace(o.Total + " " + o.Currency)
		v["order.payment_status"], v["order.fulfillment_status"] = o.Payment, o.Fulfillment
		if len(o.Tracking) > 0 {
			v["order.tracking_number"], v["order.tracking_url"] = o.Tracking[0].Number, o.Tracking[0].URL
		}
	}
	return v, nil
}

// placeholderValues are the values of placeholders that need no order
// lookup; the order's are empty.
func placeholderValues(t *store.Ticket, c *store.Customer, st *store.Store, agentName string) map[string]string {
	v := map[string]string{
		"ticket.id": strconv.FormatInt(t.ID, 10), "ticket.subject": t.Subject, "ticket.status": t.Status,
		"customer.name": c.Name, "customer.first_name": strings.SplitN(c.Name, " ", 2)[0],
		"customer.email": "", "customer.phone": "", "store.name": "", "agent.name": agentName,
		"agent.first_name": strings.SplitN(agentName, " ", 2)[0],
		"order.number":     "", "order.date": "", "order.total": "", "order.payment_status": "",
		"order.fulfillment_status": "", "order.tracking_number": "", "order.tracking_url": "",
	}
	for _, id := range c.Identities {
		if (id.Kind == "email" || id.Kind == "phone") && v["customer."+id.Kind] == "" {
			v["customer."+id.Kind] = id.Value
		}
	}
	if st != nil {
		v["store.name"] = st.Name
	}
	return v
}

var placeholder = regexp.MustCompile(`\{\{\s*([a-z_.]+)\s*\}\}`)

// FillPlaceholders replaces {{name}} in text with its value; unknown
// names stay as they are, so a typo shows instead of vanishing.
func FillPlaceholders(text string, values map[string]string) string {
	return placeholder.ReplaceAllStringFunc(text, func(m string) string {
		if v, ok := values[placeholder.FindStringSubmatch(m)[1]]; ok {
			return v
		}
		return m
	})
}
