-- One customer across channels: notes, customer-level events, merges that
-- can be undone, suggested links, a search index, and per-store settings
-- for phone numbers and order lookups.

-- The country whose numbers customers write without +CC (ISO 3166 alpha-2).
ALTER TABLE stores ADD COLUMN country TEXT NOT NULL DEFAULT '';
-- Where the store's orders are looked up (JSON: Shopify domain and token,
-- or a generic lookup URL); the token never leaves the server.
ALTER TABLE stores ADD COLUMN orders TEXT NOT NULL DEFAULT '{}';

ALTER TABLE customers ADD COLUMN notes TEXT NOT NULL DEFAULT '';

-- An email's address without its +tag (anna+shop@x.com -> anna@x.com),
-- set only where it differs: +tags stay distinct identities, matched
-- on request (search, suggestions), never automatically.
ALTER TABLE identities ADD COLUMN base TEXT NOT NULL DEFAULT '';
UPDATE identities SET base = substr(value, 1, instr(value, '+') - 1) || substr(value, instr(value, '@'))
 WHERE kind = 'email' AND instr(value, '+') > 1 AND instr(value, '+') < instr(value, '@');
CREATE INDEX identities_base ON identities (base) WHERE base <> '';

-- What happened to a customer as a whole (merged, split, linked), beside
-- the events of their tickets.
CREATE TABLE customer_events (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    type        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    data        TEXT    NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX customer_events_customer ON customer_events (customer_id, id);

-- A merge remembers what it moved, so that it can be undone while
-- nothing it moved has moved again.
CREATE TABLE customer_merges (
    id          INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id), -- the one kept
    merged_id   INTEGER NOT NULL REFERENCES customers (id), -- the one merged away
    identities  TEXT    NOT NULL, -- JSON [{"kind", "value"}] moved
    tickets     TEXT    NOT NULL, -- JSON [id] moved
    actor       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    undone_at   INTEGER
);
CREATE INDEX customer_merges_customer ON customer_merges (customer_id);

-- An identifier a customer says is theirs while another customer owns it
-- (a chat visitor typing an address we know): a suggestion for an agent,
-- or a merge once the visitor proves it (answers from that inbox).
CREATE TABLE customer_claims (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind        TEXT    NOT NULL,
    value       TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (customer_id, kind, value)
) WITHOUT ROWID;
CREATE INDEX customer_claims_value ON customer_claims (kind, value);

-- Customer search: names and identifiers (not visitor tokens) of customers
-- not merged away; rowid = customer id, kept by triggers. Prefix indexes
-- keep searches for 2 to 5 first letters quick (a longer common prefix
-- is rare in names and addresses).
CREATE VIRTUAL TABLE customer_search USING fts5 (
    name, ids,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4 5'
);

INSERT INTO customer_search (rowid, name, ids)
SELECT c.id, c.name, coalesce((SELECT group_concat(value, ' ') FROM identities i WHERE i.customer_id = c.id AND i.kind <> 'visitor'), '')
  FROM customers c WHERE c.merged_into IS NULL;

CREATE TRIGGER customers_search_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customer_search (rowid, name, ids) VALUES (new.id, new.name, '');
END;

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

-- A ticket merged into another: answers to it continue the other.
ALTER TABLE tickets ADD COLUMN merged_into INTEGER REFERENCES tickets (id);
