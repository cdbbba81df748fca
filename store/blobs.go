package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io"
	"os"
)

// blobPart is the size of one stored part of a large file.
const blobPart = 1 << 20

// putBlob stores bytes once, keyed by their SHA-256, and returns the key
// and size. The bytes are data or, when path is set, the file at path,
// which is read in parts and never whole.
func (tx *Tx) putBlob(ctx context.Context, data []byte, path string) (string, int64, error) {
	if tx.files != nil {
		return tx.putFile(ctx, data, path)
	}
	if path == "" && len(data) <= blobPart {
		sum := sha256.Sum256(data)
		sha := hex.EncodeToString(sum[:])
		_, err := tx.q.ExecContext(ctx, `INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?)
			ON CONFLICT (sha256) DO NOTHING`, sha, len(data), data)
		return sha, int64(len(data)), err
	}
	var src io.ReadSeeker
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return "", 0, err
		}
		defer f.Close()
		src = f
	} else {
		src = bytesReader(data)
	}
	h := sha256.New()
	size, err := io.Copy(h, src)
	if err != nil {
		return "", 0, err
	}
	sha := hex.EncodeToString(h.Sum(nil))
	// The empty bytes as a parameter: x'' is a blob to SQLite but a bit
	// string to PostgreSQL.
	res, err := tx.q.ExecContext(ctx, `INSERT INTO blobs (sha256, size, data) VALUES (?, ?, ?) ON CONFLICT (sha256) DO NOTHING`, sha, size, []byte{})
	if err != nil {
		return "", 0, err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return sha, size, nil // stored before
	}
	if _, err := src.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	buf := make([]byte, blobPart)
	for seq := 0; ; seq++ {
		n, err := io.ReadFull(src, buf)
		if n > 0 {
			if _, err := tx.q.ExecContext(ctx, `INSERT INTO blob_parts (sha256, seq, data) VALUES (?, ?, ?)`, sha, seq, buf[:n]); err != nil {
				return "", 0, err
			}
		}
		if err == io.EOF || err == io.ErrUnexpectedEOF {
			break
		}
		if err != nil {
			return "", 0, err
		}
	}
	return sha, size, nil
}

type byteSeeker struct {
	b   []byte
	off int64
}

func bytesReader(b []byte) *byteSeeker { return &byteSeeker{b: b} }

func (r *byteSeeker) Read(p []byte) (int, error) {
	if r.off >= int64(len(r.b)) {
		return 0, io.EOF
	}
	n := copy(p, r.b[r.off:])
	r.off += int64(n)
	return n, nil
}

func (r *byteSeeker) Seek(off int64, whence int) (int64, error) {
	if whence != io.SeekStart {
		return 0, fmt.Errorf("seek: only from the start")
	}
	r.off = off
	return off, nil
}

// blobData reads a stored blob whole, from its parts if it has them, or
// from the file store.
func (db *DB) blobData(ctx context.Context, q querier, sha string) ([]byte, error) {
	var data []byte
	var size int64
	var inFiles bool
	if err := q.QueryRowContext(ctx, `SELECT data, size, in_files FROM blobs WHERE sha256 = ?`, sha).Scan(&data, &size, &inFiles); err != nil {
		return nil, notFound(err, "blob "+sha)
	}
	if inFiles {
		r, _, err := db.openBlob(ctx, q, sha)
		if err != nil {
			return nil, err
		}
		defer r.Close()
		return io.ReadAll(r)
	}
	if int64(len(data)) == size {
		return data, nil
	}
	out := make([]byte, 0, size)
	err := eachPart(ctx, q, sha, func(part []byte) error { out = append(out, part...); return nil })
	return out, err
}

// WriteBlob copies a stored blob to w a part at a time.
func (db *DB) WriteBlob(ctx context.Context, sha string, w io.Writer) error {
	var data []byte
	var size int64
	var inFiles bool
	if err := db.rq.QueryRowContext(ctx, `SELECT data, size, in_files FROM blobs WHERE sha256 = ?`, sha).Scan(&data, &size, &inFiles); err != nil {
		return notFound(err, "blob "+sha)
	}
	if inFiles {
		r, _, err := db.openBlob(ctx, db.rq, sha)
		if err != nil {
			return err
		}
		defer r.Close()
		_, err = io.Copy(w, r)
		return err
	}
	if int64(len(data)) == size {
		_, err := w.Write(data)
		return err
	}
	return eachPart(ctx, db.rq, sha, func(part []byte) error { _, err := w.Write(part); return err })
}

func eachPart(ctx context.Context, q querier, sha string, fn func([]byte) error) error {
	rows, err := q.QueryContext(ctx, `SELECT data FROM blob_parts WHERE sha256 = ? ORDER BY seq`, sha)
	if err != nil {
		return fmt.Errorf("blob %s: %w", sha, err)
	}
	defer rows.Close()
	var part sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&part); err != nil {
			return fmt.Errorf("blob %s: %w", sha, err)
		}
		if err := fn(part); err != nil {
			return err
		}
	}
	return rows.Err()
}
