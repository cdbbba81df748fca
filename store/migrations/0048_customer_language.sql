-- The language a customer reads (#27): what their chat widget showed, the
-- portal they used, or the language their mail said or was written in;
-- '' when nothing told. The satisfaction question, its thanks and its
-- comment page go out in it (else in the store's language).
ALTER TABLE customers ADD COLUMN language TEXT NOT NULL DEFAULT '';
