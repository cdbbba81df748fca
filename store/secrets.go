package store

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"slices"
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

// OldSecretKeyEnv holds the key being rotated away from, beside the new
// one in SecretKeyEnv, while `onedesk key rotate` runs (and on every node
// of a PostgreSQL desk around it): values sealed with either open.
const OldSecretKeyEnv = "ONEDESK_SECRET_KEY_OLD"

// A sealed value is "enc:v2:<key id>:" then nonce and ciphertext in
// base64; the key id (keyID) says which key sealed it, so that a desk
// whose keys are being rotated opens each value with its own key.
// "enc:v1:" values, sealed before key ids, carry none: every key is tried.
// Values without either prefix are plain (written before migration 30).
const (
	sealedPrefix   = "enc:v2:"
	sealedPrefixV1 = "enc:v1:"
)

// isSealed tells a sealed value from a plain one.
func isSealed(v string) bool {
	return strings.HasPrefix(v, sealedPrefix) || strings.HasPrefix(v, sealedPrefixV1)
}

// keyCheckSetting holds a known text sealed with the key: a wrong key is
// told at start, not at the first secret it fails to open. The key that
// opens it is the desk's current key, the one new values are sealed with.
const (
	keyCheckSetting = "secret_key_check"
	keyCheckText    = "onedesk secret key"
)

// ErrSecretKey is a missing or wrong key; the message says which and
// what to do.
var ErrSecretKey = errors.New("secret key")

// secretKey is one key of a box.
type secretKey struct {
	id     string // keyID
	aead   cipher.AEAD
	source string // where the key came from, for messages
}

// secretBox seals and opens secrets. The column a value belongs to is
// its additional data: a sealed value moved to another column fails. It
// holds one key, or two while they are rotated (the new one first); it
// seals with current.
type secretBox struct {
	keys    []*secretKey
	current *secretKey
	source  string // current's source, for messages
}

// keyID names a key without giving it away: 8 hex digits of a hash of it.
func keyID(key []byte) string {
	h := sha256.Sum256(append([]byte("onedesk secret key id\x00"), key...))
	return hex.EncodeToString(h[:4])
}

