-- 0020: sentences stored for people keep their format and arguments as
-- JSON ({"f": "...", "a": [...]}) beside the English text, so that the app
-- shows them in each reader's language. '' means the English text is all
-- there is (rows written before this version, or a remote server's words).

ALTER TABLE messages ADD COLUMN delivery_error_i18n TEXT NOT NULL DEFAULT '';
ALTER TABLE mailboxes ADD COLUMN last_error_i18n TEXT NOT NULL DEFAULT '';
ALTER TABLE webhooks ADD COLUMN last_error_i18n TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_deliveries ADD COLUMN last_error_i18n TEXT NOT NULL DEFAULT '';
