package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"golang.org/x/crypto/acme/autocert"
)

// ACMECache is autocert's cache (the ACME account key, each name's
// certificate and private key, the HTTP-01 challenge tokens) kept in the
// database: on several nodes every one serves the same certificate, and
// whichever node Let's Encrypt reaches answers its challenge. Values are
// sealed like every secret, each bound to its name.
func (db *DB) ACMECache() autocert.Cache { return acmeCache{db} }

type acmeCache struct{ db *DB }

// acmeColumn is the additional data a value is sealed with: a value
// moved to another name does not open.
func acmeColumn(name string) string { return "acme_cache.value " + name }

func (c acmeCache) Get(ctx context.Context, name string) ([]byte, error) {
	var v string
	err := c.db.rq.QueryRowContext(ctx, "SELECT value FROM acme_cache WHERE name = ?", name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, autocert.ErrCacheMiss
	}
	if err != nil {
		return nil, fmt.Errorf("certificate cache: read %s: %w", name, err)
	}
	plain, err := c.db.secrets.open(acmeColumn(name), v)
	if err != nil {
		return nil, fmt.Errorf("certificate cache: %s: %w", name, err)
	}
	return []byte(plain), nil
}

func (c acmeCache) Put(ctx context.Context, name string, data []byte) error {
	return c.db.Write(ctx, func(tx *Tx) error {
		_, err := tx.q.ExecContext(ctx, `INSERT INTO acme_cache (name, value, updated_at) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at`,
			name, tx.sealer(ctx).seal(acmeColumn(name), string(data)), ms(Now()))
		if err != nil {
			return fmt.Errorf("certificate cache: write %s: %w", name, err)
		}
		return nil
	})
}

func (c acmeCache) Delete(ctx context.Context, name string) error {
	return c.db.Write(ctx, func(tx *Tx) error {
		if _, err := tx.q.ExecContext(ctx, "DELETE FROM acme_cache WHERE name = ?", name); err != nil {
			return fmt.Errorf("certificate cache: delete %s: %w", name, err)
		}
		return nil
	})
}

// readACME reads the cache's sealed values by name, in tx.
func readACME(ctx context.Context, tx *Tx) (map[string]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT name, value FROM acme_cache")
	if err != nil {
		return nil, fmt.Errorf("read acme_cache: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var name, v string
		if err := rows.Scan(&name, &v); err != nil {
			return nil, fmt.Errorf("read acme_cache: %w", err)
		}
		out[name] = v
	}
	return out, rows.Err()
}
