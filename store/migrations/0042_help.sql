-- 0042: the help centre (package helpcentre): categories and articles of
-- a store, each article in one language, as a draft and (once published)
-- the version readers see, which stays until the next publish.
CREATE TABLE help_categories (
    id         INTEGER PRIMARY KEY,
    store_id   INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    slug       TEXT    NOT NULL,
    -- {"en": {"name": "...", "description": "..."}, "pt": {...}}
    names      TEXT    NOT NULL DEFAULT '{}',
    position   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    UNIQUE (store_id, slug)
);

CREATE TABLE help_articles (
    id              INTEGER PRIMARY KEY,
    store_id        INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    category_id     INTEGER REFERENCES help_categories (id) ON DELETE SET NULL,
    lang            TEXT    NOT NULL,
    slug            TEXT    NOT NULL,
    position        INTEGER NOT NULL DEFAULT 0,
    -- The draft, as the editor last saved it (Markdown).
    title           TEXT    NOT NULL,
    body            TEXT    NOT NULL,
    -- The published version: NULL published_at is never published (or
    -- unpublished); html is body rendered and sanitized at publish.
    pub_title       TEXT    NOT NULL DEFAULT '',
    pub_body        TEXT    NOT NULL DEFAULT '',
    pub_html        TEXT    NOT NULL DEFAULT '',
    pub_text        TEXT    NOT NULL DEFAULT '', -- html as plain text: snippets
    published_at    INTEGER,
    helpful_yes     INTEGER NOT NULL DEFAULT 0,
    helpful_no      INTEGER NOT NULL DEFAULT 0,
    updated_by      INTEGER REFERENCES agents (id) ON DELETE SET NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    UNIQUE (store_id, lang, slug)
);
CREATE INDEX help_articles_public ON help_articles (store_id, lang, category_id, position, id) WHERE published_at IS NOT NULL;
CREATE INDEX help_articles_category ON help_articles (category_id);

-- The published articles' words, stemmed in the article's language by
-- store/help.go (Snowball: en, pt, tr, ru; Czech as written), rowid the
-- article id. Only published text is here: drafts are never found. scope
-- is one token naming the store and language (s12lpt), so that a query
-- keeps to them inside FTS5.
CREATE VIRTUAL TABLE help_search USING fts5 (
    scope, title, body,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '3'
);
-- The titles alone, so that ranking the articles with a word in their
-- title reads only the titles' lists (a common word is in most bodies).
CREATE VIRTUAL TABLE help_titles USING fts5 (
    scope, title,
    content = '', contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2', prefix = '3'
);
INSERT INTO help_titles (help_titles, rank) VALUES ('rank', 'bm25(0.0, 1.0)');

-- Pictures of articles, content-addressed in blobs like attachments.
CREATE TABLE help_images (
    id           INTEGER PRIMARY KEY,
    store_id     INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    sha256       TEXT    NOT NULL,
    filename     TEXT    NOT NULL,
    content_type TEXT    NOT NULL,
    size         INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    UNIQUE (store_id, sha256)
);

-- Searches that found nothing, counted per store, language, query and day.
CREATE TABLE help_missed_searches (
    store_id INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    lang     TEXT    NOT NULL,
    query    TEXT    NOT NULL,
    day      INTEGER NOT NULL, -- unix ms of the UTC day's start
    count    INTEGER NOT NULL DEFAULT 0,
    last_at  INTEGER NOT NULL,
    PRIMARY KEY (store_id, day, lang, query)
);

-- Deflection: a visit (a widget opening or a form page, its id made by
-- the visitor's browser) in which a suggested article was opened;
-- contacted_at is set when that visit then sent a chat message or the form.
CREATE TABLE help_visits (
    store_id     INTEGER NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
    visit        TEXT    NOT NULL,
    source       TEXT    NOT NULL, -- widget | form
    article_id   INTEGER,
    opened_at    INTEGER NOT NULL,
    contacted_at INTEGER,
    PRIMARY KEY (store_id, visit)
);
CREATE INDEX help_visits_time ON help_visits (store_id, opened_at);
