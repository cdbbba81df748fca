-- 0029 on SQLite: nothing. Its inbox pages and unread counts read the
-- indexes named in store/tickets.go and store/unread.go (INDEXED BY);
-- PostgreSQL, which has no such hint, gets indexes of its own in
-- migrations/postgres/0029_pg_indexes.sql.
SELECT 1;
