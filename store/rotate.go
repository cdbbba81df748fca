package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Key rotation (`onedesk key rotate`): every secret is opened with the
// key it was sealed with and sealed again with the new one, and the key
// check with it, in one write transaction: a crash or an error leaves the
// database all old or all new. Around that transaction the desk opens
// with both keys, so no step leaves it unreadable:
//
//   - A key file (SQLite): the key file is copied to <data>.key.old, the
//     new key written to <data>.key (a new file renamed over it), the
//     database re-sealed, and <data>.key.old renamed to
//     <data>.key.<id>.retired, kept for the backups made before. Run again
//     after a failure, a rotation whose <data>.key.old is still there
//     finishes with the key already in <data>.key.
//   - The environment (PostgreSQL, several nodes): the new key is
//     SecretKeyEnv and the old one OldSecretKeyEnv, on every node first,
//     then for the command. The nodes seal with whichever the database's
//     key check opens with (Tx.sealer), so they follow the rotation as it
//     commits; afterwards OldSecretKeyEnv is dropped.

// Rotation is what RotateSecretKey did.
type Rotation struct {
	From, To string // key ids (see keyID)
	Sealed   int    // values sealed anew
	Resumed  bool   // it finished a rotation that had stopped half-way
	Retired  string // where the old key file went ("" from the environment)
}

// RotateSecretKey seals every secret of the database at data with a new
// key (see above). On SQLite the caller holds the database's Lock (no
// server runs on it); on PostgreSQL nodes may run.
func RotateSecretKey(ctx context.Context, data string) (*Rotation, error) {
	fromEnv := os.Getenv(SecretKeyEnv) != ""
	if IsPostgres(data) && !fromEnv {
		return nil, fmt.Errorf("%w: a PostgreSQL desk's key is %s: set it to a new key (onedesk key new) and %s to the current one, "+
			"on every node and for this command", ErrSecretKey, SecretKeyEnv, OldSecretKeyEnv)
	}
	rot := &Rotation{}
	if !fromEnv {
		resumed, err := newKeyFile(data)
		if err != nil {
			return nil, err
		}
		rot.Resumed = resumed
	}
	db, err := Open(ctx, data)
	if err != nil {
		if !fromEnv {
			err = fmt.Errorf("%w (the key files are %s, the new key, and %s, the old one: the desk opens with both; run key rotate again to finish)",
				err, keyFile(data), oldKeyFile(data))
		}
		return nil, err
	}
	defer db.Close()
	box := db.secrets
	newKey := box.keys[0] // the primary: the environment's, or the key file
	rot.From, rot.To = box.current.id, newKey.id
	if fromEnv && len(box.keys) == 1 && box.current == newKey {
		return nil, fmt.Errorf("%w: the secrets are already sealed with %s and there is no other key: to rotate, make a key "+
			"(onedesk key new), set it as %s and the current one as %s, then run key rotate again", ErrSecretKey, SecretKeyEnv, SecretKeyEnv, OldSecretKeyEnv)
	}
	sealed := box.sealingWith(newKey)
	err = db.Write(ctx, func(tx *Tx) error {
		n, err := resealAll(ctx, tx, box, sealed)
		rot.Sealed = n
		return err
	})
	if err != nil {
		hint := "nothing in the database changed"
		if !fromEnv {
			hint += fmt.Sprintf("; the desk opens with both keys (%s and %s) until a rotation finishes: fix the cause and run key rotate again",
				keyFile(data), oldKeyFile(data))
		}
		return nil, fmt.Errorf("rotate the secret key: %w (%s)", err, hint)
	}
	db.secrets = sealed
	if !fromEnv {
		if rot.Retired, err = retireOldKey(data, rot.From); err != nil {
			return rot, err
		}
	}
	return rot, nil
}

// newKeyFile starts a rotation of a key file: the key kept as
// <data>.key.old and a new one written to <data>.key. It resumes when
// <data>.key.old is there already (a rotation that stopped).
func newKeyFile(data string) (resumed bool, err error) {
	path, old := keyFile(data), oldKeyFile(data)
	if _, err := os.Stat(old); err == nil {
		return true, nil
	}
	current, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("%w: no key file %s: onedesk makes one when it first starts (or the key is in %s: set %s too)",
			ErrSecretKey, path, SecretKeyEnv, OldSecretKeyEnv)
	}
	if err != nil {
		return false, fmt.Errorf("%w: read the key file: %v", ErrSecretKey, err)
	}
	if _, err := parseKey(string(current)); err != nil {
		return false, fmt.Errorf("%w: the key file %s: %v", ErrSecretKey, path, err)
	}
	if err := writeKeyFile(old, current); err != nil {
		return false, err
	}
	if err := writeKeyFile(path, []byte(NewSecretKey()+"\n")); err != nil {
		return false, err
	}
	return false, nil
}

