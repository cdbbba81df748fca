-- 0015: what WhatsApp and Meta's Messenger/Instagram need.

-- When the platform said the customer read an agent's reply (delivery
-- moves queued -> sent -> delivered; read is this time, beside it).
ALTER TABLE messages ADD COLUMN read_at INTEGER;

-- A Messenger user is known by the page-scoped id Meta gives them, a kind
-- of identity of its own. SQLite cannot change a CHECK, so identities is
-- made again with the same ids. The triggers that keep customer_search
-- name the table, so they are dropped first and made again after.
DROP TRIGGER customers_search_update;
CREATE TABLE identities_new (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind        TEXT    NOT NULL CHECK (kind IN ('email', 'phone', 'telegram', 'whatsapp', 'instagram', 'messenger', 'visitor')),
    value       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    base        TEXT    NOT NULL DEFAULT '',
    UNIQUE (kind, value)
);
INSERT INTO identities_new (id, customer_id, kind, value, created_at, base)
SELECT id, customer_id, kind, value, created_at, base FROM identities;
DROP TABLE identities;
ALTER TABLE identities_new RENAME TO identities;
CREATE INDEX identities_customer ON identities (customer_id);
CREATE INDEX identities_base ON identities (base) WHERE base <> '';

CREATE TRIGGER customers_search_update AFTER UPDATE OF name, merged_into ON customers BEGIN
    DELETE FROM customer_search WHERE rowid = new.id;
    INSERT INTO customer_search (rowid, name, ids)
    SELECT new.id, new.name, coalesce((SELECT group_concat(value, ' ') FROM identities WHERE customer_id = new.id AND kind <> 'visitor'), '')
     WHERE new.merged_into IS NULL;
END;

CREATE TRIGGER identities_search_insert AFTER INSERT ON identities WHEN new.kind <> 'visitor' BEGIN
    DELETE FROM customer_search WHERE rowid = new.customer_id;
    INSERT INTO customer_search (rowid, name, ids)
    SELECT id, name, coalesce((SELECT group_concat(value, ' ') FROM identities WHERE customer_id = new.customer_id AND kind <> 'visitor'), '')
      FROM customers WHERE id = new.customer_id AND merged_into IS NULL;
END;

CREATE TRIGGER identities_search_update AFTER UPDATE OF customer_id ON identities WHEN new.kind <> 'visitor' BEGIN
    DELETE FROM customer_search WHERE rowid IN (old.customer_id, new.customer_id);
    INSERT INTO customer_search (rowid, name, ids)
    SELECT id, name, coalesce((SELECT group_concat(value, ' ') FROM identities WHERE customer_id = c.id AND kind <> 'visitor'), '')
      FROM customers c WHERE id IN (old.customer_id, new.customer_id) AND merged_into IS NULL;
END;

CREATE TRIGGER identities_search_delete AFTER DELETE ON identities WHEN old.kind <> 'visitor' BEGIN
    DELETE FROM customer_search WHERE rowid = old.customer_id;
    INSERT INTO customer_search (rowid, name, ids)
    SELECT id, name, coalesce((SELECT group_concat(value, ' ') FROM identities WHERE customer_id = old.customer_id AND kind <> 'visitor'), '')
      FROM customers WHERE id = old.customer_id AND merged_into IS NULL;
END;
