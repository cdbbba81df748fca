package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// The secrets a desk keeps, each a text that must never be found in the
// database file or a backup of it.
var testSecrets = map[string]string{
	"imap":    "imap-password-7f3a",
	"smtp":    "smtp-password-9c1e",
	"shopify": "shpat_token_4d2b",
	"lookup":  "lookup-secret-8e6f",
	"hook":    "whsec_signing_5a9c",
	"bot":     "123456:telegram-bot-token-1b7d",
}

// saveSecrets stores one of each kind of secret.
func saveSecrets(t *testing.T, db *DB) {
	t.Helper()
	ctx := context.Background()
	config, _ := json.Marshal(map[string]string{"token": testSecrets["bot"]})
	err := db.Write(ctx, func(tx *Tx) error {
		st := &Store{Name: "Shop", Slug: "shop", Language: "en", Timezone: "UTC", Orders: OrderSettings{
			ShopifyDomain: "shop.myshopify.com", ShopifyToken: testSecrets["shopify"], LookupSecret: testSecrets["lookup"]}}
		if err := tx.InsertStore(ctx, st); err != nil {
			return err
		}
		mb := &Mailbox{Address: "help@shop.test", IMAPHost: "imap.shop.test", IMAPPort: 993, IMAPSecurity: "tls",
			IMAPPassword: testSecrets["imap"], IMAPFolder: "INBOX", SMTPHost: "smtp.shop.test", SMTPPort: 465, SMTPSecurity: "tls",
			SMTPPassword: testSecrets["smtp"], PollSeconds: 60, AfterImport: "leave", Active: true}
		if err := tx.SaveMailbox(ctx, mb); err != nil {
			return err
		}
		if err := tx.SaveWebhook(ctx, &Webhook{Name: "CRM", URL: "https://crm.test/in", Events: []string{}, Secret: testSecrets["hook"]}); err != nil {
			return err
		}
		return tx.SaveSocialAccount(ctx, &SocialAccount{Platform: "telegram", Name: "Bot", ExternalID: "1", Config: config})
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readSecrets reads every secret back through the store.
func readSecrets(t *testing.T, db *DB) map[string]string {
	t.Helper()
	ctx := context.Background()
	got := map[string]string{}
	stores, err := db.Stores(ctx)
	if err != nil || len(stores) != 1 {
		t.Fatalf("stores %v, %v", stores, err)
	}
	got["shopify"], got["lookup"] = stores[0].Orders.ShopifyToken, stores[0].Orders.LookupSecret
	mbs, err := db.Mailboxes(ctx)
	if err != nil || len(mbs) != 1 {
		t.Fatalf("mailboxes %v, %v", mbs, err)
	}
	got["imap"], got["smtp"] = mbs[0].IMAPPassword, mbs[0].SMTPPassword
	hooks, err := db.Webhooks(ctx)
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhooks %v, %v", hooks, err)
	}
	got["hook"] = hooks[0].Secret
	accounts, err := db.SocialAccounts(ctx, "")
	if err != nil || len(accounts) != 1 {
		t.Fatalf("accounts %v, %v", accounts, err)
	}
	var config struct{ Token string }
	json.Unmarshal(accounts[0].Config, &config)
	got["bot"] = config.Token
	return got
}

func sameSecrets(t *testing.T, got map[string]string) {
	t.Helper()
	for k, want := range testSecrets {
		if got[k] != want {
			t.Errorf("%s read back as %q, want %q", k, got[k], want)
		}
	}
}

// noSecretIn fails if any secret is in the file's bytes (its -wal too).
func noSecretIn(t *testing.T, path string) {
	t.Helper()
	for _, p := range []string{path, path + "-wal"} {
		b, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		for k, s := range testSecrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s holds the %s secret in plain text", filepath.Base(p), k)
			}
		}
	}
}

// Secrets are sealed in the database and in every backup; the key is a
// file beside the database, owner-only; without it, or with another key,
// the database does not open and says why.
func TestSecretsAtRest(t *testing.T) {
	t.Setenv(SecretKeyEnv, "") // the key file, not the test process's key
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "desk.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(keyFile(path))
	if err != nil {
		t.Fatalf("no key file made: %v", err)
	}
	if runtime.GOOS != "windows" && st.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %#o, want 0600", st.Mode().Perm())
	}
	saveSecrets(t, db)
	sameSecrets(t, readSecrets(t, db))
	backup := filepath.Join(dir, "backup.db")
	if err := db.Backup(ctx, backup); err != nil {
		t.Fatal(err)
	}
	db.Close()
	noSecretIn(t, path)
	noSecretIn(t, backup)

	// The backup alone: no key beside it.
	if _, err := Open(ctx, backup); !errors.Is(err, ErrSecretKey) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("backup without its key: %v", err)
	}
	if _, err := os.Stat(keyFile(backup)); err == nil {
		t.Fatal("a new key was made for a database whose secrets are sealed")
	}
	if _, err := SecretKeyStatus(ctx, backup); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("key status without the key: %v", err)
	}
	// Another key: refused at Open, not at the first secret.
	t.Setenv(SecretKeyEnv, NewSecretKey())
	if _, err := Open(ctx, backup); !errors.Is(err, ErrSecretKey) || !strings.Contains(err.Error(), "not the key") {
		t.Fatalf("backup with another key: %v", err)
	}
	if _, err := SecretKeyStatus(ctx, backup); !errors.Is(err, ErrSecretKey) {
		t.Fatalf("key status with another key: %v", err)
	}
	// Its own key, as ONEDESK_SECRET_KEY: everything reads back.
	key, _ := os.ReadFile(keyFile(path))
	t.Setenv(SecretKeyEnv, strings.TrimSpace(string(key)))
	if src, err := SecretKeyStatus(ctx, backup); err != nil || src != SecretKeyEnv {
		t.Fatalf("key status with the key: %q, %v", src, err)
	}
	restored, err := Open(ctx, backup)
	if err != nil {
		t.Fatal(err)
	}
	defer restored.Close()
	sameSecrets(t, readSecrets(t, restored))
}