// writeKeyFile puts text at path at once (a new owner-only file synced and
// renamed over it), so a crash leaves the old file or the new one.
func writeKeyFile(path string, text []byte) error {
	tmp := path + ".new"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("%w: write %s: %v", ErrSecretKey, path, err)
	}
	_, err = f.Write(text)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("%w: write %s: %v", ErrSecretKey, path, err)
	}
	return syncDir(filepath.Dir(path))
}

// retireOldKey moves <data>.key.old aside once nothing is sealed with it:
// the desk no longer loads it, and the backups made before need it.
func retireOldKey(data, id string) (string, error) {
	old := oldKeyFile(data)
	if _, err := os.Stat(old); errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	retired := keyFile(data) + "." + id + ".retired"
	if err := os.Rename(old, retired); err != nil {
		return "", fmt.Errorf("the secrets are sealed with the new key, but %s could not be moved aside: %w", old, err)
	}
	return retired, syncDir(filepath.Dir(old))
}

// sealedColumns are the columns that hold one sealed value each, by id.
var sealedColumns = []struct{ table, column string }{
	{"mailboxes", "imap_password"}, {"mailboxes", "smtp_password"},
	{"webhooks", "secret"}, {"social_accounts", "config"},
}

// resealAll opens every secret with from and seals it with to, and the
// key check; it returns how many values it sealed.
func resealAll(ctx context.Context, tx *Tx, from, to *secretBox) (int, error) {
	if !tx.postgres {
		// As in sealPlainSecrets: the old ciphertexts' bytes are zeroed
		// (the writer keeps secure_delete on: never turned off here).
		if _, err := tx.tx.ExecContext(ctx, "PRAGMA secure_delete = ON"); err != nil {
			return 0, fmt.Errorf("secure delete: %w", err)
		}
	}
	n := 0
	again := func(column, v string) (string, error) {
		if v == "" {
			return v, nil
		}
		plain, err := from.open(column, v)
		if err != nil {
			return "", err
		}
		n++
		return to.seal(column, plain), nil
	}
	for _, c := range sealedColumns {
		values, err := readColumn(ctx, tx, c.table, c.column)
		if err != nil {
			return 0, err
		}
		for id, v := range values {
			sealed, err := again(c.table+"."+c.column, v)
			if err != nil {
				return 0, fmt.Errorf("%s.%s of row %d: %w", c.table, c.column, id, err)
			}
			if _, err := tx.q.ExecContext(ctx, "UPDATE "+c.table+" SET "+c.column+" = ? WHERE id = ?", sealed, id); err != nil {
				return 0, fmt.Errorf("seal %s.%s: %w", c.table, c.column, err)
			}
		}
	}
	if err := resealMailboxOAuth(ctx, tx, again); err != nil {
		return 0, err
	}
	stores, err := readColumn(ctx, tx, "stores", "orders")
	if err != nil {
		return 0, err
	}
	for id, v := range stores {
		var oc orderColumn
		if jsonUnmarshal(v, &oc) != nil {
			continue
		}
		for column, v := range oc.secrets() {
			if *v, err = again(column, *v); err != nil {
				return 0, fmt.Errorf("stores.orders of store %d: %w", id, err)
			}
		}
		if _, err := tx.q.ExecContext(ctx, "UPDATE stores SET orders = ? WHERE id = ?", jsonText(oc, "{}"), id); err != nil {
			return 0, fmt.Errorf("seal stores.orders: %w", err)
		}
	}
	if err := resealSignin(ctx, tx, again); err != nil {
		return 0, err
	}
	if err := resealVAPID(ctx, tx, again); err != nil {
		return 0, err
	}
	certs, err := readACME(ctx, tx)
	if err != nil {
		return 0, err
	}
	for name, v := range certs {
		sealed, err := again(acmeColumn(name), v)
		if err != nil {
			return 0, fmt.Errorf("acme_cache %q: %w", name, err)
		}
		if _, err := tx.q.ExecContext(ctx, "UPDATE acme_cache SET value = ? WHERE name = ?", sealed, name); err != nil {
			return 0, fmt.Errorf("seal acme_cache: %w", err)
		}
	}
	if _, err := tx.q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, keyCheckSetting, to.seal(keyCheckSetting, keyCheckText)); err != nil {
		return 0, fmt.Errorf("store the key check: %w", err)
	}
	tx.sealing = to
	return n, nil
}

// KeyIDs are the ids of the keys this database opens with, the current
// one first (for `onedesk key` to tell the operator which key is which).
func (db *DB) KeyIDs() []string {
	if db.secrets == nil {
		return nil
	}
	ids := []string{db.secrets.current.id}
	for _, k := range db.secrets.keys {
		if k != db.secrets.current {
			ids = append(ids, k.id)
		}
	}
	return ids
}

// KeyIDOf is the id of a key as written in a key file or SecretKeyEnv.
func KeyIDOf(text string) (string, error) {
	k, err := parseKey(strings.TrimSpace(text))
	if err != nil {
		return "", err
	}
	return keyID(k), nil
}
