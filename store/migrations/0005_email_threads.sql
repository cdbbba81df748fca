-- 0005: what the email channel needs beyond fetching: inline images by
-- Content-ID, the other people on a ticket, and per-mailbox settings for
-- plus-addressed replies, acknowledgements and the message size limit.

ALTER TABLE attachments ADD COLUMN content_id TEXT NOT NULL DEFAULT '';

-- People besides the ticket's customer who write on it (a colleague in Cc):
-- they get the replies too, and a subject token of theirs is honoured.
CREATE TABLE ticket_participants (
    ticket_id   INTEGER NOT NULL REFERENCES tickets (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (ticket_id, customer_id)
) WITHOUT ROWID;
CREATE INDEX ticket_participants_customer ON ticket_participants (customer_id);

ALTER TABLE mailboxes ADD COLUMN plus_addressing INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN auto_ack INTEGER NOT NULL DEFAULT 0;
ALTER TABLE mailboxes ADD COLUMN auto_ack_text TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN max_message_mb INTEGER NOT NULL DEFAULT 25;
