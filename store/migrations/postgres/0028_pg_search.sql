-- 0028 on PostgreSQL: full-text search with tsvector and GIN, holding
-- what SQLite's FTS5 ticket_search (0024) holds, a row per ticket and a
-- row per message (store/search_postgres.go reads it):
--
--   message_id = 0   the ticket: subject, form field values, customer
--                    name and identifiers (a phone also as its last 7
--                    to 12 digits, so a number typed without or with
--                    another country prefix is one exact word)
--   message_id = id  a message: the ticket's subject and customer name,
--                    and its body (a query's words must all be in one row,
--                    as on SQLite)
--
-- Each row's words are its text folded (punctuation to spaces, accents
-- off, lower case), with positions (for an address's parts in a row),
-- exactly what the text says; and for a ticket of a store whose language
-- PostgreSQL has a stemmer for (en, pt, tr, ru), the same text stemmed
-- in that language, each stem marked with a leading ~ ('~refund'), a
-- lexeme no folded word can be, so that a word and a stem never meet in
-- the GIN index (weights would, and each row would be read to tell them
-- apart). Czech has no dictionary in PostgreSQL: its rows have only the
-- words as written. A query reads whole words and prefixes as written
-- (SQLite's answers) and a whole word also as its stems (PostgreSQL
-- finds "refunds" for "refund" in an English store; SQLite does not).

-- Accents: the unaccent extension (trusted: a user with CREATE on the
-- database may make it). Where it cannot be made, a fixed table of the
-- five languages' letters folds instead, and onedesk logs so at start.
DO $$
BEGIN
    CREATE EXTENSION IF NOT EXISTS unaccent;
EXCEPTION WHEN OTHERS THEN
    RAISE NOTICE 'onedesk: the unaccent extension cannot be created (%); accents fold through a fixed table', SQLERRM;
END $$;

DO $do$
DECLARE
    s TEXT := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'unaccent');
