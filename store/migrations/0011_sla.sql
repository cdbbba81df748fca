-- SLA policies and round-robin assignment.

-- A policy gives first-response and resolution targets per priority
-- (targets: {"urgent": {"first_response": 1800, "resolution": 14400}, ...}
-- in seconds), for the tickets that match its optional store, channel and
-- team. The first enabled policy in position order that matches applies.
-- business_hours: targets count only the store's opening hours.
CREATE TABLE sla_policies (
    id             INTEGER PRIMARY KEY,
    name           TEXT    NOT NULL,
    position       INTEGER NOT NULL,
    enabled        INTEGER NOT NULL DEFAULT 1,
    store_id       INTEGER REFERENCES stores (id) ON DELETE CASCADE,
    channel        TEXT,
    team_id        INTEGER REFERENCES teams (id) ON DELETE CASCADE,
    business_hours INTEGER NOT NULL DEFAULT 1,
    targets        TEXT    NOT NULL DEFAULT '{}',
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);

-- A ticket's targets, worked out again whenever what they depend on
-- changes. The resolution clock stops while the ticket waits on the
-- customer (pending) or is resolved: sla_paused_at is since when,
-- sla_paused_ms how much (business) time it stood still before.
-- sla_due is the earliest deadline still running (NULL when none; the
-- inbox's "overdue"), sla_next the earliest whose breach is not yet
-- recorded (what the sweep waits for), sla_warn when the ticket becomes
-- at risk (a quarter of the target left). sla_breached: 1 first
-- response, 2 resolution.
ALTER TABLE tickets ADD COLUMN sla_policy_id INTEGER REFERENCES sla_policies (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN first_response_due INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_due INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused_at INTEGER;
ALTER TABLE tickets ADD COLUMN sla_paused_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tickets ADD COLUMN sla_due INTEGER;
ALTER TABLE tickets ADD COLUMN sla_next INTEGER;
ALTER TABLE tickets ADD COLUMN sla_warn INTEGER;
ALTER TABLE tickets ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;

CREATE INDEX tickets_sla_due ON tickets (sla_due) WHERE sla_due IS NOT NULL;
CREATE INDEX tickets_sla_next ON tickets (sla_next) WHERE sla_next IS NOT NULL;
CREATE INDEX tickets_sla_warn ON tickets (sla_warn) WHERE sla_warn IS NOT NULL;

-- Round robin: new tickets of the team go in turn to its online members
-- with fewer than max_open open tickets (0 = no cap). last_agent_id is
-- whose turn it was last.
ALTER TABLE teams ADD COLUMN assignment TEXT NOT NULL DEFAULT 'manual' CHECK (assignment IN ('manual', 'round_robin'));
ALTER TABLE teams ADD COLUMN max_open INTEGER NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN last_agent_id INTEGER;

-- Rules may also run when a ticket's SLA is at risk or breached. SQLite
-- cannot change a CHECK, so the rules table is made again; rule_runs,
-- which refers to it, is set aside meanwhile so nothing cascades.
CREATE TABLE rule_runs_keep AS SELECT * FROM rule_runs;
DROP TABLE rule_runs;
CREATE TABLE rules_new (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    trigger     TEXT    NOT NULL CHECK (trigger IN ('created', 'customer_replied', 'updated', 'time', 'sla_at_risk', 'sla_breached')),
    match       TEXT    NOT NULL DEFAULT 'all' CHECK (match IN ('all', 'any')),
    conditions  TEXT    NOT NULL DEFAULT '[]',
    actions     TEXT    NOT NULL DEFAULT '[]',
    enabled     INTEGER NOT NULL DEFAULT 1,
    position    INTEGER NOT NULL,
    swept_to    INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
INSERT INTO rules_new SELECT id, name, trigger, match, conditions, actions, enabled, position, swept_to, created_at, updated_at FROM rules;
DROP TABLE rules;
ALTER TABLE rules_new RENAME TO rules;
CREATE TABLE rule_runs (
    rule_id   INTEGER NOT NULL REFERENCES rules (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    at        INTEGER NOT NULL,
    PRIMARY KEY (rule_id, ticket_id)
) WITHOUT ROWID;
INSERT INTO rule_runs SELECT rule_id, ticket_id, at FROM rule_runs_keep;
DROP TABLE rule_runs_keep;
