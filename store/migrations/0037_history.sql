-- 0037: where a new mailbox starts, and the import of its history.
--
-- start_from: 'new' reads only mail that arrives after the mailbox first
-- connects (its cursor starts at the folder's UIDNEXT); 'history' does
-- too, and imports the mail since history_since (and the Sent folder's
-- replies) in the background as resolved, silent tickets; 'all' reads
-- every message in the folder as new mail (the old behaviour, for a
-- fresh address whose waiting mail is to be worked).
ALTER TABLE mailboxes ADD COLUMN start_from TEXT NOT NULL DEFAULT 'new';
ALTER TABLE mailboxes ADD COLUMN history_since INTEGER;
-- The folder of sent mail: '' finds it by its SPECIAL-USE \Sent flag
-- (RFC 6154) or a usual name; '-' reads none.
ALTER TABLE mailboxes ADD COLUMN sent_folder TEXT NOT NULL DEFAULT '';
-- The history import job: '' (none), pending (waits for the first
-- connect), running, done, cancelled; its error, and when it (re)started
-- with how much was done then (for the time left).
ALTER TABLE mailboxes ADD COLUMN history_state TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN history_error TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN history_resumed_at INTEGER;
ALTER TABLE mailboxes ADD COLUMN history_resumed_done INTEGER NOT NULL DEFAULT 0;

-- One cursor per folder the history reads, apart from the live cursor:
-- the folder's UIDVALIDITY, the last UID imported (committed with the
-- message), the UID the history ends at (live mail takes over after it),
-- and how many messages it found and has done.
CREATE TABLE history_folders (
    mailbox_id   INTEGER NOT NULL REFERENCES mailboxes (id),
    folder       TEXT    NOT NULL,
    role         TEXT    NOT NULL CHECK (role IN ('inbox', 'sent')),
    uid_validity INTEGER NOT NULL DEFAULT 0,
    last_uid     INTEGER NOT NULL DEFAULT 0,
    stop_uid     INTEGER NOT NULL DEFAULT 0,
    total        INTEGER NOT NULL DEFAULT 0,
    done         INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (mailbox_id, folder)
);

-- History is marked, so that what runs on live activity (webhooks) passes
-- it over, and reports tell an imported resolution from an agent's.
ALTER TABLE messages ADD COLUMN historic INTEGER NOT NULL DEFAULT 0;
ALTER TABLE ticket_events ADD COLUMN historic INTEGER NOT NULL DEFAULT 0;
