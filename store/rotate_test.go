package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/acme/autocert"

	"onedesk/store/storetest"
)

// testCert stands for what autocert keeps under a name: a private key
// and its certificate.
const testCert = "-----BEGIN EC PRIVATE KEY-----\nacme-private-key-3e7a\n-----END EC PRIVATE KEY-----\n"

// The certificate cache on both engines: a miss, a value back as put,
// sealed in the table (bound to its name), shared by a second node on
// PostgreSQL, and deleted.
func TestACMECache(t *testing.T) {
	ForEachEngine(t, func(t *testing.T) {
		ctx := context.Background()
		data := NewTestData(t)
		db, err := Open(ctx, data)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var cache autocert.Cache = db.ACMECache()
		if _, err := cache.Get(ctx, "desk.example.com"); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("a name never put: %v, want ErrCacheMiss", err)
		}
		for name, v := range map[string]string{"desk.example.com": testCert, "acme_account+key": "account-key-1c4d", "tok123+http-01": "tok123.thumb"} {
			if err := cache.Put(ctx, name, []byte(v)); err != nil {
				t.Fatal(err)
			}
		}
		if err := cache.Put(ctx, "desk.example.com", []byte(testCert+"renewed")); err != nil {
			t.Fatal(err)
		}
		if got, err := cache.Get(ctx, "desk.example.com"); err != nil || string(got) != testCert+"renewed" {
			t.Fatalf("read back %q, %v", got, err)
		}
		var raw string
		if err := db.rq.QueryRowContext(ctx, "SELECT value FROM acme_cache WHERE name = ?", "desk.example.com").Scan(&raw); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(raw, sealedPrefix) || strings.Contains(raw, "acme-private-key") {
			t.Fatalf("the private key is stored as %q", raw)
		}
		// A value moved under another name does not open.
		if err := db.Write(ctx, func(tx *Tx) error {
			_, err := tx.q.ExecContext(ctx, "UPDATE acme_cache SET value = ? WHERE name = ?", raw, "acme_account+key")
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.Get(ctx, "acme_account+key"); !errors.Is(err, ErrSecretKey) {
			t.Fatalf("a value moved to another name: %v, want ErrSecretKey", err)
		}
		if OnPostgres(t) { // another node reads what this one put
			other, err := Open(ctx, data)
			if err != nil {
				t.Fatal(err)
			}
			defer other.Close()
			if got, err := other.ACMECache().Get(ctx, "tok123+http-01"); err != nil || string(got) != "tok123.thumb" {
				t.Fatalf("the other node reads %q, %v", got, err)
			}
		}
		if err := cache.Delete(ctx, "tok123+http-01"); err != nil {
			t.Fatal(err)
		}
		if _, err := cache.Get(ctx, "tok123+http-01"); !errors.Is(err, autocert.ErrCacheMiss) {
			t.Fatalf("after Delete: %v, want ErrCacheMiss", err)
		}
	})
}

// keyText is the key in a key file.
func keyText(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b))
}

// openWith opens the desk at path with only the key given (through the
// environment), and says whether its secrets read back.
func openWith(t *testing.T, path, key string) error {
	t.Helper()
	t.Setenv(SecretKeyEnv, key)
	t.Setenv(OldSecretKeyEnv, "")
	db, err := Open(context.Background(), path)
	if err != nil {
		return err
	}
	defer db.Close()
	sameSecrets(t, readSecrets(t, db))
	if got, err := db.ACMECache().Get(context.Background(), "desk.example.com"); err != nil || string(got) != testCert {
		t.Errorf("the certificate reads back as %q, %v", got, err)
	}
	return nil
}

