package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// Secrets at rest: mailbox passwords, order lookup tokens and secrets,
// social accounts' settings (bot tokens, access tokens, app secrets) and
// webhook signing secrets are kept encrypted with AES-256-GCM (the
// standard library's AEAD), under a key that is not in the database: a
// key file beside a SQLite file (<data>.key, owner-only, made on the
// first start) or ONEDESK_SECRET_KEY (base64 of 32 bytes; needed for
// PostgreSQL, and the same on every node). A backup without the key
// holds no readable secret. Nothing outside store sees a sealed value.

// SecretKeyEnv names the environment variable that holds the key.
const SecretKeyEnv = "ONEDESK_SECRET_KEY"

// sealedPrefix marks a sealed value: version 1, nonce and ciphertext in
// base64. Values without it are plain (written before migration 30).
const sealedPrefix = "enc:v1:"

// keyCheckSetting holds a known text sealed with the key: a wrong key is
// told at start, not at the first secret it fails to open.
const (
	keyCheckSetting = "secret_key_check"
	keyCheckText    = "onedesk secret key"
)

// ErrSecretKey is a missing or wrong key; the message says which and
// what to do.
var ErrSecretKey = errors.New("secret key")

// secretBox seals and opens secrets. The column a value belongs to is
// its additional data: a sealed value moved to another column fails.
type secretBox struct {
	aead   cipher.AEAD
	source string // where the key came from, for messages
}

func newSecretBox(key []byte, source string) (*secretBox, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key from %s: %w", source, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretBox{aead: aead, source: source}, nil
}

// seal encrypts a secret of column; "" stays "" (nothing set).
func (b *secretBox) seal(column, plain string) string {
	if plain == "" || b == nil {
		return plain
	}
	nonce := make([]byte, b.aead.NonceSize())
	rand.Read(nonce)
	out := b.aead.Seal(nonce, nonce, []byte(plain), []byte(column))
	return sealedPrefix + base64.RawStdEncoding.EncodeToString(out)
}

// open decrypts a value of column; a plain value (not yet sealed) is
// returned as it is.
func (b *secretBox) open(column, stored string) (string, error) {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return stored, nil
	}
	if b == nil {
		return "", fmt.Errorf("%w: %s is encrypted and no key is loaded", ErrSecretKey, column)
	}
	raw, err := base64.RawStdEncoding.DecodeString(stored[len(sealedPrefix):])
	n := b.aead.NonceSize()
	if err != nil || len(raw) < n {
		return "", fmt.Errorf("%s: a damaged encrypted value", column)
	}
	plain, err := b.aead.Open(nil, raw[:n], raw[n:], []byte(column))
	if err != nil {
		return "", fmt.Errorf("%w: %s does not open with the key from %s (a different key?)", ErrSecretKey, column, b.source)
	}
	return string(plain), nil
}

// keyFile is where a SQLite database's key is kept.
func keyFile(dataPath string) string { return dataPath + ".key" }

// parseKey reads a key as written in a key file or the environment:
// base64 (standard or URL, padded or not) or hex of 32 bytes.
func parseKey(text string) ([]byte, error) {
	text = strings.TrimSpace(text)
	for _, dec := range []func(string) ([]byte, error){
		base64.StdEncoding.DecodeString, base64.RawStdEncoding.DecodeString,
		base64.URLEncoding.DecodeString, base64.RawURLEncoding.DecodeString, hex.DecodeString,
	} {
		if k, err := dec(text); err == nil && len(k) == 32 {
			return k, nil
		}
	}
	return nil, errors.New("it must be 32 bytes in base64 (openssl rand -base64 32) or hex")
}

// NewSecretKey makes a key as ONEDESK_SECRET_KEY and key files hold it.
func NewSecretKey() string {
	k := make([]byte, 32)
	rand.Read(k)
	return base64.StdEncoding.EncodeToString(k)
}

// loadSecretKey finds the key (the environment first, then the key
// file), and makes a key file for a SQLite database that has never had
// one. check is the stored key check ("" when there is none yet).
func loadSecretKey(dataPath string, postgres bool, check string) (*secretBox, error) {
	if v := os.Getenv(SecretKeyEnv); v != "" {
		k, err := parseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSecretKey, SecretKeyEnv, err)
		}
		return newSecretBox(k, SecretKeyEnv)
	}
	if postgres {
		return nil, fmt.Errorf("%w: a PostgreSQL database needs %s (the same on every node): make one with "+
			"`openssl rand -base64 32` and keep it safe, apart from the backups", ErrSecretKey, SecretKeyEnv)
	}
	path := keyFile(dataPath)
	text, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := parseKey(string(text))
		if err != nil {
			return nil, fmt.Errorf("%w: the key file %s: %v", ErrSecretKey, path, err)
		}
		return newSecretBox(k, path)
	case !errors.Is(err, os.ErrNotExist):
		return nil, fmt.Errorf("%w: read the key file: %v", ErrSecretKey, err)
	case check != "":
		return nil, fmt.Errorf("%w: the database's secrets are encrypted, and the key file %s is missing: "+
			"put the key file that belongs to this database back beside it (or set %s)", ErrSecretKey, path, SecretKeyEnv)
	}
	// First start: a key of its own, owner-only like the database.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("%w: make the key file: %v", ErrSecretKey, err)
	}
	key := NewSecretKey()
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, fmt.Errorf("%w: write the key file: %v", ErrSecretKey, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: write the key file: %v", ErrSecretKey, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("%w: write the key file: %v", ErrSecretKey, err)
	}
	k, _ := parseKey(key)
	return newSecretBox(k, path)
}

