-- What the reports read. Both tables are worked out from the messages and
-- ticket events by desk.RefreshReports, which reads them through two
-- cursors (settings report_events and report_messages); emptying both
-- tables and the cursors builds them again from the history.

-- One row per ticket, written again from its messages and events each
-- time either changes. Ids of none are 0, so that filters are plain.
CREATE TABLE report_tickets (
    ticket_id           INTEGER PRIMARY KEY,
    created_at          INTEGER NOT NULL,
    status              TEXT    NOT NULL,
    channel             TEXT    NOT NULL,
    store_id            INTEGER NOT NULL,
    team_id             INTEGER NOT NULL,
    agent_id            INTEGER NOT NULL,
    tags                TEXT    NOT NULL,
    first_response_s    INTEGER,          -- first human reply, calendar time
    first_response_bh_s INTEGER,          -- the same in the store's opening hours
    resolved_at         INTEGER,          -- the last resolution, while resolved or closed
    resolution_s        INTEGER,
    resolution_bh_s     INTEGER,
    replies             INTEGER NOT NULL, -- human replies to the customer
    reopens             INTEGER NOT NULL,
    sla_first_response  INTEGER,          -- 1 met, 0 missed, NULL no target or not yet known
    sla_resolution      INTEGER
);
CREATE INDEX report_tickets_created ON report_tickets
    (created_at, store_id, channel, team_id, agent_id, first_response_s, first_response_bh_s, sla_first_response);
CREATE INDEX report_tickets_resolved ON report_tickets
    (resolved_at, store_id, channel, team_id, agent_id, resolution_s, resolution_bh_s, replies, reopens, sla_resolution)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX report_tickets_open ON report_tickets (agent_id, store_id, channel, team_id)
    WHERE status IN ('new', 'open', 'pending');

-- Counts per UTC hour and the ticket's store, channel, team and agent at
-- the time. Tag '' counts every ticket; a row with a tag, that tag's.
-- "resolved" is a ticket leaving the backlog (to resolved or closed),
-- "reopened" one coming back, so the backlog moves by
-- created - resolved + reopened.
CREATE TABLE report_hours (
    tag          TEXT    NOT NULL,
    hour         INTEGER NOT NULL, -- unix seconds / 3600
    store_id     INTEGER NOT NULL,
    channel      TEXT    NOT NULL,
    team_id      INTEGER NOT NULL,
    agent_id     INTEGER NOT NULL,
    created      INTEGER NOT NULL DEFAULT 0,
    resolved     INTEGER NOT NULL DEFAULT 0,
    reopened     INTEGER NOT NULL DEFAULT 0,
    messages_in  INTEGER NOT NULL DEFAULT 0,
    messages_out INTEGER NOT NULL DEFAULT 0,
    breaches     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (tag, hour, store_id, channel, team_id, agent_id)
) WITHOUT ROWID;

-- Tickets whose report row is to be written again: while the refresh is
-- far behind (a database from before reports) it notes them here and
-- writes each once when it has caught up, instead of once per batch.
CREATE TABLE report_dirty (ticket_id INTEGER PRIMARY KEY);
