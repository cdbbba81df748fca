-- 0025: the words of ticket_search, one row per occurrence, read only to
-- list the indexed words a typed prefix stands for ("refu": refund,
-- refunded). FTS5 reads an OR of a few words lazily in rowid order and
-- stops with the page; a prefix it has no prefix index for it would
-- first collect in full. store/search.go reads one row per word
-- (term >= ? LIMIT 1), never the occurrences.
CREATE VIRTUAL TABLE ticket_search_terms USING fts5vocab(ticket_search, instance);
