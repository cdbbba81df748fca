-- The phone of a kept order (E.164 when the desk could read it), so that
-- an order of a customer known only by phone (WhatsApp) is theirs for
-- rules and the revenue-after-support report, as one of their email is.
ALTER TABLE shop_orders ADD COLUMN phone TEXT NOT NULL DEFAULT '';
CREATE INDEX shop_orders_phone ON shop_orders (phone, ordered_at);
