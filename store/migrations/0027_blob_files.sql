-- 0027: a blob's bytes may live in the file store (S3-compatible storage,
-- `--files s3://...`) under their SHA-256 instead of in data: in_files 1,
-- data empty, size still the file's. Without --files nothing changes.
ALTER TABLE blobs ADD COLUMN in_files INTEGER NOT NULL DEFAULT 0;
