-- Several nodes (#30). The ACME (Let's Encrypt) cache: the account key,
-- each name's certificate with its private key, and the HTTP-01 tokens,
-- kept in the database so that every node serves the same certificate
-- and any node answers a challenge. Values are sealed like every secret
-- (store/secrets.go). On SQLite the folder beside the data file stays
-- what --domain uses (one node); the table is here so both engines have
-- one schema.
CREATE TABLE acme_cache (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- The rate limits' shared buckets (store/ratelimit.go) are PostgreSQL's:
-- SQLite has one node, which counts in memory. The table is here, empty,
-- so that both engines have the same tables (onedesk copy skips it).
CREATE TABLE rate_buckets (
    name    TEXT NOT NULL,
    key     TEXT NOT NULL,
    tokens  REAL NOT NULL,
    granted REAL NOT NULL,
    at      INTEGER NOT NULL,
    PRIMARY KEY (name, key)
);
