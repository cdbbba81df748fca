-- 0019: email intake that never stops, and says how it is doing.
--
-- A message read only in part (a header that would not parse, a
-- structure past the parser's limits, a sender that cannot be answered)
-- is stored anyway; partial says in a sentence what could not be read,
-- so the app can show it on the message and count it per mailbox.
ALTER TABLE messages ADD COLUMN partial TEXT NOT NULL DEFAULT '';
CREATE INDEX messages_partial ON messages (mailbox_id, id) WHERE partial <> '';

-- The mailbox's last imported message (for its status card), and how it
-- has been failing: since when (NULL while it works), at which UID, and
-- how many polls in a row failed there. A mailbox failing for several
-- poll intervals, or at the same UID again and again, is shown as stuck.
ALTER TABLE mailboxes ADD COLUMN last_message_id INTEGER REFERENCES messages (id);
ALTER TABLE mailboxes ADD COLUMN failing_since INTEGER;
ALTER TABLE mailboxes ADD COLUMN failing_uid INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN failing_count INTEGER NOT NULL DEFAULT 0;
