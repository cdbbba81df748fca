-- Macros (issue #28): one click applies a reply, ticket changes and
-- optionally an order action. owner_id NULL: shared (with everyone, or
-- the agents of team_id); else the owner's personal macro.
CREATE TABLE macros (
    id           INTEGER PRIMARY KEY,
    name         TEXT    NOT NULL,
    owner_id     INTEGER REFERENCES agents (id) ON DELETE CASCADE,
    team_id      INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    reply        TEXT    NOT NULL DEFAULT '',
    send_reply   INTEGER NOT NULL DEFAULT 0,
    status       TEXT    NOT NULL DEFAULT '',
    priority     TEXT    NOT NULL DEFAULT '',
    add_tags     TEXT    NOT NULL DEFAULT '[]',
    remove_tags  TEXT    NOT NULL DEFAULT '[]',
    assign_to    TEXT    NOT NULL DEFAULT '',
    set_team_id  INTEGER REFERENCES teams (id) ON DELETE SET NULL,
    order_action TEXT    NOT NULL DEFAULT '',
    created_by   INTEGER,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX macros_owner ON macros (owner_id);
-- How often each agent applied each macro: their most used come first.
CREATE TABLE macro_uses (
    macro_id INTEGER NOT NULL REFERENCES macros (id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    uses     INTEGER NOT NULL DEFAULT 0,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (macro_id, agent_id)
);
-- A snoozed ticket sleeps (pending) until wake_at, or until the customer
-- writes when wake_at is NULL; a customer message wakes it either way.
CREATE TABLE snoozes (
    ticket_id  INTEGER PRIMARY KEY REFERENCES tickets (id) ON DELETE CASCADE,
    wake_at    INTEGER,
    actor      TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX snoozes_wake ON snoozes (wake_at) WHERE wake_at IS NOT NULL;
-- A scheduled reply waits in the outbox until scheduled_at (its
-- next_attempt_at); the column stays to show when it was meant to go.
ALTER TABLE messages ADD COLUMN scheduled_at INTEGER;
