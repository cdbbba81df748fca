-- 0006: large files (a 25 MB attachment, the raw message carrying it) are
-- stored in parts of 1 MB, so that neither writing nor reading one ever
-- holds it whole in memory twice. Their blobs row keeps the size and an
-- empty data column.

CREATE TABLE blob_parts (
    sha256 TEXT    NOT NULL REFERENCES blobs (sha256),
    seq    INTEGER NOT NULL,
    data   BLOB    NOT NULL,
    PRIMARY KEY (sha256, seq)
);
