-- 0049: what the help centre's lists show, read without the articles'
-- bodies. pub_snippet is the start of the published text (a snippet's
-- worth); the table is made again so that the columns a list reads come
-- first and the four long texts last: SQLite reads a row's payload from
-- its start, so a list no longer walks the overflow pages of bodies.
-- help_versions counts each store's changes to its help centre, so that
-- the pages keep what is the same for every reader (categories,
-- languages, the home page's lists) until the next change.
CREATE TABLE help_articles_new (
    id              INTEGER PRIMARY KEY,
    store_id        INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    category_id     INTEGER REFERENCES help_categories (id) ON DELETE SET NULL,
    lang            TEXT    NOT NULL,
    slug            TEXT    NOT NULL,
    position        INTEGER NOT NULL DEFAULT 0,
    published_at    INTEGER,
    pub_title       TEXT    NOT NULL DEFAULT '',
    pub_snippet     TEXT    NOT NULL DEFAULT '', -- the start of pub_text
    helpful_yes     INTEGER NOT NULL DEFAULT 0,
    helpful_no      INTEGER NOT NULL DEFAULT 0,
    updated_by      INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    pub_text        TEXT    NOT NULL DEFAULT '',
    pub_html        TEXT    NOT NULL DEFAULT '',
    pub_body        TEXT    NOT NULL DEFAULT '',
    UNIQUE (store_id, lang, slug)
);
INSERT INTO help_articles_new (id, store_id, category_id, lang, slug, position, published_at, pub_title, pub_snippet,
    helpful_yes, helpful_no, updated_by, created_at, updated_at, title, body, pub_text, pub_html, pub_body)
SELECT id, store_id, category_id, lang, slug, position, published_at, pub_title, substr(pub_text, 1, 200),
    helpful_yes, helpful_no, updated_by, created_at, updated_at, title, body, pub_text, pub_html, pub_body FROM help_articles;
DROP TABLE help_articles;
ALTER TABLE help_articles_new RENAME TO help_articles;
-- A list's page is read off this index alone (slug, title, snippet in it).
CREATE INDEX help_articles_public ON help_articles (store_id, lang, category_id, position, id, slug, pub_title, pub_snippet, published_at)
    WHERE published_at IS NOT NULL;
CREATE INDEX help_articles_category ON help_articles (category_id);

CREATE TABLE help_versions (
    store_id INTEGER PRIMARY KEY REFERENCES stores (id) ON DELETE CASCADE,
    version  INTEGER NOT NULL
);
