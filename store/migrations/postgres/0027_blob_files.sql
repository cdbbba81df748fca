-- 0027 on PostgreSQL: as SQLite's (BIGINT for every integer).
ALTER TABLE blobs ADD COLUMN in_files BIGINT NOT NULL DEFAULT 0;
