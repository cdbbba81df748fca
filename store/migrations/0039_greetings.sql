-- Proactive chat (#27): a store's greeting rules, tried in position order
-- by the widget (first match wins). url_pattern is matched against the
-- page's path and query: '*' stands for any run of characters, nothing
-- else is special, and a pattern without '*' matches as a prefix; '' is
-- every page. audience is any, new or returning (seen on an earlier
-- visit). messages is {"en": "...", "pt": "..."}: the visitor's widget
-- language picks, the store's language stands in.
CREATE TABLE greetings (
    id           INTEGER PRIMARY KEY,
    store_id     INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    position     INTEGER NOT NULL DEFAULT 0,
    name         TEXT    NOT NULL DEFAULT '',
    url_pattern  TEXT    NOT NULL DEFAULT '',
    delay_s      INTEGER NOT NULL DEFAULT 0,
    audience     TEXT    NOT NULL DEFAULT 'any',
    messages     TEXT    NOT NULL DEFAULT '{}',
    active       INTEGER NOT NULL DEFAULT 1,
    created_at   INTEGER NOT NULL
);
CREATE INDEX greetings_store ON greetings (store_id, position);
-- What the widgets counted per greeting and UTC day (unix ms of its start).
CREATE TABLE greeting_counts (
    greeting_id INTEGER NOT NULL REFERENCES greetings (id) ON DELETE CASCADE,
    day         INTEGER NOT NULL,
    shown       INTEGER NOT NULL DEFAULT 0,
    opened      INTEGER NOT NULL DEFAULT 0,
    chats       INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (greeting_id, day)
);
-- Agents' profile pictures (#29), stored as attachments are (blobs) and
-- served to chat visitors at /chat/avatar/{key}: the key is random, so the
-- address tells nothing of the agent or the desk.
CREATE TABLE agent_avatars (
    agent_id     INTEGER PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    avatar_key   TEXT    NOT NULL UNIQUE,
    sha256       TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);
