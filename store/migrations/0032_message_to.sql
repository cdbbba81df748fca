-- The address an agent's email went to when it is not the customer's
-- first: a conversation an agent started to one of several addresses.
ALTER TABLE messages ADD COLUMN to_addr TEXT NOT NULL DEFAULT '';
