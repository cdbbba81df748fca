-- 0022: the notes on what of an inbound message could not be read, kept as
-- a JSON list of sentences ([{"f": "...", "a": [...]}, ...]) beside the
-- English in messages.partial, so that each agent reads them in their own
-- language. '' means the English text is all there is (older rows).

ALTER TABLE messages ADD COLUMN partial_i18n TEXT NOT NULL DEFAULT '';
