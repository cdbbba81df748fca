-- 0024: ticket search keyed by ticket. The index of 0001 has a row per
-- message keyed by message id, so a page of tickets for a common word
-- meant collecting thousands of messages, looking each up and sorting
-- their tickets. Here every row's rowid starts with its ticket's id:
--
--   ticket id * 2^32            the ticket: subject, form field values,
--                               customer name and identifiers
--   ticket id * 2^32 + 1 + n    a message (n = message id mod 2^32 - 1):
--                               its body, and in column ticket the
--                               ticket's subject and customer name
--
-- (A query's words must all be in one row; the subject and name in each
-- message row let "1001 refund" or "Jana refund" find a ticket whose
-- subject or customer has one word and a message the other.)
--
-- so FTS5's own rowid order is newest ticket first, a ticket's rows are
-- adjacent, and a page is read off the front of the match list.
--
-- Folding: unicode61 with remove_diacritics 2 folds á, ç, ş, ř, ů, İ...
-- but keeps Turkish dotless ı and Russian ё as letters of their own;
-- they are folded here (and in the query, store/search.go) so that
-- "kirmizi" finds "kırmızı" and "елка" finds "ёлка".
--
-- Prefixes: FTS5 reads a 3-letter prefix off its own index in rowid order;
-- store/search.go reads longer ones through it. (Also indexing 2-letter
-- prefixes made the index a third larger and its build half as slow
-- again, for a list of tickets after two typed letters.)
--
-- Phones: besides the number as stored (+351912345678 is the token
-- 351912345678), its last 7 to 12 digits are tokens, so a number typed
-- without or with another country prefix is one exact term.
CREATE VIRTUAL TABLE ticket_search USING fts5 (
    ticket, message,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '3'
);

-- The ticket row's text, as every trigger and the build write it.
CREATE VIEW ticket_search_text AS
SELECT t.id AS ticket_id, t.customer_id AS customer_id,
       replace(replace(replace(
           t.subject || ' ' ||
           coalesce((SELECT group_concat(value, ' ') FROM json_each(t.fields) WHERE type IN ('text', 'integer', 'real')), '') || ' ' ||
           coalesce((SELECT name FROM customers WHERE id = t.customer_id), '') || ' ' ||
           coalesce((SELECT group_concat(CASE WHEN i.kind = 'phone'
                         THEN i.value || ' ' || substr(i.value, -7) || ' ' || substr(i.value, -8) || ' ' || substr(i.value, -9) || ' ' ||
                              substr(i.value, -10) || ' ' || substr(i.value, -11) || ' ' || substr(i.value, -12)
                         ELSE i.value END, ' ')
                     FROM identities i WHERE i.customer_id = t.customer_id AND i.kind <> 'visitor'), ''),
       'ı', 'i'), 'ё', 'е'), 'Ё', 'Е') AS text
  FROM tickets t;

-- A message row's text: its ticket's subject and customer name (head),
-- its body (text; body as written, for passages).
CREATE VIEW ticket_search_messages AS
SELECT m.id AS message_id, m.ticket_id AS ticket_id, t.customer_id AS customer_id,
       m.ticket_id * 4294967296 + m.id % 4294967295 + 1 AS key,
       replace(replace(replace(
           t.subject || ' ' || coalesce((SELECT name FROM customers WHERE id = t.customer_id), ''),
       'ı', 'i'), 'ё', 'е'), 'Ё', 'Е') AS head,
       replace(replace(replace(m.body, 'ı', 'i'), 'ё', 'е'), 'Ё', 'Е') AS text, m.body AS body
  FROM messages m JOIN tickets t ON t.id = m.ticket_id;

-- Tickets with ids below tickets_below (and their messages) are not in
-- ticket_search yet: the build (store/search.go) indexes them newest
-- first in small transactions, and deletes this row when done. Until
-- then searches read the index of 0001, and the triggers below leave
-- those tickets to the build.
CREATE TABLE search_build (
    tickets_below INTEGER NOT NULL
);
INSERT INTO search_build (tickets_below) SELECT coalesce(max(id), 0) + 1 FROM tickets;

CREATE TRIGGER tickets_ticket_search_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT new.id * 4294967296, text, '' FROM ticket_search_text WHERE ticket_id = new.id;
END;

CREATE TRIGGER tickets_ticket_search_update AFTER UPDATE OF subject, fields, customer_id ON tickets
WHEN new.id >= coalesce((SELECT tickets_below FROM search_build), 0) BEGIN
    DELETE FROM ticket_search WHERE rowid = new.id * 4294967296;
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT new.id * 4294967296, text, '' FROM ticket_search_text WHERE ticket_id = new.id;
END;

