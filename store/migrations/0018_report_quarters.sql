-- 0018: counts per quarter hour instead of per hour, so that the days of a
-- time zone a half or three quarters of an hour off UTC (India, Nepal,
-- Newfoundland, South Australia...) start where they start, and its
-- hours of the week are its own. Every zone's offset is whole quarters.
--
-- Counts made before this version do not know their minute: they go to
-- the first quarter of their hour, as exact as they were for whole-hour
-- zones and cut at the hour for the others, as before.

CREATE TABLE report_quarters (
    tag          TEXT    NOT NULL,
    quarter      INTEGER NOT NULL, -- unix seconds / 900
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
    PRIMARY KEY (tag, quarter, store_id, channel, team_id, agent_id)
) WITHOUT ROWID;
INSERT INTO report_quarters
SELECT tag, hour * 4, store_id, channel, team_id, agent_id,
       created, resolved, reopened, messages_in, messages_out, breaches
  FROM report_hours ORDER BY tag, hour, store_id, channel, team_id, agent_id;
DROP TABLE report_hours;

CREATE TABLE report_quarters_by (
    dim          TEXT    NOT NULL,
    value                NOT NULL,
    quarter      INTEGER NOT NULL,
    created      INTEGER NOT NULL DEFAULT 0,
    resolved     INTEGER NOT NULL DEFAULT 0,
    reopened     INTEGER NOT NULL DEFAULT 0,
    messages_in  INTEGER NOT NULL DEFAULT 0,
    messages_out INTEGER NOT NULL DEFAULT 0,
    breaches     INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (dim, value, quarter)
) WITHOUT ROWID;
INSERT INTO report_quarters_by
SELECT dim, value, hour * 4, created, resolved, reopened, messages_in, messages_out, breaches
  FROM report_hours_by ORDER BY dim, value, hour;
DROP TABLE report_hours_by;
