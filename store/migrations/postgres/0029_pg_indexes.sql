-- 0029 on PostgreSQL: indexes that give the unassigned and no-team
-- inbox pages their order. IS NULL, unlike =, gives a btree no order, so
-- the (assignee_id, status, updated_at) indexes made PostgreSQL sort every
-- unassigned ticket of a status for a page of 50: partial indexes on
-- (status, the page's order) WHERE the column IS NULL read 51 rows.
CREATE INDEX tickets_unassigned_updated ON tickets (status, updated_at DESC, id DESC) WHERE assignee_id IS NULL;
CREATE INDEX tickets_unassigned_id      ON tickets (status, id) WHERE assignee_id IS NULL;
CREATE INDEX tickets_noteam_updated     ON tickets (status, updated_at DESC, id DESC) WHERE team_id IS NULL;
CREATE INDEX tickets_noteam_id          ON tickets (status, id) WHERE team_id IS NULL;

-- The unread counts' indexes. Each view's count reads
-- its narrowing (unassigned, an agent, a team, a store, a channel) and
-- one status newest customer message first, and stops at UnreadCap: an
-- ordered index scan does, where a bitmap scan (what PostgreSQL chose off
-- the (x, status, updated_at) indexes) reads every match first. IS NULL
-- gives no order (see above), so the unassigned view has a partial index of its own;
-- id is included so that the check against ticket_reads needs no visit
-- to the table. Only open work: resolved and closed tickets, most of a
-- desk, cost these indexes nothing.
CREATE INDEX tickets_unassigned_customer ON tickets (status, last_customer_at DESC NULLS LAST) INCLUDE (id)
    WHERE assignee_id IS NULL AND status IN ('new', 'open', 'pending');
CREATE INDEX tickets_assignee_customer ON tickets (assignee_id, status, last_customer_at DESC NULLS LAST) INCLUDE (id)
    WHERE status IN ('new', 'open', 'pending');
CREATE INDEX tickets_team_customer ON tickets (team_id, status, last_customer_at DESC NULLS LAST) INCLUDE (id)
    WHERE status IN ('new', 'open', 'pending');
CREATE INDEX tickets_store_customer ON tickets (store_id, status, last_customer_at DESC NULLS LAST) INCLUDE (id)
    WHERE status IN ('new', 'open', 'pending');
DROP INDEX tickets_channel_customer;
CREATE INDEX tickets_channel_customer ON tickets (channel, status, last_customer_at DESC NULLS LAST) INCLUDE (id)
    WHERE status IN ('new', 'open', 'pending');
