-- 0036 on PostgreSQL (see ../0036_roles.sql): the CHECK is dropped by name.
ALTER TABLE agents DROP CONSTRAINT IF EXISTS agents_role_check;

CREATE TABLE agent_stores (
    agent_id BIGINT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    store_id BIGINT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, store_id)
);
