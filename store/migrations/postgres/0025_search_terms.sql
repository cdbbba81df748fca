-- 0025 on PostgreSQL: nothing. SQLite's 0025 lists the words of its FTS5
-- index (fts5vocab) for prefix search; PostgreSQL's tsvector search reads
-- prefixes itself ('refu':*), and has no search index yet.
SELECT 1;
