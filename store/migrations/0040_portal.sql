-- The customer portal (package portal). Sign-in links a customer asks for
-- by email, only their hash kept; visitor, when set, is the chat visitor
-- whose conversation the link continues on another device. used_at is
-- set when the link is spent. BIGINT throughout: the same file serves
-- PostgreSQL.
CREATE TABLE portal_links (
    token_hash TEXT   PRIMARY KEY,
    store_id   BIGINT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    email      TEXT   NOT NULL,
    visitor    TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX portal_links_expires ON portal_links (expires_at);
-- A signed-in customer: the email address the link proved, read back to
-- its customer on each request (so a merge or an erasure shows at once).
CREATE TABLE portal_sessions (
    token_hash TEXT   PRIMARY KEY,
    store_id   BIGINT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    email      TEXT   NOT NULL,
    csrf       TEXT   NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX portal_sessions_expires ON portal_sessions (expires_at);
