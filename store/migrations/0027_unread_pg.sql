-- 0027 on SQLite: nothing. Its unread counts read the indexes named in
-- store/unread.go (INDEXED BY); PostgreSQL, which has no such hint, gets
-- indexes of its own in migrations/postgres/0027_unread_pg.sql.
SELECT 1;
