-- 0016: what keeps reports quick over a long history. Everything here is
-- worked out from report_tickets and report_hours (migration 0013), so it
-- can always be made again from them; the refresh keeps it as it keeps
-- them.

-- report_hours summed over all but one key, for reports with no filter or
-- one (dim '' and value '' sum everything). value is a store, team or
-- agent id, or a channel: no type, so each keeps its own.
CREATE TABLE report_hours_by (
    dim          TEXT    NOT NULL,
    value                NOT NULL,
    hour         INTEGER NOT NULL,
    created      INTEGER NOT NULL DEFAULT 0,
    resolved     INTEGER NOT NULL DEFAULT 0,
    reopened     INTEGER NOT NULL DEFAULT 0,
    messages_in  INTEGER NOT NULL DEFAULT 0,
    messages_out INTEGER NOT NULL DEFAULT 0,
    breaches     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, value, hour)
) WITHOUT ROWID;

-- report_hours per UTC day, by one key (dim, value) within one filter
-- (fdim, fvalue; '' and '' for none): the tables of a report by channel,
-- store, team or agent read a row per day and value, and the hours at the
-- ends of a period that are not whole UTC days from report_hours.
CREATE TABLE report_days_by (
    fdim         TEXT    NOT NULL,
    fvalue               NOT NULL,
    dim          TEXT    NOT NULL,
    value                NOT NULL,
    day          INTEGER NOT NULL, -- unix seconds / 86400
    created      INTEGER NOT NULL DEFAULT 0,
    resolved     INTEGER NOT NULL DEFAULT 0,
    reopened     INTEGER NOT NULL DEFAULT 0,
    messages_in  INTEGER NOT NULL DEFAULT 0,
    messages_out INTEGER NOT NULL DEFAULT 0,
    breaches     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (fdim, fvalue, dim, value, day)
) WITHOUT ROWID;

-- report_tickets packed per UTC day of creation and of resolution, so a
-- report reads a row a day instead of a row a ticket. Written again when
-- a ticket of that day changes (report_pack_dirty lists those days).
CREATE TABLE report_packs (
    kind TEXT    NOT NULL CHECK (kind IN ('created', 'resolved')),
    day  INTEGER NOT NULL,
    data BLOB    NOT NULL,
    PRIMARY KEY (kind, day)
) WITHOUT ROWID;
CREATE TABLE report_pack_dirty (
    kind TEXT    NOT NULL,
    day  INTEGER NOT NULL,
    PRIMARY KEY (kind, day)
) WITHOUT ROWID;

-- The tags of report_tickets, for counting the open tickets with a tag.
CREATE TABLE report_ticket_tags (
    tag       TEXT    NOT NULL,
    ticket_id INTEGER NOT NULL,
    PRIMARY KEY (tag, ticket_id)
) WITHOUT ROWID;

-- From what is counted already.
INSERT INTO report_ticket_tags (tag, ticket_id)
SELECT DISTINCT j.value, t.ticket_id FROM report_tickets t, json_each(t.tags) j;

INSERT INTO report_pack_dirty (kind, day)
SELECT DISTINCT 'created', (created_at - ((created_at % 86400000) + 86400000) % 86400000) / 86400000 FROM report_tickets;
INSERT OR IGNORE INTO report_pack_dirty (kind, day)
SELECT DISTINCT 'resolved', (resolved_at - ((resolved_at % 86400000) + 86400000) % 86400000) / 86400000
  FROM report_tickets WHERE resolved_at IS NOT NULL;

INSERT INTO report_hours_by
SELECT '', '', hour, sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)
  FROM report_hours WHERE tag = '' GROUP BY hour;
INSERT INTO report_hours_by
SELECT 'store', store_id, hour, sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)
  FROM report_hours WHERE tag = '' GROUP BY store_id, hour;
INSERT INTO report_hours_by
SELECT 'channel', channel, hour, sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)
  FROM report_hours WHERE tag = '' GROUP BY channel, hour;
INSERT INTO report_hours_by
SELECT 'team', team_id, hour, sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)
  FROM report_hours WHERE tag = '' GROUP BY team_id, hour;
INSERT INTO report_hours_by
SELECT 'agent', agent_id, hour, sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)
  FROM report_hours WHERE tag = '' GROUP BY agent_id, hour;

-- Days first, by every key, then each filter and key from them.
CREATE TABLE report_days_all AS
SELECT (hour - ((hour % 24) + 24) % 24) / 24 AS day, store_id, channel, team_id, agent_id,
       sum(created) AS created, sum(resolved) AS resolved, sum(reopened) AS reopened,
       sum(messages_in) AS messages_in, sum(messages_out) AS messages_out, sum(breaches) AS breaches
  FROM report_hours WHERE tag = '' GROUP BY 1, 2, 3, 4, 5;

INSERT INTO report_days_by
SELECT fd.fdim,
       CASE fd.fdim WHEN 'store' THEN d.store_id WHEN 'channel' THEN d.channel
            WHEN 'team' THEN d.team_id WHEN 'agent' THEN d.agent_id ELSE '' END,
       bd.dim,
       CASE bd.dim WHEN 'store' THEN d.store_id WHEN 'channel' THEN d.channel
            WHEN 'team' THEN d.team_id ELSE d.agent_id END,
       d.day, sum(created), sum(resolved), sum(reopened), sum(messages_in), sum(messages_out), sum(breaches)
  FROM report_days_all d,
       (SELECT '' AS fdim UNION ALL SELECT 'store' UNION ALL SELECT 'channel' UNION ALL SELECT 'team' UNION ALL SELECT 'agent') fd,
       (SELECT 'store' AS dim UNION ALL SELECT 'channel' UNION ALL SELECT 'team' UNION ALL SELECT 'agent') bd
 WHERE fd.fdim <> bd.dim
 GROUP BY 1, 2, 3, 4, 5;

DROP TABLE report_days_all;
