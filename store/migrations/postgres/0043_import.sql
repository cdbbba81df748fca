-- 0043: imports from another helpdesk, and the history import's error
-- as a sentence for the reader's language.
--
-- import_keys maps the ids of the helpdesk a desk moved from (with the
-- importer's source prefix, e.g. "zendesk:123") to ours, so that running
-- an import again finds what it made before: one copy, and only the new
-- messages of a ticket appended.
CREATE TABLE import_keys (
    kind        TEXT    NOT NULL CHECK (kind IN ('customer', 'ticket', 'message')),
    external_id TEXT    NOT NULL,
    local_id    BIGINT  NOT NULL,
    PRIMARY KEY (kind, external_id)
);

-- history_error said as a stored sentence (i18n's JSON), '' when none.
ALTER TABLE mailboxes ADD COLUMN history_error_i18n TEXT NOT NULL DEFAULT '';
