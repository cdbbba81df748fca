-- Outgoing webhooks: JSON posted to an integration's URL, signed with
-- the webhook's secret, for ticket and message events and rule actions.

-- events: a JSON list of ticket.created, ticket.updated, message.created.
-- last_status is the outcome of the latest attempt: '' (none yet), 'ok'
-- or 'failed'.
CREATE TABLE webhooks (
    id               INTEGER PRIMARY KEY,
    name             TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    events           TEXT    NOT NULL DEFAULT '[]',
    enabled          INTEGER NOT NULL DEFAULT 1,
    secret           TEXT    NOT NULL,
    last_status      TEXT    NOT NULL DEFAULT '',
    last_error       TEXT    NOT NULL DEFAULT '',
    last_delivery_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
);

-- One post to one webhook, kept until it is delivered or has failed for
-- good (and for a while after, to show). payload names what the body is
-- made of when it is sent ({"event_id": N}, {"message_id": N}, a rule):
-- small rows, whatever the size of the ticket. A webhook's queued
-- deliveries go out in id order: the oldest one waits for next_attempt_at
-- and the rest wait behind it.
CREATE TABLE webhook_deliveries (
    id              INTEGER PRIMARY KEY,
    webhook_id      INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    event           TEXT    NOT NULL,
    ticket_id       INTEGER,
    payload         TEXT    NOT NULL DEFAULT '{}',
    status          TEXT    NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    response_code   INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX webhook_deliveries_queued ON webhook_deliveries (webhook_id, id) WHERE status = 'queued';
CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id DESC);
CREATE INDEX webhook_deliveries_finished ON webhook_deliveries (finished_at) WHERE finished_at IS NOT NULL;

-- How far the webhook dispatcher has turned ticket events and messages
-- into deliveries (their ids grow: one writer, rows never deleted). It
-- starts at what exists now: history is not posted.
CREATE TABLE webhook_cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    event_id   INTEGER NOT NULL,
    message_id INTEGER NOT NULL
);
INSERT INTO webhook_cursor (id, event_id, message_id)
VALUES (1, (SELECT COALESCE(max(id), 0) FROM ticket_events), (SELECT COALESCE(max(id), 0) FROM messages));
