-- A reply sent where the customer will see it when back (a chat visitor
-- who left no email): delivery stays 'sent' for counting, and the app
-- shows it as waiting for the customer (Message.Delivery "waiting").
ALTER TABLE messages ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0;
