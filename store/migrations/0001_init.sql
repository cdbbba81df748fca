-- 0001: the foundation schema. Times are UTC unix milliseconds.

CREATE TABLE agents (
    id            INTEGER PRIMARY KEY,
    email         TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name          TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,
    role          TEXT    NOT NULL CHECK (role IN ('admin', 'agent')),
    active        INTEGER NOT NULL DEFAULT 1,
    language      TEXT    NOT NULL DEFAULT 'en',
    timezone      TEXT    NOT NULL DEFAULT 'UTC',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE teams (
    id         INTEGER PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    created_at INTEGER NOT NULL
);

CREATE TABLE team_members (
    team_id  INTEGER NOT NULL REFERENCES teams (id) ON DELETE CASCADE,
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, agent_id)
);

CREATE TABLE stores (
    id              INTEGER PRIMARY KEY,
    name            TEXT    NOT NULL,
    slug            TEXT    NOT NULL UNIQUE,
    language        TEXT    NOT NULL DEFAULT 'en',
    timezone        TEXT    NOT NULL DEFAULT 'UTC',
    allowed_origins TEXT    NOT NULL DEFAULT '[]', -- JSON array of origins
    created_at      INTEGER NOT NULL
);

CREATE TABLE customers (
    id          INTEGER PRIMARY KEY,
    name        TEXT    NOT NULL DEFAULT '',
    merged_into INTEGER REFERENCES customers (id),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

-- One identifier belongs to one customer: the value is stored normalized
-- (emails case-folded, phones E.164), so the unique key does the matching.
CREATE TABLE identities (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('email', 'phone', 'telegram', 'whatsapp', 'instagram', 'visitor')),
    value       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    UNIQUE (kind, value)
);
CREATE INDEX identities_customer ON identities (customer_id);

CREATE TABLE tickets (
    id                INTEGER PRIMARY KEY,
    subject           TEXT    NOT NULL,
    status            TEXT    NOT NULL CHECK (status IN ('new', 'open', 'pending', 'resolved', 'closed')),
    priority          TEXT    NOT NULL DEFAULT 'normal' CHECK (priority IN ('low', 'normal', 'high', 'urgent')),
    channel           TEXT    NOT NULL,
    store_id          INTEGER REFERENCES stores (id),
    customer_id       INTEGER NOT NULL REFERENCES customers (id),
    assignee_id       INTEGER REFERENCES agents (id),
    team_id           INTEGER REFERENCES teams (id),
    tags              TEXT    NOT NULL DEFAULT '[]', -- JSON array, sorted
    fields            TEXT    NOT NULL DEFAULT '{}', -- JSON object (form fields)
    snippet           TEXT    NOT NULL DEFAULT '',   -- start of the last public message
    created_at        INTEGER NOT NULL,
    updated_at        INTEGER NOT NULL,
    -- What reports need, kept as the ticket moves:
    first_response_at INTEGER,
    resolved_at       INTEGER,
    last_customer_at  INTEGER,
    last_agent_at     INTEGER
);
-- The inbox reads one status at a time, newest activity first (several
-- statuses are merged from one range scan each); the other filters lead
-- their own index so that each view is a range scan, never a sort.
CREATE INDEX tickets_status_updated   ON tickets (status, updated_at DESC, id DESC);
CREATE INDEX tickets_assignee_updated ON tickets (assignee_id, status, updated_at DESC, id DESC);
CREATE INDEX tickets_team_updated     ON tickets (team_id, status, updated_at DESC, id DESC);
CREATE INDEX tickets_store_updated    ON tickets (store_id, status, updated_at DESC, id DESC);
CREATE INDEX tickets_status_customer  ON tickets (status, last_customer_at DESC, id DESC);
CREATE INDEX tickets_customer         ON tickets (customer_id, updated_at DESC);

CREATE TABLE messages (
    id             INTEGER PRIMARY KEY,
    ticket_id      INTEGER NOT NULL REFERENCES tickets (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('customer', 'agent', 'note', 'system')),
    channel        TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    html           TEXT    NOT NULL DEFAULT '',
    author_id      INTEGER REFERENCES agents (id),
    from_addr      TEXT    NOT NULL DEFAULT '',
    external_id    TEXT    NOT NULL DEFAULT '',
    auto           TEXT    NOT NULL DEFAULT '',
    delivery       TEXT    NOT NULL DEFAULT '' CHECK (delivery IN ('', 'queued', 'sent', 'failed', 'delivered')),
    delivery_error TEXT    NOT NULL DEFAULT '',
    created_at     INTEGER NOT NULL
);
CREATE INDEX messages_ticket ON messages (ticket_id, id);
-- The dedupe guard: one channel never delivers the same message twice.
CREATE UNIQUE INDEX messages_external ON messages (channel, external_id) WHERE external_id <> '';

-- Attachment bytes, content-addressed so that a file sent twice is stored once.
CREATE TABLE blobs (
    sha256 TEXT    PRIMARY KEY,
    size   INTEGER NOT NULL,
    data   BLOB    NOT NULL
) WITHOUT ROWID;

CREATE TABLE attachments (
    id           INTEGER PRIMARY KEY,
    message_id   INTEGER NOT NULL REFERENCES messages (id),
    sha256       TEXT    NOT NULL REFERENCES blobs (sha256),
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL
);
CREATE INDEX attachments_message ON attachments (message_id);

CREATE TABLE ticket_events (
    id         INTEGER PRIMARY KEY,
    ticket_id  INTEGER NOT NULL REFERENCES tickets (id),
    type       TEXT    NOT NULL,
    actor      TEXT    NOT NULL, -- agent id, 'customer', 'system' or 'rule:<id>'
    data       TEXT    NOT NULL DEFAULT '{}',
    created_at INTEGER NOT NULL
);
CREATE INDEX ticket_events_ticket ON ticket_events (ticket_id, id);

-- Outbound messages waiting for their channel. A row lives until the
-- message is sent or has failed for good.
CREATE TABLE outbox (
    message_id      INTEGER PRIMARY KEY REFERENCES messages (id),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL
);
CREATE INDEX outbox_due ON outbox (next_attempt_at);

CREATE TABLE sessions (
    token_hash  TEXT    PRIMARY KEY,
    agent_id    INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    csrf_token  TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_agent ON sessions (agent_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    agent_id     INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);

CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- Full-text search over ticket subjects and message text. One row per
-- message (rowid = message id); a ticket's subject rides on its first
-- message. Contentless: the text already lives in messages and tickets.
CREATE VIRTUAL TABLE search USING fts5 (
    subject, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);

CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search (rowid, subject, body) VALUES (
        new.id,
        CASE WHEN EXISTS (SELECT 1 FROM messages WHERE ticket_id = new.ticket_id AND id < new.id)
             THEN '' ELSE (SELECT subject FROM tickets WHERE id = new.ticket_id) END,
        new.body);
END;

CREATE TRIGGER messages_search_delete AFTER DELETE ON messages BEGIN
    DELETE FROM search WHERE rowid = old.id;
END;
