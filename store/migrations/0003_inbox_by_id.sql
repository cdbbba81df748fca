-- 0003: "newest" and "oldest" inbox sorts are by id (ids grow with time):
-- each filter gets an index in id order beside its updated_at one, so
-- those views are range scans too.

CREATE INDEX tickets_status_id   ON tickets (status, id);
CREATE INDEX tickets_assignee_id ON tickets (assignee_id, status, id);
CREATE INDEX tickets_team_id     ON tickets (team_id, status, id);
CREATE INDEX tickets_store_id    ON tickets (store_id, status, id);
