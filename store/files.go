package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
)

// Files (attachments, raw mail) are content-addressed by SHA-256 in the
// blobs table. By default their bytes are in the database too (data, or
// blob_parts for large ones), so the database is the whole desk. With a
// file store (Open with WithFiles: S3-compatible storage) new files'
// bytes go there instead, under their SHA-256, and their blobs row keeps
// the size and in_files = 1. A file is put before the transaction that
// names it commits, so a crash leaves at worst an object no row names,
// never a row without its object. Files stored earlier stay where they
// are, and are read from there.

// fileStore keeps files' bytes outside the database, each under its
// SHA-256 (hex).
type fileStore interface {
	put(ctx context.Context, sha string, r io.Reader, size int64) error
	open(ctx context.Context, sha string) (io.ReadCloser, error)
	has(ctx context.Context, sha string) (bool, error)
	remove(ctx context.Context, sha string) error // gone already is no error
	String() string                               // where it is, for messages (never a secret)
}

// fileBox is the file store of a DB, with the files sent to it ahead of
// their write transaction (StageFiles) that no row names yet.
type fileBox struct {
	fileStore
	mu     sync.Mutex
	staged map[string]bool
}

// maxStaged bounds the staged set: past it (files staged and never
// written), it starts again, and a write sends its file itself.
const maxStaged = 10000

// StageFiles sends files to the file store ahead of the write that stores
// them, so that sending a large attachment does not hold up every other
// write; without a file store it does nothing (the write puts the bytes
// in the database). A file staged and then never written is an object no
// row names.
func (db *DB) StageFiles(ctx context.Context, files ...Attachment) error {
	if db.files == nil {
		return nil
	}
	for _, f := range files {
		if len(f.Data) == 0 && f.Path == "" {
			continue
		}
		src, close, err := fileSource(f.Data, f.Path)
		if err != nil {
			return err
		}
		sha, size, err := hashSource(src)
		if err == nil {
			err = db.files.stage(ctx, db, sha, src, size)
		}
		close()
		if err != nil {
			return fmt.Errorf("send %q to %s: %w", f.Filename, db.files, err)
		}
	}
	return nil
}

func (b *fileBox) stage(ctx context.Context, db *DB, sha string, src io.ReadSeeker, size int64) error {
	var one int
	err := db.rq.QueryRowContext(ctx, `SELECT 1 FROM blobs WHERE sha256 = ?`, sha).Scan(&one)
	if err == nil {
		return nil // stored before
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return err
	}
	if err := b.put(ctx, sha, src, size); err != nil {
		return err
	}
	b.mu.Lock()
	if len(b.staged) >= maxStaged {
		b.staged = map[string]bool{}
	}
	b.staged[sha] = true
	b.mu.Unlock()
	return nil
}

// takeStaged tells whether sha was staged, and forgets it.
func (b *fileBox) takeStaged(sha string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	ok := b.staged[sha]
	delete(b.staged, sha)
	return ok
}

