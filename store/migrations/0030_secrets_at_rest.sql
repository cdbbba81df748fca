-- Secrets at rest: mailbox passwords, webhook secrets, social accounts'
-- settings and the stores' order tokens are sealed (AES-256-GCM) with a
-- key kept outside the database. The sealing is this version's Go step
-- (store/secrets.go, sealPlainSecrets), run in the same transaction; the
-- row below says which scheme the values use.
INSERT INTO settings (key, value) VALUES ('secrets_at_rest', 'aes-256-gcm v1')
ON CONFLICT (key) DO UPDATE SET value = excluded.value;
