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
