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