BEGIN
    IF s IS NOT NULL THEN
        EXECUTE format($f$CREATE FUNCTION onedesk_search_fold(x TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $b$SELECT lower(%I.unaccent(%L::regdictionary, x))$b$ $f$, s, quote_ident(s) || '.unaccent');
    ELSE
        CREATE FUNCTION onedesk_search_fold(x TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE
            AS $f$SELECT translate(lower(translate(x, 'İIЁ', 'iiЕ')),
                'áàâãäåāăąçćčďđéèêëēėęěğíìîïīįıľĺłñńňóòôõöøōőřŕśšşșťțúùûüūůűųýÿźžżё',
                'aaaaaaaaacccddeeeeeeeegiiiiiiilllnnnoooooooorrssssttuuuuuuuuyyzzzе')$f$;
    END IF;
END $do$;

-- The text as the index and the queries read it: anything but letters
-- and digits splits words (as SQLite's unicode61 does: an address is
-- its parts), then folded.
CREATE FUNCTION onedesk_search_text(x TEXT) RETURNS TEXT LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT onedesk_search_fold(regexp_replace(x,
        '[^0-9A-Za-z\u00AA\u00B5\u00BA\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u1FFF\u2C00-\u2DFF\u3040-\uFDFF\uFE70-\uFEFF\uFF10-\uFF19\uFF21-\uFF3A\uFF41-\uFF5A\uFF66-\uFFDC]+',
        ' ', 'g'))
$$;

-- A store's language as a text search configuration: its stemmer, or
-- 'simple' (none) for Czech and tickets with no store.
CREATE FUNCTION onedesk_search_config(store BIGINT) RETURNS regconfig LANGUAGE sql STABLE AS $$
    SELECT CASE split_part(coalesce((SELECT language FROM stores WHERE id = store), ''), '-', 1)
        WHEN 'en' THEN 'english' WHEN 'pt' THEN 'portuguese' WHEN 'tr' THEN 'turkish' WHEN 'ru' THEN 'russian'
        ELSE 'simple' END::regconfig
$$;

CREATE FUNCTION onedesk_search_vector(cfg regconfig, x TEXT) RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    folded TEXT := onedesk_search_text(x);
BEGIN
    IF cfg = 'simple'::regconfig THEN
        RETURN to_tsvector('simple', folded);
    END IF;
    RETURN to_tsvector('simple', folded) ||
        array_to_tsvector(ARRAY(SELECT '~' || l FROM unnest(tsvector_to_array(to_tsvector(cfg, folded))) l));
END $$;

CREATE TABLE ticket_search (
    ticket_id  BIGINT   NOT NULL,
    message_id BIGINT   NOT NULL, -- 0: the ticket's own row
    words      tsvector NOT NULL,
    PRIMARY KEY (ticket_id, message_id)
);
CREATE INDEX ticket_search_words ON ticket_search USING gin (words);
-- The planner reads a common word newest first off the primary key,
-- checking each row, and a rare one off the GIN index, by the words'
-- frequencies ANALYZE counts: with the default 100 it took words in no
-- row for common ones (1.2 s at 100,000 tickets instead of 0.05 ms).
ALTER TABLE ticket_search ALTER COLUMN words SET STATISTICS 1000;

-- The ticket row's text, as 0024's ticket_search_text.
CREATE VIEW ticket_search_text AS
SELECT t.id AS ticket_id, t.store_id AS store_id,
       t.subject || ' ' ||
       coalesce((SELECT string_agg(j.value #>> '{}', ' ') FROM json_each(t.fields::json) j
                  WHERE json_typeof(j.value) IN ('string', 'number')), '') || ' ' ||
       coalesce((SELECT name FROM customers WHERE id = t.customer_id), '') || ' ' ||
       coalesce((SELECT string_agg(CASE WHEN i.kind = 'phone'
                     THEN i.value || ' ' || right(i.value, 7) || ' ' || right(i.value, 8) || ' ' || right(i.value, 9) || ' ' ||
                          right(i.value, 10) || ' ' || right(i.value, 11) || ' ' || right(i.value, 12)
                     ELSE i.value END, ' ' ORDER BY i.id)
                   FROM identities i WHERE i.customer_id = t.customer_id AND i.kind <> 'visitor'), '') AS text
  FROM tickets t;

-- A message row's text: its ticket's subject and customer name, and its body.
CREATE VIEW ticket_search_messages AS
SELECT m.id AS message_id, m.ticket_id AS ticket_id, t.store_id AS store_id,
       t.subject || ' ' || coalesce((SELECT name FROM customers WHERE id = t.customer_id), '') || ' ' || m.body AS text
  FROM messages m JOIN tickets t ON t.id = m.ticket_id;

-- PL/pgSQL, whose statements' plans a session keeps: the triggers run
-- these for every ticket and message written.
CREATE FUNCTION onedesk_search_index_ticket(tid BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO ticket_search (ticket_id, message_id, words)
    SELECT v.ticket_id, 0, onedesk_search_vector(onedesk_search_config(v.store_id), v.text)
      FROM ticket_search_text v WHERE v.ticket_id = tid
    ON CONFLICT (ticket_id, message_id) DO UPDATE SET words = excluded.words;
END $$;

-- A ticket's message rows (mid NULL: all of them).
CREATE FUNCTION onedesk_search_index_messages(tid BIGINT, mid BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF mid IS NOT NULL THEN
        INSERT INTO ticket_search (ticket_id, message_id, words)
        SELECT v.ticket_id, v.message_id, onedesk_search_vector(onedesk_search_config(v.store_id), v.text)
          FROM ticket_search_messages v WHERE v.message_id = mid AND v.ticket_id = tid
        ON CONFLICT (ticket_id, message_id) DO UPDATE SET words = excluded.words;
        RETURN;
    END IF;
    INSERT INTO ticket_search (ticket_id, message_id, words)
    SELECT v.ticket_id, v.message_id, onedesk_search_vector(onedesk_search_config(v.store_id), v.text)
      FROM ticket_search_messages v WHERE v.ticket_id = tid
    ON CONFLICT (ticket_id, message_id) DO UPDATE SET words = excluded.words;
END $$;

CREATE FUNCTION onedesk_search_tickets_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM ticket_search WHERE ticket_id = old.id;
        RETURN NULL;
    END IF;
    PERFORM onedesk_search_index_ticket(new.id);
    IF TG_OP = 'UPDATE' AND (new.subject IS DISTINCT FROM old.subject OR new.customer_id IS DISTINCT FROM old.customer_id
                             OR new.store_id IS DISTINCT FROM old.store_id) THEN
        PERFORM onedesk_search_index_messages(new.id, NULL);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tickets_search_insert AFTER INSERT ON tickets FOR EACH ROW EXECUTE FUNCTION onedesk_search_tickets_changed();
CREATE TRIGGER tickets_search_update AFTER UPDATE OF subject, fields, customer_id, store_id ON tickets FOR EACH ROW
    WHEN (new.subject IS DISTINCT FROM old.subject OR new.fields IS DISTINCT FROM old.fields
          OR new.customer_id IS DISTINCT FROM old.customer_id OR new.store_id IS DISTINCT FROM old.store_id)
    EXECUTE FUNCTION onedesk_search_tickets_changed();
CREATE TRIGGER tickets_search_delete AFTER DELETE ON tickets FOR EACH ROW EXECUTE FUNCTION onedesk_search_tickets_changed();

CREATE FUNCTION onedesk_search_messages_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        DELETE FROM ticket_search WHERE ticket_id = old.ticket_id AND message_id = old.id;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM onedesk_search_index_messages(new.ticket_id, new.id);
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER messages_search_insert AFTER INSERT ON messages FOR EACH ROW EXECUTE FUNCTION onedesk_search_messages_changed();
CREATE TRIGGER messages_search_update AFTER UPDATE OF ticket_id, body ON messages FOR EACH ROW
    WHEN (new.ticket_id IS DISTINCT FROM old.ticket_id OR new.body IS DISTINCT FROM old.body)
    EXECUTE FUNCTION onedesk_search_messages_changed();
CREATE TRIGGER messages_search_delete AFTER DELETE ON messages FOR EACH ROW EXECUTE FUNCTION onedesk_search_messages_changed();

-- Customers: names and identifiers (not visitor tokens) of customers not
-- merged away, for the customers page (SQLite's customer_search, 0009).
CREATE TABLE customer_search (
    customer_id BIGINT   PRIMARY KEY,
    words       tsvector NOT NULL
);
CREATE INDEX customer_search_words ON customer_search USING gin (words);

CREATE FUNCTION onedesk_search_index_customer(cid BIGINT) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM customer_search WHERE customer_id = cid;
    INSERT INTO customer_search (customer_id, words)
    SELECT c.id, to_tsvector('simple', onedesk_search_text(c.name || ' ' ||
               coalesce((SELECT string_agg(value, ' ' ORDER BY id) FROM identities WHERE customer_id = c.id AND kind <> 'visitor'), '')))
      FROM customers c WHERE c.id = cid AND c.merged_into IS NULL;
END $$;

-- A customer's name or identifiers are in the rows of all their tickets
-- (the name in their messages' rows too).
CREATE FUNCTION onedesk_search_customers_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tid BIGINT;
BEGIN
    PERFORM onedesk_search_index_customer(new.id);
    IF TG_OP = 'UPDATE' AND new.name IS DISTINCT FROM old.name THEN
        FOR tid IN SELECT id FROM tickets WHERE customer_id = new.id LOOP
            PERFORM onedesk_search_index_ticket(tid);
            PERFORM onedesk_search_index_messages(tid, NULL);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER customers_search_insert AFTER INSERT ON customers FOR EACH ROW EXECUTE FUNCTION onedesk_search_customers_changed();
CREATE TRIGGER customers_search_update AFTER UPDATE OF name, merged_into ON customers FOR EACH ROW
    WHEN (new.name IS DISTINCT FROM old.name OR new.merged_into IS DISTINCT FROM old.merged_into)
    EXECUTE FUNCTION onedesk_search_customers_changed();

CREATE FUNCTION onedesk_search_identities_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cid BIGINT;
    tid BIGINT;
BEGIN
    FOR cid IN SELECT DISTINCT x FROM unnest(ARRAY[CASE WHEN TG_OP <> 'INSERT' THEN old.customer_id END,
                                                    CASE WHEN TG_OP <> 'DELETE' THEN new.customer_id END]) x WHERE x IS NOT NULL LOOP
        PERFORM onedesk_search_index_customer(cid);
        FOR tid IN SELECT id FROM tickets WHERE customer_id = cid LOOP
            PERFORM onedesk_search_index_ticket(tid);
        END LOOP;
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER identities_search_insert AFTER INSERT ON identities FOR EACH ROW WHEN (new.kind <> 'visitor')
    EXECUTE FUNCTION onedesk_search_identities_changed();
CREATE TRIGGER identities_search_update AFTER UPDATE OF customer_id, value ON identities FOR EACH ROW
    WHEN (new.kind <> 'visitor' AND (new.customer_id IS DISTINCT FROM old.customer_id OR new.value IS DISTINCT FROM old.value))
    EXECUTE FUNCTION onedesk_search_identities_changed();
CREATE TRIGGER identities_search_delete AFTER DELETE ON identities FOR EACH ROW WHEN (old.kind <> 'visitor')
    EXECUTE FUNCTION onedesk_search_identities_changed();

-- A store's language: its tickets' stems (rare).
CREATE FUNCTION onedesk_search_stores_changed() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tid BIGINT;
BEGIN
    FOR tid IN SELECT id FROM tickets WHERE store_id = new.id LOOP
        PERFORM onedesk_search_index_ticket(tid);
        PERFORM onedesk_search_index_messages(tid, NULL);
    END LOOP;
    RETURN NULL;
END $$;
CREATE TRIGGER stores_search_update AFTER UPDATE OF language ON stores FOR EACH ROW
    WHEN (new.language IS DISTINCT FROM old.language)
    EXECUTE FUNCTION onedesk_search_stores_changed();

-- What the desk holds already.
INSERT INTO ticket_search (ticket_id, message_id, words)
SELECT ticket_id, 0, onedesk_search_vector(onedesk_search_config(store_id), text) FROM ticket_search_text;
INSERT INTO ticket_search (ticket_id, message_id, words)
SELECT ticket_id, message_id, onedesk_search_vector(onedesk_search_config(store_id), text) FROM ticket_search_messages;
INSERT INTO customer_search (customer_id, words)
SELECT c.id, to_tsvector('simple', onedesk_search_text(c.name || ' ' ||
           coalesce((SELECT string_agg(value, ' ' ORDER BY id) FROM identities WHERE customer_id = c.id AND kind <> 'visitor'), '')))
  FROM customers c WHERE c.merged_into IS NULL;
ANALYZE ticket_search;