func newSecretKey(key []byte, source string) (*secretKey, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("secret key from %s: %w", source, err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &secretKey{id: keyID(key), aead: aead, source: source}, nil
}

func newSecretBox(key []byte, source string) (*secretBox, error) {
	k, err := newSecretKey(key, source)
	if err != nil {
		return nil, err
	}
	return &secretBox{keys: []*secretKey{k}, current: k, source: source}, nil
}

// withKey adds a key that opens values (the old one of a rotation).
func (b *secretBox) withKey(key []byte, source string) (*secretBox, error) {
	k, err := newSecretKey(key, source)
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(b.keys, func(have *secretKey) bool { return have.id == k.id }) {
		return b, nil
	}
	out := *b
	out.keys = append(slices.Clip(b.keys), k)
	return &out, nil
}

// sealingWith is b sealing with key k.
func (b *secretBox) sealingWith(k *secretKey) *secretBox {
	out := *b
	out.current, out.source = k, k.source
	return &out
}

// seal encrypts a secret of column; "" stays "" (nothing set).
func (b *secretBox) seal(column, plain string) string {
	if plain == "" || b == nil {
		return plain
	}
	k := b.current
	nonce := make([]byte, k.aead.NonceSize())
	rand.Read(nonce)
	out := k.aead.Seal(nonce, nonce, []byte(plain), []byte(column))
	return sealedPrefix + k.id + ":" + base64.RawStdEncoding.EncodeToString(out)
}

// open decrypts a value of column; a plain value (not yet sealed) is
// returned as it is.
func (b *secretBox) open(column, stored string) (string, error) {
	if !isSealed(stored) {
		return stored, nil
	}
	if b == nil {
		return "", fmt.Errorf("%w: %s is encrypted and no key is loaded", ErrSecretKey, column)
	}
	keys, body := b.keys, ""
	if rest, ok := strings.CutPrefix(stored, sealedPrefix); ok {
		id, sealed, ok := strings.Cut(rest, ":")
		if !ok {
			return "", fmt.Errorf("%s: a damaged encrypted value", column)
		}
		i := slices.IndexFunc(b.keys, func(k *secretKey) bool { return k.id == id })
		if i < 0 {
			return "", fmt.Errorf("%w: %s is sealed with the key %s, which is not loaded (%s): "+
				"give onedesk that key (after a rotation, the new one on every node)", ErrSecretKey, column, id, b.loaded())
		}
		keys, body = b.keys[i:i+1], sealed
	} else {
		body = stored[len(sealedPrefixV1):]
	}
	raw, err := base64.RawStdEncoding.DecodeString(body)
	for _, k := range keys {
		n := k.aead.NonceSize()
		if err != nil || len(raw) < n {
			return "", fmt.Errorf("%s: a damaged encrypted value", column)
		}
		if plain, err := k.aead.Open(nil, raw[:n], raw[n:], []byte(column)); err == nil {
			return string(plain), nil
		}
	}
	return "", fmt.Errorf("%w: %s does not open with the key from %s (a different key?)", ErrSecretKey, column, b.loaded())
}

// loaded names the keys' sources, for messages.
func (b *secretBox) loaded() string {
	var names []string
	for _, k := range b.keys {
		names = append(names, k.source+" (key "+k.id+")")
	}
	return strings.Join(names, " and ")
}

// keyFile is where a SQLite database's key is kept.
func keyFile(dataPath string) string { return dataPath + ".key" }

// oldKeyFile keeps the key being rotated away from until the rotation is
// done (RotateSecretKey).
func oldKeyFile(dataPath string) string { return dataPath + ".key.old" }

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
// one; with it the old key of a rotation, when there is one. check is the
// stored key check ("" when there is none yet).
func loadSecretKey(dataPath string, postgres bool, check string) (*secretBox, error) {
	box, fromEnv, err := loadPrimaryKey(dataPath, postgres, check)
	if err != nil {
		return nil, err
	}
	if v := os.Getenv(OldSecretKeyEnv); v != "" {
		k, err := parseKey(v)
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrSecretKey, OldSecretKeyEnv, err)
		}
		return box.withKey(k, OldSecretKeyEnv)
	}
	if fromEnv || postgres {
		return box, nil
	}
	old := oldKeyFile(dataPath)
	text, err := os.ReadFile(old)
	if errors.Is(err, os.ErrNotExist) {
		return box, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%w: read the old key file: %v", ErrSecretKey, err)
	}
	k, err := parseKey(string(text))
	if err != nil {
		return nil, fmt.Errorf("%w: the old key file %s: %v", ErrSecretKey, old, err)
	}
	return box.withKey(k, old)
}

