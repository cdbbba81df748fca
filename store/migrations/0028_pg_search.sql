-- 0028: nothing on SQLite, whose search is FTS5 (0024, 0025). Its
-- PostgreSQL twin makes PostgreSQL's own full-text search (tsvector).
SELECT 1;
