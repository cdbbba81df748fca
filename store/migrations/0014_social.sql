-- 0014: social messaging. An account is one connected bot, number or page
-- of a platform (Telegram now; WhatsApp and Meta's Messenger/Instagram
-- plug into the same tables). config holds its settings with the secrets
-- (never sent to the browser); state is what its channel keeps between
-- runs (Telegram's update offset, the mode, the last error).
CREATE TABLE social_accounts (
    id          INTEGER PRIMARY KEY,
    store_id    INTEGER REFERENCES stores (id),
    platform    TEXT    NOT NULL CHECK (platform IN ('telegram', 'whatsapp', 'meta')),
    name        TEXT    NOT NULL DEFAULT '', -- the platform's display name (a bot's first name)
    handle      TEXT    NOT NULL DEFAULT '', -- how customers find it (@shop_bot, a phone number, a page)
    external_id TEXT    NOT NULL,            -- the platform's id of the account (a bot's user id)
    config      TEXT    NOT NULL DEFAULT '{}',
    state       TEXT    NOT NULL DEFAULT '{}',
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    UNIQUE (platform, external_id)
);

-- The chat each social ticket is with, so replies go back where the
-- customer wrote and the chat's next message finds its ticket. No foreign
-- key to the account: a ticket keeps its chat after the account is gone.
CREATE TABLE social_threads (
    ticket_id  INTEGER PRIMARY KEY REFERENCES tickets (id),
    account_id INTEGER NOT NULL,
    chat_id    TEXT    NOT NULL
);
CREATE INDEX social_threads_chat ON social_threads (account_id, chat_id, ticket_id DESC);

-- Webhook deliveries: committed before the platform gets its 200 and
-- turned into messages right after (files downloaded then). key is the
-- platform's id of the delivery, so a retry is kept once.
CREATE TABLE social_inbox (
    id              INTEGER PRIMARY KEY,
    account_id      INTEGER NOT NULL REFERENCES social_accounts (id) ON DELETE CASCADE,
    key             TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT    NOT NULL DEFAULT '',
    created_at      INTEGER NOT NULL,
    UNIQUE (account_id, key)
);
CREATE INDEX social_inbox_due ON social_inbox (next_attempt_at);
