-- 0004: support mailboxes for the email channel, the IMAP cursor committed
-- with each imported message, and the raw source of inbound mail.

CREATE TABLE mailboxes (
    id             INTEGER PRIMARY KEY,
    address        TEXT    NOT NULL UNIQUE COLLATE NOCASE,
    name           TEXT    NOT NULL DEFAULT '',
    store_id       INTEGER REFERENCES stores (id),
    imap_host      TEXT    NOT NULL DEFAULT '',
    imap_port      INTEGER NOT NULL DEFAULT 993,
    imap_security  TEXT    NOT NULL DEFAULT 'tls' CHECK (imap_security IN ('tls', 'starttls', 'none')),
    imap_username  TEXT    NOT NULL DEFAULT '',
    imap_password  TEXT    NOT NULL DEFAULT '',
    imap_folder    TEXT    NOT NULL DEFAULT 'INBOX',
    smtp_host      TEXT    NOT NULL DEFAULT '',
    smtp_port      INTEGER NOT NULL DEFAULT 587,
    smtp_security  TEXT    NOT NULL DEFAULT 'starttls' CHECK (smtp_security IN ('tls', 'starttls', 'none')),
    smtp_username  TEXT    NOT NULL DEFAULT '',
    smtp_password  TEXT    NOT NULL DEFAULT '',
    poll_seconds   INTEGER NOT NULL DEFAULT 60,
    after_import   TEXT    NOT NULL DEFAULT 'leave' CHECK (after_import IN ('leave', 'seen', 'move')),
    move_to        TEXT    NOT NULL DEFAULT '',
    active         INTEGER NOT NULL DEFAULT 1,
    uid_validity   INTEGER NOT NULL DEFAULT 0,
    last_uid       INTEGER NOT NULL DEFAULT 0,
    last_error     TEXT    NOT NULL DEFAULT '',
    last_polled_at INTEGER,
    last_success_at INTEGER,
    created_at     INTEGER NOT NULL
);

ALTER TABLE tickets ADD COLUMN mailbox_id INTEGER REFERENCES mailboxes (id);
ALTER TABLE messages ADD COLUMN mailbox_id INTEGER REFERENCES mailboxes (id);
ALTER TABLE messages ADD COLUMN raw_sha256 TEXT REFERENCES blobs (sha256);
