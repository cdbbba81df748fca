package ui

import (
	"errors"
	"strings"

	"github.com/gofiber/fiber/v2"

	"onedesk/desk"
	"onedesk/i18n"
	"onedesk/orderact"
	"onedesk/orders"
)

// orderActionBody is an order action asked for from the order panel:
// {"order": "#1001", "action": "refund", "params": {...}, "key": "..."}
// (the key is the preview's, so a double click acts once).
type orderActionBody struct {
	Order  string         `json:"order"`
	Action string         `json:"action"`
	Params map[string]any `json:"params"`
	Key    string         `json:"key"`
}

// orderRequest reads an order action's request: the ticket of the path
// and the body.
func orderRequest(c *fiber.Ctx, p *principal) (orderact.Request, error) {
	ticketID, err := paramID(c)
	if err != nil {
		return orderact.Request{}, err
	}
	var b orderActionBody
	if err := decode(c, &b); err != nil {
		return orderact.Request{}, err
	}
	if b.Action == "" {
		return orderact.Request{}, fieldErr("action", "name the action")
	}
	params, err := orders.ParamsFrom(b.Params)
	if err != nil {
		return orderact.Request{}, fieldErr("params", "the action's choices are not valid: %s", err.Error())
	}
	return orderact.Request{TicketID: ticketID, AgentID: p.agent.ID, Order: b.Order, Action: b.Action, Params: params, Key: b.Key}, nil
}

// previewOrderAction answers what an action would do in money, and the
// key its confirmation sends back.
func (s *Server) previewOrderAction(c *fiber.Ctx, p *principal) error {
	r, err := orderRequest(c, p)
	if err != nil {
		return err
	}
	pv, err := s.opts.OrderActions.Preview(c.UserContext(), r)
	if err != nil {
		return orderActionErr(err)
	}
	return c.JSON(pv)
}

// takeOrderAction does a confirmed action: 200 with its result, whose
// status is done, or refused with the platform's own sentence in
// message (a 422, so that the app shows it as the refusal it is).
func (s *Server) takeOrderAction(c *fiber.Ctx, p *principal) error {
	r, err := orderRequest(c, p)
	if err != nil {
		return err
	}
	res, err := s.opts.OrderActions.Act(c.UserContext(), r)
	if err != nil {
		return orderActionErr(err)
	}
	if res.Status == "refused" {
		return c.Status(fiber.StatusUnprocessableEntity).JSON(fiber.Map{"error": res.Message, "result": res})
	}
	return c.JSON(res)
}

// orderActionHistory lists the ticket's order actions, newest first.
func (s *Server) orderActionHistory(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	list, err := s.opts.OrderActions.History(c.UserContext(), id)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": list})
}

// orderActionErr says a shop's failure (502) and a missing permission
// (403) as such; the rest as any error.
func orderActionErr(err error) error {
	var oe *orders.Error
	switch {
	case errors.Is(err, orderact.ErrNotAllowed):
		return &apiError{Status: fiber.StatusForbidden, Message: err.Error(), Sentence: i18n.SentenceOf(err)}
	case errors.Is(err, desk.ErrNoOrders):
		return apiErr(fiber.StatusConflict, "", "this store has no shop platform to act on orders: set one in Settings, the store, Shop platform")
	case errors.As(err, &oe):
		return &apiError{Status: fiber.StatusBadGateway, Message: oe.Message, Sentence: oe.Sentence()}
	}
	return err
}

// orderWebhook takes a shop's order webhook for a store (Shopify's
// orders/* topics, WooCommerce's order.*), signed with the store's
// webhook secret, and keeps the order for rules and reports. Anything
// unsigned, or signed with another secret, is refused; WooCommerce's
// ping when a webhook is made is answered.
func (s *Server) orderWebhook(c *fiber.Ctx, _ *principal) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	st, err := s.db.Store(c.UserContext(), id)
	if err != nil || st.Orders.WebhookSecret == "" {
		return apiErr(fiber.StatusNotFound, "", "no order webhook is set up here")
	}
	body := c.Body()
	var o orders.Order
	if st.Orders.Platform == "woocommerce" {
		if !orders.SignatureOK(body, st.Orders.WebhookSecret, c.Get("X-WC-Webhook-Signature")) {
			if c.Get("X-WC-Webhook-Signature") == "" && strings.HasPrefix(string(body), "webhook_id=") {
				return c.SendStatus(fiber.StatusOK) // the ping of a webhook being made
			}
			return apiErr(fiber.StatusUnauthorized, "", "the webhook's signature does not match the store's webhook secret")
		}
		// A deleted order's body carries its id alone: kept as it was,
		// and answered 200 so that WooCommerce does not send it again.
		if topic := c.Get("X-WC-Webhook-Topic"); topic != "" && (!strings.HasPrefix(topic, "order.") || topic == "order.deleted") {
			return c.SendStatus(fiber.StatusOK)
		}
		o, err = orders.WooWebhookOrder(body)
	} else {
		if !orders.SignatureOK(body, st.Orders.WebhookSecret, c.Get("X-Shopify-Hmac-Sha256")) {
			return apiErr(fiber.StatusUnauthorized, "", "the webhook's signature does not match the store's webhook secret")
		}
		// orders/delete carries the id alone: nothing to keep, and a 400
		// would have Shopify send it again for days.
		if topic := c.Get("X-Shopify-Topic"); !strings.HasPrefix(topic, "orders/") || topic == "orders/delete" {
			return c.SendStatus(fiber.StatusOK) // a topic of no interest here
		}
		o, err = orders.ShopifyWebhookOrder(body)
	}
	if err != nil {
		return apiErr(fiber.StatusBadRequest, "", "the webhook's body is not an order")
	}
	if err := s.desk.KeepOrders(c.UserContext(), st.ID, nil, []orders.Order{o}); err != nil {
		return err
	}
	return c.SendStatus(fiber.StatusOK)
}
