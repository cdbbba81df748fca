-- Starting conversations, logging calls, signatures (#26).
-- A reply keeps the signature it went out with, so a retry sends the
-- same mail however the signatures were edited since; a call logged on a
-- ticket keeps its direction, duration and outcome (JSON).
ALTER TABLE messages ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE messages ADD COLUMN call_info TEXT NOT NULL DEFAULT '';
ALTER TABLE stores ADD COLUMN signature TEXT NOT NULL DEFAULT '';
ALTER TABLE agents ADD COLUMN signature TEXT NOT NULL DEFAULT '';
