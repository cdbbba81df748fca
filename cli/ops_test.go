package cli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"onedesk/store"
)

// TestRestoreAndCheck goes round: a desk with an agent, a backup of it,
// a change after the backup; restore refuses while the server runs and
// without --force, then puts the backup back; check passes on it and
// fails on a damaged file and on bad configuration. Backup and restore
// run with the flags after FILE, as the README writes them.
func TestRestoreAndCheck(t *testing.T) {
	dir := t.TempDir()
	data := filepath.Join(dir, "desk.db")
	if code, _, errOut := run("user", "add", "--data", data, "--email", "ann@shop.test", "--name", "Ann", "--password", "12345678"); code != 0 {
		t.Fatal(errOut)
	}
	backupFile := filepath.Join(dir, "b.db")
	if code, out, errOut := run("backup", backupFile, "--data", data); code != 0 || !strings.Contains(out, "backed up") {
		t.Fatalf("backup: %q %q", out, errOut)
	}
	if code, _, errOut := run("user", "add", "--data", data, "--email", "bob@shop.test", "--name", "Bob", "--password", "12345678"); code != 0 {
		t.Fatal(errOut)
	}

	code, out, errOut := run("check", "--data", data, "--addr", "127.0.0.1:0", "--backup-dir", filepath.Join(dir, "backups"))
	if code != 0 || !strings.Contains(out, "ok    integrity_check") || !strings.Contains(out, "no problems found") ||
		!strings.Contains(out, "ok    file mode 0600") || !strings.Contains(out, "--backup-dir") {
		t.Fatalf("check of a sound desk: %d\n%s%s", code, out, errOut)
	}

	// A running server holds the file: restore refuses.
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- Serve(ctx, ServeConfig{Addr: "127.0.0.1:0", Data: data, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			Ready: func(a string) { ready <- a }})
	}()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("server did not start")
	}
	if code, _, errOut := run("restore", "--data", data, "--force", backupFile); code != 1 || !strings.Contains(errOut, "in use by another onedesk server") {
		t.Fatalf("restore beside a server: %d %q", code, errOut)
	}
	// check beside it: the port is the server's.
	if code, out, _ := run("check", "--data", data, "--addr", addr, "--quick"); code != 0 || !strings.Contains(out, "a server is running on it") || !strings.Contains(out, "ok    quick_check") {
		t.Fatalf("check beside a server: %d\n%s", code, out)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}

	if code, _, errOut := run("restore", "--data", data, backupFile); code != 1 || !strings.Contains(errOut, "pass --force to replace it") {
		t.Fatalf("restore without --force: %d %q", code, errOut)
	}
	if code, out, errOut := run("restore", backupFile, "--data", data, "--force"); code != 0 || !strings.Contains(out, "restored") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	db, err := store.Open(context.Background(), data)
	if err != nil {
		t.Fatal(err)
	}
	_, errAnn := db.AgentByEmail(context.Background(), "ann@shop.test")
	_, errBob := db.AgentByEmail(context.Background(), "bob@shop.test")
	db.Close()
	if errAnn != nil || errBob == nil {
		t.Fatalf("after restore: ann %v, bob %v (bob came after the backup)", errAnn, errBob)
	}
	if code, _, errOut := run("restore", "--data", data); code != 1 || !strings.Contains(errOut, "restore needs the backup FILE") {
		t.Fatalf("restore without a file: %q", errOut)
	}

	// Problems: exit 1, each said.
	bad := filepath.Join(dir, "bad.db")
	raw, _ := os.ReadFile(backupFile)
	os.WriteFile(bad, append(raw[:4096:4096], make([]byte, len(raw)-4096)...), 0o644)
	code, out, errOut = run("check", "--data", bad, "--addr", "127.0.0.1:0", "--public-url", "https://")
	if code != 1 || !strings.Contains(out, "FAIL  file mode 0644") || !strings.Contains(out, "FAIL") ||
		!strings.Contains(out, "FAIL  --public-url https://: it has no host") || !strings.Contains(errOut, "problems found") {
		t.Fatalf("check of a damaged file: %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := run("check", "--data", data, "--backup-dir", filepath.Join(dir, "no", "such")); code != 1 || !strings.Contains(errOut, "does not exist") {
		t.Fatalf("check with a bad --backup-dir: %d %q", code, errOut)
	}
	if code, out, _ := run("check", "--data", filepath.Join(dir, "none.db"), "--addr", "127.0.0.1:0"); code != 1 || !strings.Contains(out, "FAIL  database") {
		t.Fatalf("check of a missing file: %d %q", code, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Fatal("check created the missing database")
	}
}
