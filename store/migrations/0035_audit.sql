-- The audit log (#25): who did what to the desk's settings and accounts,
-- when and from where. Ticket work stays in ticket_events. Append-only:
-- the triggers refuse changes and deletions. actor_id and token_id name no
-- foreign key: the log outlives the agents and tokens it names, and keeps
-- their name as it was (actor_name).
CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    actor_kind TEXT    NOT NULL, -- agent, token, system or anonymous (a failed login)
    actor_id   INTEGER,
    actor_name TEXT    NOT NULL DEFAULT '',
    token_id   INTEGER,
    kind       TEXT    NOT NULL, -- login, login_failed, agent.updated, customer.erased...
    target     TEXT    NOT NULL DEFAULT '', -- what it was done to: "agent:5", "mailbox:2"
    data       TEXT    NOT NULL DEFAULT '{}', -- fields changed, reasons, counts; never secrets
    ip         TEXT    NOT NULL DEFAULT '',
    user_agent TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at    ON audit_log (at, id);
CREATE INDEX audit_log_actor ON audit_log (actor_id, at, id);
CREATE INDEX audit_log_kind  ON audit_log (kind, at, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;

-- Deleting tickets and files (the retention rule, an erasure) checks each
-- foreign key that names them: without these, every deleted ticket read
-- the whole tickets table for merged_into (15 s for 100 tickets at
-- 100,000), and every deleted file the whole messages table.
CREATE INDEX tickets_merged_into ON tickets (merged_into) WHERE merged_into IS NOT NULL;
CREATE INDEX ticket_reads_ticket ON ticket_reads (ticket_id);
CREATE INDEX rule_runs_ticket    ON rule_runs (ticket_id);
CREATE INDEX attachments_sha256  ON attachments (sha256);
CREATE INDEX messages_raw        ON messages (raw_sha256) WHERE raw_sha256 IS NOT NULL;
