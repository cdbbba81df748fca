-- 0047 on PostgreSQL: as SQLite's (BIGINT for every integer).
-- An order action is marked sent just before the shop is asked, with the
-- request a platform can send again under the same idempotency key
-- (Shopify's refunds), so that the sweep after a crash knows whether the
-- shop may have acted, and how to find out without acting twice (#28).
-- status gains 'unknown': the shop may have done it; check there.
ALTER TABLE order_actions ADD COLUMN sent_at BIGINT;
ALTER TABLE order_actions ADD COLUMN request TEXT NOT NULL DEFAULT '';
CREATE INDEX order_actions_pending ON order_actions (created_at) WHERE status = 'pending';