// Migration 30 seals the secrets an older desk kept in plain text.
func TestMigrationSealsPlainSecrets(t *testing.T) {
	t.Setenv(SecretKeyEnv, "")
	ctx := context.Background()
	path, raw := databaseAt(t, 29)
	config, _ := json.Marshal(map[string]string{"token": testSecrets["bot"]})
	orders, _ := json.Marshal(map[string]string{"shopify_domain": "shop.myshopify.com", "shopify_token": testSecrets["shopify"],
		"lookup_secret": testSecrets["lookup"]})
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO stores (id, name, slug, orders, created_at) VALUES (1, 'Shop', 'shop', ?, 1)", []any{string(orders)}},
		{`INSERT INTO mailboxes (address, imap_host, imap_password, smtp_host, smtp_password, created_at)
			VALUES ('help@shop.test', 'imap.shop.test', ?, 'smtp.shop.test', ?, 1)`, []any{testSecrets["imap"], testSecrets["smtp"]}},
		{"INSERT INTO webhooks (name, url, events, secret, created_at, updated_at) VALUES ('CRM', 'https://crm.test', '[]', ?, 1, 1)", []any{testSecrets["hook"]}},
		{"INSERT INTO social_accounts (platform, name, external_id, config, created_at, updated_at) VALUES ('telegram', 'Bot', '1', ?, 1, 1)", []any{string(config)}},
	} {
		if _, err := raw.Exec(q.sql, q.args...); err != nil {
			t.Fatalf("%s: %v", q.sql, err)
		}
	}
	raw.Close()
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	sameSecrets(t, readSecrets(t, db))
	if err := db.Checkpoint(ctx); err != nil {
		t.Log(err)
	}
	db.Close()
	noSecretIn(t, path)
	check, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	var sealed string
	if err := check.QueryRow("SELECT imap_password FROM mailboxes").Scan(&sealed); err != nil || !strings.HasPrefix(sealed, sealedPrefix) {
		t.Fatalf("imap_password %q, %v", sealed, err)
	}
}

// The plain values an older desk wrote are not left in the file's free
// space after sealing: each secret's row is followed by another on its
// page, so its old cell is freed in the middle of the page, where SQLite
// leaves the bytes unless secure_delete is on; and the WAL an older desk
// left behind holds them in frames past the new log's end.
func TestMigrationLeavesNoPlainSecretBytes(t *testing.T) {
	t.Setenv(SecretKeyEnv, "")
	ctx := context.Background()
	path, raw := databaseAt(t, 29)
	for _, q := range []string{"PRAGMA journal_mode=WAL", "PRAGMA wal_autocheckpoint=0"} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 2 { // the second row of each table sits above the first on the page
		if _, err := raw.Exec(`INSERT INTO mailboxes (address, imap_host, imap_password, smtp_host, smtp_password, created_at)
			VALUES (?, 'imap.shop.test', ?, 'smtp.shop.test', ?, 1)`, fmt.Sprint("help", i, "@shop.test"), testSecrets["imap"], testSecrets["smtp"]); err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("INSERT INTO webhooks (name, url, events, secret, created_at, updated_at) VALUES ('CRM', 'https://crm.test', '[]', ?, 1, 1)",
			testSecrets["hook"]); err != nil {
			t.Fatal(err)
		}
	}
	// A desk that stopped without closing: its plain rows are still in the WAL.
	crashed := filepath.Join(filepath.Dir(path), "crashed.db")
	for _, suffix := range []string{"", "-wal"} {
		b, err := os.ReadFile(path + suffix)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(crashed+suffix, b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close() // the last connection: SQLite checkpoints and removes the WAL
	for _, p := range []string{path, crashed} {
		db, err := Open(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		noSecretIn(t, p) // while it runs, not only once closed
		if mbs, err := db.Mailboxes(ctx); err != nil || len(mbs) != 2 || mbs[1].SMTPPassword != testSecrets["smtp"] {
			t.Fatalf("%s: mailboxes %v, %v", filepath.Base(p), mbs, err)
		}
		db.Close()
		noSecretIn(t, p)
	}
}

// On PostgreSQL the same: sealed with ONEDESK_SECRET_KEY, which it needs.
func TestSecretsAtRestOnBothEngines(t *testing.T) {
	ForEachEngine(t, func(t *testing.T) {
		db := OpenTest(t)
		saveSecrets(t, db)
		sameSecrets(t, readSecrets(t, db))
		var v string
		if err := db.rq.QueryRowContext(context.Background(), "SELECT secret FROM webhooks").Scan(&v); err != nil || !strings.HasPrefix(v, sealedPrefix) {
			t.Fatalf("webhooks.secret stored as %q, %v", v, err)
		}
		if OnPostgres(t) {
			url := NewTestData(t)
			t.Setenv(SecretKeyEnv, "")
			if _, err := Open(context.Background(), url); !errors.Is(err, ErrSecretKey) || !strings.Contains(err.Error(), SecretKeyEnv) {
				t.Fatalf("PostgreSQL without a key: %v", err)
			}
		}
	})
}
