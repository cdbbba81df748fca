package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"onedesk/store"
)

// onedesk key rotate on a SQLite desk with a key file: refused while a
// server holds the file, then every secret sealed with a new key that the
// desk opens with; the old key kept aside.
func TestKeyRotateCommand(t *testing.T) {
	t.Setenv(store.SecretKeyEnv, "")
	t.Setenv(store.OldSecretKeyEnv, "")
	ctx := context.Background()
	data := filepath.Join(t.TempDir(), "desk.db")
	db, err := store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Write(ctx, func(tx *store.Tx) error {
		return tx.SaveWebhook(ctx, &store.Webhook{Name: "CRM", URL: "https://crm.test/in", Events: []string{}, Secret: "whsec_cli_rotation"})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(data + ".key")

	release, err := store.Lock(data) // a server running on the file
	if err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := Run([]string{"key", "rotate", "--data", data}, &out, &errs); code != 1 || !strings.Contains(errs.String(), "in use") {
		t.Fatalf("rotate beside a server: exit %d, %q", code, errs.String())
	}
	release()

	out.Reset()
	errs.Reset()
	if code := Run([]string{"key", "rotate", "--data", data}, &out, &errs); code != 0 {
		t.Fatalf("rotate: exit %d, %s", code, errs.String())
	}
	if !strings.Contains(out.String(), "1 secrets") || !strings.Contains(out.String(), ".retired") {
		t.Fatalf("rotate said %q", out.String())
	}
	after, _ := os.ReadFile(data + ".key")
	if bytes.Equal(before, after) {
		t.Fatal("the key file holds the old key")
	}
	db, err = store.Open(ctx, data)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if hooks, err := db.Webhooks(ctx); err != nil || len(hooks) != 1 || hooks[0].Secret != "whsec_cli_rotation" {
		t.Fatalf("after rotation: %+v, %v", hooks, err)
	}
	out.Reset()
	if code := Run([]string{"key", "new"}, &out, &errs); code != 0 {
		t.Fatal(errs.String())
	}
	if _, err := store.KeyIDOf(out.String()); err != nil {
		t.Fatalf("key new printed %q: %v", out.String(), err)
	}
}
