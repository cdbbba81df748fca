-- 0017: the parts of a reply that went out. A reply on a social channel
-- can leave as several platform messages (its text split in parts, then
-- one message per file); each part is written down here the moment the
-- platform took it, so a reply that fails part-way is sent again from
-- the part that failed, and the customer never gets a part twice. Parts
-- count text parts first, then files in order (the split is the same on
-- every try). A receipt naming any part counts for its reply.
--
-- Rows are never removed when a reply is done: messages are never
-- deleted in onedesk, so nothing is left to point at a reply that is
-- gone, and the rows are what lets a late receipt find its reply. Only a
-- part the platform reports failed after taking it is forgotten, so that
-- a retry sends it again.
CREATE TABLE reply_parts (
    message_id  INTEGER NOT NULL REFERENCES messages (id),
    part        INTEGER NOT NULL,
    external_id TEXT    NOT NULL, -- the platform's id of this part, as messages.external_id writes it
    sent_at     INTEGER NOT NULL,
    PRIMARY KEY (message_id, part)
) WITHOUT ROWID;

-- Receipts name a part by its platform id.
CREATE INDEX reply_parts_external ON reply_parts (external_id) WHERE external_id <> '';