// loadPrimaryKey is loadSecretKey's key proper; fromEnv when it came from
// SecretKeyEnv.
func loadPrimaryKey(dataPath string, postgres bool, check string) (box *secretBox, fromEnv bool, err error) {
	if v := os.Getenv(SecretKeyEnv); v != "" {
		k, err := parseKey(v)
		if err != nil {
			return nil, false, fmt.Errorf("%w: %s: %v", ErrSecretKey, SecretKeyEnv, err)
		}
		box, err := newSecretBox(k, SecretKeyEnv)
		return box, true, err
	}
	if postgres {
		return nil, false, fmt.Errorf("%w: a PostgreSQL database needs %s (the same on every node): make one with "+
			"`openssl rand -base64 32` and keep it safe, apart from the backups", ErrSecretKey, SecretKeyEnv)
	}
	path := keyFile(dataPath)
	text, err := os.ReadFile(path)
	switch {
	case err == nil:
		k, err := parseKey(string(text))
		if err != nil {
			return nil, false, fmt.Errorf("%w: the key file %s: %v", ErrSecretKey, path, err)
		}
		box, err := newSecretBox(k, path)
		return box, false, err
	case !errors.Is(err, os.ErrNotExist):
		return nil, false, fmt.Errorf("%w: read the key file: %v", ErrSecretKey, err)
	case check != "":
		return nil, false, fmt.Errorf("%w: the database's secrets are encrypted, and the key file %s is missing: "+
			"put the key file that belongs to this database back beside it (or set %s)", ErrSecretKey, path, SecretKeyEnv)
	}
	// First start: a key of its own, owner-only like the database.
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, false, fmt.Errorf("%w: make the key file: %v", ErrSecretKey, err)
	}
	key := NewSecretKey()
	if _, err := f.WriteString(key + "\n"); err != nil {
		f.Close()
		os.Remove(path)
		return nil, false, fmt.Errorf("%w: write the key file: %v", ErrSecretKey, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, false, fmt.Errorf("%w: write the key file: %v", ErrSecretKey, err)
	}
	if err := f.Close(); err != nil {
		return nil, false, fmt.Errorf("%w: write the key file: %v", ErrSecretKey, err)
	}
	k, _ := parseKey(key)
	box, err = newSecretBox(k, path)
	return box, false, err
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

// verify finds the key the key check opens with, the desk's current
// key: b seals with it from then on (b, or a copy sealing with it, is
// returned). An error when no key of b opens it.
func (b *secretBox) verify(check string) (*secretBox, error) {
	if check == "" {
		return b, nil
	}
	for _, k := range b.keys {
		one := &secretBox{keys: []*secretKey{k}, current: k, source: k.source}
		if got, err := one.open(keyCheckSetting, check); err == nil && got == keyCheckText {
			return b.sealingWith(k), nil
		}
	}
	return nil, fmt.Errorf("%w: the key from %s is not the key this database's secrets were encrypted with: "+
		"use the key file (or %s) that belongs to it", ErrSecretKey, b.loaded(), SecretKeyEnv)
}

// sealer is what the transaction seals with. On PostgreSQL it is the key
// the key check opens with as the transaction reads it: another process
// may have rotated the desk's key since this node started (`onedesk key
// rotate` beside running nodes), and the writes serialise, so each seals
// with the key that is current when it commits. A node lacking that key
// fails the write rather than seal with a key being retired.
func (t *Tx) sealer(ctx context.Context) *secretBox {
	if t.sealing != nil {
		return t.sealing
	}
	t.sealing = t.secrets
	if !t.postgres || t.secrets == nil {
		return t.sealing
	}
	box, err := t.secrets.verify(readKeyCheck(ctx, t.q))
	if err != nil {
		t.sealErr = fmt.Errorf("seal a secret: the desk's key was changed to one this node lacks: "+
			"restart it with the new key in %s (%w)", SecretKeyEnv, err)
		return t.sealing
	}
	t.sealing = box
	return box
}

// loadSecrets sets the database's key before its migrations run (the
// one that encrypts what was plain needs it).
func (db *DB) loadSecrets(ctx context.Context) error {
	check := readKeyCheck(ctx, db.w)
	box, err := loadSecretKey(db.path, db.postgres, check)
	if err != nil {
		return err
	}
	if box, err = box.verify(check); err != nil {
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
		// space; secure_delete zeroes them. The writer has it on always
		// (openSQLite); said again here for a connection opened otherwise.
		if _, err := tx.tx.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
			return fmt.Errorf("secure delete: %w", err)
		}
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, keyCheckSetting, b.seal(keyCheckSetting, keyCheckText)); err != nil {
		return fmt.Errorf("store the key check: %w", err)
	}
	for _, c := range sealedColumns {
		values, err := readColumn(ctx, tx, c.table, c.column)
		if err != nil {
			return err
		}
		for id, v := range values {
			if v == "" || isSealed(v) {
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
	for column, v := range oc.secrets() {
		sealed, err := b.reseal(column, *v)
		if err != nil {
			return "", err
		}
		*v = sealed
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
	if isSealed(v) {
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
	if box, err = box.verify(check); err != nil {
		return "", err
	}
	if len(box.keys) > 1 {
		return box.keys[0].source + " and the old key of a rotation in " + box.keys[1].source +
			" (the secrets are sealed with the one in " + box.source + "; run onedesk key rotate to finish)", nil
	}
	return box.source, nil
}