-- A new subject or customer: the ticket's message rows carry them (rare).
CREATE TRIGGER tickets_ticket_search_messages_update AFTER UPDATE OF subject, customer_id ON tickets
WHEN new.id >= coalesce((SELECT tickets_below FROM search_build), 0)
 AND (new.subject IS NOT old.subject OR new.customer_id IS NOT old.customer_id) BEGIN
    DELETE FROM ticket_search WHERE rowid IN (SELECT key FROM ticket_search_messages WHERE ticket_id = new.id);
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT key, head, text FROM ticket_search_messages WHERE ticket_id = new.id;
END;

CREATE TRIGGER tickets_ticket_search_delete AFTER DELETE ON tickets
WHEN old.id >= coalesce((SELECT tickets_below FROM search_build), 0) BEGIN
    DELETE FROM ticket_search WHERE rowid = old.id * 4294967296;
END;

CREATE TRIGGER messages_ticket_search_insert AFTER INSERT ON messages
WHEN new.ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0) BEGIN
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT key, head, text FROM ticket_search_messages WHERE message_id = new.id;
END;

CREATE TRIGGER messages_ticket_search_update AFTER UPDATE OF ticket_id, body ON messages BEGIN
    DELETE FROM ticket_search WHERE rowid = old.ticket_id * 4294967296 + old.id % 4294967295 + 1
       AND old.ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT key, head, text FROM ticket_search_messages
     WHERE message_id = new.id AND new.ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
END;

CREATE TRIGGER messages_ticket_search_delete AFTER DELETE ON messages
WHEN old.ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0) BEGIN
    DELETE FROM ticket_search WHERE rowid = old.ticket_id * 4294967296 + old.id % 4294967295 + 1;
END;

-- A customer's name or identifiers are in the rows of all their tickets
-- (the name in their messages' rows too).
CREATE TRIGGER customers_ticket_search_update AFTER UPDATE OF name ON customers
WHEN new.name IS NOT old.name BEGIN
    DELETE FROM ticket_search WHERE rowid IN (SELECT id * 4294967296 FROM tickets WHERE customer_id = new.id
                                                 AND id >= coalesce((SELECT tickets_below FROM search_build), 0));
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT ticket_id * 4294967296, text, '' FROM ticket_search_text WHERE customer_id = new.id
       AND ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
    DELETE FROM ticket_search WHERE rowid IN (SELECT key FROM ticket_search_messages WHERE customer_id = new.id
                                                 AND ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0));
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT key, head, text FROM ticket_search_messages WHERE customer_id = new.id
       AND ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
END;

CREATE TRIGGER identities_ticket_search_insert AFTER INSERT ON identities WHEN new.kind <> 'visitor' BEGIN
    DELETE FROM ticket_search WHERE rowid IN (SELECT id * 4294967296 FROM tickets WHERE customer_id = new.customer_id
                                                 AND id >= coalesce((SELECT tickets_below FROM search_build), 0));
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT ticket_id * 4294967296, text, '' FROM ticket_search_text WHERE customer_id = new.customer_id
       AND ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
END;

CREATE TRIGGER identities_ticket_search_update AFTER UPDATE OF customer_id, value ON identities WHEN new.kind <> 'visitor' BEGIN
    DELETE FROM ticket_search WHERE rowid IN (SELECT id * 4294967296 FROM tickets WHERE customer_id IN (old.customer_id, new.customer_id)
                                                 AND id >= coalesce((SELECT tickets_below FROM search_build), 0));
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT ticket_id * 4294967296, text, '' FROM ticket_search_text WHERE customer_id IN (old.customer_id, new.customer_id)
       AND ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
END;

CREATE TRIGGER identities_ticket_search_delete AFTER DELETE ON identities WHEN old.kind <> 'visitor' BEGIN
    DELETE FROM ticket_search WHERE rowid IN (SELECT id * 4294967296 FROM tickets WHERE customer_id = old.customer_id
                                                 AND id >= coalesce((SELECT tickets_below FROM search_build), 0));
    INSERT INTO ticket_search (rowid, ticket, message)
    SELECT ticket_id * 4294967296, text, '' FROM ticket_search_text WHERE customer_id = old.customer_id
       AND ticket_id >= coalesce((SELECT tickets_below FROM search_build), 0);
END;
