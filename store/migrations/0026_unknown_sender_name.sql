-- The customer that mail without a readable sender is filed under was
-- named "Unknown sender" in English; it has no name now, and the app
-- names it in each agent's language.
UPDATE customers SET name = ''
WHERE name = 'Unknown sender'
  AND id IN (SELECT customer_id FROM identities
             WHERE kind = 'email' AND value LIKE 'unknown-sender.%@onedesk.invalid');
