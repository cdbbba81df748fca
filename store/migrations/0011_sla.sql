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

-- A ticket's targets, worked out when it is made and whenever what they
-- depend on changes. sla_due is the next deadline that still matters
-- (first response until answered, then resolution; NULL when none or
-- while the clock is paused), sla_warn when the ticket becomes at risk.
-- resolution_left is the resolution time left (ms, business time when the
-- policy counts business hours) while the clock is paused: pending,
-- resolved or closed. sla_breached: 1 first response, 2 resolution.
ALTER TABLE tickets ADD COLUMN sla_policy_id INTEGER REFERENCES sla_policies (id) ON DELETE SET NULL;
ALTER TABLE tickets ADD COLUMN first_response_due INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_due INTEGER;
ALTER TABLE tickets ADD COLUMN resolution_left INTEGER;
ALTER TABLE tickets ADD COLUMN sla_due INTEGER;
ALTER TABLE tickets ADD COLUMN sla_warn INTEGER;
ALTER TABLE tickets ADD COLUMN sla_breached INTEGER NOT NULL DEFAULT 0;

CREATE INDEX tickets_sla_due ON tickets (sla_due) WHERE sla_due IS NOT NULL;
CREATE INDEX tickets_sla_warn ON tickets (sla_warn) WHERE sla_warn IS NOT NULL;

-- Round robin: new tickets of the team go in turn to its online members
-- with fewer than max_open open tickets (0 = no cap). last_agent_id is
-- whose turn it was last.
ALTER TABLE teams ADD COLUMN assignment TEXT NOT NULL DEFAULT 'manual' CHECK (assignment IN ('manual', 'round_robin'));
ALTER TABLE teams ADD COLUMN max_open INTEGER NOT NULL DEFAULT 0;
ALTER TABLE teams ADD COLUMN last_agent_id INTEGER;
