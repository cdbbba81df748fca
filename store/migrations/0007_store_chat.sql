-- The chat widget's settings of a store (colour, texts, pre-chat form,
-- visitor files, business hours, inactivity rule) as one JSON object that
-- the desk validates: they are read and written together, never queried
-- by part.
ALTER TABLE stores ADD COLUMN chat TEXT NOT NULL DEFAULT '{}';
