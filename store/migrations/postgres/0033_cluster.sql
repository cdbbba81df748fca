-- 0032 on PostgreSQL: the ACME cache (as on SQLite), and the rate limits'
-- shared token buckets (store/ratelimit.go): one row per limit and key,
-- whose tokens every node takes from. UNLOGGED: counters are worth no
-- write-ahead log, and a crash of PostgreSQL that empties them only
-- hands everyone a fresh burst.
CREATE TABLE acme_cache (
    name       TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE UNLOGGED TABLE rate_buckets (
    name    TEXT NOT NULL,
    key     TEXT NOT NULL,
    tokens  DOUBLE PRECISION NOT NULL,
    granted DOUBLE PRECISION NOT NULL,
    at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (name, key)
);
CREATE INDEX rate_buckets_at ON rate_buckets (at);