// readKeyCheck reads the stored key check, "" when there is none (or no
// settings table yet: a new database).
func readKeyCheck(ctx context.Context, q rowQuerier) string {
	var v string
	if err := q.QueryRowContext(ctx, "SELECT value FROM settings WHERE key = ?", keyCheckSetting).Scan(&v); err != nil {
		return ""
	}
	return v
}

// verifyKey tells whether box is the key check's key.
func (b *secretBox) verify(check string) error {
	if check == "" {
		return nil
	}
	got, err := b.open(keyCheckSetting, check)
	if err != nil || got != keyCheckText {
		return fmt.Errorf("%w: the key from %s is not the key this database's secrets were encrypted with: "+
			"use the key file (or %s) that belongs to it", ErrSecretKey, b.source, SecretKeyEnv)
	}
	return nil
}

// loadSecrets sets the database's key before its migrations run (the
// one that encrypts what was plain needs it).
func (db *DB) loadSecrets(ctx context.Context) error {
	check := readKeyCheck(ctx, db.w)
	box, err := loadSecretKey(db.path, db.postgres, check)
	if err != nil {
		return err
	}
	if err := box.verify(check); err != nil {
		return err
	}
	db.secrets = box
	return nil
}

// sealPlainSecrets is migration 30's step: every secret still plain is
// sealed, and the key check stored. It runs in the migration's
// transaction, so a crash leaves either all plain or all sealed.
func sealPlainSecrets(ctx context.Context, tx *Tx) error {
	b := tx.secrets
	if !tx.postgres {
		// SQLite leaves a rewritten row's old bytes in the page's free
		// space; secure_delete zeroes them. It is a setting of the
		// connection, which is the writer: set for this step only.
		if _, err := tx.tx.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
			return fmt.Errorf("secure delete: %w", err)
		}
		defer tx.tx.ExecContext(ctx, "PRAGMA secure_delete = OFF")
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, keyCheckSetting, b.seal(keyCheckSetting, keyCheckText)); err != nil {
		return fmt.Errorf("store the key check: %w", err)
	}
	type column struct{ table, column string }
	for _, c := range []column{
		{"mailboxes", "imap_password"}, {"mailboxes", "smtp_password"},
		{"webhooks", "secret"}, {"social_accounts", "config"},
	} {
		values, err := readColumn(ctx, tx, c.table, c.column)
		if err != nil {
			return err
		}
		for id, v := range values {
			if v == "" || strings.HasPrefix(v, sealedPrefix) {
				continue
			}
			if _, err := tx.q.ExecContext(ctx, "UPDATE "+c.table+" SET "+c.column+" = ? WHERE id = ?",
				b.seal(c.table+"."+c.column, v), id); err != nil {
				return fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	// The stores' order settings keep their token and secret sealed
	// inside the JSON; the domain and URL stay readable.
	stores, err := readColumn(ctx, tx, "stores", "orders")
	if err != nil {
		return err
	}
	for id, v := range stores {
		var oc orderColumn
		if jsonUnmarshal(v, &oc) != nil {
			continue
		}
		sealed, err := b.sealOrders(oc)
		if err != nil {
			return err
		}
		if _, err := tx.q.ExecContext(ctx, "UPDATE stores SET orders = ? WHERE id = ?", sealed, id); err != nil {
			return fmt.Errorf("seal stores.orders: %w", err)
		}
	}
	return nil
}

// readColumn reads one text column of every row of a table, by id.
func readColumn(ctx context.Context, tx *Tx, table, column string) (map[int64]string, error) {
	rows, err := tx.q.QueryContext(ctx, "SELECT id, "+column+" FROM "+table)
	if err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", table, column, err)
	}
	defer rows.Close()
	values := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			return nil, fmt.Errorf("read %s.%s: %w", table, column, err)
		}
		values[id] = v
	}
	return values, rows.Err()
}

// sealOrders is a store's orders column with its secrets sealed.
func (b *secretBox) sealOrders(oc orderColumn) (string, error) {
	var err error
	if oc.ShopifyToken, err = b.reseal("stores.orders.shopify_token", oc.ShopifyToken); err != nil {
		return "", err
	}
	if oc.LookupSecret, err = b.reseal("stores.orders.lookup_secret", oc.LookupSecret); err != nil {
		return "", err
	}
	return jsonText(oc, "{}"), nil
}

// sameKey tells whether two boxes hold one key.
func (b *secretBox) sameKey(other *secretBox) bool {
	if b == nil || other == nil {
		return b == other
	}
	_, err := other.open("key probe", b.seal("key probe", "probe"))
	return err == nil
}

// reseal seals a value unless it is sealed already.
func (b *secretBox) reseal(column, v string) (string, error) {
	if strings.HasPrefix(v, sealedPrefix) {
		return v, nil
	}
	return b.seal(column, v), nil
}

// SecretKeyStatus says whether the key for the database at path (a
// SQLite file, or a PostgreSQL URL) is at hand and right, without
// opening the database for writing or making a key: nil when it is.
func SecretKeyStatus(ctx context.Context, path string) (source string, err error) {
	if IsPostgres(path) {
		return "", errors.New("checked when onedesk starts on PostgreSQL")
	}
	q, err := sql.Open("sqlite", fileDSN(path, "mode=ro&_pragma=busy_timeout(10000)"))
	if err != nil {
		return "", err
	}
	defer q.Close()
	check := readKeyCheck(ctx, q)
	if os.Getenv(SecretKeyEnv) == "" && check == "" {
		if _, err := os.Stat(keyFile(path)); errors.Is(err, os.ErrNotExist) {
			return "none yet: onedesk makes " + keyFile(path) + " when it starts", nil
		}
	}
	box, err := loadSecretKey(path, false, check)
	if err != nil {
		return "", err
	}
	return box.source, box.verify(check)
}
