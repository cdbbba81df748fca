-- 0036: roles beyond admin and agent, and per-store access.
-- agents.role loses its CHECK (admin|agent): the roles and what each may
-- do are the desk's (desk/roles.go), which checks every value written.
-- SQLite cannot drop a CHECK, so the column is copied, dropped and renamed;
-- 'admin' and 'agent' keep their names (and what they could do).
ALTER TABLE agents ADD COLUMN role_name TEXT NOT NULL DEFAULT 'agent';
UPDATE agents SET role_name = role;
ALTER TABLE agents DROP COLUMN role;
ALTER TABLE agents RENAME COLUMN role_name TO role;

-- The stores an agent works in; none means every store (as before).
CREATE TABLE agent_stores (
    agent_id INTEGER NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    store_id INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    PRIMARY KEY (agent_id, store_id)
);
