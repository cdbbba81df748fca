-- A mailbox that signs in with OAuth2 (Gmail, Microsoft 365, another
-- provider) rather than a password: the admin's own app (client id and
-- secret, sealed), the tokens the provider granted (sealed), why the
-- grant stopped working, and a sign-in under way (its state's hash, the
-- PKCE verifier, the admin session that started it). No row: password.
CREATE TABLE mailbox_oauth (
    mailbox_id       BIGINT PRIMARY KEY REFERENCES mailboxes (id) ON DELETE CASCADE,
    provider         TEXT    NOT NULL CHECK (provider IN ('google', 'microsoft', 'custom')),
    client_id        TEXT    NOT NULL,
    client_secret    TEXT    NOT NULL DEFAULT '',
    tenant           TEXT    NOT NULL DEFAULT '',
    auth_url         TEXT    NOT NULL DEFAULT '',
    token_url        TEXT    NOT NULL DEFAULT '',
    scopes           TEXT    NOT NULL DEFAULT '',
    access_token     TEXT    NOT NULL DEFAULT '',
    refresh_token    TEXT    NOT NULL DEFAULT '',
    token_expiry     BIGINT,
    connected_at     BIGINT,
    grant_error      TEXT    NOT NULL DEFAULT '',
    grant_error_i18n TEXT    NOT NULL DEFAULT '',
    pending_state    TEXT    NOT NULL DEFAULT '',
    pending_verifier TEXT    NOT NULL DEFAULT '',
    pending_session  TEXT    NOT NULL DEFAULT '',
    pending_at       BIGINT
);
CREATE INDEX mailbox_oauth_pending ON mailbox_oauth (pending_state) WHERE pending_state <> '';
