-- Two-factor sign-in (TOTP) and the forgotten-password path.
-- An agent's authenticator secret, sealed (store/secrets.go); enabled_at
-- is NULL while the agent has not yet confirmed a code from it. last_step
-- is the last 30-second step a code was accepted for: a code is good once.
CREATE TABLE agent_two_factor (
    agent_id   INTEGER PRIMARY KEY REFERENCES agents (id) ON DELETE CASCADE,
    secret     TEXT    NOT NULL,
    enabled_at INTEGER,
    last_step  INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
-- Single-use recovery codes, only their SHA-256 kept.
CREATE TABLE agent_recovery_codes (
    agent_id  INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    code_hash TEXT    NOT NULL,
    used_at   INTEGER,
    PRIMARY KEY (agent_id, code_hash)
);
-- A password that was right, waiting for its code: not a session.
CREATE TABLE login_challenges (
    token_hash TEXT    PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    attempts   INTEGER NOT NULL DEFAULT 0,
    expires_at INTEGER NOT NULL
);
CREATE INDEX login_challenges_agent ON login_challenges (agent_id);
-- Password reset links, only their hash kept; used_at is set when used
-- or when a newer link replaced them.
CREATE TABLE password_resets (
    token_hash TEXT    PRIMARY KEY,
    agent_id   INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
);
CREATE INDEX password_resets_agent ON password_resets (agent_id);
