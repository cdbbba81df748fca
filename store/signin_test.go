package store

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// The authenticator secrets and the system mail password are sealed at
// rest and come through a key rotation readable.
func TestSigninSecretsSealedAndRotated(t *testing.T) {
	t.Setenv(SecretKeyEnv, "")
	t.Setenv(OldSecretKeyEnv, "")
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "desk.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	const totpSecret, mailPassword = "JBSWY3DPEHPK3PXPJBSWY3DP", "smtp-pass-4f9a"
	a := &Agent{Email: "ann@shop.test", Name: "Ann", Role: "agent", Active: true, Language: "en", Timezone: "UTC",
		PasswordHash: "x", CreatedAt: Now()}
	err = db.Write(ctx, func(tx *Tx) error {
		if err := tx.InsertAgent(ctx, a); err != nil {
			return err
		}
		_, err := tx.PutPendingTwoFactor(ctx, a.ID, totpSecret)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SaveSystemMail(ctx, SystemMail{Host: "smtp.shop.test", Port: 587, From: "desk@shop.test", Password: mailPassword}); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := RotateSecretKey(ctx, path); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal"} {
		b, _ := os.ReadFile(p)
		if bytes.Contains(b, []byte(totpSecret)) || bytes.Contains(b, []byte(mailPassword)) {
			t.Fatalf("%s holds a sign-in secret in plain text", filepath.Base(p))
		}
	}
	if db, err = Open(ctx, path); err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if f, err := db.TwoFactor(ctx, a.ID); err != nil || f.Secret != totpSecret {
		t.Fatalf("two-factor secret after rotation: %+v, %v", f, err)
	}
	if m, err := db.SystemMail(ctx); err != nil || m.Password != mailPassword {
		t.Fatalf("system mail after rotation: %+v, %v", m, err)
	}
}
