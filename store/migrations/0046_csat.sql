-- Satisfaction surveys (csat package): one row per ticket resolution
-- asked about. A row is "scheduled" until its due time, then "sent" (a
-- message with auto = 'csat' is in the outbox), "rated" once the customer
-- answers, or "skipped" (the ticket was reopened, no way to reach the
-- customer) with the reason. store_id, agent_id, team_id and channel are
-- the ticket's when it was resolved: the report counts a rating for
-- whoever solved it, even if the ticket moves later. rating is 1-5; a
-- thumbs up is 5 and down 1 (scale says which the customer saw).
CREATE TABLE csat_surveys (
    id           INTEGER PRIMARY KEY,
    ticket_id    INTEGER NOT NULL REFERENCES tickets (id) ON DELETE CASCADE,
    store_id     INTEGER,
    agent_id     INTEGER,
    team_id      INTEGER,
    channel      TEXT    NOT NULL,
    asked_via    TEXT    NOT NULL DEFAULT '',
    scale        TEXT    NOT NULL,
    status       TEXT    NOT NULL,
    skip_reason  TEXT    NOT NULL DEFAULT '',
    message_id   INTEGER,
    due_at       INTEGER NOT NULL,
    sent_at      INTEGER,
    rating       INTEGER,
    comment      TEXT    NOT NULL DEFAULT '',
    rated_at     INTEGER,
    commented_at INTEGER,
    created_at   INTEGER NOT NULL
);
CREATE INDEX csat_surveys_due ON csat_surveys (due_at) WHERE status = 'scheduled';
CREATE INDEX csat_surveys_ticket ON csat_surveys (ticket_id, id);
CREATE INDEX csat_surveys_sent ON csat_surveys (sent_at) WHERE sent_at IS NOT NULL;
CREATE INDEX csat_surveys_message ON csat_surveys (message_id) WHERE message_id IS NOT NULL;

-- Rules may also run when a customer rates a ticket ("rated"). As in
-- 0011, SQLite cannot change a CHECK: the rules table is made again, with
-- rule_runs set aside meanwhile so nothing cascades.
CREATE TABLE rule_runs_keep AS SELECT * FROM rule_runs;
DROP TABLE rule_runs;
CREATE TABLE rules_new (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL,
    trigger     TEXT    NOT NULL CHECK (trigger IN ('created', 'customer_replied', 'updated', 'time', 'sla_at_risk', 'sla_breached', 'rated')),
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
CREATE INDEX rule_runs_ticket ON rule_runs (ticket_id);
