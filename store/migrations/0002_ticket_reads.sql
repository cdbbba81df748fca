-- 0002: when each agent last looked at a ticket, for the inbox's unread state.

CREATE TABLE ticket_reads (
    agent_id  INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    ticket_id INTEGER NOT NULL REFERENCES tickets (id),
    read_at   INTEGER NOT NULL,
    PRIMARY KEY (agent_id, ticket_id)
) WITHOUT ROWID;
