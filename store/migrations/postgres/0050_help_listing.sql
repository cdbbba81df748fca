-- 0049 on PostgreSQL: as SQLite's, without making the table again (long
-- texts live apart from the row in TOAST already); the lists' index
-- carries what they show, so a page is an index-only scan once vacuumed.
ALTER TABLE help_articles ADD COLUMN pub_snippet TEXT NOT NULL DEFAULT '';
UPDATE help_articles SET pub_snippet = substr(pub_text, 1, 200) WHERE pub_text <> '';
DROP INDEX help_articles_public;
CREATE INDEX help_articles_public ON help_articles (store_id, lang, category_id, position, id)
    INCLUDE (slug, pub_title, pub_snippet, published_at) WHERE published_at IS NOT NULL;

CREATE TABLE help_versions (
    store_id BIGINT PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
    version  BIGINT NOT NULL
);
