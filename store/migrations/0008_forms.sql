-- Contact forms: a definition per form (its fields, their translations
-- and the routing of submissions) read and written whole, as JSON the
-- desk validates. The hosted page is /f/{slug}.
CREATE TABLE forms (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER REFERENCES stores (id) ON DELETE SET NULL,
    slug       TEXT NOT NULL UNIQUE,
    title      TEXT NOT NULL,
    definition TEXT NOT NULL DEFAULT '{}',
    enabled    INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);

-- A store's logo, shown on its hosted forms.
ALTER TABLE stores ADD COLUMN logo_url TEXT NOT NULL DEFAULT '';

-- A ticket's first message also indexes the values of the ticket's fields
-- (an order number typed in a form is found by q=1001).
DROP TRIGGER messages_search_insert;
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages BEGIN
    INSERT INTO search (rowid, subject, body) VALUES (
        new.id,
        CASE WHEN EXISTS (SELECT 1 FROM messages WHERE ticket_id = new.ticket_id AND id < new.id)
             THEN '' ELSE (SELECT subject || ' ' || coalesce((SELECT group_concat(value, ' ') FROM json_each(fields)
                                                            WHERE type IN ('text', 'integer', 'real')), '')
                           FROM tickets WHERE id = new.ticket_id) END,
        new.body);
END;
