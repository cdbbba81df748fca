-- Notifications (#29): Web Push to the agents' devices, their
-- preferences, and the email digest of what they missed while away.
-- The desk's own VAPID key pair, made on first start; the private key is
-- sealed (secrets.go). One row: the first node to make one wins.
CREATE TABLE vapid_keys (
    id          INTEGER PRIMARY KEY CHECK (id = 1),
    public_key  TEXT    NOT NULL,
    private_key TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
-- A device (a browser's push subscription) of an agent.
CREATE TABLE push_subscriptions (
    id           INTEGER PRIMARY KEY,
    agent_id     INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    endpoint     TEXT    NOT NULL UNIQUE,
    p256dh       TEXT    NOT NULL,
    auth         TEXT    NOT NULL,
    device       TEXT    NOT NULL DEFAULT '',
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    last_error   TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX push_subscriptions_agent ON push_subscriptions (agent_id);
-- An agent's preferences, as JSON (notify.Prefs); no row: the defaults.
CREATE TABLE notify_prefs (
    agent_id   INTEGER PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    prefs      TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
);
-- How far the notifier has read the ticket events and messages; it
-- starts at the present, so an upgraded desk does not notify its past.
CREATE TABLE notify_cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    event_id   INTEGER NOT NULL,
    message_id INTEGER NOT NULL
);
INSERT INTO notify_cursor (id, event_id, message_id) VALUES (1,
    (SELECT COALESCE(max(id), 0) FROM ticket_events), (SELECT COALESCE(max(id), 0) FROM messages));
-- What is not an event or a message (an SLA about to breach), written in
-- the transaction that found it, read once by the notifier.
CREATE TABLE notify_signals (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    ticket_id  INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
-- Push messages to send, one per device (ticket_id: what it is about,
-- for an erasure).
CREATE TABLE push_queue (
    id              INTEGER PRIMARY KEY,
    subscription_id INTEGER NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    ticket_id       INTEGER,
    payload         TEXT    NOT NULL,
    topic           TEXT    NOT NULL DEFAULT '',
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX push_queue_due ON push_queue (next_attempt_at);
-- What waits for an agent's email digest.
CREATE TABLE notify_mail (
    id         INTEGER PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    kind       TEXT    NOT NULL,
    ticket_id  INTEGER NOT NULL,
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    due_at     INTEGER NOT NULL
);
CREATE INDEX notify_mail_due ON notify_mail (due_at);
CREATE INDEX notify_mail_agent ON notify_mail (agent_id);
