-- Order actions from tickets, the local table of shop orders, and
-- permissions granted to one agent beyond their role (#28).

-- An action on a shop order taken from a ticket: one row per
-- confirmation, whose idempotency key is unique, so a double click or a
-- retried request acts once. status: pending, done, refused (the
-- platform said no: message is its sentence), failed.
CREATE TABLE order_actions (
    id              INTEGER PRIMARY KEY,
    ticket_id       INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    store_id        INTEGER NOT NULL,
    order_number    TEXT    NOT NULL,
    action          TEXT    NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    agent_id        INTEGER,
    params          TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL DEFAULT 'pending',
    message         TEXT    NOT NULL DEFAULT '',
    outcome         TEXT    NOT NULL DEFAULT '{}',
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX order_actions_ticket ON order_actions (ticket_id, id);

-- Shop orders as last seen (by a lookup beside a ticket, or a platform's
-- order webhook): rules read a customer's latest order here, inside the
-- ingest transaction, without asking the shop; the revenue-after-support
-- report counts them. customer_id is ours, when the order's email or
-- phone is a customer's identity.
CREATE TABLE shop_orders (
    store_id           INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    order_id           TEXT    NOT NULL,
    number             TEXT    NOT NULL,
    email              TEXT    NOT NULL DEFAULT '',
    customer_id        INTEGER REFERENCES customers (id) ON DELETE SET NULL,
    ordered_at         INTEGER NOT NULL,
    total              REAL    NOT NULL DEFAULT 0,
    currency           TEXT    NOT NULL DEFAULT '',
    financial_status   TEXT    NOT NULL DEFAULT '',
    fulfillment_status TEXT    NOT NULL DEFAULT '',
    cancelled          INTEGER NOT NULL DEFAULT 0,
    tags               TEXT    NOT NULL DEFAULT '[]',
    country            TEXT    NOT NULL DEFAULT '',
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (store_id, order_id)
);
CREATE INDEX shop_orders_customer ON shop_orders (customer_id, ordered_at);
CREATE INDEX shop_orders_email ON shop_orders (email, ordered_at);
CREATE INDEX shop_orders_ordered ON shop_orders (ordered_at);

-- A permission one agent has beyond their role ("order_actions" for an
-- agent the admin trusts with refunds).
CREATE TABLE agent_grants (
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    permission TEXT    NOT NULL,
    PRIMARY KEY (agent_id, permission)
);
