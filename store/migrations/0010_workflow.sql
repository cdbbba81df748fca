-- Team workflow: rules that act on tickets, and saved replies.

-- A rule acts when its trigger fires and its conditions hold. Conditions
-- and actions are JSON lists (checked by the desk); rules run in position
-- order. swept_to is how far the sweep of a time rule has looked.
CREATE TABLE rules (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    trigger     TEXT    NOT NULL CHECK (trigger IN ('created', 'customer_replied', 'updated', 'time')),
    match       TEXT    NOT NULL DEFAULT 'all' CHECK (match IN ('all', 'any')),
    conditions  TEXT    NOT NULL DEFAULT '[]',
    actions     TEXT    NOT NULL DEFAULT '[]',
    enabled     INTEGER NOT NULL DEFAULT 1,
    position    INTEGER NOT NULL,
    swept_to    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- When a rule last acted on a ticket: an automatic reply goes at most once
-- per ticket and rule, and a time rule acts again only after the ticket
-- changed.
CREATE TABLE rule_runs (
    rule_id   INTEGER NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        INTEGER NOT NULL,
    PRIMARY KEY (rule_id, ticket_id)
) WITHOUT ROWID;

-- Tickets by when they were last answered and when they were made, for
-- time rules ("unanswered for 2 hours", "created 3 days ago").
CREATE INDEX tickets_status_created ON tickets (status, created_at);

-- Texts agents insert with "/" in the reply box; shared, or for one
-- store or one team. uses counts insertions.
CREATE TABLE saved_replies (
    id          INTEGER PRIMARY KEY,
    title       TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    store_id    INTEGER REFERENCES stores (id) ON DELETE CASCADE,
    team_id     INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    uses        INTEGER NOT NULL DEFAULT 0,
    created_by  INTEGER REFERENCES agents (id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
