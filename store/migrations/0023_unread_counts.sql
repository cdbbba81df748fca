-- 0022: the unread count of a channel's view reads the channel's open
-- tickets, newest customer message first, off this index (the other views
-- lead with status, assignee, team or store, which have theirs). Partial:
-- resolved and closed tickets, most of a desk, cost it nothing.

CREATE INDEX tickets_channel_customer ON tickets (channel, status, last_customer_at DESC)
    WHERE status IN ('new', 'open', 'pending');