// keyFileDesk makes a SQLite desk whose key is its key file, with every
// kind of secret and a certificate under each name.
func keyFileDesk(t *testing.T, certs ...string) (path string) {
	t.Helper()
	t.Setenv(SecretKeyEnv, "")
	t.Setenv(OldSecretKeyEnv, "")
	ctx := context.Background()
	path = filepath.Join(t.TempDir(), "desk.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	saveSecrets(t, db)
	for _, name := range certs {
		if err := db.ACMECache().Put(ctx, name, []byte(testCert)); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// A desk with a key file: key rotate seals every secret with a new key;
// the desk opens with it and reads them all, the old key alone no longer
// opens it, and the old key file is kept aside (not loaded) for the
// backups made before.
func TestRotateKeyFile(t *testing.T) {
	ctx := context.Background()
	path := keyFileDesk(t, "desk.example.com")
	oldKey := keyText(t, keyFile(path))

	rot, err := RotateSecretKey(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	newKey := keyText(t, keyFile(path))
	if newKey == oldKey || rot.From == rot.To || rot.Sealed != len(testSecrets)+1 || rot.Resumed {
		t.Fatalf("rotation %+v: key changed %v", rot, newKey != oldKey)
	}
	if _, err := os.Stat(oldKeyFile(path)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s is still there after the rotation: %v", oldKeyFile(path), err)
	}
	if rot.Retired == "" || keyText(t, rot.Retired) != oldKey {
		t.Fatalf("the old key was not kept aside: %+v", rot)
	}
	noSecretIn(t, path)
	t.Setenv(SecretKeyEnv, "") // the key file alone
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sameSecrets(t, readSecrets(t, db))
	if ids := db.KeyIDs(); len(ids) != 1 || ids[0] != rot.To {
		t.Fatalf("keys loaded %v, want only %s", ids, rot.To)
	}
	db.Close()
	if err := openWith(t, path, newKey); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	if err := openWith(t, path, oldKey); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("the old key alone opened the rotated desk: %v", err)
	}
}

// A rotation that fails half-way (here a damaged secret the old key cannot
// open, a real failure inside the transaction; a kill at that point
// leaves the same files) changes nothing in the database, and the desk
// opens and reads every secret with the two key files it left; run again
// once the cause is gone, it finishes with the key it had written.
func TestRotateKeyInterrupted(t *testing.T) {
	ctx := context.Background()
	path := keyFileDesk(t, "desk.example.com", "broken")
	raw, err := OpenRaw(path)
	if err != nil {
		t.Fatal(err)
	}
	var sealed string
	raw.QueryRow("SELECT value FROM acme_cache WHERE name = 'broken'").Scan(&sealed)
	damaged := sealed[:len(sealed)-6] + "AAAAAA"
	if _, err := raw.Exec("UPDATE acme_cache SET value = ? WHERE name = 'broken'", damaged); err != nil {
		t.Fatal(err)
	}
	oldKey := keyText(t, keyFile(path))
	before := checkValue(t, raw)

	if _, err := RotateSecretKey(ctx, path); err == nil || !strings.Contains(err.Error(), "broken") {
		t.Fatalf("a rotation over a damaged secret: %v, want its failure", err)
	}
	if checkValue(t, raw) != before {
		t.Fatal("the failed rotation changed the key check")
	}
	newKey := keyText(t, keyFile(path))
	if newKey == oldKey || keyText(t, oldKeyFile(path)) != oldKey {
		t.Fatal("the key files are not the new key and the old one")
	}
	t.Setenv(SecretKeyEnv, "") // as onedesk starts: both key files
	if src, err := SecretKeyStatus(ctx, path); err != nil || !strings.Contains(src, "key rotate to finish") {
		t.Fatalf("onedesk check on the half-rotated desk: %q, %v", src, err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("the desk after a failed rotation: %v", err)
	}
	sameSecrets(t, readSecrets(t, db))
	if ids := db.KeyIDs(); len(ids) != 2 {
		t.Fatalf("keys loaded %v, want the old one (current) and the new one", ids)
	}
	if err := db.ACMECache().Put(ctx, "written meanwhile", []byte("x")); err != nil { // sealed with the current, old, key
		t.Fatal(err)
	}
	db.Close()

	if _, err := raw.Exec("DELETE FROM acme_cache WHERE name = 'broken'"); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	rot, err := RotateSecretKey(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if !rot.Resumed || keyText(t, keyFile(path)) != newKey {
		t.Fatalf("the second run did not finish the first: %+v", rot)
	}
	if err := openWith(t, path, newKey); err != nil {
		t.Fatalf("the new key: %v", err)
	}
	if err := openWith(t, path, oldKey); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("the old key alone opened the rotated desk: %v", err)
	}
}

// checkValue is the stored key check.
func checkValue(t *testing.T, raw *sql.DB) string {
	t.Helper()
	var v string
	if err := raw.QueryRow("SELECT value FROM settings WHERE key = ?", keyCheckSetting).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

// PostgreSQL, several nodes: the new key in ONEDESK_SECRET_KEY and the old
// in ONEDESK_SECRET_KEY_OLD on a node that runs beside the rotation; the
// node seals with the old key before it and with the new one after,
// without a restart. A node left with the old key alone can no longer
// seal (it says so) rather than seal with a retired key; with the new key
// alone every secret reads, with the old alone the desk does not open.
func TestRotateKeyOnPostgresNodes(t *testing.T) {
	ctx := context.Background()
	url := storetest.PostgresURL(t)
	oldKey := os.Getenv(SecretKeyEnv)
	t.Setenv(OldSecretKeyEnv, "")
	left, err := Open(ctx, url) // a node not given the new key
	if err != nil {
		t.Fatal(err)
	}
	defer left.Close()
	saveSecrets(t, left)
	if err := left.ACMECache().Put(ctx, "desk.example.com", []byte(testCert)); err != nil {
		t.Fatal(err)
	}
	newKey := NewSecretKey()
	t.Setenv(SecretKeyEnv, newKey)
	t.Setenv(OldSecretKeyEnv, oldKey)
	node, err := Open(ctx, url) // restarted with both keys, as the procedure says
	if err != nil {
		t.Fatal(err)
	}
	defer node.Close()
	oldID, _ := KeyIDOf(oldKey)
	newID, _ := KeyIDOf(newKey)
	hookSealedWith := func(name string) string {
		t.Helper()
		var v string
		if err := node.rq.QueryRowContext(ctx, "SELECT secret FROM webhooks WHERE name = ?", name).Scan(&v); err != nil {
			t.Fatal(err)
		}
		id, _, _ := strings.Cut(strings.TrimPrefix(v, sealedPrefix), ":")
		return id
	}
	saveHook := func(db *DB, name string) error {
		return db.Write(ctx, func(tx *Tx) error {
			return tx.SaveWebhook(ctx, &Webhook{Name: name, URL: "https://crm.test/" + name, Events: []string{}, Secret: "whsec_" + name})
		})
	}
	if err := saveHook(node, "before"); err != nil {
		t.Fatal(err)
	}
	if got := hookSealedWith("before"); got != oldID {
		t.Fatalf("before the rotation a secret is sealed with key %s, want the current %s", got, oldID)
	}

	rot, err := RotateSecretKey(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	if rot.From != oldID || rot.To != newID {
		t.Fatalf("rotation %+v, want %s to %s", rot, oldID, newID)
	}
	if err := saveHook(node, "after"); err != nil {
		t.Fatal(err)
	}
	if got := hookSealedWith("after"); got != newID {
		t.Fatalf("after the rotation the running node seals with key %s, want the new %s", got, newID)
	}
	if err := saveHook(left, "left behind"); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("a node without the new key sealed a secret: %v", err)
	}
	for _, hook := range []string{"before", "after"} {
		if err := node.Write(ctx, func(tx *Tx) error { return deleteHook(ctx, tx, hook) }); err != nil {
			t.Fatal(err)
		}
	}
	if err := openWith(t, url, newKey); err != nil {
		t.Fatalf("the new key alone: %v", err)
	}
	if err := openWith(t, url, oldKey); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("the old key alone opened the rotated desk: %v", err)
	}
}

// deleteHook deletes the webhook called name.
func deleteHook(ctx context.Context, tx *Tx, name string) error {
	_, err := tx.q.ExecContext(ctx, "DELETE FROM webhooks WHERE name = ?", name)
	return err
}

// A value sealed before key ids (enc:v1:) opens with the key, and a
// rotation seals it again with an id.
func TestSealedBeforeKeyIDs(t *testing.T) {
	key, _ := parseKey(NewSecretKey())
	box, err := newSecretBox(key, "test")
	if err != nil {
		t.Fatal(err)
	}
	v2 := box.seal("webhooks.secret", "whsec_old")
	_, body, _ := strings.Cut(strings.TrimPrefix(v2, sealedPrefix), ":")
	v1 := sealedPrefixV1 + body // the same nonce and ciphertext, as version 1 wrote them
	if got, err := box.open("webhooks.secret", v1); err != nil || got != "whsec_old" {
		t.Fatalf("a v1 value opens as %q, %v", got, err)
	}
	other, _ := parseKey(NewSecretKey())
	ring, _ := box.withKey(other, "other")
	next := ring.sealingWith(ring.keys[1])
	again := next.seal("webhooks.secret", "whsec_old")
	if !strings.HasPrefix(again, sealedPrefix+keyID(other)+":") {
		t.Fatalf("sealed again as %q, want key %s's id", again, keyID(other))
	}
	if _, err := box.open("webhooks.secret", again); !errors.Is(err, ErrSecretKey) || !strings.Contains(err.Error(), keyID(other)) {
		t.Fatalf("a value of a key not loaded: %v, want ErrSecretKey naming the key", err)
	}
}
