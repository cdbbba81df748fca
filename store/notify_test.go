package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The desk's VAPID private key is sealed at rest like every secret, the
// first key pair kept wins (nodes starting together), and a key rotation
// seals it again.
func TestVAPIDKeySealedAndRotated(t *testing.T) {
	t.Setenv(SecretKeyEnv, "") // the key file beside the database
	t.Setenv(OldSecretKeyEnv, "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const private = "vapid-private-key-4f1c9e"
	pub, priv, err := db.InitVAPIDKeys(ctx, "BPublicKeyOne", private)
	if err != nil || pub != "BPublicKeyOne" || priv != private {
		t.Fatalf("first keys: %q %q %v", pub, priv, err)
	}
	if pub, priv, err = db.InitVAPIDKeys(ctx, "BPublicKeyTwo", "another-private"); err != nil || pub != "BPublicKeyOne" || priv != private {
		t.Fatalf("a second node's keys replaced the first: %q %q %v", pub, priv, err)
	}
	db.Close()
	plainIn := func() bool {
		for _, p := range []string{path, path + "-wal"} {
			if b, err := os.ReadFile(p); err == nil && bytes.Contains(b, []byte(private)) {
				return true
			}
		}
		return false
	}
	if plainIn() {
		t.Fatal("the VAPID private key is in the database file in plain text")
	}
	if _, err := RotateSecretKey(ctx, path); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, priv, err = db.VAPIDKeys(ctx); err != nil || priv != private || plainIn() {
		t.Fatalf("after a rotation: %q %v", priv, err)
	}
}