func fileSource(data []byte, path string) (io.ReadSeeker, func(), error) {
	if path == "" {
		return bytes.NewReader(data), func() {}, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, func() { f.Close() }, nil
}

// hashSource is the SHA-256 and size of src, which is then rewound.
func hashSource(src io.ReadSeeker) (string, int64, error) {
	h := sha256.New()
	size, err := io.Copy(h, src)
	if err != nil {
		return "", 0, err
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), size, nil
}

// Option changes how Open opens a database.
type Option func(ctx context.Context, db *DB) error

// WithFiles keeps new files' bytes in the file store that spec names
// rather than in the database: "" is the database itself, and
// s3://bucket[/prefix]?endpoint=host:port&region=R&tls=false is an
// S3-compatible store (AWS S3, MinIO...), whose keys come from the
// environment (ONEDESK_S3_ACCESS_KEY and ONEDESK_S3_SECRET_KEY, or
// AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY). Open checks that the
// bucket is there.
func WithFiles(spec string) Option {
	return func(ctx context.Context, db *DB) error {
		fs, err := openFileStore(ctx, spec)
		if err != nil {
			return err
		}
		if fs != nil {
			db.files = &fileBox{fileStore: fs, staged: map[string]bool{}}
		}
		return nil
	}
}

// CheckFiles tells whether spec names a file store WithFiles can open,
// without reaching it (for checking flags).
func CheckFiles(spec string) error {
	if spec == "" {
		return nil
	}
	_, err := parseS3(spec)
	return err
}

func openFileStore(ctx context.Context, spec string) (fileStore, error) {
	if spec == "" {
		return nil, nil
	}
	cfg, err := parseS3(spec)
	if err != nil {
		return nil, err
	}
	return openS3(ctx, cfg)
}

// Open opens (creating if needed) the database file at path, or the
// PostgreSQL database a postgres:// URL names, and brings its schema up
// to date. It refuses a database written by a newer onedesk.
func Open(ctx context.Context, path string, opts ...Option) (*DB, error) {
	var db *DB
	var err error
	if IsPostgres(path) {
		db, err = openPostgres(ctx, path)
	} else {
		db, err = openSQLite(ctx, path)
	}
	if err != nil {
		return nil, err
	}
	for _, o := range opts {
		if err := o(ctx, db); err != nil {
			db.Close()
			return nil, err
		}
	}
	return db, nil
}

// Files says where new files' bytes are kept: "the database", or the
// file store.
func (db *DB) Files() string {
	if db.files == nil {
		return "the database"
	}
	return db.files.String()
}

// putFile is putBlob with a file store: the bytes go there first, then
// the row that names them.
func (tx *Tx) putFile(ctx context.Context, data []byte, path string) (string, int64, error) {
	src, close, err := fileSource(data, path)
	if err != nil {
		return "", 0, err
	}
	defer close()
	sha, size, err := hashSource(src)
	if err != nil {
		return "", 0, err
	}
	var one int
	err = tx.q.QueryRowContext(ctx, `SELECT 1 FROM blobs WHERE sha256 = ?`, sha).Scan(&one)
	if err == nil {
		return sha, size, nil // stored before, here or in the database
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", 0, err
	}
	if !tx.files.takeStaged(sha) {
		if err := tx.files.put(ctx, sha, src, size); err != nil {
			return "", 0, fmt.Errorf("put file %s into %s: %w", sha, tx.files, err)
		}
	}
	_, err = tx.q.ExecContext(ctx, `INSERT INTO blobs (sha256, size, data, in_files) VALUES (?, ?, ?, 1)
		ON CONFLICT (sha256) DO NOTHING`, sha, size, []byte{})
	return sha, size, err
}

// openBlob reads a stored blob as a stream, from wherever its bytes are.
func (db *DB) openBlob(ctx context.Context, q querier, sha string) (io.ReadCloser, int64, error) {
	var data []byte
	var size int64
	var inFiles bool
	if err := q.QueryRowContext(ctx, `SELECT data, size, in_files FROM blobs WHERE sha256 = ?`, sha).Scan(&data, &size, &inFiles); err != nil {
		return nil, 0, notFound(err, "blob "+sha)
	}
	switch {
	case inFiles:
		if db.files == nil {
			return nil, 0, fmt.Errorf("file %s is kept in a file store, and this onedesk was started without one: start it with the --files it ran with", sha)
		}
		r, err := db.files.open(ctx, sha)
		if err != nil {
			return nil, 0, fmt.Errorf("file %s in %s: %w", sha, db.files, err)
		}
		return &sizedReader{r: r, want: size, sha: sha}, size, nil
	case int64(len(data)) == size:
		return io.NopCloser(bytes.NewReader(data)), size, nil
	}
	pr, pw := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		pw.CloseWithError(eachPart(ctx, q, sha, func(part []byte) error { _, err := pw.Write(part); return err }))
	}()
	return &partsReader{PipeReader: pr, done: done}, size, nil
}

// partsReader is a blob read from its parts; Close waits until the query
// is done, so q (a transaction) is free for the next one.
type partsReader struct {
	*io.PipeReader
	done chan struct{}
}

func (p *partsReader) Close() error {
	p.PipeReader.Close()
	<-p.done
	return nil
}

// sizedReader fails a read that ends short of (or past) the size the row
// keeps: an object cut or changed in the store is an error, not a file.
type sizedReader struct {
	r    io.ReadCloser
	want int64
	got  int64
	sha  string
}

func (s *sizedReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	s.got += int64(n)
	if err == io.EOF && s.got != s.want {
		return n, fmt.Errorf("file %s: the store holds %d bytes, %d expected", s.sha, s.got, s.want)
	}
	return n, err
}

func (s *sizedReader) Close() error { return s.r.Close() }

// copyFiles puts every file of the source into the target's file store
// (skipping those it has: content-addressed, they are the same bytes),
// before the rows that name them are copied.
func copyFiles(ctx context.Context, src *DB, from *sql.Tx, to fileStore, progress func(CopyProgress)) (n, total int64, err error) {
	type blob struct {
		sha  string
		size int64
	}
	var list []blob
	rows, err := from.QueryContext(ctx, `SELECT sha256, size FROM blobs ORDER BY sha256`)
	if err != nil {
		return 0, 0, fmt.Errorf("list files: %w", err)
	}
	for rows.Next() {
		var b blob
		if err := rows.Scan(&b.sha, &b.size); err != nil {
			rows.Close()
			return 0, 0, err
		}
		list = append(list, b)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, 0, fmt.Errorf("list files: %w", err)
	}
	for i, b := range list {
		if i%100 == 0 {
			progress(CopyProgress{Table: "files", Rows: int64(i), Total: int64(len(list))})
		}
		ok, err := to.has(ctx, b.sha)
		if err != nil {
			return n, total, fmt.Errorf("file %s in %s: %w", b.sha, to, err)
		}
		if ok {
			continue
		}
		r, size, err := src.openBlob(ctx, from, b.sha)
		if err != nil {
			return n, total, err
		}
		err = to.put(ctx, b.sha, r, size)
		r.Close()
		if err != nil {
			return n, total, fmt.Errorf("put file %s into %s: %w", b.sha, to, err)
		}
		n++
		total += size
	}
	progress(CopyProgress{Table: "files", Rows: int64(len(list)), Total: int64(len(list)), Done: true})
	return n, total, nil
}
